//! JS214 with the file tree: a started path that is a shipped native
//! executable raises the finding; one that is JavaScript or text does not.
//! The "executables" are four magic bytes and zeros: inert.

mod support;

use sluice_analyze::{Options, analyze};
use sluice_model::{Report, Severity};

const ELF: &str = "\u{7f}ELF\u{2}\u{1}\u{1}\0\0\0\0\0\0\0\0\0";

fn scan(files: &[(&str, &str)]) -> Report {
    analyze("inline", &support::tree_of(files), &Options::default())
}

fn js214(r: &Report) -> Vec<(Severity, String, u32)> {
    r.findings
        .iter()
        .filter(|f| f.rule.as_str() == "JS214")
        .map(|f| {
            (
                f.severity,
                f.file.clone().unwrap_or_default(),
                f.line.unwrap_or(0),
            )
        })
        .collect()
}

const SETUP: &str = "const path = require('path');\nconst { spawn } = require('child_process');\nspawn(path.join(__dirname, 'lib', 'update'), [], { detached: true });\n";

#[test]
fn install_script_starting_a_shipped_elf() {
    let r = scan(&[
        (
            "package/package.json",
            r#"{"name":"x","version":"1.0.0","scripts":{"postinstall":"node setup.js"}}"#,
        ),
        ("package/setup.js", SETUP),
        ("package/lib/update", ELF),
    ]);
    assert_eq!(
        js214(&r),
        vec![(Severity::High, "package/setup.js".to_owned(), 3)],
        "{}",
        support::summary(&r)
    );
    let f = r
        .findings
        .iter()
        .find(|f| f.rule.as_str() == "JS214")
        .unwrap();
    assert!(f.install_time);
    assert!(
        f.evidence
            .iter()
            .any(|e| e.contains("package/lib/update is a ELF")),
        "{:?}",
        f.evidence
    );
}

#[test]
fn a_binary_disguised_as_an_image_is_critical() {
    let setup = SETUP.replace("'lib', 'update'", "'assets', 'logo.png'");
    let r = scan(&[
        (
            "package/package.json",
            r#"{"name":"x","version":"1.0.0","scripts":{"postinstall":"node setup.js"}}"#,
        ),
        ("package/setup.js", &setup),
        ("package/assets/logo.png", ELF),
    ]);
    assert_eq!(
        js214(&r)[0].0,
        Severity::Critical,
        "{}",
        support::summary(&r)
    );
}

#[test]
fn lifecycle_script_starting_a_shipped_binary() {
    let r = scan(&[
        (
            "package/package.json",
            r#"{"name":"x","version":"1.0.0","scripts":{"postinstall":"./payload --quiet"}}"#,
        ),
        ("package/payload", ELF),
    ]);
    assert_eq!(
        js214(&r),
        vec![(Severity::High, "package/package.json".to_owned(), 0)],
        "{}",
        support::summary(&r)
    );
}

#[test]
fn started_scripts_and_text_stay_low() {
    let r = scan(&[
        (
            "package/package.json",
            r#"{"name":"x","version":"1.0.0","scripts":{"postinstall":"node setup.js"}}"#,
        ),
        ("package/setup.js", SETUP),
        ("package/lib/update", "#!/bin/sh\necho updated\n"),
    ]);
    assert_eq!(
        js214(&r),
        vec![(Severity::Low, "package/setup.js".to_owned(), 3)],
        "{}",
        support::summary(&r)
    );
    // Library code starting a shipped binary: a tool wrapper, Low.
    let r = scan(&[
        (
            "package/package.json",
            r#"{"name":"x","version":"1.0.0","main":"index.js"}"#,
        ),
        ("package/index.js", "module.exports = 1;"),
        (
            "package/lib/run.js",
            &SETUP.replace("'lib', 'update'", "'..', 'bin', 'rg'"),
        ),
        ("package/bin/rg", ELF),
    ]);
    assert_eq!(
        js214(&r),
        vec![(Severity::Low, "package/lib/run.js".to_owned(), 3)],
        "{}",
        support::summary(&r)
    );
}
