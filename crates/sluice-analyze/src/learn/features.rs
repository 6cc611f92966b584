//! Named features of a report: what the learned scorer sees.
//!
//! Every feature has a stable name; a model maps names to weights, so a
//! feature that an older model does not know weighs nothing and a model
//! keeps working after rules are added. Only non-zero features are
//! listed. Values are kept small (0–1 strengths, `ln(1 + count)`, hinges
//! above a typical value) so that a weight times a value reads as points.
//!
//! | name | value |
//! | --- | --- |
//! | `rule:CODE@unasked` / `@lib` / `@aux` | strongest finding of the rule in code that runs unasked / other code / tests, docs and tooling: severity (info 0.1, low 0.25, medium 0.5, high 0.75, critical 1) × confidence (0.5, 0.75, 1), × (1 + 0.1·ln n) for n findings (at most ×1.3) |
//! | `max@unasked` / `@lib` / `@aux` | the strongest finding of any rule there |
//! | `rules:distinct` | ln(1 + distinct rules with a finding above info) |
//! | `rules:score` | the hand-written rule score / 100 |
//! | `ioc:KIND` | ln(1 + indicators of that kind): ip, url, domain, email, webhook |
//! | `manifest:install_hooks`, `manifest:dependencies`, `manifest:entry_points` | ln(1 + count) |
//! | `manifest:no_name`, `no_summary`, `no_project_url`, `no_license`, `no_author` | 1 when missing |
//! | `version:zero`, `version:1.0.0`, `version:huge` | 0.0.x / exactly 1.0.0 / major ≥ 50 |
//! | `archive:files`, `archive:log_bytes` | ln(1 + files), log10(1 + unpacked bytes) |
//! | `code:py_files`, `code:js_files` | ln(1 + source files) |
//! | `code:py_long_line`, `code:js_long_line` | max(0, log10(longest line) − 2.5) |
//! | `code:py_entropy`, `code:js_entropy` | max(0, highest file entropy − 5 bits/byte) |
//! | `code:py_non_ascii`, `code:js_non_ascii` | √(share of non-ASCII bytes) |
//! | `code:unasked_*` | the same four over the files that run unasked (setup.py, install scripts, `.pth`, top-level `__init__.py`) |
//! | `pair@unasked:A+B` | two distinct rules both found in code that runs unasked: √(the weaker one's strength) |
//! | `code:no_source` | 1 when there is no Python or JavaScript file |

use std::collections::BTreeMap;

use sluice_model::{Confidence, Finding, IndicatorKind, LangStats, Report, RuleCode, Severity};

/// One named feature with its value and, where it came from one place,
/// the rule, file and line that raised it.
#[derive(Clone, Debug, PartialEq)]
pub struct Feature {
    /// Stable name.
    pub name: String,
    /// Value (never zero in [`extract`]'s output).
    pub value: f64,
    /// The rule behind it.
    pub rule: Option<RuleCode>,
    /// The file behind it.
    pub file: Option<String>,
    /// The line behind it.
    pub line: Option<u32>,
}

impl Feature {
    pub(crate) fn plain(name: impl Into<String>, value: f64) -> Self {
        Self {
            name: name.into(),
            value,
            rule: None,
            file: None,
            line: None,
        }
    }
}

/// Names that [`extract`] can produce besides the per-rule ones.
pub const FIXED_NAMES: &[&str] = &[
    "max@unasked",
    "max@lib",
    "max@aux",
    "rules:distinct",
    "rules:score",
    "ioc:ip",
    "ioc:url",
    "ioc:domain",
    "ioc:email",
    "ioc:webhook",
    "manifest:install_hooks",
    "manifest:dependencies",
    "manifest:entry_points",
    "manifest:no_name",
    "manifest:no_summary",
    "manifest:no_project_url",
    "manifest:no_license",
    "manifest:no_author",
    "version:zero",
    "version:1.0.0",
    "version:huge",
    "archive:files",
    "archive:log_bytes",
    "code:no_source",
];

/// Whether [`extract`] can produce a feature of this name: one of
/// [`FIXED_NAMES`], `code:{py,js,unasked}_{files,long_line,entropy,non_ascii}`,
/// `rule:CODE@{unasked,lib,aux}` or `pair@unasked:A+B`.
#[must_use]
pub fn is_known_name(name: &str) -> bool {
    let code = |c: &str| !c.is_empty() && c.chars().all(|ch| ch.is_ascii_alphanumeric());
    if FIXED_NAMES.contains(&name) {
        return true;
    }
    if let Some(rest) = name.strip_prefix("code:") {
        return ["py_", "js_", "unasked_"].iter().any(|l| {
            rest.strip_prefix(l)
                .is_some_and(|s| ["files", "long_line", "entropy", "non_ascii"].contains(&s))
        });
    }
    if let Some(rest) = name.strip_prefix("rule:") {
        return rest
            .rsplit_once('@')
            .is_some_and(|(c, ctx)| code(c) && ["unasked", "lib", "aux"].contains(&ctx));
    }
    if let Some(rest) = name.strip_prefix("pair@unasked:") {
        return rest
            .split_once('+')
            .is_some_and(|(a, b)| code(a) && code(b) && a < b);
    }
    false
}

/// How strong one finding is, 0–1.
#[must_use]
pub fn strength(f: &Finding) -> f64 {
    let s = match f.severity {
        Severity::Info => 0.1,
        Severity::Low => 0.25,
        Severity::Medium => 0.5,
        Severity::High => 0.75,
        Severity::Critical => 1.0,
    };
    let c = match f.confidence {
        Confidence::Low => 0.5,
        Confidence::Medium => 0.75,
        Confidence::High => 1.0,
    };
    s * c
}

/// Where a finding's code runs: `unasked` (install or import time),
/// `aux` (tests, docs, tooling) or `lib` (everything else).
#[must_use]
pub fn context(f: &Finding) -> &'static str {
    if f.install_time {
        "unasked"
    } else if f.file.as_deref().is_some_and(crate::manifest::is_auxiliary) {
        "aux"
    } else {
        "lib"
    }
}

fn ln1p_count(n: usize) -> f64 {
    #[allow(clippy::cast_precision_loss)]
    (n as f64).ln_1p()
}

/// The features of `report`, sorted by name, zero-valued ones left out.
#[must_use]
pub fn extract(report: &Report) -> Vec<Feature> {
    let mut out: Vec<Feature> = Vec::new();
    findings(report, &mut out);
    indicators(report, &mut out);
    manifest(report, &mut out);
    code(report, &mut out);
    out.retain(|f| f.value != 0.0 && f.value.is_finite());
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

fn findings(report: &Report, out: &mut Vec<Feature>) {
    // (rule, context) -> (strongest finding, count)
    let mut by: BTreeMap<(&str, &str), (&Finding, usize)> = BTreeMap::new();
    let mut best: BTreeMap<&str, &Finding> = BTreeMap::new();
    for f in report.findings.iter().filter(|f| !f.preview) {
        let ctx = context(f);
        let e = by.entry((f.rule.as_str(), ctx)).or_insert((f, 0));
        e.1 += 1;
        if strength(f) > strength(e.0) {
            e.0 = f;
        }
        let b = best.entry(ctx).or_insert(f);
        if strength(f) > strength(b) {
            *b = f;
        }
    }
    let mut distinct = std::collections::BTreeSet::new();
    for ((rule, ctx), (f, n)) in &by {
        #[allow(clippy::cast_precision_loss)]
        let repeat = 1.0 + (0.1 * (*n as f64).ln()).min(0.3);
        if f.severity > Severity::Info {
            distinct.insert(*rule);
        }
        out.push(from_finding(
            format!("rule:{rule}@{ctx}"),
            strength(f) * repeat,
            f,
        ));
    }
    // Pairs of distinct rules in code that runs unasked (capability and
    // intent together: a cmdclass override next to an encoded blob).
    let unasked: Vec<(&str, &Finding)> = by
        .iter()
        .filter(|((_, ctx), _)| *ctx == "unasked")
        .map(|((rule, _), (f, _))| (*rule, *f))
        .collect();
    for (i, (a, fa)) in unasked.iter().enumerate() {
        for (b, fb) in &unasked[i + 1..] {
            let f = if strength(fb) > strength(fa) { fb } else { fa };
            out.push(from_finding(
                format!("pair@unasked:{a}+{b}"),
                strength(fa).min(strength(fb)).sqrt(),
                f,
            ));
        }
    }
    for (ctx, f) in best {
        out.push(from_finding(format!("max@{ctx}"), strength(f), f));
    }
    out.push(Feature::plain("rules:distinct", ln1p_count(distinct.len())));
    let rule_score = report
        .model
        .as_ref()
        .map_or(report.verdict.score, |m| m.rule_score);
    out.push(Feature::plain("rules:score", f64::from(rule_score) / 100.0));
}

fn from_finding(name: String, value: f64, f: &Finding) -> Feature {
    Feature {
        name,
        value,
        rule: Some(f.rule.clone()),
        file: f.file.clone(),
        line: f.line,
    }
}

fn indicators(report: &Report, out: &mut Vec<Feature>) {
    for (kind, name) in [
        (IndicatorKind::Ip, "ip"),
        (IndicatorKind::Url, "url"),
        (IndicatorKind::Domain, "domain"),
        (IndicatorKind::Email, "email"),
        (IndicatorKind::Webhook, "webhook"),
    ] {
        let mut it = report.indicators.iter().filter(|i| i.kind == kind);
        let Some(first) = it.next() else { continue };
        let n = 1 + it.count();
        out.push(Feature {
            name: format!("ioc:{name}"),
            value: ln1p_count(n),
            rule: None,
            file: Some(first.file.clone()),
            line: Some(first.line),
        });
    }
}

fn missing(s: Option<&String>) -> f64 {
    if s.is_none_or(|s| s.trim().is_empty()) {
        1.0
    } else {
        0.0
    }
}

fn manifest(report: &Report, out: &mut Vec<Feature>) {
    let m = &report.metadata;
    out.push(Feature::plain(
        "manifest:install_hooks",
        ln1p_count(m.install_hooks.len()),
    ));
    out.push(Feature::plain(
        "manifest:dependencies",
        ln1p_count(m.dependencies.len()),
    ));
    out.push(Feature::plain(
        "manifest:entry_points",
        ln1p_count(m.entry_points.len()),
    ));
    out.push(Feature::plain("manifest:no_name", missing(m.name.as_ref())));
    out.push(Feature::plain(
        "manifest:no_summary",
        missing(m.summary.as_ref()),
    ));
    let url = missing(m.homepage.as_ref()) * missing(m.repository.as_ref());
    out.push(Feature::plain("manifest:no_project_url", url));
    out.push(Feature::plain(
        "manifest:no_license",
        missing(m.license.as_ref()),
    ));
    let author = missing(m.author.as_ref()) * missing(m.author_email.as_ref());
    out.push(Feature::plain("manifest:no_author", author));
    if let Some(v) = m.version.as_deref() {
        let parts: Vec<u64> = v
            .split('.')
            .map(|p| {
                p.chars()
                    .take_while(char::is_ascii_digit)
                    .collect::<String>()
                    .parse()
                    .unwrap_or(0)
            })
            .collect();
        let major = parts.first().copied().unwrap_or(0);
        let minor = parts.get(1).copied().unwrap_or(0);
        if major == 0 && minor == 0 {
            out.push(Feature::plain("version:zero", 1.0));
        }
        if v.trim() == "1.0.0" {
            out.push(Feature::plain("version:1.0.0", 1.0));
        }
        if (50..1900).contains(&major) {
            out.push(Feature::plain("version:huge", 1.0));
        }
    }
    #[allow(clippy::cast_precision_loss)]
    {
        let a = &report.artifact;
        out.push(Feature::plain("archive:files", (a.files as f64).ln_1p()));
        out.push(Feature::plain(
            "archive:log_bytes",
            (a.unpacked_bytes as f64).ln_1p() / std::f64::consts::LN_10,
        ));
    }
}

fn code(report: &Report, out: &mut Vec<Feature>) {
    let Some(stats) = &report.stats else { return };
    lang(&stats.python, "py", out);
    lang(&stats.javascript, "js", out);
    lang(&stats.unasked, "unasked", out);
    if stats.python.files == 0 && stats.javascript.files == 0 {
        out.push(Feature::plain("code:no_source", 1.0));
    }
}

fn lang(s: &LangStats, tag: &str, out: &mut Vec<Feature>) {
    if s.files == 0 {
        return;
    }
    #[allow(clippy::cast_precision_loss)]
    {
        out.push(Feature::plain(
            format!("code:{tag}_files"),
            (s.files as f64).ln_1p(),
        ));
        let long = ((s.max_line.max(1) as f64).log10() - 2.5).max(0.0);
        out.push(Feature {
            file: s.max_line_file.clone(),
            ..Feature::plain(format!("code:{tag}_long_line"), long)
        });
    }
    out.push(Feature {
        file: s.max_entropy_file.clone(),
        ..Feature::plain(
            format!("code:{tag}_entropy"),
            (s.max_entropy - 5.0).max(0.0),
        )
    });
    out.push(Feature::plain(
        format!("code:{tag}_non_ascii"),
        s.non_ascii.sqrt(),
    ));
}

#[cfg(test)]
mod tests {
    use super::*;
    use sluice_model::{ArtifactInfo, Indicator, Metadata, Verdict};

    fn report(findings: Vec<Finding>) -> Report {
        Report {
            schema: 1,
            target: "t".into(),
            ecosystem: None,
            package: None,
            version: None,
            artifact: ArtifactInfo {
                files: 3,
                unpacked_bytes: 999,
                ..ArtifactInfo::default()
            },
            metadata: Metadata {
                name: Some("x".into()),
                version: Some("0.0.1".into()),
                ..Metadata::default()
            },
            verdict: Verdict::clean(),
            findings,
            indicators: vec![
                Indicator {
                    kind: IndicatorKind::Ip,
                    value: "1.2.3.4".into(),
                    file: "setup.py".into(),
                    line: 7,
                },
                Indicator {
                    kind: IndicatorKind::Ip,
                    value: "1.2.3.5".into(),
                    file: "setup.py".into(),
                    line: 9,
                },
            ],
            warnings: vec![],
            unparsed_auxiliary: vec![],
            stats: None,
            model: None,
        }
    }

    fn get<'a>(fs: &'a [Feature], name: &str) -> Option<&'a Feature> {
        fs.iter().find(|f| f.name == name)
    }

    #[test]
    fn findings_become_rule_features_by_context() {
        let f = |sev, conf, file: &str, unasked| {
            Finding::new(RuleCode::new("PY101"), "x", sev, conf, "m")
                .at(file, 3, 1)
                .install_time(unasked)
        };
        let fs = extract(&report(vec![
            f(Severity::Critical, Confidence::High, "setup.py", true),
            f(Severity::Medium, Confidence::High, "p/a.py", false),
            f(Severity::High, Confidence::High, "p/a.py", false),
            f(Severity::High, Confidence::High, "p/tests/t.py", false),
        ]));
        let u = get(&fs, "rule:PY101@unasked").unwrap();
        assert!((u.value - 1.0).abs() < 1e-12);
        assert_eq!(u.file.as_deref(), Some("setup.py"));
        assert_eq!(u.line, Some(3));
        assert_eq!(u.rule.as_ref().map(RuleCode::as_str), Some("PY101"));
        // Two findings in library code: the strongest (0.75), × (1 + 0.1 ln 2).
        let l = get(&fs, "rule:PY101@lib").unwrap();
        assert!((l.value - 0.75 * (1.0 + 0.1 * 2f64.ln())).abs() < 1e-12);
        assert!(get(&fs, "rule:PY101@aux").is_some());
        assert!((get(&fs, "max@unasked").unwrap().value - 1.0).abs() < 1e-12);
        assert!((get(&fs, "rules:distinct").unwrap().value - 2f64.ln()).abs() < 1e-12);
        // Sorted by name, nothing zero, every name known.
        assert!(fs.windows(2).all(|w| w[0].name < w[1].name));
        assert!(fs.iter().all(|f| is_known_name(&f.name)), "{fs:?}");
        assert!(fs.iter().all(|f| f.value != 0.0));
    }

    #[test]
    fn preview_findings_are_not_features() {
        let mut x = Finding::new(
            RuleCode::new("PY999"),
            "x",
            Severity::Critical,
            Confidence::High,
            "m",
        );
        x.preview = true;
        let fs = extract(&report(vec![x]));
        assert!(fs.iter().all(|f| !f.name.contains("PY999")));
        assert!(get(&fs, "max@lib").is_none());
    }

    #[test]
    fn indicators_manifest_and_archive() {
        let fs = extract(&report(vec![]));
        let ip = get(&fs, "ioc:ip").unwrap();
        assert!((ip.value - 3f64.ln()).abs() < 1e-12);
        assert_eq!((ip.file.as_deref(), ip.line), (Some("setup.py"), Some(7)));
        assert!(get(&fs, "ioc:url").is_none());
        assert_eq!(get(&fs, "version:zero").unwrap().value, 1.0);
        assert_eq!(get(&fs, "manifest:no_summary").unwrap().value, 1.0);
        assert!(get(&fs, "manifest:no_name").is_none());
        assert!((get(&fs, "archive:files").unwrap().value - 4f64.ln()).abs() < 1e-12);
        assert!((get(&fs, "archive:log_bytes").unwrap().value - 3.0).abs() < 1e-12);
        // No statistics, no code features.
        assert!(fs.iter().all(|f| !f.name.starts_with("code:")));
    }

    #[test]
    fn code_statistics_become_hinged_features() {
        let mut r = report(vec![]);
        let mut c = crate::learn::stats::Collector::default();
        let blob: Vec<u8> = (0..=255u8).cycle().take(4096).collect();
        c.add("p/x.py", crate::source::Language::Python, &blob);
        r.stats = Some(c.finish());
        let fs = extract(&r);
        let e = get(&fs, "code:py_entropy").unwrap();
        assert!((e.value - 3.0).abs() < 1e-9, "{}", e.value);
        assert_eq!(e.file.as_deref(), Some("p/x.py"));
        assert!(get(&fs, "code:js_files").is_none());
        assert!(fs.iter().all(|f| is_known_name(&f.name)), "{fs:?}");
        assert!(!is_known_name("code:py_bogus"));
        assert!(!is_known_name("rule:PY101@elsewhere"));
        assert!(!is_known_name("pair@unasked:PY2+PY1"));
        assert!(is_known_name("pair@unasked:PKG311+PY105"));
        assert!(get(&fs, "code:no_source").is_none());
    }
}
