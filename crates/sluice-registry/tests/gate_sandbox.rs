//! The gate's second opinion (`[sandbox]`): which artifacts are run, the
//! hold (503 + Retry-After) while a run is pending, merging its findings,
//! sandbox failures under `scan_error`, and holds surviving a restart.
//!
//! All but the last test use a fake second opinion (deterministic, no
//! root, runs nothing). The last runs the real `sluice-sandbox` on an inert
//! sdist when the machine has what it needs, and is skipped otherwise.
//! Every upstream here is a fake on 127.0.0.1.
#![allow(missing_docs)]

mod common;

use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use common::{Upstream, sdist, start_full, start_gate, tarball, tarball_with, wheel};
use serde_json::{Value, json};
use sluice_model::{Confidence, Ecosystem, Finding, RuleCode, Severity, VerdictLevel};
use sluice_registry::config::{Config, OnVerdict, SandboxRun};
use sluice_registry::{Observed, Scanner, SecondOpinion, StaticScanner};
use sluice_store::JobState;

#[derive(Clone)]
enum Answer {
    Quiet,
    Finds(Severity),
    Fails(String),
    Panics,
}

/// A second opinion with fixed answers by file name. With a latch, every
/// run waits until the test opens it (at most a minute).
struct Fake {
    calls: Mutex<Vec<String>>,
    answers: Vec<(&'static str, Answer)>,
    latch: Option<(Mutex<bool>, Condvar)>,
    delay: Duration,
}

impl Fake {
    fn new(answers: Vec<(&'static str, Answer)>) -> Self {
        Self {
            calls: Mutex::new(Vec::new()),
            answers,
            latch: None,
            delay: Duration::ZERO,
        }
    }
    fn latched(mut self) -> Self {
        self.latch = Some((Mutex::new(false), Condvar::new()));
        self
    }
    fn open(&self) {
        if let Some((m, cv)) = &self.latch {
            *m.lock().unwrap() = true;
            cv.notify_all();
        }
    }
    fn calls(&self) -> Vec<String> {
        let mut c = self.calls.lock().unwrap().clone();
        c.sort();
        c
    }
}

impl SecondOpinion for Fake {
    fn run(
        &self,
        _eco: Ecosystem,
        _name: &str,
        _version: &str,
        path: &std::path::Path,
    ) -> Result<Observed, String> {
        let file = path.file_name().unwrap().to_string_lossy().into_owned();
        // The gate hands over the stored bytes under the upstream name.
        assert!(path.is_file(), "{}", path.display());
        self.calls.lock().unwrap().push(file.clone());
        if let Some((m, cv)) = &self.latch {
            let open = cv
                .wait_timeout_while(m.lock().unwrap(), Duration::from_secs(60), |o| !*o)
                .unwrap();
            if !*open.0 {
                return Err("test latch never opened".into());
            }
        }
        std::thread::sleep(self.delay);
        let answer = self
            .answers
            .iter()
            .find(|(k, _)| file.contains(k))
            .map_or(Answer::Quiet, |(_, a)| a.clone());
        match answer {
            Answer::Quiet => Ok(Observed {
                evidence: json!({"fake": "quiet"}),
                ..Observed::default()
            }),
            Answer::Finds(sev) => {
                let mut f = Finding::new(
                    RuleCode::new("DYN701"),
                    "fake-exfiltration",
                    sev,
                    Confidence::High,
                    "sent the host name to 203.0.113.9 (fake)",
                );
                f.install_time = true;
                Ok(Observed {
                    findings: vec![f],
                    warnings: Vec::new(),
                    evidence: json!({"fake": "loud"}),
                })
            }
            Answer::Fails(e) => Err(e),
            Answer::Panics => panic!("fake sandbox panicked"),
        }
    }
}

/// Opens a fake's latch when dropped, so a failing test does not leave a
/// run blocked (the runtime waits for it on shutdown).
struct OpenOnDrop(Arc<Fake>);

impl Drop for OpenOnDrop {
    fn drop(&mut self) {
        self.0.open();
    }
}

/// Wait (at most 10 s) until `cond` holds.
async fn eventually(mut cond: impl FnMut() -> bool) {
    let end = Instant::now() + Duration::from_secs(10);
    while !cond() && Instant::now() < end {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Wait until no artifact is held any more (every run queued so far has
/// finished), so the fake's call list is complete.
async fn settled(h: &common::Harness) {
    eventually(|| h.gate.store.sandbox_jobs().unwrap().is_empty()).await;
    // A run is recorded by the fake before the hold is dropped.
    tokio::time::sleep(Duration::from_millis(100)).await;
}

/// `sus*` suspicious, `evil*` malicious, the rest clean.
fn scanner() -> Option<Arc<dyn Scanner>> {
    Some(Arc::new(StaticScanner(vec![
        ("evil".into(), VerdictLevel::Malicious),
        ("sus".into(), VerdictLevel::Suspicious),
    ])))
}

fn sandbox(run: SandboxRun, wait_secs: u64) -> impl Fn(&mut Config) + Clone {
    move |c: &mut Config| {
        c.sandbox.run = run;
        c.sandbox.wait_secs = wait_secs;
        c.sandbox.retry_after_secs = 7;
        // Suspicious files are served unless the sandbox says worse, so a
        // release is visible.
        c.policy.suspicious = OnVerdict::Allow;
    }
}

async fn get(url: &str) -> reqwest::Response {
    reqwest::Client::new().get(url).send().await.unwrap()
}

/// Ask until the answer is not 503 (at most `secs`).
async fn until_decided(url: &str, secs: u64) -> reqwest::Response {
    let end = Instant::now() + Duration::from_secs(secs);
    loop {
        let r = get(url).await;
        if r.status() != 503 || Instant::now() > end {
            return r;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn whl(project: &str) -> String {
    format!("/files/pypi/{project}/{project}-1.0-py3-none-any.whl")
}

fn report(h: &common::Harness, eco: Ecosystem, name: &str) -> (VerdictLevel, Value) {
    let a = &h.gate.store.artifacts_of(eco, name, None).unwrap()[0];
    let r = h.gate.store.report(&a.sha256).unwrap().unwrap();
    (a.verdict, serde_json::from_str(&r).unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn held_while_the_sandbox_runs_then_released_or_blocked() {
    let up = Upstream {
        py: vec![
            wheel("susquiet", "1.0"),
            wheel("susloud", "1.0"),
            wheel("cleanpkg", "1.0"),
        ],
        ..Upstream::default()
    };
    let fake = Arc::new(Fake::new(vec![("susloud", Answer::Finds(Severity::Critical))]).latched());
    let _open = OpenOnDrop(fake.clone());
    let h = start_full(
        up,
        sandbox(SandboxRun::Suspicious, 0),
        scanner(),
        Some(fake.clone()),
    )
    .await;
    // Held: 503, Retry-After, a reason, and the same on the next request.
    for _ in 0..2 {
        let r = get(&h.url(&whl("susquiet"))).await;
        assert_eq!(r.status(), 503);
        assert_eq!(r.headers()["retry-after"], "7");
        assert_eq!(r.headers()["x-sluice-verdict"], "sandbox-pending");
        let j: Value = r.json().await.unwrap();
        let reason = j["error"].as_str().unwrap();
        assert!(reason.contains("sandbox run"), "{reason}");
    }
    // Still listed, so resolvers come back for it rather than picking
    // another version; its PEP 658 metadata (no code) is served.
    let page = reqwest::Client::new()
        .get(h.url("/simple/susquiet/"))
        .header("Accept", "application/vnd.pypi.simple.v1+json")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("susquiet-1.0-py3-none-any.whl"), "{page}");
    let r = get(&h.url(&format!("{}.metadata", whl("susquiet")))).await;
    assert_eq!(r.status(), 200);
    // A clean file is not run in this mode and is served at once.
    let r = get(&h.url(&whl("cleanpkg"))).await;
    assert_eq!(r.status(), 200);
    let r = get(&h.url(&whl("susloud"))).await;
    assert_eq!(r.status(), 503);
    // The refusals are audited, and the admin API lists the holds.
    let rows = h
        .gate
        .store
        .downloads_of(Ecosystem::PyPI, "susquiet", None, 10)
        .unwrap();
    assert!(
        rows.iter()
            .all(|d| !d.allowed && d.verdict == "sandbox-pending"),
        "{rows:?}"
    );
    let held: Value = reqwest::Client::new()
        .get(h.url("/-/sluice/admin/sandbox"))
        .bearer_auth("admin-secret")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(held.as_array().unwrap().len(), 2, "{held}");
    assert_eq!(held[0]["state"], "pending");

    fake.open();
    // Quiet run: released with its static verdict, evidence merged.
    let r = until_decided(&h.url(&whl("susquiet")), 30).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["x-sluice-verdict"], "suspicious");
    let (level, rep) = report(&h, Ecosystem::PyPI, "susquiet");
    assert_eq!(level, VerdictLevel::Suspicious);
    assert_eq!(rep["sandbox"]["run"]["fake"], "quiet", "{rep}");
    // Loud run: the merged verdict is malicious and the policy blocks it.
    let r = until_decided(&h.url(&whl("susloud")), 30).await;
    assert_eq!(r.status(), 403);
    let j: Value = r.json().await.unwrap();
    assert!(j["error"].as_str().unwrap().contains("malicious"), "{j}");
    let (level, rep) = report(&h, Ecosystem::PyPI, "susloud");
    assert_eq!(level, VerdictLevel::Malicious);
    assert_eq!(rep["sandbox"]["findings"][0]["rule"], "DYN701", "{rep}");
    assert!(h.gate.store.sandbox_jobs().unwrap().is_empty());
    // Blocked versions leave the index.
    let page = reqwest::Client::new()
        .get(h.url("/simple/susloud/"))
        .header("Accept", "application/vnd.pypi.simple.v1+json")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!page.contains("susloud-1.0-py3"), "{page}");
    // Each file was run exactly once.
    assert_eq!(
        fake.calls(),
        vec![
            "susloud-1.0-py3-none-any.whl".to_owned(),
            "susquiet-1.0-py3-none-any.whl".to_owned()
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_short_run_is_waited_for() {
    let up = Upstream {
        py: vec![wheel("susquiet", "1.0"), wheel("susloud", "1.0")],
        ..Upstream::default()
    };
    let mut fake = Fake::new(vec![("susloud", Answer::Finds(Severity::Critical))]);
    fake.delay = Duration::from_millis(300);
    let fake = Arc::new(fake);
    let h = start_full(
        up,
        sandbox(SandboxRun::Suspicious, 10),
        scanner(),
        Some(fake.clone()),
    )
    .await;
    // Within wait_secs: the first request gets the final answer.
    let r = get(&h.url(&whl("susquiet"))).await;
    assert_eq!(r.status(), 200);
    let r = get(&h.url(&whl("susloud"))).await;
    assert_eq!(r.status(), 403);
    assert_eq!(fake.calls().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_none_never_calls_the_sandbox() {
    let up = Upstream {
        py: vec![
            wheel("suswheel", "1.0"),
            sdist(
                "hookpy",
                "1.0",
                &[("setup.py", "from setuptools import setup\nsetup()\n")],
            ),
        ],
        npm: vec![tarball_with(
            "hooknpm",
            "1.0.0",
            json!({"postinstall": "node install.js"}),
            &[("install.js", "1;\n")],
        )],
        ..Upstream::default()
    };
    let fake = Arc::new(Fake::new(vec![("", Answer::Finds(Severity::Critical))]));
    // Default configuration: run = "none".
    let h = start_full(
        up,
        |c: &mut Config| c.policy.suspicious = OnVerdict::Allow,
        scanner(),
        Some(fake.clone()),
    )
    .await;
    assert_eq!(h.gate.config().sandbox.run, SandboxRun::None);
    for path in [
        whl("suswheel"),
        "/files/pypi/hookpy/hookpy-1.0.tar.gz".to_owned(),
        "/npm/hooknpm/-/hooknpm-1.0.0.tgz".to_owned(),
    ] {
        let r = get(&h.url(&path)).await;
        assert_eq!(r.status(), 200, "{path}");
    }
    settled(&h).await;
    assert!(fake.calls().is_empty());
    assert!(h.gate.store.sandbox_jobs().unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn install_time_mode_picks_only_install_time_code() {
    let up = || Upstream {
        py: vec![
            sdist(
                "hookpy",
                "1.0",
                &[
                    ("setup.py", "from setuptools import setup\nsetup()\n"),
                    ("hookpy/__init__.py", ""),
                ],
            ),
            wheel("plainpy", "1.0"),
            wheel("suswheel", "1.0"),
            wheel("evilwheel", "1.0"),
        ],
        npm: vec![
            tarball_with(
                "hooknpm",
                "1.0.0",
                json!({"postinstall": "node install.js", "test": "node t.js"}),
                &[("install.js", "1;\n")],
            ),
            tarball("plainnpm", "1.0.0", &[]),
        ],
        ..Upstream::default()
    };
    let files = [
        "/files/pypi/hookpy/hookpy-1.0.tar.gz".to_owned(),
        whl("plainpy"),
        whl("suswheel"),
        "/npm/hooknpm/-/hooknpm-1.0.0.tgz".to_owned(),
        "/npm/plainnpm/-/plainnpm-1.0.0.tgz".to_owned(),
    ];
    for (run, want) in [
        (
            SandboxRun::InstallTime,
            vec!["hooknpm-1.0.0.tgz", "hookpy-1.0.tar.gz"],
        ),
        (
            SandboxRun::All,
            vec![
                "hooknpm-1.0.0.tgz",
                "hookpy-1.0.tar.gz",
                "plainnpm-1.0.0.tgz",
                "plainpy-1.0-py3-none-any.whl",
                "suswheel-1.0-py3-none-any.whl",
            ],
        ),
    ] {
        let fake = Arc::new(Fake::new(Vec::new()));
        let h = start_full(up(), sandbox(run, 10), scanner(), Some(fake.clone())).await;
        for path in &files {
            let r = get(&h.url(path)).await;
            assert_eq!(r.status(), 200, "{run:?} {path}");
        }
        // Malicious by the static judge: refused, never run (a run could
        // only make it worse).
        let r = get(&h.url(&whl("evilwheel"))).await;
        assert_eq!(r.status(), 403);
        settled(&h).await;
        assert_eq!(fake.calls(), want, "{run:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sandbox_errors_follow_scan_error() {
    for (answer, on) in [
        (
            Answer::Fails("sandbox unavailable: test box".into()),
            OnVerdict::Hold,
        ),
        (
            Answer::Fails("sandbox unavailable: test box".into()),
            OnVerdict::Block,
        ),
        (
            Answer::Fails("sandbox unavailable: test box".into()),
            OnVerdict::Allow,
        ),
        (Answer::Panics, OnVerdict::Hold),
    ] {
        let up = Upstream {
            py: vec![wheel("suswheel", "1.0")],
            ..Upstream::default()
        };
        let fake = Arc::new(Fake::new(vec![("suswheel", answer.clone())]));
        let tweak = sandbox(SandboxRun::Suspicious, 10);
        let h = start_full(
            up,
            move |c: &mut Config| {
                tweak(c);
                c.policy.scan_error = on;
            },
            scanner(),
            Some(fake.clone()),
        )
        .await;
        let r = get(&h.url(&whl("suswheel"))).await;
        let status = r.status();
        let j: Value = r.json().await.unwrap_or(Value::Null);
        let reason = j["error"].as_str().unwrap_or("").to_owned();
        let jobs = h.gate.store.sandbox_jobs().unwrap();
        match on {
            OnVerdict::Hold => {
                assert_eq!(status, 403);
                assert!(reason.starts_with("held for review"), "{reason}");
                let why = if matches!(answer, Answer::Panics) {
                    "crashed"
                } else {
                    "test box"
                };
                assert!(reason.contains(why), "{reason}");
                assert_eq!(jobs.len(), 1);
                assert_eq!(jobs[0].state, JobState::Failed);
            }
            OnVerdict::Block => {
                assert_eq!(status, 403);
                assert!(reason.contains("blocked by sluice"), "{reason}");
                assert_eq!(jobs[0].state, JobState::Failed);
            }
            OnVerdict::Allow => {
                // The static verdict stands, and the evidence says why
                // there is no sandbox run in it.
                assert_eq!(status, 200);
                assert!(jobs.is_empty());
                let (level, rep) = report(&h, Ecosystem::PyPI, "suswheel");
                assert_eq!(level, VerdictLevel::Suspicious);
                assert_eq!(rep["sandbox"]["error"], "sandbox unavailable: test box");
            }
        }
        assert_eq!(fake.calls().len(), 1);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pending_holds_are_requeued_after_a_restart() {
    let up = Upstream {
        py: vec![wheel("susloud", "1.0")],
        ..Upstream::default()
    };
    // The first gate's run never finishes while it matters (a crash or a
    // stop in the middle of a run).
    let first = Arc::new(Fake::new(vec![("", Answer::Fails("stopped".into()))]).latched());
    let _open_first = OpenOnDrop(first.clone());
    let tweak = sandbox(SandboxRun::Suspicious, 0);
    let h = start_full(up, tweak.clone(), scanner(), Some(first.clone())).await;
    assert_eq!(get(&h.url(&whl("susloud"))).await.status(), 503);
    eventually(|| first.calls().len() == 1).await;
    assert_eq!(first.calls().len(), 1);
    // "Restart": a new gate on the same data dir. The hold is still there
    // (503 until its run) and the run is queued again.
    let second =
        Arc::new(Fake::new(vec![("susloud", Answer::Finds(Severity::Critical))]).latched());
    let _open_second = OpenOnDrop(second.clone());
    let (gate2, addr2) = start_gate(
        h.upstream_addr,
        h.data_dir(),
        tweak,
        scanner(),
        Some(second.clone()),
    )
    .await;
    let url2 = format!("http://{addr2}{}", whl("susloud"));
    let r = get(&url2).await;
    assert_eq!(r.status(), 503);
    eventually(|| !second.calls().is_empty()).await;
    assert_eq!(second.calls(), vec!["susloud-1.0-py3-none-any.whl"]);
    second.open();
    let r = until_decided(&url2, 30).await;
    assert_eq!(r.status(), 403);
    let a = &gate2
        .store
        .artifacts_of(Ecosystem::PyPI, "susloud", None)
        .unwrap()[0];
    assert_eq!(a.verdict, VerdictLevel::Malicious);
    assert!(gate2.store.sandbox_jobs().unwrap().is_empty());
    // The first gate's stuck run ends when `_open_first` drops; its
    // failure then finds no hold left to mark.
}

/// The real sandbox on an inert sdist (a setup.py that only calls
/// setup()), through the gate. Needs root, bubblewrap, strace, nftables,
/// iproute2, setpriv and python3; skipped with the reason otherwise.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_sandbox_second_opinion_on_an_inert_sdist() {
    if let Err(e) = sluice_sandbox::check_prerequisites() {
        eprintln!("SKIP: {e}");
        return;
    }
    if std::process::Command::new("python3")
        .arg("-V")
        .output()
        .is_err()
    {
        eprintln!("SKIP: python3 not found");
        return;
    }
    let up = Upstream {
        py: vec![sdist(
            "inertpkg",
            "0.1.0",
            &[
                (
                    "setup.py",
                    "from setuptools import setup\nsetup(name='inertpkg', version='0.1.0', py_modules=['inertpkg'])\n",
                ),
                ("inertpkg.py", "VALUE = 1\n"),
            ],
        )],
        ..Upstream::default()
    };
    let h = start_full(
        up,
        |c: &mut Config| {
            c.sandbox.run = SandboxRun::InstallTime;
            c.sandbox.wait_secs = 0;
            c.sandbox.timeout_secs = 120;
        },
        None,
        None,
    )
    .await;
    let url = h.url("/files/pypi/inertpkg/inertpkg-0.1.0.tar.gz");
    assert_eq!(get(&url).await.status(), 503);
    let r = until_decided(&url, 600).await;
    let status = r.status();
    let body = r.text().await.unwrap();
    let jobs = h.gate.store.sandbox_jobs().unwrap();
    assert_eq!(status, 200, "{body}; holds: {jobs:?}");
    let (level, rep) = report(&h, Ecosystem::PyPI, "inertpkg");
    assert_eq!(level, VerdictLevel::Clean, "{rep}");
    let phases = rep["sandbox"]["run"]["phases"].as_array().unwrap();
    eprintln!("sandbox phases: {phases:?}");
    assert!(
        phases
            .iter()
            .any(|p| p["phase"] == "install" && p["status"] == "completed"),
        "{phases:?}"
    );
    assert!(
        !rep["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["rule"].as_str().unwrap_or("").starts_with("DYN")),
        "{rep}"
    );
}
