//! Bounded reading of package artifacts into an in-memory tree.
//!
//! Reads sdists (`.tar.gz`, `.tar.bz2`, `.zip`), wheels (`.whl`), npm
//! tarballs (`.tgz`) and plain folders into a [`FileTree`]: a list of regular
//! files with `/`-separated relative paths and their bytes. Nothing is ever
//! written to disk. Limits ([`Limits`]) bound total and per-file size, entry
//! count, compression ratio and path depth, so zip bombs, 2 GB declared sizes
//! and endless archives end in a clear error instead of exhausting memory.
//!
//! Archive tricks (`../` or absolute paths, links, duplicate entries, device
//! files, header/size disagreements) are never followed: the entry is left
//! out and recorded as an [`Anomaly`], which the analyzer turns into an
//! `ARC6xx` finding. This crate knows nothing about scoring.
//!
//! ```no_run
//! use sluice_archive::{read_path, Limits};
//! let tree = read_path(std::path::Path::new("pkg-1.0.tar.gz"), &Limits::default()).unwrap();
//! for f in &tree.files {
//!     println!("{} {}", f.path, f.data.len());
//! }
//! ```
#![warn(missing_docs)]

use std::path::Path;

use sluice_model::Sha256;

/// Resource limits applied while reading an artifact.
#[derive(Clone, Debug)]
pub struct Limits {
    /// Largest artifact file accepted, in bytes (compressed).
    pub max_archive_bytes: u64,
    /// Largest total of unpacked file bytes kept.
    pub max_total_bytes: u64,
    /// Largest single file kept; bigger files are recorded as truncated.
    pub max_file_bytes: u64,
    /// Most entries (of any type) read before giving up.
    pub max_entries: u64,
    /// Largest ratio of unpacked to packed bytes before the archive is
    /// treated as a bomb.
    pub max_ratio: u64,
    /// Deepest path (number of components) accepted.
    pub max_depth: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_archive_bytes: 512 << 20,
            max_total_bytes: 1 << 30,
            max_file_bytes: 64 << 20,
            max_entries: 100_000,
            max_ratio: 200,
            max_depth: 64,
        }
    }
}

/// The kind of artifact read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArtifactKind {
    /// A Python source distribution (`.tar.gz`, `.tar.bz2`, `.zip`).
    Sdist,
    /// A Python wheel.
    Wheel,
    /// An npm package tarball.
    NpmTarball,
    /// Some other zip file.
    Zip,
    /// Some other tar file.
    Tar,
    /// A plain folder on disk.
    Folder,
}

impl ArtifactKind {
    /// Short lower-case name used in reports.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            ArtifactKind::Sdist => "sdist",
            ArtifactKind::Wheel => "wheel",
            ArtifactKind::NpmTarball => "npm-tarball",
            ArtifactKind::Zip => "zip",
            ArtifactKind::Tar => "tar",
            ArtifactKind::Folder => "folder",
        }
    }
}

/// One regular file read from an artifact.
#[derive(Clone, Debug)]
pub struct FileEntry {
    /// Relative `/`-separated path, checked: no `..`, no leading `/`, no
    /// empty components. For sdists and npm tarballs the single top-level
    /// folder (`pkg-1.0/`, `package/`) is kept as written.
    pub path: String,
    /// The bytes (at most `max_file_bytes`).
    pub data: Vec<u8>,
    /// Unix mode bits as stored in the archive, if any.
    pub mode: Option<u32>,
    /// True when the file was cut at `max_file_bytes`.
    pub truncated: bool,
}

/// Something odd about the archive itself, left out of the tree.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Anomaly {
    /// Which trick (`path-traversal`, `absolute-path`, `link`,
    /// `duplicate-entry`, `special-file`, `size-mismatch`, `too-deep`,
    /// `truncated-file`, `bad-name-encoding`).
    pub kind: AnomalyKind,
    /// The entry name as stored (escaped for display).
    pub entry: String,
    /// Details (`link target: ../../etc/passwd`).
    pub detail: String,
}

/// The archive tricks sluice recognises.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AnomalyKind {
    /// An entry whose path climbs out with `..`.
    PathTraversal,
    /// An entry with an absolute path or a drive letter.
    AbsolutePath,
    /// A symbolic or hard link (never followed); detail says whether it
    /// points outside the archive.
    Link,
    /// Two entries with the same path (readers disagree on which wins).
    DuplicateEntry,
    /// A device, fifo or other non-regular entry.
    SpecialFile,
    /// The declared size differs from the bytes actually present.
    SizeMismatch,
    /// A path deeper than `max_depth`.
    TooDeep,
    /// A file bigger than `max_file_bytes`, kept truncated.
    TruncatedFile,
    /// A name that is not valid UTF-8.
    BadNameEncoding,
}

/// An artifact read into memory.
#[derive(Clone, Debug)]
pub struct FileTree {
    /// What kind of artifact this was.
    pub kind: ArtifactKind,
    /// File name of the artifact (or folder name).
    pub filename: String,
    /// sha256 of the artifact bytes (None for folders).
    pub sha256: Option<Sha256>,
    /// Size of the artifact in bytes (sum of file sizes for folders).
    pub size: u64,
    /// Regular files, in archive order.
    pub files: Vec<FileEntry>,
    /// Entries left out, and why.
    pub anomalies: Vec<Anomaly>,
}

impl FileTree {
    /// Total bytes of the files kept.
    #[must_use]
    pub fn unpacked_bytes(&self) -> u64 {
        self.files.iter().map(|f| f.data.len() as u64).sum()
    }

    /// Find a file by exact path.
    #[must_use]
    pub fn get(&self, path: &str) -> Option<&FileEntry> {
        self.files.iter().find(|f| f.path == path)
    }
}

/// Why an artifact could not be read at all.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ArchiveError {
    /// The file could not be opened or read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// Path on disk.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The artifact's extension is not one sluice reads.
    #[error("{0}: not a recognised package artifact (expected .tar.gz, .tgz, .tar.bz2, .zip, .whl or a folder)")]
    UnknownFormat(String),
    /// The compressed stream or container is corrupt or truncated.
    #[error("{file}: corrupt or truncated archive: {detail}")]
    Corrupt {
        /// Artifact file name.
        file: String,
        /// What the decoder said.
        detail: String,
    },
    /// A limit was exceeded; the artifact is refused.
    #[error("{file}: {what} limit exceeded ({detail})")]
    Limit {
        /// Artifact file name.
        file: String,
        /// Which limit (`total size`, `entry count`, `compression ratio`, `archive size`).
        what: &'static str,
        /// Numbers.
        detail: String,
    },
}

impl ArchiveError {
    /// True when the input itself is bad (as opposed to an I/O failure).
    #[must_use]
    pub fn is_malformed_input(&self) -> bool {
        !matches!(self, ArchiveError::Io { .. })
    }
}

/// Read an artifact file or a folder from disk.
///
/// # Errors
/// See [`ArchiveError`].
pub fn read_path(path: &Path, limits: &Limits) -> Result<FileTree, ArchiveError> {
    let _ = (path, limits);
    todo!("sluice-archive: read_path")
}

/// Read an artifact from bytes already in memory; `filename` decides the
/// format (by extension, then by magic bytes).
///
/// # Errors
/// See [`ArchiveError`].
pub fn read_bytes(filename: &str, bytes: &[u8], limits: &Limits) -> Result<FileTree, ArchiveError> {
    let _ = (filename, bytes, limits);
    todo!("sluice-archive: read_bytes")
}
