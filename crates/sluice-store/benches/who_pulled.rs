//! Benchmark: `who-pulled` over a large audit log.
//!
//! `cargo bench -p sluice-store --bench who_pulled` fills a temporary
//! database with `SLUICE_BENCH_ROWS` download rows (default 10 000 000)
//! spread over 50 000 packages × 5 versions and 500 clients, then times
//! `who_pulled` for a package and for one version.
#![allow(missing_docs)]

use std::time::Instant;

use sluice_model::Ecosystem;
use sluice_store::{Download, Store};

fn main() {
    let rows: u64 = std::env::var("SLUICE_BENCH_ROWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000_000);
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let t = Instant::now();
    let batch = 100_000u64;
    let mut i = 0u64;
    while i < rows {
        let n = batch.min(rows - i);
        let chunk: Vec<Download> = (i..i + n)
            .map(|k| {
                let pkg = (k.wrapping_mul(2_654_435_761)) % 50_000;
                Download {
                    at: format!("2026-01-{:02}T00:00:{:02}.000Z", 1 + k % 28, k % 60),
                    ecosystem: if pkg % 2 == 0 {
                        "pypi".into()
                    } else {
                        "npm".into()
                    },
                    name: format!("pkg{pkg}"),
                    version: format!("1.0.{}", k % 5),
                    filename: format!("pkg{pkg}-1.0.{}.tar.gz", k % 5),
                    sha256: None,
                    principal: format!("svc{}", k % 500),
                    addr: "10.0.0.1".into(),
                    user_agent: "pip/26.3".into(),
                    verdict: "clean".into(),
                    allowed: true,
                    reason: "ok".into(),
                }
            })
            .collect();
        store.log_downloads(&chunk).unwrap();
        i += n;
    }
    eprintln!("inserted {rows} rows in {:.1} s", t.elapsed().as_secs_f64());
    let mut times = Vec::new();
    for p in (0..50_000u64).step_by(997).take(40) {
        let eco = if p % 2 == 0 {
            Ecosystem::PyPI
        } else {
            Ecosystem::Npm
        };
        let name = format!("pkg{p}");
        let t = Instant::now();
        let all = store.who_pulled(eco, &name, None).unwrap();
        let t_all = t.elapsed();
        let t = Instant::now();
        let one = store.who_pulled(eco, &name, Some("1.0.3")).unwrap();
        let t_one = t.elapsed();
        assert!(!all.is_empty() || rows < 1_000_000);
        let _ = one;
        times.push((t_all.as_secs_f64() * 1e3, t_one.as_secs_f64() * 1e3));
    }
    times.sort_by(|a, b| a.0.total_cmp(&b.0));
    let max_all = times.iter().map(|t| t.0).fold(0.0, f64::max);
    let max_one = times.iter().map(|t| t.1).fold(0.0, f64::max);
    let med_all = times[times.len() / 2].0;
    println!(
        "who_pulled over {rows} rows: package median {med_all:.2} ms, max {max_all:.2} ms; one version max {max_one:.2} ms"
    );
}
