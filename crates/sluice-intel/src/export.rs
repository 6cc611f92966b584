//! Exporting sluice's own malicious verdicts as OSV records, with the
//! evidence in `database_specific`, ready to contribute upstream or to
//! feed another sluice (`db import` reads them back).
//!
//! One record per package version judged malicious by the gate (every
//! artifact of the version with a malicious verdict contributes its
//! findings). A version a person waived (an allow decision on the
//! version or the whole package) is a false positive and is left out.
//! Ids are `SLUICE-PYPI-<hash>` / `SLUICE-NPM-<hash>`, the hash being the
//! first 16 hex digits of sha256(`ecosystem:name:version`): stable across
//! exports, and safe as a file name.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};
use sluice_model::{Ecosystem, VerdictLevel};
use sluice_store::{Action, ArtifactRow, Store};

use crate::IntelError;

/// How an export ran.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct ExportReport {
    /// The folder written to.
    pub dir: String,
    /// Records written.
    pub records: u64,
    /// Versions left out because a person waived them.
    pub waived: u64,
    /// The files written, relative to `dir`.
    pub files: Vec<String>,
}

/// The stable id of sluice's record for a package version.
#[must_use]
pub fn record_id(eco: Ecosystem, name: &str, version: &str) -> String {
    let h = Sha256::digest(format!("{}:{name}:{version}", eco.prefix()).as_bytes());
    format!(
        "SLUICE-{}-{}",
        eco.prefix().to_ascii_uppercase(),
        &hex::encode(h)[..16]
    )
}

fn purl(eco: Ecosystem, name: &str) -> String {
    match eco {
        Ecosystem::PyPI => format!("pkg:pypi/{name}"),
        // purl spec: the npm scope is the namespace, `@` percent-encoded.
        Ecosystem::Npm => match name.strip_prefix('@') {
            Some(scoped) => format!("pkg:npm/%40{scoped}"),
            None => format!("pkg:npm/{name}"),
        },
    }
}

fn time(s: &str) -> String {
    crate::osv::normalise_time("t", s)
        .ok()
        .and_then(|t| chrono::DateTime::parse_from_rfc3339(&t).ok())
        .map_or_else(
            || s.to_owned(),
            |t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        )
}

/// The evidence of one artifact from its stored report: the findings
/// (rule, file, line, excerpt, evidence), indicators and verdict reasons.
fn artifact_evidence(a: &ArtifactRow, report: Option<&Value>) -> Value {
    let findings: Vec<Value> = report
        .and_then(|r| r.get("findings"))
        .and_then(Value::as_array)
        .map(|fs| {
            fs.iter()
                .filter(|f| !f.get("preview").and_then(Value::as_bool).unwrap_or(false))
                .map(|f| {
                    let mut o = serde_json::Map::new();
                    for k in [
                        "rule", "name", "severity", "message", "file", "line", "excerpt",
                        "evidence",
                    ] {
                        if let Some(v) = f.get(k) {
                            o.insert(k.to_owned(), v.clone());
                        }
                    }
                    Value::Object(o)
                })
                .collect()
        })
        .unwrap_or_default();
    let indicators = report
        .and_then(|r| r.get("indicators"))
        .cloned()
        .unwrap_or_else(|| json!([]));
    let reasons = report
        .and_then(|r| r.pointer("/verdict/reasons"))
        .cloned()
        .unwrap_or_else(|| json!([]));
    json!({
        "filename": a.filename,
        "sha256": a.sha256,
        "verdict": a.verdict.as_str(),
        "score": a.score,
        "scanned_at": a.scanned_at,
        "reasons": reasons,
        "findings": findings,
        "indicators": indicators,
    })
}

/// One exported record: its ecosystem, id and OSV JSON.
pub type ExportedRecord = (Ecosystem, String, Value);

/// Build the OSV records of the store's malicious verdicts, sorted by id.
/// Returns the records and how many versions were left out as waived.
///
/// # Errors
/// Database failure.
pub fn verdict_records(store: &Store) -> Result<(Vec<ExportedRecord>, u64), IntelError> {
    let mut by_version: BTreeMap<(Ecosystem, String, String), Vec<ArtifactRow>> = BTreeMap::new();
    for a in store.artifacts_with_verdict(&[VerdictLevel::Malicious])? {
        by_version
            .entry((a.ecosystem, a.name.clone(), a.version.clone()))
            .or_default()
            .push(a);
    }
    let mut out = Vec::new();
    let mut waived = 0u64;
    for ((eco, name, version), mut arts) in by_version {
        let decisions = store.decisions_for(eco, &name)?;
        let decided = [version.as_str(), ""]
            .iter()
            .find_map(|scope| decisions.iter().find(|d| d.version == *scope));
        if decided.is_some_and(|d| d.action == Action::Allow) {
            waived += 1;
            continue;
        }
        arts.sort_by(|a, b| a.filename.cmp(&b.filename));
        let modified = arts
            .iter()
            .map(|a| time(&a.scanned_at))
            .max()
            .unwrap_or_default();
        let published = arts
            .iter()
            .map(|a| time(&a.scanned_at))
            .min()
            .unwrap_or_default();
        let score = arts.iter().map(|a| a.score).max().unwrap_or(0);
        let mut rules: Vec<String> = Vec::new();
        let mut campaign: Option<String> = None;
        let mut evidence = Vec::new();
        for a in &arts {
            let report: Option<Value> = store
                .report(&a.sha256)?
                .and_then(|r| serde_json::from_str(&r).ok());
            let ev = artifact_evidence(a, report.as_ref());
            for f in ev["findings"].as_array().into_iter().flatten() {
                if let Some(r) = f["rule"].as_str() {
                    rules.push(r.to_owned());
                }
                // Flood-campaign findings of the name engine carry the
                // campaign in their message.
                let n = f["name"].as_str().unwrap_or("");
                if campaign.is_none() && (n.contains("campaign") || n.contains("flood")) {
                    campaign = f["message"].as_str().map(str::to_owned);
                }
            }
            evidence.push(ev);
        }
        rules.sort();
        rules.dedup();
        let id = record_id(eco, &name, &version);
        let mut sluice = json!({
            "verdict": "malicious",
            "score": score,
            "rules": rules,
            "artifacts": evidence,
        });
        if let Some(c) = campaign {
            sluice["campaign"] = Value::String(c);
        }
        let rec = json!({
            "schema_version": "1.5.0",
            "id": id,
            "modified": modified,
            "published": published,
            "summary": format!("Malicious code in {name} ({})", eco.osv_name()),
            "details": format!(
                "sluice judged {name} {version} malicious (score {score}; rules: {}).",
                if rules.is_empty() { "none recorded".to_owned() } else { rules.join(", ") }
            ),
            "affected": [{
                "package": {"ecosystem": eco.osv_name(), "name": name, "purl": purl(eco, &name)},
                "versions": [version],
            }],
            "database_specific": {"sluice": sluice},
        });
        out.push((eco, id, rec));
    }
    out.sort_by(|a, b| a.1.cmp(&b.1));
    Ok((out, waived))
}

/// Write the store's malicious verdicts as OSV files under
/// `dir/<pypi|npm>/<ID>.json` (the folder is created; files of the same
/// id are replaced).
///
/// # Errors
/// Database failure, or a file cannot be written.
pub fn export_verdicts(store: &Store, dir: &Path) -> Result<ExportReport, IntelError> {
    let (records, waived) = verdict_records(store)?;
    let mut report = ExportReport {
        dir: dir.display().to_string(),
        waived,
        ..ExportReport::default()
    };
    for (eco, id, rec) in records {
        let rel: PathBuf = [eco.prefix(), &format!("{id}.json")].iter().collect();
        let path = dir.join(&rel);
        let io = |e: std::io::Error| IntelError::Io {
            path: path.display().to_string(),
            source: e,
        };
        if let Some(parent) = path.parent() {
            fs_err::create_dir_all(parent).map_err(io)?;
        }
        let mut text =
            serde_json::to_string_pretty(&rec).map_err(|e| IntelError::Corrupt(e.to_string()))?;
        text.push('\n');
        fs_err::write(&path, text).map_err(io)?;
        report.records += 1;
        report.files.push(rel.display().to_string());
    }
    Ok(report)
}
