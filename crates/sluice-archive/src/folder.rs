//! Plain folders on disk, walked without following symlinks.

use std::fs::File;
use std::path::Path;

use walkdir::WalkDir;

use crate::budget::read_body;
use crate::collect::Collector;
use crate::names::link_detail;
use crate::{AnomalyKind, ArchiveError};

fn io_err(path: &Path, source: std::io::Error) -> ArchiveError {
    ArchiveError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// The raw bytes of a relative path, as stored on disk.
#[cfg(unix)]
fn raw_bytes(p: &Path) -> Vec<u8> {
    use std::os::unix::ffi::OsStrExt;
    p.as_os_str().as_bytes().to_vec()
}

#[cfg(not(unix))]
fn raw_bytes(p: &Path) -> Vec<u8> {
    p.to_string_lossy().into_owned().into_bytes()
}

/// Open a file that was a regular file when listed, refusing to follow a
/// symlink or block on a fifo that replaced it since (a swap between the
/// listing and the open must not lead outside the folder or hang).
#[cfg(unix)]
fn open_regular(path: &Path) -> std::io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path)
}

#[cfg(not(unix))]
fn open_regular(path: &Path) -> std::io::Result<File> {
    File::open(path)
}

/// Read the folder `root` into `c`; returns the sum of the regular files'
/// sizes on disk.
pub(crate) fn read_folder(root: &Path, c: &mut Collector<'_>) -> Result<u64, ArchiveError> {
    let mut size = 0u64;
    let walker = WalkDir::new(root)
        .follow_links(false)
        .sort_by_file_name()
        // One level past the limit so over-deep entries are seen and
        // reported, but never descended into.
        .max_depth(c.limits.max_depth.saturating_add(1));
    for item in walker {
        let item = item.map_err(|e| {
            let path = e.path().unwrap_or(root).to_path_buf();
            let source = e
                .into_io_error()
                .unwrap_or_else(|| std::io::Error::other("file system loop"));
            io_err(&path, source)
        })?;
        if item.depth() == 0 {
            continue;
        }
        c.count_entry()?;
        let rel = item.path().strip_prefix(root).unwrap_or(item.path());
        let raw = raw_bytes(rel);
        let ft = item.file_type();
        if ft.is_dir() {
            c.check_name(&raw, false);
        } else if ft.is_symlink() {
            c.check_name(&raw, false);
            let target = std::fs::read_link(item.path())
                .map(|t| raw_bytes(&t))
                .unwrap_or_default();
            c.anomaly(AnomalyKind::Link, &raw, link_detail(&raw, &target, false));
        } else if ft.is_file() {
            let Some(path) = c.check_name(&raw, true) else {
                continue;
            };
            let mut f = open_regular(item.path()).map_err(|e| io_err(item.path(), e))?;
            let meta = f.metadata().map_err(|e| io_err(item.path(), e))?;
            if !meta.is_file() {
                c.anomaly(
                    AnomalyKind::SpecialFile,
                    &raw,
                    "replaced by a non-regular file while being read; left out".to_owned(),
                );
                continue;
            }
            size = size.saturating_add(meta.len());
            let (data, truncated) = read_body(&mut f, meta.len(), c.limits.max_file_bytes)
                .map_err(|e| io_err(item.path(), e))?;
            let mode = mode_of(&meta);
            c.add_file(path, &raw, data, mode, truncated)?;
        } else {
            c.check_name(&raw, false);
            c.anomaly(
                AnomalyKind::SpecialFile,
                &raw,
                "device, fifo or socket; left out (never opened)".to_owned(),
            );
        }
    }
    Ok(size)
}

#[cfg(unix)]
fn mode_of(meta: &std::fs::Metadata) -> Option<u32> {
    use std::os::unix::fs::PermissionsExt;
    Some(meta.permissions().mode())
}

#[cfg(not(unix))]
fn mode_of(_meta: &std::fs::Metadata) -> Option<u32> {
    None
}
