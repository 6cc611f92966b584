//! Whole-package verdicts on inert reconstructions of the seed cases and on
//! benign look-alikes (`tests/fixtures/pypi/`, see its README).

mod support;

use sluice_analyze::{Options, analyze};
use sluice_archive::{ArtifactKind, FileTree};
use sluice_model::{Report, VerdictLevel};

/// Load a fixture folder as the sdist `<name>-1.0/`.
fn load(name: &str) -> FileTree {
    let mut t = support::load_folder("pypi", name, &format!("{name}-1.0/"));
    t.kind = ArtifactKind::Sdist;
    t.filename = format!("{name}-1.0.tar.gz");
    t
}

fn scan(name: &str) -> Report {
    analyze(name, &load(name), &Options::default())
}

/// Malicious, with `rule` among the drivers at `file:line`.
fn assert_malicious(name: &str, rule: &str, file: &str, line: u32) {
    let r = scan(name);
    assert_eq!(
        r.verdict.level,
        VerdictLevel::Malicious,
        "{name}: {}",
        support::summary(&r)
    );
    let hit = r.verdict.drivers.iter().any(|f| {
        f.rule.as_str() == rule
            && f.file.as_deref() == Some(&format!("{name}-1.0/{file}")[..])
            && f.line == Some(line)
    });
    assert!(
        hit,
        "{name}: no {rule} driver at {file}:{line}\n{}",
        support::summary(&r)
    );
    assert!(
        r.verdict.reasons.iter().any(|s| s.contains(rule)),
        "{name}: reasons do not name {rule}"
    );
}

#[test]
fn mysl_python_recon_post_in_setup_py() {
    assert_malicious("mysl-python", "PY101", "setup.py", 63);
    let r = scan("mysl-python");
    assert_eq!(r.metadata.name.as_deref(), Some("mysl-python"));
    assert!(r.metadata.install_hooks.contains_key("cmdclass:install"));
    let f = r
        .findings
        .iter()
        .find(|f| f.rule.as_str() == "PY101")
        .unwrap();
    assert!(f.install_time);
    assert!(
        f.evidence.iter().any(|e| e.contains("175.24.100.2:8000")),
        "{:?}",
        f.evidence
    );
    assert!(
        f.evidence
            .iter()
            .any(|e| e.contains("username") && e.contains("hostname")),
        "{:?}",
        f.evidence
    );
}

#[test]
fn pyscrapy_download_and_run_in_setup_py() {
    assert_malicious("pyscrapy", "PY102", "setup.py", 15);
}

#[test]
fn libpeshnx_installation_entry_point_into_bad_module() {
    assert_malicious("libpeshnx", "PY102", "libpeshnx/main.py", 11);
    let r = scan("libpeshnx");
    assert!(
        r.findings.iter().any(|f| f.rule.as_str() == "PKG313"),
        "{}",
        support::summary(&r)
    );
    assert!(
        r.metadata
            .entry_points
            .contains_key("setuptools.installation:eggsecutable")
    );
}

#[test]
fn jeilyfish_payload_exec_on_import() {
    assert_malicious("jeilyfish", "PY104", "jellyfish/__init__.py", 16);
    let r = scan("jeilyfish");
    // the decoded payload is judged too: it sends SSH/GPG keys out
    let inner = r
        .findings
        .iter()
        .find(|f| f.rule.as_str() == "PY103")
        .expect("payload analysed");
    assert!(
        inner.evidence.iter().any(|e| e.contains("base64 → zlib")),
        "{:?}",
        inner.evidence
    );
    assert!(
        inner.message.contains("ssh") || inner.message.contains("gpg"),
        "{}",
        inner.message
    );
}

#[test]
fn python3_dateutil_fetch_and_exec_at_install() {
    assert_malicious("python3-dateutil", "PY102", "setup.py", 15);
}

#[test]
fn benign_packages_are_clean() {
    for name in ["cext-pkg", "gitfetch", "iconpkg"] {
        let r = scan(name);
        assert_eq!(
            r.verdict.level,
            VerdictLevel::Clean,
            "{name}: {}",
            support::summary(&r)
        );
        assert!(r.verdict.drivers.is_empty());
    }
}
