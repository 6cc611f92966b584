use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::Finding;

/// The judge's conclusion, ordered from harmless to harmful.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum VerdictLevel {
    /// Nothing that changes the decision was found.
    Clean,
    /// Worth a human look; the gate may hold it for review.
    Suspicious,
    /// Attack behaviour; the gate blocks it.
    Malicious,
}

impl VerdictLevel {
    /// The lower-case name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            VerdictLevel::Clean => "clean",
            VerdictLevel::Suspicious => "suspicious",
            VerdictLevel::Malicious => "malicious",
        }
    }
}

impl fmt::Display for VerdictLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for VerdictLevel {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "clean" => Ok(Self::Clean),
            "suspicious" => Ok(Self::Suspicious),
            "malicious" => Ok(Self::Malicious),
            _ => Err(format!(
                "unknown verdict `{s}` (expected clean, suspicious or malicious)"
            )),
        }
    }
}

/// A verdict with the findings that drove it, explained in words.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    /// Clean, suspicious or malicious.
    pub level: VerdictLevel,
    /// 0–100: how strongly the evidence points at malice.
    pub score: u32,
    /// Each sentence explains one step of the decision.
    pub reasons: Vec<String>,
    /// The findings that decided the level (copies, so a stored verdict
    /// stands on its own).
    #[serde(default)]
    pub drivers: Vec<Finding>,
}

impl Verdict {
    /// A clean verdict with no findings.
    #[must_use]
    pub fn clean() -> Self {
        Self {
            level: VerdictLevel::Clean,
            score: 0,
            reasons: vec!["no finding raised the score".to_owned()],
            drivers: Vec::new(),
        }
    }
}
