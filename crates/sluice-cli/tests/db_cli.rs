//! `sluice db` and `sluice admin who-pulled --intel` as processes.
#![allow(missing_docs)]

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;
use sluice_intel::IntelIndex;
use sluice_model::{Ecosystem, PackageName, VerdictLevel};
use sluice_store::{Action, ArtifactRow, Download, Store};

fn sluice(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sluice"))
        .args(args)
        .env_remove("SLUICE_CONFIG")
        .output()
        .unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn json_of(o: &Output) -> Value {
    serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}\n{}", stdout(o), String::from_utf8_lossy(&o.stderr)))
}

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

fn sample_dir() -> Option<PathBuf> {
    let d = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/osv-malicious-sample");
    if d.is_dir() {
        Some(d)
    } else {
        println!("note: {} is absent; test skipped", d.display());
        None
    }
}

fn record(id: &str, eco: &str, name: &str, extra: &str) -> String {
    format!(
        r#"{{"id":"{id}","modified":"2024-01-01T00:00:00Z","summary":"Malicious code in {name}","affected":[{{"package":{{"ecosystem":"{eco}","name":"{name}"}}{extra}}}]}}"#
    )
}

#[test]
fn import_list_show_the_real_sample() {
    let Some(sample) = sample_dir() else { return };
    let data = tempfile::tempdir().unwrap();
    let o = sluice(&[
        "db",
        "import",
        p(&sample),
        "--data-dir",
        p(data.path()),
        "--format",
        "json",
    ]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let r = json_of(&o);
    assert_eq!(r["new"], 1500);
    assert_eq!(r["errors"].as_array().unwrap().len(), 0);
    // Again: all unchanged (text form names the counts).
    let o = sluice(&["db", "import", p(&sample), "--data-dir", p(data.path())]);
    assert_eq!(o.status.code(), Some(0));
    assert!(
        stdout(&o).contains("0 new, 0 updated, 1500 unchanged, 0 withdrawn, 0 errors"),
        "{}",
        stdout(&o)
    );
    // list by name (any spelling), by ecosystem.
    let o = sluice(&[
        "db",
        "list",
        "--name",
        "Coloramah",
        "--data-dir",
        p(data.path()),
    ]);
    assert!(stdout(&o).contains("MAL-2024-4922"), "{}", stdout(&o));
    assert!(stdout(&o).starts_with("MAL-2024-4922 "), "{}", stdout(&o));
    let o = sluice(&[
        "db",
        "list",
        "--ecosystem",
        "pypi",
        "--limit",
        "5000",
        "--data-dir",
        p(data.path()),
        "--format",
        "json",
    ]);
    assert_eq!(json_of(&o)["records"].as_array().unwrap().len(), 435);
    // show: the OSV body as stored.
    let o = sluice(&[
        "db",
        "show",
        "MAL-2024-4922",
        "--format",
        "osv",
        "--data-dir",
        p(data.path()),
    ]);
    let v = json_of(&o);
    assert_eq!(v["aliases"][0], "SNYK-PYTHON-COLORAMAH-6513217");
    let o = sluice(&["db", "show", "MAL-NOPE", "--data-dir", p(data.path())]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn rejected_records_exit_1_and_name_the_file() {
    let src = tempfile::tempdir().unwrap();
    std::fs::write(
        src.path().join("ok.json"),
        record("MAL-1", "npm", "evil-a", r#","versions":["1.0.0"]"#),
    )
    .unwrap();
    std::fs::write(
        src.path().join("bad-range.json"),
        record(
            "MAL-2",
            "npm",
            "evil-b",
            r#","ranges":[{"type":"SEMVER","events":[{"introduced":"x.y"}]}]"#,
        ),
    )
    .unwrap();
    let data = tempfile::tempdir().unwrap();
    let o = sluice(&["db", "import", p(src.path()), "--data-dir", p(data.path())]);
    assert_eq!(o.status.code(), Some(1));
    let out = stdout(&o);
    assert!(out.contains("1 new"), "{out}");
    assert!(
        out.contains("bad-range.json: affected 0: affected range 0: event 0 (introduced)"),
        "{out}"
    );
    // A path that does not exist is an operational error.
    let o = sluice(&[
        "db",
        "import",
        "/nonexistent/osv",
        "--data-dir",
        p(data.path()),
    ]);
    assert_eq!(o.status.code(), Some(2));
    // list without a database is an error, not an empty list.
    let empty = tempfile::tempdir().unwrap();
    assert_eq!(
        sluice(&["db", "list", "--data-dir", p(empty.path())])
            .status
            .code(),
        Some(2)
    );
}

#[test]
fn import_from_a_url_on_loopback() {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    let body = record("MAL-URL-1", "PyPI", "url-evil", r#","versions":["2.0"]"#);
    std::thread::spawn(move || {
        for s in l.incoming().flatten() {
            let mut r = BufReader::new(s.try_clone().unwrap());
            loop {
                let mut h = String::new();
                if r.read_line(&mut h).unwrap_or(0) == 0 || h == "\r\n" {
                    break;
                }
            }
            let mut s = s;
            let _ = write!(
                s,
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    let data = tempfile::tempdir().unwrap();
    let url = format!("http://{addr}/osv/MAL-URL-1.json");
    let o = sluice(&[
        "db",
        "import",
        &url,
        "--data-dir",
        p(data.path()),
        "--format",
        "json",
    ]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(json_of(&o)["new"], 1);
    let store = Store::open(data.path()).unwrap();
    let idx = IntelIndex::load(&store).unwrap();
    let n = PackageName::parse(Ecosystem::PyPI, "url_evil").unwrap();
    assert_eq!(idx.matches(&n, "2.0").len(), 1);
}

fn artifact(
    eco: Ecosystem,
    name: &str,
    version: &str,
    file: &str,
    verdict: VerdictLevel,
) -> ArtifactRow {
    ArtifactRow {
        sha256: sluice_store::sha256_hex(file.as_bytes()),
        ecosystem: eco,
        name: name.into(),
        version: version.into(),
        filename: file.into(),
        size: 10,
        verdict,
        score: 92,
        scanned_at: "2026-01-02T03:04:05.000Z".into(),
    }
}

const REPORT: &str = r#"{"verdict":{"level":"malicious","score":92,"reasons":["setup.py downloads and runs a payload"]},
  "findings":[{"rule":"PY101","name":"download-exec","severity":"high","confidence":"high","message":"downloads and runs code",
               "file":"setup.py","line":12,"excerpt":"exec(urlopen(u).read())","evidence":["to: 10.0.0.1:8000"]}],
  "indicators":[{"kind":"ip","value":"10.0.0.1","file":"setup.py","line":12}]}"#;

#[test]
fn export_then_import_into_a_fresh_store_matches_the_same_versions() {
    let gate = tempfile::tempdir().unwrap();
    {
        let s = Store::open(gate.path()).unwrap();
        for (eco, name, version, file, level) in [
            (
                Ecosystem::PyPI,
                "evil-py",
                "1.0",
                "evil_py-1.0.tar.gz",
                VerdictLevel::Malicious,
            ),
            (
                Ecosystem::PyPI,
                "evil-py",
                "1.0",
                "evil_py-1.0-py3-none-any.whl",
                VerdictLevel::Malicious,
            ),
            (
                Ecosystem::PyPI,
                "evil-py",
                "0.9",
                "evil_py-0.9.tar.gz",
                VerdictLevel::Clean,
            ),
            (
                Ecosystem::Npm,
                "@evil/js",
                "2.0.0",
                "js-2.0.0.tgz",
                VerdictLevel::Malicious,
            ),
            (
                Ecosystem::Npm,
                "sus-js",
                "1.0.0",
                "sus-js-1.0.0.tgz",
                VerdictLevel::Suspicious,
            ),
            (
                Ecosystem::Npm,
                "fp-js",
                "1.0.0",
                "fp-js-1.0.0.tgz",
                VerdictLevel::Malicious,
            ),
        ] {
            s.put_artifact(&artifact(eco, name, version, file, level), REPORT)
                .unwrap();
        }
        // A person waived fp-js: a false positive is not exported.
        s.decide(Ecosystem::Npm, "fp-js", None, Action::Allow, "fp", "bob")
            .unwrap();
    }
    let out = tempfile::tempdir().unwrap();
    let o = sluice(&[
        "db",
        "export",
        "--format",
        "osv",
        p(out.path()),
        "--data-dir",
        p(gate.path()),
    ]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(
        stdout(&o).contains("exported 2 record(s)"),
        "{}",
        stdout(&o)
    );
    assert!(stdout(&o).contains("1 waived"), "{}", stdout(&o));
    let id = sluice_intel::record_id(Ecosystem::PyPI, "evil-py", "1.0");
    let rec: Value = serde_json::from_str(
        &std::fs::read_to_string(out.path().join("pypi").join(format!("{id}.json"))).unwrap(),
    )
    .unwrap();
    assert_eq!(rec["affected"][0]["versions"], serde_json::json!(["1.0"]));
    assert_eq!(rec["affected"][0]["package"]["ecosystem"], "PyPI");
    let ev = &rec["database_specific"]["sluice"];
    assert_eq!(ev["rules"], serde_json::json!(["PY101"]));
    assert_eq!(
        ev["artifacts"].as_array().unwrap().len(),
        2,
        "both files' evidence"
    );
    let f = &ev["artifacts"][0]["findings"][0];
    assert_eq!(
        (f["file"].as_str(), f["line"].as_u64()),
        (Some("setup.py"), Some(12))
    );
    assert_eq!(f["excerpt"], "exec(urlopen(u).read())");
    assert_eq!(ev["artifacts"][0]["indicators"][0]["value"], "10.0.0.1");
    assert_eq!(ev["score"], 92);
    // Re-export: same ids, same files (stable).
    let o2 = sluice(&[
        "db",
        "export",
        p(out.path()),
        "--data-dir",
        p(gate.path()),
        "--format",
        "json",
    ]);
    assert_eq!(json_of(&o2)["records"], 2);

    // Feed another sluice.
    let other = tempfile::tempdir().unwrap();
    let o = sluice(&[
        "db",
        "import",
        p(out.path()),
        "--data-dir",
        p(other.path()),
        "--format",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(json_of(&o)["new"], 2);
    let store = Store::open(other.path()).unwrap();
    let idx = IntelIndex::load(&store).unwrap();
    let py = PackageName::parse(Ecosystem::PyPI, "Evil_Py").unwrap();
    let js = PackageName::parse(Ecosystem::Npm, "@evil/js").unwrap();
    assert_eq!(idx.matches(&py, "1.0")[0].id, id);
    assert!(idx.matches(&py, "0.9").is_empty());
    assert_eq!(idx.matches(&js, "2.0.0").len(), 1);
    assert!(idx.matches(&js, "2.0.1").is_empty());
    let fp = PackageName::parse(Ecosystem::Npm, "fp-js").unwrap();
    assert!(idx.matches(&fp, "1.0.0").is_empty());
}

#[test]
fn who_pulled_intel_lists_known_bad_downloads() {
    let data = tempfile::tempdir().unwrap();
    {
        let s = Store::open(data.path()).unwrap();
        let dl = |name: &str, version: &str, who: &str, allowed: bool| Download {
            at: "2026-01-01T00:00:00.000Z".into(),
            ecosystem: "npm".into(),
            name: name.into(),
            version: version.into(),
            filename: format!("{name}-{version}.tgz"),
            principal: who.into(),
            addr: "127.0.0.1".into(),
            verdict: "clean".into(),
            allowed,
            reason: "ok".into(),
            ..Download::default()
        };
        s.log_downloads(&[
            dl("stealer", "1.0.0", "ci", true),
            dl("stealer", "1.0.0", "web", true),
            dl("stealer", "2.0.0", "ci", true),
            dl("innocent", "1.0.0", "ci", true),
        ])
        .unwrap();
    }
    let src = tempfile::tempdir().unwrap();
    std::fs::write(
        src.path().join("r.json"),
        record(
            "MAL-9",
            "npm",
            "stealer",
            r#","ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"1.5.0"}]}]"#,
        ),
    )
    .unwrap();
    assert_eq!(
        sluice(&["db", "import", p(src.path()), "--data-dir", p(data.path())])
            .status
            .code(),
        Some(0)
    );
    let o = sluice(&[
        "admin",
        "who-pulled",
        "--intel",
        "--json",
        "--data-dir",
        p(data.path()),
    ]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let v = json_of(&o);
    let found = v["versions"].as_array().unwrap();
    assert_eq!(found.len(), 1, "{v}");
    assert_eq!(found[0]["name"], "stealer");
    assert_eq!(found[0]["version"], "1.0.0");
    assert_eq!(found[0]["records"][0]["id"], "MAL-9");
    assert_eq!(found[0]["clients"].as_array().unwrap().len(), 2);
    assert_eq!(v["served"], 2);
    let o = sluice(&[
        "admin",
        "who-pulled",
        "--intel",
        "--data-dir",
        p(data.path()),
    ]);
    assert!(
        stdout(&o).contains("npm:stealer 1.0.0  known malicious: MAL-9  2 client(s)"),
        "{}",
        stdout(&o)
    );
    // A spec is still required without --intel.
    assert_eq!(
        sluice(&["admin", "who-pulled", "--data-dir", p(data.path())])
            .status
            .code(),
        Some(2)
    );
}
