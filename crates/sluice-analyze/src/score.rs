//! Combining findings into one explainable verdict.
//!
//! The score is a sum of per-finding weights, so every point can be traced
//! to a finding (documented with examples in `docs/scoring.md`):
//!
//! 1. **Weight** of a finding = severity points × confidence factor ×
//!    context factor.
//!    - severity: info 0, low 4, medium 12, high 35, critical 60;
//!    - confidence: low ×0.5, medium ×0.75, high ×1;
//!    - context: code that runs unasked (install hooks, setup.py, `.pth`,
//!      the top-level `__init__.py`) ×1.5; tests, docs, examples and build
//!      tooling ×0.2; everything else ×1.
//! 2. **Repeats** of one rule add little: the strongest hit of a rule
//!    counts fully, each further hit a quarter, and a rule never
//!    contributes more than 1.5× its strongest hit.
//! 3. **Correlation**: in one file, each *additional* distinct threat rule
//!    of at least medium severity (capability + intent: recon + network,
//!    decode + exec, blob + exec, credential read + send) adds 15 points,
//!    at most 30 per file. Lone capabilities never correlate with
//!    themselves.
//! 4. Preview findings are ignored; findings in test/doc/tooling code add
//!    at most 20 points together, so they never make a package suspicious
//!    on their own.
//! 5. **Levels**: score ≥ 60, or any critical finding of high confidence
//!    outside auxiliary code → malicious; score ≥ 25 → suspicious; else
//!    clean. The score is capped at 100.
//!
//! Consequences: a lone low or medium signal in library code stays clean;
//! one high-confidence high finding in library code (e.g. a traced
//! recon→network flow) is suspicious; a critical install-time behaviour is
//! malicious on its own.

use std::collections::{BTreeMap, BTreeSet};

use sluice_model::{Confidence, Finding, Severity, Verdict, VerdictLevel};

/// Score at or above which a package is malicious.
pub const MALICIOUS_AT: f64 = 60.0;
/// Score at or above which a package is suspicious.
pub const SUSPICIOUS_AT: f64 = 25.0;
/// Most that test, doc and tooling code may add to a score together.
pub const AUXILIARY_CAP: f64 = 20.0;
/// Bonus per additional correlated threat rule in one file.
pub const CORRELATION_BONUS: f64 = 15.0;

fn severity_points(s: Severity) -> f64 {
    match s {
        Severity::Info => 0.0,
        Severity::Low => 4.0,
        Severity::Medium => 12.0,
        Severity::High => 35.0,
        Severity::Critical => 60.0,
    }
}

fn confidence_factor(c: Confidence) -> f64 {
    match c {
        Confidence::Low => 0.5,
        Confidence::Medium => 0.75,
        Confidence::High => 1.0,
    }
}

/// Test, doc and tooling code that users rarely run. Code that runs at
/// install or import time is never auxiliary, wherever it lives: a
/// `postinstall` pointing at `scripts/setup.js` must not hide behind the
/// folder name.
fn auxiliary(f: &Finding) -> bool {
    !f.install_time && f.file.as_deref().is_some_and(crate::manifest::is_auxiliary)
}

/// Context factor: where the finding's code runs.
fn context_factor(f: &Finding) -> f64 {
    if auxiliary(f) {
        0.2
    } else if f.install_time {
        1.5
    } else {
        1.0
    }
}

/// The weight of one finding, before repeats and correlation.
#[must_use]
pub fn weight(f: &Finding) -> f64 {
    if f.preview {
        return 0.0;
    }
    severity_points(f.severity) * confidence_factor(f.confidence) * context_factor(f)
}

/// Rules that describe a capability rather than intent; they add weight
/// but do not count for correlation.
fn is_capability_only(rule: &str) -> bool {
    matches!(rule, "PY110" | "PY111" | "PKG311" | "PKG315")
}

/// Combine findings into a verdict.
#[must_use]
pub fn judge(findings: &[Finding]) -> Verdict {
    let live: Vec<(usize, f64)> = findings
        .iter()
        .enumerate()
        .filter(|(_, f)| !f.preview)
        .map(|(i, f)| (i, weight(f)))
        .filter(|(_, w)| *w > 0.0)
        .collect();
    if live.is_empty() {
        return Verdict::clean();
    }
    // Repeats of one rule, counted apart for auxiliary code so that its
    // cap can only ever add: the rest of the package scores the same with
    // or without it, and it adds 0..=AUXILIARY_CAP.
    let mut by_rule: BTreeMap<(bool, &str), Vec<f64>> = BTreeMap::new();
    for (i, w) in &live {
        let f = &findings[*i];
        by_rule
            .entry((auxiliary(f), f.rule.as_str()))
            .or_default()
            .push(*w);
    }
    let mut total = 0.0;
    let mut aux = 0.0;
    for ((is_aux, _), ws) in &mut by_rule {
        ws.sort_by(|a, b| b.total_cmp(a));
        let top = ws.first().copied().unwrap_or(0.0);
        let rest: f64 = ws.iter().skip(1).map(|w| w * 0.25).sum();
        let s = (top + rest).min(top * 1.5);
        if *is_aux {
            aux += s;
        } else {
            total += s;
        }
    }
    // Test, doc and tooling code together never reach "suspicious".
    total += aux.min(AUXILIARY_CAP);
    // Correlation within a file.
    let mut per_file: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for (i, _) in &live {
        let f = &findings[*i];
        if f.severity >= Severity::Medium
            && !is_capability_only(f.rule.as_str())
            && !auxiliary(f)
            && let Some(file) = f.file.as_deref()
        {
            per_file.entry(file).or_default().insert(f.rule.as_str());
        }
    }
    let mut reasons = Vec::new();
    for (file, rules) in &per_file {
        if rules.len() >= 2 {
            let bonus = (CORRELATION_BONUS * (rules.len() - 1) as f64).min(2.0 * CORRELATION_BONUS);
            total += bonus;
            reasons.push(format!(
                "{} correlate in {file} (+{bonus:.0})",
                rules.iter().copied().collect::<Vec<_>>().join(" + ")
            ));
        }
    }
    if let Some((bonus, why)) = context_bonus(findings) {
        total += bonus;
        reasons.push(why);
    }
    // Findings that met: a correlation in a file or the context bonus.
    let combined = !reasons.is_empty();
    let critical = live.iter().any(|(i, _)| {
        let f = &findings[*i];
        f.severity == Severity::Critical && f.confidence == Confidence::High && !auxiliary(f)
    });
    // "Malicious" is what a reviewer blocks on sight: a critical finding,
    // a high one in code that runs unasked, or high-severity behaviours
    // that meet in one file. High findings scattered over the library
    // code of a large package add up to a score, not to that evidence.
    let strong = critical
        || live.iter().any(|(i, _)| {
            let f = &findings[*i];
            f.install_time && f.severity >= Severity::High && !auxiliary(f)
        })
        || per_file.iter().any(|(file, rules)| {
            rules.len() >= 2
                && live.iter().any(|(i, _)| {
                    let f = &findings[*i];
                    f.severity >= Severity::High && f.file.as_deref() == Some(*file)
                })
        });
    if total >= MALICIOUS_AT && !strong {
        reasons.push(format!(
            "score {:.0} held at suspicious: no critical finding, no high one in code that runs unasked, and no high-severity behaviours meeting in one file",
            total.min(100.0)
        ));
    }
    // "Suspicious" needs one finding that deserves a look on its own (high
    // severity, code that runs unasked, a name finding) or findings that
    // meet (a correlation, the context bonus): medium library findings
    // spread over a large package's vendored tools add up to a number,
    // not to a reason to look.
    let focused = strong
        || combined
        || total >= MALICIOUS_AT
        || live.iter().any(|(i, _)| {
            let f = &findings[*i];
            !auxiliary(f)
                && (f.severity >= Severity::High
                    || f.install_time
                    || f.rule.as_str().starts_with("NAME")
                    || f.rule.as_str().starts_with("INTEL")
                    || f.rule.as_str().starts_with("DYN"))
        });
    if total >= SUSPICIOUS_AT && !focused {
        reasons.push(format!(
            "score {:.0} held at clean: only medium or weaker findings in library code, none of them meeting in one file",
            total.min(100.0)
        ));
    }
    let level = if (total >= MALICIOUS_AT && strong) || critical {
        VerdictLevel::Malicious
    } else if total >= SUSPICIOUS_AT && focused {
        VerdictLevel::Suspicious
    } else {
        VerdictLevel::Clean
    };
    // Drivers: the heaviest findings, at most one per rule and file.
    let mut ranked: Vec<(usize, f64)> = live.clone();
    ranked.sort_by(|a, b| b.1.total_cmp(&a.1));
    let mut seen = BTreeSet::new();
    let mut drivers = Vec::new();
    for (i, w) in ranked {
        let f = &findings[i];
        if w < 4.0 || !seen.insert((f.rule.as_str(), f.file.as_deref())) {
            continue;
        }
        drivers.push(f.clone());
        if drivers.len() >= 5 {
            break;
        }
    }
    let mut head = Vec::new();
    for d in &drivers {
        let place = match (&d.file, d.line) {
            (Some(file), Some(l)) => format!(" at {file}:{l}"),
            (Some(file), None) => format!(" in {file}"),
            _ => String::new(),
        };
        head.push(format!(
            "{} {} ({}, {} confidence{}){place}: {} (+{:.0})",
            d.rule,
            d.name,
            sev_name(d.severity),
            conf_name(d.confidence),
            if d.install_time { ", runs unasked" } else { "" },
            d.message,
            weight(d)
        ));
    }
    head.extend(reasons);
    if critical {
        head.push(
            "a critical, high-confidence finding outside test/doc code is malicious on its own"
                .to_owned(),
        );
    }
    head.push(format!(
        "score {:.0}: {} (suspicious from {SUSPICIOUS_AT:.0}, malicious from {MALICIOUS_AT:.0})",
        total.min(100.0),
        level
    ));
    if level == VerdictLevel::Clean {
        drivers.clear();
    }
    let score = total.clamp(0.0, 100.0).round();
    Verdict {
        level,
        // The value is clamped to 0..=100 just above.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        score: score as u32,
        reasons: head,
        drivers,
    }
}

/// Points added per context kind beyond the first when three or more of
/// them meet (see [`context_bonus`]).
pub const CONTEXT_BONUS: f64 = 10.0;

/// Context that combines: a look-alike name, an install hook, a
/// placeholder version and a behaviour at install or import time are each
/// weak alone (a typo-shaped name, a `cmdclass`, a `0.0.0`, a network call
/// in `setup.py`), but any three together are how squats and
/// dependency-confusion uploads look. Three kinds add 20 points, four 30.
fn context_bonus(findings: &[Finding]) -> Option<(f64, String)> {
    let mut kinds: Vec<&str> = Vec::new();
    let mut add = |k: &'static str| {
        if !kinds.contains(&k) {
            kinds.push(k);
        }
    };
    for f in findings.iter().filter(|f| !f.preview && !auxiliary(f)) {
        let r = f.rule.as_str();
        if matches!(r, "PKG311" | "PKG350") {
            add("install hook");
        } else if r.starts_with("NAME4") && f.severity >= Severity::Low {
            add("look-alike name");
        } else if r == "PKG317" {
            add("placeholder version");
        } else if f.install_time
            && weight(f) > 0.0
            && (r.starts_with("PY") || r.starts_with("JS") || r.starts_with("INTEL"))
        {
            add("install/import-time behaviour");
        }
    }
    if kinds.len() < 3 {
        return None;
    }
    let bonus = CONTEXT_BONUS * (kinds.len() - 1) as f64;
    Some((
        bonus,
        format!("context combines: {} (+{bonus:.0})", kinds.join(", ")),
    ))
}

fn sev_name(s: Severity) -> &'static str {
    match s {
        Severity::Info => "info",
        Severity::Low => "low",
        Severity::Medium => "medium",
        Severity::High => "high",
        Severity::Critical => "critical",
    }
}

fn conf_name(c: Confidence) -> &'static str {
    match c {
        Confidence::Low => "low",
        Confidence::Medium => "medium",
        Confidence::High => "high",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sluice_model::RuleCode;

    fn f(
        rule: &'static str,
        sev: Severity,
        conf: Confidence,
        file: &str,
        unasked: bool,
    ) -> Finding {
        Finding::new(RuleCode::new(rule), "x", sev, conf, "m")
            .at(file, 1, 1)
            .install_time(unasked)
    }

    #[test]
    fn install_time_code_under_an_auxiliary_folder_still_counts() {
        // A lifecycle script kept in `scripts/` or `tests/` runs on install.
        for file in ["package/scripts/setup.js", "pkg-1.0/tests/hook.py"] {
            let v = judge(&[f("JS201", Severity::Critical, Confidence::High, file, true)]);
            assert_eq!(v.level, VerdictLevel::Malicious, "{file}");
            // The same code that nobody runs stays below malicious.
            let v = judge(&[f(
                "JS201",
                Severity::Critical,
                Confidence::High,
                file,
                false,
            )]);
            assert_ne!(v.level, VerdictLevel::Malicious, "{file}");
        }
    }

    #[test]
    fn test_code_adds_at_most_the_cap_and_never_subtracts() {
        let lib = f("PY104", Severity::High, Confidence::High, "pkg/a.py", false);
        let alone = judge(std::slice::from_ref(&lib)).score;
        // Many repeats of one rule in test code: their raw weights sum far
        // past the cap, their repeat-collapsed worth does not.
        let mut with_tests = vec![lib.clone()];
        with_tests.extend((0..40).map(|i| {
            f(
                "PY104",
                Severity::Critical,
                Confidence::High,
                &format!("pkg/tests/t{i}.py"),
                false,
            )
        }));
        let v = judge(&with_tests);
        assert!(v.score >= alone, "{} < {alone}", v.score);
        assert!(
            f64::from(v.score) <= f64::from(alone) + AUXILIARY_CAP,
            "{}",
            v.score
        );
        // Test code alone stays clean however much of it there is.
        let v = judge(&with_tests[1..]);
        assert_eq!(v.level, VerdictLevel::Clean);
        assert!(f64::from(v.score) <= AUXILIARY_CAP);
    }

    #[test]
    fn nothing_is_clean() {
        assert_eq!(judge(&[]).level, VerdictLevel::Clean);
    }

    #[test]
    fn lone_weak_library_signal_stays_clean() {
        for (sev, conf) in [
            (Severity::Low, Confidence::High),
            (Severity::Medium, Confidence::High),
            (Severity::Medium, Confidence::Medium),
        ] {
            let v = judge(&[f("PY105", sev, conf, "pkg/a.py", false)]);
            assert_eq!(v.level, VerdictLevel::Clean, "{sev:?} {conf:?}");
            assert!(v.drivers.is_empty());
        }
        // many repeats of a weak rule still do not add up
        let many: Vec<Finding> = (0..50)
            .map(|_| {
                f(
                    "PY111",
                    Severity::Low,
                    Confidence::Medium,
                    "pkg/a.py",
                    false,
                )
            })
            .collect();
        assert_eq!(judge(&many).level, VerdictLevel::Clean);
    }

    #[test]
    fn test_code_barely_counts() {
        let v = judge(&[f(
            "PY104",
            Severity::Critical,
            Confidence::High,
            "pkg/tests/test_x.py",
            false,
        )]);
        assert_eq!(v.level, VerdictLevel::Clean);
    }

    #[test]
    fn critical_install_time_is_malicious() {
        let v = judge(&[f(
            "PY101",
            Severity::Critical,
            Confidence::High,
            "p/setup.py",
            true,
        )]);
        assert_eq!(v.level, VerdictLevel::Malicious);
        assert_eq!(v.drivers.len(), 1);
        assert!(
            v.reasons
                .iter()
                .any(|r| r.contains("PY101") && r.contains("p/setup.py"))
        );
    }

    #[test]
    fn one_high_library_finding_is_suspicious() {
        let v = judge(&[f(
            "PY101",
            Severity::High,
            Confidence::High,
            "p/a.py",
            false,
        )]);
        assert_eq!(v.level, VerdictLevel::Suspicious);
    }

    #[test]
    fn correlation_in_one_file_escalates() {
        let a = f("PY104", Severity::High, Confidence::Medium, "p/a.py", false);
        let b = f("PY105", Severity::Medium, Confidence::High, "p/a.py", false);
        let alone = judge(std::slice::from_ref(&a)).score;
        let v = judge(&[a.clone(), b.clone()]);
        assert!(v.score > alone + 15, "{} vs {alone}", v.score);
        assert!(v.reasons.iter().any(|r| r.contains("correlate")));
        // the same two in different files do not correlate
        let mut c = b.clone();
        c.file = Some("p/b.py".into());
        assert!(judge(&[a, c]).score < v.score);
    }

    #[test]
    fn weak_context_alone_stays_clean_but_three_kinds_combine() {
        let hook = f(
            "PKG311",
            Severity::Low,
            Confidence::High,
            "p/setup.py",
            true,
        );
        let name = Finding::new(
            RuleCode::new("NAME401"),
            "typosquat",
            Severity::Medium,
            Confidence::Medium,
            "m",
        );
        let version = f(
            "PKG317",
            Severity::Low,
            Confidence::Low,
            "p/setup.py",
            false,
        );
        let net = f(
            "PY110",
            Severity::Low,
            Confidence::Medium,
            "p/setup.py",
            true,
        );
        for one in [&hook, &name, &version, &net] {
            assert_eq!(judge(std::slice::from_ref(one)).level, VerdictLevel::Clean);
        }
        assert_eq!(
            judge(&[hook.clone(), net.clone()]).level,
            VerdictLevel::Clean
        );
        let v = judge(&[hook.clone(), name.clone(), net.clone()]);
        assert_eq!(v.level, VerdictLevel::Suspicious, "{:?}", v.reasons);
        assert!(v.reasons.iter().any(|r| r.contains("context combines")));
        let all = judge(&[hook, name, version, net]);
        assert!(all.score > v.score);
        assert_ne!(all.level, VerdictLevel::Clean);
    }

    #[test]
    fn medium_library_findings_scattered_over_files_stay_clean() {
        let spread: Vec<Finding> = ["p/a.py", "p/b.py", "p/c.py"]
            .iter()
            .zip(["PY102", "PY107", "PY115"])
            .map(|(file, rule)| f(rule, Severity::Medium, Confidence::High, file, false))
            .collect();
        let v = judge(&spread);
        assert!(v.score >= 25, "{}", v.score);
        assert_eq!(v.level, VerdictLevel::Clean, "{:?}", v.reasons);
        // one of them at install time deserves a look
        let mut unasked = spread.clone();
        unasked[0].install_time = true;
        assert_eq!(judge(&unasked).level, VerdictLevel::Suspicious);
    }

    #[test]
    fn high_findings_scattered_over_library_files_are_not_malicious() {
        let spread: Vec<Finding> = ["p/a.py", "p/b.py", "p/c.py"]
            .iter()
            .zip(["PY101", "PY102", "PY103"])
            .map(|(file, rule)| f(rule, Severity::High, Confidence::High, file, false))
            .collect();
        let v = judge(&spread);
        assert!(v.score >= 60);
        assert_eq!(v.level, VerdictLevel::Suspicious, "{:?}", v.reasons);
        // the same behaviours meeting in one file are
        let together: Vec<Finding> = spread
            .iter()
            .cloned()
            .map(|mut x| {
                x.file = Some("p/a.py".into());
                x
            })
            .collect();
        assert_eq!(judge(&together).level, VerdictLevel::Malicious);
        // and one of them at install time is
        let mut at_install = spread.clone();
        at_install[0].install_time = true;
        assert_eq!(judge(&at_install).level, VerdictLevel::Malicious);
    }

    #[test]
    fn preview_findings_are_ignored() {
        let mut x = f(
            "PY101",
            Severity::Critical,
            Confidence::High,
            "p/setup.py",
            true,
        );
        x.preview = true;
        assert_eq!(judge(&[x]).level, VerdictLevel::Clean);
    }
}
