//! The user's indicator file: parsing, matching, digests, and the
//! INTEL501 findings `analyze` adds.

mod support;

use sluice_analyze::ioc::IocSet;
use sluice_analyze::{FileRole, Options, SourceFile, analyze, ioc};
use sluice_model::{Confidence, Severity, Sha256};

const FILE: &str = "# campaign 2021-07\n\
175.24.100.2\n\
\n\
203.0.113.0/24   # a hosting range\n\
evil[.]example\n\
hxxps://paste.example.org/raw/\n\
badactor@example.net\n\
sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad\n\
2001:db8:dead::/48\n";

#[test]
fn parses_every_kind() {
    let set = IocSet::parse(FILE).unwrap();
    assert_eq!(set.len(), 7);
    assert!(set.has_digests());
    assert!(IocSet::parse("").unwrap().is_empty());
}

#[test]
fn bad_lines_name_their_number() {
    let e = IocSet::parse("1.2.3.4\n# ok\nnot an indicator\n").unwrap_err();
    assert!(e.starts_with("line 3:"), "{e}");
    let e = IocSet::parse("a@b@c\n").unwrap_err();
    assert!(e.starts_with("line 1:"), "{e}");
    let e = IocSet::parse("10.0.0.0/40\n").unwrap_err();
    assert!(e.starts_with("line 1:"), "{e}");
    assert!(IocSet::parse("index.js\n").is_err());
}

#[test]
fn matches_with_line_evidence() {
    let set = IocSet::parse(FILE).unwrap();
    let text = "a('http://175.24.100.2:8000/api/python/');\n\
                b('https://cdn.evil.example/x');\n\
                c('203.0.113.77');\n\
                d('https://paste.example.org/raw/abc');\n\
                e('mail badactor@example.net');\n\
                f('https://good.example.com/');\n\
                g('2001:db8:dead:1::5');";
    let found = ioc::extract(&SourceFile {
        path: "x.js",
        text,
        role: FileRole::Library,
    });
    let hits = set.matches(&found);
    let mut lines: Vec<(u32, String)> = hits
        .iter()
        .map(|f| (f.line.unwrap(), f.evidence[0].clone()))
        .collect();
    lines.sort();
    lines.dedup();
    assert_eq!(
        lines,
        vec![
            (1, "matches indicator file line 2".to_owned()),
            (2, "matches indicator file line 5".to_owned()),
            (3, "matches indicator file line 4".to_owned()),
            (4, "matches indicator file line 6".to_owned()),
            (5, "matches indicator file line 7".to_owned()),
            (7, "matches indicator file line 9".to_owned()),
        ]
    );
    assert!(hits.iter().all(|f| f.rule.as_str() == "INTEL501"
        && f.severity == Severity::High
        && f.confidence == Confidence::High));
    // A domain matches its subdomains, never a longer unrelated name.
    let other = ioc::extract(&SourceFile {
        path: "y.js",
        text: "h('https://notevil.example/')",
        role: FileRole::Library,
    });
    assert!(set.matches(&other).is_empty());
}

#[test]
fn digests_and_analyze() {
    let set = IocSet::parse(FILE).unwrap();
    assert_eq!(set.matches_digest(&Sha256::of(b"abc")).len(), 1);
    assert!(set.matches_digest(&Sha256::of(b"abd")).is_empty());

    // `abc` is the content of one file; its digest is in the set.
    let tree = support::tree_of(&[
        ("package/package.json", r#"{"name":"p","version":"1.0.0"}"#),
        (
            "package/index.js",
            "module.exports = 'http://175.24.100.2:8000/'",
        ),
        ("package/data.bin", "abc"),
    ]);
    let r = analyze(
        "p",
        &tree,
        &Options {
            iocs: Some(set),
            ..Options::default()
        },
    );
    let intel: Vec<_> = r
        .findings
        .iter()
        .filter(|f| f.rule.as_str() == "INTEL501")
        .collect();
    assert!(
        intel
            .iter()
            .any(|f| f.file.as_deref() == Some("package/index.js") && f.line == Some(1)),
        "{intel:?}"
    );
    assert!(
        intel
            .iter()
            .any(|f| f.file.as_deref() == Some("package/data.bin")),
        "{intel:?}"
    );
}
