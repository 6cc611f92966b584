//! `sluice scan` end to end: exit codes, formats, the pinned JSON form,
//! registry targets from a fake upstream on 127.0.0.1.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn example(name: &str) -> String {
    repo()
        .join("examples/packages")
        .join(name)
        .display()
        .to_string()
}

fn sluice(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sluice"))
        .args(args)
        // Never fall back to the machine's real pip/npm configuration.
        .env("PIP_INDEX_URL", "http://127.0.0.1:9/simple/")
        .env("npm_config_registry", "http://127.0.0.1:9/")
        .output()
        .expect("run sluice")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn malicious_example_exits_1_with_evidence() {
    let o = sluice(&["scan", &example("mysl-python")]);
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(out.contains("MALICIOUS"), "{out}");
    assert!(out.contains("setup.py:"), "{out}");
    assert!(out.contains("175.24.100.2"), "{out}");
}

#[test]
fn clean_example_exits_0() {
    let o = sluice(&["scan", &example("tidy-utils")]);
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert!(out.contains("CLEAN"), "{out}");
}

#[test]
fn fail_on_malicious_threshold() {
    let o = sluice(&["scan", "--fail-on", "malicious", &example("tidy-utils")]);
    assert_eq!(o.status.code(), Some(0));
    let o = sluice(&["scan", "--fail-on", "malicious", &example("mysl-python")]);
    assert_eq!(o.status.code(), Some(1));
}

#[test]
fn unreadable_archive_exits_2_with_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("broken-1.0.tar.gz");
    // A gzip header followed by nothing: truncated.
    std::fs::write(&bad, [0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0]).unwrap();
    let o = sluice(&["scan", bad.to_str().unwrap(), &example("tidy-utils")]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("broken-1.0.tar.gz"), "{err}");
    // The good target is still reported.
    assert!(stdout(&o).contains("CLEAN"));
}

#[test]
fn json_form_is_pinned() {
    // The rule scorer's form: the model's section changes with every
    // retraining, so its shape is checked apart (below).
    let o = sluice(&[
        "scan",
        "--format",
        "json",
        "--scorer",
        "rules",
        &example("mysl-python"),
    ]);
    let text = stdout(&o).replace(&example("mysl-python"), "[EXAMPLE]");
    let v: serde_json::Value = serde_json::from_str(&text).expect("valid JSON");
    assert_eq!(v["reports"][0]["schema"], 1);
    assert_eq!(v["reports"][0]["verdict"]["level"], "malicious");
    let mut v = v;
    v["sluice"] = "[VERSION]".into();
    insta::assert_json_snapshot!("mysl_python_json", v);
}

fn json_report(args: &[&str]) -> serde_json::Value {
    let mut a = vec!["scan", "--format", "json"];
    a.extend_from_slice(args);
    let o = sluice(&a);
    serde_json::from_slice(&o.stdout).expect("valid JSON")
}

#[test]
fn model_section_explains_the_verdict() {
    let v = json_report(&[&example("mysl-python")]);
    let r = &v["reports"][0];
    let m = &r["model"];
    assert!(
        m["model"]
            .as_str()
            .unwrap()
            .starts_with("sluice-scorer-v1 sha256:")
    );
    assert_eq!(r["verdict"]["level"], "malicious");
    assert_eq!(m["rule_level"], "malicious");
    let p = m["probability"].as_f64().unwrap();
    assert!((0.0..=1.0).contains(&p));
    // The contributions and the bias add up to the model score, and the
    // probability is the logistic function of it.
    let cs = m["contributions"].as_array().unwrap();
    let sum: f64 = cs
        .iter()
        .map(|c| c["points"].as_f64().unwrap())
        .sum::<f64>()
        + m["bias_points"].as_f64().unwrap();
    let points = m["points"].as_f64().unwrap();
    assert!((sum - points).abs() < 1e-6, "{sum} vs {points}");
    assert!((1.0 / (1.0 + (-points / 10.0).exp()) - p).abs() < 1e-9);
    // Largest first; a rule feature names its rule, file and line.
    let abs: Vec<f64> = cs
        .iter()
        .map(|c| c["points"].as_f64().unwrap().abs())
        .collect();
    assert!(abs.windows(2).all(|w| w[0] >= w[1]), "{abs:?}");
    if let Some(c) = cs
        .iter()
        .find(|c| c["feature"].as_str().unwrap().starts_with("rule:PY101"))
    {
        assert_eq!(c["rule"], "PY101");
        assert_eq!(c["file"], "setup.py");
        assert!(c["line"].as_u64().is_some());
    }
    let reasons = r["verdict"]["reasons"].to_string();
    assert!(reasons.contains("model score"), "{reasons}");
    // The rule scorer alone has no model section.
    let v = json_report(&["--scorer", "rules", &example("mysl-python")]);
    assert!(v["reports"][0].get("model").is_none());
    assert!(v["reports"][0]["stats"]["python"]["files"].as_u64() == Some(1));
}

#[test]
fn threshold_moves_the_suspicious_operating_point() {
    // At p >= 0 everything is at least suspicious.
    let o = sluice(&["scan", "--threshold", "0", &example("tidy-utils")]);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    let v = json_report(&["--threshold", "0", &example("tidy-utils")]);
    assert_eq!(v["reports"][0]["model"]["suspicious_at"], 0.0);
    // At 1 only a certainty would be.
    let o = sluice(&["scan", "--threshold", "1", &example("tidy-utils")]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    // Not a probability.
    let o = sluice(&["scan", "--threshold", "1.5", &example("tidy-utils")]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn sarif_is_valid() {
    let o = sluice(&["scan", "--format", "sarif", &example("npm-dns-exfil")]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("valid JSON");
    assert_eq!(v["version"], "2.1.0");
    let results = v["runs"][0]["results"].as_array().unwrap();
    assert!(!results.is_empty());
    assert!(results.iter().any(|r| {
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            .as_str()
            .unwrap()
            .ends_with("preinstall.js")
    }));
}

/// A one-shot HTTP server on 127.0.0.1 serving fixed routes.
fn fake_upstream(routes: Vec<(String, Vec<u8>)>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut line = String::new();
            let _ = reader.read_line(&mut line);
            let path = line.split_whitespace().nth(1).unwrap_or("/").to_owned();
            loop {
                let mut h = String::new();
                if reader.read_line(&mut h).unwrap_or(0) == 0 || h == "\r\n" {
                    break;
                }
            }
            let body = routes
                .iter()
                .find(|(p, _)| *p == path)
                .map(|(_, b)| b.clone());
            let (status, body) = match body {
                Some(b) => ("200 OK", b),
                None => ("404 Not Found", b"not found".to_vec()),
            };
            let _ = write!(
                stream,
                "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = stream.write_all(&body);
        }
    });
    format!("http://{addr}")
}

/// Build a small sdist (tar.gz) of the mysl-python example in memory.
fn sdist_of_example() -> Vec<u8> {
    let mut tar = tar::Builder::new(Vec::new());
    let setup = std::fs::read(repo().join("examples/packages/mysl-python/setup.py")).unwrap();
    let mut h = tar::Header::new_gnu();
    h.set_size(setup.len() as u64);
    h.set_mode(0o644);
    h.set_cksum();
    tar.append_data(&mut h, "mysl-python-1.0.0/setup.py", &setup[..])
        .unwrap();
    let pkg_info = b"Metadata-Version: 2.1\nName: mysl-python\nVersion: 1.0.0\n";
    let mut h = tar::Header::new_gnu();
    h.set_size(pkg_info.len() as u64);
    h.set_mode(0o644);
    h.set_cksum();
    tar.append_data(&mut h, "mysl-python-1.0.0/PKG-INFO", &pkg_info[..])
        .unwrap();
    let raw = tar.into_inner().unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&raw).unwrap();
    gz.finish().unwrap()
}

#[test]
fn registry_target_downloads_from_configured_index() {
    let sdist = sdist_of_example();
    let digest = sluice_model::Sha256::of(&sdist).to_hex();
    let page = format!(
        "<a href=\"/files/mysl-python-1.0.0.tar.gz#sha256={digest}\">mysl-python-1.0.0.tar.gz</a>"
    );
    let base = fake_upstream(vec![
        ("/simple/mysl-python/".into(), page.into_bytes()),
        ("/files/mysl-python-1.0.0.tar.gz".into(), sdist),
    ]);
    let index = format!("{base}/simple/");
    let o = sluice(&[
        "scan",
        "--pypi-index",
        &index,
        "--format",
        "json",
        "pypi:Mysl_Python==1.0.0",
    ]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("valid JSON");
    let r = &v["reports"][0];
    assert_eq!(r["target"], "pypi:mysl-python==1.0.0");
    assert_eq!(r["artifact"]["kind"], "sdist");
    assert_eq!(r["verdict"]["level"], "malicious");
    assert_eq!(o.status.code(), Some(1));

    // A version the index does not have is an error (exit 2), not a verdict.
    let o = sluice(&["scan", "--pypi-index", &index, "pypi:mysl-python==2.0"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("no file for version 2.0"));
}
