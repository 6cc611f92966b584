//! Bounded reading of package artifacts into an in-memory tree.
//!
//! Reads sdists (`.tar.gz`, `.tar.bz2`, `.tar.xz`, `.tar`, `.zip`), wheels (`.whl`),
//! npm tarballs (`.tgz`) and plain folders into a [`FileTree`]: a list of
//! regular files with `/`-separated relative paths and their bytes.
//!
//! What it must not do: write anything to disk (archives are iterated entry
//! by entry in memory, never unpacked or extracted), follow a link, open a
//! fifo or device, or trust a size written in a header. Limits ([`Limits`])
//! bound total and per-file size, entry count, compression ratio and path
//! depth; every decompressed byte is counted as it is produced, so zip
//! bombs, 2 GB declared sizes and endless archives end in a clear
//! [`ArchiveError`] instead of exhausting memory or time.
//!
//! Archive tricks (`../` or absolute paths, links, duplicate entries, device
//! files, header/size disagreements) are never followed: the entry is left
//! out and recorded as an [`Anomaly`], which the analyzer turns into an
//! `ARC6xx` finding. This crate knows nothing about scoring. Two tricks keep
//! the entry, because leaving it out would hide code from the analyser:
//! a non-UTF-8 name is kept under its lossy form, and of duplicate paths the
//! LAST copy is kept (it is the one pip, `tarfile`, `zipfile` and npm leave
//! on disk).
//!
//! ```no_run
//! use sluice_archive::{read_path, Limits};
//! let tree = read_path(std::path::Path::new("pkg-1.0.tar.gz"), &Limits::default()).unwrap();
//! for f in &tree.files {
//!     println!("{} {}", f.path, f.data.len());
//! }
//! ```
#![warn(missing_docs)]

mod budget;
mod collect;
mod folder;
mod gz;
mod names;
mod tar;
mod xz;
mod zip;

use std::io::Read;
use std::path::Path;

use sluice_model::Sha256;

use crate::budget::Budget;
use crate::collect::Collector;

/// Resource limits applied while reading an artifact.
///
/// Defaults, and why:
///
/// | limit | default | why |
/// |---|---|---|
/// | `max_archive_bytes` | 512 MiB | the artifact is held in memory; PyPI's default upload cap is 100 MB (a few giant ML wheels have raised caps and exceed it: callers decide what a limit error means) |
/// | `max_total_bytes` | 1 GiB | bounds memory for kept file bytes; the decompressed stream (tar headers, skipped tails of truncated files) may run to twice this |
/// | `max_file_bytes` | 64 MiB | no rule needs more of one file; bigger files are kept truncated with a `TruncatedFile` anomaly |
/// | `max_entries` | 100,000 | the largest honest packages have tens of thousands of files |
/// | `max_ratio` | 200 | source and minified JS/JSON compress 4–50×; bombs 1000×+. Checked only past 1 MiB unpacked, as tiny archives of tar headers or repeated text compress beyond any ratio harmlessly |
/// | `max_depth` | 64 | deeper paths appear only in tricks; over-deep entries are left out (`TooDeep`) |
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
    /// treated as a bomb (counted over the whole artifact, as bytes are
    /// decompressed; not checked below 1 MiB unpacked).
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
    /// empty or `.` components, backslashes turned into `/`. For sdists and
    /// npm tarballs the single top-level folder (`pkg-1.0/`, `package/`) is
    /// kept as written; for folders, paths are relative to the folder.
    /// Unique within a tree.
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
    /// `truncated-file`, `bad-name-encoding`, `header-mismatch`; see
    /// [`AnomalyKind::as_str`]).
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
    /// A name that is not valid UTF-8, contains a NUL byte, is empty or
    /// is absurdly long. A non-UTF-8 name is kept under its lossy form when
    /// otherwise safe, so the file is still analysed.
    BadNameEncoding,
    /// A zip entry whose local header names it differently from the central
    /// directory (streaming readers and index readers see different files).
    HeaderMismatch,
}

impl AnomalyKind {
    /// Short lower-case name used in reports (`path-traversal`, ...).
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            AnomalyKind::PathTraversal => "path-traversal",
            AnomalyKind::AbsolutePath => "absolute-path",
            AnomalyKind::Link => "link",
            AnomalyKind::DuplicateEntry => "duplicate-entry",
            AnomalyKind::SpecialFile => "special-file",
            AnomalyKind::SizeMismatch => "size-mismatch",
            AnomalyKind::TooDeep => "too-deep",
            AnomalyKind::TruncatedFile => "truncated-file",
            AnomalyKind::BadNameEncoding => "bad-name-encoding",
            AnomalyKind::HeaderMismatch => "header-mismatch",
        }
    }
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
    #[error(
        "{0}: not a recognised package artifact (expected .tar.gz, .tgz, .tar.bz2, .tar.xz, .zip, .whl or a folder)"
    )]
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
/// A folder is walked without following symlinks (each one becomes an
/// [`AnomalyKind::Link`] anomaly) and paths are relative to the folder
/// itself; fifos and devices are never opened. A file is read into memory
/// (refused beyond `max_archive_bytes`) and handed to [`read_bytes`] under
/// its file name.
///
/// # Errors
/// See [`ArchiveError`].
pub fn read_path(path: &Path, limits: &Limits) -> Result<FileTree, ArchiveError> {
    let io = |source| ArchiveError::Io {
        path: path.display().to_string(),
        source,
    };
    let meta = std::fs::metadata(path).map_err(io)?;
    let filename = path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    if meta.is_dir() {
        let mut c = Collector::new(&filename, limits);
        let size = folder::read_folder(path, &mut c)?;
        return Ok(FileTree {
            kind: ArtifactKind::Folder,
            filename,
            sha256: None,
            size,
            files: c.files,
            anomalies: c.anomalies,
        });
    }
    if !meta.is_file() {
        return Err(io(std::io::Error::other("not a regular file or a folder")));
    }
    if meta.len() > limits.max_archive_bytes {
        return Err(archive_size_error(&filename, meta.len(), limits));
    }
    let file = std::fs::File::open(path).map_err(io)?;
    // The file may grow between stat and read; read at most one byte past
    // the limit so growth is caught without unbounded memory.
    let cap = meta.len().min(limits.max_archive_bytes);
    let mut bytes = Vec::with_capacity(usize::try_from(cap).unwrap_or(0));
    file.take(limits.max_archive_bytes.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(io)?;
    read_bytes(&filename, &bytes, limits)
}

fn archive_size_error(filename: &str, len: u64, limits: &Limits) -> ArchiveError {
    ArchiveError::Limit {
        file: filename.to_owned(),
        what: "archive size",
        detail: format!("{len} bytes, limit {}", limits.max_archive_bytes),
    }
}

/// The container format, which decides the decoder.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Container {
    TarGz,
    TarBz2,
    TarXz,
    Tar,
    Zip,
}

fn container_by_extension(lower: &str) -> Option<Container> {
    if lower.ends_with(".tar.gz") || lower.ends_with(".tgz") {
        Some(Container::TarGz)
    } else if lower.ends_with(".tar.bz2") || lower.ends_with(".tbz2") || lower.ends_with(".tbz") {
        Some(Container::TarBz2)
    } else if lower.ends_with(".tar.xz") || lower.ends_with(".txz") {
        Some(Container::TarXz)
    } else if lower.ends_with(".tar") {
        Some(Container::Tar)
    } else if lower.ends_with(".zip") || lower.ends_with(".whl") {
        Some(Container::Zip)
    } else {
        None
    }
}

fn container_by_magic(bytes: &[u8]) -> Option<Container> {
    if bytes.starts_with(&[0x1f, 0x8b]) {
        Some(Container::TarGz)
    } else if bytes.starts_with(b"BZh") {
        Some(Container::TarBz2)
    } else if bytes.starts_with(&[0xfd, b'7', b'z', b'X', b'Z', 0x00]) {
        Some(Container::TarXz)
    } else if zip::has_magic(bytes) {
        Some(Container::Zip)
    } else if bytes.get(257..262) == Some(&b"ustar"[..]) {
        Some(Container::Tar)
    } else {
        None
    }
}

/// Read an artifact from bytes already in memory; `filename` decides the
/// format (by extension, then by magic bytes).
///
/// When the magic bytes clearly name a container (gzip, bzip2, xz, zip, ustar)
/// they win over the extension, since the bytes are what an installer
/// will decode; otherwise the extension decides. The [`ArtifactKind`] comes
/// from the name and content: `.whl` is a wheel, `.tgz` or a tar whose
/// files all sit under `package/` is an npm tarball, a tar or zip with
/// `PKG-INFO`, `setup.py` or `pyproject.toml` at its top (or under its one
/// top folder) is an sdist.
///
/// # Errors
/// See [`ArchiveError`].
pub fn read_bytes(filename: &str, bytes: &[u8], limits: &Limits) -> Result<FileTree, ArchiveError> {
    let len = bytes.len() as u64;
    if len > limits.max_archive_bytes {
        return Err(archive_size_error(filename, len, limits));
    }
    let lower = filename.to_ascii_lowercase();
    let by_ext = container_by_extension(&lower);
    let Some(container) = container_by_magic(bytes).or(by_ext) else {
        return Err(ArchiveError::UnknownFormat(filename.to_owned()));
    };
    if bytes.is_empty() {
        return Err(ArchiveError::Corrupt {
            file: filename.to_owned(),
            detail: "empty file".to_owned(),
        });
    }
    let budget = Budget::new(len, limits);
    let mut c = Collector::new(filename, limits);
    match container {
        Container::TarGz => tar::read_tar(gz::Members::new(bytes), &mut c, &budget)?,
        Container::TarBz2 => {
            tar::read_tar(bzip2::read::MultiBzDecoder::new(bytes), &mut c, &budget)?
        }
        Container::TarXz => {
            let inflated = xz::inflate(filename, bytes, limits)?;
            tar::read_tar(&inflated[..], &mut c, &budget)?;
        }
        Container::Tar => tar::read_tar(bytes, &mut c, &budget)?,
        Container::Zip => zip::read_zip(bytes, &mut c, &budget)?,
    }
    let kind = classify(&lower, container, &c.files);
    Ok(FileTree {
        kind,
        filename: filename.to_owned(),
        sha256: Some(Sha256::of(bytes)),
        size: len,
        files: c.files,
        anomalies: c.anomalies,
    })
}

/// True for `PKG-INFO`, `setup.py` or `pyproject.toml` at the top of the
/// archive or one folder down.
fn is_sdist_marker(path: &str) -> bool {
    let mut parts = path.split('/');
    let (Some(a), b, None) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    let leaf = b.unwrap_or(a);
    matches!(leaf, "PKG-INFO" | "setup.py" | "pyproject.toml")
}

fn classify(lower: &str, container: Container, files: &[FileEntry]) -> ArtifactKind {
    if lower.ends_with(".whl") {
        return ArtifactKind::Wheel;
    }
    let sdist = files.iter().any(|f| is_sdist_marker(&f.path));
    if container == Container::Zip {
        return if sdist {
            ArtifactKind::Sdist
        } else {
            ArtifactKind::Zip
        };
    }
    if lower.ends_with(".tgz") {
        return ArtifactKind::NpmTarball;
    }
    let under_package = !files.is_empty() && files.iter().all(|f| f.path.starts_with("package/"));
    let has_package_json = files.iter().any(|f| f.path == "package/package.json");
    if under_package && (has_package_json || !sdist) {
        ArtifactKind::NpmTarball
    } else if sdist {
        ArtifactKind::Sdist
    } else {
        ArtifactKind::Tar
    }
}
