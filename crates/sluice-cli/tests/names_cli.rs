//! `sluice names …` end to end, through the built binary.

use std::io::Write;
use std::process::{Command, Output, Stdio};

fn sluice(args: &[&str], stdin: Option<&str>, env: &[(&str, &std::path::Path)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_sluice"));
    cmd.args(args)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        // Never pick up a real user's index.
        .env(
            "SLUICE_DATA_DIR",
            std::env::temp_dir().join("sluice-names-cli-none"),
        );
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("run sluice");
    if let Some(text) = stdin {
        child
            .stdin
            .take()
            .unwrap()
            .write_all(text.as_bytes())
            .unwrap();
    }
    child.wait_with_output().unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn check_text_and_exit_codes() {
    let o = sluice(&["names", "check", "reqeusts", "numpy"], None, &[]);
    let out = text(&o.stdout);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(
        out.contains("squat") && out.contains("pypi:reqeusts") && out.contains("pypi:requests"),
        "{out}"
    );
    assert!(out.contains("transposition"), "{out}");
    assert!(
        out.lines()
            .any(|l| l.starts_with("ok") && l.contains("pypi:numpy")),
        "{out}"
    );
    let o = sluice(&["names", "check", "numpy", "npm:react"], None, &[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stdout));
    let o = sluice(&["names", "check", "-e", "npm", "loadsh"], None, &[]);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o.stdout).contains("npm:lodash"));
}

#[test]
fn check_stdin_json_with_bad_lines() {
    let long = "a".repeat(215);
    let input = format!("reqeusts\n\nbad name\n{long}\nünïcode\n-lead\nnpm:@bable/core\nflask\n");
    let o = sluice(&["names", "check", "--stdin", "--json"], Some(&input), &[]);
    assert_eq!(o.status.code(), Some(1));
    let err = text(&o.stderr);
    for line in ["line 3", "line 4", "line 5", "line 6"] {
        assert!(err.contains(line), "{line} missing in {err}");
    }
    let rows: Vec<serde_json::Value> = text(&o.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let good: Vec<&serde_json::Value> = rows.iter().filter(|r| r["verdict"] != "error").collect();
    assert_eq!(good.len(), 3, "{rows:?}");
    assert_eq!(rows.iter().filter(|r| r["verdict"] == "error").count(), 4);
    let first = good[0];
    assert_eq!(first["name"], "reqeusts");
    assert_eq!(first["verdict"], "squat");
    assert_eq!(first["targets"][0], "requests");
    assert_eq!(first["class"], "transposition");
    assert!(first["score"].as_f64().unwrap() > 0.7);
    assert_eq!(good[1]["name"], "@bable/core");
    assert_eq!(good[1]["class"], "scope-confusion");
    assert_eq!(good[2]["name"], "flask");
    assert_eq!(good[2]["verdict"], "ok");
    // Only bad input: exit 2.
    let o = sluice(&["names", "check", "--stdin"], Some("bad name\n"), &[]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn update_then_check_prefers_user_index() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("p.tsv");
    let n = dir.path().join("n.tsv");
    std::fs::write(
        &p,
        "name\trank\nzzfoobarlib\t1\nrequests\t2\nnot valid!\t3\n",
    )
    .unwrap();
    std::fs::write(&n, "name\tdownloads_a_month\nzzleftpad\t1000\n").unwrap();
    let idx = dir.path().join("idx.gz");
    let o = sluice(
        &[
            "names",
            "update",
            "--pypi",
            p.to_str().unwrap(),
            "--npm",
            n.to_str().unwrap(),
            "--index",
            idx.to_str().unwrap(),
        ],
        None,
        &[],
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(text(&o.stderr).contains("line 4"), "{}", text(&o.stderr));
    // With the new index the made-up popular name is protected…
    let o = sluice(
        &[
            "names",
            "check",
            "--index",
            idx.to_str().unwrap(),
            "zzfoobarlb",
        ],
        None,
        &[],
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o.stdout));
    // …and not with the shipped one.
    let o = sluice(&["names", "check", "zzfoobarlb"], None, &[]);
    assert_eq!(o.status.code(), Some(0));
    // Default location: the user data dir, which `check` then prefers.
    let data = dir.path().join("data");
    let o = sluice(
        &["names", "update", "--pypi", p.to_str().unwrap()],
        None,
        &[("SLUICE_DATA_DIR", &data)],
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(data.join("popular.idx.gz").is_file());
    let o = sluice(
        &["names", "check", "zzfoobarlb"],
        None,
        &[("SLUICE_DATA_DIR", &data)],
    );
    assert_eq!(o.status.code(), Some(1));
    // A file that is not an index is a clear error.
    let o = sluice(
        &["names", "check", "--index", p.to_str().unwrap(), "x"],
        None,
        &[],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o.stderr).contains("index"), "{}", text(&o.stderr));
}

#[test]
fn private_names_file() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("private.toml");
    std::fs::write(&f, "names = [\"acme-billing\"]\nscopes = [\"acme\"]\n").unwrap();
    let o = sluice(
        &[
            "names",
            "check",
            "--json",
            "--private",
            f.to_str().unwrap(),
            "acme-billing",
            "acme-biling",
            "npm:@acme/x",
        ],
        None,
        &[],
    );
    assert_eq!(o.status.code(), Some(1));
    let rows: Vec<serde_json::Value> = text(&o.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows[0]["class"], "private-name");
    assert_eq!(rows[1]["class"], "private-confusable");
    assert_eq!(rows[2]["class"], "private-name");
    std::fs::write(&f, "ok-name\nbad name\n").unwrap();
    let o = sluice(
        &["names", "check", "--private", f.to_str().unwrap(), "x"],
        None,
        &[],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o.stderr).contains("line 2"), "{}", text(&o.stderr));
}

#[test]
fn cross_registry_command() {
    let args = ["names", "cross", "botframework-streaming"];
    let o = sluice(&args, None, &[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stdout));
    let mut squat = args.to_vec();
    squat.extend([
        "--same-version",
        "yes",
        "--repo-matches",
        "no",
        "--author-matches",
        "no",
        "--first-upload-days",
        "2",
    ]);
    let o = sluice(&squat, None, &[]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o.stdout));
    assert!(text(&o.stdout).contains("npm:botframework-streaming"));
}

#[test]
fn campaigns_command() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("events.jsonl");
    let mut lines = Vec::new();
    for (i, n) in ["reqeusts", "nmupy", "pandsa", "djnago", "flaks", "urlib3"]
        .iter()
        .enumerate()
    {
        lines.push(format!(
            r#"{{"name":"{n}","version":"1.0.0","author":"x","email":"x@example.com","time":{},"indicators":["192.0.2.1"]}}"#,
            1_627_344_000 + i * 60
        ));
    }
    for i in 0..20 {
        lines.push(format!(
            r#"{{"name":"pkg{i}","version":"0.{i}","author":"dev{i}","time":{}}}"#,
            1_627_344_000 + i * 3600
        ));
    }
    lines.push("garbage".into());
    std::fs::write(&f, lines.join("\n")).unwrap();
    let o = sluice(&["names", "campaigns", f.to_str().unwrap()], None, &[]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let out = text(&o.stdout);
    assert!(out.contains("1 clusters"), "{out}");
    assert!(out.contains("cluster 1: 6 uploads"), "{out}");
    assert!(out.contains("email:x@example.com"), "{out}");
    assert!(out.contains("100% imitate"), "{out}");
    assert!(text(&o.stderr).contains("line 27"), "{}", text(&o.stderr));
}

#[test]
fn eval_command() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("dev.tsv");
    std::fs::write(
        &f,
        "ecosystem\tcandidate\tlabel\ttarget\tsource\tclass\n\
         pypi\treqeusts\tsquat\trequests\tt\ttransposition\n\
         pypi\tnumpy\tbenign\tnumpi\tt\tsubstitution\n\
         cobol\tx\tsquat\ty\tt\tz\n\
         pypi\tbad name\tsquat\ty\tt\tz\n\
         short\n",
    )
    .unwrap();
    let o = sluice(
        &["names", "eval", f.to_str().unwrap(), "--misses"],
        None,
        &[],
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    let out = text(&o.stdout);
    assert!(
        out.lines()
            .any(|l| l.starts_with("pypi ") && l.contains("100.0%")),
        "{out}"
    );
    let err = text(&o.stderr);
    for l in ["line 4", "line 5", "line 6"] {
        assert!(err.contains(l), "{l}: {err}");
    }
}
