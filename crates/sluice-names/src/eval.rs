//! Evaluation over labelled rows (`ecosystem, candidate, label, target,
//! source, class`, tab-separated, with a header), as in `names-dev.tsv`.

use std::collections::BTreeMap;
use std::io::BufRead;

use serde::Serialize;
use sluice_model::{Ecosystem, PackageName};

use crate::engine::{Engine, NameVerdict, verdict_of};

/// Counts for one group of rows.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Tally {
    /// Squat rows.
    pub squats: usize,
    /// Squat rows flagged (suspicious or squat).
    pub caught: usize,
    /// Caught squat rows whose labelled target is among the reported targets.
    pub target_agrees: usize,
    /// Benign rows.
    pub benign: usize,
    /// Benign rows flagged.
    pub flagged: usize,
}

impl Tally {
    /// Share of squat rows caught.
    #[must_use]
    pub fn recall(&self) -> f32 {
        ratio(self.caught, self.squats)
    }
    /// Share of benign rows flagged.
    #[must_use]
    pub fn fp_rate(&self) -> f32 {
        ratio(self.flagged, self.benign)
    }
}

fn ratio(a: usize, b: usize) -> f32 {
    if b == 0 { 0.0 } else { a as f32 / b as f32 }
}

/// One row's outcome (for listing misses).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RowResult {
    /// 1-based line.
    pub line: usize,
    /// Ecosystem.
    pub ecosystem: Ecosystem,
    /// Candidate.
    pub candidate: String,
    /// `squat` or `benign`.
    pub label: String,
    /// Labelled class.
    pub class: String,
    /// Labelled target.
    pub target: String,
    /// Our verdict.
    pub verdict: NameVerdict,
    /// Our best target and class.
    pub best: Option<(String, String, f32)>,
}

/// The evaluation result.
#[derive(Debug, Clone, Default, Serialize)]
pub struct EvalReport {
    /// Per ecosystem.
    pub by_ecosystem: BTreeMap<String, Tally>,
    /// Per (ecosystem, labelled class).
    pub by_class: BTreeMap<String, Tally>,
    /// Every row, in order.
    pub rows: Vec<RowResult>,
    /// Lines that could not be used, with reasons.
    pub bad_lines: Vec<(usize, String)>,
}

/// Evaluate `engine` over a names-dev-shaped TSV.
///
/// # Errors
/// Only on I/O failure; malformed rows land in `bad_lines`.
pub fn evaluate(engine: &Engine, r: impl BufRead) -> std::io::Result<EvalReport> {
    let mut rep = EvalReport::default();
    for (i, line) in r.lines().enumerate() {
        let n = i + 1;
        let line = line?;
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() || (n == 1 && line.starts_with("ecosystem\t")) {
            continue;
        }
        let f: Vec<&str> = line.split('\t').collect();
        let (Some(eco), Some(cand), Some(label)) = (f.first(), f.get(1), f.get(2)) else {
            rep.bad_lines
                .push((n, "expected at least 3 tab-separated columns".into()));
            continue;
        };
        let Ok(eco) = eco.parse::<Ecosystem>() else {
            rep.bad_lines
                .push((n, format!("unknown ecosystem `{}`", eco.escape_debug())));
            continue;
        };
        if *label != "squat" && *label != "benign" {
            rep.bad_lines.push((
                n,
                format!(
                    "label `{}` is neither squat nor benign",
                    label.escape_debug()
                ),
            ));
            continue;
        }
        let name = match PackageName::parse(eco, cand) {
            Ok(p) => p,
            Err(e) => {
                rep.bad_lines.push((n, e.to_string()));
                continue;
            }
        };
        let target = f.get(3).copied().unwrap_or("").to_owned();
        let class = f.get(5).copied().unwrap_or("").to_owned();
        let m = engine.check(&name);
        let verdict = verdict_of(&m);
        let flagged = verdict != NameVerdict::Ok;
        let agrees = m.iter().any(|x| {
            x.target == target || format!("{}:{}", x.target_ecosystem, x.target) == target
        });
        for key in [eco.to_string(), format!("{eco}\t{class}")] {
            let map = if key.contains('\t') {
                &mut rep.by_class
            } else {
                &mut rep.by_ecosystem
            };
            let t = map.entry(key).or_default();
            if *label == "squat" {
                t.squats += 1;
                t.caught += usize::from(flagged);
                t.target_agrees += usize::from(flagged && agrees);
            } else {
                t.benign += 1;
                t.flagged += usize::from(flagged);
            }
        }
        rep.rows.push(RowResult {
            line: n,
            ecosystem: eco,
            candidate: cand.to_string(),
            label: label.to_string(),
            class,
            target,
            verdict,
            best: m
                .first()
                .map(|b| (b.target.clone(), b.class.to_string(), b.score)),
        });
    }
    Ok(rep)
}
