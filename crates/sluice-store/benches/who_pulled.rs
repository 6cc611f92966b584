//! Benchmark: `who-pulled` over a large audit log.
//!
//! `cargo bench -p sluice-store --bench who_pulled` fills a temporary
//! database with `SLUICE_BENCH_ROWS` download rows (default 10 000 000)
//! spread over 50 000 packages × 5 versions and 500 clients, then times
//! `who_pulled` for a package and for one version.
#![allow(missing_docs)]

use std::time::Instant;

use sluice_model::Ecosystem;
use sluice_store::Store;

fn main() {
    let rows: u64 = std::env::var("SLUICE_BENCH_ROWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000_000);
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let t = Instant::now();
    // Generate the rows inside SQLite (one statement, no per-row round
    // trips) through a second connection to the same file: the schema and
    // index are the store's own.
    let conn = rusqlite::Connection::open(dir.path().join("sluice.db")).unwrap();
    conn.execute_batch("PRAGMA synchronous=OFF;").unwrap();
    conn.execute(
        "WITH RECURSIVE c(k) AS (SELECT 0 UNION ALL SELECT k + 1 FROM c WHERE k < ?1 - 1)
         INSERT INTO downloads(at, ecosystem, name, version, filename, sha256, principal, addr, user_agent, verdict, allowed, reason)
         SELECT printf('2026-01-%02dT00:00:%02d.000Z', 1 + k % 28, k % 60),
                CASE WHEN ((k * 2654435761) % 50000) % 2 = 0 THEN 'pypi' ELSE 'npm' END,
                'pkg' || ((k * 2654435761) % 50000),
                '1.0.' || (k % 5),
                'pkg' || ((k * 2654435761) % 50000) || '-1.0.' || (k % 5) || '.tar.gz',
                NULL, 'svc' || (k % 500), '10.0.0.1', 'pip/26.3', 'clean', 1, 'ok'
         FROM c",
        [i64::try_from(rows).unwrap()],
    )
    .unwrap();
    drop(conn);
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
