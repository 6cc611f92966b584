use std::fmt;

use serde::{Deserialize, Serialize};

/// A package version as the registry wrote it.
///
/// Sluice mostly compares versions for equality (is `1.0.0` blocked?), so the
/// string is kept as written, trimmed. PEP 440 and npm semver ordering live
/// where ranges are evaluated (lockfile audit, gate policy).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Version(Box<str>);

impl Version {
    /// Wrap a version string (surrounding whitespace and a leading `v` are dropped).
    #[must_use]
    pub fn new(raw: &str) -> Self {
        let t = raw.trim();
        let t = t
            .strip_prefix('v')
            .filter(|r| r.starts_with(|c: char| c.is_ascii_digit()))
            .unwrap_or(t);
        Self(t.into())
    }

    /// The version string.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&str> for Version {
    fn from(s: &str) -> Self {
        Self::new(s)
    }
}
