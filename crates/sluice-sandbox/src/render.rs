//! The text form of a [`SandboxReport`] (the JSON form is its serde form).

use std::fmt::Write as _;

use crate::{Layer, SandboxReport};

/// Render a report for a terminal: phases, limits, stories, the behaviour
/// chain, the network log and the findings.
#[must_use]
pub fn render_text(r: &SandboxReport) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "sluice sandbox: {} ({})", r.target, r.ecosystem.prefix());
    let _ = writeln!(
        o,
        "identity shown: host {} user {}",
        r.identity.0, r.identity.1
    );
    let phases: Vec<String> = r
        .phases
        .iter()
        .map(|p| {
            let code = p
                .exit_code
                .map(|c| format!(" exit {c}"))
                .unwrap_or_default();
            format!(
                "{} {}{} {:.1}s",
                p.phase.as_str(),
                p.status,
                code,
                p.duration_ms as f64 / 1000.0
            )
        })
        .collect();
    let _ = writeln!(o, "phases: {}", phases.join(" · "));
    for p in r
        .phases
        .iter()
        .filter(|p| p.status == "failed" || p.status == "limit")
    {
        let tail: Vec<&str> = p.stderr_tail.lines().rev().take(8).collect();
        if !tail.is_empty() {
            let _ = writeln!(o, "  {} stderr (last lines):", p.phase.as_str());
            for l in tail.iter().rev() {
                let _ = writeln!(o, "    | {}", crate::analyze::short(l, 200));
            }
        }
    }
    let _ = writeln!(
        o,
        "install + import: {:.1}s",
        r.install_import_ms as f64 / 1000.0
    );
    if r.limits_hit.is_empty() {
        let _ = writeln!(o, "limits hit: none");
    } else {
        for l in &r.limits_hit {
            let _ = writeln!(
                o,
                "limit hit: {} during {}: {}",
                l.limit,
                l.phase.as_str(),
                l.detail
            );
        }
    }
    if !r.stories.is_empty() {
        let _ = writeln!(o, "\nwhat left the sandbox:");
        for s in &r.stories {
            let _ = writeln!(o, "  {s}");
        }
    }
    let _ = writeln!(o, "\nbehaviour chain ({} steps):", r.chain.len());
    for (i, s) in r.chain.iter().enumerate() {
        let place = match (&s.file, s.line) {
            (Some(f), Some(l)) => format!("{f}:{l}"),
            (Some(f), None) => f.clone(),
            _ => "?".into(),
        };
        let layer = match s.layer {
            Layer::Runtime => "rt",
            Layer::System => "sys",
            Layer::Network => "net",
        };
        let mut flags = String::new();
        if s.confirmed {
            flags.push_str(" [confirmed]");
        }
        if s.unattributed {
            flags.push_str(" [no runtime record]");
        }
        if s.stack.len() > 1 {
            let callers: Vec<&str> = s.stack.iter().skip(1).take(3).map(String::as_str).collect();
            let _ = write!(flags, " ← {}", callers.join(" ← "));
        }
        if s.count > 1 {
            let _ = write!(flags, " ×{}", s.count);
        }
        for c in &s.canaries {
            let _ = write!(
                flags,
                " [CANARY {} from {} via {}]",
                c.label, c.planted, c.encoding
            );
        }
        let _ = writeln!(
            o,
            "  {:>3} [{}] {:<3} {:<24} {}{}",
            i + 1,
            s.phase.as_str(),
            layer,
            place,
            s.what,
            flags
        );
    }
    let _ = writeln!(o, "\nfindings ({}):", r.findings.len());
    for f in &r.findings {
        let place = match (&f.file, f.line) {
            (Some(file), Some(l)) => format!(" {file}:{l}"),
            (Some(file), None) => format!(" {file}"),
            _ => String::new(),
        };
        let sev = format!("{:?}", f.severity).to_uppercase();
        let _ = writeln!(
            o,
            "  {sev:<8} {} {}{} — {}",
            f.rule, f.name, place, f.message
        );
        for e in f.evidence.iter().filter(|e| e.starts_with("canary:")) {
            let _ = writeln!(o, "           {e}");
        }
    }
    o
}
