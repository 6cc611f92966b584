use std::borrow::Cow;
use std::fmt;

use serde::{Deserialize, Serialize};

/// A stable rule code such as `PY101` or `ARC603`.
///
/// Codes are never reused. Prefixes: `PY1xx` Python source, `JS2xx`
/// JavaScript, `PKG3xx` manifests and install scripts, `NAME4xx` names,
/// `INTEL5xx` indicators, `ARC6xx` archives, `DYN7xx` sandbox behaviour.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RuleCode(Cow<'static, str>);

impl RuleCode {
    /// A code known at compile time.
    #[must_use]
    pub const fn new(code: &'static str) -> Self {
        Self(Cow::Borrowed(code))
    }

    /// The code as a string.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RuleCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// How bad the behaviour is if the finding is true.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Context only; never decides a verdict on its own.
    Info,
    /// Weak signal; common in benign code.
    Low,
    /// Unusual in benign code; needs a second signal.
    Medium,
    /// Malicious in most packages where it appears.
    High,
    /// Unambiguous attack behaviour.
    Critical,
}

/// How sure the rule is that it matched what it looks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Confidence {
    /// A pattern that often has innocent explanations.
    Low,
    /// A pattern that usually means what it seems.
    Medium,
    /// The data flow or literal leaves little doubt.
    High,
}

/// A place in a package: a file path inside the artifact and a 1-based
/// line and column.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Location {
    /// Path inside the artifact, `/`-separated, as listed in the archive.
    pub file: String,
    /// 1-based line, 0 when unknown.
    pub line: u32,
    /// 1-based column, 0 when unknown.
    pub column: u32,
}

/// One thing the judge saw, with its evidence.
///
/// A finding is not an error: a malicious `setup.py` is a successful
/// analysis that produces findings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// Stable rule code (`PY101`).
    pub rule: RuleCode,
    /// Short kebab-case rule name (`recon-exfiltration`).
    pub name: String,
    /// How bad it is.
    pub severity: Severity,
    /// How sure the rule is.
    pub confidence: Confidence,
    /// One sentence saying what was found.
    pub message: String,
    /// File inside the artifact, if the finding has a place.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// 1-based line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    /// 1-based column.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub column: Option<u32>,
    /// The source text that matched, trimmed to a readable length.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub excerpt: Option<String>,
    /// Further facts behind the finding (`"sends: hostname, username"`,
    /// `"to: 175.24.100.2:8000"`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub evidence: Vec<String>,
    /// Runs at install time (setup.py, cmdclass, npm lifecycle script, `.pth`)
    /// or on import of the package's top-level module.
    #[serde(default)]
    pub install_time: bool,
    /// A preview rule: reported, but never counted in the verdict.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub preview: bool,
}

/// The longest excerpt kept in a finding, in characters.
pub const MAX_EXCERPT: usize = 200;

impl Finding {
    /// A finding with no location yet.
    #[must_use]
    pub fn new(
        rule: RuleCode,
        name: &str,
        severity: Severity,
        confidence: Confidence,
        message: impl Into<String>,
    ) -> Self {
        Self {
            rule,
            name: name.to_owned(),
            severity,
            confidence,
            message: message.into(),
            file: None,
            line: None,
            column: None,
            excerpt: None,
            evidence: Vec::new(),
            install_time: false,
            preview: false,
        }
    }

    /// Set the place (file, 1-based line and column).
    #[must_use]
    pub fn at(mut self, file: &str, line: u32, column: u32) -> Self {
        self.file = Some(file.to_owned());
        self.line = (line > 0).then_some(line);
        self.column = (column > 0).then_some(column);
        self
    }

    /// Set the excerpt, collapsed to one line and cut at [`MAX_EXCERPT`]
    /// characters.
    #[must_use]
    pub fn excerpt(mut self, text: &str) -> Self {
        self.excerpt = Some(clip(text));
        self
    }

    /// Add one evidence line.
    #[must_use]
    pub fn evidence(mut self, line: impl Into<String>) -> Self {
        self.evidence.push(line.into());
        self
    }

    /// Mark as install-time.
    #[must_use]
    pub fn install_time(mut self, yes: bool) -> Self {
        self.install_time = yes;
        self
    }

    /// The location, if the finding has a file.
    #[must_use]
    pub fn location(&self) -> Option<Location> {
        self.file.as_ref().map(|f| Location {
            file: f.clone(),
            line: self.line.unwrap_or(0),
            column: self.column.unwrap_or(0),
        })
    }
}

/// Collapse whitespace runs and cut to [`MAX_EXCERPT`] characters.
#[must_use]
pub fn clip(text: &str) -> String {
    let mut out = String::with_capacity(text.len().min(MAX_EXCERPT + 4));
    let mut n = 0;
    let mut last_space = false;
    for c in text.chars() {
        let c = if c.is_whitespace() { ' ' } else { c };
        if c == ' ' && last_space {
            continue;
        }
        last_space = c == ' ';
        if n == MAX_EXCERPT {
            out.push('…');
            break;
        }
        // Control characters would garble a terminal; show them escaped.
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
        n += 1;
    }
    out.trim().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excerpt_is_clipped_and_flattened() {
        let f = Finding::new(
            RuleCode::new("PY101"),
            "x",
            Severity::High,
            Confidence::High,
            "m",
        )
        .excerpt(&format!("a\n\n   b\x1b{}", "c".repeat(500)));
        let e = f.excerpt.unwrap();
        assert!(e.starts_with("a b\\u{1b}ccc"));
        assert!(e.ends_with('…'));
        assert!(e.chars().count() <= MAX_EXCERPT + 8);
    }
}
