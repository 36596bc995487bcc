//! The claim on a run directory given with `--out`: an exclusive lock (flock) on a lock file in
//! it, held for the whole run, taken before the directory is checked to be empty. Two runs given
//! the same directory can then never both write into it, and a lock left by a run that was
//! killed is no lock at all: the kernel releases it with the process.

use std::ffi::OsStr;
use std::fs::File;
use std::io::{Read, Seek, Write};
use std::os::fd::AsRawFd;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

/// The lock file's name in a claimed directory; it holds the pid of the run holding it.
pub(crate) use crate::run_dir::LOCK_FILE;

/// Why a directory could not be claimed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ClaimError {
    #[error("{}: another run{} is writing into this directory", dir.display(), pid.map(|p| format!(" (pid {p})")).unwrap_or_default())]
    InUse { dir: PathBuf, pid: Option<u32> },
    #[error("{}: the directory is not empty (a run never overwrites another)", dir.display())]
    NotEmpty { dir: PathBuf },
    #[error("{}: {source}", path.display())]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{} is a symbolic link: a run's lock file is never written through a link (remove it)", path.display())]
    Link { path: PathBuf },
}

/// A directory claimed for one run; the claim ends (and the lock file goes) when it is dropped.
#[derive(Debug)]
pub(crate) struct DirLock {
    path: PathBuf,
    file: File,
}

impl DirLock {
    /// Claims `dir` (created when missing) for one run: it must be empty, but for the lock file
    /// and the entries named in `ignored` (the run's own dataset cache when `--out` is also the
    /// results directory), and no other run may hold it.
    pub(crate) fn claim(dir: &Path, ignored: &[&OsStr]) -> Result<DirLock, ClaimError> {
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| ClaimError::Io { path, source }
        };
        std::fs::create_dir_all(dir).map_err(io(dir))?;
        let path = dir.join(LOCK_FILE);
        // Never through a link: a `.run.lock` link left in a directory would have the pid written
        // over whatever it points at (O_NOFOLLOW: the open fails on a link instead).
        let opened = File::options().read(true).write(true).create(true).truncate(false).custom_flags(libc::O_NOFOLLOW).open(&path);
        let mut file = opened.map_err(|source| match source.raw_os_error() {
            Some(libc::ELOOP) => ClaimError::Link { path: path.clone() },
            _ => ClaimError::Io { path: path.clone(), source },
        })?;
        // SAFETY: flock on a descriptor this function owns.
        if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } != 0 {
            let error = std::io::Error::last_os_error();
            if error.raw_os_error() == Some(libc::EWOULDBLOCK) {
                // The holder writes its pid just after it locks: give it a moment to appear.
                let mut pid = None;
                for _ in 0..20 {
                    let mut text = String::new();
                    let _ = file.rewind().and_then(|()| file.read_to_string(&mut text));
                    pid = text.trim().parse().ok();
                    if pid.is_some() {
                        break;
                    }
                    std::thread::sleep(std::time::Duration::from_millis(5));
                }
                return Err(ClaimError::InUse { dir: dir.to_path_buf(), pid });
            }
            return Err(ClaimError::Io { path, source: error });
        }
        let lock = DirLock { path, file };
        let mut file = &lock.file;
        let written = file.set_len(0).and_then(|()| file.rewind()).and_then(|()| write!(file, "{}", std::process::id()));
        written.map_err(io(&lock.path))?;
        let others = std::fs::read_dir(dir)
            .map_err(io(dir))?
            .flatten()
            .any(|e| e.file_name() != LOCK_FILE && !ignored.contains(&e.file_name().as_os_str()));
        if others {
            // Dropped: the lock file goes, and the directory is left as it was found.
            return Err(ClaimError::NotEmpty { dir: dir.to_path_buf() });
        }
        Ok(lock)
    }
}

impl Drop for DirLock {
    fn drop(&mut self) {
        // Only the file this claim locked: another run may have made a new one since.
        let same = |a: &std::fs::Metadata, b: &std::fs::Metadata| a.dev() == b.dev() && a.ino() == b.ino();
        if let (Ok(held), Ok(named)) = (self.file.metadata(), std::fs::metadata(&self.path)) {
            if same(&held, &named) {
                let _ = std::fs::remove_file(&self.path);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A directory not there yet (`DirLock::claim` makes it), inside a scratch directory that is
    /// removed when the returned TempDir is dropped.
    fn scratch(name: &str) -> (tempfile::TempDir, PathBuf) {
        let scratch = tempfile::Builder::new().prefix(&format!("lock-{name}-")).tempdir().unwrap();
        let dir = scratch.path().join("results");
        (scratch, dir)
    }

    #[test]
    fn a_directory_is_claimed_once_and_released_when_dropped() {
        let (_scratch, dir) = scratch("once");
        let first = DirLock::claim(&dir, &[]).unwrap();
        assert_eq!(std::fs::read_to_string(dir.join(LOCK_FILE)).unwrap(), std::process::id().to_string());
        match DirLock::claim(&dir, &[]) {
            Err(ClaimError::InUse { pid, .. }) => assert_eq!(pid, Some(std::process::id())),
            other => panic!("{other:?}"),
        }
        drop(first);
        assert!(!dir.join(LOCK_FILE).exists());
        // A lock file nobody holds (its run was killed) is no obstacle.
        std::fs::write(dir.join(LOCK_FILE), "99999999").unwrap();
        let again = DirLock::claim(&dir, &[]).unwrap();
        drop(again);
    }

    #[test]
    fn a_directory_with_anything_else_in_it_is_refused_and_left_as_it_was() {
        let (_scratch, dir) = scratch("full");
        std::fs::create_dir_all(dir.join(".cache")).unwrap();
        assert!(DirLock::claim(&dir, &[OsStr::new(".cache")]).is_ok());
        std::fs::write(dir.join("raw.csv"), "").unwrap();
        assert!(matches!(DirLock::claim(&dir, &[OsStr::new(".cache")]), Err(ClaimError::NotEmpty { .. })));
        assert!(!dir.join(LOCK_FILE).exists());
    }

    #[test]
    fn a_lock_file_that_is_a_link_is_refused_and_its_target_left_alone() {
        let (scratch, dir) = scratch("linked");
        std::fs::create_dir_all(&dir).unwrap();
        let outside = scratch.path().join("precious.txt");
        std::fs::write(&outside, "precious").unwrap();
        std::os::unix::fs::symlink(&outside, dir.join(LOCK_FILE)).unwrap();
        let refused = DirLock::claim(&dir, &[]).unwrap_err();
        assert!(matches!(refused, ClaimError::Link { .. }), "{refused:?}");
        assert!(refused.to_string().contains("is a symbolic link"), "{refused}");
        assert_eq!(std::fs::read_to_string(&outside).unwrap(), "precious");
    }
}
