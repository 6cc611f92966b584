//! `sluice serve` and `sluice admin` as processes: the built binary serves
//! from a fake upstream on 127.0.0.1, and admin commands act on the running
//! server through the shared SQLite store.
#![allow(missing_docs)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_sluice");
const FILE: &[u8] = b"not really an archive, but bytes to serve unchanged\n";

fn sha256_hex(b: &[u8]) -> String {
    // Minimal sha256 via the `sha256sum` tool keeps this test free of extra
    // dependencies; fall back to python3.
    let mut c = Command::new("sha256sum")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("sha256sum");
    c.stdin.take().unwrap().write_all(b).unwrap();
    let out = c.wait_with_output().unwrap();
    String::from_utf8(out.stdout).unwrap()[..64].to_owned()
}

/// A one-file PyPI upstream: `/simple/demo/` (PEP 691 JSON) and the file.
fn fake_upstream() -> SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    let sha = sha256_hex(FILE);
    std::thread::spawn(move || {
        for s in l.incoming().flatten() {
            let sha = sha.clone();
            std::thread::spawn(move || {
                let mut r = BufReader::new(s.try_clone().unwrap());
                let mut line = String::new();
                r.read_line(&mut line).unwrap_or(0);
                loop {
                    let mut h = String::new();
                    if r.read_line(&mut h).unwrap_or(0) == 0 || h == "\r\n" {
                        break;
                    }
                }
                let path = line.split_whitespace().nth(1).unwrap_or("/").to_owned();
                let (status, ct, body): (&str, &str, Vec<u8>) = match path.as_str() {
                    "/simple/demo/" => (
                        "200 OK",
                        "application/vnd.pypi.simple.v1+json",
                        format!(
                            r#"{{"meta":{{"api-version":"1.1"}},"name":"demo","versions":["1.0"],"files":[{{"filename":"demo-1.0.tar.gz","url":"http://{addr}/f/demo-1.0.tar.gz","hashes":{{"sha256":"{sha}"}},"size":{},"upload-time":"2020-01-01T00:00:00Z"}}]}}"#,
                            FILE.len()
                        )
                        .into_bytes(),
                    ),
                    "/f/demo-1.0.tar.gz" => ("200 OK", "application/octet-stream", FILE.to_vec()),
                    _ => ("404 Not Found", "text/plain", b"no".to_vec()),
                };
                let mut s = s;
                let _ = write!(
                    s,
                    "HTTP/1.1 {status}\r\nContent-Type: {ct}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                let _ = s.write_all(&body);
            });
        }
    });
    addr
}

fn get(addr: SocketAddr, path: &str, auth: Option<&str>) -> (u16, Vec<u8>) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let auth = auth
        .map(|a| format!("Authorization: Bearer {a}\r\n"))
        .unwrap_or_default();
    write!(s, "GET {path} HTTP/1.1\r\nHost: {addr}\r\nAccept: application/vnd.pypi.simple.v1+json\r\n{auth}Connection: close\r\n\r\n").unwrap();
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).unwrap();
    let split = buf.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = String::from_utf8_lossy(&buf[..split]).into_owned();
    let status = head.split_whitespace().nth(1).unwrap().parse().unwrap();
    (status, buf[split + 4..].to_vec())
}

struct Server(Child);
impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn admin(data: &std::path::Path, args: &[&str]) -> (bool, String) {
    let o = Command::new(BIN)
        .arg("admin")
        .arg("--data-dir")
        .arg(data)
        .args(args)
        .output()
        .unwrap();
    (
        o.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        ),
    )
}

#[test]
fn serve_and_admin_processes() {
    if Command::new("sha256sum").arg("--version").output().is_err() {
        eprintln!("skipping: sha256sum missing");
        return;
    }
    let up = fake_upstream();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let cfg = dir.path().join("sluice.toml");
    // The config names a wrong upstream; the flag overrides it. The bytes
    // are not an archive, so let scan errors through for this test.
    std::fs::write(
        &cfg,
        "listen = \"127.0.0.1:1\"\n[upstream]\npypi = \"http://127.0.0.1:9/simple/\"\nnpm = \"http://127.0.0.1:9/\"\n[policy]\nscan_error = \"allow\"\n[[clients]]\nname = \"build-bot\"\ntoken = \"bot-token\"\n",
    )
    .unwrap();
    let mut child = Command::new(BIN)
        .args(["serve", "--config"])
        .arg(&cfg)
        .args(["--listen", "127.0.0.1:0", "--data-dir"])
        .arg(&data)
        .args(["--pypi-upstream", &format!("http://{up}/simple/")])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut err = BufReader::new(child.stderr.take().unwrap());
    let server = Server(child);
    let mut line = String::new();
    err.read_line(&mut line).unwrap();
    let addr: SocketAddr = line
        .split("http://")
        .nth(1)
        .and_then(|s| s.split('/').next())
        .unwrap_or_else(|| panic!("no address in {line:?}"))
        .parse()
        .unwrap();
    std::thread::spawn(move || for _ in err.lines() {});

    let (st, body) = get(addr, "/simple/demo/", None);
    assert_eq!(st, 200, "{}", String::from_utf8_lossy(&body));
    assert!(String::from_utf8_lossy(&body).contains("/files/pypi/demo/demo-1.0.tar.gz"));
    let (st, body) = get(addr, "/files/pypi/demo/demo-1.0.tar.gz", Some("bot-token"));
    assert_eq!(st, 200);
    assert_eq!(body, FILE);

    // Block while the server runs: the next request is refused.
    let (ok, out) = admin(
        &data,
        &[
            "block",
            "pypi:demo==1.0",
            "--reason",
            "incident 9",
            "--by",
            "carol",
        ],
    );
    assert!(ok, "{out}");
    let (st, body) = get(addr, "/files/pypi/demo/demo-1.0.tar.gz", Some("bot-token"));
    assert_eq!(st, 403);
    assert!(String::from_utf8_lossy(&body).contains("incident 9"));
    let (_, body) = get(addr, "/simple/demo/", None);
    assert!(!String::from_utf8_lossy(&body).contains("demo-1.0.tar.gz"));

    let (ok, out) = admin(&data, &["who-pulled", "pypi:demo==1.0"]);
    assert!(ok, "{out}");
    assert!(out.contains("build-bot"), "{out}");
    assert!(out.contains("requests 2 (served 1)"), "{out}");
    let (ok, out) = admin(&data, &["list"]);
    assert!(
        ok && out.contains("incident 9") && out.contains("carol"),
        "{out}"
    );

    let (ok, _) = admin(&data, &["unblock", "pypi:demo==1.0", "--reason", "fixed"]);
    assert!(ok);
    assert_eq!(get(addr, "/files/pypi/demo/demo-1.0.tar.gz", None).0, 200);
    let (ok, out) = admin(&data, &["who-pulled", "pypi:demo", "--json"]);
    assert!(ok);
    let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(v["clients"].as_array().unwrap().len(), 2);

    // Bad input to admin is a clear error.
    let (ok, out) = admin(&data, &["block", "pypi:../x", "--reason", "r"]);
    assert!(!ok && out.contains("invalid package name"), "{out}");
    drop(server);
}
