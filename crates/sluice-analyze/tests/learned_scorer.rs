//! The learned scorer on whole packages: it only ever raises the rule
//! level, it is judged again when findings are added later, and its
//! contributions point at the findings behind them.

mod support;

use sluice_analyze::learn::{self, Scorer, Split};
use sluice_analyze::{Options, add_findings, analyze};
use sluice_archive::{ArtifactKind, FileTree};
use sluice_model::{Confidence, Finding, RuleCode, Severity, VerdictLevel};

fn load(eco: &str, name: &str) -> FileTree {
    let mut t = support::load_folder(eco, name, &format!("{name}-1.0/"));
    if eco == "pypi" {
        t.kind = ArtifactKind::Sdist;
        t.filename = format!("{name}-1.0.tar.gz");
    }
    t
}

fn model_options() -> Options {
    Options {
        scorer: Scorer::Model,
        ..Options::default()
    }
}

const FIXTURES: &[(&str, &str)] = &[
    ("pypi", "mysl-python"),
    ("pypi", "python3-dateutil"),
    ("pypi", "cext-pkg"),
    ("pypi", "gitfetch"),
    ("pypi", "jeilyfish"),
    ("npm", "api-client"),
    ("npm", "cli-tool"),
    ("npm", "dns-exfil-preinstall"),
    ("npm", "native-addon"),
];

#[test]
fn model_never_lowers_the_rule_level_and_explains_itself() {
    for (eco, name) in FIXTURES {
        let tree = load(eco, name);
        let rules = analyze(name, &tree, &Options::default());
        let model = analyze(name, &tree, &model_options());
        assert!(rules.model.is_none());
        let m = model.model.as_ref().expect("model section");
        assert_eq!(m.rule_level, rules.verdict.level, "{name}");
        assert_eq!(m.rule_score, rules.verdict.score, "{name}");
        assert!(model.verdict.level >= rules.verdict.level, "{name}");
        assert_eq!(model.verdict.level, m.level.max(m.rule_level), "{name}");
        // The findings are the same: the scorer changes only the verdict.
        assert_eq!(model.findings, rules.findings, "{name}");
        let sum: f64 = m.contributions.iter().map(|c| c.points).sum::<f64>() + m.bias_points;
        assert!((sum - m.points).abs() < 1e-9, "{name}");
        // Every contribution from a rule feature names a real finding.
        for c in m.contributions.iter().filter(|c| c.rule.is_some()) {
            assert!(
                model
                    .findings
                    .iter()
                    .any(|f| Some(&f.rule) == c.rule.as_ref()
                        && f.file == c.file
                        && f.line == c.line),
                "{name}: {c:?}"
            );
        }
    }
}

#[test]
fn added_findings_are_judged_by_the_model_again() {
    let tree = load("pypi", "python3-dateutil");
    let mut r = analyze("x", &tree, &model_options());
    let before = r.model.clone().expect("model section");
    let name = Finding::new(
        RuleCode::new("NAME401"),
        "typosquat",
        Severity::High,
        Confidence::High,
        "close to a popular name",
    );
    add_findings(&mut r, &tree, [name]);
    let after = r.model.as_ref().expect("still judged by the model");
    assert_eq!(after.suspicious_at, before.suspicious_at);
    if learn::embedded().weights.contains_key("rule:NAME401@lib") {
        assert!(
            after
                .contributions
                .iter()
                .any(|c| c.feature == "rule:NAME401@lib"),
            "{:?}",
            after.contributions
        );
    }
    assert!(r.verdict.level >= after.rule_level);
}

#[test]
fn the_threshold_moves_the_model_level() {
    let tree = load("pypi", "cext-pkg");
    let low = analyze(
        "x",
        &tree,
        &Options {
            threshold: Some(0.0),
            ..model_options()
        },
    );
    assert!(low.verdict.level >= VerdictLevel::Suspicious);
    assert_eq!(low.model.as_ref().unwrap().suspicious_at, 0.0);
    let high = analyze(
        "x",
        &tree,
        &Options {
            threshold: Some(1.0),
            ..model_options()
        },
    );
    let m = high.model.as_ref().unwrap();
    assert!(m.malicious_at >= m.suspicious_at);
    assert_eq!(m.level, VerdictLevel::Clean);
}

/// With the malicious-dev set present, its manifest splits into two
/// halves of similar size, as `bench/recall.py` expects.
#[test]
fn split_of_the_malicious_set_when_present() {
    let manifest = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/malicious-dev/MANIFEST.tsv");
    let Ok(text) = std::fs::read_to_string(&manifest) else {
        eprintln!(
            "skipped: {} is absent (the malicious-dev set)",
            manifest.display()
        );
        return;
    };
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split('\t').collect();
    let c = header.iter().position(|h| *h == "cluster").unwrap();
    let (mut tune, mut hold) = (0usize, 0usize);
    for l in lines.filter(|l| !l.is_empty()) {
        match learn::split_of(l.split('\t').nth(c).unwrap()) {
            Split::Tune => tune += 1,
            Split::Holdout => hold += 1,
        }
    }
    assert!(tune > 0 && hold > 0);
    assert!(tune.abs_diff(hold) * 10 < tune + hold, "{tune} vs {hold}");
}
