//! Downloads from a fake upstream on 127.0.0.1.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::Arc;

use base64::Engine as _;
use sha2::Digest as _;
use sluice_model::{PackageSpec, Sha256};
use sluice_upstream::{FetchError, Upstreams, fetch_blocking};
use url::Url;

/// Serve `routes` (path → body) forever on a fresh loopback port.
fn serve(routes: Vec<(String, Vec<u8>)>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let routes = Arc::new(routes);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let routes = Arc::clone(&routes);
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut line = String::new();
                reader.read_line(&mut line).unwrap();
                let path = line.split_whitespace().nth(1).unwrap_or("/").to_owned();
                loop {
                    let mut h = String::new();
                    if reader.read_line(&mut h).unwrap_or(0) == 0 || h == "\r\n" {
                        break;
                    }
                }
                let found = routes.iter().find(|(p, _)| *p == path);
                let (status, body): (&str, &[u8]) = match found {
                    Some((_, b)) => ("200 OK", b),
                    None => ("404 Not Found", b"nope"),
                };
                let _ = write!(
                    stream,
                    "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                let _ = stream.write_all(body);
            });
        }
    });
    format!("http://{addr}/")
}

#[test]
fn pypi_and_npm_downloads_are_verified() {
    let sdist = b"sdist bytes".to_vec();
    let good = Sha256::of(&sdist).to_hex();
    let tgz = b"tarball bytes".to_vec();
    let integrity = format!(
        "sha512-{}",
        base64::engine::general_purpose::STANDARD.encode(sha2::Sha512::digest(&tgz))
    );
    let page = format!(
        r#"<a href="/files/demo-1.0.tar.gz#sha256={good}">demo-1.0.tar.gz</a>
<a href="/files/demo-2.0.tar.gz#sha256={}">demo-2.0.tar.gz</a>"#,
        "0".repeat(64)
    );
    let packument = format!(
        r#"{{"name":"@corp/demo","dist-tags":{{"latest":"1.2.3"}},"versions":{{"1.2.3":{{"dist":{{"tarball":"/@corp/demo/-/demo-1.2.3.tgz","integrity":"{integrity}"}}}}}}}}"#
    );
    let base = serve(vec![
        ("/simple/demo/".into(), page.into_bytes()),
        ("/files/demo-1.0.tar.gz".into(), sdist.clone()),
        ("/files/demo-2.0.tar.gz".into(), b"tampered".to_vec()),
        ("/npm/@corp%2fdemo".into(), packument.into_bytes()),
        ("/@corp/demo/-/demo-1.2.3.tgz".into(), tgz.clone()),
    ]);
    let up = Upstreams {
        pypi_simple: Some(Url::parse(&format!("{base}simple/")).unwrap()),
        npm_registry: Some(Url::parse(&format!("{base}npm/")).unwrap()),
    };

    let spec: PackageSpec = "pypi:Demo==1.0".parse().unwrap();
    let d = fetch_blocking(&spec, &up).unwrap();
    assert_eq!(d.filename, "demo-1.0.tar.gz");
    assert_eq!(d.bytes, sdist);

    let spec: PackageSpec = "pypi:demo==2.0".parse().unwrap();
    assert!(matches!(
        fetch_blocking(&spec, &up),
        Err(FetchError::DigestMismatch { .. })
    ));

    let spec: PackageSpec = "pypi:demo==9.9".parse().unwrap();
    assert!(matches!(
        fetch_blocking(&spec, &up),
        Err(FetchError::NotFound(_))
    ));

    let spec: PackageSpec = "pypi:absent".parse().unwrap();
    assert!(matches!(
        fetch_blocking(&spec, &up),
        Err(FetchError::Status { status: 404, .. })
    ));

    let spec: PackageSpec = "npm:@corp/demo".parse().unwrap();
    let d = fetch_blocking(&spec, &up).unwrap();
    assert_eq!(d.filename, "demo-1.2.3.tgz");
    assert_eq!(d.version, "1.2.3");
    assert_eq!(d.bytes, tgz);

    let none = Upstreams::default();
    assert!(matches!(
        fetch_blocking(&spec, &none),
        Err(FetchError::NoUpstream(_))
    ));
}
