//! The decision for one version: manual decisions, waivers, imported
//! malicious-package records (intel), verdicts, sandbox holds, cooldown. Evaluated on every request from the current store contents,
//! so a block takes effect on the next request, cache hits included.

use std::sync::Arc;

use sluice_intel::{IntelError, LiveIntel, PackageIntel};
use sluice_model::{Ecosystem, PackageSpec, VerdictLevel};
use sluice_store::{Action, ArtifactRow, Decision, JobState, SandboxJob, Store, StoreError};

use crate::config::{OnVerdict, PolicyConfig};

/// Why a version is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RefuseKind {
    /// Blocked by a person or by a verdict the policy blocks.
    Blocked,
    /// Waiting for review.
    Held,
    /// Younger than the minimum release age.
    Cooldown,
    /// A file of the version is waiting for its sandbox run: a temporary
    /// refusal (503 + `Retry-After`), and the version stays listed.
    Pending,
}

/// The gate's answer for one version.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Gate {
    /// Serve it.
    Allow,
    /// Refuse it.
    Refuse {
        /// Which kind of refusal.
        kind: RefuseKind,
        /// The reason shown to the client and in the audit log.
        reason: String,
    },
}

impl Gate {
    /// Whether the version may be served.
    #[must_use]
    pub fn allowed(&self) -> bool {
        matches!(self, Gate::Allow)
    }

    /// Whether the version is listed in project pages and packuments:
    /// allowed, or only waiting for its sandbox run (so that a resolver
    /// retries the held file instead of silently picking another version).
    #[must_use]
    pub fn listed(&self) -> bool {
        matches!(
            self,
            Gate::Allow
                | Gate::Refuse {
                    kind: RefuseKind::Pending,
                    ..
                }
        )
    }
}

/// Everything known about one package, loaded once per request.
#[derive(Debug, Default)]
pub struct PackageFacts {
    /// Manual decisions on the package.
    pub decisions: Vec<Decision>,
    /// Judged artifacts of the package.
    pub artifacts: Vec<ArtifactRow>,
    /// Artifacts of the package held for a sandbox run.
    pub sandbox: Vec<SandboxJob>,
    /// Active imported records (OSV) naming the package.
    pub intel: Arc<PackageIntel>,
}

/// Read everything the policy needs about one package: decisions,
/// judged artifacts, sandbox holds and the imported records naming it
/// (through `intel`, which caches per package until an import).
///
/// # Errors
/// Database failure, or a stored intel row that does not decode.
pub fn load_facts(
    store: &Store,
    intel: &LiveIntel,
    eco: Ecosystem,
    name: &str,
) -> Result<PackageFacts, StoreError> {
    Ok(PackageFacts {
        decisions: store.decisions_for(eco, name)?,
        artifacts: store.artifacts_of(eco, name, None)?,
        sandbox: store.sandbox_jobs_of(eco, name)?,
        intel: intel.package(store, eco, name).map_err(|e| match e {
            IntelError::Store(s) => s,
            other => StoreError::Corrupt(other.to_string()),
        })?,
    })
}

/// Policy with parsed waivers and private-name patterns.
#[derive(Clone, Debug)]
pub struct Policy {
    cfg: PolicyConfig,
    waivers: Vec<(Ecosystem, String, Option<String>, String)>,
    private: Vec<(Ecosystem, String)>,
}

impl Policy {
    /// Parse the configured waivers and private patterns.
    ///
    /// # Errors
    /// A waiver or private pattern is malformed.
    pub fn new(cfg: &PolicyConfig) -> Result<Self, crate::RegistryError> {
        let mut waivers = Vec::new();
        for w in &cfg.waivers {
            let spec: PackageSpec = w
                .package
                .parse()
                .map_err(|e| crate::RegistryError::Config(format!("waiver: {e}")))?;
            waivers.push((
                spec.name.ecosystem(),
                spec.name.as_str().to_owned(),
                spec.version.map(|v| v.as_str().to_owned()),
                w.reason.clone(),
            ));
        }
        let mut private = Vec::new();
        for p in &cfg.private {
            let (eco, pat) = p.split_once(':').ok_or_else(|| {
                crate::RegistryError::Config(format!(
                    "private name `{p}` needs a `pypi:` or `npm:` prefix"
                ))
            })?;
            let eco: Ecosystem = eco
                .parse()
                .map_err(|e| crate::RegistryError::Config(format!("private name `{p}`: {e}")))?;
            let pat = match eco {
                // Normalise the fixed part of the pattern the way names are.
                Ecosystem::PyPI => {
                    let (fixed, star) = match pat.strip_suffix('*') {
                        Some(f) => (f, "*"),
                        None => (pat, ""),
                    };
                    let mut n = String::new();
                    let mut sep = false;
                    for c in fixed.chars() {
                        if matches!(c, '-' | '_' | '.') {
                            if !sep {
                                n.push('-');
                            }
                            sep = true;
                        } else {
                            n.push(c.to_ascii_lowercase());
                            sep = false;
                        }
                    }
                    n + star
                }
                Ecosystem::Npm => pat.to_ascii_lowercase(),
            };
            private.push((eco, pat));
        }
        Ok(Self {
            cfg: cfg.clone(),
            waivers,
            private,
        })
    }

    /// The configuration this policy was built from.
    #[must_use]
    pub fn config(&self) -> &PolicyConfig {
        &self.cfg
    }

    /// Whether a (normalised) name is private: never asked of upstream.
    #[must_use]
    pub fn is_private(&self, eco: Ecosystem, name: &str) -> bool {
        self.private.iter().any(|(e, pat)| {
            *e == eco
                && match pat.strip_suffix('*') {
                    Some(prefix) => name.starts_with(prefix),
                    None => name == pat,
                }
        })
    }

    /// Whether a person or the configuration explicitly allows this version
    /// (a waiver), which also overrides upstream takedowns.
    #[must_use]
    pub fn waived(&self, eco: Ecosystem, name: &str, version: &str, facts: &PackageFacts) -> bool {
        for scope in [version, ""] {
            if let Some(d) = facts.decisions.iter().find(|d| d.version == scope) {
                return d.action == Action::Allow;
            }
        }
        self.waivers
            .iter()
            .any(|(e, n, v, _)| *e == eco && n == name && v.as_deref().is_none_or(|v| v == version))
    }

    /// Whether the configuration waives any version of the package.
    #[must_use]
    pub fn any_waiver(&self, eco: Ecosystem, name: &str) -> bool {
        self.waivers
            .iter()
            .any(|(e, n, _, _)| *e == eco && n == name)
    }

    /// [`judge`](Self::judge) at the current time.
    #[must_use]
    pub fn judge_now(
        &self,
        eco: Ecosystem,
        name: &str,
        version: &str,
        upload_time: Option<&str>,
        facts: &PackageFacts,
    ) -> Gate {
        self.judge(eco, name, version, upload_time, facts, chrono::Utc::now())
    }

    /// Decide one version. `upload_time` is RFC 3339 when upstream gave it;
    /// `now` is passed in so tests control the clock.
    #[must_use]
    pub fn judge(
        &self,
        eco: Ecosystem,
        name: &str,
        version: &str,
        upload_time: Option<&str>,
        facts: &PackageFacts,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Gate {
        // 1. A person's decision on this exact version, then on the package.
        for scope in [version, ""] {
            if let Some(d) = facts.decisions.iter().find(|d| d.version == scope) {
                return match d.action {
                    Action::Allow => Gate::Allow,
                    Action::Block => Gate::Refuse {
                        kind: RefuseKind::Blocked,
                        reason: format!("blocked by {}: {}", d.actor, d.reason),
                    },
                };
            }
        }
        // 2. Waivers from the configuration file.
        if self
            .waivers
            .iter()
            .any(|(e, n, v, _)| *e == eco && n == name && v.as_deref().is_none_or(|v| v == version))
        {
            return Gate::Allow;
        }
        // 3. A record of the imported malicious-package list: refused at
        //    once, before any download or scan, with the record's id.
        if let Some(m) = facts.intel.first_match(version) {
            return Gate::Refuse {
                kind: RefuseKind::Blocked,
                reason: format!(
                    "blocked by sluice: {name} {version} is known malicious ({}: {})",
                    m.id, m.summary
                ),
            };
        }
        // 4. The worst verdict of any judged file of the version.
        let worst = facts
            .artifacts
            .iter()
            .filter(|a| a.version == version)
            .max_by_key(|a| a.verdict);
        let on = worst.map_or(OnVerdict::Allow, |a| match a.verdict {
            VerdictLevel::Malicious => self.cfg.malicious,
            VerdictLevel::Suspicious => self.cfg.suspicious,
            VerdictLevel::Clean => OnVerdict::Allow,
        });
        if let (Some(a), OnVerdict::Block) = (worst, on) {
            return Gate::Refuse {
                kind: RefuseKind::Blocked,
                reason: format!(
                    "blocked by sluice: {} is {} (score {})",
                    a.filename, a.verdict, a.score
                ),
            };
        }
        // 5. Sandbox holds: a run still to come is a temporary refusal
        //    (it may still block the version); a failed run is a scan error.
        let holds = || facts.sandbox.iter().filter(|j| j.version == version);
        if let Some(j) = holds().find(|j| j.state == JobState::Pending) {
            return Gate::Refuse {
                kind: RefuseKind::Pending,
                reason: format!(
                    "held by sluice until its sandbox run finishes: {} (queued {}); try again shortly",
                    j.filename, j.queued_at
                ),
            };
        }
        for j in holds() {
            let error = j.error.as_deref().unwrap_or("unknown error");
            match self.cfg.scan_error {
                OnVerdict::Allow => {}
                OnVerdict::Block => {
                    return Gate::Refuse {
                        kind: RefuseKind::Blocked,
                        reason: format!(
                            "blocked by sluice: the sandbox could not run {} ({error})",
                            j.filename
                        ),
                    };
                }
                OnVerdict::Hold => {
                    return Gate::Refuse {
                        kind: RefuseKind::Held,
                        reason: format!(
                            "held for review by sluice: the sandbox could not run {} ({error})",
                            j.filename
                        ),
                    };
                }
            }
        }
        if let (Some(a), OnVerdict::Hold) = (worst, on) {
            return Gate::Refuse {
                kind: RefuseKind::Held,
                reason: format!(
                    "held for review by sluice: {} is {} (score {})",
                    a.filename, a.verdict, a.score
                ),
            };
        }
        // 6. Cooldown.
        if self.cfg.min_release_age_hours > 0
            && let Some(t) = upload_time.and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
        {
            let age = now.signed_duration_since(t.with_timezone(&chrono::Utc));
            let min = chrono::Duration::hours(
                i64::try_from(self.cfg.min_release_age_hours).unwrap_or(i64::MAX / 3600),
            );
            if age < min {
                return Gate::Refuse {
                    kind: RefuseKind::Cooldown,
                    reason: format!(
                        "released {t}, younger than the minimum age of {} hours",
                        self.cfg.min_release_age_hours
                    ),
                };
            }
        }
        Gate::Allow
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Waiver;

    fn art(version: &str, verdict: VerdictLevel) -> ArtifactRow {
        ArtifactRow {
            sha256: "00".repeat(32),
            ecosystem: Ecosystem::PyPI,
            name: "p".into(),
            version: version.into(),
            filename: format!("p-{version}.tar.gz"),
            size: 1,
            verdict,
            score: 80,
            scanned_at: String::new(),
        }
    }

    fn dec(version: &str, action: Action) -> Decision {
        Decision {
            ecosystem: Ecosystem::PyPI,
            name: "p".into(),
            version: version.into(),
            action,
            reason: "r".into(),
            actor: "alice".into(),
            at: String::new(),
        }
    }

    fn intel(matcher: &str) -> Arc<PackageIntel> {
        let hit = sluice_store::IntelPackageHit {
            record_id: "MAL-2026-9".into(),
            summary: "Malicious code in p (PyPI)".into(),
            ecosystem: "pypi".into(),
            name: "p".into(),
            matcher: matcher.into(),
        };
        Arc::new(PackageIntel::from_hits(Ecosystem::PyPI, &[hit]).unwrap())
    }

    #[test]
    fn intel_records_block_after_people_and_waivers_before_verdicts() {
        let now = chrono::Utc::now();
        let p = Policy::new(&PolicyConfig::default()).unwrap();
        let mut facts = PackageFacts {
            intel: intel(r#"{"v":["1.0"]}"#),
            ..PackageFacts::default()
        };
        // Clean verdict or none: the record still refuses, with its id.
        facts.artifacts.push(art("1.0", VerdictLevel::Clean));
        match p.judge(Ecosystem::PyPI, "p", "1.0.0", None, &facts, now) {
            Gate::Refuse {
                kind: RefuseKind::Blocked,
                reason,
            } => assert!(reason.contains("MAL-2026-9"), "{reason}"),
            g => panic!("{g:?}"),
        }
        assert!(
            p.judge(Ecosystem::PyPI, "p", "1.1", None, &facts, now)
                .allowed()
        );
        assert!(
            !p.judge(Ecosystem::PyPI, "p", "1.0", None, &facts, now)
                .listed()
        );
        // A person's allow (a false positive of the list) wins.
        facts.decisions.push(dec("1.0", Action::Allow));
        assert!(
            p.judge(Ecosystem::PyPI, "p", "1.0", None, &facts, now)
                .allowed()
        );
    }

    #[test]
    fn order_of_precedence() {
        let now = chrono::Utc::now();
        let mut cfg = PolicyConfig::default();
        let p = Policy::new(&cfg).unwrap();
        let mut facts = PackageFacts::default();
        assert!(
            p.judge(Ecosystem::PyPI, "p", "1", None, &facts, now)
                .allowed()
        );
        facts.artifacts.push(art("1", VerdictLevel::Malicious));
        let g = p.judge(Ecosystem::PyPI, "p", "1", None, &facts, now);
        assert!(matches!(
            g,
            Gate::Refuse {
                kind: RefuseKind::Blocked,
                ..
            }
        ));
        // Another version is not affected.
        assert!(
            p.judge(Ecosystem::PyPI, "p", "2", None, &facts, now)
                .allowed()
        );
        // A person's allow beats the verdict; a package-wide block beats nothing else.
        facts.decisions.push(dec("1", Action::Allow));
        facts.decisions.push(dec("", Action::Block));
        assert!(
            p.judge(Ecosystem::PyPI, "p", "1", None, &facts, now)
                .allowed()
        );
        assert!(
            !p.judge(Ecosystem::PyPI, "p", "2", None, &facts, now)
                .allowed()
        );
        // Waiver.
        cfg.waivers.push(Waiver {
            package: "pypi:P==3".into(),
            reason: String::new(),
        });
        let p = Policy::new(&cfg).unwrap();
        let mut facts = PackageFacts::default();
        facts.artifacts.push(art("3", VerdictLevel::Malicious));
        assert!(
            p.judge(Ecosystem::PyPI, "p", "3", None, &facts, now)
                .allowed()
        );
        facts.artifacts.push(art("4", VerdictLevel::Suspicious));
        let g = p.judge(Ecosystem::PyPI, "p", "4", None, &facts, now);
        assert!(matches!(
            g,
            Gate::Refuse {
                kind: RefuseKind::Held,
                ..
            }
        ));
    }

    fn job(version: &str, state: JobState) -> SandboxJob {
        SandboxJob {
            sha256: "11".repeat(32),
            ecosystem: Ecosystem::PyPI,
            name: "p".into(),
            version: version.into(),
            filename: format!("p-{version}.tar.gz"),
            state,
            error: (state == JobState::Failed).then(|| "no bwrap".into()),
            queued_at: String::new(),
        }
    }

    fn kind(g: &Gate) -> Option<RefuseKind> {
        match g {
            Gate::Allow => None,
            Gate::Refuse { kind, .. } => Some(*kind),
        }
    }

    #[test]
    fn sandbox_holds() {
        let now = chrono::Utc::now();
        let mut cfg = PolicyConfig {
            suspicious: OnVerdict::Allow,
            ..PolicyConfig::default()
        };
        let p = Policy::new(&cfg).unwrap();
        let mut facts = PackageFacts::default();
        facts.artifacts.push(art("1", VerdictLevel::Suspicious));
        facts.sandbox.push(job("1", JobState::Pending));
        let g = p.judge(Ecosystem::PyPI, "p", "1", None, &facts, now);
        assert_eq!(kind(&g), Some(RefuseKind::Pending));
        assert!(g.listed() && !g.allowed());
        // Other versions are not held.
        assert!(
            p.judge(Ecosystem::PyPI, "p", "2", None, &facts, now)
                .allowed()
        );
        // A blocking verdict on another file of the version is final: it
        // wins over the hold.
        let mut bad = art("1", VerdictLevel::Malicious);
        bad.filename = "p-1-py3-none-any.whl".into();
        facts.artifacts.push(bad);
        let g = p.judge(Ecosystem::PyPI, "p", "1", None, &facts, now);
        assert_eq!(kind(&g), Some(RefuseKind::Blocked));
        assert!(!g.listed());
        facts.artifacts.pop();
        // A person's decision beats the hold.
        facts.decisions.push(dec("1", Action::Allow));
        assert!(
            p.judge(Ecosystem::PyPI, "p", "1", None, &facts, now)
                .allowed()
        );
        facts.decisions.clear();
        // A failed run follows scan_error.
        facts.sandbox[0] = job("1", JobState::Failed);
        for (on, want) in [
            (OnVerdict::Hold, Some(RefuseKind::Held)),
            (OnVerdict::Block, Some(RefuseKind::Blocked)),
            (OnVerdict::Allow, None),
        ] {
            cfg.scan_error = on;
            let p = Policy::new(&cfg).unwrap();
            let g = p.judge(Ecosystem::PyPI, "p", "1", None, &facts, now);
            assert_eq!(kind(&g), want, "{on:?}");
            if let Gate::Refuse { reason, .. } = g {
                assert!(reason.contains("no bwrap"), "{reason}");
            }
        }
    }

    #[test]
    fn cooldown_and_private() {
        let now = chrono::Utc::now();
        let cfg = PolicyConfig {
            min_release_age_hours: 24,
            private: vec!["pypi:Acme_*".into(), "npm:@acme/*".into()],
            ..PolicyConfig::default()
        };
        let p = Policy::new(&cfg).unwrap();
        let facts = PackageFacts::default();
        let fresh = (now - chrono::Duration::hours(1)).to_rfc3339();
        let old = (now - chrono::Duration::hours(48)).to_rfc3339();
        let g = p.judge(Ecosystem::PyPI, "p", "1", Some(&fresh), &facts, now);
        assert!(matches!(
            g,
            Gate::Refuse {
                kind: RefuseKind::Cooldown,
                ..
            }
        ));
        assert!(
            p.judge(Ecosystem::PyPI, "p", "1", Some(&old), &facts, now)
                .allowed()
        );
        assert!(p.is_private(Ecosystem::PyPI, "acme-tools"));
        assert!(!p.is_private(Ecosystem::PyPI, "acm"));
        assert!(p.is_private(Ecosystem::Npm, "@acme/x"));
        assert!(!p.is_private(Ecosystem::Npm, "acme"));
        assert!(
            Policy::new(&PolicyConfig {
                private: vec!["acme".into()],
                ..PolicyConfig::default()
            })
            .is_err()
        );
    }
}
