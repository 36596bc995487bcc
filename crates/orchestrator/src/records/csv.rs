//! raw.csv and samples.csv: appended and synced run by run, so an interrupted run keeps every
//! finished measurement, and read back with a final row cut short dropped.

use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use serde::Serialize;

use super::error::{io_err, RecordsError};
use super::{RawRecord, SampleRecord};
use crate::run_dir::{RAW_CSV, SAMPLES_CSV};

/// Appends rows of one kind to a CSV file, writing the header once, syncing after each batch.
pub struct CsvAppender<T> {
    path: PathBuf,
    writer: csv::Writer<File>,
    _row: std::marker::PhantomData<T>,
}

impl<T: Serialize> CsvAppender<T> {
    /// Creates the file (with its header) or appends to an existing one.
    pub fn open(path: &Path) -> Result<Self, RecordsError> {
        let existing = path.metadata().map(|m| m.len() > 0).unwrap_or(false);
        let file = OpenOptions::new().create(true).append(true).open(path).map_err(io_err(path))?;
        let writer = csv::WriterBuilder::new().has_headers(!existing).from_writer(file);
        Ok(CsvAppender { path: path.to_owned(), writer, _row: std::marker::PhantomData })
    }

    /// Appends the rows and makes them durable before returning.
    pub fn append(&mut self, rows: &[T]) -> Result<(), RecordsError> {
        for row in rows {
            self.writer.serialize(row).map_err(|e| RecordsError::Parse { path: self.path.clone(), message: e.to_string() })?;
        }
        self.writer.flush().map_err(io_err(&self.path))?;
        self.writer.get_ref().sync_data().map_err(io_err(&self.path))
    }
}

/// Reads every complete row. A final row cut short (the process was killed mid-write) is
/// dropped; any other malformed row is an error naming the line.
pub(crate) fn read_csv<T: DeserializeOwned>(path: &Path) -> Result<Vec<T>, RecordsError> {
    let text = std::fs::read_to_string(path).map_err(io_err(path))?;
    let complete = if text.ends_with('\n') { text.as_str() } else { text.rfind('\n').map_or("", |i| &text[..=i]) };
    let mut reader = csv::Reader::from_reader(complete.as_bytes());
    let mut rows = Vec::new();
    for row in reader.deserialize() {
        rows.push(row.map_err(|e| RecordsError::Parse { path: path.to_owned(), message: e.to_string() })?);
    }
    Ok(rows)
}

pub fn read_raw(run_dir: &Path) -> Result<Vec<RawRecord>, RecordsError> {
    read_csv(&run_dir.join(RAW_CSV))
}

/// samples.csv may be absent (nothing was sampled): that reads as no samples.
pub(crate) fn read_samples(run_dir: &Path) -> Result<Vec<SampleRecord>, RecordsError> {
    let path = run_dir.join(SAMPLES_CSV);
    if !path.exists() {
        return Ok(Vec::new());
    }
    read_csv(&path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::run_dir::RAW_CSV;

    /// A run of warm fits whose numbers do not survive a careless float format, and texts that
    /// need quoting.
    fn record(repetition: u32) -> RawRecord {
        RawRecord {
            fits: Some(101),
            fit_first_seconds: Some(0.25),
            fit_warm_min_seconds: Some(1.25e-6),
            fit_warm_median_seconds: Some((0.1 + 0.2) * 1e-6),
            fit_warm_p99_seconds: Some(2e-6),
            fit_warm_max_seconds: Some(3.5e-6),
            fit_warm_mean_seconds: Some(1.4e-6),
            device: Some("gpu (NVIDIA A100, \"40GB\")".into()),
            ..one_fit(repetition)
        }
    }

    /// The same run as a process that fits once.
    fn one_fit(repetition: u32) -> RawRecord {
        RawRecord {
            scenario: "seed".into(),
            point_label: "n=5, epochs=1000".into(),
            user_seconds: Some(0.0005),
            system_seconds: Some(0.0),
            w: Some(1.9951803506719779),
            b: Some(0.1 + 0.2),
            mse: None,
            samples: 3,
            sampler_cpu_seconds: Some(1e-5),
            started_unix_seconds: 1.7e9,
            message: "quoted, \"comma\"\nnewline".into(),
            ..crate::testutil::record("rust", repetition)
        }
    }

    #[test]
    fn raw_rows_round_trip_exactly_and_append_keeps_one_header() {
        let dir = std::env::temp_dir().join(format!("records-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(RAW_CSV);
        let _ = std::fs::remove_file(&path);
        CsvAppender::open(&path).unwrap().append(&[record(1)]).unwrap();
        CsvAppender::open(&path).unwrap().append(&[record(2)]).unwrap();
        let rows: Vec<RawRecord> = read_csv(&path).unwrap();
        assert_eq!(rows, vec![record(1), record(2)]);
    }

    /// raw.csv of a run made before a column existed: the column reads as empty.
    #[test]
    fn rows_written_before_the_per_fit_columns_still_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(RAW_CSV);
        CsvAppender::open(&path).unwrap().append(&[record(1)]).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let mut table: Vec<Vec<String>> =
            csv::Reader::from_reader(text.as_bytes()).records().map(|r| r.unwrap().iter().map(String::from).collect()).collect();
        let header: Vec<String> = csv::Reader::from_reader(text.as_bytes()).headers().unwrap().iter().map(String::from).collect();
        let newer = |name: &str| name.starts_with("fit") || name == "device";
        let keep: Vec<usize> = (0..header.len()).filter(|&i| !newer(&header[i])).collect();
        assert_eq!(header.len() - keep.len(), 8, "{header:?}");
        let mut writer = csv::Writer::from_writer(Vec::new());
        writer.write_record(keep.iter().map(|&i| &header[i])).unwrap();
        for row in &mut table {
            writer.write_record(keep.iter().map(|&i| &row[i])).unwrap();
        }
        std::fs::write(&path, writer.into_inner().unwrap()).unwrap();
        let rows: Vec<RawRecord> = read_csv(&path).unwrap();
        assert_eq!(rows, vec![one_fit(1)]);
    }

    #[test]
    fn a_row_cut_short_is_dropped_not_fatal() {
        let dir = std::env::temp_dir().join(format!("records-cut-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(RAW_CSV);
        let _ = std::fs::remove_file(&path);
        CsvAppender::open(&path).unwrap().append(&[record(1)]).unwrap();
        let mut text = std::fs::read_to_string(&path).unwrap();
        text.push_str("seed,0,\"n=5");
        std::fs::write(&path, text).unwrap();
        assert_eq!(read_csv::<RawRecord>(&path).unwrap(), vec![record(1)]);
    }
}
