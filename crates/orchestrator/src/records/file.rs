//! A run directory's file opened to be read back: only a regular file (or a symbolic link to one),
//! and no larger than any run writes. A run directory can come from someone else: a FIFO in it
//! would block the reader for good, /dev/zero would never end, and a file of gigabytes would be
//! read whole into memory.

use std::fs::{File, FileType, Metadata};
use std::io::{Read, Take};
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::Path;

use super::error::{io_err, RecordsError};

/// plan.json and environment.json are read whole and parsed. Written by a run they hold tens of
/// kilobytes (45 KB and 48 KB for a full study of every scenario); a merged run's environment.json
/// keeps every shard's own, so 100 shards make about 5 MB. At 256 MiB no real run comes near, and
/// a parse of that much stays within a few times its size in memory.
pub(crate) const MAX_JSON_BYTES: u64 = 256 << 20;

/// raw.csv: about 290 bytes a run, 240 KB for a full study (826 runs). A run of 300 000 tiny runs
/// writes 85 MB and is reported (in 85 s, with 600 MB of memory); 1 GiB is twelve times that,
/// about 3.7 million runs, whose statistics would take most of an hour and several GB: every run
/// is held, as the statistics need.
pub(crate) const MAX_RAW_CSV_BYTES: u64 = 1 << 30;

/// samples.csv: about 65 bytes a sample, 53 KB a second of runs sampled at the default 1 ms
/// (27 MB for a full study: 500 s of runs). 1 GiB holds 5½ hours of runs sampled at 1 ms, forty
/// times a full study. It is read row by row, never whole: a report holds at most
/// records::csv::MAX_SAMPLES_HELD samples of it, a merge copies it a batch at a time.
pub(crate) const MAX_SAMPLES_CSV_BYTES: u64 = 1 << 30;

/// lscpu.txt and cpuinfo-cpu0.txt saved beside an older run: a few kilobytes.
pub(crate) const MAX_TEXT_BYTES: u64 = 16 << 20;

/// `path` opened to be read: refused ([`RecordsError::Refused`]) unless it is a regular file of at
/// most `max_bytes`. The reader ends at the length the file had when opened, so one that grows
/// meanwhile (a run still appending) is read as it was. A missing file is the error it always
/// was (`RecordsError::Io`, NotFound).
pub(crate) fn open(path: &Path, max_bytes: u64) -> Result<Take<File>, RecordsError> {
    // Looked at before it is opened: opening a FIFO waits for a writer, opening a device can do
    // something (a tape rewinds).
    refuse_unless_regular(path, &std::fs::metadata(path).map_err(io_err(path))?)?;
    // O_NONBLOCK: should a FIFO take the name's place between the look and the open, the open
    // returns at once rather than wait for a writer. It changes nothing for a regular file.
    let file = std::fs::OpenOptions::new().read(true).custom_flags(libc::O_NONBLOCK).open(path).map_err(io_err(path))?;
    let opened = file.metadata().map_err(io_err(path))?;
    refuse_unless_regular(path, &opened)?;
    if opened.len() > max_bytes {
        let message = format!(
            "is {}, larger than the {} any run writes there: not read (is it the file a run wrote?)",
            size(opened.len()),
            size(max_bytes)
        );
        return Err(RecordsError::Refused { path: path.to_owned(), message });
    }
    Ok(file.take(opened.len()))
}

/// The whole of `path` as text, opened as [`open`] opens it.
pub(crate) fn read_text(path: &Path, max_bytes: u64) -> Result<String, RecordsError> {
    let mut text = String::new();
    open(path, max_bytes)?.read_to_string(&mut text).map_err(io_err(path))?;
    Ok(text)
}

fn refuse_unless_regular(path: &Path, meta: &Metadata) -> Result<(), RecordsError> {
    if meta.is_file() {
        return Ok(());
    }
    let what = kind(&meta.file_type());
    let through = match std::fs::read_link(path) {
        Ok(target) => format!(", through a symbolic link to {}", target.display()),
        Err(_) => String::new(),
    };
    let message = format!("is not a regular file ({what}{through}): only regular files are read from a run directory");
    Err(RecordsError::Refused { path: path.to_owned(), message })
}

/// What a file that is not a regular file is, in a few words.
fn kind(file_type: &FileType) -> &'static str {
    if file_type.is_dir() {
        "a directory"
    } else if file_type.is_fifo() {
        "a FIFO"
    } else if file_type.is_char_device() {
        "a character device"
    } else if file_type.is_block_device() {
        "a block device"
    } else if file_type.is_socket() {
        "a socket"
    } else {
        "of an unknown kind"
    }
}

fn size(bytes: u64) -> String {
    crate::format::bytes_compact(bytes as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch() -> tempfile::TempDir {
        tempfile::Builder::new().prefix("records-file-").tempdir().unwrap()
    }

    fn mkfifo(path: &Path) {
        let c_path = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
        // SAFETY: mkfifo reads the NUL-terminated path only.
        assert_eq!(unsafe { libc::mkfifo(c_path.as_ptr(), 0o600) }, 0, "mkfifo");
    }

    /// Should the open of `fifo` ever wait for a writer again, one comes after 10 s and leaves at
    /// once: the reader then sees an empty file, and the test fails instead of hanging.
    fn unblock_later(fifo: &Path) {
        let fifo = fifo.to_owned();
        std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_secs(10));
            // Only succeeds while a reader has it open (ENXIO otherwise).
            let _ = std::fs::OpenOptions::new().write(true).custom_flags(libc::O_NONBLOCK).open(&fifo);
        });
    }

    /// A FIFO blocked the open (until a writer came, for good), /dev/zero filled the memory: a
    /// device (here /dev/null, which a regression would read as empty rather than forever) and a
    /// FIFO are refused at once, named, and a link to one is no way round. A link to a regular
    /// file is followed.
    #[test]
    fn only_regular_files_are_read_and_a_link_to_one_is_followed() {
        let dir = scratch();
        let fifo = dir.path().join("raw.csv");
        mkfifo(&fifo);
        unblock_later(&fifo);
        let device = dir.path().join("environment.json");
        std::os::unix::fs::symlink("/dev/null", &device).unwrap();
        let cases = [(fifo, "is not a regular file (a FIFO)"), (device, "(a character device, through a symbolic link to /dev/null)")];
        for (path, want) in cases {
            let error = read_text(&path, MAX_JSON_BYTES).unwrap_err();
            let text = error.to_string();
            assert!(matches!(error, RecordsError::Refused { .. }) && text.contains(want), "{text}");
            assert!(text.starts_with(&path.display().to_string()), "{text}");
        }
        let error = read_text(dir.path(), MAX_JSON_BYTES).unwrap_err().to_string();
        assert!(error.contains("is not a regular file (a directory)"), "{error}");

        let real = dir.path().join("real.json");
        std::fs::write(&real, "{}").unwrap();
        let link = dir.path().join("plan.json");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        assert_eq!(read_text(&link, MAX_JSON_BYTES).unwrap(), "{}");
        // A missing file is the error it always was.
        let missing = read_text(&dir.path().join("missing.json"), MAX_JSON_BYTES).unwrap_err();
        assert!(matches!(&missing, RecordsError::Io { source, .. } if source.kind() == std::io::ErrorKind::NotFound), "{missing}");
    }

    #[test]
    fn a_file_larger_than_its_cap_is_refused_unread() {
        let dir = scratch();
        let path = dir.path().join("samples.csv");
        let file = File::create(&path).unwrap();
        file.set_len(3 << 30).unwrap(); // sparse: no disk taken
                                        // Refused at the open, before a byte is read.
        let error = open(&path, MAX_SAMPLES_CSV_BYTES).unwrap_err().to_string();
        assert!(error.contains("samples.csv is 3 GiB, larger than the 1 GiB any run writes there"), "{error}");
        std::fs::write(&path, "12345").unwrap();
        assert_eq!(read_text(&path, 5).unwrap(), "12345");
        let error = read_text(&path, 4).unwrap_err().to_string();
        assert!(error.contains("is 5 B, larger than the 4 B"), "{error}");
    }
}
