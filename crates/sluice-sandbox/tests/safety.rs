//! The sandbox's fences, tested from inside: every connection, to public or
//! private addresses, lands on the sink; the namespace the sandbox was
//! started from sees no packet; nothing is written outside the sandbox.

mod common;

use common::*;
use sluice_sandbox::{SandboxOptions, run};

fn lo_packets() -> (u64, u64) {
    let text = std::fs::read_to_string("/proc/thread-self/net/dev").unwrap();
    for l in text.lines().skip(2) {
        let Some((name, rest)) = l.split_once(':') else {
            continue;
        };
        if name.trim() == "lo" {
            let f: Vec<u64> = rest
                .split_whitespace()
                .filter_map(|x| x.parse().ok())
                .collect();
            return (f[1], f[9]); // rx packets, tx packets
        }
    }
    (0, 0)
}

fn ip(args: &[&str]) {
    let ok = std::process::Command::new("ip")
        .args(args)
        .status()
        .is_ok_and(|s| s.success());
    assert!(ok, "ip {args:?}");
}

#[test]
fn no_packet_leaves_and_nothing_is_written_outside() {
    if !available() {
        return;
    }
    // An outer namespace of our own, wired so that anything leaking into
    // it would be delivered (and counted) on its lo.
    nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWNET).unwrap();
    ip(&["link", "set", "lo", "up"]);
    ip(&["addr", "add", "10.77.0.1/32", "dev", "lo"]);
    ip(&["route", "add", "default", "dev", "lo", "src", "10.77.0.1"]);
    let before = lo_packets();

    let dir = tempfile::tempdir().unwrap();
    let token = format!("sluice-escape-{}", std::process::id());
    let host_dir = dir.path().display().to_string();
    let body = format!(
        r#"
for host, port in [("8.8.8.8", 53), ("1.1.1.1", 443), ("10.0.0.1", 22), ("192.168.1.1", 80),
                   ("169.254.169.254", 80), ("172.16.0.1", 8080), ("175.24.100.2", 8000)]:
    try:
        s = socket.create_connection((host, port), timeout=3)
        s.sendall(("probe-%s" % host).encode())
        s.close()
    except OSError as e:
        print("tcp", host, e)
try:
    import ssl
    ssl.create_default_context().wrap_socket(
        socket.create_connection(("tls.example.test", 443), timeout=3),
        server_hostname="tls.example.test")
except (OSError, ValueError) as e:
    print("tls", e)
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.sendto(b"probe-udp", ("9.9.9.9", 123))
try:
    socket.create_connection(("2001:db8::1", 80), timeout=2)
    print("ipv6 connected")
except OSError as e:
    print("ipv6", e)
try:
    socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    print("raw socket allowed")
except OSError as e:
    print("raw", e)
for d in ["/tmp", "/var/tmp", "/etc", "/root", "/dev/shm", "/usr/local", {host_dir:?}]:
    try:
        with open(os.path.join(d, {token:?}), "w") as f:
            f.write("x")
        print("wrote", d)
    except OSError as e:
        print("write", d, e)
time.sleep(0.5)
"#
    );
    let pkg = inline_sdist(dir.path(), "netprobe", &body);
    let root = tempfile::tempdir().unwrap();
    let opts = SandboxOptions {
        work_root: Some(root.path().to_owned()),
        ..SandboxOptions::default()
    };
    let r = run(&pkg, &opts).unwrap();
    show(&r);
    // Every TCP destination reached the sink with its original address.
    for (host, port) in [
        ("8.8.8.8", 53),
        ("1.1.1.1", 443),
        ("10.0.0.1", 22),
        ("192.168.1.1", 80),
        ("169.254.169.254", 80),
        ("172.16.0.1", 8080),
        ("175.24.100.2", 8000),
    ] {
        assert!(
            r.network.iter().any(|n| n.proto == "tcp"
                && n.dst.as_deref() == Some(host)
                && n.port == Some(port)
                && n.payload.contains(&format!("probe-{host}"))),
            "{host}:{port} not caught by the sink"
        );
    }
    assert!(
        r.network
            .iter()
            .any(|n| n.proto == "udp" && n.payload.contains("probe-udp")),
        "UDP datagram not caught"
    );
    assert!(
        r.network
            .iter()
            .any(|n| n.sni.as_deref() == Some("tls.example.test")
                && n.name.as_deref() == Some("tls.example.test")),
        "TLS SNI not recorded"
    );
    let out = &r.phases[0].stdout_tail;
    assert!(!out.contains("ipv6 connected"), "{out}");
    assert!(!out.contains("raw socket allowed"), "{out}");
    assert!(
        !out.contains("wrote /etc") && !out.contains("wrote /usr/local"),
        "{out}"
    );
    // Nothing appeared on the host.
    for d in [
        "/tmp",
        "/var/tmp",
        "/etc",
        "/root",
        "/dev/shm",
        "/usr/local",
        host_dir.as_str(),
    ] {
        let p = std::path::Path::new(d).join(&token);
        assert!(!p.exists(), "{} written on the host", p.display());
    }
    // The namespace we started from saw no packet at all.
    let after = lo_packets();
    assert_eq!(before, after, "packets reached the outer namespace");
    // And the sandbox folder is gone: nothing left under the work root.
    let left: Vec<_> = std::fs::read_dir(root.path())
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    assert!(left.is_empty(), "left behind: {left:?}");
    assert!(r.canaries.len() >= 10);
}
