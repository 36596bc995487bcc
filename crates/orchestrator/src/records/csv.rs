//! raw.csv and samples.csv: appended run by run, so an interrupted run keeps every finished
//! measurement (and kept whole if a measured program deletes them), made durable on disk point by
//! point, and read back with every value checked and a final row cut short left out, and said.

use std::fs::{File, OpenOptions};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use serde::Serialize;

use super::check::Checked;
use super::error::{io_err, RecordsError};
use super::file::{MAX_RAW_CSV_BYTES, MAX_SAMPLES_CSV_BYTES};
use super::screen::{self, SetAside};
use super::{RawRecord, SampleRecord};
use crate::run_dir::{RAW_CSV, SAMPLES_CSV};

/// Appends rows of one kind to a CSV file, writing the header once; [`CsvAppender::sync`] makes
/// them durable.
///
/// Each batch is written to the file at once (the kernel holds it: a killed or failing
/// orchestrator loses none of it), but synced to the disk only when the caller says, between
/// points: an fdatasync right before a run can slow that run. Measured on a 2-vCPU Emerald Rapids
/// guest (family 6 model 207, 300 MiB L3, ext4 on virtio-blk), `hyperfine -N` of `/bin/true` with
/// a `--prepare` that appends 300 bytes to a file: 8.7% slower with an fdatasync than without
/// (median of 12 paired rounds of 50 runs, 9 of them slower). The orchestrator itself, syncing
/// raw.csv and samples.csv after every run against only between points, in 16 rotated rounds of
/// 50 runs beside hyperfine: 0.981 (`/bin/true`) and 1.001 (`linreg`) of its former time, inside
/// that hour's noise; the rows are as safe from a killed orchestrator either way.
///
/// The file is watched between batches: a measured program that deletes or replaces it (it runs
/// as the same user) does not take the rows with it. The orchestrator's descriptor still holds
/// every byte written, so the file is written again from it, and [`CsvAppender::take_notes`]
/// says so.
pub struct CsvAppender<T> {
    path: PathBuf,
    writer: csv::Writer<File>,
    /// Bytes written so far: the file cannot be shorter unless cut from outside.
    written: u64,
    /// Whether rows were written since the last sync.
    unsynced: bool,
    notes: Vec<String>,
    _row: std::marker::PhantomData<T>,
}

impl<T: Serialize> CsvAppender<T> {
    /// Creates the file (with its header) or appends to an existing one.
    pub fn open(path: &Path) -> Result<Self, RecordsError> {
        let file = OpenOptions::new().create(true).read(true).append(true).open(path).map_err(io_err(path))?;
        let written = file.metadata().map_err(io_err(path))?.len();
        Ok(CsvAppender {
            path: path.to_owned(),
            writer: writer_of(file, written),
            written,
            unsynced: false,
            notes: Vec::new(),
            _row: std::marker::PhantomData,
        })
    }

    /// Appends the rows and writes them to the file before returning (not to the disk: see
    /// [`CsvAppender::sync`]).
    pub fn append(&mut self, rows: &[T]) -> Result<(), RecordsError> {
        self.keep_in_place()?;
        for row in rows {
            self.writer.serialize(row).map_err(|e| RecordsError::Parse { path: self.path.clone(), message: e.to_string() })?;
        }
        self.writer.flush().map_err(io_err(&self.path))?;
        self.written = self.writer.get_ref().metadata().map_err(io_err(&self.path))?.len();
        self.unsynced = true;
        Ok(())
    }

    /// Makes every row appended so far durable (fdatasync), if any was appended since the last
    /// time. Not between a run and the next of one point: see the type's documentation.
    pub fn sync(&mut self) -> Result<(), RecordsError> {
        if self.unsynced {
            self.writer.get_ref().sync_data().map_err(io_err(&self.path))?;
            self.unsynced = false;
        }
        Ok(())
    }

    /// What happened to the file from outside since the last call (deleted, replaced; written
    /// again), one sentence each.
    pub fn take_notes(&mut self) -> Vec<String> {
        std::mem::take(&mut self.notes)
    }

    /// Writes the file again from the open descriptor when its name no longer leads to it (deleted
    /// or replaced); refuses to go on when it was cut short, since rows would be lost unsaid.
    fn keep_in_place(&mut self) -> Result<(), RecordsError> {
        let path = &self.path;
        let mine = self.writer.get_ref().metadata().map_err(io_err(path))?;
        if mine.len() < self.written {
            let message = format!(
                "cut from {} to {} bytes from outside the orchestrator during the run (by a measured program?): the rows it held are lost",
                self.written,
                mine.len()
            );
            return Err(RecordsError::Altered { path: path.clone(), message });
        }
        let what = match std::fs::symlink_metadata(path) {
            Ok(there) if there.dev() == mine.dev() && there.ino() == mine.ino() => return Ok(()),
            Ok(_) => "replaced",
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => "deleted",
            Err(e) => return Err(RecordsError::Io { path: path.clone(), source: e }),
        };
        let file = self.writer.get_ref().try_clone().map_err(io_err(path))?;
        let restored = rewrite_from(file, path).map_err(io_err(path))?;
        self.writer = writer_of(restored, self.written);
        self.notes.push(format!(
            "{} was {what} during the run (by a measured program?): written again from the orchestrator's open copy, no row lost",
            path.display()
        ));
        Ok(())
    }
}

/// A CSV writer appending to `file`, writing the header first when the file is empty.
fn writer_of(file: File, length: u64) -> csv::Writer<File> {
    csv::WriterBuilder::new().has_headers(length == 0).from_writer(file)
}

/// Copies everything `from` holds into a new file renamed to `path` (its directory made again if
/// it was deleted too), and opens that for appending.
fn rewrite_from(mut from: File, path: &Path) -> std::io::Result<File> {
    use std::io::{Seek, SeekFrom};
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let file_name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let temp = path.with_file_name(format!(".{file_name}.restore-{}", std::process::id()));
    let mut copy = || -> std::io::Result<()> {
        let mut to = File::create(&temp)?;
        from.seek(SeekFrom::Start(0))?;
        std::io::copy(&mut from, &mut to)?;
        to.sync_all()?;
        std::fs::rename(&temp, path)
    };
    copy().inspect_err(|_| {
        let _ = std::fs::remove_file(&temp);
    })?;
    OpenOptions::new().read(true).append(true).open(path)
}

/// The rows of a records file, and its last line when that was cut short (left out, not fatal).
#[derive(Debug)]
pub(crate) struct CsvRows<T> {
    pub rows: Vec<T>,
    /// The line each row starts on (1-based, the header being line 1).
    pub lines: Vec<u64>,
    pub cut_short: Option<CutShort>,
}

/// A last line cut short: the run was stopped while writing it (killed, or the disk filled).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct CutShort {
    pub path: PathBuf,
    /// 1-based, the header being line 1.
    pub line: u64,
    /// What the line held (at most 200 characters).
    pub text: String,
}

impl std::fmt::Display for CutShort {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: line {} is cut short (the run was stopped while writing it?) and is left out; the complete rows before it count. The line: {}",
            self.path.display(),
            self.line,
            self.text
        )
    }
}

/// Reads every complete row (see [`read_rows`]).
pub(crate) fn read_csv<T: DeserializeOwned + Checked>(path: &Path, max_bytes: u64) -> Result<CsvRows<T>, RecordsError> {
    let (mut rows, mut lines) = (Vec::new(), Vec::new());
    let cut_short = read_rows(path, max_bytes, |row, line| {
        rows.push(row);
        lines.push(line);
        Ok(())
    })?;
    Ok(CsvRows { rows, lines, cut_short })
}

/// Reads every complete row, one at a time, and hands it to `take` with its line (an error from
/// `take` stops the reading): the file is never held whole, and is read only if it is a regular
/// file of at most `max_bytes` (records::file). A last row cut short (the process was killed
/// mid-write: no newline at the end, or the end inside a quoted field) is left out and returned as
/// [`CutShort`]; any other malformed row, or a value no run can have ([`Checked`]), is an error
/// naming the line and the column.
fn read_rows<T: DeserializeOwned + Checked>(
    path: &Path,
    max_bytes: u64,
    take: impl FnMut(T, u64) -> Result<(), RecordsError>,
) -> Result<Option<CutShort>, RecordsError> {
    let file = super::file::open(path, max_bytes)?;
    let mut reader = csv::ReaderBuilder::new().flexible(true).has_headers(false).buffer_capacity(1 << 16).from_reader(Tally::new(file));
    let mut rows = Rows { path, headers: None, blank_header_line: None, take };
    // Each record is taken once the next one is read: only the last can be cut short, and that
    // is known at the end of the file.
    let mut last: Option<csv::ByteRecord> = None;
    loop {
        let mut record = csv::ByteRecord::new();
        if !reader.read_byte_record(&mut record).map_err(|e| rows.csv_error(e))? {
            break;
        }
        if let Some(complete) = last.replace(record) {
            rows.take(complete)?;
        }
    }
    let Some(last) = last else { return Ok(None) };
    let tally = reader.get_ref();
    // The tool ends every row with a newline; one inside a quoted field (an odd number of quotes
    // before it) is a message's, not the row's end.
    if tally.last == Some(b'\n') && tally.quotes.is_multiple_of(2) {
        rows.take(last)?;
        return Ok(None);
    }
    let (line, start) = last.position().map_or((1, 0), |p| (p.line(), p.byte()));
    let length = tally.bytes.saturating_sub(start);
    let text = cut_text(reader.into_inner().into_file(), start, length).map_err(io_err(path))?;
    Ok(Some(CutShort { path: path.to_owned(), line, text }))
}

/// The rows of a records file as they are read: its header, then each row checked against it and
/// handed to `take`.
struct Rows<'a, F> {
    path: &'a Path,
    headers: Option<csv::StringRecord>,
    /// The line of a header left blank: an error once a complete row follows it.
    blank_header_line: Option<u64>,
    take: F,
}

impl<F> Rows<'_, F> {
    fn error(&self, line: u64, message: String) -> RecordsError {
        RecordsError::Parse { path: self.path.to_owned(), message: format!("line {line}: {message}") }
    }

    fn csv_error(&self, error: csv::Error) -> RecordsError {
        let (line, message) = (error.position().map_or(0, |p| p.line()), error.to_string());
        match error.into_kind() {
            csv::ErrorKind::Io(source) => RecordsError::Io { path: self.path.to_owned(), source },
            _ => self.error(line, message),
        }
    }

    /// Takes a complete record: the header first, then a row, checked.
    fn take<T: DeserializeOwned + Checked>(&mut self, record: csv::ByteRecord) -> Result<(), RecordsError>
    where
        F: FnMut(T, u64) -> Result<(), RecordsError>,
    {
        let line = record.position().map_or(0, |p| p.line());
        let record = csv::StringRecord::from_byte_record(record).map_err(|e| {
            let field =
                self.headers.as_ref().and_then(|h| h.get(e.utf8_error().field())).map_or(String::new(), |name| format!("column {name}: "));
            self.error(line, format!("{field}not valid UTF-8"))
        })?;
        let Some(headers) = &self.headers else {
            // The tool writes the header on line 1; a blank one (an edit) would otherwise be read
            // as a header of one column, and every row called too wide.
            if record.len() == 1 && record[0].trim().is_empty() {
                self.blank_header_line = Some(line);
            }
            self.headers = Some(record);
            return Ok(());
        };
        if let Some(header_line) = self.blank_header_line {
            return Err(
                self.error(header_line, "a blank line where the header of column names should be (the file was edited?)".to_string())
            );
        }
        if record.len() != headers.len() {
            return Err(self.error(line, format!("{} fields where the header has {}", record.len(), headers.len())));
        }
        let row: T = record.deserialize(Some(headers)).map_err(|e| self.error(line, field_problem(&e, headers)))?;
        if let Some(bad) = row.impossible_value() {
            let written = headers.iter().position(|h| h == bad.column).and_then(|i| record.get(i)).unwrap_or(&bad.value);
            let problem = format!("column {}: \"{written}\" is impossible: {} (correct or delete that row)", bad.column, bad.rule);
            return Err(self.error(line, problem));
        }
        (self.take)(row, line)
    }
}

/// A reader that counts the double quotes it passes on and keeps the last byte: whether a file
/// ends with a complete row is known once it is read, without holding it.
struct Tally<R> {
    inner: R,
    quotes: u64,
    last: Option<u8>,
    bytes: u64,
}

impl<R> Tally<R> {
    fn new(inner: R) -> Self {
        Tally { inner, quotes: 0, last: None, bytes: 0 }
    }
}

impl Tally<std::io::Take<File>> {
    fn into_file(self) -> File {
        self.inner.into_inner()
    }
}

impl<R: std::io::Read> std::io::Read for Tally<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        let read = &buf[..n];
        self.quotes += read.iter().filter(|&&b| b == b'"').count() as u64;
        self.last = read.last().copied().or(self.last);
        self.bytes += n as u64;
        Ok(n)
    }
}

/// What a line cut short held, from `start` (at most `length` bytes): its first 200 characters,
/// control characters written as escapes.
fn cut_text(mut file: File, start: u64, length: u64) -> std::io::Result<String> {
    use std::io::{Read, Seek, SeekFrom};
    file.seek(SeekFrom::Start(start))?;
    let mut bytes = Vec::new();
    file.take(length.min(800)).read_to_end(&mut bytes)?;
    Ok(String::from_utf8_lossy(&bytes)
        .chars()
        .take(200)
        .flat_map(|c| if c.is_control() { c.escape_default().collect() } else { vec![c] })
        .collect())
}

/// "column wall_seconds: invalid float literal", from csv's "CSV deserialize error: record 3 (line
/// 4, byte 1021): field 9: invalid float literal"; a status the file spells as no run ends
/// ("unknown variant `bogus`, expected one of …") names the status columns, since csv does not
/// say which field its enum was. At most [`MAX_PROBLEM_CHARS`] characters of it: a cell of
/// 100 KB is not quoted whole.
fn field_problem(error: &csv::Error, headers: &csv::StringRecord) -> String {
    let problem = match error.kind() {
        csv::ErrorKind::Deserialize { err, .. } => {
            let column = err.field().and_then(|i| headers.get(i as usize)).map(|name| format!("column {name}: "));
            let kind = err.kind().to_string();
            let column = column.or_else(|| kind.starts_with("unknown variant").then(|| "column status or one_off_status: ".to_string()));
            format!("{}{kind}", column.unwrap_or_default())
        }
        _ => error.to_string(),
    };
    let length = problem.chars().count();
    match problem.char_indices().nth(MAX_PROBLEM_CHARS) {
        Some((cut, _)) => format!("{}… ({length} characters)", &problem[..cut]),
        None => problem,
    }
}

/// How much of a row's problem a message quotes.
const MAX_PROBLEM_CHARS: usize = 300;

/// Every row of raw.csv, as written (none set aside).
pub fn read_raw(run_dir: &Path) -> Result<Vec<RawRecord>, RecordsError> {
    read_raw_rows(run_dir).map(|read| read.all)
}

/// raw.csv read back: every row, those no statistic may count, and its last line if that was cut
/// short.
#[derive(Debug)]
pub(crate) struct RawRows {
    /// Every complete row, in the file's order.
    pub all: Vec<RawRecord>,
    /// The rows of `all` that no statistic may count (records::screen), in the file's order.
    pub set_aside: Vec<SetAside>,
    pub cut_short: Option<CutShort>,
}

impl RawRows {
    /// The rows the statistics count: every row but those set aside.
    pub(crate) fn counted(&self) -> Vec<RawRecord> {
        let mut left_out = self.set_aside.iter().map(|s| s.index).peekable();
        let mut counted = Vec::with_capacity(self.all.len() - self.set_aside.len());
        for (index, row) in self.all.iter().enumerate() {
            if left_out.next_if_eq(&index).is_none() {
                counted.push(row.clone());
            }
        }
        counted
    }

    /// What the command says on stderr: each row set aside, and a last line cut short.
    pub(crate) fn warnings(&self) -> impl Iterator<Item = String> + '_ {
        let set_aside = self.set_aside.iter().map(|s| format!("warning: {s}"));
        set_aside.chain(self.cut_short.iter().map(|cut| format!("warning: {cut}")))
    }
}

/// raw.csv's rows, those set aside, and its last line if that was cut short.
pub(crate) fn read_raw_rows(run_dir: &Path) -> Result<RawRows, RecordsError> {
    let path = run_dir.join(RAW_CSV);
    let CsvRows { rows, lines, cut_short } = read_csv(&path, MAX_RAW_CSV_BYTES)?;
    let set_aside = screen::set_aside(&path, &rows, &lines);
    Ok(RawRows { all: rows, set_aside, cut_short })
}

/// The most samples a report holds in memory: what a samples.csv someone sent can cost. A sample
/// held costs about 165 bytes (two names, three figures, its line): measured, `report` of a
/// samples.csv of 11.9 million one-letter-named samples peaked at 2.0 GB, and with names of 37
/// characters (the longest 11.9 million rows can have within [`MAX_SAMPLES_CSV_BYTES`]) at 2.3 GB.
/// A run writes about 1 000 samples a second of runs at the default 1 ms: 12 million are 3⅓ hours
/// of runs, 28 times a full study (424 000). A run directory with more is reported without its
/// samples, and says so.
pub(crate) const MAX_SAMPLES_HELD: usize = 12_000_000;

/// samples.csv read back whole, as a report holds it: at most [`MAX_SAMPLES_HELD`] samples (more
/// are refused, [`RecordsError::Refused`], before more memory is taken). It may be absent
/// (nothing was sampled): that reads as no samples.
pub(crate) fn read_samples(run_dir: &Path) -> Result<CsvRows<SampleRecord>, RecordsError> {
    read_samples_holding(run_dir, MAX_SAMPLES_HELD)
}

/// [`read_samples`], holding at most `most` samples.
fn read_samples_holding(run_dir: &Path, most: usize) -> Result<CsvRows<SampleRecord>, RecordsError> {
    let path = run_dir.join(SAMPLES_CSV);
    let (mut rows, mut lines) = (Vec::new(), Vec::new());
    let cut_short = each_sample_in(&path, |row, line| {
        if rows.len() == most {
            let message =
                format!("holds more than {most} samples (over 3 hours of runs sampled every millisecond), more than a report holds in memory: not read");
            return Err(RecordsError::Refused { path: path.clone(), message });
        }
        rows.push(row);
        lines.push(line);
        Ok(())
    })?;
    Ok(CsvRows { rows, lines, cut_short })
}

/// samples.csv's rows one at a time, each handed to `take` (none when the file is absent), for a
/// reader that need not hold them all; and its last line if that was cut short.
pub(crate) fn each_sample(
    run_dir: &Path,
    mut take: impl FnMut(SampleRecord) -> Result<(), RecordsError>,
) -> Result<Option<CutShort>, RecordsError> {
    each_sample_in(&run_dir.join(SAMPLES_CSV), |row, _| take(row))
}

fn each_sample_in(path: &Path, take: impl FnMut(SampleRecord, u64) -> Result<(), RecordsError>) -> Result<Option<CutShort>, RecordsError> {
    match read_rows(path, MAX_SAMPLES_CSV_BYTES, take) {
        Err(RecordsError::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => Ok(None),
        read => read,
    }
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

    /// The path of a raw.csv, not there yet, in a directory of this test's own (`name`-…),
    /// removed when the returned TempDir is dropped.
    fn fresh_raw_csv(name: &str) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::Builder::new().prefix(&format!("{name}-")).tempdir().unwrap();
        let path = dir.path().join(RAW_CSV);
        (dir, path)
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
        let rows: Vec<RawRecord> = read_csv(&path, MAX_RAW_CSV_BYTES).unwrap().rows;
        assert_eq!(rows, vec![one_fit(1)]);
    }

    #[test]
    fn raw_rows_round_trip_exactly_and_append_keeps_one_header() {
        let (_dir, path) = fresh_raw_csv("records-test");
        CsvAppender::open(&path).unwrap().append(&[record(1)]).unwrap();
        CsvAppender::open(&path).unwrap().append(&[record(2)]).unwrap();
        let read = read_csv::<RawRecord>(&path, MAX_RAW_CSV_BYTES).unwrap();
        assert_eq!((read.rows, read.cut_short), (vec![record(1), record(2)], None));
    }

    /// Rows are in the file as soon as `append` returns, synced or not: an orchestrator killed
    /// between two points has lost none of the point's rows.
    #[test]
    fn appended_rows_are_in_the_file_before_any_sync() {
        let (_dir, path) = fresh_raw_csv("records-unsynced");
        let mut appender = CsvAppender::open(&path).unwrap();
        appender.sync().unwrap();
        appender.append(&[record(1)]).unwrap();
        assert_eq!(read_csv::<RawRecord>(&path, MAX_RAW_CSV_BYTES).unwrap().rows, vec![record(1)]);
        appender.append(&[record(2)]).unwrap();
        appender.sync().unwrap();
        appender.sync().unwrap();
        assert_eq!(read_csv::<RawRecord>(&path, MAX_RAW_CSV_BYTES).unwrap().rows, vec![record(1), record(2)]);
    }

    #[test]
    fn a_row_cut_short_is_left_out_and_said_not_fatal() {
        let (_dir, path) = fresh_raw_csv("records-cut");
        CsvAppender::open(&path).unwrap().append(&[record(1)]).unwrap();
        let whole = std::fs::read_to_string(&path).unwrap();
        // Cut in the first line of the message (a line of the file, but not a whole row), then
        // in its second line.
        let inside_the_message = whole.find("newline").unwrap();
        for cut in [inside_the_message, whole.len() - 3] {
            std::fs::write(&path, format!("{whole}{}", &whole[whole.find('\n').unwrap() + 1..cut])).unwrap();
            let read = read_csv::<RawRecord>(&path, MAX_RAW_CSV_BYTES).unwrap();
            assert_eq!(read.rows, vec![record(1)]);
            let cut_short = read.cut_short.expect("the cut row is said");
            // The header is line 1, the first row (its message holds a newline) lines 2–3.
            assert_eq!(cut_short.line, 4);
            assert!(cut_short.text.starts_with("seed,0,") && !cut_short.text.contains('\n'), "{cut_short:?}");
        }
        // A short row followed by another is no cut: it is an error naming its line.
        std::fs::write(&path, format!("{whole}seed,0\n{}", &whole[whole.find('\n').unwrap() + 1..])).unwrap();
        let error = read_csv::<RawRecord>(&path, MAX_RAW_CSV_BYTES).unwrap_err().to_string();
        assert!(error.contains("line 4: 2 fields where the header has"), "{error}");
        // A blank line before the header: said as such, not as rows too wide.
        std::fs::write(&path, format!("   \n{whole}")).unwrap();
        let error = read_csv::<RawRecord>(&path, MAX_RAW_CSV_BYTES).unwrap_err().to_string();
        assert!(error.contains("line 1: a blank line where the header"), "{error}");
    }

    /// A samples.csv of 10 million rows was read whole and held at five times its size (3.2 GB
    /// for 666 MB): it is read row by row, and a report holds at most MAX_SAMPLES_HELD samples
    /// (here 3): one with more is refused, before more are held; an absent one is no samples.
    #[test]
    fn a_report_holds_a_bounded_number_of_samples() {
        let dir = tempfile::Builder::new().prefix("records-samples-").tempdir().unwrap();
        let sample = |k: u32| SampleRecord {
            scenario: "seed".into(),
            point: 0,
            implementation: "rust".into(),
            repetition: 1,
            t_seconds: f64::from(k) * 1e-3,
            rss_bytes: 1 << 20,
            cpu_seconds: f64::from(k) * 1e-3,
        };
        assert!(read_samples_holding(dir.path(), 3).unwrap().rows.is_empty(), "no samples.csv, no samples");
        let mut appender = CsvAppender::open(&dir.path().join(SAMPLES_CSV)).unwrap();
        appender.append(&(1..=3).map(sample).collect::<Vec<_>>()).unwrap();
        assert_eq!(read_samples_holding(dir.path(), 3).unwrap().rows, (1..=3).map(sample).collect::<Vec<_>>());
        appender.append(&[sample(4)]).unwrap();
        let error = read_samples_holding(dir.path(), 3).unwrap_err();
        let text = error.to_string();
        assert!(matches!(error, RecordsError::Refused { .. }) && text.contains("samples.csv holds more than 3 samples"), "{text}");
        // Each is handed on, none held, to a reader that needs them one at a time (merge).
        let mut seen = 0;
        let cut_short = each_sample(dir.path(), |_| {
            seen += 1;
            Ok(())
        });
        assert_eq!(cut_short.unwrap(), None);
        assert_eq!(seen, 4);
    }

    /// Bytes that are not UTF-8 made the whole file unreadable ("stream did not contain valid
    /// UTF-8", no line): read row by row, a complete row's are named with the line and the
    /// column, and a last row cut in the middle of a character is only cut short.
    #[test]
    fn bytes_that_are_not_utf8_are_named_with_their_line_and_column() {
        let (_dir, path) = fresh_raw_csv("records-utf8");
        CsvAppender::open(&path).unwrap().append(&[one_fit(1), one_fit(2)]).unwrap();
        let whole = std::fs::read(&path).unwrap();
        let mut bytes = whole.clone();
        bytes.truncate(whole.len() - 3);
        bytes.extend_from_slice("é".as_bytes().split_at(1).0);
        std::fs::write(&path, &bytes).unwrap();
        let read = read_csv::<RawRecord>(&path, MAX_RAW_CSV_BYTES).unwrap();
        assert_eq!((read.rows.len(), read.cut_short.map(|c| c.line)), (1, Some(4)));
        let at = whole.windows(4).position(|w| w == b"rust").unwrap();
        let mut bytes = whole;
        bytes[at] = 0xff;
        std::fs::write(&path, &bytes).unwrap();
        let error = read_csv::<RawRecord>(&path, MAX_RAW_CSV_BYTES).unwrap_err().to_string();
        assert!(error.contains("line 2: column implementation: not valid UTF-8"), "{error}");
    }

    #[test]
    fn a_file_deleted_or_replaced_while_appending_is_written_again_whole() {
        let (_dir, path) = fresh_raw_csv("records-deleted");
        let mut appender = CsvAppender::open(&path).unwrap();
        appender.append(&[record(1)]).unwrap();
        std::fs::remove_file(&path).unwrap();
        appender.append(&[record(2)]).unwrap();
        let other = path.with_file_name("other.csv");
        std::fs::write(&other, "not mine\n").unwrap();
        std::fs::rename(&other, &path).unwrap();
        appender.append(&[record(3)]).unwrap();
        assert_eq!(read_csv::<RawRecord>(&path, MAX_RAW_CSV_BYTES).unwrap().rows, vec![record(1), record(2), record(3)]);
        let notes = appender.take_notes();
        assert!(notes.len() == 2 && notes[0].contains("was deleted") && notes[1].contains("was replaced"), "{notes:?}");
        // Cut short from outside: the rows are gone, and that is an error, not a silence.
        std::fs::OpenOptions::new().write(true).open(&path).unwrap().set_len(10).unwrap();
        let error = appender.append(&[record(4)]).unwrap_err().to_string();
        assert!(error.contains("the rows it held are lost"), "{error}");
    }
}
