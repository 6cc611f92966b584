//! Same name, different registry ("brandjacking"): judged on provenance.
//!
//! A PyPI project named like a popular npm package (or the reverse) is only
//! a *candidate*. The real `botframework-streaming` on PyPI is published by
//! the same organisation as the npm one, with the same version numbers, so
//! the name match alone must never condemn it. The caller (scan / the gate)
//! gathers the facts below from both registries' metadata; this module only
//! weighs them.

use serde::{Deserialize, Serialize};
use sluice_model::PackageName;

use crate::engine::{Engine, MatchClass, NameMatch, NameVerdict};

/// What is known about the candidate's provenance compared with the
/// other registry's popular package. `None` means "not known".
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Provenance {
    /// The candidate's version equals the other registry's latest release.
    #[serde(default)]
    pub same_version_as_other: Option<bool>,
    /// The candidate's repository link points at the same repository (or
    /// the same owner/organisation) as the other registry's package.
    #[serde(default)]
    pub repository_matches_other: Option<bool>,
    /// An author, maintainer or e-mail domain is shared with the other package.
    #[serde(default)]
    pub author_matches_other: Option<bool>,
    /// Days since the candidate project's first upload.
    #[serde(default)]
    pub first_upload_days_ago: Option<u32>,
    /// The candidate project has this many releases in total.
    #[serde(default)]
    pub release_count: Option<u32>,
}

/// The judgement of a cross-registry name.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CrossJudgement {
    /// The match (class [`MatchClass::CrossRegistry`]), with the score after
    /// weighing provenance.
    pub matched: NameMatch,
    /// The resulting verdict.
    pub verdict: NameVerdict,
    /// The facts that moved the score, in order.
    pub reasons: Vec<String>,
}

/// Weigh provenance for a candidate whose name is a popular name of the
/// other registry. `None` when the name has no twin there.
///
/// Score: start at 0.3 (the name match alone stays below "suspicious").
/// - repository differs from the other package: +0.35; matches: −0.4
/// - author differs: +0.2; matches: −0.3
/// - first upload within 30 days: +0.15 (within 7 days: +0.2)
/// - same version as the other registry's latest: +0.1 only together with a
///   repository or author mismatch (legitimate ports share version numbers,
///   attackers copy them to look legitimate)
/// - one release only: +0.05
/// - the candidate is itself popular in its registry: −0.2
#[must_use]
pub fn judge(engine: &Engine, name: &PackageName, p: &Provenance) -> Option<CrossJudgement> {
    let (eco, target, rank) = engine.other_registry_twin(name)?;
    let mut s: f32 = MatchClass::CrossRegistry.base_score();
    let mut reasons = vec![format!(
        "same name as popular {eco} package `{target}` (rank {rank})"
    )];
    let mismatch =
        p.repository_matches_other == Some(false) || p.author_matches_other == Some(false);
    match p.repository_matches_other {
        Some(false) => {
            s += 0.35;
            reasons.push("repository differs from the other registry's package".into());
        }
        Some(true) => {
            s -= 0.4;
            reasons.push("repository matches the other registry's package".into());
        }
        None => {}
    }
    match p.author_matches_other {
        Some(false) => {
            s += 0.2;
            reasons.push("no shared author or maintainer".into());
        }
        Some(true) => {
            s -= 0.3;
            reasons.push("shares an author or maintainer".into());
        }
        None => {}
    }
    if let Some(d) = p.first_upload_days_ago {
        if d <= 7 {
            s += 0.2;
            reasons.push(format!("first uploaded {d} days ago"));
        } else if d <= 30 {
            s += 0.15;
            reasons.push(format!("first uploaded {d} days ago"));
        }
    }
    if p.same_version_as_other == Some(true) && mismatch {
        s += 0.1;
        reasons.push("copies the other registry's latest version number".into());
    }
    if p.release_count == Some(1) {
        s += 0.05;
        reasons.push("a single release".into());
    }
    if let Some(r) = engine.rank_of(name) {
        s -= 0.2;
        reasons.push(format!("itself popular in {} (rank {r})", name.ecosystem()));
    }
    let score = s.clamp(0.0, 1.0);
    let matched = NameMatch {
        target,
        target_ecosystem: eco,
        class: MatchClass::CrossRegistry,
        score,
        target_rank: Some(rank),
        target_downloads: None,
        note: reasons.join("; "),
    };
    let verdict = crate::engine::verdict_of(std::slice::from_ref(&matched));
    Some(CrossJudgement {
        matched,
        verdict,
        reasons,
    })
}
