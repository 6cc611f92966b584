//! The model file and prediction.
//!
//! A model is logistic regression over named features:
//! `log-odds = bias + Σ weight(name) × value`. Points are log-odds × 10
//! ([`POINTS_PER_LOGIT`]): each feature's contribution is
//! `10 × weight × value` points and the contributions plus the bias sum
//! to the model score; the probability is `1 / (1 + e^(−points/10))`.
//!
//! The embedded model (`model/scorer.json`, included in the binary) is
//! parsed on first use only.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};
use sluice_model::Contribution;

use super::Feature;

/// Points per unit of log-odds.
pub const POINTS_PER_LOGIT: f64 = 10.0;

/// The format tag of a model file.
pub const FORMAT: &str = "sluice-scorer-v1";

/// The embedded model file's text.
pub const EMBEDDED: &str = include_str!("../../model/scorer.json");

/// A logistic-regression scorer, as stored in `model/scorer.json`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ScorerModel {
    /// [`FORMAT`].
    pub format: String,
    /// Bias (log-odds of a package with no feature).
    pub bias: f64,
    /// Probability from which the model says suspicious.
    pub suspicious_at: f64,
    /// Probability from which the model says malicious.
    pub malicious_at: f64,
    /// Weight per feature name; features not listed weigh nothing.
    pub weights: BTreeMap<String, f64>,
    /// How it was trained (hyper-parameters, threshold policy).
    #[serde(default)]
    pub training: serde_json::Value,
    /// What it was trained on (counts, split rule, digests of the inputs).
    #[serde(default)]
    pub trained_on: serde_json::Value,
    /// Figures measured by the training command.
    #[serde(default)]
    pub figures: serde_json::Value,
    /// Identity (format and digest of the file), set when parsed.
    #[serde(skip)]
    pub(crate) id: String,
}

/// The model's judgement of one feature vector.
#[derive(Clone, Debug, PartialEq)]
pub struct Prediction {
    /// Log-odds.
    pub logit: f64,
    /// Probability of malice.
    pub probability: f64,
    /// [`POINTS_PER_LOGIT`] × log-odds.
    pub points: f64,
    /// The bias in points.
    pub bias_points: f64,
    /// Non-zero contributions, largest absolute points first (ties by
    /// name).
    pub contributions: Vec<Contribution>,
}

/// The logistic function.
#[must_use]
pub fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

impl ScorerModel {
    /// Parse a model file.
    ///
    /// # Errors
    /// Malformed JSON, another format, or thresholds outside 0–1.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut m: Self = serde_json::from_str(text).map_err(|e| e.to_string())?;
        if m.format != FORMAT {
            return Err(format!("model format `{}`, expected `{FORMAT}`", m.format));
        }
        for t in [m.suspicious_at, m.malicious_at] {
            if !(0.0..=1.0).contains(&t) {
                return Err(format!("threshold {t} outside 0–1"));
            }
        }
        m.id = format!(
            "{FORMAT} sha256:{}",
            &sluice_model::Sha256::of(text.as_bytes()).to_hex()[..12]
        );
        Ok(m)
    }

    /// Identity of the parsed file (`sluice-scorer-v1 sha256:…`).
    #[must_use]
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Log-odds only (for training and evaluation).
    #[must_use]
    pub fn logit(&self, feats: &[Feature]) -> f64 {
        linear(self.bias, &self.weights, feats)
    }

    /// Probability, points and the contribution of every feature.
    #[must_use]
    pub fn predict(&self, feats: &[Feature]) -> Prediction {
        let mut contributions: Vec<Contribution> = feats
            .iter()
            .filter_map(|f| {
                let w = *self.weights.get(&f.name)?;
                let points = POINTS_PER_LOGIT * w * f.value;
                (points != 0.0).then(|| Contribution {
                    feature: f.name.clone(),
                    value: f.value,
                    points,
                    rule: f.rule.clone(),
                    file: f.file.clone(),
                    line: f.line,
                })
            })
            .collect();
        contributions.sort_by(|a, b| {
            b.points
                .abs()
                .total_cmp(&a.points.abs())
                .then_with(|| a.feature.cmp(&b.feature))
        });
        let logit = self.logit(feats);
        Prediction {
            logit,
            probability: sigmoid(logit),
            points: POINTS_PER_LOGIT * logit,
            bias_points: POINTS_PER_LOGIT * self.bias,
            contributions,
        }
    }
}

/// The model embedded in this build, parsed on first use.
///
/// # Panics
/// When the embedded file does not parse (a test checks that it does).
#[must_use]
pub fn embedded() -> &'static ScorerModel {
    static MODEL: OnceLock<ScorerModel> = OnceLock::new();
    MODEL.get_or_init(|| ScorerModel::parse(EMBEDDED).expect("embedded model/scorer.json parses"))
}

/// `bias + Σ weight × value` over the features the weights know (an
/// unknown feature weighs nothing).
#[must_use]
pub fn linear(bias: f64, weights: &BTreeMap<String, f64>, feats: &[Feature]) -> f64 {
    bias + feats
        .iter()
        .filter_map(|f| weights.get(&f.name).map(|w| w * f.value))
        .sum::<f64>()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toy() -> ScorerModel {
        let text = r#"{"format":"sluice-scorer-v1","bias":-2.0,"suspicious_at":0.5,
            "malicious_at":0.9,"weights":{"a":1.5,"b":-0.5,"c":3.0}}"#;
        ScorerModel::parse(text).unwrap()
    }

    #[test]
    fn contributions_sum_to_the_score() {
        let m = toy();
        let fs = [
            Feature::plain("a", 2.0),
            Feature::plain("b", 1.0),
            Feature::plain("unknown", 5.0),
        ];
        let p = m.predict(&fs);
        // -2 + 3 - 0.5 = 0.5
        assert!((p.logit - 0.5).abs() < 1e-12);
        assert!((p.points - 5.0).abs() < 1e-12);
        let sum: f64 = p.contributions.iter().map(|c| c.points).sum::<f64>() + p.bias_points;
        assert!((sum - p.points).abs() < 1e-12);
        assert!((p.probability - sigmoid(0.5)).abs() < 1e-12);
        // Unknown features weigh nothing and are not listed; largest first.
        let names: Vec<&str> = p.contributions.iter().map(|c| c.feature.as_str()).collect();
        assert_eq!(names, ["a", "b"]);
        assert!((p.contributions[0].points - 30.0).abs() < 1e-12);
    }

    #[test]
    fn bad_models_are_refused() {
        assert!(ScorerModel::parse("{}").is_err());
        let t =
            r#"{"format":"other","bias":0,"suspicious_at":0.5,"malicious_at":0.9,"weights":{}}"#;
        assert!(ScorerModel::parse(t).is_err());
        let t = r#"{"format":"sluice-scorer-v1","bias":0,"suspicious_at":1.5,"malicious_at":0.9,"weights":{}}"#;
        assert!(ScorerModel::parse(t).is_err());
    }

    #[test]
    fn embedded_model_parses_and_its_features_are_known() {
        let m = embedded();
        assert!(m.id().starts_with(FORMAT));
        assert!(m.suspicious_at <= m.malicious_at);
        assert!(!m.weights.is_empty());
        for name in m.weights.keys() {
            assert!(
                super::super::features::is_known_name(name),
                "the model weighs a feature that is never extracted: {name}"
            );
        }
    }
}
