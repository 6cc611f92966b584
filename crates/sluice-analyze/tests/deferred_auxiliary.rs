//! Test, doc and example files are parsed only when they could change the
//! verdict (`Report::unparsed_auxiliary`, `Options::all_files`,
//! `add_findings`), and `.pyi` stubs are never parsed.

mod support;

use sluice_analyze::{Options, add_findings, analyze};
use sluice_archive::{ArtifactKind, FileTree};
use sluice_model::{Confidence, Finding, Report, RuleCode, Severity, VerdictLevel};

const PKG_INFO: &str = "Metadata-Version: 2.1\nName: pkg\nVersion: 1.0\n";
const TEST_FILE: &str = "pkg-1.0/tests/test_loader.py";
/// Decode → exec: a finding wherever it sits.
const DECODE_EXEC: &str =
    "import base64\nexec(base64.b64decode('cHJpbnQoImhlbGxvIik=').decode())\n";
/// Host identity sent out from library code (PY101): far more than the 5
/// points from which test code could change the verdict.
const RECON: &str = "import platform, socket, urllib.request\n\ndef report(url):\n    info = platform.node() + socket.gethostname()\n    urllib.request.urlopen(url, data=info.encode())\n";

fn sdist(files: &[(&str, &str)]) -> FileTree {
    let mut all = vec![("pkg-1.0/PKG-INFO", PKG_INFO)];
    all.extend_from_slice(files);
    let mut t = support::tree_of(&all);
    t.kind = ArtifactKind::Sdist;
    t.filename = "pkg-1.0.tar.gz".to_owned();
    t
}

fn in_file<'r>(r: &'r Report, path: &str) -> Vec<&'r Finding> {
    r.findings
        .iter()
        .filter(|f| f.file.as_deref() == Some(path))
        .collect()
}

fn all_files() -> Options {
    Options {
        all_files: true,
        ..Options::default()
    }
}

#[test]
fn test_code_waits_while_the_rest_is_clean() {
    let tree = sdist(&[
        (
            "pkg-1.0/pkg/__init__.py",
            "def add(a, b):\n    return a + b\n",
        ),
        (TEST_FILE, DECODE_EXEC),
    ]);
    let r = analyze("pkg", &tree, &Options::default());
    assert_eq!(r.unparsed_auxiliary, vec![TEST_FILE.to_owned()]);
    assert!(
        in_file(&r, TEST_FILE).is_empty(),
        "{}",
        support::summary(&r)
    );
    assert_eq!(r.verdict.level, VerdictLevel::Clean);

    let full = analyze("pkg", &tree, &all_files());
    assert!(full.unparsed_auxiliary.is_empty());
    assert!(
        in_file(&full, TEST_FILE)
            .iter()
            .any(|f| f.rule.as_str() == "PY104"),
        "{}",
        support::summary(&full)
    );
    // Test code alone never makes a package suspicious: same verdict.
    assert_eq!(full.verdict.level, r.verdict.level);
}

#[test]
fn test_code_is_parsed_once_the_rest_scores_enough() {
    let tree = sdist(&[("pkg-1.0/pkg/report.py", RECON), (TEST_FILE, DECODE_EXEC)]);
    let r = analyze("pkg", &tree, &Options::default());
    assert!(
        r.findings.iter().any(|f| f.rule.as_str() == "PY101"),
        "the library code is a finding: {}",
        support::summary(&r)
    );
    assert!(r.verdict.score >= 5, "{}", support::summary(&r));
    assert!(r.unparsed_auxiliary.is_empty());
    assert!(
        in_file(&r, TEST_FILE)
            .iter()
            .any(|f| f.rule.as_str() == "PY104"),
        "{}",
        support::summary(&r)
    );
    let full = analyze("pkg", &tree, &all_files());
    assert_eq!(r.findings, full.findings);
    assert_eq!(r.verdict, full.verdict);
}

#[test]
fn findings_added_later_bring_the_test_code_in() {
    let tree = sdist(&[
        ("pkg-1.0/pkg/__init__.py", "VERSION = '1.0'\n"),
        (TEST_FILE, DECODE_EXEC),
    ]);
    let mut r = analyze("pkg", &tree, &Options::default());
    assert_eq!(r.unparsed_auxiliary.len(), 1);
    // A weak outside finding keeps the score under 5: nothing to parse.
    let weak = Finding::new(
        RuleCode::new("NAME499"),
        "test-name",
        Severity::Low,
        Confidence::Low,
        "weak",
    );
    add_findings(&mut r, &tree, [weak]);
    assert_eq!(r.unparsed_auxiliary.len(), 1, "{}", support::summary(&r));
    let strong = Finding::new(
        RuleCode::new("NAME498"),
        "test-name",
        Severity::High,
        Confidence::Medium,
        "strong",
    );
    add_findings(&mut r, &tree, [strong]);
    assert!(r.unparsed_auxiliary.is_empty());
    assert!(
        !in_file(&r, TEST_FILE).is_empty(),
        "{}",
        support::summary(&r)
    );
}

#[test]
fn install_time_code_under_a_test_folder_is_never_deferred() {
    let tree = sdist(&[
        (
            "pkg-1.0/setup.py",
            "from setuptools import setup\nimport scripts.hook\nsetup(name='pkg')\n",
        ),
        ("pkg-1.0/scripts/hook.py", DECODE_EXEC),
    ]);
    let r = analyze("pkg", &tree, &Options::default());
    // Whatever role the manifest gives it, the verdict matches a full parse.
    let full = analyze("pkg", &tree, &all_files());
    assert_eq!(r.verdict.level, full.verdict.level);
}

/// On every fixture package, deferring changes neither the verdict level
/// nor any finding outside the unparsed files.
#[test]
fn deferring_never_changes_a_fixture_verdict() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");
    let mut seen = 0;
    for (group, prefix_of) in [
        (
            "pypi",
            (|n: &str| format!("{n}-1.0/")) as fn(&str) -> String,
        ),
        ("npm", |_: &str| String::new()),
    ] {
        for e in std::fs::read_dir(format!("{root}/{group}")).unwrap() {
            let e = e.unwrap();
            if !e.path().is_dir() {
                continue;
            }
            let name = e.file_name().to_string_lossy().into_owned();
            let tree = support::load_folder(group, &name, &prefix_of(&name));
            let fast = analyze(&name, &tree, &Options::default());
            let full = analyze(&name, &tree, &all_files());
            assert_eq!(fast.verdict.level, full.verdict.level, "{group}/{name}");
            let expected: Vec<&Finding> = full
                .findings
                .iter()
                .filter(|f| {
                    f.file
                        .as_ref()
                        .is_none_or(|p| !fast.unparsed_auxiliary.contains(p))
                })
                .collect();
            let got: Vec<&Finding> = fast.findings.iter().collect();
            assert_eq!(got, expected, "{group}/{name}");
            seen += 1;
        }
    }
    assert!(seen >= 10, "fixtures found: {seen}");
}

#[test]
fn type_stubs_are_searched_for_indicators_but_never_parsed() {
    let stub =
        "import base64\nexec(base64.b64decode('cHJpbnQoMSk='))\nURL = 'http://198.51.100.7/x'\n";
    let tree = sdist(&[("pkg-1.0/pkg/__init__.pyi", stub)]);
    let r = analyze("pkg", &tree, &all_files());
    assert!(
        in_file(&r, "pkg-1.0/pkg/__init__.pyi")
            .iter()
            .all(|f| !f.rule.as_str().starts_with("PY")),
        "{}",
        support::summary(&r)
    );
    assert!(
        r.indicators
            .iter()
            .any(|i| i.value.contains("198.51.100.7")),
        "{:?}",
        r.indicators
    );
    // The same code in a `.py` file is a finding.
    let tree = sdist(&[("pkg-1.0/pkg/__init__.py", stub)]);
    let r = analyze("pkg", &tree, &all_files());
    assert!(
        r.findings.iter().any(|f| f.rule.as_str() == "PY104"),
        "{}",
        support::summary(&r)
    );
}
