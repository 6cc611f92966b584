//! Real pip, uv, npm, pnpm and yarn classic installing through the gate, which fronts a fake
//! upstream on 127.0.0.1. Each test skips (with a note) when its client is
//! missing. Clients are pointed only at 127.0.0.1 and use temporary caches
//! and configs.
#![allow(missing_docs)]

mod common;

use std::path::Path;
use std::process::Output;

use common::{default_upstream, have, start};
use sluice_model::Ecosystem;
use sluice_store::Action;

fn text(o: &Output) -> String {
    format!(
        "{}\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

async fn pip(index: &str, target: &Path, args: &[&str]) -> Output {
    tokio::process::Command::new("python3")
        .args([
            "-m",
            "pip",
            "install",
            "--isolated",
            "--no-cache-dir",
            "--disable-pip-version-check",
            "--no-input",
            "--no-deps",
        ])
        .arg("--target")
        .arg(target)
        .args(["--index-url", index])
        .args(args)
        .env_remove("PIP_INDEX_URL")
        .env_remove("PIP_EXTRA_INDEX_URL")
        .env("PIP_CONFIG_FILE", "/dev/null")
        .output()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pip_installs_clean_and_refuses_blocked() {
    if !have("python3", &["-m", "pip", "--version"]) {
        eprintln!("skipping: pip is not installed");
        return;
    }
    let h = start(default_upstream(), |_| {}).await;
    let index = format!("http://svc:ci-secret@{}/simple/", h.addr);
    let t = h.dir.path().join("t1");

    // A clean package installs, byte-identical and hash-checked by pip.
    let o = pip(&index, &t, &["cleanpkg"]).await;
    assert!(o.status.success(), "{}", text(&o));
    assert!(t.join("cleanpkg/__init__.py").exists());

    // The malicious latest is refused on its first fetch (judged on the way in)...
    let o = pip(&index, &h.dir.path().join("t2"), &["evilpkg"]).await;
    assert!(!o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("403"), "{}", text(&o));
    // ...pinned it is refused...
    let o = pip(&index, &h.dir.path().join("t3"), &["evilpkg==1.0"]).await;
    assert!(!o.status.success(), "{}", text(&o));
    // ...from a lockfile-style direct URL with its hash it is refused...
    let sha = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(
        &h.upstream
            .py
            .iter()
            .find(|d| d.filename == "evilpkg-1.0-py3-none-any.whl")
            .unwrap()
            .bytes,
    ));
    let req = h.dir.path().join("requirements.txt");
    std::fs::write(&req, format!("evilpkg @ http://{}/files/pypi/evilpkg/evilpkg-1.0-py3-none-any.whl --hash=sha256:{sha}\n", h.addr)).unwrap();
    let o = pip(
        &index,
        &h.dir.path().join("t4"),
        &["--require-hashes", "-r", req.to_str().unwrap()],
    )
    .await;
    assert!(!o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("403"), "{}", text(&o));
    // ...and unpinned, the resolver now falls back to the safe version.
    let t5 = h.dir.path().join("t5");
    let o = pip(&index, &t5, &["evilpkg"]).await;
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        std::fs::read_to_string(t5.join("evilpkg/__init__.py"))
            .unwrap()
            .contains("0.9")
    );

    // Cached, then blocked: the next install is refused.
    let o = pip(&index, &h.dir.path().join("t6"), &["latepkg==1.0"]).await;
    assert!(o.status.success(), "{}", text(&o));
    h.gate
        .store
        .decide(
            Ecosystem::PyPI,
            "latepkg",
            Some("1.0"),
            Action::Block,
            "compromised maintainer",
            "alice",
        )
        .unwrap();
    let o = pip(&index, &h.dir.path().join("t7"), &["latepkg==1.0"]).await;
    assert!(!o.status.success(), "{}", text(&o));

    // who-pulled names the service whose token pulled it.
    let who = h
        .gate
        .store
        .who_pulled(Ecosystem::PyPI, "latepkg", Some("1.0"))
        .unwrap();
    assert_eq!(who.len(), 1, "{who:?}");
    assert_eq!(who[0].principal, "ci-pipeline");
    assert_eq!(who[0].served, 1);
    let rows = h
        .gate
        .store
        .downloads_of(Ecosystem::PyPI, "latepkg", None, 10)
        .unwrap();
    assert!(
        rows.iter().all(|r| r.user_agent.starts_with("pip/")),
        "{rows:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uv_installs_clean_and_refuses_blocked() {
    if !have("uv", &["--version"]) {
        eprintln!("skipping: uv is not installed");
        return;
    }
    let h = start(default_upstream(), |_| {}).await;
    let index = format!("http://svc:web-secret@{}/simple/", h.addr);
    let run = |target: std::path::PathBuf, pkg: &'static str| {
        let index = index.clone();
        let cache = h.dir.path().join("uvcache");
        async move {
            tokio::process::Command::new("uv")
                .args([
                    "pip",
                    "install",
                    "--no-config",
                    "--no-deps",
                    "--index-url",
                    &index,
                    "--target",
                ])
                .arg(&target)
                .arg("--cache-dir")
                .arg(&cache)
                .arg(pkg)
                .env_remove("UV_INDEX_URL")
                .env_remove("UV_DEFAULT_INDEX")
                .output()
                .await
                .unwrap()
        }
    };
    let o = run(h.dir.path().join("u1"), "cleanpkg").await;
    assert!(o.status.success(), "{}", text(&o));
    let o = run(h.dir.path().join("u2"), "evilpkg==1.0").await;
    assert!(!o.status.success(), "{}", text(&o));
    let who = h
        .gate
        .store
        .who_pulled(Ecosystem::PyPI, "cleanpkg", None)
        .unwrap();
    assert_eq!(who[0].principal, "web-app");
}

async fn npm(dir: &Path, home: &Path, args: &[&str]) -> Output {
    tokio::process::Command::new("npm")
        .args(args)
        .current_dir(dir)
        .env("npm_config_cache", home.join("cache"))
        .env("npm_config_userconfig", home.join("npmrc-user"))
        .env("npm_config_globalconfig", home.join("npmrc-global"))
        .env("npm_config_update_notifier", "false")
        .env("npm_config_fund", "false")
        .env_remove("npm_config_registry")
        .env_remove("NPM_CONFIG_REGISTRY")
        .output()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn npm_installs_clean_refuses_blocked_and_audits() {
    if !have("npm", &["--version"]) {
        eprintln!("skipping: npm is not installed");
        return;
    }
    let h = start(default_upstream(), |_| {}).await;
    let home = h.dir.path().join("npmhome");
    std::fs::create_dir_all(&home).unwrap();
    std::fs::write(home.join("npmrc-user"), "").unwrap();
    std::fs::write(home.join("npmrc-global"), "").unwrap();
    let proj = h.dir.path().join("proj");
    std::fs::create_dir_all(&proj).unwrap();
    std::fs::write(
        proj.join("package.json"),
        r#"{"name":"t","version":"1.0.0","private":true}"#,
    )
    .unwrap();
    std::fs::write(
        proj.join(".npmrc"),
        format!(
            "registry=http://{a}/npm/\n//{a}/npm/:_authToken=ci-secret\naudit=false\n",
            a = h.addr
        ),
    )
    .unwrap();

    // Clean package with a scoped dependency installs; the lockfile points at the gate.
    let o = npm(&proj, &home, &["install", "cleannpm@1.0.0"]).await;
    assert!(o.status.success(), "{}", text(&o));
    assert!(proj.join("node_modules/@demo/util/package.json").exists());
    let lock = std::fs::read_to_string(proj.join("package-lock.json")).unwrap();
    assert!(
        lock.contains(&format!(
            "http://{}/npm/cleannpm/-/cleannpm-1.0.0.tgz",
            h.addr
        )),
        "{lock}"
    );

    // Malicious latest: refused with the reason shown.
    let o = npm(&proj, &home, &["install", "evilnpm"]).await;
    assert!(!o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("403"), "{}", text(&o));
    // Pinned: no such version any more.
    let o = npm(&proj, &home, &["install", "evilnpm@1.0.0"]).await;
    assert!(!o.status.success(), "{}", text(&o));

    // Blocked after it was cached: `npm ci` from the lockfile is refused.
    h.gate
        .store
        .decide(
            Ecosystem::Npm,
            "cleannpm",
            Some("1.0.0"),
            Action::Block,
            "takedown 7",
            "alice",
        )
        .unwrap();
    std::fs::remove_dir_all(proj.join("node_modules")).unwrap();
    // A fresh machine (CI runner): no local npm cache to install from.
    std::fs::remove_dir_all(home.join("cache")).unwrap();
    let o = npm(&proj, &home, &["ci"]).await;
    assert!(!o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("takedown 7"), "{}", text(&o));

    // npm audit reports the gate's verdict.
    let o = npm(&proj, &home, &["audit", "--json", "--audit=true"]).await;
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(!o.status.success(), "{}", text(&o));
    assert!(out.contains("\"cleannpm\""), "{out}");
    assert!(out.contains("critical"), "{out}");

    // who-pulled names the token's service.
    let who = h
        .gate
        .store
        .who_pulled(Ecosystem::Npm, "cleannpm", Some("1.0.0"))
        .unwrap();
    assert_eq!(who[0].principal, "ci-pipeline", "{who:?}");
    assert_eq!(who[0].served, 1);
    assert!(who[0].requests >= 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pnpm_installs_clean_and_refuses_blocked() {
    if !have("pnpm", &["--version"]) {
        eprintln!("skipping: pnpm is not installed");
        return;
    }
    let h = start(default_upstream(), |_| {}).await;
    let proj = h.dir.path().join("pproj");
    std::fs::create_dir_all(&proj).unwrap();
    std::fs::write(
        proj.join("package.json"),
        r#"{"name":"t","version":"1.0.0","private":true}"#,
    )
    .unwrap();
    std::fs::write(
        proj.join(".npmrc"),
        format!(
            // The registry at the gate's root, as a plain `registry=` line
            // written by a newcomer would have it.
            "registry=http://{a}/\n//{a}/:_authToken=web-secret\n",
            a = h.addr
        ),
    )
    .unwrap();
    let run = |args: &'static [&'static str]| {
        let (proj, store, home) = (
            proj.clone(),
            h.dir.path().join("pstore"),
            h.dir.path().join("phome"),
        );
        async move {
            tokio::process::Command::new("pnpm")
                .args(args)
                .arg("--store-dir")
                .arg(&store)
                .current_dir(&proj)
                .env("HOME", &home)
                .env("XDG_CACHE_HOME", home.join("cache"))
                .env("XDG_DATA_HOME", home.join("data"))
                .env("XDG_CONFIG_HOME", home.join("config"))
                .env("CI", "true")
                .env_remove("npm_config_registry")
                .output()
                .await
                .unwrap()
        }
    };
    // pnpm asks for the abbreviated packument.
    let o = run(&["add", "cleannpm@1.0.0", "--reporter=append-only"]).await;
    assert!(o.status.success(), "{}", text(&o));
    assert!(proj.join("node_modules/cleannpm/package.json").exists());
    let o = run(&["add", "evilnpm", "--reporter=append-only"]).await;
    assert!(!o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("403"), "{}", text(&o));
    let who = h
        .gate
        .store
        .who_pulled(Ecosystem::Npm, "cleannpm", None)
        .unwrap();
    assert_eq!(who[0].principal, "web-app", "{who:?}");
    let rows = h
        .gate
        .store
        .downloads_of(Ecosystem::Npm, "cleannpm", None, 5)
        .unwrap();
    assert!(rows[0].user_agent.starts_with("pnpm/"), "{rows:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn yarn_installs_clean_and_refuses_blocked() {
    // yarn classic only: berry (2+) is configured through .yarnrc.yml and
    // has no `--registry` flag, so its runs here would not mean the same.
    let classic = std::process::Command::new("yarn")
        .arg("--version")
        .current_dir(std::env::temp_dir())
        .output()
        .is_ok_and(|o| o.status.success() && o.stdout.starts_with(b"1."));
    if !classic {
        eprintln!("skipping: yarn classic (1.x) is not installed");
        return;
    }
    let h = start(default_upstream(), |_| {}).await;
    let registry = format!("http://{}/", h.addr);
    let proj = h.dir.path().join("yproj");
    let home = h.dir.path().join("yhome");
    std::fs::create_dir_all(&proj).unwrap();
    std::fs::create_dir_all(&home).unwrap();
    std::fs::write(
        proj.join("package.json"),
        r#"{"name":"t","version":"1.0.0","private":true}"#,
    )
    .unwrap();
    // yarn classic takes the token from .npmrc's `//host/:_authToken`, but
    // for unscoped packages sends it only with `always-auth` (scoped ones
    // such as @demo/util always get it).
    std::fs::write(
        proj.join(".npmrc"),
        format!(
            "registry={registry}\n//{a}/:_authToken=web-secret\nalways-auth=true\n",
            a = h.addr
        ),
    )
    .unwrap();
    // The public registries are HTTPS; pointing https-proxy at a closed
    // loopback port makes any fallback to them fail instead of leaving the
    // machine. The gate is plain HTTP and is reached directly.
    std::fs::write(
        proj.join(".yarnrc"),
        format!(
            "registry \"{registry}\"\ndisable-self-update-check true\n\
             https-proxy \"http://127.0.0.1:9\"\n"
        ),
    )
    .unwrap();
    let run = |args: &'static [&'static str]| {
        let (proj, home, registry) = (proj.clone(), home.clone(), registry.clone());
        async move {
            tokio::process::Command::new("yarn")
                .args(args)
                .args(["--non-interactive", "--no-progress", "--registry"])
                .arg(&registry)
                .arg("--cache-folder")
                .arg(home.join("cache"))
                .current_dir(&proj)
                .env("HOME", &home)
                .env("YARN_CACHE_FOLDER", home.join("cache"))
                .env("XDG_CONFIG_HOME", home.join("config"))
                .env("CI", "true")
                .env_remove("npm_config_registry")
                .env_remove("NPM_CONFIG_REGISTRY")
                .env_remove("YARN_REGISTRY")
                .env_remove("yarn_registry")
                .env_remove("HTTPS_PROXY")
                .env_remove("https_proxy")
                .env_remove("HTTP_PROXY")
                .env_remove("http_proxy")
                .output()
                .await
                .unwrap()
        }
    };

    // A clean package with a scoped dependency installs; the lockfile
    // records the gate as the source of both tarballs.
    let o = run(&["add", "cleannpm@1.0.0"]).await;
    assert!(o.status.success(), "{}", text(&o));
    assert!(proj.join("node_modules/cleannpm/package.json").exists());
    assert!(proj.join("node_modules/@demo/util/package.json").exists());
    let lock = std::fs::read_to_string(proj.join("yarn.lock")).unwrap();
    let resolved: Vec<&str> = lock
        .lines()
        .filter_map(|l| l.trim().strip_prefix("resolved "))
        .collect();
    assert_eq!(resolved.len(), 2, "{lock}");
    assert!(
        resolved
            .iter()
            .all(|r| r.starts_with(&format!("\"http://{}/", h.addr))),
        "{lock}"
    );
    assert!(lock.contains("cleannpm-1.0.0.tgz"), "{lock}");

    // The malicious latest is refused, and nothing of it is installed.
    let o = run(&["add", "evilnpm"]).await;
    assert!(!o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("403"), "{}", text(&o));
    assert!(!proj.join("node_modules/evilnpm").exists());

    // who-pulled names the service whose token yarn sent.
    let who = h
        .gate
        .store
        .who_pulled(Ecosystem::Npm, "cleannpm", Some("1.0.0"))
        .unwrap();
    assert_eq!(who.len(), 1, "{who:?}");
    assert_eq!(who[0].principal, "web-app", "{who:?}");
    assert_eq!(who[0].served, 1);
    let rows = h
        .gate
        .store
        .downloads_of(Ecosystem::Npm, "cleannpm", None, 5)
        .unwrap();
    assert!(rows[0].user_agent.starts_with("yarn/1."), "{rows:?}");
}
