//! What the learned scorer adds to a report: simple code statistics (its
//! inputs that are not findings) and its own judgement, explained feature
//! by feature.

use serde::{Deserialize, Serialize};

use crate::{RuleCode, VerdictLevel};

/// Cheap statistics over the source files of an artifact, one set per
/// language, computed once by the analysis so that the learned scorer can
/// judge a report after the fact.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CodeStats {
    /// Python files (`.py`, `.pyw`, `.pth`, Python shebang).
    pub python: LangStats,
    /// JavaScript files (`.js`, `.cjs`, `.mjs`, node shebang).
    pub javascript: LangStats,
    /// Source files of either language that run unasked (setup.py,
    /// install scripts, `.pth`, the top-level `__init__.py`, npm `main`).
    #[serde(default)]
    pub unasked: LangStats,
}

/// Statistics over the source files of one language.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LangStats {
    /// Number of files.
    pub files: u64,
    /// Their total size in bytes.
    pub bytes: u64,
    /// Longest line of any file, in bytes.
    pub max_line: u64,
    /// The file holding that line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_line_file: Option<String>,
    /// Highest Shannon entropy (bits per byte) of a file of at least 256
    /// bytes.
    pub max_entropy: f64,
    /// The file with that entropy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_entropy_file: Option<String>,
    /// Share of bytes that are not ASCII (0–1).
    pub non_ascii: f64,
}

/// One feature's part in the learned scorer's judgement.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Contribution {
    /// Stable feature name (`rule:PY101@unasked`, `code:max_entropy`).
    pub feature: String,
    /// The feature's value in this report.
    pub value: f64,
    /// Its part of the model score, in points (10 points per unit of
    /// log-odds); negative points speak for the package.
    pub points: f64,
    /// The rule whose findings gave the feature its value, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule: Option<RuleCode>,
    /// The file that raised it (the strongest finding's, or the file a
    /// code statistic was taken from).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// The line in that file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
}

/// The learned scorer's judgement of one report.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModelVerdict {
    /// Identity of the model file (`sluice-scorer-v1 sha256:…`, first 12
    /// hex digits).
    pub model: String,
    /// Probability that the package is malicious, 0–1.
    pub probability: f64,
    /// The model score in points: the bias plus every contribution
    /// (10 × the log-odds).
    pub points: f64,
    /// The bias in points (what a package with no feature scores).
    pub bias_points: f64,
    /// Probability from which the model says suspicious.
    pub suspicious_at: f64,
    /// Probability from which the model says malicious.
    pub malicious_at: f64,
    /// The model's own level.
    pub level: VerdictLevel,
    /// The level the hand-written rule score gave.
    pub rule_level: VerdictLevel,
    /// The hand-written rule score (0–100).
    pub rule_score: u32,
    /// Every non-zero contribution, largest first.
    pub contributions: Vec<Contribution>,
}
