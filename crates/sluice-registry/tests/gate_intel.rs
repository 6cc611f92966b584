//! The gate enforces the imported malicious-package list (OSV records):
//! matched versions are hidden and refused at once, with the record id,
//! cached copies included; withdrawn records are served again.
#![allow(missing_docs)]

mod common;

use std::sync::atomic::Ordering;

use common::{default_upstream, start};
use serde_json::Value;
use sluice_intel::{ImportOptions, import_bytes};
use sluice_model::Ecosystem;
use sluice_store::Store;

const PIP_ACCEPT: &str = "application/vnd.pypi.simple.v1+json";

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

async fn get_json(url: &str, accept: &str) -> Value {
    client()
        .get(url)
        .header("accept", accept)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

fn import(store: &Store, rec: &str) {
    let r = import_bytes(store, "test.json", rec.as_bytes(), ImportOptions::default()).unwrap();
    assert!(r.errors.is_empty(), "{:?}", r.errors);
    assert_eq!(r.new + r.updated, 1, "{r:?}");
}

fn record(id: &str, modified: &str, eco: &str, name: &str, affected_extra: &str) -> String {
    format!(
        r#"{{"id":"{id}","modified":"{modified}","summary":"Malicious code in {name}","affected":[{{"package":{{"ecosystem":"{eco}","name":"{name}"}}{affected_extra}}}]}}"#
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn matched_versions_are_hidden_and_refused_with_the_record_id() {
    let h = start(default_upstream(), |_| {}).await;
    // A store opened by another process (`sluice db import` while the
    // gate runs): the gate's own connection must see its writes.
    let admin = Store::open(&h.data_dir()).unwrap();
    import(
        &admin,
        &record(
            "MAL-2026-1",
            "2026-01-01T00:00:00Z",
            "PyPI",
            "CleanPkg",
            r#","versions":["1.0"]"#,
        ),
    );
    // Hidden from the page.
    let page = get_json(&h.url("/simple/cleanpkg/"), PIP_ACCEPT).await;
    assert!(page["files"].as_array().unwrap().is_empty(), "{page}");
    assert!(
        page.get("project-status").is_none(),
        "one version: not the whole project"
    );
    // Refused at once: no upstream download of the file, no scan.
    let hits = h.upstream.hits.load(Ordering::SeqCst);
    let r = client()
        .get(h.url("/files/pypi/cleanpkg/cleanpkg-1.0-py3-none-any.whl"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let body = r.text().await.unwrap();
    assert!(body.contains("MAL-2026-1"), "{body}");
    assert_eq!(
        h.upstream.hits.load(Ordering::SeqCst),
        hits,
        "nothing fetched"
    );
    assert!(
        h.gate
            .store
            .artifacts_of(Ecosystem::PyPI, "cleanpkg", None)
            .unwrap()
            .is_empty()
    );
    // Audited like any refusal, with the record id as the reason.
    let rows = h
        .gate
        .store
        .downloads_of(Ecosystem::PyPI, "cleanpkg", Some("1.0"), 10)
        .unwrap();
    assert_eq!(rows.len(), 1);
    assert!(!rows[0].allowed);
    assert!(rows[0].reason.contains("MAL-2026-1"), "{}", rows[0].reason);

    // A cached copy (served before the record existed) is refused too.
    let late = h.url("/files/pypi/latepkg/latepkg-1.0-py3-none-any.whl");
    assert_eq!(client().get(&late).send().await.unwrap().status(), 200);
    import(
        &admin,
        &record(
            "MAL-2026-2",
            "2026-01-01T00:00:00Z",
            "PyPI",
            "latepkg",
            r#","ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0.5"},{"fixed":"1.1"}]}]"#,
        ),
    );
    let r = client().get(&late).send().await.unwrap();
    assert_eq!(r.status(), 403);
    assert!(r.text().await.unwrap().contains("MAL-2026-2"));

    // Withdrawn: served again.
    import(
        &admin,
        &record("MAL-2026-2", "2026-02-01T00:00:00Z", "PyPI", "latepkg", "").replacen(
            '{',
            r#"{"withdrawn":"2026-02-01T00:00:00Z","#,
            1,
        ),
    );
    assert_eq!(client().get(&late).send().await.unwrap().status(), 200);

    // who-pulled for every record at once sees the refused request.
    let pulled = admin.intel_packages_downloaded().unwrap();
    assert!(
        pulled.contains(&("pypi".to_owned(), "cleanpkg".to_owned())),
        "{pulled:?}"
    );
    assert!(
        !pulled.iter().any(|(_, n)| n == "latepkg"),
        "withdrawn records are not asked about"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn whole_package_records_hide_the_project_and_ranges_use_npm_order() {
    let h = start(default_upstream(), |_| {}).await;
    let store = &h.gate.store;
    // introduced 0: every version, the whole project quarantined.
    import(
        store,
        &record(
            "MAL-2026-3",
            "2026-01-01T00:00:00Z",
            "PyPI",
            "htmlpkg",
            r#","ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"}]}]"#,
        ),
    );
    let page = get_json(&h.url("/simple/htmlpkg/"), PIP_ACCEPT).await;
    assert_eq!(page["project-status"]["status"], "quarantined", "{page}");
    assert!(page["files"].as_array().unwrap().is_empty());
    // npm: whole package → no versions in the packument, tarball refused.
    import(
        store,
        &record(
            "MAL-2026-4",
            "2026-01-01T00:00:00Z",
            "npm",
            "cleannpm",
            r#","ranges":[{"type":"SEMVER","events":[{"introduced":"0"}]}]"#,
        ),
    );
    let doc = get_json(&h.url("/npm/cleannpm"), "application/json").await;
    assert!(
        doc["versions"].as_object().is_none_or(|v| v.is_empty()),
        "{doc}"
    );
    let r = client()
        .get(h.url("/npm/cleannpm/-/cleannpm-1.0.0.tgz"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert!(r.text().await.unwrap().contains("MAL-2026-4"));
    // A SEMVER range on a scoped package: 1.0.0-rc.1 < 1.0.0 (npm order).
    import(
        store,
        &record(
            "MAL-2026-5",
            "2026-01-01T00:00:00Z",
            "npm",
            "@Demo/Util",
            r#","ranges":[{"type":"SEMVER","events":[{"introduced":"1.0.0"},{"fixed":"1.0.1"}]}]"#,
        ),
    );
    let r = client()
        .get(h.url("/npm/@demo/util/-/util-1.0.0.tgz"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    // A person's waiver still beats the list (a false positive).
    store
        .decide(
            Ecosystem::Npm,
            "@demo/util",
            Some("1.0.0"),
            sluice_store::Action::Allow,
            "checked by hand",
            "bob",
        )
        .unwrap();
    let r = client()
        .get(h.url("/npm/@demo/util/-/util-1.0.0.tgz"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    // npm audit reports list matches.
    let a: Value = client()
        .post(h.url("/npm/-/npm/v1/security/advisories/bulk"))
        .header("content-type", "application/json")
        .body(r#"{"cleannpm":["1.0.0"]}"#)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        a["cleannpm"][0]["title"]
            .as_str()
            .unwrap()
            .contains("MAL-2026-4"),
        "{a}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_data_needs_the_admin_token_and_lists_what_audit_matches() {
    let h = start(default_upstream(), |_| {}).await;
    let url = h.url("/-/sluice/admin/audit-data");
    // Admin only: no token, a client token and a wrong one are refused.
    assert_eq!(client().get(&url).send().await.unwrap().status(), 401);
    for t in ["ci-secret", "who-knows"] {
        let r = client().get(&url).bearer_auth(t).send().await.unwrap();
        assert_eq!(r.status(), 401, "{t}");
    }
    // One malicious and one suspicious artifact judged, one clean.
    for f in [
        "/files/pypi/evilpkg/evilpkg-1.0-py3-none-any.whl",
        "/files/pypi/suspkg/suspkg-1.0-py3-none-any.whl",
        "/files/pypi/cleanpkg/cleanpkg-1.0-py3-none-any.whl",
    ] {
        client().get(h.url(f)).send().await.unwrap();
    }
    h.gate
        .store
        .decide(
            Ecosystem::Npm,
            "evilnpm",
            None,
            sluice_store::Action::Block,
            "incident 7",
            "secops",
        )
        .unwrap();
    import(
        &h.gate.store,
        &record(
            "MAL-2026-9",
            "2026-01-01T00:00:00Z",
            "npm",
            "latenpm",
            r#","versions":["1.0.0"]"#,
        ),
    );
    let r = client()
        .get(&url)
        .bearer_auth("admin-secret")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let j: Value = r.json().await.unwrap();
    let decisions: Vec<sluice_store::Decision> =
        serde_json::from_value(j["decisions"].clone()).unwrap();
    assert_eq!(decisions.len(), 1, "{j}");
    assert_eq!(decisions[0].name, "evilnpm");
    assert_eq!(decisions[0].action, sluice_store::Action::Block);
    assert_eq!(decisions[0].reason, "incident 7");
    let artifacts: Vec<sluice_store::ArtifactRow> =
        serde_json::from_value(j["artifacts"].clone()).unwrap();
    let mut names: Vec<_> = artifacts
        .iter()
        .map(|a| (a.name.as_str(), a.verdict))
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            ("evilpkg", sluice_model::VerdictLevel::Malicious),
            ("suspkg", sluice_model::VerdictLevel::Suspicious)
        ],
        "{j}"
    );
    let hits: Vec<sluice_store::IntelPackageHit> =
        serde_json::from_value(j["intel_hits"].clone()).unwrap();
    assert_eq!(hits, h.gate.store.intel_all_hits().unwrap());
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].record_id, "MAL-2026-9");
    // What the remote index is built from matches like the local one.
    let index = sluice_intel::IntelIndex::from_hits(hits).unwrap();
    let pkg = index.package(Ecosystem::Npm, "latenpm").unwrap();
    assert_eq!(pkg.matches("1.0.0").len(), 1);
    assert!(pkg.matches("1.0.1").is_empty());
}
