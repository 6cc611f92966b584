//! The learned scorer: a small logistic-regression model over features that
//! sluice already extracts (findings by rule and role, indicators, manifest
//! and archive facts, simple code statistics), explained feature by feature.
//!
//! - [`features`] turns a [`Report`] into named features;
//! - [`model`] holds the model file format, the embedded model (parsed on
//!   first use) and prediction with per-feature contributions;
//! - [`train`] fits a model deterministically (Newton's method on an
//!   L2-regularised, class-balanced logistic loss) and picks its
//!   thresholds on out-of-fold predictions;
//! - [`apply`] judges a report with the model: the level is the stronger
//!   of the rule level and the model level.
//!
//! See `docs/scoring.md`, "The learned scorer".

pub mod features;
pub mod model;
pub mod stats;
pub mod train;

use sluice_model::{Report, VerdictLevel};

pub use features::{Feature, extract};
pub use model::{Prediction, ScorerModel, embedded};

/// Which scorer decides the verdict.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Scorer {
    /// The hand-written rule score only (`score::judge`).
    #[default]
    Rules,
    /// The rule score and the learned model; the stronger level wins.
    Model,
}

impl std::str::FromStr for Scorer {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "rules" => Ok(Self::Rules),
            "model" => Ok(Self::Model),
            _ => Err(format!("unknown scorer `{s}` (expected model or rules)")),
        }
    }
}

/// Which half of the malicious set a cluster belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Split {
    /// Used for training and tuning.
    Tune,
    /// Never trained on: figures are measured here.
    Holdout,
}

/// The fixed split of the malicious set by cluster: tuning when the first
/// byte of `sha256("sluice-split-v1:" + cluster)` is even, else held out
/// (the same rule as `bench/recall.py`).
#[must_use]
pub fn split_of(cluster: &str) -> Split {
    let mut buf = b"sluice-split-v1:".to_vec();
    buf.extend_from_slice(cluster.as_bytes());
    if sluice_model::Sha256::of(&buf).as_bytes()[0].is_multiple_of(2) {
        Split::Tune
    } else {
        Split::Holdout
    }
}

/// Model thresholds (probabilities) in force for one judgement.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Thresholds {
    /// Suspicious from this probability.
    pub suspicious_at: f64,
    /// Malicious from this probability.
    pub malicious_at: f64,
}

impl Thresholds {
    /// The embedded model's thresholds, the suspicious one moved to
    /// `suspicious_at` when given (the malicious one never below it).
    #[must_use]
    pub fn of_model(model: &ScorerModel, suspicious_at: Option<f64>) -> Self {
        let s = suspicious_at.unwrap_or(model.suspicious_at);
        Self {
            suspicious_at: s,
            malicious_at: model.malicious_at.max(s),
        }
    }
}

/// The most contributions listed in a verdict's reasons.
const REASON_CONTRIBUTIONS: usize = 6;

/// Judge `report` with `model` on top of the rule verdict already in it:
/// fill `report.model`, raise the level when the model's is stronger, and
/// explain each contribution next to the rule, file and line that raised
/// it.
pub fn apply_with(report: &mut Report, model: &ScorerModel, t: Thresholds) {
    let rule_level = report.verdict.level;
    let rule_score = report.verdict.score;
    let feats = extract(report);
    let pred = model.predict(&feats);
    let level = if pred.probability >= t.malicious_at {
        VerdictLevel::Malicious
    } else if pred.probability >= t.suspicious_at {
        VerdictLevel::Suspicious
    } else {
        VerdictLevel::Clean
    };
    let final_level = level.max(rule_level);
    let v = &mut report.verdict;
    // The last rule reason is the rule score line; the model's lines follow.
    for c in pred.contributions.iter().take(REASON_CONTRIBUTIONS) {
        let place = match (&c.file, c.line) {
            (Some(f), Some(l)) => format!(" at {f}:{l}"),
            (Some(f), None) => format!(" in {f}"),
            _ => String::new(),
        };
        v.reasons.push(format!(
            "model: {} = {:.2}{place} ({:+.0} points)",
            c.feature, c.value, c.points
        ));
    }
    v.reasons.push(format!(
        "model score {:.0} points (bias {:.0}), p = {:.3}: {level} (suspicious from p ≥ {:.2}, malicious from p ≥ {:.2}); verdict {final_level}, the stronger of rules ({rule_level}) and model",
        pred.points, pred.bias_points, pred.probability, t.suspicious_at, t.malicious_at
    ));
    if v.drivers.is_empty() && final_level > VerdictLevel::Clean {
        // The rules found it clean: the drivers are the findings behind the
        // model's largest positive contributions.
        for c in pred.contributions.iter().filter(|c| c.points > 0.0) {
            let Some(rule) = &c.rule else { continue };
            if let Some(f) = report
                .findings
                .iter()
                .find(|f| &f.rule == rule && f.file == c.file && f.line == c.line)
                && !v.drivers.contains(f)
            {
                v.drivers.push(f.clone());
            }
            if v.drivers.len() >= 5 {
                break;
            }
        }
    }
    v.level = final_level;
    // The score shows the model's probability in percent.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    {
        v.score = (pred.probability * 100.0).round().clamp(0.0, 100.0) as u32;
    }
    report.model = Some(sluice_model::ModelVerdict {
        model: model.id().to_owned(),
        probability: pred.probability,
        points: pred.points,
        bias_points: pred.bias_points,
        suspicious_at: t.suspicious_at,
        malicious_at: t.malicious_at,
        level,
        rule_level,
        rule_score,
        contributions: pred.contributions,
    });
}

/// [`apply_with`] the embedded model.
pub fn apply(report: &mut Report, suspicious_at: Option<f64>) {
    let m = embedded();
    apply_with(report, m, Thresholds::of_model(m, suspicious_at));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_is_the_documented_hash() {
        // Expected halves computed independently with Python's hashlib
        // (bench/recall.py's split_of).
        for (cluster, want) in [
            ("009bb5060d84", Split::Holdout),
            ("00acacc04890", Split::Holdout),
            ("00dac8acb7af", Split::Tune),
            ("014a9cbf222b", Split::Holdout),
            ("abc", Split::Tune),
        ] {
            assert_eq!(split_of(cluster), want, "{cluster}");
        }
    }

    #[test]
    fn scorer_names_parse() {
        assert_eq!("model".parse::<Scorer>().unwrap(), Scorer::Model);
        assert_eq!("rules".parse::<Scorer>().unwrap(), Scorer::Rules);
        assert!("tree".parse::<Scorer>().is_err());
    }
}
