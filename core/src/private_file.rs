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
/// is left as it is.
pub fn ensure_private(path: &Path) -> std::io::Result<()> {
    match private_options().write(true).create_new(true).open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e),
    }
}

/// `path` with `suffix` appended to its file name (`w.keys` → `w.keys.tmp`),
/// so a temporary file never collides with a sibling of another extension.
pub fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name: OsString = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// Writes `bytes` to a private temporary file beside `path`, syncs it and
/// renames it over `path`: a crash leaves the old file or the new one,
/// never half of one.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = with_suffix(path, ".tmp");
    let _ = std::fs::remove_file(&tmp);
    let mut file: File = private_options().write(true).create_new(true).open(&tmp)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    drop(file);
    std::fs::rename(&tmp, path)
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
