use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A package registry whose naming and version rules sluice knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Ecosystem {
    /// The Python Package Index and anything speaking its simple API.
    #[serde(rename = "PyPI", alias = "pypi")]
    PyPI,
    /// The npm registry and anything speaking its packument API.
    #[serde(rename = "npm")]
    Npm,
}

impl Ecosystem {
    /// The short lower-case prefix used on the command line (`pypi:`, `npm:`).
    #[must_use]
    pub fn prefix(self) -> &'static str {
        match self {
            Ecosystem::PyPI => "pypi",
            Ecosystem::Npm => "npm",
        }
    }

    /// The name OSV uses for this ecosystem.
    #[must_use]
    pub fn osv_name(self) -> &'static str {
        match self {
            Ecosystem::PyPI => "PyPI",
            Ecosystem::Npm => "npm",
        }
    }
}

impl fmt::Display for Ecosystem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.prefix())
    }
}

/// An ecosystem string that is neither PyPI nor npm.
#[derive(Debug, thiserror::Error)]
#[error("unknown ecosystem `{0}` (expected `pypi` or `npm`)")]
pub struct EcosystemError(pub String);

impl FromStr for Ecosystem {
    type Err = EcosystemError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "pypi" | "python" | "pip" => Ok(Ecosystem::PyPI),
            "npm" | "node" | "js" | "javascript" => Ok(Ecosystem::Npm),
            _ => Err(EcosystemError(s.to_owned())),
        }
    }
}
