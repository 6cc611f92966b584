//! Find and read a project's dependency files — lockfiles, manifests,
//! SBOMs and installed environments — into one flat list of
//! [`Dependency`] entries, each pointing at the line of its entry.
//!
//! This crate only reads. It must not judge (that is `sluice audit` and its
//! matchers), run package managers or touch the network. Every file is
//! attacker-controlled input: sizes, nesting and strings are bounded, YAML
//! anchors are refused, duplicate keys are errors, and a bad file is an
//! [`Error`] naming the file and line while the other files are still read.
//!
//! ```no_run
//! let inv = sluice_lockfile::read_paths(&["./my-project".into()]);
//! for d in &inv.dependencies {
//!     println!("{}:{} {} {:?}", d.file.display(), d.line, d.name, d.version);
//! }
//! for e in &inv.errors {
//!     eprintln!("{e}");
//! }
//! ```

mod discover;
mod env;
mod json;
mod npm;
mod python;
mod sbom;
mod toml_tree;
mod tree;
mod yaml;

use std::collections::HashSet;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::Serialize;
use sluice_model::{Ecosystem, PackageName};

pub use discover::{Found, discover};

/// Files larger than this are refused (the largest real lockfiles are a
/// few tens of MiB).
pub const MAX_FILE_BYTES: u64 = 64 << 20;
/// Deepest nesting accepted in JSON, YAML and TOML documents.
pub const MAX_DEPTH: usize = 128;
/// Longest string kept from a file for a version or hash; longer ones are
/// reported and the entry skipped.
pub const MAX_STRING: usize = 4096;

/// A dependency as one file declares or pins it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Dependency {
    /// The registry the name belongs to.
    pub ecosystem: Ecosystem,
    /// The name, raw spelling and normalised form.
    pub name: PackageName,
    /// The exact version, when the file pins one (`==`/`===` in a
    /// requirements file, any resolved lockfile entry). `None` for a
    /// declared but unresolved dependency.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Hashes as the file writes them (`sha256:<hex>`, npm SRI
    /// `sha512-<base64>`, yarn berry `10c0/<hex>`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub hashes: Vec<String>,
    /// The file the entry is in.
    pub file: PathBuf,
    /// 1-based line of the entry.
    pub line: u32,
    /// A direct dependency of the project (as opposed to transitive), when
    /// the file says.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub direct: Option<bool>,
    /// A development-only dependency, when the file says.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dev: Option<bool>,
    /// Where the package comes from.
    pub source: SourceKind,
    /// The URL the file resolves the package from (tarball, index file,
    /// git remote), when it names one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// For a package found installed in an environment: its files.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub installed: Option<Installed>,
}

impl Dependency {
    /// A registry dependency with everything else unknown.
    #[must_use]
    pub fn new(name: PackageName, version: Option<String>, file: &Path, line: u32) -> Self {
        Self {
            ecosystem: name.ecosystem(),
            name,
            version,
            hashes: Vec::new(),
            file: file.to_path_buf(),
            line,
            direct: None,
            dev: None,
            source: SourceKind::Registry,
            url: None,
            installed: None,
        }
    }
}

/// Where a dependency comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SourceKind {
    /// A package registry (PyPI or npm, or a mirror of one).
    Registry,
    /// A direct URL to an archive.
    Url,
    /// A git (or other VCS) checkout.
    Git,
    /// A local path or workspace member.
    Path,
}

/// The files of a distribution installed in an environment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Installed {
    /// The package folder (`node_modules/x`) or the site-packages folder.
    pub root: PathBuf,
    /// The files that belong to it, relative to `root` (from `RECORD` for a
    /// Python distribution; empty = every file under `root`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub files: Vec<InstalledFile>,
}

/// One file of an installed distribution.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct InstalledFile {
    /// Path relative to [`Installed::root`], as the record lists it (it
    /// may climb out with `..` for scripts; readers must check).
    pub path: String,
    /// The recorded hash, `sha256=<urlsafe base64>` (PEP 376/627), when the
    /// record has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hash: Option<String>,
}

/// The kinds of file this crate reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum FileKind {
    /// `requirements*.txt` and constraints files.
    Requirements,
    /// `pyproject.toml` (PEP 621 and Poetry declarations).
    Pyproject,
    /// `poetry.lock`.
    PoetryLock,
    /// `uv.lock`.
    UvLock,
    /// `Pipfile.lock`.
    PipfileLock,
    /// `pdm.lock`.
    PdmLock,
    /// `pylock.toml` (PEP 751).
    Pylock,
    /// `package-lock.json`.
    PackageLock,
    /// `npm-shrinkwrap.json`.
    NpmShrinkwrap,
    /// `yarn.lock` (classic v1 or berry).
    YarnLock,
    /// `pnpm-lock.yaml`.
    PnpmLock,
    /// `bun.lock`.
    BunLock,
    /// A CycloneDX JSON SBOM.
    CycloneDx,
    /// An SPDX JSON SBOM.
    Spdx,
    /// A Python `site-packages` folder.
    SitePackages,
    /// A `node_modules` tree.
    NodeModules,
}

impl FileKind {
    /// Short name used in reports.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            FileKind::Requirements => "requirements",
            FileKind::Pyproject => "pyproject",
            FileKind::PoetryLock => "poetry-lock",
            FileKind::UvLock => "uv-lock",
            FileKind::PipfileLock => "pipfile-lock",
            FileKind::PdmLock => "pdm-lock",
            FileKind::Pylock => "pylock",
            FileKind::PackageLock => "package-lock",
            FileKind::NpmShrinkwrap => "npm-shrinkwrap",
            FileKind::YarnLock => "yarn-lock",
            FileKind::PnpmLock => "pnpm-lock",
            FileKind::BunLock => "bun-lock",
            FileKind::CycloneDx => "cyclonedx",
            FileKind::Spdx => "spdx",
            FileKind::SitePackages => "site-packages",
            FileKind::NodeModules => "node-modules",
        }
    }
}

impl fmt::Display for FileKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A file (or environment) that could not be read, or an entry in it that
/// was skipped. Always names the file, and the line where one is known.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The file could not be opened or read.
    #[error("{}: cannot read: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is over [`MAX_FILE_BYTES`].
    #[error("{}: {size} bytes, over the {MAX_FILE_BYTES}-byte limit", path.display())]
    TooLarge {
        /// The file.
        path: PathBuf,
        /// Its size.
        size: u64,
    },
    /// The file is not UTF-8.
    #[error("{}:{line}: not UTF-8 text", path.display())]
    NotUtf8 {
        /// The file.
        path: PathBuf,
        /// The line of the first bad byte.
        line: u32,
    },
    /// The file is not valid JSON/YAML/TOML, or breaks a limit.
    #[error("{}:{line}: {message}", path.display())]
    Syntax {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: u32,
        /// What is wrong.
        message: String,
    },
    /// The file parses but does not have the expected shape, or one entry
    /// was skipped (bad name, over-long version).
    #[error("{}{}: {message}", path.display(), line.map(|l| format!(":{l}")).unwrap_or_default())]
    Invalid {
        /// The file.
        path: PathBuf,
        /// 1-based line, when known.
        line: Option<u32>,
        /// What is wrong.
        message: String,
    },
}

impl Error {
    /// The file concerned.
    #[must_use]
    pub fn path(&self) -> &Path {
        match self {
            Error::Io { path, .. }
            | Error::TooLarge { path, .. }
            | Error::NotUtf8 { path, .. }
            | Error::Syntax { path, .. }
            | Error::Invalid { path, .. } => path,
        }
    }

    /// The 1-based line, when known.
    #[must_use]
    pub fn line(&self) -> Option<u32> {
        match self {
            Error::NotUtf8 { line, .. } | Error::Syntax { line, .. } => Some(*line),
            Error::Invalid { line, .. } => *line,
            Error::Io { .. } | Error::TooLarge { .. } => None,
        }
    }
}

/// A syntax error inside one document, before the file is known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SyntaxError {
    pub line: u32,
    pub message: String,
}

impl SyntaxError {
    fn at(self, path: &Path) -> Error {
        Error::Syntax {
            path: path.to_path_buf(),
            line: self.line,
            message: self.message,
        }
    }
}

/// Something an environment contains that is a finding by itself, not a
/// dependency: today a `.pth` file with executable lines (run by Python at
/// every start-up, the way the 2024 `ultralytics` and 2025 `*-pth` attacks
/// persisted).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct EnvFinding {
    /// The file.
    pub file: PathBuf,
    /// 1-based line.
    pub line: u32,
    /// Stable kind (`pth-exec`).
    pub kind: &'static str,
    /// What was found.
    pub message: String,
    /// The line's text, clipped.
    pub excerpt: String,
}

/// One file that was read, and how many entries it gave.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SourceFile {
    /// The file or environment folder.
    pub path: PathBuf,
    /// What kind it is.
    pub kind: FileKind,
    /// Dependencies read from it.
    pub dependencies: usize,
}

/// Everything read from a set of paths.
#[derive(Debug, Default)]
pub struct Inventory {
    /// Files read, in order.
    pub files: Vec<SourceFile>,
    /// Every dependency entry, in file order.
    pub dependencies: Vec<Dependency>,
    /// Findings about the environments themselves.
    pub findings: Vec<EnvFinding>,
    /// Files that could not be read.
    pub errors: Vec<Error>,
    /// Entries skipped inside files that were read.
    pub warnings: Vec<Error>,
}

/// What one reader produced.
#[derive(Debug, Default)]
pub(crate) struct Parsed {
    pub deps: Vec<Dependency>,
    pub warnings: Vec<Error>,
    pub findings: Vec<EnvFinding>,
    /// Further files to read (requirements `-r`/`-c` includes).
    pub includes: Vec<PathBuf>,
}

impl Parsed {
    /// Add a dependency named `raw` in `eco`, or a warning when the name
    /// or version is not acceptable. Returns the new entry for the caller
    /// to fill in.
    pub(crate) fn add(
        &mut self,
        path: &Path,
        eco: Ecosystem,
        raw: &str,
        version: Option<&str>,
        line: u32,
    ) -> Option<&mut Dependency> {
        let name = match PackageName::parse(eco, raw) {
            Ok(n) => n,
            Err(e) => {
                self.warn(path, line, format!("entry skipped: {e}"));
                return None;
            }
        };
        if let Some(v) = version
            && (v.len() > MAX_STRING || v.contains(['\n', '\0']))
        {
            self.warn(
                path,
                line,
                format!("entry `{name}` skipped: version is not a plain string"),
            );
            return None;
        }
        let version = version.filter(|v| !v.is_empty()).map(str::to_owned);
        self.deps.push(Dependency::new(name, version, path, line));
        self.deps.last_mut()
    }

    pub(crate) fn warn(&mut self, path: &Path, line: u32, message: String) {
        self.warnings.push(Error::Invalid {
            path: path.to_path_buf(),
            line: Some(line),
            message,
        });
    }
}

/// Clip a string from a file for an error message.
pub(crate) fn clip(s: &str) -> String {
    sluice_model::clip(s)
}

/// Read a file as UTF-8 text within [`MAX_FILE_BYTES`]. Only regular files
/// are read (a fifo or device named `yarn.lock` would block or never end),
/// and the read itself is bounded in case the file grows meanwhile.
pub(crate) fn read_text(path: &Path) -> Result<String, Error> {
    read_text_within(path, MAX_FILE_BYTES)
}

/// [`read_text`] with another size limit.
pub(crate) fn read_text_within(path: &Path, limit: u64) -> Result<String, Error> {
    use std::io::Read as _;
    let io = |source| Error::Io {
        path: path.to_path_buf(),
        source,
    };
    let meta = std::fs::metadata(path).map_err(io)?;
    if !meta.is_file() {
        return Err(Error::Invalid {
            path: path.to_path_buf(),
            line: None,
            message: "not a regular file".into(),
        });
    }
    let too_large = |size| Error::TooLarge {
        path: path.to_path_buf(),
        size,
    };
    if meta.len() > limit {
        return Err(too_large(meta.len()));
    }
    let file = std::fs::File::open(path).map_err(io)?;
    let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
    file.take(limit + 1).read_to_end(&mut bytes).map_err(io)?;
    if bytes.len() as u64 > limit {
        return Err(too_large(bytes.len() as u64));
    }
    String::from_utf8(bytes).map_err(|e| {
        let upto = e.utf8_error().valid_up_to();
        let line = e.as_bytes()[..upto].iter().filter(|&&b| b == b'\n').count() + 1;
        Error::NotUtf8 {
            path: path.to_path_buf(),
            line: u32::try_from(line).unwrap_or(u32::MAX),
        }
    })
}

/// Read one file (or environment folder) of a known kind.
///
/// # Errors
/// When the file cannot be read or parsed; see [`Error`].
pub fn read_file(path: &Path, kind: FileKind) -> Result<(Vec<Dependency>, Vec<Error>), Error> {
    let p = parse_kind(path, kind)?;
    Ok((p.deps, p.warnings))
}

fn parse_kind(path: &Path, kind: FileKind) -> Result<Parsed, Error> {
    match kind {
        FileKind::SitePackages => return Ok(env::site_packages(path)),
        FileKind::NodeModules => return Ok(env::node_modules(path)),
        _ => {}
    }
    let text = read_text(path)?;
    parse_text(path, kind, &text)
}

/// Parse `text` as the contents of a file at `path` of kind `kind`,
/// without touching the file system (for callers that already hold the
/// bytes, such as a gate receiving a lockfile, and for fuzzing).
/// Environments (`SitePackages`, `NodeModules`) are folders and give
/// nothing here; `-r` includes are not followed.
///
/// # Errors
/// When the text cannot be parsed; see [`Error`].
pub fn parse_str(
    path: &Path,
    kind: FileKind,
    text: &str,
) -> Result<(Vec<Dependency>, Vec<Error>), Error> {
    let p = parse_text(path, kind, text)?;
    Ok((p.deps, p.warnings))
}

/// Parse `text` as the contents of `path` of kind `kind`.
pub(crate) fn parse_text(path: &Path, kind: FileKind, text: &str) -> Result<Parsed, Error> {
    match kind {
        FileKind::Requirements => Ok(python::requirements::parse(path, text)),
        FileKind::Pyproject => python::pyproject::parse(path, text),
        FileKind::PoetryLock => python::locks::poetry(path, text),
        FileKind::UvLock => python::locks::uv(path, text),
        FileKind::PdmLock => python::locks::pdm(path, text),
        FileKind::Pylock => python::locks::pylock(path, text),
        FileKind::PipfileLock => python::locks::pipfile(path, text),
        FileKind::PackageLock | FileKind::NpmShrinkwrap => npm::package_lock::parse(path, text),
        FileKind::YarnLock => npm::yarn::parse(path, text),
        FileKind::PnpmLock => npm::pnpm::parse(path, text),
        FileKind::BunLock => npm::bun::parse(path, text),
        FileKind::CycloneDx => sbom::cyclonedx(path, text),
        FileKind::Spdx => sbom::spdx(path, text),
        FileKind::SitePackages | FileKind::NodeModules => Ok(Parsed::default()),
    }
}

/// Find every dependency file under `paths` and read them all. Files that
/// fail are in [`Inventory::errors`]; the rest are still read. A file
/// reached twice (given twice, or included by a requirements file and
/// found by the walk) is read once.
#[must_use]
pub fn read_paths(paths: &[PathBuf]) -> Inventory {
    let mut inv = Inventory::default();
    let (found, errors) = discover(paths);
    inv.errors.extend(errors);
    let mut seen: HashSet<PathBuf> = HashSet::new();
    let mut queue: std::collections::VecDeque<Found> = found.into();
    while let Some(f) = queue.pop_front() {
        let key = std::fs::canonicalize(&f.path).unwrap_or_else(|_| f.path.clone());
        if !seen.insert(key) {
            continue;
        }
        match parse_kind(&f.path, f.kind) {
            Ok(mut p) => {
                // File order (TOML tables come back sorted by key).
                p.deps
                    .sort_by(|a, b| a.file.cmp(&b.file).then(a.line.cmp(&b.line)));
                inv.files.push(SourceFile {
                    path: f.path.clone(),
                    kind: f.kind,
                    dependencies: p.deps.len(),
                });
                inv.dependencies.extend(p.deps);
                inv.warnings.extend(p.warnings);
                inv.findings.extend(p.findings);
                for inc in p.includes {
                    queue.push_back(Found {
                        path: inc,
                        kind: FileKind::Requirements,
                    });
                }
            }
            Err(e) => inv.errors.push(e),
        }
    }
    inv
}

/// Split an npm `name@version` key (`@scope/name@1.0.0`) at the `@` that
/// starts the version.
pub(crate) fn split_at_version(s: &str) -> Option<(&str, &str)> {
    let from = usize::from(s.starts_with('@'));
    let at = s[from..].find('@')? + from;
    Some((&s[..at], &s[at + 1..]))
}

/// The source kind of an npm resolved URL or version specifier.
pub(crate) fn npm_source(resolved: &str) -> SourceKind {
    if resolved.starts_with("git")
        || resolved.starts_with("github:")
        || resolved.contains("codeload.")
        || resolved.starts_with("git+")
    {
        SourceKind::Git
    } else if resolved.starts_with("file:")
        || resolved.starts_with("link:")
        || resolved.starts_with("workspace:")
        || resolved.starts_with("portal:")
    {
        SourceKind::Path
    } else {
        SourceKind::Registry
    }
}
