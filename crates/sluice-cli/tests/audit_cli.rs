//! `sluice audit` end to end: exit codes, the four formats, a gate verdict
//! and decision matched by version and by hash, a private-name hit, bad
//! lockfiles, and `--scan` of installed code.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;
use sluice_model::{Ecosystem, VerdictLevel};
use sluice_store::{Action, ArtifactRow, Store};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn fixture(rel: &str) -> String {
    repo()
        .join("crates/sluice-lockfile/tests/fixtures")
        .join(rel)
        .display()
        .to_string()
}

fn sluice(args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sluice"))
        .args(args)
        .current_dir(cwd)
        .env_remove("SLUICE_CONFIG")
        .output()
        .expect("run sluice")
}

fn json(o: &Output) -> Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {}\n{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        )
    })
}

fn rules(doc: &Value) -> Vec<(String, String, u64)> {
    doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_owned(),
                f["package"]["name"].as_str().unwrap_or("").to_owned(),
                f["line"].as_u64().unwrap(),
            )
        })
        .collect()
}

/// A gate store that judged alpha 1.0.0 malicious, blocks every version of
/// left-pad, and holds (under another name) the bytes of beta 1.1.0's
/// wheel.
fn gate(dir: &Path) {
    let store = Store::open(dir).unwrap();
    let row = |sha: &str, eco, name: &str, version: &str, verdict| ArtifactRow {
        sha256: sha.to_owned(),
        ecosystem: eco,
        name: name.to_owned(),
        version: version.to_owned(),
        filename: format!("{name}-{version}.whl"),
        size: 1,
        verdict,
        score: 80,
        scanned_at: "2026-01-01T00:00:00Z".into(),
    };
    store
        .put_artifact(
            &row(
                &"a".repeat(64),
                Ecosystem::PyPI,
                "alpha",
                "1.0.0",
                VerdictLevel::Malicious,
            ),
            "{}",
        )
        .unwrap();
    store
        .put_artifact(
            &row(
                "cab0107090625fe1f694a5592e72b2d51be88964631df6233f837fa96f436941",
                Ecosystem::PyPI,
                "beta-evil-twin",
                "1.1.0",
                VerdictLevel::Suspicious,
            ),
            "{}",
        )
        .unwrap();
    store
        .decide(
            Ecosystem::Npm,
            "left-pad",
            None,
            Action::Block,
            "known bad",
            "test",
        )
        .unwrap();
}

#[test]
fn gate_verdicts_decisions_and_hashes_are_matched() {
    let d = tempfile::tempdir().unwrap();
    let data = d.path().join("data");
    gate(&data);
    let o = sluice(
        &[
            "audit",
            "--no-names",
            "--format",
            "json",
            "--data-dir",
            data.to_str().unwrap(),
            &fixture("real/uv/uv.lock"),
            &fixture("real/npm-v3/package-lock.json"),
        ],
        d.path(),
    );
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let doc = json(&o);
    let got = rules(&doc);
    // left-pad at its package-lock entry, alpha at its uv.lock `name`
    // line, beta by the hash of its wheel.
    let uv = std::fs::read_to_string(fixture("real/uv/uv.lock")).unwrap();
    let line_of =
        |needle: &str| u64::try_from(uv.lines().position(|l| l == needle).unwrap() + 1).unwrap();
    let lock = std::fs::read_to_string(fixture("real/npm-v3/package-lock.json")).unwrap();
    let left_pad = lock
        .lines()
        .position(|l| l.contains("\"node_modules/left-pad\""))
        .unwrap()
        + 1;
    let left_pad = u64::try_from(left_pad).unwrap();
    assert!(
        got.contains(&("AUD801".into(), "left-pad".into(), left_pad)),
        "{got:?}"
    );
    assert!(
        got.contains(&("AUD802".into(), "alpha".into(), line_of("name = \"alpha\""))),
        "{got:?}"
    );
    assert!(
        got.contains(&("AUD804".into(), "beta".into(), line_of("name = \"beta\""))),
        "{got:?}"
    );
    assert_eq!(got.len(), 3, "{got:?}");
    assert_eq!(doc["summary"]["malicious"], 2);
    // --fail-on malicious still fails (alpha, left-pad are malicious).
    let o = sluice(
        &[
            "audit",
            "--no-names",
            "--fail-on",
            "malicious",
            "--data-dir",
            data.to_str().unwrap(),
            &fixture("real/uv/uv.lock"),
        ],
        d.path(),
    );
    assert_eq!(o.status.code(), Some(1));
    // The default data dir (./.sluice) is used when it exists.
    let cwd = d.path().join("proj");
    gate(&cwd.join(".sluice"));
    let o = sluice(
        &[
            "audit",
            "--no-names",
            "--format",
            "json",
            &fixture("real/uv/uv.lock"),
        ],
        &cwd,
    );
    assert_eq!(o.status.code(), Some(1));
    // A store is both sources: its verdicts and its imported records.
    assert_eq!(json(&o)["sources"], serde_json::json!(["gate", "intel"]));
}

#[test]
fn clean_run_exits_0_and_fail_on_malicious_ignores_suspicious() {
    let d = tempfile::tempdir().unwrap();
    let o = sluice(&["audit", "--no-names", &fixture("real/uv")], d.path());
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    // Names: reqeusts imitates requests (suspicious, not malicious).
    let o = sluice(&["audit", &fixture("real/uv/uv.lock")], d.path());
    assert_eq!(o.status.code(), Some(1));
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("NAME401"), "{text}");
    assert!(text.contains("reqeusts"), "{text}");
    let o = sluice(
        &[
            "audit",
            "--fail-on",
            "malicious",
            &fixture("real/uv/uv.lock"),
        ],
        d.path(),
    );
    assert_eq!(o.status.code(), Some(0));
}

#[test]
fn explicit_data_dir_without_store_is_an_error() {
    let d = tempfile::tempdir().unwrap();
    let o = sluice(
        &[
            "audit",
            "--data-dir",
            d.path().to_str().unwrap(),
            &fixture("real/uv"),
        ],
        d.path(),
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("no gate database"));
}

#[test]
fn private_names_are_dependency_confusion() {
    let d = tempfile::tempdir().unwrap();
    let private = d.path().join("private.txt");
    std::fs::write(&private, "acme-internal-auth\nacme-internal-autth-x\n").unwrap();
    let p = private.to_str().unwrap();
    let o = sluice(
        &[
            "audit",
            "--no-names",
            "--private",
            p,
            "--format",
            "json",
            &fixture("real/uv/uv.lock"),
            &fixture("hand/poetry-project"),
        ],
        d.path(),
    );
    assert_eq!(o.status.code(), Some(1));
    let got = rules(&json(&o));
    let uv = std::fs::read_to_string(fixture("real/uv/uv.lock")).unwrap();
    let line = uv
        .lines()
        .position(|l| l == "name = \"acme-internal-auth\"")
        .unwrap()
        + 1;
    // In uv.lock, from a registry; the pyproject's git checkout of it is
    // the company's own code and not reported.
    assert_eq!(
        got,
        vec![(
            "AUD810".into(),
            "acme-internal-auth".into(),
            u64::try_from(line).unwrap()
        )],
        "{got:?}"
    );
    // Resolved from the company's registry: not confusion.
    let o = sluice(
        &[
            "audit",
            "--no-names",
            "--private",
            p,
            "--internal-registry",
            "http://127.0.0.1:18765/",
            &fixture("real/uv/uv.lock"),
        ],
        d.path(),
    );
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
}

#[test]
fn sarif_and_osv_locate_the_entry() {
    let d = tempfile::tempdir().unwrap();
    let lock = fixture("real/pnpm/pnpm-lock.yaml");
    let o = sluice(&["audit", "--format", "sarif", &lock], d.path());
    assert_eq!(o.status.code(), Some(1));
    let doc = json(&o);
    assert_eq!(doc["version"], "2.1.0");
    let results = doc["runs"][0]["results"].as_array().unwrap();
    let text = std::fs::read_to_string(&lock).unwrap();
    let expresss = results
        .iter()
        .find(|r| {
            r["message"]["text"]
                .as_str()
                .unwrap()
                .contains("npm:expresss 4.18.2")
        })
        .expect("expresss reported");
    let loc = &expresss["locations"][0]["physicalLocation"];
    assert_eq!(loc["artifactLocation"]["uri"], lock.as_str());
    let line = usize::try_from(loc["region"]["startLine"].as_u64().unwrap()).unwrap();
    assert!(
        text.lines()
            .nth(line - 1)
            .unwrap()
            .contains("expresss@4.18.2:")
    );
    let o = sluice(&["audit", "--format", "osv", &lock], d.path());
    let doc = json(&o);
    let pkgs = doc["results"][0]["packages"].as_array().unwrap();
    let p = pkgs
        .iter()
        .find(|p| p["package"]["name"] == "expresss")
        .unwrap();
    assert_eq!(p["package"]["ecosystem"], "npm");
    assert_eq!(p["package"]["version"], "4.18.2");
    assert_eq!(p["vulnerabilities"][0]["id"], "SLUICE-NAME401");
    assert_eq!(doc["results"][0]["source"]["path"], lock.as_str());
}

#[test]
fn text_is_grouped_by_file_with_lines() {
    let d = tempfile::tempdir().unwrap();
    let o = sluice(
        &["audit", &fixture("real/yarn-v1"), &fixture("hand/bun")],
        d.path(),
    );
    let text = String::from_utf8_lossy(&o.stdout);
    let bun = text.find("bun/bun.lock\n").unwrap();
    let yarn = text.find("yarn-v1/yarn.lock\n").unwrap();
    assert!(bun < yarn, "{text}");
    assert!(
        text.contains("     29  npm:expresss 4.18.2  SUSPICIOUS NAME401"),
        "{text}"
    );
    assert!(
        text.contains("audited 18 dependencies in 2 files"),
        "{text}"
    );
}

#[test]
fn broken_lockfile_exits_2_and_the_rest_is_audited() {
    let d = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(d.path().join("a")).unwrap();
    std::fs::write(
        d.path().join("a/pnpm-lock.yaml"),
        "lockfileVersion: '9.0'\nx: &a [1]\ny: *a\n",
    )
    .unwrap();
    std::fs::create_dir_all(d.path().join("b")).unwrap();
    std::fs::write(d.path().join("b/requirements.txt"), "reqeusts==2.31.0\n").unwrap();
    let o = sluice(
        &["audit", "--format", "json", d.path().to_str().unwrap()],
        d.path(),
    );
    assert_eq!(o.status.code(), Some(2));
    let doc = json(&o);
    assert_eq!(doc["errors"][0]["line"], 2);
    assert!(
        doc["errors"][0]["file"]
            .as_str()
            .unwrap()
            .ends_with("a/pnpm-lock.yaml")
    );
    assert_eq!(rules(&doc)[0].1, "reqeusts");
    assert!(String::from_utf8_lossy(&o.stderr).contains("pnpm-lock.yaml:2"));
}

#[test]
fn environments_pth_hooks_and_scan_of_installed_code() {
    let d = tempfile::tempdir().unwrap();
    // An installed npm tree holding the inert DNS-exfiltration sample.
    let pkg = d.path().join("node_modules/corp-internal-config");
    std::fs::create_dir_all(&pkg).unwrap();
    for f in ["package.json", "preinstall.js", "index.js"] {
        std::fs::copy(
            repo().join("examples/packages/npm-dns-exfil").join(f),
            pkg.join(f),
        )
        .unwrap();
    }
    let nm = d.path().join("node_modules");
    let site = fixture("hand/env");
    let o = sluice(
        &[
            "audit",
            "--no-names",
            "--format",
            "json",
            nm.to_str().unwrap(),
            &site,
        ],
        d.path(),
    );
    let doc = json(&o);
    let got = rules(&doc);
    assert_eq!(got.iter().filter(|r| r.0 == "AUD820").count(), 1, "{got:?}");
    assert!(!got.iter().any(|r| r.0 == "AUD830"), "{got:?}");
    assert_eq!(o.status.code(), Some(1));
    let o = sluice(
        &[
            "audit",
            "--no-names",
            "--scan",
            "--format",
            "json",
            nm.to_str().unwrap(),
        ],
        d.path(),
    );
    let doc = json(&o);
    let scan: Vec<&Value> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "AUD830")
        .collect();
    assert_eq!(scan.len(), 1, "{doc}");
    assert_eq!(scan[0]["package"]["name"], "corp-internal-config");
    assert_eq!(scan[0]["level"], "malicious");
    assert_eq!(o.status.code(), Some(1));
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let dest = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &dest);
        } else {
            std::fs::copy(e.path(), dest).unwrap();
        }
    }
}

#[test]
fn scan_finds_files_changed_after_installation() {
    let d = tempfile::tempdir().unwrap();
    let site = d.path().join("venv/lib/python3.11/site-packages");
    copy_dir(Path::new(&fixture("real/venv/site-packages")), &site);
    let venv = d.path().join("venv");
    let o = sluice(
        &[
            "audit",
            "--no-names",
            "--scan",
            "--format",
            "json",
            venv.to_str().unwrap(),
        ],
        d.path(),
    );
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    assert_eq!(json(&o)["summary"]["dependencies"], 6);
    // A payload appended to an installed module.
    let init = site.join("six/__init__.py");
    let mut body = std::fs::read_to_string(&init).unwrap();
    body.push_str("import os\n");
    std::fs::write(&init, body).unwrap();
    let o = sluice(
        &[
            "audit",
            "--no-names",
            "--scan",
            "--format",
            "json",
            venv.to_str().unwrap(),
        ],
        d.path(),
    );
    assert_eq!(o.status.code(), Some(1));
    let got = rules(&json(&o));
    assert_eq!(got, vec![("AUD831".into(), "six".into(), 2)], "{got:?}");
    // Without --scan the installed bytes are not read.
    let o = sluice(&["audit", "--no-names", venv.to_str().unwrap()], d.path());
    assert_eq!(o.status.code(), Some(0));
}

/// One OSV record, as the OSSF malicious-packages list writes them.
fn osv(id: &str, name: &str, affected: &str, withdrawn: bool) -> String {
    let w = if withdrawn {
        r#""withdrawn": "2026-02-01T00:00:00Z","#
    } else {
        ""
    };
    format!(
        r#"{{"schema_version": "1.5.0", "id": "{id}", "modified": "2026-01-02T00:00:00Z", {w}
"summary": "Malicious code in {name} (npm)",
"affected": [{{"package": {{"ecosystem": "npm", "name": "{name}"}}, {affected}}}]}}"#
    )
}

#[test]
fn imported_malicious_list_is_matched_by_range_and_version_and_withdrawn_is_not() {
    let d = tempfile::tempdir().unwrap();
    let recs = d.path().join("osv");
    std::fs::create_dir_all(&recs).unwrap();
    let write = |f: &str, s: String| std::fs::write(recs.join(f), s).unwrap();
    write(
        "MAL-2026-9001.json",
        osv(
            "MAL-2026-9001",
            "chalkish",
            r#""ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}]}]"#,
            false,
        ),
    );
    write(
        "MAL-2026-9002.json",
        osv(
            "MAL-2026-9002",
            "ansi-stylez",
            r#""versions": ["1.0.0"]"#,
            false,
        ),
    );
    write(
        "MAL-2026-9003.json",
        osv(
            "MAL-2026-9003",
            "host-y",
            r#""ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}]}]"#,
            true,
        ),
    );
    let data = d.path().join("data");
    let o = sluice(
        &[
            "db",
            "import",
            recs.to_str().unwrap(),
            "--data-dir",
            data.to_str().unwrap(),
        ],
        d.path(),
    );
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let lock = fixture("real/npm-v3/package-lock.json");
    let o = sluice(
        &[
            "audit",
            "--no-names",
            "--format",
            "json",
            "--data-dir",
            data.to_str().unwrap(),
            &lock,
        ],
        d.path(),
    );
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    let doc = json(&o);
    let mut hits: Vec<(String, String)> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "AUD806")
        .map(|f| {
            (
                f["package"]["name"].as_str().unwrap().to_owned(),
                f["package"]["version"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect();
    hits.sort();
    // chalkish: every version; ansi-stylez: only the nested 1.0.0, not the
    // top-level 2.0.0; host-y: withdrawn, never.
    assert_eq!(
        hits,
        vec![
            ("ansi-stylez".to_owned(), "1.0.0".to_owned()),
            ("chalkish".to_owned(), "2.0.0".to_owned()),
        ],
        "{doc}"
    );
    let o = sluice(
        &[
            "audit",
            "--no-names",
            "--format",
            "osv",
            "--data-dir",
            data.to_str().unwrap(),
            &lock,
        ],
        d.path(),
    );
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        text.contains("MAL-2026-9001") && text.contains("MAL-2026-9002"),
        "{text}"
    );
    assert!(!text.contains("MAL-2026-9003"), "{text}");
}

/// A `sluice serve` process on 127.0.0.1, killed on drop.
struct Serve(std::process::Child);

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Serve `data` (its upstreams unreachable: only the admin API is asked)
/// with the admin token `admin-secret`; the gate's base URL.
fn serve(dir: &Path, data: &Path) -> (Serve, String) {
    use std::io::BufRead as _;
    let cfg = dir.join("sluice.toml");
    std::fs::write(
        &cfg,
        "[upstream]\npypi = \"http://127.0.0.1:9/simple/\"\nnpm = \"http://127.0.0.1:9/\"\n[[admin.tokens]]\nname = \"secops\"\ntoken = \"admin-secret\"\n",
    )
    .unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_sluice"))
        .args(["serve", "--config"])
        .arg(&cfg)
        .args(["--listen", "127.0.0.1:0", "--data-dir"])
        .arg(data)
        .env_remove("SLUICE_CONFIG")
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut err = std::io::BufReader::new(child.stderr.take().unwrap());
    let server = Serve(child);
    let mut line = String::new();
    err.read_line(&mut line).unwrap();
    let addr = line
        .split("http://")
        .nth(1)
        .and_then(|s| s.split('/').next())
        .unwrap_or_else(|| panic!("no address in {line:?}"))
        .to_owned();
    std::thread::spawn(move || for _ in err.lines() {});
    (server, format!("http://{addr}"))
}

#[test]
fn remote_gate_is_audited_through_its_admin_api() {
    let d = tempfile::tempdir().unwrap();
    let data = d.path().join("data");
    // left-pad blocked (AUD801), ansi-stylez 1.0.0 in an OSV record (AUD806).
    gate(&data);
    let recs = d.path().join("osv");
    std::fs::create_dir_all(&recs).unwrap();
    std::fs::write(
        recs.join("MAL-2026-9002.json"),
        osv(
            "MAL-2026-9002",
            "ansi-stylez",
            r#""versions": ["1.0.0"]"#,
            false,
        ),
    )
    .unwrap();
    let o = sluice(
        &[
            "db",
            "import",
            recs.to_str().unwrap(),
            "--data-dir",
            data.to_str().unwrap(),
        ],
        d.path(),
    );
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    let lock = fixture("real/npm-v3/package-lock.json");
    let local = sluice(
        &[
            "audit",
            "--no-names",
            "--format",
            "json",
            "--data-dir",
            data.to_str().unwrap(),
            &lock,
        ],
        d.path(),
    );
    assert_eq!(local.status.code(), Some(1), "{local:?}");

    let (server, url) = serve(d.path(), &data);
    let remote = sluice(
        &[
            "audit",
            "--gate",
            &url,
            "--token",
            "admin-secret",
            "--no-names",
            "--format",
            "json",
            &lock,
        ],
        d.path(),
    );
    assert_eq!(
        remote.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&remote.stderr)
    );
    let doc = json(&remote);
    let mut got: Vec<(String, String)> = rules(&doc)
        .into_iter()
        .map(|(rule, name, _)| (rule, name))
        .collect();
    got.sort();
    assert_eq!(
        got,
        [
            ("AUD801".to_owned(), "left-pad".to_owned()),
            ("AUD806".to_owned(), "ansi-stylez".to_owned()),
        ],
        "{doc}"
    );
    // The same findings as from the local store, sources included.
    let local = json(&local);
    assert_eq!(doc["findings"], local["findings"]);
    assert_eq!(doc["sources"], serde_json::json!(["gate", "intel"]));

    // A wrong token, no token, and an unreachable gate: exit 2, said so.
    let o = sluice(
        &[
            "audit",
            "--gate",
            &url,
            "--token",
            "nope",
            "--no-names",
            &lock,
        ],
        d.path(),
    );
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("refused the admin token"), "{err}");
    assert!(o.stdout.is_empty());
    let o = Command::new(env!("CARGO_BIN_EXE_sluice"))
        .args(["audit", "--gate", &url, "--no-names", &lock])
        .env_remove("SLUICE_CONFIG")
        .env_remove("SLUICE_ADMIN_TOKEN")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("admin token"));
    // The token from the environment works too.
    let o = Command::new(env!("CARGO_BIN_EXE_sluice"))
        .args(["audit", "--gate", &url, "--no-names", &lock])
        .env_remove("SLUICE_CONFIG")
        .env("SLUICE_ADMIN_TOKEN", "admin-secret")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{o:?}");
    // --gate with a local store is refused.
    let o = sluice(
        &[
            "audit",
            "--gate",
            &url,
            "--data-dir",
            data.to_str().unwrap(),
            &lock,
        ],
        d.path(),
    );
    assert_eq!(o.status.code(), Some(2));
    drop(server);
    let o = sluice(
        &[
            "audit",
            "--gate",
            &url,
            "--token",
            "admin-secret",
            "--no-names",
            &lock,
        ],
        d.path(),
    );
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("cannot reach the gate"), "{err}");
}
