//! Where `audit` looks a dependency up. Each source is a [`Matcher`]; the
//! command runs every configured one over every dependency. Sources here:
//! the gate's own verdicts and decisions ([`GateMatcher`]), private names
//! ([`PrivateMatcher`]), the name engine ([`NameMatcher`]) and the
//! imported malicious-package list ([`IntelMatcher`], OSV records from
//! `sluice db import`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use sluice_lockfile::{Dependency, SourceKind};
use sluice_model::PackageName;
use sluice_model::{Ecosystem, Severity, VerdictLevel};
use sluice_names::{Engine, MatchClass, NameMatch, SQUAT_AT, SUSPICIOUS_AT};
use sluice_store::{Action, ArtifactRow, Decision, Store};

/// One reason a dependency is reported.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct AuditFinding {
    /// Stable rule code (`AUD802`, `NAME401`, …).
    pub rule: String,
    /// Which source said so (`gate`, `private`, `names`, `intel`, `scan`,
    /// `environment`).
    pub source: &'static str,
    /// How bad it is if true.
    pub severity: Severity,
    /// What it means for `--fail-on`: `malicious` and `suspicious` fail the
    /// run at those thresholds; `clean` findings are informational.
    pub level: VerdictLevel,
    /// One sentence.
    pub message: String,
    /// Identifiers for OSV-style output (record ids, `SLUICE-…`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ids: Vec<String>,
    /// Supporting facts.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub evidence: Vec<String>,
}

/// A source of knowledge about packages.
pub trait Matcher: Send + Sync {
    /// Short name, for `--format json` and messages.
    fn name(&self) -> &'static str;
    /// What this source knows about `dep` (nothing, usually).
    fn check(&self, dep: &Dependency) -> Vec<AuditFinding>;
}

type Key = (Ecosystem, String);

/// The gate's store: manual block/allow decisions and the verdicts of the
/// artifacts it judged, loaded once (a few thousand rows at most) and
/// matched by name, version and file hash.
pub struct GateMatcher {
    decisions: HashMap<Key, Vec<Decision>>,
    by_version: HashMap<(Ecosystem, String, String), Vec<ArtifactRow>>,
    by_name: HashMap<Key, Vec<ArtifactRow>>,
    by_sha256: HashMap<String, ArtifactRow>,
}

impl GateMatcher {
    /// Load decisions and flagged artifacts from `store`.
    ///
    /// # Errors
    /// Database failure.
    pub fn load(store: &Store) -> anyhow::Result<Self> {
        Ok(Self::from_rows(
            store.decisions()?,
            store.artifacts_with_verdict(&[VerdictLevel::Malicious, VerdictLevel::Suspicious])?,
        ))
    }

    /// Build from decisions and flagged artifacts (a local store's, or
    /// what a remote gate's `audit-data` endpoint answers). Artifacts
    /// judged clean are ignored.
    #[must_use]
    pub fn from_rows(decisions_rows: Vec<Decision>, artifacts: Vec<ArtifactRow>) -> Self {
        let mut decisions: HashMap<Key, Vec<Decision>> = HashMap::new();
        for d in decisions_rows {
            decisions
                .entry((d.ecosystem, d.name.clone()))
                .or_default()
                .push(d);
        }
        let mut by_version: HashMap<(Ecosystem, String, String), Vec<ArtifactRow>> = HashMap::new();
        let mut by_name: HashMap<Key, Vec<ArtifactRow>> = HashMap::new();
        let mut by_sha256 = HashMap::new();
        for a in artifacts
            .into_iter()
            .filter(|a| a.verdict != VerdictLevel::Clean)
        {
            by_sha256.insert(a.sha256.to_ascii_lowercase(), a.clone());
            by_name
                .entry((a.ecosystem, a.name.clone()))
                .or_default()
                .push(a.clone());
            by_version
                .entry((a.ecosystem, a.name.clone(), a.version.clone()))
                .or_default()
                .push(a);
        }
        Self {
            decisions,
            by_version,
            by_name,
            by_sha256,
        }
    }
}

/// The sha256 digests (hex) among a dependency's hashes: `sha256:<hex>`,
/// `sha256=<hex>`, or an SRI `sha256-<base64>`.
fn sha256s(dep: &Dependency) -> Vec<String> {
    dep.hashes
        .iter()
        .filter_map(|h| {
            let lower = h.to_ascii_lowercase();
            let hex = lower
                .strip_prefix("sha256:")
                .or_else(|| lower.strip_prefix("sha256="))
                .map(str::to_owned);
            hex.filter(|x| x.len() == 64 && x.bytes().all(|b| b.is_ascii_hexdigit()))
        })
        .collect()
}

fn verdict_word(l: VerdictLevel) -> &'static str {
    match l {
        VerdictLevel::Malicious => "malicious",
        VerdictLevel::Suspicious => "suspicious",
        VerdictLevel::Clean => "clean",
    }
}

fn artifact_finding(a: &ArtifactRow, rule: &str, how: &str) -> AuditFinding {
    AuditFinding {
        rule: rule.to_owned(),
        source: "gate",
        severity: if a.verdict == VerdictLevel::Malicious {
            Severity::Critical
        } else {
            Severity::High
        },
        level: a.verdict,
        message: format!(
            "the gate judged {} {} {} (score {}){how}",
            a.filename,
            a.version,
            verdict_word(a.verdict),
            a.score
        ),
        ids: vec![format!("SLUICE-{}", &a.sha256[..a.sha256.len().min(16)])],
        evidence: vec![
            format!("sha256: {}", a.sha256),
            format!("scanned at: {}", a.scanned_at),
        ],
    }
}

impl Matcher for GateMatcher {
    fn name(&self) -> &'static str {
        "gate"
    }

    fn check(&self, dep: &Dependency) -> Vec<AuditFinding> {
        let mut out = Vec::new();
        let key = (dep.ecosystem, dep.name.as_str().to_owned());
        let version = dep.version.as_deref();
        let decisions = self.decisions.get(&key).map(Vec::as_slice).unwrap_or(&[]);
        let applies = |d: &&Decision| d.version.is_empty() || Some(d.version.as_str()) == version;
        // A waiver or an approved review is the gate's last word.
        if decisions
            .iter()
            .filter(applies)
            .any(|d| d.action == Action::Allow)
        {
            return out;
        }
        for d in decisions
            .iter()
            .filter(applies)
            .filter(|d| d.action == Action::Block)
        {
            let what = if d.version.is_empty() {
                format!("every version of {}", dep.name)
            } else {
                format!("{} {}", dep.name, d.version)
            };
            out.push(AuditFinding {
                rule: "AUD801".into(),
                source: "gate",
                severity: Severity::Critical,
                level: VerdictLevel::Malicious,
                message: format!("the gate blocks {what}: {}", d.reason),
                ids: vec![format!(
                    "SLUICE-BLOCK-{}-{}",
                    dep.ecosystem.prefix(),
                    dep.name
                )],
                evidence: vec![format!("decided by {} at {}", d.actor, d.at)],
            });
        }
        let mut seen_sha: Vec<&str> = Vec::new();
        match version {
            Some(v) => {
                for a in self
                    .by_version
                    .get(&(dep.ecosystem, key.1.clone(), v.to_owned()))
                    .map(Vec::as_slice)
                    .unwrap_or(&[])
                {
                    seen_sha.push(&a.sha256);
                    let rule = if a.verdict == VerdictLevel::Malicious {
                        "AUD802"
                    } else {
                        "AUD803"
                    };
                    out.push(artifact_finding(a, rule, ""));
                }
            }
            None => {
                // Unpinned: any flagged version could be the one installed.
                let flagged = self.by_name.get(&key).map(Vec::as_slice).unwrap_or(&[]);
                if let Some(worst) = flagged.iter().max_by_key(|a| a.verdict) {
                    let mut versions: Vec<&str> =
                        flagged.iter().map(|a| a.version.as_str()).collect();
                    versions.sort_unstable();
                    versions.dedup();
                    out.push(AuditFinding {
                        rule: "AUD805".into(),
                        source: "gate",
                        severity: Severity::Medium,
                        level: VerdictLevel::Suspicious,
                        message: format!(
                            "not pinned, and the gate judged version(s) {} of {} {}",
                            versions.join(", "),
                            dep.name,
                            verdict_word(worst.verdict)
                        ),
                        ids: vec![format!(
                            "SLUICE-{}",
                            &worst.sha256[..worst.sha256.len().min(16)]
                        )],
                        evidence: Vec::new(),
                    });
                }
            }
        }
        for h in sha256s(dep) {
            if let Some(a) = self.by_sha256.get(&h)
                && !seen_sha.contains(&a.sha256.as_str())
            {
                let other = if a.ecosystem == dep.ecosystem
                    && a.name == dep.name.as_str()
                    && Some(a.version.as_str()) == version
                {
                    String::new()
                } else {
                    format!(
                        " — the same bytes as {}:{} {}",
                        a.ecosystem, a.name, a.version
                    )
                };
                out.push(artifact_finding(
                    a,
                    "AUD804",
                    &format!("; the locked hash matches{other}"),
                ));
            }
        }
        out
    }
}

/// The name engine with its answers remembered per name: a monorepo locks
/// the same names again and again at different versions, and the name
/// check is the costly part of matching. Shared by [`NameMatcher`] and
/// [`PrivateMatcher`] when they use the same engine.
pub struct CachedEngine<'e> {
    engine: &'e Engine,
    cache: Mutex<HashMap<PackageName, Arc<Vec<NameMatch>>>>,
}

impl<'e> CachedEngine<'e> {
    /// Wrap `engine`.
    #[must_use]
    pub fn new(engine: &'e Engine) -> Self {
        Self {
            engine,
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// The engine's matches for `name`, computed once per name.
    pub fn check(&self, name: &PackageName) -> Arc<Vec<NameMatch>> {
        let lock = || self.cache.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(m) = lock().get(name) {
            return Arc::clone(m);
        }
        // Computed outside the lock, so workers do not wait on each other;
        // two computing the same name at once is harmless.
        let m = Arc::new(self.engine.check(name));
        lock().insert(name.clone(), Arc::clone(&m));
        m
    }
}

/// Private (internal) names: a dependency that is, or imitates, an
/// internal package name and is not resolved from one of the company's
/// registries is a dependency-confusion risk.
pub struct PrivateMatcher<'c, 'e> {
    engine: &'c CachedEngine<'e>,
    internal: Vec<String>,
}

impl<'c, 'e> PrivateMatcher<'c, 'e> {
    /// Match with `engine`'s private list; URLs starting with one of
    /// `internal` are the company's own registries.
    #[must_use]
    pub fn new(engine: &'c CachedEngine<'e>, internal: Vec<String>) -> Self {
        Self { engine, internal }
    }
}

impl Matcher for PrivateMatcher<'_, '_> {
    fn name(&self) -> &'static str {
        "private"
    }

    fn check(&self, dep: &Dependency) -> Vec<AuditFinding> {
        // The company's own code checked out or linked is not confusion.
        if matches!(dep.source, SourceKind::Path | SourceKind::Git) {
            return Vec::new();
        }
        if let Some(url) = &dep.url
            && self.internal.iter().any(|p| url.starts_with(p.as_str()))
        {
            return Vec::new();
        }
        let mut out = Vec::new();
        for m in self.engine.check(&dep.name).iter() {
            let (rule, severity, message) = match m.class {
                MatchClass::PrivateName => (
                    "AUD810",
                    Severity::High,
                    format!(
                        "`{}` is an internal name, resolved from {}: dependency confusion if a public package of that name is installed",
                        dep.name,
                        dep.url
                            .as_deref()
                            .unwrap_or("a registry this file does not name")
                    ),
                ),
                MatchClass::PrivateConfusable => (
                    "AUD811",
                    Severity::High,
                    format!(
                        "`{}` is confusable with internal name `{}` (score {:.2})",
                        dep.name, m.target, m.score
                    ),
                ),
                _ => continue,
            };
            out.push(AuditFinding {
                rule: rule.into(),
                source: "private",
                severity,
                level: VerdictLevel::Suspicious,
                message,
                ids: vec![format!("SLUICE-{rule}")],
                evidence: vec![format!("private entry: {}", m.target)],
            });
        }
        out
    }
}

/// The name engine: typosquats, combosquats and scope confusion of
/// popular names (`NAME4xx`). A squat-level score is suspicious; lower
/// reported scores are informational.
pub struct NameMatcher<'c, 'e> {
    engine: &'c CachedEngine<'e>,
}

impl<'c, 'e> NameMatcher<'c, 'e> {
    /// Match with `engine`.
    #[must_use]
    pub fn new(engine: &'c CachedEngine<'e>) -> Self {
        Self { engine }
    }
}

impl Matcher for NameMatcher<'_, '_> {
    fn name(&self) -> &'static str {
        "names"
    }

    fn check(&self, dep: &Dependency) -> Vec<AuditFinding> {
        if matches!(dep.source, SourceKind::Path) {
            return Vec::new();
        }
        self.engine
            .check(&dep.name)
            .iter()
            .filter(|m| {
                m.score >= SUSPICIOUS_AT
                    && !matches!(
                        m.class,
                        MatchClass::PrivateName
                            | MatchClass::PrivateConfusable
                            | MatchClass::CrossRegistry
                    )
            })
            .map(|m| {
                let f = sluice_names::finding_for(&dep.name, m);
                AuditFinding {
                    rule: f.rule.to_string(),
                    source: "names",
                    severity: f.severity,
                    level: if m.score >= SQUAT_AT {
                        VerdictLevel::Suspicious
                    } else {
                        VerdictLevel::Clean
                    },
                    message: f.message,
                    ids: vec![format!("SLUICE-{}", f.rule)],
                    evidence: f.evidence,
                }
            })
            .collect()
    }
}

/// The imported malicious-package list (`sluice db import`): a dependency
/// whose version an active OSV record covers is malicious, with the
/// record's id; an unpinned entry is reported when a record covers every
/// version of the package.
pub struct IntelMatcher(sluice_intel::IntelIndex);

impl IntelMatcher {
    /// Load every active record of the store once.
    ///
    /// # Errors
    /// Database failure.
    pub fn load(store: &Store) -> anyhow::Result<Self> {
        Ok(Self(sluice_intel::IntelIndex::load(store)?))
    }

    /// Build from active records' package rows (what a remote gate's
    /// `audit-data` endpoint answers).
    ///
    /// # Errors
    /// A row whose matching data does not decode.
    pub fn from_hits(hits: Vec<sluice_store::IntelPackageHit>) -> anyhow::Result<Self> {
        Ok(Self(sluice_intel::IntelIndex::from_hits(hits)?))
    }
}

impl Matcher for IntelMatcher {
    fn name(&self) -> &'static str {
        "intel"
    }

    fn check(&self, dep: &Dependency) -> Vec<AuditFinding> {
        let Some(pkg) = self.0.package(dep.ecosystem, dep.name.as_str()) else {
            return Vec::new();
        };
        let matches: Vec<sluice_intel::Match> = match dep.version.as_deref() {
            Some(v) => pkg.matches(v),
            None => pkg.whole_package().into_iter().collect(),
        };
        if matches.is_empty() {
            return Vec::new();
        }
        let version = dep.version.as_deref().unwrap_or("(any version)");
        let first = &matches[0];
        vec![AuditFinding {
            rule: "AUD806".into(),
            source: "intel",
            severity: Severity::Critical,
            level: VerdictLevel::Malicious,
            message: format!(
                "`{}` {version} is on the malicious-package list ({}: {})",
                dep.name, first.id, first.summary
            ),
            ids: matches.iter().map(|m| m.id.clone()).collect(),
            evidence: matches
                .iter()
                .map(|m| {
                    if m.whole_package {
                        format!("{}: every version", m.id)
                    } else {
                        format!("{}: this version", m.id)
                    }
                })
                .collect(),
        }]
    }
}
