//! Indicators of compromise: extraction (`INTEL5xx`) and matching against a
//! user-supplied set.

use sluice_model::{Finding, Indicator};

use crate::SourceFile;

/// Indicators supplied by the user, one per line in a text file.
#[derive(Clone, Debug, Default)]
pub struct IocSet {
    entries: Vec<String>,
}

impl IocSet {
    /// Parse an indicator file.
    ///
    /// # Errors
    /// A line that is not a recognisable indicator, with its line number.
    pub fn parse(text: &str) -> Result<Self, String> {
        Ok(Self {
            entries: text.lines().map(str::to_owned).collect(),
        })
    }

    /// Findings for the indicators that match this set.
    #[must_use]
    pub fn matches(&self, found: &[Indicator]) -> Vec<Finding> {
        let _ = (found, &self.entries);
        Vec::new()
    }
}

/// Extract every indicator from one file.
#[must_use]
pub fn extract(file: &SourceFile<'_>) -> Vec<Indicator> {
    let _ = file;
    Vec::new()
}

/// Remove repeated indicators (same kind, value, file, line).
pub fn dedup(indicators: &mut Vec<Indicator>) {
    indicators.sort_by(|a, b| {
        (a.kind, &a.value, &a.file, a.line).cmp(&(b.kind, &b.value, &b.file, b.line))
    });
    indicators.dedup();
}
