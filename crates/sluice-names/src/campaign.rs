//! Flood campaigns: clusters of uploads sharing an author, e-mail or
//! indicator, with burst timing and the share of members imitating popular
//! names.
//!
//! Input is JSON lines, one upload event each:
//! ```json
//! {"name":"mysl-python","version":"1.0.0","author":"jackson",
//!  "email":"x@example.com","time":"2021-07-27T10:00:00Z",
//!  "indicators":["175.24.100.2"],"ecosystem":"pypi"}
//! ```
//! `time` may also be `upload_time`, and may be RFC 3339, `YYYY-MM-DD
//! HH:MM:SS` (UTC) or Unix seconds. `email` may also be `author_email`.

use std::collections::HashMap;
use std::io::BufRead;

use serde::{Deserialize, Serialize};
use sluice_model::{Ecosystem, PackageName};

use crate::engine::{Engine, NameVerdict};

/// One upload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadEvent {
    /// Package name.
    pub name: String,
    /// Version uploaded.
    #[serde(default)]
    pub version: Option<String>,
    /// Author or maintainer name.
    #[serde(default)]
    pub author: Option<String>,
    /// Author e-mail.
    #[serde(default, alias = "author_email")]
    pub email: Option<String>,
    /// Upload time (see module docs for accepted forms).
    #[serde(default, alias = "upload_time", alias = "uploaded")]
    pub time: Option<serde_json::Value>,
    /// Indicators the scan found (IPs, domains, URLs, hashes).
    #[serde(default)]
    pub indicators: Vec<String>,
    /// `pypi` or `npm`; the reader's default when absent.
    #[serde(default)]
    pub ecosystem: Option<String>,
}

/// A line of the input that could not be used.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BadEvent {
    /// 1-based line number.
    pub line: usize,
    /// Why.
    pub reason: String,
}

/// One cluster of uploads.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Cluster {
    /// Number of uploads.
    pub size: usize,
    /// Number of distinct package names.
    pub names: usize,
    /// Attributes shared by at least half of the members
    /// (`author:…`, `email:…`, `indicator:…`).
    pub shared: Vec<String>,
    /// The most common version and the share of members carrying it.
    pub common_version: Option<(String, f32)>,
    /// First and last upload (Unix seconds), when times were given.
    pub first: Option<i64>,
    /// Last upload (Unix seconds).
    pub last: Option<i64>,
    /// Most uploads inside any 24-hour window.
    pub peak_per_day: usize,
    /// Share of members whose name imitates a popular (or private) name.
    pub imitating: f32,
    /// Most imitated targets with counts, most frequent first.
    pub targets: Vec<(String, usize)>,
    /// Up to 10 member names.
    pub sample: Vec<String>,
    /// 0..=1: size, burst and imitation share combined.
    pub score: f32,
}

/// Read JSON-lines events. Bad lines are returned with their numbers; the
/// rest is kept.
///
/// # Errors
/// Only on I/O failure.
pub fn read_events(r: impl BufRead) -> std::io::Result<(Vec<UploadEvent>, Vec<BadEvent>)> {
    let mut ok = Vec::new();
    let mut bad = Vec::new();
    for (i, line) in r.lines().enumerate() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<UploadEvent>(&line) {
            Ok(e) => ok.push((i + 1, e)),
            Err(e) => bad.push(BadEvent {
                line: i + 1,
                reason: format!("not an upload event: {e}"),
            }),
        }
    }
    // Keep the line number only for later validation messages.
    let mut events = Vec::with_capacity(ok.len());
    for (n, e) in ok {
        if e.name.trim().is_empty() {
            bad.push(BadEvent {
                line: n,
                reason: "empty name".into(),
            });
        } else if e.time.is_some() && parse_time(e.time.as_ref()).is_none() {
            bad.push(BadEvent {
                line: n,
                reason: "unreadable time".into(),
            });
        } else {
            events.push(e);
        }
    }
    Ok((events, bad))
}

/// Parse an event time to Unix seconds.
fn parse_time(v: Option<&serde_json::Value>) -> Option<i64> {
    match v? {
        serde_json::Value::Number(n) => n.as_i64(),
        serde_json::Value::String(s) => {
            let s = s.trim();
            if let Ok(n) = s.parse::<i64>() {
                return Some(n);
            }
            if let Ok(t) = chrono::DateTime::parse_from_rfc3339(s) {
                return Some(t.timestamp());
            }
            for f in [
                "%Y-%m-%d %H:%M:%S",
                "%Y-%m-%dT%H:%M:%S",
                "%Y-%m-%dT%H:%M:%S%.f",
            ] {
                if let Ok(t) = chrono::NaiveDateTime::parse_from_str(s, f) {
                    return Some(t.and_utc().timestamp());
                }
            }
            None
        }
        _ => None,
    }
}

/// Placeholder values that must not link unrelated uploads.
fn meaningful(v: &str) -> bool {
    let v = v.trim().to_ascii_lowercase();
    !(v.is_empty()
        || matches!(
            v.as_str(),
            "none" | "unknown" | "null" | "n/a" | "-" | "author"
        ))
}

/// Group events by shared author, e-mail or indicator, and describe every
/// group of at least `min_size` uploads, best first.
///
/// Each attribute value defines a group (all uploads carrying it). Groups
/// are merged when they overlap by at least half of the smaller one, so an
/// author's uploads and the same uploads' C2 become one campaign, while a
/// value shared by a few unrelated uploads (a common CDN host) does not
/// chain everyone together as a transitive union would.
#[must_use]
pub fn cluster(
    engine: &Engine,
    events: &[UploadEvent],
    default_eco: Ecosystem,
    min_size: usize,
) -> Vec<Cluster> {
    let min_size = min_size.max(2);
    let keys_of = |e: &UploadEvent| -> Vec<String> {
        let mut k = Vec::new();
        if let Some(a) = e.author.as_deref().filter(|a| meaningful(a)) {
            k.push(format!("author:{}", a.trim().to_ascii_lowercase()));
        }
        if let Some(m) = e.email.as_deref().filter(|a| meaningful(a)) {
            k.push(format!("email:{}", m.trim().to_ascii_lowercase()));
        }
        for i in e.indicators.iter().filter(|a| meaningful(a)) {
            k.push(format!("indicator:{}", i.trim().to_ascii_lowercase()));
        }
        k.sort();
        k.dedup();
        k
    };
    let mut by_key: HashMap<String, Vec<usize>> = HashMap::new();
    for (i, e) in events.iter().enumerate() {
        for k in keys_of(e) {
            by_key.entry(k).or_default().push(i);
        }
    }
    let mut groups: Vec<Vec<usize>> = by_key
        .into_values()
        .filter(|g| g.len() >= min_size)
        .collect();
    groups.sort_by(|a, b| b.len().cmp(&a.len()).then(a.cmp(b)));
    let mut merged: Vec<std::collections::BTreeSet<usize>> = Vec::new();
    for g in groups {
        let target = merged.iter_mut().find(|m| {
            let common = g.iter().filter(|i| m.contains(i)).count();
            common * 2 >= g.len().min(m.len())
        });
        match target {
            Some(m) => m.extend(g),
            None => merged.push(g.into_iter().collect()),
        }
    }
    let mut out: Vec<Cluster> = merged
        .into_iter()
        .map(|m| {
            let members: Vec<usize> = m.into_iter().collect();
            describe(engine, events, &members, default_eco, &keys_of)
        })
        .collect();
    out.sort_by(|a, b| b.score.total_cmp(&a.score).then(b.size.cmp(&a.size)));
    out
}

fn describe(
    engine: &Engine,
    events: &[UploadEvent],
    members: &[usize],
    default_eco: Ecosystem,
    keys_of: &dyn Fn(&UploadEvent) -> Vec<String>,
) -> Cluster {
    let size = members.len();
    let mut key_count: HashMap<String, usize> = HashMap::new();
    let mut versions: HashMap<String, usize> = HashMap::new();
    let mut names: HashMap<String, ()> = HashMap::new();
    let mut times: Vec<i64> = Vec::new();
    let mut targets: HashMap<String, usize> = HashMap::new();
    let mut imitating = 0usize;
    for &i in members {
        let Some(e) = events.get(i) else { continue };
        let mut ks = keys_of(e);
        ks.sort();
        ks.dedup();
        for k in ks {
            *key_count.entry(k).or_default() += 1;
        }
        if let Some(v) = &e.version {
            *versions.entry(v.clone()).or_default() += 1;
        }
        names.insert(e.name.clone(), ());
        if let Some(t) = parse_time(e.time.as_ref()) {
            times.push(t);
        }
        let eco = e
            .ecosystem
            .as_deref()
            .and_then(|s| s.parse().ok())
            .unwrap_or(default_eco);
        if let Ok(pn) = PackageName::parse(eco, &e.name) {
            let m = engine.check(&pn);
            if crate::engine::verdict_of(&m) != NameVerdict::Ok {
                imitating += 1;
                if let Some(best) = m.first() {
                    *targets.entry(best.target.clone()).or_default() += 1;
                }
            }
        }
    }
    let mut shared: Vec<(String, usize)> = key_count
        .into_iter()
        .filter(|(_, c)| *c * 2 >= size)
        .collect();
    shared.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let common_version = versions
        .into_iter()
        .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(&a.0)))
        .map(|(v, c)| (v, c as f32 / size as f32));
    times.sort_unstable();
    let mut peak = 0usize;
    let mut lo = 0usize;
    for hi in 0..times.len() {
        while times
            .get(hi)
            .zip(times.get(lo))
            .is_some_and(|(h, l)| h - l > 86_400)
        {
            lo += 1;
        }
        peak = peak.max(hi + 1 - lo);
    }
    let mut targets: Vec<(String, usize)> = targets.into_iter().collect();
    targets.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    targets.truncate(15);
    let mut sample: Vec<String> = names.keys().cloned().collect();
    sample.sort();
    sample.truncate(10);
    let imit = imitating as f32 / size as f32;
    // Size saturates at 50 uploads; a burst is many uploads in one day.
    let size_f = ((size as f32).ln() / 50f32.ln()).min(1.0);
    let burst_f = if times.is_empty() {
        0.5
    } else {
        ((peak as f32).ln() / 20f32.ln()).clamp(0.0, 1.0)
    };
    let score = (0.3 * size_f + 0.2 * burst_f + 0.5 * imit).clamp(0.0, 1.0);
    Cluster {
        size,
        names: names.len(),
        shared: shared
            .into_iter()
            .map(|(k, c)| format!("{k} ({c})"))
            .collect(),
        common_version,
        first: times.first().copied(),
        last: times.last().copied(),
        peak_per_day: peak,
        imitating: imit,
        targets,
        sample,
        score,
    }
}

/// Format Unix seconds as `YYYY-MM-DD HH:MM` (UTC), for reports.
#[must_use]
pub fn format_time(t: i64) -> String {
    chrono::DateTime::from_timestamp(t, 0)
        .map_or_else(|| t.to_string(), |d| d.format("%Y-%m-%d %H:%M").to_string())
}
