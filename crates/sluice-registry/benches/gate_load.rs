//! Benchmark: the gate under loopback load.
//!
//! `cargo bench -p sluice-registry --bench gate_load` starts a fake upstream
//! and a gate (as the tests do), warms the cache, then for
//! `SLUICE_BENCH_SECS` seconds (default 5) per scenario runs
//! `SLUICE_BENCH_CONC` concurrent keep-alive clients (default 16) against:
//! - a cached PyPI project page (JSON), reporting p50/p99 latency;
//! - a cached npm packument (full, gzip);
//! - a cached 4 MiB artifact, reporting MiB/s.
//!
//! With `SLUICE_BENCH_COMPARE_URL` (e.g. nginx serving the same 4 MiB file,
//! written to `SLUICE_BENCH_WRITE_FILE`), the same load runs against it.
#![allow(missing_docs)]

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::{Duration, Instant};

async fn load(url: &str, accept: &str, conc: usize, secs: u64) -> (Vec<f64>, u64) {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(conc)
        .build()
        .unwrap();
    let end = Instant::now() + Duration::from_secs(secs);
    let mut tasks = Vec::new();
    for _ in 0..conc {
        let (client, url, accept) = (client.clone(), url.to_owned(), accept.to_owned());
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            let mut bytes = 0u64;
            while Instant::now() < end {
                let t = Instant::now();
                let r = client
                    .get(&url)
                    .header("accept", &accept)
                    .header("accept-encoding", "gzip")
                    .send()
                    .await
                    .unwrap();
                assert!(r.status().is_success(), "{}", r.status());
                bytes += r.bytes().await.unwrap().len() as u64;
                lat.push(t.elapsed().as_secs_f64() * 1e3);
            }
            (lat, bytes)
        }));
    }
    let mut all = Vec::new();
    let mut total = 0;
    for t in tasks {
        let (l, b) = t.await.unwrap();
        all.extend(l);
        total += b;
    }
    all.sort_by(f64::total_cmp);
    (all, total)
}

fn report(label: &str, lat: &[f64], bytes: u64, secs: u64) {
    let p = |q: f64| {
        lat.get(((lat.len() as f64 - 1.0) * q) as usize)
            .copied()
            .unwrap_or(0.0)
    };
    println!(
        "{label:<34} {:>8.0} req/s  p50 {:>6.2} ms  p99 {:>6.2} ms  {:>8.1} MiB/s",
        lat.len() as f64 / secs as f64,
        p(0.5),
        p(0.99),
        bytes as f64 / secs as f64 / (1 << 20) as f64
    );
}

fn main() {
    let secs: u64 = std::env::var("SLUICE_BENCH_SECS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5);
    let conc: usize = std::env::var("SLUICE_BENCH_CONC")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(16);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        let mut up = common::default_upstream();
        // 4 MiB of incompressible bytes as an sdist.
        let mut big = Vec::with_capacity(4 << 20);
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        while big.len() < 4 << 20 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            big.extend_from_slice(&x.to_le_bytes());
        }
        if let Ok(p) = std::env::var("SLUICE_BENCH_WRITE_FILE") {
            std::fs::write(p, &big).unwrap();
        }
        up.py.push(common::PyDist {
            project: "bigpkg".into(),
            version: "1.0".into(),
            filename: "bigpkg-1.0.tar.gz".into(),
            bytes: big,
            metadata: b"Metadata-Version: 2.1\nName: bigpkg\nVersion: 1.0\n".to_vec(),
            yanked: None,
        });
        let h = common::start(up, |c| c.upstream.metadata_ttl_secs = 3600).await;
        let page = h.url("/simple/cleanpkg/");
        let pack = h.url("/npm/cleannpm");
        let file = h.url("/files/pypi/bigpkg/bigpkg-1.0.tar.gz");
        let json = "application/vnd.pypi.simple.v1+json";
        for u in [&page, &file] {
            let _ = load(u, json, 1, 1).await;
        }
        let _ = load(&pack, "application/json", 1, 1).await;
        println!("gate, {conc} concurrent clients, {secs} s each (loopback, same process)");
        let (l, b) = load(&page, json, conc, secs).await;
        report("cached PyPI project page (JSON)", &l, b, secs);
        let (l, b) = load(&pack, "application/json", conc, secs).await;
        report("cached npm packument (full)", &l, b, secs);
        let (l, b) = load(&file, "*/*", conc, secs).await;
        report("cached 4 MiB artifact (gate)", &l, b, secs);
        if let Ok(u) = std::env::var("SLUICE_BENCH_COMPARE_URL") {
            let (l, b) = load(&u, "*/*", conc, secs).await;
            report("same file from SLUICE_BENCH_COMPARE_URL", &l, b, secs);
        }
        let rows = h
            .gate
            .store
            .downloads_of(sluice_model::Ecosystem::PyPI, "bigpkg", None, 1)
            .unwrap();
        assert!(!rows.is_empty(), "artifact requests are audited");
    });
}
