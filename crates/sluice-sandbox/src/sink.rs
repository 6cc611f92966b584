//! The fake world inside the sandbox's network namespace: a DNS server that
//! answers every name with its own address, and TCP/UDP sinks that receive
//! every redirected flow, record what was sent and answer plausibly.
//!
//! Everything here must be started from a thread that is already inside the
//! sandbox's network namespace: sockets belong to the namespace of the
//! thread that creates them.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddrV4, TcpListener, TcpStream, UdpSocket};
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

/// Port the nft rules send every other TCP flow to.
pub(crate) const TCP_PORT: u16 = 15000;
/// Port the nft rules send every other UDP datagram to.
pub(crate) const UDP_PORT: u16 = 15001;
/// A fresh marker for one run's served bodies, so a later `exec` (or start)
/// of what the fake network served shows a download-and-execute. It reads
/// like a build tool's cache comment and differs per run, so a payload
/// cannot learn it and look for it.
pub(crate) fn payload_marker(rng: &mut crate::canary::Rng) -> String {
    format!("cache-key: {}", rng.string(b"0123456789abcdef", 24))
}

/// Limits of the sink, so a flood cannot eat the supervisor's memory.
#[derive(Clone, Copy, Debug)]
pub(crate) struct SinkLimits {
    pub max_records: usize,
    pub max_bytes_per_flow: usize,
    pub max_total_bytes: usize,
}

/// One thing the sink saw.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NetRecord {
    /// Seconds since the Unix epoch.
    pub t: f64,
    /// `dns`, `tcp` or `udp`.
    pub proto: String,
    /// Original destination address (the fake address for looked-up names).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dst: Option<String>,
    /// Original destination port.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    /// The name behind a fake address, or the DNS question.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// DNS question type (`A`, `AAAA`, `TXT`, number otherwise).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub qtype: Option<String>,
    /// HTTP request line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http: Option<String>,
    /// HTTP `Host` header.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// TLS ClientHello server name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sni: Option<String>,
    /// Bytes received (may be cut at the per-flow limit).
    #[serde(default)]
    pub bytes: u64,
    /// What was sent, lossy UTF-8, cut at the per-flow limit.
    #[serde(default)]
    pub payload: String,
    /// Raw bytes (not serialised; used for canary search).
    #[serde(skip)]
    pub raw: Vec<u8>,
}

#[derive(Default)]
struct Shared {
    records: Vec<NetRecord>,
    names: HashMap<Ipv4Addr, String>,
    by_name: HashMap<String, Ipv4Addr>,
    next_ip: u32,
    total_bytes: usize,
    dropped: usize,
    /// Carried in every body served (see [`payload_marker`]).
    marker: String,
}

/// A running sink; [`Sink::stop`] ends it and returns what it saw.
pub(crate) struct Sink {
    shared: Arc<Mutex<Shared>>,
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
}

/// What the sink saw over a whole run.
pub(crate) struct SinkLog {
    pub records: Vec<NetRecord>,
    pub flooded: bool,
}

fn now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

impl Sink {
    /// Bind the DNS, TCP and UDP sockets (in the caller's network
    /// namespace) and serve them on background threads.
    pub fn start(limits: SinkLimits, marker: String) -> std::io::Result<Sink> {
        // On 127.0.0.1: nft's output-hook redirect rewrites to 127.0.0.1,
        // and replies must leave from that address or conntrack takes them
        // for new flows (and redirects the answer to the UDP sink).
        let dns = UdpSocket::bind(("127.0.0.1", 53))?;
        let udp = UdpSocket::bind(("127.0.0.1", UDP_PORT))?;
        let tcp = TcpListener::bind(("0.0.0.0", TCP_PORT))?;
        dns.set_read_timeout(Some(Duration::from_millis(100)))?;
        udp.set_read_timeout(Some(Duration::from_millis(100)))?;
        tcp.set_nonblocking(true)?;
        let shared = Arc::new(Mutex::new(Shared {
            // 198.18.0.0/15 is reserved for benchmarking: never a real host.
            next_ip: u32::from(Ipv4Addr::new(198, 18, 0, 10)),
            marker,
            ..Shared::default()
        }));
        let stop = Arc::new(AtomicBool::new(false));
        let mut threads = Vec::new();
        {
            let (s, st) = (shared.clone(), stop.clone());
            threads.push(std::thread::spawn(move || serve_dns(&dns, &s, &st, limits)));
        }
        {
            let (s, st) = (shared.clone(), stop.clone());
            threads.push(std::thread::spawn(move || serve_udp(&udp, &s, &st, limits)));
        }
        {
            let (s, st) = (shared.clone(), stop.clone());
            threads.push(std::thread::spawn(move || serve_tcp(&tcp, &s, &st, limits)));
        }
        Ok(Sink {
            shared,
            stop,
            threads,
        })
    }

    /// Stop serving and hand back the records in arrival order.
    pub fn stop(self) -> SinkLog {
        self.stop.store(true, Ordering::SeqCst);
        for t in self.threads {
            let _ = t.join();
        }
        // Connection threads may still hold a clone for up to their read
        // timeout; take what is there now.
        let mut g = self
            .shared
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut records = std::mem::take(&mut g.records);
        records.sort_by(|a, b| a.t.total_cmp(&b.t));
        SinkLog {
            records,
            flooded: g.dropped > 0,
        }
    }
}

fn push(shared: &Mutex<Shared>, limits: SinkLimits, mut rec: NetRecord) {
    let mut g = shared
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if g.records.len() >= limits.max_records || g.total_bytes >= limits.max_total_bytes {
        g.dropped += 1;
        return;
    }
    let room = limits.max_total_bytes - g.total_bytes;
    rec.raw.truncate(room);
    g.total_bytes += rec.raw.len();
    rec.payload = String::from_utf8_lossy(&rec.raw[..rec.raw.len().min(4096)]).into_owned();
    if rec.name.is_none()
        && rec.proto != "dns"
        && let Some(ip) = rec.dst.as_deref().and_then(|d| d.parse::<Ipv4Addr>().ok())
    {
        rec.name = g.names.get(&ip).cloned();
    }
    g.records.push(rec);
}

fn fake_ip(shared: &Mutex<Shared>, name: &str) -> Ipv4Addr {
    let mut g = shared
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let key = name.to_ascii_lowercase();
    if let Some(ip) = g.by_name.get(&key) {
        return *ip;
    }
    let ip = Ipv4Addr::from(g.next_ip);
    // Stay inside 198.18.0.0/15; wrap instead of leaving it.
    g.next_ip = if g.next_ip >= u32::from(Ipv4Addr::new(198, 19, 255, 250)) {
        u32::from(Ipv4Addr::new(198, 18, 0, 10))
    } else {
        g.next_ip + 1
    };
    g.names.insert(ip, key.clone());
    g.by_name.insert(key, ip);
    ip
}

fn qtype_name(q: u16) -> String {
    match q {
        1 => "A".into(),
        28 => "AAAA".into(),
        16 => "TXT".into(),
        5 => "CNAME".into(),
        15 => "MX".into(),
        12 => "PTR".into(),
        33 => "SRV".into(),
        255 => "ANY".into(),
        n => n.to_string(),
    }
}

/// Parse the question of a DNS query: `(name, qtype, end of question)`.
pub(crate) fn parse_question(q: &[u8]) -> Option<(String, u16, usize)> {
    let mut off = 12usize;
    let mut labels: Vec<String> = Vec::new();
    loop {
        let len = usize::from(*q.get(off)?);
        if len == 0 {
            off += 1;
            break;
        }
        if len > 63 || labels.len() > 127 {
            return None;
        }
        let l = q.get(off + 1..off + 1 + len)?;
        labels.push(String::from_utf8_lossy(l).into_owned());
        off += 1 + len;
    }
    let qt = q.get(off..off + 2)?;
    q.get(off + 2..off + 4)?;
    Some((
        labels.join("."),
        u16::from_be_bytes([qt[0], qt[1]]),
        off + 4,
    ))
}

/// Build the answer: A gets the name's own fake address, TXT a short
/// string, everything else an empty NOERROR.
pub(crate) fn dns_answer(
    q: &[u8],
    qtype: u16,
    qend: usize,
    ip: Option<Ipv4Addr>,
) -> Option<Vec<u8>> {
    let head = q.get(..2)?;
    let question = q.get(12..qend)?;
    let mut out = Vec::with_capacity(qend + 32);
    out.extend_from_slice(head);
    let (an, answer): (u16, Vec<u8>) = match (qtype, ip) {
        (1, Some(ip)) => {
            let mut a = vec![0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4];
            a.extend_from_slice(&ip.octets());
            (1, a)
        }
        (16, _) => {
            let txt = b"v=ok";
            let mut a = vec![
                0xc0,
                0x0c,
                0,
                16,
                0,
                1,
                0,
                0,
                0,
                60,
                0,
                (txt.len() + 1) as u8,
            ];
            a.push(txt.len() as u8);
            a.extend_from_slice(txt);
            (1, a)
        }
        _ => (0, Vec::new()),
    };
    out.extend_from_slice(&[0x81, 0x80, 0, 1]);
    out.extend_from_slice(&an.to_be_bytes());
    out.extend_from_slice(&[0, 0, 0, 0]);
    out.extend_from_slice(question);
    out.extend_from_slice(&answer);
    Some(out)
}

fn serve_dns(sock: &UdpSocket, shared: &Mutex<Shared>, stop: &AtomicBool, limits: SinkLimits) {
    let mut buf = [0u8; 1500];
    while !stop.load(Ordering::SeqCst) {
        let Ok((n, peer)) = sock.recv_from(&mut buf) else {
            continue;
        };
        let q = &buf[..n];
        let Some((name, qtype, qend)) = parse_question(q) else {
            continue;
        };
        let ip = (qtype == 1).then(|| fake_ip(shared, &name));
        push(
            shared,
            limits,
            NetRecord {
                t: now(),
                proto: "dns".into(),
                dst: None,
                port: Some(53),
                name: Some(name.clone()),
                qtype: Some(qtype_name(qtype)),
                http: None,
                host: None,
                sni: None,
                bytes: n as u64,
                payload: String::new(),
                raw: name.into_bytes(),
            },
        );
        if let Some(ans) = dns_answer(q, qtype, qend, ip) {
            let _ = sock.send_to(&ans, peer);
        }
    }
}

/// The original destination of a UDP datagram, from the namespace's
/// conntrack table (`SO_ORIGINAL_DST` exists only for TCP).
fn udp_original_dst(sport: u16) -> Option<(String, u16)> {
    let text = std::fs::read_to_string("/proc/thread-self/net/nf_conntrack").ok()?;
    let want = format!("sport={sport} ");
    for line in text
        .lines()
        .filter(|l| l.contains(" udp ") && l.contains(&want))
    {
        let mut dst = None;
        let mut dport = None;
        for f in line.split_whitespace() {
            if dst.is_none() {
                dst = f.strip_prefix("dst=").map(str::to_owned);
            }
            if dport.is_none() {
                dport = f.strip_prefix("dport=").and_then(|p| p.parse().ok());
            }
        }
        if let (Some(d), Some(p)) = (dst, dport) {
            return Some((d, p));
        }
    }
    None
}

fn serve_udp(sock: &UdpSocket, shared: &Mutex<Shared>, stop: &AtomicBool, limits: SinkLimits) {
    let mut buf = vec![0u8; 65536];
    while !stop.load(Ordering::SeqCst) {
        let Ok((n, peer)) = sock.recv_from(&mut buf) else {
            continue;
        };
        let (dst, port) =
            udp_original_dst(peer.port()).map_or((None, None), |(d, p)| (Some(d), Some(p)));
        let raw = buf[..n.min(limits.max_bytes_per_flow)].to_vec();
        push(
            shared,
            limits,
            NetRecord {
                t: now(),
                proto: "udp".into(),
                dst,
                port,
                name: None,
                qtype: None,
                http: None,
                host: None,
                sni: None,
                bytes: n as u64,
                payload: String::new(),
                raw,
            },
        );
    }
}

fn serve_tcp(l: &TcpListener, shared: &Arc<Mutex<Shared>>, stop: &AtomicBool, limits: SinkLimits) {
    let active = Arc::new(AtomicUsize::new(0));
    let mut conns: Vec<JoinHandle<()>> = Vec::new();
    while !stop.load(Ordering::SeqCst) {
        match l.accept() {
            Ok((s, _)) => {
                if active.load(Ordering::SeqCst) >= 32 {
                    shared
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner)
                        .dropped += 1;
                    drop(s);
                    continue;
                }
                active.fetch_add(1, Ordering::SeqCst);
                let (sh, ac) = (shared.clone(), active.clone());
                conns.push(std::thread::spawn(move || {
                    handle_tcp(s, &sh, limits);
                    ac.fetch_sub(1, Ordering::SeqCst);
                }));
                conns.retain(|h| !h.is_finished());
            }
            Err(_) => std::thread::sleep(Duration::from_millis(10)),
        }
    }
    for c in conns {
        let _ = c.join();
    }
}

/// `SO_ORIGINAL_DST` of a redirected TCP connection.
fn original_dst(s: &TcpStream) -> Option<SocketAddrV4> {
    const SO_ORIGINAL_DST: libc::c_int = 80;
    let mut addr: libc::sockaddr_in = libc::sockaddr_in {
        sin_family: 0,
        sin_port: 0,
        sin_addr: libc::in_addr { s_addr: 0 },
        sin_zero: [0; 8],
    };
    let mut len = std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
    // SAFETY: `addr` is a valid, writable sockaddr_in and `len` holds its
    // size; the kernel writes at most `len` bytes into it.
    #[allow(unsafe_code)]
    let rc = unsafe {
        libc::getsockopt(
            s.as_raw_fd(),
            libc::SOL_IP,
            SO_ORIGINAL_DST,
            std::ptr::addr_of_mut!(addr).cast(),
            &mut len,
        )
    };
    if rc != 0 {
        return None;
    }
    Some(SocketAddrV4::new(
        Ipv4Addr::from(u32::from_be(addr.sin_addr.s_addr)),
        u16::from_be(addr.sin_port),
    ))
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn handle_tcp(mut s: TcpStream, shared: &Mutex<Shared>, limits: SinkLimits) {
    let marker = shared
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .marker
        .clone();
    let dst = original_dst(&s);
    let _ = s.set_read_timeout(Some(Duration::from_millis(300)));
    let started = Instant::now();
    let mut data: Vec<u8> = Vec::new();
    let mut total: u64 = 0;
    let mut buf = [0u8; 8192];
    let mut rec = NetRecord {
        t: now(),
        proto: "tcp".into(),
        dst: dst.map(|d| d.ip().to_string()),
        port: dst.map(|d| d.port()),
        name: None,
        qtype: None,
        http: None,
        host: None,
        sni: None,
        bytes: 0,
        payload: String::new(),
        raw: Vec::new(),
    };
    let mut answered = false;
    // Read until the peer is done (EOF), a complete HTTP request arrived,
    // or 3 s passed: enough for any script that sends and waits.
    while started.elapsed() < Duration::from_secs(3) {
        match s.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                total += n as u64;
                let room = limits.max_bytes_per_flow.saturating_sub(data.len());
                data.extend_from_slice(&buf[..n.min(room)]);
                if data.first() == Some(&0x16) {
                    rec.sni = tls_sni(&data);
                    if rec.sni.is_some() {
                        break;
                    }
                }
                if http_complete(&data) == Some(true) {
                    answer_http(&mut s, &data, &mut rec, &marker);
                    answered = true;
                    break;
                }
            }
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                if !data.is_empty() && http_complete(&data).is_some() {
                    // headers seen but the body is shorter than announced
                    answer_http(&mut s, &data, &mut rec, &marker);
                    answered = true;
                    break;
                }
                if data.is_empty() && started.elapsed() > Duration::from_secs(2) {
                    break;
                }
            }
            Err(_) => break,
        }
    }
    if !answered && rec.http.is_none() && http_complete(&data).is_some() {
        answer_http(&mut s, &data, &mut rec, &marker);
    }
    rec.bytes = total;
    rec.raw = data;
    push(shared, limits, rec);
}

/// `None`: not HTTP; `Some(false)`: HTTP, incomplete; `Some(true)`: complete.
fn http_complete(d: &[u8]) -> Option<bool> {
    const METHODS: [&[u8]; 7] = [
        b"GET ",
        b"POST ",
        b"PUT ",
        b"HEAD ",
        b"DELETE ",
        b"PATCH ",
        b"OPTIONS ",
    ];
    if !METHODS.iter().any(|m| d.starts_with(m)) {
        return None;
    }
    let Some(end) = find(d, b"\r\n\r\n") else {
        return Some(false);
    };
    let head = String::from_utf8_lossy(&d[..end]).to_ascii_lowercase();
    let cl = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse::<usize>().ok())
        .unwrap_or(0);
    Some(d.len() >= end + 4 + cl)
}

fn answer_http(s: &mut TcpStream, d: &[u8], rec: &mut NetRecord, marker: &str) {
    let text = String::from_utf8_lossy(d);
    let line = text.lines().next().unwrap_or("").to_owned();
    rec.host = text.lines().take_while(|l| !l.is_empty()).find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.eq_ignore_ascii_case("host").then(|| v.trim().to_owned())
    });
    let path = line.split_whitespace().nth(1).unwrap_or("/").to_owned();
    rec.http = Some(line);
    let path = path.split('?').next().unwrap_or("");
    let (ctype, body) = if path.ends_with(".js") {
        ("application/javascript", format!("// {marker}\n"))
    } else if path.ends_with(".json") {
        ("application/json", format!("{{\"status\":\"{marker}\"}}"))
    } else if path.ends_with(".sh") {
        ("text/x-sh", format!("#!/bin/sh\n# {marker}\n"))
    } else {
        // A comment is valid Python and shell, so a script that runs what
        // it fetched goes on (and the runtime hook sees the marker).
        ("text/plain", format!("# {marker}\n"))
    };
    let resp = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = s.write_all(resp.as_bytes());
    let _ = s.flush();
}

/// The server name of a TLS ClientHello, if `b` holds one.
pub(crate) fn tls_sni(b: &[u8]) -> Option<String> {
    let get = |i: usize| b.get(i).copied().map(usize::from);
    let get16 = |i: usize| Some((get(i)? << 8) | get(i + 1)?);
    if get(0)? != 0x16 || get(5)? != 0x01 {
        return None;
    }
    let mut p = 5 + 4 + 2 + 32;
    p += 1 + get(p)?;
    p += 2 + get16(p)?;
    p += 1 + get(p)?;
    let end = p + 2 + get16(p)?;
    p += 2;
    while p + 4 <= end {
        let et = get16(p)?;
        let el = get16(p + 2)?;
        if et == 0 {
            let n = get16(p + 7)?;
            let name = b.get(p + 9..p + 9 + n)?;
            return Some(String::from_utf8_lossy(name).into_owned());
        }
        p += 4 + el;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(name: &str, qtype: u16) -> Vec<u8> {
        let mut q = vec![0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0];
        for l in name.split('.') {
            q.push(l.len() as u8);
            q.extend_from_slice(l.as_bytes());
        }
        q.push(0);
        q.extend_from_slice(&qtype.to_be_bytes());
        q.extend_from_slice(&[0, 1]);
        q
    }

    #[test]
    fn dns_question_and_answer() {
        let q = query("exfil.example.test", 1);
        let (name, qt, end) = parse_question(&q).unwrap();
        assert_eq!((name.as_str(), qt, end), ("exfil.example.test", 1, q.len()));
        let a = dns_answer(&q, 1, end, Some(Ipv4Addr::new(198, 18, 0, 10))).unwrap();
        assert_eq!(&a[..2], &[0x12, 0x34]);
        assert_eq!(&a[a.len() - 4..], &[198, 18, 0, 10]);
        assert!(parse_question(&q[..15]).is_none());
        assert!(parse_question(&[0u8; 12]).is_none());
    }

    #[test]
    fn distinct_names_distinct_addresses() {
        let s = Mutex::new(Shared {
            next_ip: u32::from(Ipv4Addr::new(198, 18, 0, 10)),
            ..Shared::default()
        });
        let a = fake_ip(&s, "a.example.test");
        let b = fake_ip(&s, "b.example.test");
        assert_ne!(a, b);
        assert_eq!(a, fake_ip(&s, "A.example.test"));
    }

    #[test]
    fn payload_marker_varies_and_reads_like_a_comment() {
        let mut rng = crate::canary::Rng::new();
        let (a, b) = (payload_marker(&mut rng), payload_marker(&mut rng));
        assert_ne!(a, b);
        assert!(a.starts_with("cache-key: ") && a.len() == 35, "{a}");
        assert!(!a.contains("sluice") && !a.contains("sandbox"));
    }

    #[test]
    fn http_framing() {
        assert_eq!(http_complete(b"\x16\x03\x01"), None);
        assert_eq!(
            http_complete(b"POST /x HTTP/1.1\r\nContent-Length: 4\r\n\r\nab"),
            Some(false)
        );
        assert_eq!(
            http_complete(b"POST /x HTTP/1.1\r\nContent-Length: 4\r\n\r\nabcd"),
            Some(true)
        );
    }

    /// A minimal TLS 1.2 ClientHello carrying one server_name extension.
    fn client_hello(name: &str) -> Vec<u8> {
        let n = name.as_bytes();
        let mut sni = Vec::new();
        sni.extend_from_slice(&((n.len() + 3) as u16).to_be_bytes()); // list length
        sni.push(0); // host_name
        sni.extend_from_slice(&(n.len() as u16).to_be_bytes());
        sni.extend_from_slice(n);
        let mut ext = vec![0, 0]; // server_name
        ext.extend_from_slice(&(sni.len() as u16).to_be_bytes());
        ext.extend_from_slice(&sni);
        let mut body = vec![3, 3];
        body.extend_from_slice(&[7u8; 32]); // random
        body.push(0); // session id
        body.extend_from_slice(&[0, 2, 0x13, 0x01]); // one cipher suite
        body.extend_from_slice(&[1, 0]); // compression: null
        body.extend_from_slice(&(ext.len() as u16).to_be_bytes());
        body.extend_from_slice(&ext);
        let mut hs = vec![1, 0];
        hs.extend_from_slice(&(body.len() as u16).to_be_bytes());
        hs.extend_from_slice(&body);
        let mut rec = vec![0x16, 3, 1];
        rec.extend_from_slice(&(hs.len() as u16).to_be_bytes());
        rec.extend_from_slice(&hs);
        rec
    }

    #[test]
    fn sni_of_a_client_hello() {
        let h = client_hello("collect.example.test");
        assert_eq!(tls_sni(&h).as_deref(), Some("collect.example.test"));
        // every truncation is handled without panicking
        for i in 0..h.len() {
            let _ = tls_sni(&h[..i]);
        }
    }

    #[test]
    fn sni_of_truncated_hello_is_none() {
        assert_eq!(tls_sni(&[0x16, 3, 1, 0, 5, 1]), None);
        assert_eq!(tls_sni(b"GET / HTTP/1.1"), None);
    }
}
