//! Matching a package version against the stored records.
//!
//! A record's affected entry matches a version when the version is in its
//! exact `versions` list or inside one of its ranges. Ranges follow the
//! OSV evaluation rules: events sorted by version (`introduced: "0"`
//! first); walking them, `introduced` at or below the version turns the
//! range on, `fixed` at or below turns it off, `last_affected` strictly
//! below turns it off; a `limit` at or below the version rules the whole
//! range out. `introduced: "0"` with nothing after it means every
//! version, published or not yet: such a record covers the whole package.
//!
//! Two ways to hold the list:
//! - [`IntelIndex`] loads every active record once (for bulk checks such
//!   as auditing a lockfile);
//! - [`LiveIntel`] loads one package's records on first use and keeps
//!   them until the store's intel generation changes (for the gate, where
//!   a request must stay cheap and an import must take effect at once).

use std::cmp::Ordering;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use sluice_model::{Ecosystem, PackageName};
use sluice_store::{IntelPackageHit, Store};

use crate::IntelError;
use crate::osv::{EventKind, MatcherData};
use crate::version::EcoVersion;

/// One record that matched a version.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Match {
    /// The record's id (`MAL-2024-4922`).
    pub id: String,
    /// The record's summary.
    pub summary: String,
    /// Whether the record covers every version of the package.
    pub whole_package: bool,
}

#[derive(Clone, Debug)]
enum Bound {
    Zero,
    At(EcoVersion),
}

impl Bound {
    fn cmp_version(&self, v: &EcoVersion) -> Ordering {
        match self {
            Bound::Zero => Ordering::Less,
            Bound::At(b) => b.cmp_eco(v),
        }
    }
}

#[derive(Clone, Debug)]
struct Range {
    /// Events sorted by bound, limits kept apart.
    events: Vec<(EventKind, Bound)>,
    limits: Vec<EcoVersion>,
    /// `introduced: "0"` and no other event: every version.
    all: bool,
}

impl Range {
    fn contains(&self, v: &EcoVersion) -> bool {
        if self.all {
            return true;
        }
        if self
            .limits
            .iter()
            .any(|l| l.cmp_eco(v) != Ordering::Greater)
        {
            return false;
        }
        let mut on = false;
        for (kind, bound) in &self.events {
            let c = bound.cmp_version(v);
            match kind {
                EventKind::Introduced if c != Ordering::Greater => on = true,
                EventKind::Fixed if c != Ordering::Greater => on = false,
                EventKind::LastAffected if c == Ordering::Less => on = false,
                _ => {}
            }
        }
        on
    }
}

/// The compiled matching data of one record for one package.
#[derive(Clone, Debug)]
struct Entry {
    id: String,
    summary: String,
    ranges: Vec<Range>,
    versions: Vec<String>,
    parsed_versions: Vec<EcoVersion>,
    all: bool,
}

impl Entry {
    fn compile(eco: Ecosystem, hit: &IntelPackageHit) -> Result<Self, IntelError> {
        let corrupt = |why: String| {
            IntelError::Corrupt(format!(
                "record {} for {}:{}: {why}",
                hit.record_id, hit.ecosystem, hit.name
            ))
        };
        let data: MatcherData =
            serde_json::from_str(&hit.matcher).map_err(|e| corrupt(e.to_string()))?;
        let mut ranges = Vec::with_capacity(data.ranges.len());
        for events in &data.ranges {
            let mut evs = Vec::with_capacity(events.len());
            let mut limits = Vec::new();
            for e in events {
                let bound = if e.1 == "0" {
                    Bound::Zero
                } else {
                    Bound::At(EcoVersion::parse(eco, &e.1).map_err(corrupt)?)
                };
                match (e.0, bound) {
                    (EventKind::Limit, Bound::At(v)) => limits.push(v),
                    (EventKind::Limit, Bound::Zero) => {}
                    (k, b) => evs.push((k, b)),
                }
            }
            // Stable sort: events at the same version keep record order.
            evs.sort_by(|a, b| match (&a.1, &b.1) {
                (Bound::Zero, Bound::Zero) => Ordering::Equal,
                (Bound::Zero, Bound::At(_)) => Ordering::Less,
                (Bound::At(_), Bound::Zero) => Ordering::Greater,
                (Bound::At(x), Bound::At(y)) => x.cmp_eco(y),
            });
            let all = limits.is_empty()
                && evs
                    .iter()
                    .all(|(k, b)| *k == EventKind::Introduced && matches!(b, Bound::Zero))
                && !evs.is_empty();
            ranges.push(Range {
                events: evs,
                limits,
                all,
            });
        }
        let parsed_versions = data
            .versions
            .iter()
            .filter_map(|v| EcoVersion::parse(eco, v).ok())
            .collect();
        Ok(Self {
            id: hit.record_id.clone(),
            summary: hit.summary.clone(),
            all: ranges.iter().any(|r| r.all),
            ranges,
            versions: data.versions,
            parsed_versions,
        })
    }

    fn matches(&self, raw: &str, parsed: Option<&EcoVersion>) -> bool {
        if self.all {
            return true;
        }
        let raw = raw.trim();
        if self.versions.iter().any(|v| v == raw) {
            return true;
        }
        // A version that does not parse can only match by its exact
        // string (above): it cannot be placed inside a range.
        let Some(v) = parsed else {
            return false;
        };
        self.parsed_versions
            .iter()
            .any(|p| p.cmp_eco(v) == Ordering::Equal)
            || self.ranges.iter().any(|r| r.contains(v))
    }

    fn to_match(&self) -> Match {
        Match {
            id: self.id.clone(),
            summary: self.summary.clone(),
            whole_package: self.all,
        }
    }
}

/// The active records naming one package, compiled for matching.
#[derive(Clone, Debug, Default)]
pub struct PackageIntel {
    eco: Option<Ecosystem>,
    entries: Vec<Entry>,
}

impl PackageIntel {
    /// Compile the stored rows of one package (as returned by
    /// [`Store::intel_hits`]).
    ///
    /// # Errors
    /// A row's matching data does not decode.
    pub fn from_hits(eco: Ecosystem, hits: &[IntelPackageHit]) -> Result<Self, IntelError> {
        Ok(Self {
            eco: Some(eco),
            entries: hits
                .iter()
                .map(|h| Entry::compile(eco, h))
                .collect::<Result<_, _>>()?,
        })
    }

    /// No record names this package.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The records that match `version`, in id order.
    #[must_use]
    pub fn matches(&self, version: &str) -> Vec<Match> {
        if self.entries.is_empty() {
            return Vec::new();
        }
        let parsed = self.eco.and_then(|e| EcoVersion::parse(e, version).ok());
        self.entries
            .iter()
            .filter(|e| e.matches(version, parsed.as_ref()))
            .map(Entry::to_match)
            .collect()
    }

    /// The first record (in id order) that matches `version`, if any:
    /// the gate's per-version check.
    #[must_use]
    pub fn first_match(&self, version: &str) -> Option<Match> {
        if self.entries.is_empty() {
            return None;
        }
        let parsed = self.eco.and_then(|e| EcoVersion::parse(e, version).ok());
        self.entries
            .iter()
            .find(|e| e.matches(version, parsed.as_ref()))
            .map(Entry::to_match)
    }

    /// A record that covers every version of the package, if any.
    #[must_use]
    pub fn whole_package(&self) -> Option<Match> {
        self.entries.iter().find(|e| e.all).map(Entry::to_match)
    }

    /// The ids of every record naming the package.
    pub fn ids(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().map(|e| e.id.as_str())
    }
}

/// Compiled records by (ecosystem, normalised name).
type ByPackage = HashMap<(Ecosystem, Box<str>), Arc<PackageIntel>>;

fn group(hits: Vec<IntelPackageHit>) -> Result<ByPackage, IntelError> {
    let mut by: HashMap<(Ecosystem, Box<str>), Vec<IntelPackageHit>> = HashMap::new();
    for h in hits {
        let Ok(eco) = h.ecosystem.parse::<Ecosystem>() else {
            continue;
        };
        by.entry((eco, h.name.as_str().into())).or_default().push(h);
    }
    by.into_iter()
        .map(|(k, mut v)| {
            v.sort_by(|a, b| a.record_id.cmp(&b.record_id));
            let p = PackageIntel::from_hits(k.0, &v)?;
            Ok((k, Arc::new(p)))
        })
        .collect()
}

/// Every active record, loaded once: for checking many packages at a
/// time (an audit of lockfiles). Does not see later imports; load again.
#[derive(Debug, Default)]
pub struct IntelIndex {
    by_package: ByPackage,
    records: usize,
}

impl IntelIndex {
    /// Load every active record from the store.
    ///
    /// # Errors
    /// Database failure, or a stored row that does not decode.
    pub fn load(store: &Store) -> Result<Self, IntelError> {
        Self::from_hits(store.intel_all_hits()?)
    }

    /// Build the index from active records' package rows (what
    /// [`Store::intel_all_hits`] returns, here or on a remote gate).
    ///
    /// # Errors
    /// A row whose matching data does not decode.
    pub fn from_hits(hits: Vec<IntelPackageHit>) -> Result<Self, IntelError> {
        let records = {
            let mut ids: Vec<&str> = hits.iter().map(|h| h.record_id.as_str()).collect();
            ids.sort_unstable();
            ids.dedup();
            ids.len()
        };
        Ok(Self {
            by_package: group(hits)?,
            records,
        })
    }

    /// How many active records name a PyPI or npm package.
    #[must_use]
    pub fn records(&self) -> usize {
        self.records
    }

    /// How many distinct packages the records name.
    #[must_use]
    pub fn packages(&self) -> usize {
        self.by_package.len()
    }

    /// The records of one package (`name` normalised).
    #[must_use]
    pub fn package(&self, eco: Ecosystem, name: &str) -> Option<&Arc<PackageIntel>> {
        self.by_package.get(&(eco, Box::from(name)))
    }

    /// The records matching a package version. The name is normalised
    /// here (PEP 503, npm lower case), so a lockfile's spelling can be
    /// passed as is.
    #[must_use]
    pub fn matches(&self, name: &PackageName, version: &str) -> Vec<Match> {
        self.package(name.ecosystem(), name.as_str())
            .map(|p| p.matches(version))
            .unwrap_or_default()
    }
}

/// The most packages [`LiveIntel`] keeps before it starts over.
const LIVE_CAP: usize = 50_000;

#[derive(Debug, Default)]
struct LiveState {
    generation: Option<i64>,
    by_package: ByPackage,
}

/// The gate's view of the list: one package's records are read from the
/// store (one indexed query) on first use and kept, negative answers
/// included, until an import changes the store's intel generation, which
/// is read on every call (one primary-key read). So a request costs a
/// generation read and a hash look-up, and an import (by `sluice db
/// import`, another process) takes effect on the next request.
#[derive(Debug, Default)]
pub struct LiveIntel {
    state: Mutex<LiveState>,
}

impl LiveIntel {
    /// An empty cache.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// The active records naming one package (`name` normalised).
    ///
    /// # Errors
    /// Database failure, or a stored row that does not decode.
    pub fn package(
        &self,
        store: &Store,
        eco: Ecosystem,
        name: &str,
    ) -> Result<Arc<PackageIntel>, IntelError> {
        let generation = store.intel_generation()?;
        let key = (eco, Box::from(name));
        {
            let mut st = self
                .state
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if st.generation != Some(generation) || st.by_package.len() > LIVE_CAP {
                st.by_package.clear();
                st.generation = Some(generation);
            }
            if let Some(p) = st.by_package.get(&key) {
                return Ok(Arc::clone(p));
            }
        }
        let hits = store.intel_hits(eco.prefix(), name)?;
        let p = Arc::new(PackageIntel::from_hits(eco, &hits)?);
        let mut st = self
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        // Only cache what was read under the generation still in force.
        if st.generation == Some(generation) {
            st.by_package.insert(key, Arc::clone(&p));
        }
        Ok(p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(eco: Ecosystem, matcher: &str) -> PackageIntel {
        let hit = IntelPackageHit {
            record_id: "MAL-1".into(),
            summary: "s".into(),
            ecosystem: eco.prefix().into(),
            name: "x".into(),
            matcher: matcher.into(),
        };
        PackageIntel::from_hits(eco, &[hit]).unwrap()
    }

    fn yes(p: &PackageIntel, v: &str) -> bool {
        !p.matches(v).is_empty()
    }

    #[test]
    fn introduced_zero_is_every_version() {
        let p = entry(Ecosystem::Npm, r#"{"r":[[["introduced","0"]]]}"#);
        for v in ["0.0.1", "1.0.0", "99.99.99", "1.0.0-rc.1", "not-a-version"] {
            assert!(yes(&p, v), "{v}");
        }
        assert!(p.whole_package().is_some());
    }

    #[test]
    fn fixed_and_last_affected_bound_the_range() {
        let p = entry(
            Ecosystem::PyPI,
            r#"{"r":[[["introduced","1.0"],["fixed","1.5"],["introduced","2.0"],["last_affected","2.1"]]]}"#,
        );
        assert!(!yes(&p, "0.9"));
        assert!(yes(&p, "1.0"));
        assert!(yes(&p, "1.0.0"));
        assert!(yes(&p, "1.4.99"));
        assert!(yes(&p, "1.5rc1"), "a pre-release of the fix is before it");
        assert!(!yes(&p, "1.5"));
        assert!(!yes(&p, "1.9"));
        assert!(yes(&p, "2.1"));
        assert!(!yes(&p, "2.1.post1"));
        assert!(!yes(&p, "3"));
        assert!(!yes(&p, "garbage"));
        assert!(p.whole_package().is_none());
    }

    #[test]
    fn events_out_of_order_are_sorted_and_limit_caps() {
        let p = entry(
            Ecosystem::Npm,
            r#"{"r":[[["fixed","2.0.0"],["introduced","1.0.0"]],[["introduced","0"],["limit","0.5.0"]]]}"#,
        );
        assert!(yes(&p, "1.2.3"));
        assert!(!yes(&p, "2.0.0"));
        assert!(yes(&p, "0.4.9"));
        assert!(!yes(&p, "0.5.0"));
        assert!(!yes(&p, "0.9.0"));
        assert!(
            yes(&p, "2.0.0-beta.1"),
            "npm pre-release of the fix is affected"
        );
        assert!(p.whole_package().is_none());
    }

    #[test]
    fn exact_versions_match_by_ecosystem_equality_or_string() {
        let p = entry(Ecosystem::PyPI, r#"{"v":["1.0","weird-legacy"]}"#);
        assert!(yes(&p, "1.0"));
        assert!(yes(&p, "1.0.0"), "PEP 440: 1.0 == 1.0.0");
        assert!(yes(&p, "weird-legacy"));
        assert!(!yes(&p, "1.0.1"));
        let n = entry(Ecosystem::Npm, r#"{"v":["1.0.0"]}"#);
        assert!(yes(&n, "v1.0.0"));
        assert!(!yes(&n, "1.0.0-rc.1"));
        assert!(!yes(&n, "1.0.1"));
    }

    #[test]
    fn live_intel_sees_imports_at_once() {
        let store = Store::in_memory().unwrap();
        let live = LiveIntel::new();
        assert!(
            live.package(&store, Ecosystem::PyPI, "evil")
                .unwrap()
                .is_empty()
        );
        let rec = crate::osv::check_record(
            "t.json",
            br#"{"id":"MAL-9","modified":"2024-01-01T00:00:00Z","summary":"bad",
                "affected":[{"package":{"ecosystem":"PyPI","name":"Evil"},"versions":["1.0"]}]}"#,
        )
        .unwrap();
        store.intel_apply(&[rec.row]).unwrap();
        let p = live.package(&store, Ecosystem::PyPI, "evil").unwrap();
        assert_eq!(p.first_match("1.0").unwrap().id, "MAL-9");
        assert!(p.first_match("2.0").is_none());
        let idx = IntelIndex::load(&store).unwrap();
        assert_eq!(idx.records(), 1);
        let name = PackageName::parse(Ecosystem::PyPI, "EVIL").unwrap();
        assert_eq!(idx.matches(&name, "1.0.0").len(), 1);
    }
}
