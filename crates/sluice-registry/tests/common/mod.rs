//! Test harness: a fake upstream (PyPI simple JSON/HTML + npm registry) on
//! 127.0.0.1, built from packages made in memory, and a gate in front of it.
#![allow(dead_code, missing_docs, clippy::field_reassign_with_default)]

use std::collections::BTreeMap;
use std::io::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use serde_json::json;
use sha2::Digest as _;
use sluice_model::VerdictLevel;
use sluice_registry::{AppState, Config, StaticScanner};

pub struct PyDist {
    pub project: String,
    pub version: String,
    pub filename: String,
    pub bytes: Vec<u8>,
    pub metadata: Vec<u8>,
    pub yanked: Option<String>,
}

pub struct NpmDist {
    pub name: String,
    pub version: String,
    pub filename: String,
    pub bytes: Vec<u8>,
    pub deps: BTreeMap<String, String>,
}

#[derive(Default)]
pub struct Upstream {
    pub py: Vec<PyDist>,
    pub npm: Vec<NpmDist>,
    pub down: AtomicBool,
    pub tamper: AtomicBool,
    pub truncate: AtomicBool,
    pub hits: AtomicUsize,
    /// File names the upstream no longer lists (a takedown).
    pub removed: std::sync::Mutex<Vec<String>>,
}

pub fn wheel(project: &str, version: &str) -> PyDist {
    let module = project.replace('-', "_");
    let dist = format!("{module}-{version}.dist-info");
    let metadata = format!(
        "Metadata-Version: 2.1\nName: {project}\nVersion: {version}\nSummary: test package\n\n"
    );
    let mut buf = std::io::Cursor::new(Vec::new());
    {
        let mut z = zip::ZipWriter::new(&mut buf);
        let opt = zip::write::SimpleFileOptions::default();
        let files = [
            (format!("{module}/__init__.py"), format!("VERSION = {version:?}\n")),
            (format!("{dist}/METADATA"), metadata.clone()),
            (format!("{dist}/WHEEL"), "Wheel-Version: 1.0\nGenerator: sluice-test\nRoot-Is-Purelib: true\nTag: py3-none-any\n\n".to_owned()),
        ];
        let mut record = String::new();
        for (p, c) in &files {
            z.start_file(p.as_str(), opt).unwrap();
            z.write_all(c.as_bytes()).unwrap();
            let h = base64::engine::general_purpose::URL_SAFE_NO_PAD
                .encode(sha2::Sha256::digest(c.as_bytes()));
            record.push_str(&format!("{p},sha256={h},{}\n", c.len()));
        }
        record.push_str(&format!("{dist}/RECORD,,\n"));
        z.start_file(format!("{dist}/RECORD"), opt).unwrap();
        z.write_all(record.as_bytes()).unwrap();
        z.finish().unwrap();
    }
    PyDist {
        project: project.to_owned(),
        version: version.to_owned(),
        filename: format!("{module}-{version}-py3-none-any.whl"),
        bytes: buf.into_inner(),
        metadata: metadata.into_bytes(),
        yanked: None,
    }
}

/// An sdist `project-version.tar.gz` with PKG-INFO and the given files
/// (paths under the `project-version/` folder). Never built or run here.
pub fn sdist(project: &str, version: &str, files: &[(&str, &str)]) -> PyDist {
    let top = format!("{}-{version}", project.replace('-', "_"));
    let metadata = format!(
        "Metadata-Version: 2.1\nName: {project}\nVersion: {version}\nSummary: test package\n\n"
    );
    let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    let mut t = tar::Builder::new(gz);
    let mut all = vec![(format!("{top}/PKG-INFO"), metadata.clone())];
    all.extend(
        files
            .iter()
            .map(|(p, c)| (format!("{top}/{p}"), (*c).to_owned())),
    );
    for (p, c) in &all {
        let mut h = tar::Header::new_gnu();
        h.set_size(c.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        t.append_data(&mut h, p, c.as_bytes()).unwrap();
    }
    PyDist {
        project: project.to_owned(),
        version: version.to_owned(),
        filename: format!("{top}.tar.gz"),
        bytes: t.into_inner().unwrap().finish().unwrap(),
        metadata: metadata.into_bytes(),
        yanked: None,
    }
}

/// An npm tarball with a package.json (with `scripts`) and chosen files.
pub fn tarball_with(
    name: &str,
    version: &str,
    scripts: serde_json::Value,
    files: &[(&str, &str)],
) -> NpmDist {
    let pj = json!({"name": name, "version": version, "main": "index.js", "scripts": scripts})
        .to_string();
    let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    let mut t = tar::Builder::new(gz);
    let mut all = vec![("package/package.json".to_owned(), pj)];
    all.extend(
        files
            .iter()
            .map(|(p, c)| (format!("package/{p}"), (*c).to_owned())),
    );
    for (p, c) in &all {
        let mut h = tar::Header::new_gnu();
        h.set_size(c.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        t.append_data(&mut h, p, c.as_bytes()).unwrap();
    }
    let bytes = t.into_inner().unwrap().finish().unwrap();
    let unscoped = name.rsplit('/').next().unwrap();
    NpmDist {
        name: name.to_owned(),
        version: version.to_owned(),
        filename: format!("{unscoped}-{version}.tgz"),
        bytes,
        deps: BTreeMap::new(),
    }
}

pub fn tarball(name: &str, version: &str, deps: &[(&str, &str)]) -> NpmDist {
    let deps: BTreeMap<String, String> = deps
        .iter()
        .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
        .collect();
    let pj = json!({"name": name, "version": version, "main": "index.js", "dependencies": deps})
        .to_string();
    let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    let mut t = tar::Builder::new(gz);
    for (p, c) in [
        ("package/package.json", pj.as_str()),
        ("package/index.js", "module.exports = 42;\n"),
    ] {
        let mut h = tar::Header::new_gnu();
        h.set_size(c.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        t.append_data(&mut h, p, c.as_bytes()).unwrap();
    }
    let bytes = t.into_inner().unwrap().finish().unwrap();
    let unscoped = name.rsplit('/').next().unwrap();
    NpmDist {
        name: name.to_owned(),
        version: version.to_owned(),
        filename: format!("{unscoped}-{version}.tgz"),
        bytes,
        deps,
    }
}

fn hex256(b: &[u8]) -> String {
    hex::encode(sha2::Sha256::digest(b))
}

impl Upstream {
    fn gone(&self, filename: &str) -> bool {
        self.removed.lock().unwrap().iter().any(|f| f == filename)
    }

    fn project_json(&self, base: &str, project: &str) -> Option<String> {
        let files: Vec<_> = self
            .py
            .iter()
            .filter(|d| d.project == project && !self.gone(&d.filename))
            .map(|d| {
                json!({
                    "filename": d.filename,
                    "url": format!("{base}/files/{}", d.filename),
                    "hashes": {"sha256": hex256(&d.bytes)},
                    "requires-python": ">=3.7",
                    "core-metadata": {"sha256": hex256(&d.metadata)},
                    "yanked": d.yanked.clone().map_or(json!(false), |r| json!(r)),
                    "size": d.bytes.len(),
                    "upload-time": "2020-01-01T00:00:00.000000Z",
                })
            })
            .collect();
        if files.is_empty() {
            return None;
        }
        let versions: Vec<_> = self
            .py
            .iter()
            .filter(|d| d.project == project)
            .map(|d| d.version.clone())
            .collect();
        Some(json!({"meta": {"api-version": "1.1"}, "name": project, "versions": versions, "files": files}).to_string())
    }

    fn project_html(&self, project: &str) -> Option<String> {
        let mut s = String::from("<!DOCTYPE html><html><body>\n");
        let mut any = false;
        for d in self
            .py
            .iter()
            .filter(|d| d.project == project && !self.gone(&d.filename))
        {
            any = true;
            // Relative URLs, as many indexes serve them.
            s.push_str(&format!(
                "<a href=\"../../files/{}#sha256={}\" data-requires-python=\"&gt;=3.7\" data-dist-info-metadata=\"sha256={}\">{}</a><br/>\n",
                d.filename,
                hex256(&d.bytes),
                hex256(&d.metadata),
                d.filename
            ));
        }
        s.push_str("</body></html>");
        any.then_some(s)
    }

    fn packument(&self, base: &str, name: &str) -> Option<String> {
        let ds: Vec<&NpmDist> = self
            .npm
            .iter()
            .filter(|d| d.name == name && !self.gone(&d.filename))
            .collect();
        if ds.is_empty() {
            return None;
        }
        let mut versions = serde_json::Map::new();
        let mut time = serde_json::Map::new();
        time.insert("created".into(), json!("2020-01-01T00:00:00.000Z"));
        time.insert("modified".into(), json!("2020-01-02T00:00:00.000Z"));
        for d in &ds {
            let integrity = format!(
                "sha512-{}",
                base64::engine::general_purpose::STANDARD.encode(sha2::Sha512::digest(&d.bytes))
            );
            let shasum = hex::encode(sha1::Sha1::digest(&d.bytes));
            versions.insert(
                d.version.clone(),
                json!({"name": d.name, "version": d.version, "dependencies": d.deps,
                       "dist": {"tarball": format!("{base}/npmreg/{}/-/{}", d.name, d.filename), "integrity": integrity, "shasum": shasum}}),
            );
            time.insert(d.version.clone(), json!("2020-01-01T12:00:00.000Z"));
        }
        let latest = ds.last().map(|d| d.version.clone()).unwrap();
        Some(json!({"_id": name, "name": name, "dist-tags": {"latest": latest}, "versions": versions, "time": time}).to_string())
    }
}

async fn upstream_handler(State(up): State<Arc<Upstream>>, req: Request) -> Response {
    up.hits.fetch_add(1, Ordering::SeqCst);
    if up.down.load(Ordering::SeqCst) {
        return (StatusCode::SERVICE_UNAVAILABLE, "down").into_response();
    }
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let base = format!("http://{host}");
    let path = req.uri().path().to_owned();
    let accept = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("")
        .to_owned();
    if let Some(p) = path.strip_prefix("/simple/") {
        let project = p.trim_end_matches('/');
        if project == "badjson" {
            let ct = "application/vnd.pypi.simple.v1+json";
            return ([(header::CONTENT_TYPE, ct)], "{\"files\": [{\"url\": 5").into_response();
        }
        if project.starts_with("html") || !accept.contains("json") {
            return match up.project_html(project) {
                Some(b) => ([(header::CONTENT_TYPE, "text/html")], b).into_response(),
                None => StatusCode::NOT_FOUND.into_response(),
            };
        }
        return match up.project_json(&base, project) {
            Some(b) => (
                [(header::CONTENT_TYPE, "application/vnd.pypi.simple.v1+json")],
                b,
            )
                .into_response(),
            None => StatusCode::NOT_FOUND.into_response(),
        };
    }
    if let Some(f) = path.strip_prefix("/files/") {
        let (f, meta) = match f.strip_suffix(".metadata") {
            Some(f) => (f, true),
            None => (f, false),
        };
        let Some(d) = up.py.iter().find(|d| d.filename == f) else {
            return StatusCode::NOT_FOUND.into_response();
        };
        let mut bytes = if meta {
            d.metadata.clone()
        } else {
            d.bytes.clone()
        };
        return serve_bytes(&up, &mut bytes);
    }
    if let Some(rest) = path.strip_prefix("/npmreg/") {
        let rest = rest.replace("%2f", "/").replace("%2F", "/");
        if let Some((name, file)) = rest.split_once("/-/") {
            let Some(d) = up.npm.iter().find(|d| d.name == name && d.filename == file) else {
                return StatusCode::NOT_FOUND.into_response();
            };
            let mut bytes = d.bytes.clone();
            return serve_bytes(&up, &mut bytes);
        }
        return match up.packument(&base, &rest) {
            Some(b) => ([(header::CONTENT_TYPE, "application/json")], b).into_response(),
            None => (
                StatusCode::NOT_FOUND,
                [(header::CONTENT_TYPE, "application/json")],
                "{\"error\":\"Not found\"}",
            )
                .into_response(),
        };
    }
    StatusCode::NOT_FOUND.into_response()
}

fn serve_bytes(up: &Upstream, bytes: &mut [u8]) -> Response {
    if up.tamper.load(Ordering::SeqCst)
        && let Some(b) = bytes.last_mut()
    {
        *b ^= 0xff;
    }
    if up.truncate.load(Ordering::SeqCst) {
        // Promise the full length, send half: the client sees a short body.
        let full = bytes.len();
        let half = bytes[..full / 2].to_vec();
        let stream = futures_util::stream::iter(vec![
            Ok::<_, std::io::Error>(bytes::Bytes::from(half)),
            Err(std::io::Error::other("cut")),
        ]);
        let mut r = Response::new(Body::from_stream(stream));
        r.headers_mut().insert(header::CONTENT_LENGTH, full.into());
        return r;
    }
    (
        [(header::CONTENT_TYPE, "application/octet-stream")],
        bytes.to_vec(),
    )
        .into_response()
}

pub struct Harness {
    pub upstream: Arc<Upstream>,
    pub upstream_addr: SocketAddr,
    pub gate: Arc<AppState>,
    pub addr: SocketAddr,
    pub dir: tempfile::TempDir,
}

impl Harness {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }
    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }
}

pub fn default_upstream() -> Upstream {
    let mut yanked = wheel("yankpkg", "1.0");
    yanked.yanked = Some("broken build".into());
    Upstream {
        py: vec![
            wheel("cleanpkg", "1.0"),
            wheel("evilpkg", "0.9"),
            wheel("evilpkg", "1.0"),
            wheel("latepkg", "1.0"),
            wheel("htmlpkg", "2.0"),
            wheel("yankpkg", "0.5"),
            yanked,
            wheel("acme-internal", "1.0"),
            wheel("suspkg", "1.0"),
        ],
        npm: vec![
            tarball("@demo/util", "1.0.0", &[]),
            tarball("cleannpm", "1.0.0", &[("@demo/util", "^1.0.0")]),
            tarball("evilnpm", "0.9.0", &[]),
            tarball("evilnpm", "1.0.0", &[]),
            tarball("latenpm", "1.0.0", &[]),
        ],
        ..Upstream::default()
    }
}

/// Start the fake upstream and a gate in front of it. The scanner calls
/// anything named `evil*-1.0*` malicious and `sus*` suspicious.
pub async fn start(up: Upstream, tweak: impl FnOnce(&mut Config)) -> Harness {
    let scanner = StaticScanner(vec![
        ("evilpkg-1.0".into(), VerdictLevel::Malicious),
        ("evilnpm-1.0".into(), VerdictLevel::Malicious),
        ("sus".into(), VerdictLevel::Suspicious),
    ]);
    start_with(up, tweak, Some(Arc::new(scanner))).await
}

/// Like [`start`], with a chosen scanner (`None` = the real analyzer).
pub async fn start_with(
    up: Upstream,
    tweak: impl FnOnce(&mut Config),
    scanner: Option<Arc<dyn sluice_registry::Scanner>>,
) -> Harness {
    start_full(up, tweak, scanner, None).await
}

/// Like [`start_with`], with a chosen second opinion (`None` = the real
/// sandbox, which only runs when `[sandbox] run` asks for it).
pub async fn start_full(
    up: Upstream,
    tweak: impl FnOnce(&mut Config),
    scanner: Option<Arc<dyn sluice_registry::Scanner>>,
    opinion: Option<Arc<dyn sluice_registry::SecondOpinion>>,
) -> Harness {
    let upstream = Arc::new(up);
    let ul = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let upstream_addr = ul.local_addr().unwrap();
    let app = axum::Router::new()
        .fallback(upstream_handler)
        .with_state(Arc::clone(&upstream));
    tokio::spawn(async move { axum::serve(ul, app).await.unwrap() });

    let dir = tempfile::tempdir().unwrap();
    let (gate, addr) = start_gate(
        upstream_addr,
        dir.path().join("data"),
        tweak,
        scanner,
        opinion,
    )
    .await;
    Harness {
        upstream,
        upstream_addr,
        gate,
        addr,
        dir,
    }
}

/// A gate in front of the upstream at `upstream_addr`, on `data_dir`
/// (reusing a harness's data dir is a restart).
pub async fn start_gate(
    upstream_addr: SocketAddr,
    data_dir: PathBuf,
    tweak: impl FnOnce(&mut Config),
    scanner: Option<Arc<dyn sluice_registry::Scanner>>,
    opinion: Option<Arc<dyn sluice_registry::SecondOpinion>>,
) -> (Arc<AppState>, SocketAddr) {
    let mut cfg = Config::default();
    cfg.data_dir = data_dir;
    cfg.upstream.pypi = Some(format!("http://{upstream_addr}/simple/"));
    cfg.upstream.npm = Some(format!("http://{upstream_addr}/npmreg/"));
    cfg.upstream.metadata_ttl_secs = 0;
    cfg.upstream.metadata_timeout_secs = 5;
    cfg.client_header_timeout_secs = 2;
    cfg.policy.private = vec!["pypi:acme-*".into(), "npm:@acme/*".into()];
    cfg.clients = vec![
        sluice_registry::config::ClientToken {
            name: "ci-pipeline".into(),
            token: "ci-secret".into(),
        },
        sluice_registry::config::ClientToken {
            name: "web-app".into(),
            token: "web-secret".into(),
        },
    ];
    cfg.admin.tokens = vec![sluice_registry::config::ClientToken {
        name: "secops".into(),
        token: "admin-secret".into(),
    }];
    tweak(&mut cfg);
    let gate = AppState::with_second_opinion(cfg, scanner, opinion).unwrap();
    let gl = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = gl.local_addr().unwrap();
    let g = Arc::clone(&gate);
    tokio::spawn(async move { sluice_registry::serve(g, gl).await.unwrap() });
    (gate, addr)
}

pub fn have(cmd: &str, args: &[&str]) -> bool {
    std::process::Command::new(cmd)
        .args(args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}
