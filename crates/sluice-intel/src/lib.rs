//! Malicious-package intel: OSV records in and out, and matching a
//! package version against them.
//!
//! - [`osv`]: the OSV fields sluice reads and their checks (an invalid
//!   record is an error naming its file; the others go on);
//! - [`import`]: a folder tree like the OSSF malicious-packages
//!   repository, a ZIP, or one JSON file, into the gate's store, batch by
//!   batch in transactions, idempotent and incremental (by `modified`);
//! - [`matcher`]: `(ecosystem, name, version)` → matching record ids, by
//!   exact version or range (PEP 440 for PyPI, npm semver for npm);
//! - [`export`]: the gate's own malicious verdicts as OSV records.
//!
//! The records live in the gate's SQLite store (`sluice-store`'s
//! `intel_*` tables); this crate does no network I/O (a URL is fetched by
//! the caller and passed to [`import::import_bytes`]).
//!
//! ```no_run
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use sluice_intel::{IntelIndex, import};
//! use sluice_model::{Ecosystem, PackageName};
//!
//! let store = sluice_store::Store::open(std::path::Path::new(".sluice"))?;
//! let report = import::import_path(&store, "osv/".as_ref(), Default::default())?;
//! println!("{} new, {} errors", report.new, report.errors.len());
//! let index = IntelIndex::load(&store)?;
//! let name = PackageName::parse(Ecosystem::PyPI, "Coloramah")?;
//! for m in index.matches(&name, "1.0.0") {
//!     println!("{}: {}", m.id, m.summary);
//! }
//! # Ok(()) }
//! ```
#![warn(missing_docs)]

pub mod export;
pub mod import;
pub mod matcher;
pub mod osv;
pub mod version;

pub use export::{ExportReport, export_verdicts, record_id};
pub use import::{ImportOptions, ImportReport, import_bytes, import_path};
pub use matcher::{IntelIndex, LiveIntel, Match, PackageIntel};
pub use osv::RecordError;

/// Errors of this crate. A bad record is not one: it is reported in
/// [`ImportReport::errors`] and the import goes on.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IntelError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] sluice_store::StoreError),
    /// A path could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The path.
        path: String,
        /// The failure.
        source: std::io::Error,
    },
    /// A ZIP could not be opened.
    #[error("{path}: not a readable ZIP: {reason}")]
    Archive {
        /// The archive.
        path: String,
        /// Why.
        reason: String,
    },
    /// A stored row does not decode (the database was edited by hand or
    /// written by an incompatible version).
    #[error("corrupt intel row: {0}")]
    Corrupt(String),
}
