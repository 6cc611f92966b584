//! Rendering reports as text, JSON and SARIF.

use std::collections::BTreeMap;
use std::io::{IsTerminal as _, Write};

use serde_json::json;
use sluice_model::{Finding, Report, Severity, VerdictLevel};

use crate::commands::scan::ScanError;

/// Output format of reporting commands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Human-readable text.
    Text,
    /// One JSON document (see docs/report-json.md).
    Json,
    /// SARIF 2.1.0, for code-scanning dashboards.
    Sarif,
}

/// A progress bar on stderr, only when it is a terminal and there is more
/// than one target.
pub fn progress(n: usize, format: Format) -> Option<indicatif::ProgressBar> {
    if n < 2 || !std::io::stderr().is_terminal() {
        return None;
    }
    let _ = format;
    let bar = indicatif::ProgressBar::new(n as u64);
    if let Ok(style) = indicatif::ProgressStyle::with_template(
        "{spinner} scanning [{bar:30}] {pos}/{len} {per_sec} eta {eta}",
    ) {
        bar.set_style(style.progress_chars("=> "));
    }
    Some(bar)
}

/// Write reports (and errors) to `out` in `format`.
///
/// # Errors
/// Write errors (a closed pipe is handled by the caller).
pub fn write(
    out: &mut impl Write,
    format: Format,
    reports: &[Report],
    errors: &[ScanError],
    all: bool,
) -> anyhow::Result<()> {
    match format {
        Format::Text => {
            for r in reports {
                text(out, r, all)?;
            }
        }
        Format::Json => {
            let doc = json!({
                "sluice": env!("CARGO_PKG_VERSION"),
                "reports": reports,
                "errors": errors,
            });
            serde_json::to_writer_pretty(&mut *out, &doc)?;
            writeln!(out)?;
        }
        Format::Sarif => {
            serde_json::to_writer_pretty(&mut *out, &sarif(reports))?;
            writeln!(out)?;
        }
    }
    out.flush()?;
    Ok(())
}

fn level_word(l: VerdictLevel) -> &'static str {
    match l {
        VerdictLevel::Clean => "CLEAN",
        VerdictLevel::Suspicious => "SUSPICIOUS",
        VerdictLevel::Malicious => "MALICIOUS",
    }
}

/// Lower-case severity name used in every output.
pub(crate) fn severity_word(s: Severity) -> &'static str {
    match s {
        Severity::Info => "info",
        Severity::Low => "low",
        Severity::Medium => "medium",
        Severity::High => "high",
        Severity::Critical => "critical",
    }
}

fn place(f: &Finding) -> String {
    match (&f.file, f.line, f.column) {
        (Some(file), Some(l), Some(c)) => format!("{file}:{l}:{c}"),
        (Some(file), Some(l), None) => format!("{file}:{l}"),
        (Some(file), None, _) => file.clone(),
        (None, ..) => "(package)".to_owned(),
    }
}

/// The human-readable form of one report.
fn text(out: &mut impl Write, r: &Report, all: bool) -> std::io::Result<()> {
    let name = r
        .package
        .as_ref()
        .map_or_else(|| r.artifact.filename.clone(), |p| p.as_str().to_owned());
    let version = r
        .version
        .as_ref()
        .map(|v| format!(" {v}"))
        .unwrap_or_default();
    let eco = r.ecosystem.map(|e| format!("{e}:")).unwrap_or_default();
    writeln!(
        out,
        "{eco}{name}{version}  {}  (score {})",
        level_word(r.verdict.level),
        r.verdict.score
    )?;
    writeln!(
        out,
        "  target: {}  [{}; {} files, {} bytes unpacked{}]",
        r.target,
        r.artifact.kind,
        r.artifact.files,
        r.artifact.unpacked_bytes,
        r.artifact
            .sha256
            .map(|d| format!("; sha256 {d}"))
            .unwrap_or_default()
    )?;
    for reason in &r.verdict.reasons {
        writeln!(out, "  why: {reason}")?;
    }
    let shown: Vec<&Finding> = r
        .findings
        .iter()
        .filter(|f| all || f.severity > Severity::Info)
        .collect();
    for f in &shown {
        writeln!(
            out,
            "  {} {:<8} {}  {}{}{}",
            f.rule,
            severity_word(f.severity),
            place(f),
            f.message,
            if f.install_time {
                " [install-time]"
            } else {
                ""
            },
            if f.preview { " [preview]" } else { "" },
        )?;
        if let Some(e) = &f.excerpt {
            writeln!(out, "      > {e}")?;
        }
        for ev in &f.evidence {
            writeln!(out, "      - {ev}")?;
        }
    }
    let hidden = r.findings.len() - shown.len();
    if hidden > 0 {
        writeln!(
            out,
            "  ({hidden} informational findings hidden; --all shows them)"
        )?;
    }
    if !r.indicators.is_empty() {
        let mut by_kind: BTreeMap<String, Vec<&str>> = BTreeMap::new();
        for i in &r.indicators {
            let v = by_kind
                .entry(format!("{:?}", i.kind).to_lowercase())
                .or_default();
            if !v.contains(&i.value.as_str()) {
                v.push(&i.value);
            }
        }
        for (kind, values) in by_kind {
            let n = values.len();
            let list: Vec<&str> = values.into_iter().take(8).collect();
            let more = if n > 8 {
                format!(" (+{} more)", n - 8)
            } else {
                String::new()
            };
            writeln!(out, "  indicators {kind}: {}{more}", list.join(", "))?;
        }
    }
    for w in &r.warnings {
        writeln!(out, "  warning: {w}")?;
    }
    if !r.unparsed_auxiliary.is_empty() {
        writeln!(
            out,
            "  note: {} test/doc/example file(s) searched for indicators only; \
             they could not change this verdict (--all-files parses them)",
            r.unparsed_auxiliary.len()
        )?;
    }
    writeln!(out)
}

/// SARIF 2.1.0: one run, rules taken from the findings, one result per
/// finding; locations are `artifact!/path` URIs.
fn sarif(reports: &[Report]) -> serde_json::Value {
    let mut rules: BTreeMap<String, serde_json::Value> = BTreeMap::new();
    let mut results = Vec::new();
    for r in reports {
        for f in &r.findings {
            rules.entry(f.rule.to_string()).or_insert_with(|| {
                json!({
                    "id": f.rule.as_str(),
                    "name": f.name,
                    "shortDescription": { "text": f.name },
                    "properties": { "severity": severity_word(f.severity) },
                })
            });
            let level = sarif_level(f.severity);
            let uri = match &f.file {
                Some(file) => format!("{}!/{file}", r.target),
                None => r.target.clone(),
            };
            let mut region = serde_json::Map::new();
            if let Some(l) = f.line {
                region.insert("startLine".into(), l.into());
            }
            if let Some(c) = f.column {
                region.insert("startColumn".into(), c.into());
            }
            if let Some(e) = &f.excerpt {
                region.insert("snippet".into(), json!({ "text": e }));
            }
            let mut location =
                json!({ "physicalLocation": { "artifactLocation": { "uri": uri } } });
            if !region.is_empty() {
                location["physicalLocation"]["region"] = serde_json::Value::Object(region);
            }
            results.push(json!({
                "ruleId": f.rule.as_str(),
                "level": level,
                "message": { "text": f.message },
                "locations": [location],
                "properties": {
                    "confidence": f.confidence,
                    "evidence": f.evidence,
                    "installTime": f.install_time,
                    "verdict": r.verdict.level,
                },
            }));
        }
    }
    sarif_envelope(rules.into_values().collect(), results)
}

/// The SARIF level of a severity.
pub(crate) fn sarif_level(s: Severity) -> &'static str {
    match s {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Info => "note",
    }
}

/// A SARIF 2.1.0 document with one sluice run (shared by `scan` and
/// `audit`).
pub(crate) fn sarif_envelope(
    rules: Vec<serde_json::Value>,
    results: Vec<serde_json::Value>,
) -> serde_json::Value {
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "sluice",
                "version": env!("CARGO_PKG_VERSION"),
                "rules": rules,
            }},
            "results": results,
        }],
    })
}
