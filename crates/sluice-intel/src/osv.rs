//! OSV records: the fields sluice reads, and their validation.
//!
//! Schema: <https://ossf.github.io/osv-schema/>. Only what matching,
//! listing and incremental import need is typed; every other field
//! (`references`, `credits`, `severity`, `database_specific`, …) stays in
//! the stored JSON body, untouched. Unknown fields are ignored as the
//! schema asks; a typed field of the wrong JSON type, a duplicate key, a
//! range that cannot be evaluated or a package name its registry would
//! refuse makes the whole record an error (reported with its file), never
//! a partial record.

use serde::{Deserialize, Serialize};
use sluice_model::{Ecosystem, PackageName};

use crate::version::{EcoVersion, MAX_VERSION_LEN, clip};

/// The largest OSV file read (real `MAL-` records are a few KiB; the
/// largest advisories with long version lists stay well under this).
pub const MAX_RECORD_BYTES: u64 = 8 << 20;
/// The most `versions` entries one affected package may list.
pub const MAX_VERSIONS: usize = 100_000;
/// The most affected packages, ranges or events one record may hold.
pub const MAX_ITEMS: usize = 10_000;
/// The longest id accepted.
pub const MAX_ID_LEN: usize = 128;
/// Summaries are clipped to this many characters when stored.
pub const MAX_SUMMARY: usize = 500;

/// An OSV record as read from JSON (the typed subset).
#[derive(Clone, Debug, Deserialize)]
pub struct OsvRecord {
    /// The record's id (`MAL-2024-4922`).
    pub id: String,
    /// When the record last changed (RFC 3339).
    pub modified: String,
    /// When it was first published.
    #[serde(default)]
    pub published: Option<String>,
    /// When it was withdrawn; a withdrawn record matches nothing.
    #[serde(default)]
    pub withdrawn: Option<String>,
    /// Other ids of the same issue.
    #[serde(default)]
    pub aliases: Vec<String>,
    /// One-line summary.
    #[serde(default)]
    pub summary: Option<String>,
    /// Longer description (Markdown).
    #[serde(default)]
    pub details: Option<String>,
    /// The affected packages.
    #[serde(default)]
    pub affected: Vec<OsvAffected>,
    /// Database-specific data, kept as is.
    #[serde(default)]
    pub database_specific: Option<serde_json::Value>,
}

/// One affected package of a record.
#[derive(Clone, Debug, Deserialize)]
pub struct OsvAffected {
    /// The package (absent for repository-only entries).
    #[serde(default)]
    pub package: Option<OsvPackage>,
    /// Version ranges.
    #[serde(default)]
    pub ranges: Vec<OsvRange>,
    /// Exact affected versions.
    #[serde(default)]
    pub versions: Vec<String>,
    /// Database-specific data of this entry.
    #[serde(default)]
    pub database_specific: Option<serde_json::Value>,
}

/// A package named by an affected entry.
#[derive(Clone, Debug, Deserialize)]
pub struct OsvPackage {
    /// OSV ecosystem name (`PyPI`, `npm`, `crates.io`, …).
    pub ecosystem: String,
    /// Name as the registry spells it.
    pub name: String,
    /// Package URL, when given.
    #[serde(default)]
    pub purl: Option<String>,
}

/// A version range: events in one ordering.
#[derive(Clone, Debug, Deserialize)]
pub struct OsvRange {
    /// `ECOSYSTEM`, `SEMVER` or `GIT`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Repository, for `GIT` ranges.
    #[serde(default)]
    pub repo: Option<String>,
    /// Events, each an object with exactly one key.
    pub events: Vec<RawEvent>,
}

/// One event object as written: its keys and string values in order.
/// A repeated key is an error (serde_json's maps keep the last value
/// silently, and another reader might keep the first: a record that two
/// tools would read differently is refused).
#[derive(Clone, Debug, Default)]
pub struct RawEvent(pub Vec<(String, String)>);

impl<'de> Deserialize<'de> for RawEvent {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = RawEvent;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an event object such as {\"introduced\": \"1.0\"}")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut m: A,
            ) -> Result<RawEvent, A::Error> {
                let mut out: Vec<(String, String)> = Vec::new();
                while let Some((k, v)) = m.next_entry::<String, String>()? {
                    if out.iter().any(|(seen, _)| *seen == k) {
                        return Err(serde::de::Error::custom(format_args!(
                            "duplicate event key `{}`",
                            clip(&k)
                        )));
                    }
                    // Four kinds exist; more keys than that is garbage.
                    if out.len() >= 8 {
                        return Err(serde::de::Error::custom("event object with too many keys"));
                    }
                    out.push((k, v));
                }
                Ok(RawEvent(out))
            }
        }
        d.deserialize_map(V)
    }
}

/// What an event does at its version.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// Affected from this version on (inclusive).
    Introduced,
    /// Not affected from this version on.
    Fixed,
    /// Affected up to this version (inclusive), not after.
    LastAffected,
    /// No version at or above this is affected by the range.
    Limit,
}

impl EventKind {
    fn parse(key: &str) -> Option<Self> {
        match key {
            "introduced" => Some(Self::Introduced),
            "fixed" => Some(Self::Fixed),
            "last_affected" => Some(Self::LastAffected),
            "limit" => Some(Self::Limit),
            _ => None,
        }
    }
}

/// One event in the compact matcher form stored with each package row.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventData(pub EventKind, pub String);

/// The matching data of one affected package, stored as compact JSON in
/// the package row: the ranges (events in record order) and the exact
/// versions. Validated on import, so reading it back cannot fail on a
/// range that does not evaluate.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MatcherData {
    /// Ranges that take part in matching (GIT ranges are left out).
    #[serde(default, rename = "r", skip_serializing_if = "Vec::is_empty")]
    pub ranges: Vec<Vec<EventData>>,
    /// Exact versions.
    #[serde(default, rename = "v", skip_serializing_if = "Vec::is_empty")]
    pub versions: Vec<String>,
}

/// A record checked and ready to store.
#[derive(Clone, Debug)]
pub struct CheckedRecord {
    /// The row for the store.
    pub row: sluice_store::IntelRecordRow,
    /// Affected entries of ecosystems sluice does not match (kept, not
    /// matched).
    pub other_ecosystems: u32,
    /// GIT ranges (kept in the body, not matched: sluice compares
    /// versions, not commits).
    pub git_ranges: u32,
}

/// Why a record was not imported.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("{file}: {reason}")]
pub struct RecordError {
    /// The file (or archive entry, or URL) the record came from.
    pub file: String,
    /// What is wrong, with the JSON line and column where known.
    pub reason: String,
}

/// Normalise an RFC 3339 time to UTC with nine fraction digits, so that
/// string order is time order in the store.
///
/// # Errors
/// The string is not an RFC 3339 date-time.
pub fn normalise_time(field: &str, s: &str) -> Result<String, String> {
    chrono::DateTime::parse_from_rfc3339(s.trim())
        .map(|t| {
            t.with_timezone(&chrono::Utc)
                .to_rfc3339_opts(chrono::SecondsFormat::Nanos, true)
        })
        .map_err(|e| format!("`{field}` is not an RFC 3339 time (`{}`): {e}", clip(s)))
}

/// The ecosystems sluice matches, from an OSV ecosystem string. OSV
/// allows a suffix after `:` (`Debian:11`); sluice's two have none, so
/// only the exact names count.
#[must_use]
pub fn matched_ecosystem(osv: &str) -> Option<Ecosystem> {
    match osv {
        "PyPI" => Some(Ecosystem::PyPI),
        "npm" => Some(Ecosystem::Npm),
        _ => None,
    }
}

fn check_id(id: &str) -> Result<(), String> {
    if id.is_empty() {
        return Err("`id` is empty".into());
    }
    if id.len() > MAX_ID_LEN {
        return Err(format!("`id` is longer than {MAX_ID_LEN} bytes"));
    }
    // Ids become file names on export and appear in HTTP reasons: keep
    // them to the schema's character set.
    if let Some(c) = id
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':')))
    {
        return Err(format!(
            "`id` `{}` contains `{}`",
            clip(id),
            c.escape_debug()
        ));
    }
    Ok(())
}

/// Check one range and turn it into matcher data (None for GIT ranges).
fn check_range(eco: Ecosystem, r: &OsvRange, n: usize) -> Result<Option<Vec<EventData>>, String> {
    let at = |msg: String| format!("affected range {n}: {msg}");
    match r.kind.as_str() {
        "GIT" => return Ok(None),
        "ECOSYSTEM" | "SEMVER" => {}
        other => return Err(at(format!("unknown range type `{}`", clip(other)))),
    }
    if r.events.is_empty() {
        return Err(at("no events".into()));
    }
    if r.events.len() > MAX_ITEMS {
        return Err(at(format!("more than {MAX_ITEMS} events")));
    }
    let mut out = Vec::with_capacity(r.events.len());
    for (i, e) in r.events.iter().enumerate() {
        let [(k, v)] = e.0.as_slice() else {
            return Err(at(format!(
                "event {i} must have exactly one of introduced, fixed, last_affected, limit (has {})",
                e.0.len()
            )));
        };
        let kind = EventKind::parse(k)
            .ok_or_else(|| at(format!("event {i} has unknown kind `{}`", clip(k))))?;
        let zero = v.trim() == "0";
        if zero && kind != EventKind::Introduced {
            return Err(at(format!(
                "event {i}: `{k}: \"0\"` is only valid for introduced"
            )));
        }
        if !zero {
            EcoVersion::parse(eco, v).map_err(|err| at(format!("event {i} ({k}): {err}")))?;
        }
        out.push(EventData(kind, v.trim().to_owned()));
    }
    if !out.iter().any(|e| e.0 == EventKind::Introduced) {
        return Err(at("no `introduced` event".into()));
    }
    Ok(Some(out))
}

/// Parse and check one record from its bytes. `file` names it in errors.
///
/// # Errors
/// Invalid UTF-8 or JSON, a wrong type, a duplicate key, an invalid id or
/// time, a package name its registry would refuse, or a range that
/// cannot be evaluated.
pub fn check_record(file: &str, bytes: &[u8]) -> Result<CheckedRecord, RecordError> {
    let err = |reason: String| RecordError {
        file: file.to_owned(),
        reason,
    };
    let text = std::str::from_utf8(bytes).map_err(|e| err(format!("not UTF-8: {e}")))?;
    // serde_json stops at 128 levels of nesting, so a deeply nested
    // record is an error here, not a stack overflow.
    let rec: OsvRecord =
        serde_json::from_str(text).map_err(|e| err(format!("not an OSV record: {e}")))?;
    check_parsed(file, text, &rec).map_err(err)
}

fn check_parsed(file: &str, text: &str, rec: &OsvRecord) -> Result<CheckedRecord, String> {
    check_id(&rec.id)?;
    let modified = normalise_time("modified", &rec.modified)?;
    if let Some(w) = &rec.withdrawn {
        normalise_time("withdrawn", w)?;
    }
    if rec.affected.len() > MAX_ITEMS {
        return Err(format!("more than {MAX_ITEMS} affected entries"));
    }
    let mut packages = Vec::new();
    let mut other = 0u32;
    let mut git = 0u32;
    for (ai, a) in rec.affected.iter().enumerate() {
        let Some(pkg) = &a.package else {
            other += 1;
            continue;
        };
        if a.ranges.len() > MAX_ITEMS {
            return Err(format!("affected {ai}: more than {MAX_ITEMS} ranges"));
        }
        if a.versions.len() > MAX_VERSIONS {
            return Err(format!("affected {ai}: more than {MAX_VERSIONS} versions"));
        }
        if let Some(v) = a.versions.iter().find(|v| v.len() > MAX_VERSION_LEN) {
            return Err(format!(
                "affected {ai}: version `{}` is longer than {MAX_VERSION_LEN} bytes",
                clip(v)
            ));
        }
        let Some(eco) = matched_ecosystem(&pkg.ecosystem) else {
            // Kept in the body, findable by `db show`, never matched.
            other += 1;
            continue;
        };
        let name = PackageName::parse(eco, &pkg.name)
            .map_err(|e| format!("affected {ai}: package name: {e}"))?;
        let mut ranges = Vec::new();
        for (ri, r) in a.ranges.iter().enumerate() {
            match check_range(eco, r, ri).map_err(|e| format!("affected {ai}: {e}"))? {
                Some(events) => ranges.push(events),
                None => git += 1,
            }
        }
        // A listed version that is not valid for its ecosystem (PyPI has
        // legacy versions) still matches by its exact string.
        let versions: Vec<String> = a.versions.iter().map(|v| v.trim().to_owned()).collect();
        let data = MatcherData { ranges, versions };
        let matcher = serde_json::to_string(&data).map_err(|e| e.to_string())?;
        packages.push(sluice_store::IntelPackageRow {
            ecosystem: eco.prefix().to_owned(),
            name: name.as_str().to_owned(),
            matcher,
        });
    }
    // One line for listings: the summary, else the first line of the
    // details, clipped.
    let summary = rec
        .summary
        .as_deref()
        .or(rec.details.as_deref())
        .unwrap_or("")
        .trim()
        .lines()
        .next()
        .unwrap_or("");
    let summary = if summary.chars().count() > MAX_SUMMARY {
        let mut s: String = summary.chars().take(MAX_SUMMARY).collect();
        s.push('…');
        s
    } else {
        summary.to_owned()
    };
    Ok(CheckedRecord {
        row: sluice_store::IntelRecordRow {
            id: rec.id.clone(),
            modified,
            published: rec.published.clone(),
            withdrawn: rec.withdrawn.clone(),
            summary,
            source: file.to_owned(),
            body: text.trim().to_owned(),
            packages,
        },
        other_ecosystems: other,
        git_ranges: git,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(affected: &str) -> String {
        format!(
            r#"{{"id":"MAL-0000-1","modified":"2024-01-02T03:04:05Z","summary":"Malicious code in x","affected":{affected}}}"#
        )
    }

    #[test]
    fn reads_a_record_with_ranges_and_versions() {
        let r = check_record(
            "a.json",
            rec(r#"[{"package":{"ecosystem":"PyPI","name":"Evil_Pkg","purl":"pkg:pypi/evil-pkg"},
                "ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"}]}],"versions":["1.0"]}]"#)
                .as_bytes(),
        )
        .unwrap();
        assert_eq!(r.row.id, "MAL-0000-1");
        assert_eq!(r.row.modified, "2024-01-02T03:04:05.000000000Z");
        assert_eq!(r.row.packages.len(), 1);
        assert_eq!(r.row.packages[0].ecosystem, "pypi");
        assert_eq!(r.row.packages[0].name, "evil-pkg");
        let m: MatcherData = serde_json::from_str(&r.row.packages[0].matcher).unwrap();
        assert_eq!(m.versions, vec!["1.0".to_owned()]);
        assert_eq!(m.ranges[0][0], EventData(EventKind::Introduced, "0".into()));
    }

    #[test]
    fn other_ecosystems_and_git_ranges_are_kept_but_not_matched() {
        let r = check_record(
            "a.json",
            rec(r#"[{"package":{"ecosystem":"crates.io","name":"x"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"}]}]},
                {"package":{"ecosystem":"npm","name":"y"},"ranges":[{"type":"GIT","repo":"r","events":[{"introduced":"abc"}]}]}]"#)
                .as_bytes(),
        )
        .unwrap();
        assert_eq!(r.other_ecosystems, 1);
        assert_eq!(r.git_ranges, 1);
        assert_eq!(r.row.packages.len(), 1);
    }

    fn bad(affected: &str) -> String {
        check_record("bad.json", rec(affected).as_bytes())
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn invalid_ranges_are_errors_naming_the_file() {
        let p = r#"{"ecosystem":"npm","name":"x"}"#;
        for (ranges, want) in [
            (r#"[{"type":"SEMVER","events":[]}]"#, "no events"),
            (
                r#"[{"type":"SEMVER","events":[{"fixed":"1.0.0"}]}]"#,
                "no `introduced`",
            ),
            (
                r#"[{"type":"SEMVER","events":[{"introduced":"banana"}]}]"#,
                "not a semver",
            ),
            (
                r#"[{"type":"SEMVER","events":[{"introduced":"0","fixed":"1.0.0"}]}]"#,
                "exactly one",
            ),
            (
                r#"[{"type":"SEMVER","events":[{"broken":"1.0.0"}]}]"#,
                "unknown kind",
            ),
            (
                r#"[{"type":"RANGE","events":[{"introduced":"0"}]}]"#,
                "unknown range type",
            ),
            (
                r#"[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"0"}]}]"#,
                "only valid for introduced",
            ),
        ] {
            let e = bad(&format!(r#"[{{"package":{p},"ranges":{ranges}}}]"#));
            assert!(e.starts_with("bad.json: "), "{e}");
            assert!(e.contains(want), "{want}: {e}");
        }
        let e = bad(
            r#"[{"package":{"ecosystem":"PyPI","name":"x"},"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"not.a.version!"}]}]}]"#,
        );
        assert!(e.contains("PEP 440"), "{e}");
    }

    #[test]
    fn hostile_and_malformed_input_is_an_error_not_a_panic() {
        let e = |b: &[u8]| check_record("h.json", b).unwrap_err().to_string();
        assert!(e(b"{\"id\": ").contains("line 1"));
        assert!(e(b"\xff\xfe{}").contains("not UTF-8"));
        assert!(e(br#"{"id":5,"modified":"2024-01-01T00:00:00Z"}"#).contains("invalid type"));
        assert!(
            e(br#"{"id":"A","id":"B","modified":"2024-01-01T00:00:00Z"}"#)
                .contains("duplicate field")
        );
        assert!(e(br#"{"id":"A","modified":"yesterday"}"#).contains("RFC 3339"));
        assert!(
            e(br#"{"id":"../../etc/passwd","modified":"2024-01-01T00:00:00Z"}"#)
                .contains("contains")
        );
        let deep = format!(
            r#"{{"id":"A","modified":"2024-01-01T00:00:00Z","database_specific":{}1{}}}"#,
            "[".repeat(100_000),
            "]".repeat(100_000)
        );
        assert!(e(deep.as_bytes()).contains("recursion limit"));
        let huge = format!(
            r#"{{"id":"A","modified":"2024-01-01T00:00:00Z","affected":[{{"package":{{"ecosystem":"npm","name":"{}"}}}}]}}"#,
            "a".repeat(1_000_000)
        );
        assert!(e(huge.as_bytes()).contains("at most 214"));
        let long_version = format!(
            r#"{{"id":"A","modified":"2024-01-01T00:00:00Z","affected":[{{"package":{{"ecosystem":"npm","name":"a"}},"versions":["{}"]}}]}}"#,
            "1".repeat(10_000)
        );
        assert!(e(long_version.as_bytes()).contains("longer than 256"));
        assert!(e(br#"[1,2,3]"#).contains("not an OSV record"));
    }

    #[test]
    fn withdrawn_needs_a_valid_time_and_summary_is_clipped() {
        let long = "s".repeat(2_000);
        let r = check_record(
            "w.json",
            format!(r#"{{"id":"A","modified":"2024-01-01T00:00:00+02:00","withdrawn":"2024-01-01T00:00:00Z","summary":"{long}"}}"#).as_bytes(),
        )
        .unwrap();
        assert_eq!(r.row.modified, "2023-12-31T22:00:00.000000000Z");
        assert!(r.row.withdrawn.is_some());
        assert_eq!(r.row.summary.chars().count(), MAX_SUMMARY + 1);
        assert!(
            check_record(
                "w.json",
                br#"{"id":"A","modified":"2024-01-01T00:00:00Z","withdrawn":"soon"}"#
            )
            .is_err()
        );
    }
}
