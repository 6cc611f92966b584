//! Benchmark: the gate under loopback load, compared with nginx.
//!
//! `cargo bench -p sluice-registry --bench gate_load` starts a fake upstream
//! and a gate (as the tests do) on one tokio runtime, warms the cache, then
//! drives them from a *separate* load-generator runtime on its own OS
//! threads (`SLUICE_BENCH_LOAD_THREADS`, default one per core), so the generator never
//! runs on the gate's worker threads. The generator is a minimal HTTP/1.1
//! keep-alive client (one request in flight per connection, the body read
//! into a reused buffer and discarded), the same code for every target.
//!
//! For `SLUICE_BENCH_SECS` seconds (default 5) per scenario it runs
//! `SLUICE_BENCH_CONC` connections (default 16) against:
//! - a cached PyPI project page (JSON) and a cached npm packument, reporting
//!   req/s and p50/p99 latency;
//! - a cached 4 MiB artifact, reporting MiB/s, `SLUICE_BENCH_ROUNDS` times
//!   (default 3), each round back to back with the same load against the
//!   comparison server (which goes first in every other round), so machine
//!   contention hits both alike; the
//!   median of the per-round ratios is printed.
//!
//! `SLUICE_BENCH_MEMORY_BYTES=0` turns the gate's in-memory artifact cache
//! off (every hit read from disk), to see what the cache is worth.
//!
//! The comparison server is `SLUICE_BENCH_COMPARE_URL` (serving the same
//! 4 MiB file, written to `SLUICE_BENCH_WRITE_FILE`), or, with
//! `SLUICE_BENCH_NGINX=/usr/sbin/nginx`, an nginx the benchmark starts
//! itself (temp prefix, `worker_processes auto` or
//! `SLUICE_BENCH_NGINX_WORKERS`, sendfile, keep-alive, access log off)
//! and stops at the end.
#![allow(missing_docs)]

#[path = "../tests/common/mod.rs"]
mod common;

use std::net::{SocketAddr, ToSocketAddrs};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn env<T: std::str::FromStr>(k: &str, d: T) -> T {
    std::env::var(k)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(d)
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Read exactly `n` more body bytes: first from `buf[*pos..*have]`, then
/// from the socket (discarded).
async fn skip(
    s: &mut tokio::net::TcpStream,
    buf: &mut [u8],
    pos: &mut usize,
    have: &mut usize,
    mut n: usize,
) -> usize {
    let total = n;
    let take = n.min(*have - *pos);
    *pos += take;
    n -= take;
    while n > 0 {
        let want = n.min(buf.len());
        let got = s.read(&mut buf[..want]).await.unwrap();
        assert!(got > 0, "connection closed mid-body");
        n -= got;
    }
    if *pos == *have {
        *pos = 0;
        *have = 0;
    }
    total
}

/// Read until `buf[pos..have]` holds `needle`; returns its offset.
async fn fill_until(
    s: &mut tokio::net::TcpStream,
    buf: &mut [u8],
    pos: &mut usize,
    have: &mut usize,
    needle: &[u8],
) -> usize {
    loop {
        if let Some(i) = find(&buf[*pos..*have], needle) {
            return *pos + i;
        }
        if *pos > 0 {
            buf.copy_within(*pos..*have, 0);
            *have -= *pos;
            *pos = 0;
        }
        assert!(*have < buf.len(), "header too large");
        let got = s.read(&mut buf[*have..]).await.unwrap();
        assert!(got > 0, "connection closed");
        *have += got;
    }
}

/// One keep-alive connection: request, read the whole response, repeat.
/// Returns per-request latencies (ms) and body bytes received.
async fn conn_loop(addr: SocketAddr, req: Vec<u8>, end: Instant) -> (Vec<f64>, u64) {
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.set_nodelay(true).unwrap();
    let mut buf = vec![0u8; 1 << 20];
    let (mut pos, mut have) = (0usize, 0usize);
    let mut lat = Vec::new();
    let mut bytes = 0u64;
    while Instant::now() < end {
        let t = Instant::now();
        s.write_all(&req).await.unwrap();
        let he = fill_until(&mut s, &mut buf, &mut pos, &mut have, b"\r\n\r\n").await;
        let head = String::from_utf8_lossy(&buf[pos..he]).to_ascii_lowercase();
        pos = he + 4;
        assert!(
            head.starts_with("http/1.1 200"),
            "{}",
            head.lines().next().unwrap_or("")
        );
        let mut clen = None;
        let mut chunked = false;
        for l in head.lines() {
            if let Some(v) = l.strip_prefix("content-length:") {
                clen = v.trim().parse::<usize>().ok();
            }
            if l.starts_with("transfer-encoding:") && l.contains("chunked") {
                chunked = true;
            }
        }
        if let Some(n) = clen {
            bytes += skip(&mut s, &mut buf, &mut pos, &mut have, n).await as u64;
        } else {
            assert!(chunked, "neither content-length nor chunked");
            loop {
                let le = fill_until(&mut s, &mut buf, &mut pos, &mut have, b"\r\n").await;
                let line = String::from_utf8_lossy(&buf[pos..le]).into_owned();
                pos = le + 2;
                let n =
                    usize::from_str_radix(line.split(';').next().unwrap_or("").trim(), 16).unwrap();
                bytes += skip(&mut s, &mut buf, &mut pos, &mut have, n + 2).await as u64 - 2;
                if n == 0 {
                    break;
                }
            }
        }
        lat.push(t.elapsed().as_secs_f64() * 1e3);
    }
    (lat, bytes)
}

struct Target {
    addr: SocketAddr,
    req: Vec<u8>,
}

fn target(url: &str, accept: &str) -> Target {
    let u = url::Url::parse(url).unwrap();
    let host = u.host_str().unwrap();
    let port = u.port_or_known_default().unwrap();
    let addr = (host, port).to_socket_addrs().unwrap().next().unwrap();
    let path = match u.query() {
        Some(q) => format!("{}?{q}", u.path()),
        None => u.path().to_owned(),
    };
    let req = format!(
        "GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nAccept: {accept}\r\nAccept-Encoding: gzip\r\nUser-Agent: sluice-bench\r\n\r\n"
    )
    .into_bytes();
    Target { addr, req }
}

struct Run {
    lat: Vec<f64>,
    bytes: u64,
    secs: f64,
}

impl Run {
    fn mib_s(&self) -> f64 {
        self.bytes as f64 / self.secs / f64::from(1u32 << 20)
    }
    fn report(&self, label: &str) {
        let p = |q: f64| {
            self.lat
                .get(((self.lat.len() as f64 - 1.0) * q) as usize)
                .copied()
                .unwrap_or(0.0)
        };
        println!(
            "{label:<40} {:>8.0} req/s  p50 {:>6.2} ms  p99 {:>6.2} ms  {:>8.1} MiB/s",
            self.lat.len() as f64 / self.secs,
            p(0.5),
            p(0.99),
            self.mib_s()
        );
    }
}

/// Run `conc` connections against `t` for `secs` on the generator runtime.
fn load(gen_rt: &tokio::runtime::Runtime, t: &Target, conc: usize, secs: f64) -> Run {
    gen_rt.block_on(async {
        let start = Instant::now();
        let end = start + Duration::from_secs_f64(secs);
        let tasks: Vec<_> = (0..conc)
            .map(|_| tokio::spawn(conn_loop(t.addr, t.req.clone(), end)))
            .collect();
        let mut lat = Vec::new();
        let mut bytes = 0;
        for task in tasks {
            let (l, b) = task.await.unwrap();
            lat.extend(l);
            bytes += b;
        }
        // The last responses finish after `end`: divide by the real time.
        let secs = start.elapsed().as_secs_f64();
        lat.sort_by(f64::total_cmp);
        Run { lat, bytes, secs }
    })
}

/// An nginx started by the benchmark, stopped on drop.
struct Nginx {
    bin: String,
    child: std::process::Child,
    _dir: tempfile::TempDir,
    url: String,
}

impl Drop for Nginx {
    fn drop(&mut self) {
        // A fast shutdown through the master (its pid file), which stops
        // its workers too; killing only the master would orphan them.
        let p = self._dir.path();
        let _ = std::process::Command::new(&self.bin)
            .arg("-p")
            .arg(p)
            .arg("-c")
            .arg(p.join("nginx.conf"))
            .args(["-s", "stop"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status();
        let until = Instant::now() + Duration::from_secs(5);
        while Instant::now() < until {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        eprintln!("nginx did not stop; killing its master");
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_nginx(bin: &str, file: &[u8]) -> Nginx {
    // `auto` = one worker per core, as the gate's runtime has one worker
    // thread per core.
    let workers = std::env::var("SLUICE_BENCH_NGINX_WORKERS").unwrap_or_else(|_| "auto".into());
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    std::fs::create_dir_all(p.join("www")).unwrap();
    std::fs::create_dir_all(p.join("logs")).unwrap();
    std::fs::write(p.join("www/file.bin"), file).unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let d = p.display();
    let conf = format!(
        "worker_processes {workers};\ndaemon off;\npid {d}/nginx.pid;\nerror_log {d}/logs/error.log warn;\n\
         events {{ worker_connections 1024; }}\n\
         http {{\n  access_log off;\n  sendfile on;\n  tcp_nopush on;\n  keepalive_timeout 65;\n  keepalive_requests 1000000;\n\
         client_body_temp_path {d}/t1;\n  proxy_temp_path {d}/t2;\n  fastcgi_temp_path {d}/t3;\n  uwsgi_temp_path {d}/t4;\n  scgi_temp_path {d}/t5;\n\
         server {{ listen 127.0.0.1:{port}; root {d}/www; }}\n}}\n"
    );
    std::fs::write(p.join("nginx.conf"), conf).unwrap();
    let child = std::process::Command::new(bin)
        .arg("-p")
        .arg(p)
        .arg("-c")
        .arg(p.join("nginx.conf"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let until = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < until, "nginx did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    Nginx {
        bin: bin.to_owned(),
        child,
        _dir: dir,
        url: format!("http://127.0.0.1:{port}/file.bin"),
    }
}

fn main() {
    let secs: f64 = env("SLUICE_BENCH_SECS", 5.0);
    let conc: usize = env("SLUICE_BENCH_CONC", 16);
    let rounds: usize = env("SLUICE_BENCH_ROUNDS", 3).max(1);
    let cores = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
    let gen_threads: usize = env("SLUICE_BENCH_LOAD_THREADS", cores).max(1);
    let gate_rt = tokio::runtime::Builder::new_multi_thread()
        .thread_name("gate")
        .enable_all()
        .build()
        .unwrap();
    let gen_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(gen_threads)
        .thread_name("loadgen")
        .enable_all()
        .build()
        .unwrap();

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
    let nginx = std::env::var("SLUICE_BENCH_NGINX")
        .ok()
        .map(|b| start_nginx(&b, &big));
    let compare = nginx
        .as_ref()
        .map(|n| n.url.clone())
        .or_else(|| std::env::var("SLUICE_BENCH_COMPARE_URL").ok());

    let mut up = common::default_upstream();
    up.py.push(common::PyDist {
        project: "bigpkg".into(),
        version: "1.0".into(),
        filename: "bigpkg-1.0.tar.gz".into(),
        bytes: big,
        metadata: b"Metadata-Version: 2.1\nName: bigpkg\nVersion: 1.0\n".to_vec(),
        yanked: None,
    });
    // The harness spawns the fake upstream and the gate on the runtime it
    // is started from: the gate's own runtime, not the generator's.
    let memory: Option<u64> = std::env::var("SLUICE_BENCH_MEMORY_BYTES")
        .ok()
        .and_then(|v| v.parse().ok());
    let h = gate_rt.block_on(common::start(up, |c| {
        c.upstream.metadata_ttl_secs = 3600;
        if let Some(m) = memory {
            c.cache.memory_bytes = m;
        }
    }));
    let json = "application/vnd.pypi.simple.v1+json";
    let page = target(&h.url("/simple/cleanpkg/"), json);
    let pack = target(&h.url("/npm/cleannpm"), "application/json");
    let file = target(&h.url("/files/pypi/bigpkg/bigpkg-1.0.tar.gz"), "*/*");
    let mut artifact_requests = 0;
    for t in [&page, &pack, &file] {
        let n = load(&gen_rt, t, 1, 0.5).lat.len();
        if std::ptr::eq(t, &file) {
            artifact_requests += n;
        }
    }
    println!(
        "{conc} keep-alive connections, {secs} s per run; generator: {gen_threads} thread(s) of its own, \
         gate: its own runtime in this process, memory cache {} bytes",
        h.gate.config().cache.memory_bytes
    );
    load(&gen_rt, &page, conc, secs).report("cached PyPI project page (JSON)");
    load(&gen_rt, &pack, conc, secs).report("cached npm packument (full)");
    let cmp = compare.map(|u| target(&u, "*/*"));
    let mut ratios = Vec::new();
    for r in 1..=rounds {
        // Alternate who goes first, so a slow start or end of a round (a
        // neighbour's build) does not always land on the same target.
        let gate_first = r % 2 == 1 || cmp.is_none();
        let mut gate = None;
        let mut other = None;
        for turn in 0..2 {
            if (turn == 0) == gate_first {
                let g = load(&gen_rt, &file, conc, secs);
                artifact_requests += g.lat.len();
                g.report(&format!("[{r}] cached 4 MiB artifact, gate"));
                gate = Some(g);
            } else if let Some(c) = &cmp {
                let n = load(&gen_rt, c, conc, secs);
                n.report(&format!("[{r}] same file, comparison server"));
                other = Some(n);
            }
        }
        if let (Some(g), Some(n)) = (gate, other) {
            ratios.push(g.mib_s() / n.mib_s());
        }
    }
    if !ratios.is_empty() {
        let shown: Vec<String> = ratios
            .iter()
            .map(|r| format!("{:.0} %", r * 100.0))
            .collect();
        ratios.sort_by(f64::total_cmp);
        let n = ratios.len();
        let median = if n % 2 == 1 {
            ratios[n / 2]
        } else {
            f64::midpoint(ratios[n / 2 - 1], ratios[n / 2])
        };
        println!(
            "gate / comparison throughput: median {:.0} % over {} rounds ({})",
            median * 100.0,
            ratios.len(),
            shown.join(", ")
        );
    }
    // Every artifact request is an audit row, written before its answer.
    let rows = h
        .gate
        .store
        .downloads_of(sluice_model::Ecosystem::PyPI, "bigpkg", None, u32::MAX)
        .unwrap();
    assert_eq!(rows.len(), artifact_requests, "one audit row per request");
    println!(
        "audit rows written: {} (one per artifact request)",
        rows.len()
    );
    drop(nginx);
}
