//! Speed figures for `sluice names bench` (a benchmark, never a timed test).

use std::time::Instant;

use serde::Serialize;
use sluice_model::{Ecosystem, PackageName};

use crate::engine::Engine;
use crate::index::PopularData;

/// What the benchmark measured.
#[derive(Debug, Clone, Serialize)]
pub struct BenchReport {
    /// Time to inflate the shipped index and build every lookup structure.
    pub build_ms: f64,
    /// Names checked one by one.
    pub single_names: usize,
    /// Median time of one check, in microseconds.
    pub single_median_us: f64,
    /// 99th percentile of one check, in microseconds.
    pub single_p99_us: f64,
    /// Names in the batch.
    pub batch_names: usize,
    /// Wall time of the batch on all cores, in milliseconds.
    pub batch_ms: f64,
    /// CPU time the process spent during the batch, in milliseconds
    /// (Linux `/proc`; 0 elsewhere). On a busy machine wall time inflates,
    /// CPU time divided by cores estimates the uncontended wall time.
    pub batch_cpu_ms: f64,
    /// Names flagged in the batch (sanity figure).
    pub batch_flagged: usize,
    /// Estimated size of the index structures, in bytes.
    pub index_bytes: usize,
}

/// A deterministic mix of realistic names: popular names with one random
/// edit (squat-like), popular names as they are, and random words.
#[must_use]
pub fn sample_names(data: &PopularData, n: usize, seed: u64) -> Vec<PackageName> {
    let mut x = seed | 1;
    let mut rnd = move || {
        // xorshift64*: deterministic and dependency-free.
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    };
    let alphabet = b"abcdefghijklmnopqrstuvwxyz0123456789-";
    let mut out = Vec::with_capacity(n);
    while out.len() < n {
        let r = rnd();
        let (eco, list) = if r % 2 == 0 {
            (Ecosystem::PyPI, &data.pypi)
        } else {
            (Ecosystem::Npm, &data.npm)
        };
        if list.is_empty() {
            break;
        }
        let base = &list[(rnd() as usize) % list.len()].name;
        let mut s: Vec<u8> = base.as_bytes().to_vec();
        match rnd() % 4 {
            0 => {}
            1 | 2 => {
                let pos = (rnd() as usize) % s.len().max(1);
                let ch = alphabet[(rnd() as usize) % alphabet.len()];
                match rnd() % 3 {
                    0 if s.len() > 2 => {
                        s.remove(pos);
                    }
                    1 => s.insert(pos, ch),
                    _ => {
                        if let Some(b) = s.get_mut(pos) {
                            *b = ch;
                        }
                    }
                }
            }
            _ => {
                let len = 4 + (rnd() as usize) % 12;
                s = (0..len)
                    .map(|_| alphabet[(rnd() as usize) % (alphabet.len() - 1)])
                    .collect();
            }
        }
        if let Ok(name) = std::str::from_utf8(&s)
            && let Ok(p) = PackageName::parse(eco, name)
        {
            out.push(p);
        }
    }
    out
}

/// Run the benchmark on a freshly built engine over the shipped index.
///
/// # Errors
/// When the shipped index cannot be read.
pub fn run(single: usize, batch: usize) -> Result<BenchReport, crate::Error> {
    let t0 = Instant::now();
    let data = Engine::builtin_data()?;
    let engine = Engine::from_data(&data);
    // Deletion indexes are built on first use; count them in the build.
    for (eco, n) in [
        (Ecosystem::PyPI, "x-warm-up"),
        (Ecosystem::Npm, "x-warm-up"),
    ] {
        if let Ok(p) = PackageName::parse(eco, n) {
            std::hint::black_box(engine.check(&p));
        }
    }
    let build_ms = t0.elapsed().as_secs_f64() * 1e3;
    let names = sample_names(&data, single.max(1), 0x5eed);
    // Warm up caches and the allocator.
    for n in names.iter().take(1000) {
        std::hint::black_box(engine.check(n));
    }
    let mut times: Vec<f64> = names
        .iter()
        .map(|n| {
            let t = Instant::now();
            std::hint::black_box(engine.check(n));
            t.elapsed().as_secs_f64() * 1e6
        })
        .collect();
    times.sort_by(f64::total_cmp);
    let pick = |q: f64| {
        let i = ((times.len() as f64 - 1.0) * q).round() as usize;
        times.get(i).copied().unwrap_or(0.0)
    };
    let batch_names = sample_names(&data, batch, 0xba7c);
    let cpu0 = cpu_ms();
    let t = Instant::now();
    let res = engine.check_many(&batch_names);
    let batch_ms = t.elapsed().as_secs_f64() * 1e3;
    let batch_cpu_ms = cpu_ms() - cpu0;
    let batch_flagged = res
        .iter()
        .filter(|m| crate::verdict_of(m) != crate::NameVerdict::Ok)
        .count();
    Ok(BenchReport {
        build_ms,
        single_names: times.len(),
        single_median_us: pick(0.5),
        single_p99_us: pick(0.99),
        batch_names: batch_names.len(),
        batch_ms,
        batch_cpu_ms,
        batch_flagged,
        index_bytes: engine.approx_bytes(),
    })
}

/// User + system CPU time of this process in milliseconds, from
/// `/proc/self/stat` (clock ticks of 1/100 s, the Linux `USER_HZ`).
fn cpu_ms() -> f64 {
    let Ok(s) = std::fs::read_to_string("/proc/self/stat") else {
        return 0.0;
    };
    // Fields after the `(comm)` part; utime and stime are fields 14 and 15.
    let Some(rest) = s.rsplit_once(')').map(|(_, r)| r) else {
        return 0.0;
    };
    let f: Vec<&str> = rest.split_whitespace().collect();
    let tick = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    // `rest` starts at field 3 (state), so field n is at index n - 3.
    (tick(11) + tick(12)) * 10.0
}
