//! I/O-free types shared by every sluice crate.
//!
//! This crate is the vocabulary of sluice: which registry a package lives in
//! ([`Ecosystem`]), its name normalised the way that registry compares names
//! ([`PackageName`]), its version ([`Version`]), the digest of an artifact
//! ([`Sha256`]), what the judge found ([`Finding`]) and what it concluded
//! ([`Verdict`]).
//!
//! It must not do I/O: no files, no network, no clocks. Everything here is
//! plain data with `serde` on it, so a verdict computed by `sluice scan` can
//! be stored by the gate and read back by `sluice audit` unchanged.
//!
//! ```
//! use sluice_model::{Ecosystem, PackageName};
//!
//! let name = PackageName::parse(Ecosystem::PyPI, "Mysl_Python").unwrap();
//! assert_eq!(name.as_str(), "mysl-python");
//! assert_eq!(name.raw(), "Mysl_Python");
//! ```
#![deny(missing_docs)]

mod digest;
mod ecosystem;
mod finding;
mod indicator;
mod learned;
mod name;
mod report;
mod verdict;
mod version;

pub use digest::{DigestError, Sha256};
pub use ecosystem::{Ecosystem, EcosystemError};
pub use finding::clip;
pub use finding::{Confidence, Finding, Location, RuleCode, Severity};
pub use indicator::{Indicator, IndicatorKind};
pub use learned::{CodeStats, Contribution, LangStats, ModelVerdict};
pub use name::{NameError, PackageName};
pub use report::{ArtifactInfo, Metadata, PackageSpec, REPORT_SCHEMA, Report, SpecError};
pub use verdict::{Verdict, VerdictLevel};
pub use version::Version;
