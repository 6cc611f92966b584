//! Read every artifact under the given folders and summarise: kinds,
//! anomalies, errors, bytes and time. A smoke test on real packages and a
//! rough throughput figure (`cargo run --release --example read_all -- DIR`).

use std::collections::BTreeMap;
use std::time::Instant;

use sluice_archive::{Limits, read_path};

fn main() {
    let limits = Limits::default();
    let mut kinds: BTreeMap<&'static str, u32> = BTreeMap::new();
    let mut anomalies: BTreeMap<&'static str, u32> = BTreeMap::new();
    let mut errors = 0u32;
    let (mut packed, mut unpacked, mut files) = (0u64, 0u64, 0u64);
    let start = Instant::now();
    for dir in std::env::args().skip(1) {
        let Ok(rd) = std::fs::read_dir(&dir) else {
            eprintln!("cannot list {dir}");
            continue;
        };
        let mut paths: Vec<_> = rd.filter_map(Result::ok).map(|e| e.path()).collect();
        paths.sort();
        for p in paths {
            match read_path(&p, &limits) {
                Ok(t) => {
                    *kinds.entry(t.kind.as_str()).or_default() += 1;
                    packed += t.size;
                    unpacked += t.unpacked_bytes();
                    files += t.files.len() as u64;
                    for a in &t.anomalies {
                        *anomalies.entry(a.kind.as_str()).or_default() += 1;
                        println!(
                            "{}: {} {} ({})",
                            t.filename,
                            a.kind.as_str(),
                            a.entry,
                            a.detail
                        );
                    }
                }
                Err(e) => {
                    errors += 1;
                    println!("ERROR {e}");
                }
            }
        }
    }
    let secs = start.elapsed().as_secs_f64();
    println!("kinds: {kinds:?}");
    println!("anomalies: {anomalies:?}");
    println!("errors: {errors}");
    println!(
        "{files} files, {} MiB packed -> {} MiB unpacked in {secs:.2}s ({:.0} MiB/s unpacked)",
        packed >> 20,
        unpacked >> 20,
        (unpacked >> 20) as f64 / secs
    );
}
