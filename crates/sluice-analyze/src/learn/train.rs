//! Deterministic training of the logistic-regression scorer.
//!
//! - Samples are weighted so that the benign and the malicious class weigh
//!   the same in total, and within the malicious class each cluster weighs
//!   the same (the caller gives each sample `1 / size of its cluster`).
//! - Only features present in at least `min_support` training samples get
//!   a weight.
//! - The loss (weighted log-loss + L2 on the weights, not the bias) is
//!   minimised by Newton's method with step halving: no randomness, no
//!   learning rate, the same model from the same samples.
//! - Thresholds are chosen on out-of-fold probabilities (folds fixed by a
//!   hash of each sample's group), which behave like unseen packages,
//!   rather than on the in-sample fit.

use std::collections::BTreeMap;

use super::Feature;
use super::model::{FORMAT, ScorerModel, sigmoid};

/// One training sample.
#[derive(Clone, Debug)]
pub struct Sample {
    /// Where it came from (a path), for reports.
    pub name: String,
    /// Its features.
    pub features: Vec<Feature>,
    /// The label.
    pub malicious: bool,
    /// Relative weight within its class (1 / cluster size for malware).
    pub weight: f64,
    /// Samples with the same group always share a fold (the cluster).
    pub group: String,
}

/// Hyper-parameters and the threshold policy.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Config {
    /// L2 penalty on the weights (the loss is a weighted mean per class).
    pub l2: f64,
    /// Newton iterations.
    pub iterations: usize,
    /// Least number of training samples a feature must appear in.
    pub min_support: usize,
    /// Folds for the out-of-fold probabilities.
    pub folds: u8,
    /// Largest share of benign training packages (out of fold) allowed at
    /// or above the suspicious threshold.
    pub max_benign_suspicious: f64,
    /// The suspicious threshold is never below this probability.
    pub min_suspicious_at: f64,
    /// The malicious threshold is never below this probability.
    pub min_malicious_at: f64,
    /// The malicious threshold sits at least this far (in probability)
    /// above the highest benign out-of-fold probability.
    pub malicious_margin: f64,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            l2: 0.002,
            iterations: 40,
            min_support: 3,
            folds: 5,
            max_benign_suspicious: 0.0,
            min_suspicious_at: 0.5,
            min_malicious_at: 0.9,
            malicious_margin: 0.02,
        }
    }
}

/// A fitted model before thresholds: bias and weights.
#[derive(Clone, Debug, PartialEq)]
pub struct Fit {
    /// Bias.
    pub bias: f64,
    /// Weight per feature name.
    pub weights: BTreeMap<String, f64>,
}

impl Fit {
    /// Log-odds of one sample.
    #[must_use]
    pub fn logit(&self, feats: &[Feature]) -> f64 {
        super::model::linear(self.bias, &self.weights, feats)
    }
}

/// Fit bias and weights on `samples`.
#[must_use]
#[allow(clippy::cast_precision_loss, clippy::too_many_lines)]
pub fn fit(samples: &[&Sample], cfg: &Config) -> Fit {
    // Vocabulary: features with enough support, in name order.
    let mut support: BTreeMap<&str, usize> = BTreeMap::new();
    for s in samples {
        for f in &s.features {
            *support.entry(f.name.as_str()).or_default() += 1;
        }
    }
    let vocab: Vec<&str> = support
        .into_iter()
        .filter(|(_, n)| *n >= cfg.min_support)
        .map(|(k, _)| k)
        .collect();
    let index: BTreeMap<&str, usize> = vocab.iter().enumerate().map(|(i, k)| (*k, i)).collect();
    let d = vocab.len();
    let bias = d; // the bias is the last parameter, with a constant 1 feature
    let rows: Vec<Vec<(usize, f64)>> = samples
        .iter()
        .map(|s| {
            let mut r: Vec<(usize, f64)> = s
                .features
                .iter()
                .filter_map(|f| index.get(f.name.as_str()).map(|&i| (i, f.value)))
                .collect();
            r.push((bias, 1.0));
            r
        })
        .collect();
    let y: Vec<f64> = samples
        .iter()
        .map(|s| if s.malicious { 1.0 } else { 0.0 })
        .collect();
    let total = |m: bool| -> f64 {
        samples
            .iter()
            .filter(|s| s.malicious == m)
            .map(|s| s.weight)
            .sum::<f64>()
            .max(f64::MIN_POSITIVE)
    };
    let (tm, tb) = (total(true), total(false));
    let sw: Vec<f64> = samples
        .iter()
        .map(|s| s.weight / if s.malicious { tm } else { tb })
        .collect();
    let n_par = d + 1;
    let mut beta = vec![0.0; n_par];
    let loss = |beta: &[f64]| -> f64 {
        let mut l = 0.0;
        for ((r, yi), wi) in rows.iter().zip(&y).zip(&sw) {
            let z: f64 = r.iter().map(|(j, x)| beta[*j] * x).sum();
            // log(1 + e^z) - y z, computed stably
            let softplus = if z > 0.0 {
                z + (-z).exp().ln_1p()
            } else {
                z.exp().ln_1p()
            };
            l += wi * (softplus - yi * z);
        }
        l + 0.5 * cfg.l2 * beta[..d].iter().map(|b| b * b).sum::<f64>()
    };
    let mut current = loss(&beta);
    for _ in 0..cfg.iterations {
        let mut g = vec![0.0; n_par];
        let mut h = vec![0.0; n_par * n_par];
        for ((r, yi), wi) in rows.iter().zip(&y).zip(&sw) {
            let z: f64 = r.iter().map(|(j, x)| beta[*j] * x).sum();
            let p = sigmoid(z);
            let gw = wi * (p - yi);
            let hw = wi * p * (1.0 - p);
            for (j, xj) in r {
                g[*j] += gw * xj;
                for (k, xk) in r {
                    h[j * n_par + k] += hw * xj * xk;
                }
            }
        }
        for j in 0..n_par {
            let lam = if j < d { cfg.l2 } else { 1e-9 };
            g[j] += if j < d { cfg.l2 * beta[j] } else { 0.0 };
            h[j * n_par + j] += lam;
        }
        let Some(step) = solve_spd(&mut h, &g, n_par) else {
            break;
        };
        let mut t = 1.0;
        let mut improved = false;
        for _ in 0..30 {
            let cand: Vec<f64> = beta.iter().zip(&step).map(|(b, s)| b - t * s).collect();
            let l = loss(&cand);
            if l <= current {
                beta = cand;
                improved = current - l > 1e-15;
                current = l;
                break;
            }
            t *= 0.5;
        }
        if !improved {
            break;
        }
    }
    Fit {
        bias: round(beta[bias]),
        weights: vocab
            .iter()
            .enumerate()
            .map(|(i, k)| ((*k).to_owned(), round(beta[i])))
            .filter(|(_, w)| *w != 0.0)
            .collect(),
    }
}

/// Weights are stored with 4 decimals: small file, same figures.
fn round(x: f64) -> f64 {
    (x * 1e4).round() / 1e4
}

/// Solve `A x = b` for a symmetric positive definite `A` (row-major,
/// `n × n`, overwritten by its Cholesky factor).
fn solve_spd(a: &mut [f64], b: &[f64], n: usize) -> Option<Vec<f64>> {
    for j in 0..n {
        let mut s = a[j * n + j];
        for k in 0..j {
            s -= a[j * n + k] * a[j * n + k];
        }
        if s <= 0.0 || !s.is_finite() {
            return None;
        }
        let l = s.sqrt();
        a[j * n + j] = l;
        for i in j + 1..n {
            let mut s = a[i * n + j];
            for k in 0..j {
                s -= a[i * n + k] * a[j * n + k];
            }
            a[i * n + j] = s / l;
        }
    }
    let mut y = vec![0.0; n];
    for i in 0..n {
        let mut s = b[i];
        for k in 0..i {
            s -= a[i * n + k] * y[k];
        }
        y[i] = s / a[i * n + i];
    }
    let mut x = vec![0.0; n];
    for i in (0..n).rev() {
        let mut s = y[i];
        for k in i + 1..n {
            s -= a[k * n + i] * x[k];
        }
        x[i] = s / a[i * n + i];
    }
    Some(x)
}

/// The fold of a group: a fixed hash, so folds never depend on order.
#[must_use]
pub fn fold_of(group: &str, folds: u8) -> u8 {
    let mut buf = b"sluice-fold-v1:".to_vec();
    buf.extend_from_slice(group.as_bytes());
    sluice_model::Sha256::of(&buf).as_bytes()[0] % folds.max(1)
}

/// Out-of-fold probability of every sample: each fold is predicted by a
/// model fitted on the other folds.
#[must_use]
pub fn out_of_fold(samples: &[Sample], cfg: &Config) -> Vec<f64> {
    let folds: Vec<u8> = samples
        .iter()
        .map(|s| fold_of(&s.group, cfg.folds))
        .collect();
    let mut out = vec![0.0; samples.len()];
    for k in 0..cfg.folds {
        let train: Vec<&Sample> = samples
            .iter()
            .zip(&folds)
            .filter(|(_, f)| **f != k)
            .map(|(s, _)| s)
            .collect();
        let m = fit(&train, cfg);
        for (i, s) in samples.iter().enumerate() {
            if folds[i] == k {
                out[i] = sigmoid(m.logit(&s.features));
            }
        }
    }
    out
}

/// Thresholds from out-of-fold probabilities: suspicious just above the
/// benign packages allowed to be flagged, malicious above every benign
/// package by a margin.
#[must_use]
#[allow(
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss
)]
pub fn choose_thresholds(samples: &[Sample], oof: &[f64], cfg: &Config) -> (f64, f64) {
    let mut benign: Vec<f64> = samples
        .iter()
        .zip(oof)
        .filter(|(s, _)| !s.malicious)
        .map(|(_, p)| *p)
        .collect();
    benign.sort_by(|a, b| b.total_cmp(a));
    let allowed = (cfg.max_benign_suspicious * benign.len() as f64).floor() as usize;
    // Just above the first benign probability that must not be flagged,
    // rounded up to 3 decimals.
    let up = |p: f64| ((p * 1000.0).floor() + 1.0) / 1000.0;
    let susp = benign
        .get(allowed)
        .map_or(cfg.min_suspicious_at, |p| up(*p))
        .max(cfg.min_suspicious_at)
        .min(0.999);
    let top = benign.first().copied().unwrap_or(0.0);
    let mal = (up(top) + cfg.malicious_margin)
        .max(cfg.min_malicious_at)
        .max(susp)
        .min(0.999);
    (susp, mal)
}

/// Fit on all samples, choose thresholds out of fold, and return the model
/// (training details filled in; `trained_on` and `figures` are the
/// caller's) with the out-of-fold probabilities.
#[must_use]
pub fn train(samples: &[Sample], cfg: &Config) -> (ScorerModel, Vec<f64>) {
    let oof = out_of_fold(samples, cfg);
    let (suspicious_at, malicious_at) = choose_thresholds(samples, &oof, cfg);
    let all: Vec<&Sample> = samples.iter().collect();
    let f = fit(&all, cfg);
    let model = ScorerModel {
        format: FORMAT.to_owned(),
        bias: f.bias,
        suspicious_at,
        malicious_at,
        weights: f.weights,
        training: serde_json::json!({
            "algorithm": "logistic regression, Newton's method with step halving",
            "config": cfg,
            "features": "see sluice_analyze::learn::features",
        }),
        trained_on: serde_json::Value::Null,
        figures: serde_json::Value::Null,
        id: String::new(),
    };
    (model.reparsed(), oof)
}

impl ScorerModel {
    /// Serialise and parse again, so that the identity is set as it will
    /// be when the file is embedded.
    #[must_use]
    pub fn reparsed(&self) -> Self {
        let text = self.to_file_text();
        Self::parse(&text).unwrap_or_else(|_| self.clone())
    }

    /// The model file's text (pretty JSON, keys in a fixed order, trailing
    /// newline).
    #[must_use]
    pub fn to_file_text(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).unwrap_or_default();
        s.push('\n');
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A synthetic set: malware has `bad` (and sometimes `noise`), benign
    /// has `good` (and sometimes `noise`).
    fn synthetic() -> Vec<Sample> {
        (0..200)
            .map(|i| {
                let malicious = i % 2 == 0;
                let mut features = vec![if malicious {
                    Feature::plain("bad", 1.0 + f64::from(i % 3) * 0.1)
                } else {
                    Feature::plain("good", 1.0)
                }];
                if i % 5 == 0 {
                    features.push(Feature::plain("noise", 1.0));
                }
                // A few hard cases: malware that looks benign.
                if i % 40 == 0 {
                    features = vec![Feature::plain("good", 1.0)];
                }
                features.sort_by(|a, b| a.name.cmp(&b.name));
                Sample {
                    name: format!("s{i}"),
                    features,
                    malicious,
                    weight: 1.0,
                    group: format!("g{}", i / 2),
                }
            })
            .collect()
    }

    #[test]
    fn training_is_deterministic_and_learns_the_signal() {
        let cfg = Config::default();
        let s = synthetic();
        let (a, oof_a) = train(&s, &cfg);
        let (b, oof_b) = train(&s, &cfg);
        assert_eq!(a.to_file_text(), b.to_file_text());
        assert_eq!(oof_a, oof_b);
        assert!(a.weights["bad"] > 1.0, "{:?}", a.weights);
        assert!(a.weights["good"] < -1.0, "{:?}", a.weights);
        let noise = a.weights.get("noise").copied().unwrap_or(0.0);
        assert!(
            noise.abs() < a.weights["bad"].abs() / 2.0,
            "{:?}",
            a.weights
        );
        // The order of the samples does not matter.
        let mut rev = s.clone();
        rev.reverse();
        let (c, _) = train(&rev, &cfg);
        for (k, w) in &a.weights {
            assert!((c.weights[k] - w).abs() < 1e-3, "{k}");
        }
        assert!(a.suspicious_at >= cfg.min_suspicious_at);
        assert!(a.malicious_at >= a.suspicious_at);
    }

    #[test]
    fn rare_features_get_no_weight() {
        let mut s = synthetic();
        s[0].features.push(Feature::plain("zzz_once", 1.0));
        let all: Vec<&Sample> = s.iter().collect();
        let f = fit(&all, &Config::default());
        assert!(!f.weights.contains_key("zzz_once"));
    }

    #[test]
    fn thresholds_leave_benign_below_malicious() {
        let cfg = Config::default();
        let s = synthetic();
        let oof: Vec<f64> = s
            .iter()
            .enumerate()
            .map(|(i, x)| {
                if x.malicious {
                    0.99
                } else {
                    0.001 * (i % 7) as f64
                }
            })
            .collect();
        let (susp, mal) = choose_thresholds(&s, &oof, &cfg);
        assert!((susp - 0.5).abs() < 1e-12);
        assert!((mal - 0.9).abs() < 1e-12);
        // One benign package very high: malicious moves above it.
        let mut oof2 = oof.clone();
        oof2[1] = 0.95;
        let (_, mal2) = choose_thresholds(&s, &oof2, &cfg);
        assert!(mal2 > 0.95, "{mal2}");
    }

    #[test]
    fn cholesky_solves() {
        let mut a = vec![4.0, 2.0, 2.0, 3.0];
        let x = solve_spd(&mut a, &[2.0, 1.0], 2).unwrap();
        // 4x + 2y = 2, 2x + 3y = 1 -> x = 0.5, y = 0
        assert!((x[0] - 0.5).abs() < 1e-12 && x[1].abs() < 1e-12);
    }
}
