//! Files that hold keys or wallet data: created readable by their owner
//! only (0600 on Unix), and replaced atomically.

use std::{
    ffi::OsString,
    fs::{File, OpenOptions},
    io::Write,
    path::{Path, PathBuf},
};

fn private_options() -> OpenOptions {
    let mut options = OpenOptions::new();
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options
}

/// Creates `path` empty and private if it does not exist; an existing file
/// keeps its content and is made private (files from older builds), as are
/// SQLite's `-wal` and `-shm` beside it.
pub fn ensure_private(path: &Path) -> std::io::Result<()> {
    match private_options().write(true).create_new(true).open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            for p in [
                path.to_path_buf(),
                with_suffix(path, "-wal"),
                with_suffix(path, "-shm"),
            ] {
                restrict(&p)?;
            }
            Ok(())
        }
        Err(e) => Err(e),
    }
}

#[cfg(unix)]
fn restrict(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    match std::fs::metadata(path) {
        Ok(m) if m.permissions().mode() & 0o077 != 0 => {
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
        }
        _ => Ok(()),
    }
}

#[cfg(not(unix))]
fn restrict(_: &Path) -> std::io::Result<()> {
    Ok(())
}

/// `path` with `suffix` appended to its file name (`w.keys` → `w.keys.tmp`),
/// so a temporary file never collides with a sibling of another extension.
pub fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name: OsString = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// Writes `bytes` to a new private file beside `path`, synced, under a
/// name of its own (two writers never share a temporary file).
fn write_temporary(path: &Path, bytes: &[u8]) -> std::io::Result<PathBuf> {
    let tmp = with_suffix(
        path,
        &format!(
            ".{}.tmp",
            crate::b64::encode(crate::b64::random_bytes::<9>())
        ),
    );
    let mut file: File = private_options().write(true).create_new(true).open(&tmp)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    Ok(tmp)
}

/// Writes `bytes` to a private temporary file beside `path`, syncs it and
/// renames it over `path`: a crash leaves the old file or the new one,
/// never half of one.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = write_temporary(path, bytes)?;
    std::fs::rename(&tmp, path)
}

/// Like [`write_atomically`], but never replaces an existing `path`:
/// returns `false` (and writes nothing) when another writer got there
/// first.
pub fn create_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<bool> {
    let tmp = write_temporary(path, bytes)?;
    // A hard link is created only if the name is free: no clobbering.
    let linked = std::fs::hard_link(&tmp, path);
    let _ = std::fs::remove_file(&tmp);
    match linked {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
        Err(e) => Err(e),
    }
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    fn mode(p: &Path) -> u32 {
        std::fs::metadata(p).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn files_are_private_and_temporaries_do_not_collide() {
        let dir = tempfile::tempdir().unwrap();
        let keys = dir.path().join("w.keys");
        write_atomically(&keys, b"one").unwrap();
        write_atomically(&keys, b"two").unwrap();
        assert_eq!(std::fs::read(&keys).unwrap(), b"two");
        assert_eq!(mode(&keys), 0o600);
        assert_eq!(with_suffix(&keys, ".tmp"), dir.path().join("w.keys.tmp"));
        let leftovers: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
            .collect();
        assert!(leftovers.is_empty(), "no temporary file left behind");
        // A wallet named like the old temporary file is not touched.
        let wallet = dir.path().join("w.tmp");
        std::fs::write(&wallet, b"wallet").unwrap();
        write_atomically(&keys, b"three").unwrap();
        assert_eq!(std::fs::read(&wallet).unwrap(), b"wallet");
        let db = dir.path().join("w.db");
        ensure_private(&db).unwrap();
        assert_eq!(mode(&db), 0o600);
        std::fs::write(&db, b"x").unwrap();
        ensure_private(&db).unwrap();
        assert_eq!(
            std::fs::read(&db).unwrap(),
            b"x",
            "an existing file is kept"
        );
    }
}
