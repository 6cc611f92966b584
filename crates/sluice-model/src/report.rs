use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::{
    CodeStats, Ecosystem, Finding, Indicator, ModelVerdict, NameError, PackageName, Sha256,
    Verdict, Version,
};

/// The schema version of [`Report`]'s JSON form. Bumped on any breaking
/// change; documented in `docs/report-json.md`.
pub const REPORT_SCHEMA: u32 = 1;

/// What was scanned: the artifact's identity and shape.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ArtifactInfo {
    /// File name of the artifact (or folder name).
    pub filename: String,
    /// `sdist`, `wheel`, `npm-tarball`, `zip`, `folder`.
    pub kind: String,
    /// sha256 of the artifact bytes (none for folders).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<Sha256>,
    /// Size of the artifact in bytes.
    pub size: u64,
    /// Number of regular files read.
    pub files: u64,
    /// Total unpacked bytes of those files.
    pub unpacked_bytes: u64,
}

/// Package metadata as declared by the package, read statically.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Metadata {
    /// Declared name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Declared version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// One-line summary / description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    /// Author name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    /// Author e-mail.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author_email: Option<String>,
    /// Home page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub homepage: Option<String>,
    /// Source repository URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repository: Option<String>,
    /// Licence string.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub license: Option<String>,
    /// Runtime dependencies as declared (requirement strings or `name@range`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dependencies: Vec<String>,
    /// Install-time hooks: npm lifecycle scripts by name, `cmdclass` entries.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub install_hooks: BTreeMap<String, String>,
    /// Entry points / `bin` commands: `group:name` → target.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub entry_points: BTreeMap<String, String>,
}

/// Everything the judge says about one artifact. Its JSON form is the
/// stable interface documented in `docs/report-json.md`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// [`REPORT_SCHEMA`].
    pub schema: u32,
    /// What the user asked to scan (path or `pypi:name==version`).
    pub target: String,
    /// Ecosystem, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ecosystem: Option<Ecosystem>,
    /// Package name, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub package: Option<PackageName>,
    /// Package version, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<Version>,
    /// The artifact's identity.
    pub artifact: ArtifactInfo,
    /// Declared metadata.
    pub metadata: Metadata,
    /// The verdict.
    pub verdict: Verdict,
    /// Every finding, most severe first.
    pub findings: Vec<Finding>,
    /// Every indicator extracted.
    pub indicators: Vec<Indicator>,
    /// Problems that limited the analysis (a file too big to parse, …).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// Test, doc and example files searched for indicators but not parsed,
    /// because the rest of the package scored too low for them to change
    /// the verdict (their findings add at most 20 points together).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unparsed_auxiliary: Vec<String>,
    /// Simple statistics of the source files (inputs of the learned
    /// scorer).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stats: Option<CodeStats>,
    /// The learned scorer's judgement, when it was used (`--scorer model`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<ModelVerdict>,
}

/// A package named on the command line: `pypi:NAME[==VERSION]` or
/// `npm:NAME[@VERSION]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PackageSpec {
    /// The package.
    pub name: PackageName,
    /// The version, if one was given.
    pub version: Option<Version>,
}

/// A malformed package spec.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SpecError {
    /// No `pypi:` or `npm:` prefix.
    #[error("`{0}` is not a package spec (expected pypi:NAME[==VERSION] or npm:NAME[@VERSION])")]
    NoPrefix(String),
    /// The name part is invalid.
    #[error("invalid package name in `{spec}`: {source}")]
    Name {
        /// The spec as given.
        spec: String,
        /// Why the name is invalid.
        source: NameError,
    },
    /// An empty version after `==` or `@`.
    #[error("empty version in `{0}`")]
    EmptyVersion(String),
}

impl FromStr for PackageSpec {
    type Err = SpecError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (eco, rest) = if let Some(r) = s.strip_prefix("pypi:") {
            (Ecosystem::PyPI, r)
        } else if let Some(r) = s.strip_prefix("npm:") {
            (Ecosystem::Npm, r)
        } else {
            return Err(SpecError::NoPrefix(s.to_owned()));
        };
        let (name, version) = match eco {
            Ecosystem::PyPI => match rest.split_once("==") {
                Some((n, v)) => (n, Some(v)),
                None => (rest, None),
            },
            Ecosystem::Npm => {
                // `@scope/name@1.0.0`: the version separator is the last `@`
                // that is not the first character.
                match rest.rfind('@').filter(|&i| i > 0) {
                    Some(i) => (&rest[..i], Some(&rest[i + 1..])),
                    None => (rest, None),
                }
            }
        };
        if version.is_some_and(|v| v.trim().is_empty()) {
            return Err(SpecError::EmptyVersion(s.to_owned()));
        }
        let name = PackageName::parse(eco, name.trim()).map_err(|source| SpecError::Name {
            spec: s.to_owned(),
            source,
        })?;
        Ok(Self {
            name,
            version: version.map(Version::new),
        })
    }
}

impl fmt::Display for PackageSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let eco = self.name.ecosystem();
        write!(f, "{}:{}", eco.prefix(), self.name)?;
        if let Some(v) = &self.version {
            match eco {
                Ecosystem::PyPI => write!(f, "=={v}")?,
                Ecosystem::Npm => write!(f, "@{v}")?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs() {
        let s: PackageSpec = "pypi:Mysl_Python==1.0.0".parse().unwrap();
        assert_eq!(s.name.as_str(), "mysl-python");
        assert_eq!(s.version.unwrap().as_str(), "1.0.0");
        let s: PackageSpec = "npm:@scope/pkg@2.1.0".parse().unwrap();
        assert_eq!(s.name.as_str(), "@scope/pkg");
        assert_eq!(s.version.unwrap().as_str(), "2.1.0");
        let s: PackageSpec = "npm:@scope/pkg".parse().unwrap();
        assert!(s.version.is_none());
        assert!("left-pad".parse::<PackageSpec>().is_err());
        assert!("pypi:x==".parse::<PackageSpec>().is_err());
        assert!("npm:../x".parse::<PackageSpec>().is_err());
    }
}
