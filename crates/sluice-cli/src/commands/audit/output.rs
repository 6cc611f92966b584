//! `audit` output: text grouped by file, JSON, SARIF (through the same
//! envelope as `scan`) and osv-scanner-like JSON.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use serde_json::json;
use sluice_model::{Severity, VerdictLevel};

use super::{AuditFormat, Outcome, Row};
use crate::render::{sarif_envelope, sarif_level, severity_word};

/// Write `o` to `out` in `format`.
///
/// # Errors
/// Write errors.
pub fn write(
    out: &mut impl Write,
    format: AuditFormat,
    o: &Outcome,
    all: bool,
) -> anyhow::Result<()> {
    match format {
        AuditFormat::Text => text(out, o, all)?,
        AuditFormat::Json => {
            serde_json::to_writer_pretty(&mut *out, &json_doc(o, all))?;
            writeln!(out)?;
        }
        AuditFormat::Sarif => {
            serde_json::to_writer_pretty(&mut *out, &sarif(o))?;
            writeln!(out)?;
        }
        AuditFormat::Osv => {
            serde_json::to_writer_pretty(&mut *out, &osv(o))?;
            writeln!(out)?;
        }
    }
    out.flush()?;
    Ok(())
}

fn level_word(l: VerdictLevel) -> &'static str {
    match l {
        VerdictLevel::Clean => "info",
        VerdictLevel::Suspicious => "SUSPICIOUS",
        VerdictLevel::Malicious => "MALICIOUS",
    }
}

struct Summary {
    malicious: usize,
    suspicious: usize,
    info: usize,
}

fn summary(o: &Outcome) -> Summary {
    let count = |l| o.rows.iter().filter(|r| r.finding.level == l).count();
    Summary {
        malicious: count(VerdictLevel::Malicious),
        suspicious: count(VerdictLevel::Suspicious),
        info: count(VerdictLevel::Clean),
    }
}

fn package_label(r: &Row) -> String {
    match &r.package {
        Some(p) => format!(
            "{}:{}{}",
            p.ecosystem,
            p.name,
            p.version
                .as_deref()
                .map(|v| format!(" {v}"))
                .unwrap_or_default()
        ),
        None => "(environment)".into(),
    }
}

fn text(out: &mut impl Write, o: &Outcome, all: bool) -> std::io::Result<()> {
    let mut by_file: BTreeMap<&Path, Vec<&Row>> = BTreeMap::new();
    let mut hidden = 0usize;
    for r in &o.rows {
        if !all && r.finding.level == VerdictLevel::Clean && r.finding.severity <= Severity::Low {
            hidden += 1;
            continue;
        }
        by_file.entry(&r.file).or_default().push(r);
    }
    for (file, rows) in &by_file {
        writeln!(out, "{}", file.display())?;
        for r in rows {
            writeln!(
                out,
                "  {:>5}  {}  {} {} {}  [{}]  {}",
                r.line,
                package_label(r),
                level_word(r.finding.level),
                r.finding.rule,
                severity_word(r.finding.severity),
                r.finding.source,
                r.finding.message
            )?;
            for e in &r.finding.evidence {
                writeln!(out, "         - {e}")?;
            }
        }
        writeln!(out)?;
    }
    let inv = &o.inventory;
    let s = summary(o);
    writeln!(
        out,
        "audited {} dependencies in {} files (sources: {}): {} malicious, {} suspicious, {} informational{}",
        inv.dependencies.len(),
        inv.files.len(),
        if o.sources.is_empty() {
            "none".to_owned()
        } else {
            o.sources.join(", ")
        },
        s.malicious,
        s.suspicious,
        s.info,
        if hidden > 0 {
            format!(" ({hidden} hidden; --all shows them)")
        } else {
            String::new()
        }
    )?;
    for e in &inv.errors {
        writeln!(out, "error: {e}")?;
    }
    for w in &inv.warnings {
        writeln!(out, "skipped: {w}")?;
    }
    Ok(())
}

fn error_json(e: &sluice_lockfile::Error) -> serde_json::Value {
    json!({
        "file": e.path(),
        "line": e.line(),
        "error": e.to_string(),
    })
}

fn json_doc(o: &Outcome, all: bool) -> serde_json::Value {
    let inv = &o.inventory;
    let s = summary(o);
    let mut doc = json!({
        "sluice": env!("CARGO_PKG_VERSION"),
        "sources": o.sources,
        "summary": {
            "files": inv.files.len(),
            "dependencies": inv.dependencies.len(),
            "malicious": s.malicious,
            "suspicious": s.suspicious,
            "informational": s.info,
            "errors": inv.errors.len(),
            "skipped_entries": inv.warnings.len(),
        },
        "files": inv.files,
        "findings": o.rows,
        "errors": inv.errors.iter().map(error_json).collect::<Vec<_>>(),
        "skipped": inv.warnings.iter().map(error_json).collect::<Vec<_>>(),
    });
    if all {
        doc["dependencies"] = json!(inv.dependencies);
    }
    doc
}

fn sarif(o: &Outcome) -> serde_json::Value {
    let mut rules: BTreeMap<&str, serde_json::Value> = BTreeMap::new();
    let mut results = Vec::new();
    for r in &o.rows {
        let f = &r.finding;
        rules.entry(&f.rule).or_insert_with(|| {
            json!({
                "id": f.rule,
                "name": f.source,
                "shortDescription": { "text": format!("{} finding from the {} source", f.rule, f.source) },
                "properties": { "severity": severity_word(f.severity) },
            })
        });
        results.push(json!({
            "ruleId": f.rule,
            "level": sarif_level(f.severity),
            "message": { "text": format!("{}: {}", package_label(r), f.message) },
            "locations": [{
                "physicalLocation": {
                    "artifactLocation": { "uri": r.file.to_string_lossy() },
                    "region": { "startLine": r.line },
                }
            }],
            "properties": {
                "verdict": f.level,
                "source": f.source,
                "package": r.package,
                "ids": f.ids,
                "evidence": f.evidence,
            },
        }));
    }
    sarif_envelope(rules.into_values().collect(), results)
}

/// osv-scanner's JSON shape: one result per file, one package per
/// affected entry, one "vulnerability" per finding id.
fn osv(o: &Outcome) -> serde_json::Value {
    let mut by_file: BTreeMap<&Path, Vec<&Row>> = BTreeMap::new();
    for r in o.rows.iter().filter(|r| r.package.is_some()) {
        by_file.entry(&r.file).or_default().push(r);
    }
    let results: Vec<serde_json::Value> = by_file
        .into_iter()
        .map(|(file, rows)| {
            // Rows of one entry (same line and package) form one package.
            let mut packages: Vec<(u32, String, Vec<&Row>)> = Vec::new();
            for r in rows {
                let label = package_label(r);
                match packages
                    .iter_mut()
                    .find(|(l, p, _)| *l == r.line && *p == label)
                {
                    Some((_, _, v)) => v.push(r),
                    None => packages.push((r.line, label, vec![r])),
                }
            }
            let packages: Vec<serde_json::Value> = packages
                .into_iter()
                .filter_map(|(line, _, rows)| {
                    let p = rows[0].package.as_ref()?;
                    let vulns: Vec<serde_json::Value> = rows
                        .iter()
                        .map(|r| {
                            let id = r
                                .finding
                                .ids
                                .first()
                                .cloned()
                                .unwrap_or_else(|| format!("SLUICE-{}", r.finding.rule));
                            json!({
                                "id": id,
                                "aliases": r.finding.ids.get(1..).unwrap_or_default(),
                                "summary": r.finding.message,
                                "details": r.finding.evidence.join("\n"),
                                "affected": [{
                                    "package": { "ecosystem": p.ecosystem.osv_name(), "name": p.name },
                                    "versions": p.version.iter().collect::<Vec<_>>(),
                                }],
                                "database_specific": {
                                    "source": r.finding.source,
                                    "rule": r.finding.rule,
                                    "severity": severity_word(r.finding.severity),
                                    "verdict": r.finding.level,
                                },
                            })
                        })
                        .collect();
                    let ids: Vec<&serde_json::Value> = vulns.iter().map(|v| &v["id"]).collect();
                    let max = rows
                        .iter()
                        .map(|r| r.finding.severity)
                        .max()
                        .map_or("", severity_word);
                    Some(json!({
                        "package": {
                            "name": p.name,
                            "version": p.version,
                            "ecosystem": p.ecosystem.osv_name(),
                        },
                        "line": line,
                        "vulnerabilities": vulns,
                        "groups": [{ "ids": ids, "max_severity": max }],
                    }))
                })
                .collect();
            json!({
                "source": { "path": file, "type": "lockfile" },
                "packages": packages,
            })
        })
        .collect();
    json!({ "results": results })
}
