//! The axum server: routing, upstream fetching, the artifact gate, audit.

// Handlers short-circuit with a finished error response; boxing it would
// only add noise on paths that are not hot.
#![allow(clippy::result_large_err)]

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use bytes::Bytes;
use serde_json::{Value, json};
use sha2::Digest as _;
use sluice_model::{Ecosystem, PackageName, PackageSpec, Sha256, VerdictLevel};
use sluice_store::{
    Action, ArtifactRow, BlobStore, Download, FileRow, JobState, SandboxJob, Store, StoreError,
};

use crate::config::{Config, OnVerdict};
use crate::policy::{Gate, PackageFacts, Policy, RefuseKind};
use crate::second::{SandboxOpinion, SecondOpinion};
use crate::{RegistryError, npm, pypi};

/// What a scanner says about one artifact.
#[derive(Clone, Debug)]
pub struct Judged {
    /// Verdict level.
    pub level: VerdictLevel,
    /// Verdict score.
    pub score: u32,
    /// The full report as JSON (evidence).
    pub report_json: String,
}

/// Judges artifact bytes. The default runs `sluice-archive` and
/// `sluice-analyze`; tests substitute a fixed answer.
pub trait Scanner: Send + Sync + 'static {
    /// Judge one artifact.
    ///
    /// # Errors
    /// The artifact could not be read or analysed.
    fn scan(
        &self,
        eco: Ecosystem,
        name: &str,
        version: &str,
        filename: &str,
        bytes: &[u8],
    ) -> Result<Judged, String>;
}

/// The real scanner: bounded archive reading, static analysis, and name
/// checks (typosquats of popular packages) by `sluice-names`.
#[derive(Debug, Default)]
pub struct AnalyzeScanner;

impl Scanner for AnalyzeScanner {
    fn scan(
        &self,
        eco: Ecosystem,
        name: &str,
        version: &str,
        filename: &str,
        bytes: &[u8],
    ) -> Result<Judged, String> {
        let tree = sluice_archive::read_bytes(filename, bytes, &sluice_archive::Limits::default())
            .map_err(|e| e.to_string())?;
        let target = match eco {
            Ecosystem::PyPI => format!("pypi:{name}=={version}"),
            Ecosystem::Npm => format!("npm:{name}@{version}"),
        };
        let mut report =
            sluice_analyze::analyze(&target, &tree, &sluice_analyze::Options::default());
        // Name intelligence: the name the client asked for (not the one the
        // package declares) is what a typosquat imitates.
        if let Ok(pn) = PackageName::parse(eco, name) {
            let found = sluice_names::Engine::builtin().findings_for(&pn);
            if !found.is_empty() {
                // Test and doc files left unparsed are parsed now if the
                // name findings make them matter.
                sluice_analyze::add_findings(&mut report, &tree, found);
            }
        }
        Ok(Judged {
            level: report.verdict.level,
            score: report.verdict.score,
            report_json: serde_json::to_string(&report).map_err(|e| e.to_string())?,
        })
    }
}

/// A scanner with fixed answers: a file whose name contains one of the
/// keys gets that verdict, everything else is clean. For tests and demos.
#[derive(Debug, Default)]
pub struct StaticScanner(pub Vec<(String, VerdictLevel)>);

impl Scanner for StaticScanner {
    fn scan(
        &self,
        _eco: Ecosystem,
        _name: &str,
        _version: &str,
        filename: &str,
        _bytes: &[u8],
    ) -> Result<Judged, String> {
        let level = self
            .0
            .iter()
            .find(|(k, _)| filename.contains(k.as_str()))
            .map_or(VerdictLevel::Clean, |(_, l)| *l);
        let score = match level {
            VerdictLevel::Clean => 0,
            VerdictLevel::Suspicious => 50,
            VerdictLevel::Malicious => 95,
        };
        Ok(Judged {
            level,
            score,
            report_json: json!({"verdict": {"level": level, "score": score, "reasons": ["static test scanner"]}}).to_string(),
        })
    }
}

struct CacheEntry {
    at: Instant,
    body: Bytes,
    content_type: String,
}

/// Shared state of a running gate.
pub struct AppState {
    cfg: Config,
    policy: Policy,
    /// The metadata store (public so the admin API and tests can reach it).
    pub store: Store,
    blobs: BlobStore,
    http_meta: reqwest::Client,
    http_art: reqwest::Client,
    pypi_up: Option<url::Url>,
    npm_up: Option<url::Url>,
    cache: Mutex<HashMap<String, CacheEntry>>,
    hot: crate::hot::HotBlobs,
    flights: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    scanner: Arc<dyn Scanner>,
    /// The second opinion (the dynamic sandbox) and its job bookkeeping.
    opinion: Arc<dyn SecondOpinion>,
    sandbox_slots: Arc<tokio::sync::Semaphore>,
    sandbox_queued: Mutex<HashSet<String>>,
    sandbox_done: tokio::sync::Notify,
    /// The imported malicious-package list, per package, refreshed when
    /// an import changes the store's intel generation.
    intel: sluice_intel::LiveIntel,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("data_dir", &self.cfg.data_dir)
            .finish_non_exhaustive()
    }
}

fn dir_url(s: &str) -> Result<url::Url, RegistryError> {
    let s = if s.ends_with('/') {
        s.to_owned()
    } else {
        format!("{s}/")
    };
    let u =
        url::Url::parse(&s).map_err(|e| RegistryError::Config(format!("upstream `{s}`: {e}")))?;
    if !matches!(u.scheme(), "http" | "https") {
        return Err(RegistryError::Config(format!(
            "upstream `{s}` is not http(s)"
        )));
    }
    Ok(u)
}

impl AppState {
    /// Open the store and blob folder and build the upstream clients.
    /// `scanner` defaults to [`AnalyzeScanner`], the second opinion to
    /// [`SandboxOpinion`].
    ///
    /// # Errors
    /// Bad configuration or an unusable data dir.
    pub fn new(cfg: Config, scanner: Option<Arc<dyn Scanner>>) -> Result<Arc<Self>, RegistryError> {
        Self::with_second_opinion(cfg, scanner, None)
    }

    /// [`new`](Self::new) with a chosen second opinion (`None` = the real
    /// sandbox). Artifacts held from an earlier run are re-queued when
    /// [`serve`] starts (or by [`resume_sandbox_jobs`](Self::resume_sandbox_jobs)).
    ///
    /// # Errors
    /// Bad configuration or an unusable data dir.
    pub fn with_second_opinion(
        cfg: Config,
        scanner: Option<Arc<dyn Scanner>>,
        opinion: Option<Arc<dyn SecondOpinion>>,
    ) -> Result<Arc<Self>, RegistryError> {
        if cfg.sandbox.max_concurrent == 0 {
            return Err(RegistryError::Config(
                "[sandbox] max_concurrent must be at least 1 (use run = \"none\" to turn the sandbox off)".into(),
            ));
        }
        let policy = Policy::new(&cfg.policy)?;
        let store = Store::open(&cfg.data_dir)?;
        let blobs = BlobStore::open(&cfg.data_dir)?;
        let up = &cfg.upstream;
        let ua = concat!("sluice/", env!("CARGO_PKG_VERSION"));
        let http_meta = reqwest::Client::builder()
            .user_agent(ua)
            .connect_timeout(Duration::from_secs(up.connect_timeout_secs))
            .timeout(Duration::from_secs(up.metadata_timeout_secs))
            .redirect(reqwest::redirect::Policy::limited(5))
            .build()
            .map_err(|e| RegistryError::Config(e.to_string()))?;
        // Artifacts must arrive exactly as stored upstream: no transparent
        // decompression, or a `.tar.gz` served with `Content-Encoding: gzip`
        // would be unpacked and fail its digest.
        let http_art = reqwest::Client::builder()
            .user_agent(ua)
            .no_gzip()
            .connect_timeout(Duration::from_secs(up.connect_timeout_secs))
            .timeout(Duration::from_secs(up.artifact_timeout_secs))
            .redirect(reqwest::redirect::Policy::limited(5))
            .build()
            .map_err(|e| RegistryError::Config(e.to_string()))?;
        let pypi_up = up.pypi.as_deref().map(dir_url).transpose()?;
        let npm_up = up.npm.as_deref().map(dir_url).transpose()?;
        Ok(Arc::new(Self {
            policy,
            store,
            blobs,
            http_meta,
            http_art,
            pypi_up,
            npm_up,
            cache: Mutex::new(HashMap::new()),
            hot: crate::hot::HotBlobs::new(cfg.cache.memory_bytes, cfg.cache.memory_max_file_bytes),
            flights: Mutex::new(HashMap::new()),
            scanner: scanner.unwrap_or_else(|| Arc::new(AnalyzeScanner)),
            opinion: opinion.unwrap_or_else(|| {
                Arc::new(SandboxOpinion::new(
                    &cfg.sandbox,
                    cfg.data_dir.join("sandbox"),
                ))
            }),
            sandbox_slots: Arc::new(tokio::sync::Semaphore::new(cfg.sandbox.max_concurrent)),
            sandbox_queued: Mutex::new(HashSet::new()),
            sandbox_done: tokio::sync::Notify::new(),
            intel: sluice_intel::LiveIntel::new(),
            cfg,
        }))
    }

    /// The configuration in force.
    #[must_use]
    pub fn config(&self) -> &Config {
        &self.cfg
    }

    /// Whether an artifact's bytes are held in the in-memory cache (for
    /// tests and diagnostics; serving never depends on it for a decision).
    #[must_use]
    pub fn holds_in_memory(&self, sha: &Sha256) -> bool {
        self.hot.holds(sha)
    }

    /// One lock per upstream file, so concurrent first requests download
    /// and judge it once (the others then find it stored).
    fn flight(&self, key: &str) -> Arc<tokio::sync::Mutex<()>> {
        let mut m = self
            .flights
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if m.len() > 10_000 {
            m.retain(|_, v| Arc::strong_count(v) > 1);
        }
        Arc::clone(m.entry(key.to_owned()).or_default())
    }

    fn facts(&self, eco: Ecosystem, name: &str) -> Result<PackageFacts, StoreError> {
        crate::policy::load_facts(&self.store, &self.intel, eco, name)
    }

    fn judge(
        &self,
        eco: Ecosystem,
        name: &str,
        version: &str,
        upload: Option<&str>,
        facts: &PackageFacts,
    ) -> Gate {
        self.policy
            .judge(eco, name, version, upload, facts, chrono::Utc::now())
    }
}

/// Build the router over a state.
pub fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .fallback(dispatch)
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(state.cfg.upstream.artifact_timeout_secs.saturating_add(60)),
        ))
        .with_state(state)
}

/// Most request headers accepted; more is answered 431.
const MAX_HEADERS: usize = 64;

/// Run the gate on `listener` until the process gets Ctrl-C / SIGINT.
///
/// # Errors
/// The listener failed.
pub async fn serve(
    state: Arc<AppState>,
    listener: tokio::net::TcpListener,
) -> Result<(), RegistryError> {
    // Slow clients (slowloris) are cut off after this instead of holding a
    // connection forever.
    let header_timeout = Duration::from_secs(state.cfg.client_header_timeout_secs.max(1));
    // Artifacts still held for a sandbox run when the gate last stopped
    // are run again; until then they stay held.
    match state.resume_sandbox_jobs() {
        Ok(0) => {}
        Ok(n) => tracing::info!("{n} artifact(s) held for a sandbox run re-queued"),
        Err(e) => tracing::error!("cannot re-queue held artifacts (they stay held): {e}"),
    }
    let app = router(state);
    let shutdown = tokio::signal::ctrl_c();
    tokio::pin!(shutdown);
    loop {
        let (stream, addr) = tokio::select! {
            r = listener.accept() => match r {
                Ok(x) => x,
                Err(e) => {
                    // Out of file descriptors and the like: wait, don't spin.
                    tracing::warn!("accept: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = &mut shutdown => return Ok(()),
        };
        let app = app.clone().layer(axum::Extension(ConnectInfo(addr)));
        tokio::spawn(async move {
            let svc = hyper_util::service::TowerToHyperService::new(app);
            let mut b =
                hyper_util::server::conn::auto::Builder::new(hyper_util::rt::TokioExecutor::new());
            b.http1()
                .timer(hyper_util::rt::TokioTimer::new())
                .header_read_timeout(header_timeout)
                .max_headers(MAX_HEADERS);
            if let Err(e) = b
                .serve_connection(hyper_util::rt::TokioIo::new(stream), svc)
                .await
            {
                tracing::debug!(%addr, "connection: {e}");
            }
        });
    }
}

// ---------------------------------------------------------------- helpers

fn err(status: StatusCode, msg: impl Into<String>) -> Response {
    let body = json!({"error": msg.into()}).to_string();
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}

fn redirect(to: &str) -> Response {
    let mut r = StatusCode::MOVED_PERMANENTLY.into_response();
    if let Ok(v) = HeaderValue::from_str(to) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    r
}

fn store_err(e: &StoreError) -> Response {
    tracing::error!("store: {e}");
    err(StatusCode::INTERNAL_SERVER_ERROR, "internal store error")
}

struct Client {
    principal: String,
    known: bool,
    addr: String,
    ua: String,
}

fn identify(cfg: &Config, headers: &HeaderMap, addr: SocketAddr) -> Client {
    let ua: String = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .chars()
        .take(512)
        .collect();
    let lookup = |tok: &str| {
        cfg.clients
            .iter()
            .find(|c| c.token == tok)
            .map(|c| c.name.clone())
    };
    let fingerprint = |tok: &str| {
        format!(
            "token:{}",
            &hex::encode(sha2::Sha256::digest(tok.as_bytes()))[..12]
        )
    };
    let auth = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let (principal, known) = if let Some(b) = auth
        .strip_prefix("Basic ")
        .or_else(|| auth.strip_prefix("basic "))
    {
        let dec = base64::engine::general_purpose::STANDARD
            .decode(b.trim())
            .unwrap_or_default();
        let dec = String::from_utf8_lossy(&dec).into_owned();
        let (user, pass) = dec.split_once(':').unwrap_or((dec.as_str(), ""));
        match lookup(pass) {
            Some(name) => (name, true),
            None if !user.is_empty() && user != "__token__" => {
                (user.chars().take(128).collect(), false)
            }
            None if !pass.is_empty() => (fingerprint(pass), false),
            None => ("anonymous".to_owned(), false),
        }
    } else if let Some(t) = auth
        .strip_prefix("Bearer ")
        .or_else(|| auth.strip_prefix("bearer "))
    {
        let t = t.trim();
        match lookup(t) {
            Some(name) => (name, true),
            None => (fingerprint(t), false),
        }
    } else {
        ("anonymous".to_owned(), false)
    };
    Client {
        principal,
        known,
        addr: addr.ip().to_string(),
        ua,
    }
}

fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(',')
                .any(|p| p.trim().starts_with("gzip") && !p.contains("q=0"))
        })
}

/// A metadata answer: ETag/304, optional gzip, `Vary`, stale marker.
fn meta_response(
    headers: &HeaderMap,
    content_type: &str,
    body: Vec<u8>,
    stale: Option<&str>,
    vary: &str,
) -> Response {
    let etag = format!("W/\"{}\"", &hex::encode(sha2::Sha256::digest(&body))[..32]);
    let mut extra: Vec<(header::HeaderName, String)> = vec![
        (header::ETAG, etag.clone()),
        (header::VARY, vary.to_owned()),
        (
            header::CACHE_CONTROL,
            "max-age=60, must-revalidate".to_owned(),
        ),
    ];
    if let Some(s) = stale {
        extra.push((
            header::HeaderName::from_static("x-sluice-stale"),
            format!("upstream unavailable; cached copy from {s}"),
        ));
        extra.push((
            header::WARNING,
            "110 sluice \"Response is Stale\"".to_owned(),
        ));
    }
    let not_modified = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"));
    let mut resp = if not_modified {
        StatusCode::NOT_MODIFIED.into_response()
    } else if accepts_gzip(headers) && body.len() > 1024 {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        let gz = std::io::Write::write_all(&mut enc, &body).and_then(|()| enc.finish());
        match gz {
            Ok(gz) => {
                let mut r = Response::new(Body::from(gz));
                r.headers_mut()
                    .insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
                r
            }
            Err(_) => Response::new(Body::from(body)),
        }
    } else {
        Response::new(Body::from(body))
    };
    let h = resp.headers_mut();
    if let Ok(v) = HeaderValue::from_str(content_type) {
        h.insert(header::CONTENT_TYPE, v);
    }
    for (k, v) in extra {
        if let Ok(v) = HeaderValue::from_str(&v) {
            h.insert(k, v);
        }
    }
    resp
}

fn base_url(st: &AppState, headers: &HeaderMap) -> String {
    if let Some(p) = &st.cfg.public_url {
        return p.trim_end_matches('/').to_owned();
    }
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .filter(|h| {
            !h.is_empty()
                && h.len() < 256
                && h.bytes().all(|b| {
                    b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']')
                })
        })
        .map_or_else(|| st.cfg.listen.to_string(), str::to_owned);
    format!("http://{host}")
}

// ---------------------------------------------------------------- upstream

enum Fetched {
    Found {
        body: Bytes,
        content_type: String,
        stale: Option<String>,
    },
    NotFound,
}

async fn read_capped(resp: reqwest::Response, cap: u64) -> Result<Bytes, String> {
    if resp.content_length().is_some_and(|n| n > cap) {
        return Err(format!("upstream body larger than the cap of {cap} bytes"));
    }
    let mut resp = resp;
    let mut buf = Vec::new();
    while let Some(chunk) = resp
        .chunk()
        .await
        .map_err(|e| format!("upstream body: {e}"))?
    {
        if (buf.len() + chunk.len()) as u64 > cap {
            return Err(format!("upstream body larger than the cap of {cap} bytes"));
        }
        buf.extend_from_slice(&chunk);
    }
    Ok(Bytes::from(buf))
}

impl AppState {
    /// Metadata from upstream with an in-memory TTL cache and the last good
    /// copy in SQLite as the fallback when upstream fails.
    async fn fetch_meta(&self, url: &url::Url, accept: &str) -> Result<(Fetched, bool), String> {
        let key = format!("{accept}|{url}");
        let ttl = Duration::from_secs(self.cfg.upstream.metadata_ttl_secs);
        if let Ok(c) = self.cache.lock()
            && let Some(e) = c.get(&key)
            && e.at.elapsed() < ttl
        {
            return Ok((
                Fetched::Found {
                    body: e.body.clone(),
                    content_type: e.content_type.clone(),
                    stale: None,
                },
                false,
            ));
        }
        let attempt = async {
            let resp = self
                .http_meta
                .get(url.clone())
                .header(header::ACCEPT, accept)
                .send()
                .await
                .map_err(|e| format!("upstream request failed: {e}"))?;
            let status = resp.status();
            if status == reqwest::StatusCode::NOT_FOUND || status == reqwest::StatusCode::GONE {
                return Ok(None);
            }
            if !status.is_success() {
                return Err(format!("upstream answered {status}"));
            }
            let ct = resp
                .headers()
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_owned();
            let body = read_capped(resp, self.cfg.upstream.max_metadata_bytes).await?;
            Ok(Some((body, ct)))
        };
        match attempt.await {
            Ok(Some((body, ct))) => {
                if let Err(e) = self.store.put_meta(&key, &body, &ct) {
                    tracing::warn!("cannot save metadata copy: {e}");
                }
                if let Ok(mut c) = self.cache.lock() {
                    if c.len() > 10_000 {
                        c.clear();
                    }
                    c.insert(
                        key,
                        CacheEntry {
                            at: Instant::now(),
                            body: body.clone(),
                            content_type: ct.clone(),
                        },
                    );
                }
                Ok((
                    Fetched::Found {
                        body,
                        content_type: ct,
                        stale: None,
                    },
                    true,
                ))
            }
            Ok(None) => Ok((Fetched::NotFound, false)),
            Err(e) => {
                tracing::warn!(%url, "upstream metadata failed: {e}");
                match self.store.meta(&key) {
                    Ok(Some((body, ct, at))) => Ok((
                        Fetched::Found {
                            body: Bytes::from(body),
                            content_type: ct,
                            stale: Some(at),
                        },
                        false,
                    )),
                    _ => Err(e),
                }
            }
        }
    }
}

struct Expect {
    sha256: Option<Sha256>,
    sha512: Option<Vec<u8>>,
    sha1: Option<Vec<u8>>,
}

impl Expect {
    fn from_row(f: &FileRow) -> Self {
        let sha512 = f.integrity.as_deref().and_then(|i| {
            i.split_whitespace()
                .find_map(|p| p.strip_prefix("sha512-"))
                .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
        });
        Self {
            sha256: f.sha256.as_deref().and_then(|h| h.parse().ok()),
            sha512,
            sha1: f.shasum.as_deref().and_then(|h| hex::decode(h).ok()),
        }
    }
}

enum DlError {
    Upstream(String),
    Mismatch(String),
    Internal(String),
}

impl AppState {
    async fn download(&self, url: &str, expect: &Expect) -> Result<Sha256, DlError> {
        let resp = self
            .http_art
            .get(url)
            .send()
            .await
            .map_err(|e| DlError::Upstream(format!("upstream request failed: {e}")))?;
        if !resp.status().is_success() {
            return Err(DlError::Upstream(format!(
                "upstream answered {}",
                resp.status()
            )));
        }
        let cap = self.cfg.upstream.max_artifact_bytes;
        if resp.content_length().is_some_and(|n| n > cap) {
            return Err(DlError::Upstream(format!(
                "artifact larger than the cap of {cap} bytes"
            )));
        }
        let mut w = self
            .blobs
            .writer(cap)
            .map_err(|e| DlError::Internal(e.to_string()))?;
        let mut h512 = sha2::Sha512::new();
        let mut h1 = sha1::Sha1::new();
        let mut resp = resp;
        loop {
            let chunk = match resp.chunk().await {
                Ok(Some(c)) => c,
                Ok(None) => break,
                Err(e) => return Err(DlError::Upstream(format!("upstream body: {e}"))),
            };
            w.write(&chunk).map_err(|e| match e {
                StoreError::TooLarge(n) => {
                    DlError::Upstream(format!("artifact larger than the cap of {n} bytes"))
                }
                e => DlError::Internal(e.to_string()),
            })?;
            h512.update(&chunk);
            h1.update(&chunk);
        }
        if let Some(exp) = &expect.sha512
            && h512.finalize().as_slice() != exp.as_slice()
        {
            return Err(DlError::Mismatch("sha512 integrity mismatch".into()));
        } else if expect.sha512.is_none()
            && let Some(exp) = &expect.sha1
            && h1.finalize().as_slice() != exp.as_slice()
        {
            return Err(DlError::Mismatch("sha1 shasum mismatch".into()));
        }
        w.finish(expect.sha256.as_ref()).map_err(|e| match e {
            StoreError::DigestMismatch { expected, actual } => DlError::Mismatch(format!(
                "sha256 mismatch: index says {expected}, upstream sent {actual}"
            )),
            e => DlError::Internal(e.to_string()),
        })
    }

    /// Judge a stored blob if it has no verdict yet.
    async fn ensure_scanned(
        self: &Arc<Self>,
        eco: Ecosystem,
        name: &str,
        version: &str,
        filename: &str,
        sha: Sha256,
    ) -> Result<Option<ArtifactRow>, String> {
        if let Ok(Some(a)) = self.store.artifact(&sha.to_hex()) {
            return Ok(Some(a));
        }
        let st = Arc::clone(self);
        let (n, v, f) = (name.to_owned(), version.to_owned(), filename.to_owned());
        let res = tokio::task::spawn_blocking(move || {
            let bytes = st.blobs.read(&sha).map_err(|e| e.to_string())?;
            let size = bytes.len() as u64;
            let j = st.scanner.scan(eco, &n, &v, &f, &bytes)?;
            let row = ArtifactRow {
                sha256: sha.to_hex(),
                ecosystem: eco,
                name: n,
                version: v,
                filename: f,
                size,
                verdict: j.level,
                score: j.score,
                scanned_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            };
            let hold = crate::second::wanted(st.cfg.sandbox.run, j.level, || {
                crate::second::has_install_time_code(&row.filename, &bytes).unwrap_or_else(|e| {
                    // Unreadable: let the sandbox try (and fail loudly).
                    tracing::warn!(file = %row.filename, "cannot look for install-time code: {e}");
                    true
                })
            });
            // The static verdict and the hold are one write: a crash
            // cannot leave a verdict without its hold.
            if hold {
                st.store.put_artifact_held(&row, &j.report_json)
            } else {
                st.store.put_artifact(&row, &j.report_json)
            }
            .map_err(|e| e.to_string())?;
            Ok::<_, String>((row, hold))
        })
        .await;
        match res {
            Ok(Ok((row, hold))) => {
                tracing::info!(name, version, filename, verdict = %row.verdict, sandbox = hold, "judged");
                if hold {
                    self.enqueue_sandbox(SandboxJob {
                        sha256: row.sha256.clone(),
                        ecosystem: row.ecosystem,
                        name: row.name.clone(),
                        version: row.version.clone(),
                        filename: row.filename.clone(),
                        state: JobState::Pending,
                        error: None,
                        queued_at: row.scanned_at.clone(),
                    });
                }
                Ok(Some(row))
            }
            Ok(Err(e)) => Err(e),
            Err(_) => Err("the scanner crashed on this artifact".into()),
        }
    }
}

// ---------------------------------------------------------------- sandbox

fn locked<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl AppState {
    /// Queue every artifact still held for a sandbox run (pending, or
    /// failed on an earlier run) for a new run; returns how many. Called by
    /// [`serve`] at start-up; queuing one already queued does nothing.
    /// Must be called inside a tokio runtime.
    ///
    /// # Errors
    /// The store failed (the artifacts stay held).
    pub fn resume_sandbox_jobs(self: &Arc<Self>) -> Result<usize, RegistryError> {
        let jobs = self.store.requeue_sandbox_jobs()?;
        let n = jobs.len();
        for j in jobs {
            self.enqueue_sandbox(j);
        }
        Ok(n)
    }

    /// Run a held artifact through the second opinion when a slot is free
    /// (`[sandbox] max_concurrent`), then wake the requests waiting for it.
    fn enqueue_sandbox(self: &Arc<Self>, job: SandboxJob) {
        if !locked(&self.sandbox_queued).insert(job.sha256.clone()) {
            return;
        }
        let st = Arc::clone(self);
        tokio::spawn(async move {
            let sha = job.sha256.clone();
            let permit = Arc::clone(&st.sandbox_slots).acquire_owned().await.ok();
            let runner = Arc::clone(&st);
            let done = tokio::task::spawn_blocking(move || runner.run_sandbox_job(&job)).await;
            drop(permit);
            if done.is_err() {
                tracing::error!(sha, "the sandbox job crashed; the artifact stays held");
                if let Err(e) = st.store.fail_sandbox(&sha, "the sandbox job crashed") {
                    tracing::error!(sha, "store: {e}");
                }
            }
            locked(&st.sandbox_queued).remove(&sha);
            st.sandbox_done.notify_waiters();
        });
    }

    /// One sandbox run (blocking): run, merge, store; or record the failure
    /// as the policy's `scan_error` says.
    fn run_sandbox_job(&self, job: &SandboxJob) {
        let started = Instant::now();
        let (row, static_json) = match (
            self.store.artifact(&job.sha256),
            self.store.report(&job.sha256),
        ) {
            (Ok(Some(row)), Ok(Some(report))) => (row, report),
            (Err(e), _) | (_, Err(e)) => {
                tracing::error!(sha = job.sha256, "store: {e}; the artifact stays held");
                return;
            }
            _ => {
                let e = "the artifact's static verdict is missing";
                tracing::error!(sha = job.sha256, "{e}");
                if let Err(e) = self.store.fail_sandbox(&job.sha256, e) {
                    tracing::error!(sha = job.sha256, "store: {e}");
                }
                return;
            }
        };
        let outcome = self.observe(job);
        let secs = started.elapsed().as_secs_f64();
        let stored = match outcome {
            Ok((observed, bytes)) => {
                let m = crate::second::merge(
                    &static_json,
                    row.verdict,
                    row.score,
                    &row.filename,
                    &bytes,
                    observed,
                );
                tracing::info!(
                    name = row.name, version = row.version, file = row.filename,
                    static_verdict = %row.verdict, verdict = %m.level, secs,
                    "sandbox run merged"
                );
                let merged = ArtifactRow {
                    verdict: m.level,
                    score: m.score,
                    scanned_at: chrono::Utc::now()
                        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
                    ..row
                };
                self.store.finish_sandbox(&merged, &m.report_json)
            }
            Err(e) => {
                let on = self.policy.config().scan_error;
                tracing::warn!(
                    name = row.name,
                    version = row.version,
                    file = row.filename,
                    secs,
                    "sandbox run failed ({e}); scan_error = {on:?}"
                );
                match on {
                    // The static verdict stands; the evidence says the run failed.
                    OnVerdict::Allow => self
                        .store
                        .finish_sandbox(&row, &crate::second::note_error(&static_json, &e)),
                    OnVerdict::Hold | OnVerdict::Block => {
                        self.store.fail_sandbox(&job.sha256, &e).map(|_| ())
                    }
                }
            }
        };
        if let Err(e) = stored {
            tracing::error!(
                sha = job.sha256,
                "cannot store the sandbox outcome (the artifact stays held): {e}"
            );
        }
    }

    /// Copy the blob to a private folder under `DATA/tmp/` under its
    /// upstream file name (the sandbox tells sdists, wheels and npm
    /// tarballs apart by it) and run the second opinion on it.
    fn observe(&self, job: &SandboxJob) -> Result<(crate::second::Observed, Vec<u8>), String> {
        let sha: Sha256 = job
            .sha256
            .parse()
            .map_err(|e| format!("bad digest {}: {e}", job.sha256))?;
        if !pypi::safe_filename(&job.filename) {
            return Err(format!("unsafe file name {:?}", job.filename));
        }
        let bytes = self.blobs.read(&sha).map_err(|e| format!("blob: {e}"))?;
        let tmp = self.cfg.data_dir.join("tmp");
        std::fs::create_dir_all(&tmp).map_err(|e| format!("{}: {e}", tmp.display()))?;
        let dir = tempfile::Builder::new()
            .prefix("sandbox-")
            .tempdir_in(&tmp)
            .map_err(|e| format!("temporary folder: {e}"))?;
        let path = dir.path().join(&job.filename);
        std::fs::write(&path, &bytes).map_err(|e| format!("{}: {e}", path.display()))?;
        let opinion = Arc::clone(&self.opinion);
        let observed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            opinion.run(job.ecosystem, &job.name, &job.version, &path)
        }))
        .map_err(|_| "the sandbox crashed".to_owned())??;
        Ok((observed, bytes))
    }
}

/// Decide a version, waiting up to `[sandbox] wait_secs` while one of its
/// files is held for a sandbox run. Returns the decision and the facts it
/// was made from.
async fn judge_waiting(
    st: &AppState,
    eco: Ecosystem,
    name: &str,
    row: &FileRow,
    mut facts: PackageFacts,
) -> Result<(Gate, PackageFacts), Response> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(st.cfg.sandbox.wait_secs);
    loop {
        let gate = st.judge(eco, name, &row.version, row.upload_time.as_deref(), &facts);
        let pending = matches!(
            gate,
            Gate::Refuse {
                kind: RefuseKind::Pending,
                ..
            }
        );
        let now = tokio::time::Instant::now();
        if !pending || now >= deadline {
            return Ok((gate, facts));
        }
        // Woken when any run finishes; a look at least every second in
        // case a wake-up came between reading the facts and waiting.
        let _ = tokio::time::timeout_at(
            deadline.min(now + Duration::from_secs(1)),
            st.sandbox_done.notified(),
        )
        .await;
        facts = st.facts(eco, name).map_err(|e| store_err(&e))?;
    }
}

/// The answer for a refused artifact: 503 with `Retry-After` while it is
/// held for its sandbox run, else 403.
fn refusal(st: &AppState, kind: RefuseKind, reason: &str, verdict: &str) -> Response {
    if kind != RefuseKind::Pending {
        return forbidden(reason, verdict);
    }
    let mut r = err(StatusCode::SERVICE_UNAVAILABLE, reason);
    let h = r.headers_mut();
    h.insert(
        header::RETRY_AFTER,
        HeaderValue::from(st.cfg.sandbox.retry_after_secs.max(1)),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        "x-sluice-verdict",
        HeaderValue::from_static("sandbox-pending"),
    );
    r
}

/// The verdict to report for a file: its own stored verdict when known.
fn verdict_label(facts: &PackageFacts, sha_hex: Option<&str>, fallback: &str) -> String {
    sha_hex
        .and_then(|h| facts.artifacts.iter().find(|a| a.sha256 == h))
        .map_or_else(|| fallback.to_owned(), |a| a.verdict.as_str().to_owned())
}

// ---------------------------------------------------------------- dispatch

async fn dispatch(
    State(st): State<Arc<AppState>>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    req: Request,
) -> Response {
    let (parts, body) = req.into_parts();
    let path = parts.uri.path().to_owned();
    let query = parts.uri.query().map(str::to_owned);
    let headers = parts.headers;
    let method = parts.method;
    if path.contains('\0') || path.to_ascii_lowercase().contains("%00") {
        return err(StatusCode::BAD_REQUEST, "NUL in path");
    }
    let client = identify(&st.cfg, &headers, addr);
    if let Some(rest) = path.strip_prefix("/-/sluice/admin/") {
        return admin_api(&st, &method, rest, query.as_deref(), &headers, body).await;
    }
    if path == "/-/sluice/health" {
        return (StatusCode::OK, "ok\n").into_response();
    }
    if st.cfg.admin.require_client_auth && !client.known {
        let mut r = err(StatusCode::UNAUTHORIZED, "a client token is required");
        r.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"sluice\""),
        );
        return r;
    }
    if method == Method::POST {
        // npm is served at the root (the contract: `registry=http://gate/`)
        // and under `/npm/` (kept for configurations written against it).
        if let Some(rest) = path
            .strip_prefix("/npm/")
            .or_else(|| path.strip_prefix('/'))
        {
            if rest == "-/npm/v1/security/advisories/bulk" {
                return npm_audit(&st, &headers, body).await;
            }
            if rest.starts_with("-/npm/v1/security/audits") {
                return err(
                    StatusCode::GONE,
                    "quick audit is retired; use the bulk endpoint",
                );
            }
        }
        return err(StatusCode::METHOD_NOT_ALLOWED, "read-only registry");
    }
    if method != Method::GET && method != Method::HEAD {
        return err(StatusCode::METHOD_NOT_ALLOWED, "read-only registry");
    }
    let segs: Vec<&str> = path.split('/').skip(1).collect();
    match segs.as_slice() {
        [""] => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "text/plain")],
            "sluice gate: PyPI at /simple/, npm at / (also /npm/)\n",
        )
            .into_response(),
        ["simple"] => redirect("/simple/"),
        ["simple", ""] => pypi_root(&st, &headers, query.as_deref()),
        ["simple", name] => redirect(&format!("/simple/{name}/")),
        ["simple", name, ""] => pypi_project(&st, &headers, query.as_deref(), name).await,
        ["pypi", name, "json"] => pypi_json_api(&st, name, None).await,
        ["pypi", name, version, "json"] => pypi_json_api(&st, name, Some(version)).await,
        ["files", "pypi", name, filename] => pypi_file(&st, &client, name, filename).await,
        ["npm", rest @ ..] => npm_route(&st, &client, &headers, rest).await,
        // Paths under the PyPI prefixes that matched nothing above stay
        // 404 rather than being read as npm names.
        ["simple" | "pypi" | "files", ..] => err(StatusCode::NOT_FOUND, "not found"),
        // Everything else is the npm registry at the root.
        rest => npm_route(&st, &client, &headers, rest).await,
    }
}

// ---------------------------------------------------------------- PyPI

fn pypi_root(st: &AppState, headers: &HeaderMap, query: Option<&str>) -> Response {
    let Some(fmt) = pypi::negotiate(
        headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()),
        format_param(query).as_deref(),
    ) else {
        return err(
            StatusCode::NOT_ACCEPTABLE,
            "acceptable: application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html, text/html",
        );
    };
    // The upstream project list is huge; the gate lists the projects it has served.
    let names = match st.store.artifacts_with_verdict(&[
        VerdictLevel::Clean,
        VerdictLevel::Suspicious,
        VerdictLevel::Malicious,
    ]) {
        Ok(a) => {
            let mut n: Vec<String> = a
                .into_iter()
                .filter(|a| a.ecosystem == Ecosystem::PyPI)
                .map(|a| a.name)
                .collect();
            n.sort();
            n.dedup();
            n
        }
        Err(e) => return store_err(&e),
    };
    let body = match fmt {
        pypi::Format::Json => json!({"meta": {"api-version": "1.1"}, "projects": names.iter().map(|n| json!({"name": n})).collect::<Vec<_>>()}).to_string(),
        _ => {
            let mut s = String::from("<!DOCTYPE html>\n<html><head><meta name=\"pypi:repository-version\" content=\"1.1\"><title>Simple index</title></head><body>\n");
            for n in &names {
                s.push_str(&format!("<a href=\"/simple/{n}/\">{n}</a><br>\n"));
            }
            s.push_str("</body></html>\n");
            s
        }
    };
    meta_response(
        headers,
        fmt.content_type(),
        body.into_bytes(),
        None,
        "Accept, Accept-Encoding",
    )
}

fn format_param(query: Option<&str>) -> Option<String> {
    query?
        .split('&')
        .find_map(|kv| kv.strip_prefix("format="))
        .map(|v| {
            percent_encoding::percent_decode_str(v)
                .decode_utf8_lossy()
                .into_owned()
        })
}

const PYPI_ACCEPT: &str = "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.01";

/// Load and parse upstream's project page; on a fresh fetch remember its files.
async fn load_project(
    st: &AppState,
    name: &str,
) -> Result<Option<(pypi::ProjectPage, Option<String>)>, Response> {
    if st.policy.is_private(Ecosystem::PyPI, name) {
        return Ok(None);
    }
    let Some(up) = &st.pypi_up else {
        return Err(err(
            StatusCode::SERVICE_UNAVAILABLE,
            "no PyPI upstream configured",
        ));
    };
    let Ok(url) = up.join(&format!("{name}/")) else {
        return Err(err(StatusCode::BAD_REQUEST, "bad project name"));
    };
    let (fetched, fresh) = st
        .fetch_meta(&url, PYPI_ACCEPT)
        .await
        .map_err(|e| err(StatusCode::BAD_GATEWAY, e))?;
    let Fetched::Found {
        body,
        content_type,
        stale,
    } = fetched
    else {
        // Upstream no longer has the project: files seen before are taken down.
        st.store
            .put_files(Ecosystem::PyPI, name, &[])
            .map_err(|e| store_err(&e))?;
        return Ok(None);
    };
    let page = if content_type.contains("json") {
        pypi::parse_json(&url, name, &body)
            .map_err(|e| err(StatusCode::BAD_GATEWAY, e.to_string()))?
    } else {
        pypi::parse_html(&url, name, &body)
    };
    if fresh {
        let rows: Vec<FileRow> = page
            .files
            .iter()
            .map(|f| FileRow {
                filename: f.filename.clone(),
                version: f.version.clone(),
                url: f.url.clone(),
                sha256: f.sha256.clone(),
                integrity: None,
                shasum: None,
                metadata_sha256: f.core_metadata.clone().flatten(),
                upload_time: f.upload_time.clone(),
                removed_at: None,
            })
            .collect();
        if let Err(e) = st.store.put_files(Ecosystem::PyPI, name, &rows) {
            return Err(store_err(&e));
        }
    }
    Ok(Some((page, stale)))
}

fn parse_pypi_name(raw: &str) -> Result<PackageName, Response> {
    let decoded = percent_encoding::percent_decode_str(raw)
        .decode_utf8()
        .map_err(|_| err(StatusCode::NOT_FOUND, "invalid project name"))?;
    PackageName::parse(Ecosystem::PyPI, &decoded)
        .map_err(|e| err(StatusCode::NOT_FOUND, e.to_string()))
}

/// Whether an imported record covers every version of the package and no
/// person or waiver allowed any part of it: the whole project is hidden.
fn whole_package_intel(st: &AppState, name: &str, facts: &PackageFacts) -> bool {
    facts.intel.whole_package().is_some()
        && !facts.decisions.iter().any(|d| d.action == Action::Allow)
        && !st.policy.any_waiver(Ecosystem::PyPI, name)
}

/// The allowed files and versions of a page, and whether the whole project is blocked.
fn filter_page<'a>(
    st: &AppState,
    name: &str,
    page: &'a pypi::ProjectPage,
    facts: &PackageFacts,
) -> (Vec<&'a pypi::PyFile>, Vec<String>, bool) {
    let quarantined = facts
        .decisions
        .iter()
        .any(|d| d.version.is_empty() && d.action == Action::Block)
        || whole_package_intel(st, name, facts);
    if quarantined {
        return (Vec::new(), Vec::new(), true);
    }
    let mut allowed_versions: HashMap<&str, bool> = HashMap::new();
    let files: Vec<&pypi::PyFile> = page
        .files
        .iter()
        .filter(|f| {
            *allowed_versions
                .entry(f.version.as_str())
                .or_insert_with(|| {
                    st.judge(
                        Ecosystem::PyPI,
                        name,
                        &f.version,
                        f.upload_time.as_deref(),
                        facts,
                    )
                    .listed()
                })
        })
        .collect();
    let versions = page
        .versions
        .iter()
        .filter(|v| {
            allowed_versions
                .get(v.as_str())
                .copied()
                .unwrap_or_else(|| st.judge(Ecosystem::PyPI, name, v, None, facts).listed())
        })
        .cloned()
        .collect();
    (files, versions, false)
}

async fn pypi_project(
    st: &AppState,
    headers: &HeaderMap,
    query: Option<&str>,
    raw: &str,
) -> Response {
    let name = match parse_pypi_name(raw) {
        Ok(n) => n,
        Err(r) => return r,
    };
    if name.as_str() != raw {
        return redirect(&format!("/simple/{}/", name.as_str()));
    }
    let Some(fmt) = pypi::negotiate(
        headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()),
        format_param(query).as_deref(),
    ) else {
        return err(
            StatusCode::NOT_ACCEPTABLE,
            "acceptable: application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html, text/html",
        );
    };
    let (page, stale) = match load_project(st, name.as_str()).await {
        Ok(Some(p)) => p,
        Ok(None) => return err(StatusCode::NOT_FOUND, format!("no project named {name}")),
        Err(r) => return r,
    };
    let facts = match st.facts(Ecosystem::PyPI, name.as_str()) {
        Ok(f) => f,
        Err(e) => return store_err(&e),
    };
    let (files, versions, quarantined) = filter_page(st, name.as_str(), &page, &facts);
    let base = st
        .cfg
        .public_url
        .as_deref()
        .map(|p| p.trim_end_matches('/').to_owned())
        .unwrap_or_default();
    let body = match fmt {
        pypi::Format::Json => {
            pypi::render_json(&base, name.as_str(), &files, &versions, quarantined).to_string()
        }
        _ => pypi::render_html(&base, name.as_str(), &files, quarantined),
    };
    meta_response(
        headers,
        fmt.content_type(),
        body.into_bytes(),
        stale.as_deref(),
        "Accept, Accept-Encoding",
    )
}

async fn pypi_json_api(st: &AppState, raw: &str, version: Option<&str>) -> Response {
    let name = match parse_pypi_name(raw) {
        Ok(n) => n,
        Err(r) => return r,
    };
    if name.as_str() != raw {
        let tail = version.map_or_else(|| "json".to_owned(), |v| format!("{v}/json"));
        return redirect(&format!("/pypi/{}/{tail}", name.as_str()));
    }
    let (page, _) = match load_project(st, name.as_str()).await {
        Ok(Some(p)) => p,
        Ok(None) => return err(StatusCode::NOT_FOUND, "Not Found"),
        Err(r) => return r,
    };
    let facts = match st.facts(Ecosystem::PyPI, name.as_str()) {
        Ok(f) => f,
        Err(e) => return store_err(&e),
    };
    let (files, versions, _) = filter_page(st, name.as_str(), &page, &facts);
    let base = st
        .cfg
        .public_url
        .as_deref()
        .map(|p| p.trim_end_matches('/').to_owned())
        .unwrap_or_default();
    let to_json = |f: &pypi::PyFile| {
        json!({
            "filename": f.filename,
            "url": pypi::file_url(&base, name.as_str(), &f.filename),
            "digests": f.sha256.as_ref().map_or_else(|| json!({}), |h| json!({"sha256": h})),
            "size": f.size,
            "upload_time_iso_8601": f.upload_time,
            "requires_python": f.requires_python,
            "yanked": f.yanked.is_some(),
            "yanked_reason": f.yanked.as_deref().filter(|r| !r.is_empty()),
            "packagetype": if f.filename.ends_with(".whl") { "bdist_wheel" } else { "sdist" },
        })
    };
    let mut releases = serde_json::Map::new();
    for v in &versions {
        releases.insert(
            v.clone(),
            Value::Array(
                files
                    .iter()
                    .filter(|f| &f.version == v)
                    .map(|f| to_json(f))
                    .collect(),
            ),
        );
    }
    let latest = versions
        .iter()
        .filter(|v| {
            pypi::version_key(v).1 && files.iter().any(|f| &f.version == *v && f.yanked.is_none())
        })
        .max_by_key(|v| pypi::version_key(v))
        .or_else(|| versions.iter().max_by_key(|v| pypi::version_key(v)))
        .cloned();
    let chosen = match version {
        Some(v) => {
            if !versions.iter().any(|x| x == v) {
                return err(StatusCode::NOT_FOUND, "Not Found");
            }
            Some(v.to_owned())
        }
        None => latest,
    };
    let urls: Vec<Value> = chosen
        .as_ref()
        .map(|c| {
            files
                .iter()
                .filter(|f| &f.version == c)
                .map(|f| to_json(f))
                .collect()
        })
        .unwrap_or_default();
    let mut doc = json!({
        "info": {"name": name.as_str(), "version": chosen},
        "urls": urls,
    });
    if version.is_none()
        && let Some(o) = doc.as_object_mut()
    {
        o.insert("releases".into(), Value::Object(releases));
    }
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        doc.to_string(),
    )
        .into_response()
}

#[allow(clippy::too_many_arguments)] // one audit row's fields, named at each call
fn audit(
    st: &AppState,
    client: &Client,
    eco: Ecosystem,
    name: &str,
    version: &str,
    filename: &str,
    sha: Option<&str>,
    verdict: &str,
    allowed: bool,
    reason: &str,
) {
    let d = Download {
        at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        ecosystem: eco.prefix().to_owned(),
        name: name.to_owned(),
        version: version.to_owned(),
        filename: filename.to_owned(),
        sha256: sha.map(str::to_owned),
        principal: client.principal.clone(),
        addr: client.addr.clone(),
        user_agent: client.ua.clone(),
        verdict: verdict.to_owned(),
        allowed,
        reason: reason.to_owned(),
    };
    if let Err(e) = st.store.log_download(&d) {
        tracing::error!("audit log write failed: {e}");
    }
}

fn refused(gate: &Gate) -> Option<(String, RefuseKind)> {
    match gate {
        Gate::Allow => None,
        Gate::Refuse { kind, reason } => Some((reason.clone(), *kind)),
    }
}

fn forbidden(reason: &str, verdict: &str) -> Response {
    let mut r = err(StatusCode::FORBIDDEN, reason);
    if let Ok(v) = HeaderValue::from_str(verdict) {
        r.headers_mut().insert("x-sluice-verdict", v);
    }
    r
}

async fn pypi_file(
    st: &Arc<AppState>,
    client: &Client,
    raw_name: &str,
    filename: &str,
) -> Response {
    let Ok(name) = PackageName::parse(Ecosystem::PyPI, raw_name) else {
        return err(StatusCode::NOT_FOUND, "invalid project name");
    };
    if name.as_str() != raw_name || !pypi::safe_filename(filename) {
        return err(StatusCode::NOT_FOUND, "not found");
    }
    let (dist_name, is_meta) = match filename.strip_suffix(".metadata") {
        Some(d) => (d, true),
        None => (filename, false),
    };
    let name = name.as_str();
    let row = match lookup_file(st, Ecosystem::PyPI, name, dist_name).await {
        Ok(Some(r)) => r,
        Ok(None) => return err(StatusCode::NOT_FOUND, "no such file"),
        Err(r) => return r,
    };
    if is_meta {
        return pypi_metadata(st, name, &row).await;
    }
    serve_artifact(st, client, Ecosystem::PyPI, name, row).await
}

async fn lookup_file(
    st: &AppState,
    eco: Ecosystem,
    name: &str,
    filename: &str,
) -> Result<Option<FileRow>, Response> {
    match st.store.file(eco, name, filename) {
        Ok(Some(r)) => return Ok(Some(r)),
        Ok(None) => {}
        Err(e) => return Err(store_err(&e)),
    }
    // Not seen yet (a lockfile install skips the index): read the index now.
    match eco {
        Ecosystem::PyPI => {
            load_project(st, name).await?;
        }
        Ecosystem::Npm => {
            load_packument(st, name).await?;
        }
    }
    st.store
        .file(eco, name, filename)
        .map_err(|e| store_err(&e))
}

async fn pypi_metadata(st: &AppState, name: &str, row: &FileRow) -> Response {
    let facts = match st.facts(Ecosystem::PyPI, name) {
        Ok(f) => f,
        Err(e) => return store_err(&e),
    };
    // A version held for its sandbox run stays listed, so its metadata
    // (no code) is served and resolvers go on to ask for the file.
    let gate = st.judge(
        Ecosystem::PyPI,
        name,
        &row.version,
        row.upload_time.as_deref(),
        &facts,
    );
    if !gate.listed()
        && let Some((reason, _)) = refused(&gate)
    {
        return forbidden(&reason, "refused");
    }
    let expected: Option<Sha256> = row.metadata_sha256.as_deref().and_then(|h| h.parse().ok());
    let sha = match expected {
        Some(s) if st.blobs.contains(&s) => s,
        _ => {
            let exp = Expect {
                sha256: expected,
                sha512: None,
                sha1: None,
            };
            match st.download(&format!("{}.metadata", row.url), &exp).await {
                Ok(s) => s,
                Err(DlError::Upstream(e) | DlError::Internal(e)) => {
                    return err(StatusCode::BAD_GATEWAY, e);
                }
                Err(DlError::Mismatch(e)) => {
                    return err(StatusCode::BAD_GATEWAY, format!("refused: {e}"));
                }
            }
        }
    };
    match st.blobs.read(&sha) {
        Ok(b) => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "application/octet-stream")],
            b,
        )
            .into_response(),
        Err(e) => store_err(&e),
    }
}

/// The artifact gate: check, fetch-verify-store-judge on a miss, check
/// again against the current verdict, serve or refuse, and log.
async fn serve_artifact(
    st: &Arc<AppState>,
    client: &Client,
    eco: Ecosystem,
    name: &str,
    row: FileRow,
) -> Response {
    let facts = match st.facts(eco, name) {
        Ok(f) => f,
        Err(e) => return store_err(&e),
    };
    let known_sha = row.sha256.clone();
    let (gate, facts) = match judge_waiting(st, eco, name, &row, facts).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    if let Some((reason, kind)) = refused(&gate) {
        let verdict = if kind == RefuseKind::Pending {
            "sandbox-pending"
        } else {
            "refused"
        };
        audit(
            st,
            client,
            eco,
            name,
            &row.version,
            &row.filename,
            known_sha.as_deref(),
            verdict,
            false,
            &reason,
        );
        return refusal(st, kind, &reason, verdict);
    }
    if let Some(at) = &row.removed_at
        && !st.policy.waived(eco, name, &row.version, &facts)
    {
        let reason = format!(
            "{} was removed from the upstream registry (noticed {at}); sluice no longer serves its cached copy",
            row.filename
        );
        audit(
            st,
            client,
            eco,
            name,
            &row.version,
            &row.filename,
            known_sha.as_deref(),
            "removed-upstream",
            false,
            &reason,
        );
        return forbidden(&reason, "removed-upstream");
    }
    // Hot path: this file was judged before (its verdict is in the facts
    // just read and checked above) and its blob is stored, so nothing can
    // have changed between that check and now: no download, no scan, no
    // second look-up. The cached bytes never bypass the check above.
    let index_sha: Option<Sha256> = row.sha256.as_deref().and_then(|h| h.parse().ok());
    let index_hex = index_sha.map(|s| s.to_hex());
    let judged = facts
        .artifacts
        .iter()
        .find(|a| {
            a.filename == row.filename
                && a.version == row.version
                && index_hex.as_ref().is_none_or(|h| *h == a.sha256)
        })
        .and_then(|a| Some((a.sha256.parse::<Sha256>().ok()?, a.verdict.as_str())));
    let fast = judged.and_then(|(sha, verdict)| {
        let hot = st.hot.get(&sha);
        (hot.is_some() || st.blobs.contains(&sha)).then(|| (sha, verdict.to_owned(), hot))
    });
    let (sha, verdict, hot) = match fast {
        Some(x) => x,
        None => match fetch_and_judge(st, client, eco, name, &row, index_sha).await {
            Ok((sha, verdict)) => (sha, verdict, None),
            Err(r) => return r,
        },
    };
    let hex = sha.to_hex();
    let (body, len) = match hot {
        Some(b) => {
            let len = b.len() as u64;
            (Body::from(b), len)
        }
        None => match blob_body(st, sha).await {
            Ok(x) => x,
            Err(e) => {
                tracing::error!("blob read: {e}");
                return err(StatusCode::INTERNAL_SERVER_ERROR, "internal storage error");
            }
        },
    };
    audit(
        st,
        client,
        eco,
        name,
        &row.version,
        &row.filename,
        Some(&hex),
        &verdict,
        true,
        "ok",
    );
    let mut r = Response::new(body);
    let h = r.headers_mut();
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    // Never a Content-Encoding on archives: clients would unpack and the hash would fail.
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    if let Ok(v) = HeaderValue::from_str(&verdict) {
        h.insert("x-sluice-verdict", v);
    }
    if let Ok(v) = HeaderValue::from_str(&format!("\"{hex}\"")) {
        h.insert(header::ETAG, v);
    }
    r
}

/// Chunk size when streaming a blob too large for the memory cache.
const STREAM_CHUNK: u64 = 1 << 20;

/// A stored blob as a response body: whole from memory when the hot cache
/// admits it (and kept there), else streamed from disk in chunks so many
/// concurrent downloads of huge artifacts do not each hold the whole file.
async fn blob_body(st: &Arc<AppState>, sha: Sha256) -> std::io::Result<(Body, u64)> {
    let state = Arc::clone(st);
    let opened = tokio::task::spawn_blocking(move || {
        let mut f = std::fs::File::open(state.blobs.path(&sha))?;
        let len = f.metadata()?.len();
        if !state.hot.admits(len) {
            return Ok::<_, std::io::Error>((Err(f), len));
        }
        // `read_to_end` fills the spare capacity without zeroing it first.
        let mut v = Vec::with_capacity(usize::try_from(len).unwrap_or(0));
        std::io::Read::read_to_end(&mut f, &mut v)?;
        let b = Bytes::from(v);
        state.hot.insert(sha, b.clone());
        Ok((Ok(b), len))
    })
    .await
    .map_err(std::io::Error::other)??;
    match opened {
        (Ok(b), _) => {
            let len = b.len() as u64;
            Ok((Body::from(b), len))
        }
        (Err(file), len) => {
            // One blocking read per chunk, into a fresh buffer that is
            // handed to hyper as is (no zero-fill, no second copy).
            let stream = futures_util::stream::unfold(Some(file), |f| async move {
                let mut f = f?;
                let res = tokio::task::spawn_blocking(move || {
                    let mut v = Vec::with_capacity(STREAM_CHUNK as usize);
                    let r = std::io::Read::read_to_end(
                        &mut std::io::Read::take(&mut f, STREAM_CHUNK),
                        &mut v,
                    );
                    (f, r.map(|_| v))
                })
                .await;
                match res {
                    Ok((_, Ok(v))) if v.is_empty() => None,
                    Ok((f, Ok(v))) => Some((Ok::<_, std::io::Error>(Bytes::from(v)), Some(f))),
                    Ok((_, Err(e))) => Some((Err(e), None)),
                    Err(e) => Some((Err(std::io::Error::other(e)), None)),
                }
            });
            Ok((Body::from_stream(stream), len))
        }
    }
}

/// The slow path of the artifact gate: under the per-file lock, find the
/// stored blob or fetch, verify and store it, judge it if it has no
/// verdict yet, then decide again on fresh facts (the verdict may have just
/// been written). Every refusal is audited here.
async fn fetch_and_judge(
    st: &Arc<AppState>,
    client: &Client,
    eco: Ecosystem,
    name: &str,
    row: &FileRow,
    index_sha: Option<Sha256>,
) -> Result<(Sha256, String), Response> {
    let known_sha = row.sha256.clone();
    let flight = st.flight(&row.url);
    let in_flight = flight.lock().await;
    let cached: Option<Sha256> = match index_sha {
        // PyPI files are addressed by the index's sha256: only that blob will do.
        Some(s) => Some(s).filter(|s| st.blobs.contains(s)),
        // npm indexes give sha512 (and some PyPI indexes no hash at all):
        // find the blob through the artifact judged for this file.
        None => st
            .store
            .artifacts_of(eco, name, Some(&row.version))
            .unwrap_or_default()
            .into_iter()
            .find(|a| a.filename == row.filename)
            .and_then(|a| a.sha256.parse().ok())
            .filter(|s| st.blobs.contains(s)),
    };
    let sha = match cached {
        Some(s) => s,
        None => match st.download(&row.url, &Expect::from_row(row)).await {
            Ok(s) => s,
            Err(DlError::Internal(e)) => {
                tracing::error!("blob store: {e}");
                return Err(err(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal storage error",
                ));
            }
            Err(failure) => {
                let (verdict, reason) = match failure {
                    DlError::Mismatch(e) => {
                        let reason = format!("upstream artifact failed verification: {e}");
                        tracing::warn!(name, file = %row.filename, "{reason}");
                        ("integrity-failure", reason)
                    }
                    DlError::Upstream(e) | DlError::Internal(e) => ("unavailable", e),
                };
                audit(
                    st,
                    client,
                    eco,
                    name,
                    &row.version,
                    &row.filename,
                    known_sha.as_deref(),
                    verdict,
                    false,
                    &reason,
                );
                return Err(err(StatusCode::BAD_GATEWAY, reason));
            }
        },
    };
    let hex = sha.to_hex();
    let verdict = match st
        .ensure_scanned(eco, name, &row.version, &row.filename, sha)
        .await
    {
        Ok(Some(a)) => a.verdict.as_str().to_owned(),
        Ok(None) => "unscanned".to_owned(),
        Err(e) => {
            tracing::warn!(name, file = %row.filename, "scan failed: {e}");
            match st.policy.config().scan_error {
                OnVerdict::Allow => "scan-error".to_owned(),
                OnVerdict::Hold | OnVerdict::Block => {
                    let reason = format!("held by sluice: the artifact could not be scanned ({e})");
                    audit(
                        st,
                        client,
                        eco,
                        name,
                        &row.version,
                        &row.filename,
                        Some(&hex),
                        "scan-error",
                        false,
                        &reason,
                    );
                    return Err(forbidden(&reason, "scan-error"));
                }
            }
        }
    };
    drop(in_flight);
    let facts = st.facts(eco, name).map_err(|e| store_err(&e))?;
    // A file just held for its sandbox run is waited for here too.
    let (gate, facts) = judge_waiting(st, eco, name, row, facts).await?;
    let verdict = verdict_label(&facts, Some(&hex), &verdict);
    if let Some((reason, kind)) = refused(&gate) {
        let verdict = if kind == RefuseKind::Pending {
            "sandbox-pending".to_owned()
        } else {
            verdict
        };
        audit(
            st,
            client,
            eco,
            name,
            &row.version,
            &row.filename,
            Some(&hex),
            &verdict,
            false,
            &reason,
        );
        return Err(refusal(st, kind, &reason, &verdict));
    }
    Ok((sha, verdict))
}

// ---------------------------------------------------------------- npm

/// Decode an npm name taken from a URL path (`@scope%2fname` in any case).
fn npm_name(parts: &[&str]) -> Result<(PackageName, usize), Response> {
    let bad = || err(StatusCode::NOT_FOUND, "invalid package name");
    let first = *parts.first().ok_or_else(bad)?;
    let first_l = first.replace("%40", "@");
    let (raw, used) = if first_l.starts_with('@') {
        if first_l.to_ascii_lowercase().contains("%2f") {
            (first_l, 1)
        } else {
            let second = *parts.get(1).ok_or_else(bad)?;
            (format!("{first_l}/{second}"), 2)
        }
    } else {
        (first_l, 1)
    };
    if raw.replace("%2f", "").replace("%2F", "").contains('%') {
        return Err(bad());
    }
    let name = PackageName::parse(Ecosystem::Npm, &raw)
        .map_err(|e| err(StatusCode::NOT_FOUND, e.to_string()))?;
    Ok((name, used))
}

async fn load_packument(
    st: &AppState,
    name: &str,
) -> Result<Option<(Value, Vec<npm::NpmVersion>, Option<String>)>, Response> {
    if st.policy.is_private(Ecosystem::Npm, name) {
        return Ok(None);
    }
    let Some(up) = &st.npm_up else {
        return Err(err(
            StatusCode::SERVICE_UNAVAILABLE,
            "no npm upstream configured",
        ));
    };
    let Ok(url) = up.join(&name.replace('/', "%2f")) else {
        return Err(err(StatusCode::BAD_REQUEST, "bad package name"));
    };
    let (fetched, fresh) = st
        .fetch_meta(&url, "application/json")
        .await
        .map_err(|e| err(StatusCode::BAD_GATEWAY, e))?;
    let Fetched::Found { body, stale, .. } = fetched else {
        // Upstream no longer has the package (unpublished or taken down).
        st.store
            .put_files(Ecosystem::Npm, name, &[])
            .map_err(|e| store_err(&e))?;
        return Ok(None);
    };
    let (doc, versions) =
        npm::parse(&body).map_err(|e| err(StatusCode::BAD_GATEWAY, e.to_string()))?;
    if fresh {
        let rows: Vec<FileRow> = versions.iter().map(|v| v.file.clone()).collect();
        st.store
            .put_files(Ecosystem::Npm, name, &rows)
            .map_err(|e| store_err(&e))?;
    }
    Ok(Some((doc, versions, stale)))
}

async fn npm_route(
    st: &Arc<AppState>,
    client: &Client,
    headers: &HeaderMap,
    rest: &[&str],
) -> Response {
    match rest {
        ["-", "ping"] => {
            return (
                StatusCode::OK,
                [(header::CONTENT_TYPE, "application/json")],
                "{}",
            )
                .into_response();
        }
        ["-", "whoami"] => {
            return (
                StatusCode::OK,
                [(header::CONTENT_TYPE, "application/json")],
                json!({"username": client.principal}).to_string(),
            )
                .into_response();
        }
        ["-", ..] => return err(StatusCode::NOT_FOUND, "not supported by this gate"),
        [] | [""] => return err(StatusCode::NOT_FOUND, "not found"),
        _ => {}
    }
    let (name, used) = match npm_name(rest) {
        Ok(x) => x,
        Err(r) => return r,
    };
    let tail = rest.get(used..).unwrap_or(&[]);
    match tail {
        [] | [""] => npm_packument(st, headers, name.as_str(), None).await,
        ["-", file] => {
            if !pypi::safe_filename(file) {
                return err(StatusCode::NOT_FOUND, "not found");
            }
            let row = match lookup_file(st, Ecosystem::Npm, name.as_str(), file).await {
                Ok(Some(r)) => r,
                Ok(None) => return err(StatusCode::NOT_FOUND, "no such tarball"),
                Err(r) => return r,
            };
            serve_artifact(st, client, Ecosystem::Npm, name.as_str(), row).await
        }
        [version] => npm_packument(st, headers, name.as_str(), Some(version)).await,
        _ => err(StatusCode::NOT_FOUND, "not found"),
    }
}

async fn npm_packument(
    st: &AppState,
    headers: &HeaderMap,
    name: &str,
    version: Option<&str>,
) -> Response {
    let (mut doc, versions, stale) = match load_packument(st, name).await {
        Ok(Some(x)) => x,
        Ok(None) => return err(StatusCode::NOT_FOUND, "Not found"),
        Err(r) => return r,
    };
    let facts = match st.facts(Ecosystem::Npm, name) {
        Ok(f) => f,
        Err(e) => return store_err(&e),
    };
    let allowed: Vec<&npm::NpmVersion> = versions
        .iter()
        .filter(|v| {
            st.judge(
                Ecosystem::Npm,
                name,
                &v.version,
                v.file.upload_time.as_deref(),
                &facts,
            )
            .listed()
        })
        .collect();
    let base = base_url(st, headers);
    npm::filter(&mut doc, name, &base, &allowed);
    if let Some(v) = version {
        let v = doc
            .get("dist-tags")
            .and_then(|t| t.get(v))
            .and_then(Value::as_str)
            .unwrap_or(v)
            .to_owned();
        return match doc.get("versions").and_then(|vs| vs.get(&v)) {
            Some(m) => (
                StatusCode::OK,
                [(header::CONTENT_TYPE, "application/json")],
                m.to_string(),
            )
                .into_response(),
            None => err(StatusCode::NOT_FOUND, "version not found"),
        };
    }
    let accept = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let (ct, body) = if accept.contains("application/vnd.npm.install-v1+json") {
        (
            "application/vnd.npm.install-v1+json",
            npm::abbreviate(&doc).to_string(),
        )
    } else {
        ("application/json", doc.to_string())
    };
    meta_response(
        headers,
        ct,
        body.into_bytes(),
        stale.as_deref(),
        "Accept, Accept-Encoding",
    )
}

const MAX_POST: usize = 16 << 20;

async fn read_body(headers: &HeaderMap, body: Body) -> Result<Vec<u8>, Response> {
    let raw = axum::body::to_bytes(body, MAX_POST)
        .await
        .map_err(|_| err(StatusCode::PAYLOAD_TOO_LARGE, "body too large"))?;
    let gz = headers
        .get(header::CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("gzip"));
    if !gz {
        return Ok(raw.to_vec());
    }
    let mut out = Vec::new();
    let dec = flate2::read::GzDecoder::new(&raw[..]);
    std::io::Read::read_to_end(&mut std::io::Read::take(dec, MAX_POST as u64 + 1), &mut out)
        .map_err(|_| err(StatusCode::BAD_REQUEST, "bad gzip body"))?;
    if out.len() > MAX_POST {
        return Err(err(StatusCode::PAYLOAD_TOO_LARGE, "body too large"));
    }
    Ok(out)
}

/// `npm audit`: report versions the gate refuses as advisories.
async fn npm_audit(st: &AppState, headers: &HeaderMap, body: Body) -> Response {
    let body = match read_body(headers, body).await {
        Ok(b) => b,
        Err(r) => return r,
    };
    let Ok(req) = serde_json::from_slice::<HashMap<String, Vec<String>>>(&body) else {
        return err(
            StatusCode::BAD_REQUEST,
            "expected {\"name\": [\"version\", ...]}",
        );
    };
    let base = base_url(st, headers);
    let mut out = serde_json::Map::new();
    for (raw, versions) in req.iter().take(100_000) {
        let Ok(name) = PackageName::parse(Ecosystem::Npm, raw) else {
            continue;
        };
        let facts = match st.facts(Ecosystem::Npm, name.as_str()) {
            Ok(f) => f,
            Err(e) => return store_err(&e),
        };
        if facts.decisions.is_empty() && facts.artifacts.is_empty() && facts.intel.is_empty() {
            continue;
        }
        let mut bad: Vec<(String, String, RefuseKind)> = Vec::new();
        for v in versions.iter().filter(|v| npm::safe_version(v)) {
            // Cooldown is not a vulnerability (judged without the upload
            // time), nor is a sandbox run still to come.
            if let Gate::Refuse { kind, reason } =
                st.judge(Ecosystem::Npm, name.as_str(), v, None, &facts)
                && kind != RefuseKind::Cooldown
                && kind != RefuseKind::Pending
            {
                bad.push((v.clone(), reason, kind));
            }
        }
        if bad.is_empty() {
            continue;
        }
        let advisories: Vec<Value> = bad
            .iter()
            .map(|(v, reason, kind)| {
                let digest = sha2::Sha256::digest(format!("{}@{v}", name.as_str()).as_bytes());
                let id = u64::from_be_bytes([0, 0, digest[0], digest[1], digest[2], digest[3], digest[4], digest[5]]) % 9_000_000_000 + 1_000_000_000;
                let severity = if *kind == RefuseKind::Blocked { "critical" } else { "high" };
                json!({
                    "id": id,
                    "url": format!("{base}/-/sluice/advisory/{}/{v}", name.as_str()),
                    "title": format!("sluice: {reason}"),
                    "severity": severity,
                    "vulnerable_versions": v,
                    "cwe": ["CWE-506"],
                    "cvss": {"score": if severity == "critical" { 10.0 } else { 7.5 }, "vectorString": null},
                })
            })
            .collect();
        out.insert(raw.clone(), Value::Array(advisories));
    }
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        Value::Object(out).to_string(),
    )
        .into_response()
}

// ---------------------------------------------------------------- admin API

async fn admin_api(
    st: &AppState,
    method: &Method,
    rest: &str,
    query: Option<&str>,
    headers: &HeaderMap,
    body: Body,
) -> Response {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|a| a.strip_prefix("Bearer "))
        .map(str::trim);
    let Some(actor) = token
        .and_then(|t| st.cfg.admin.tokens.iter().find(|c| c.token == t))
        .map(|c| c.name.clone())
    else {
        return err(StatusCode::UNAUTHORIZED, "admin token required");
    };
    let q = |k: &str| -> Option<String> {
        query?
            .split('&')
            .find_map(|kv| kv.strip_prefix(&format!("{k}=")))
            .map(|v| {
                percent_encoding::percent_decode_str(v)
                    .decode_utf8_lossy()
                    .into_owned()
            })
    };
    match (method.clone(), rest) {
        (Method::GET, "decisions") => match st.store.decisions() {
            Ok(d) => json_ok(&json!(d)),
            Err(e) => store_err(&e),
        },
        (Method::GET, "audit-data") => audit_data(&st.store),
        (Method::GET, "sandbox") => match st.store.sandbox_jobs() {
            Ok(j) => json_ok(&json!(j)),
            Err(e) => store_err(&e),
        },
        (Method::GET, "who-pulled") => {
            let Some(spec) = q("package").and_then(|p| p.parse::<PackageSpec>().ok()) else {
                return err(
                    StatusCode::BAD_REQUEST,
                    "package=pypi:NAME[==VERSION] or npm:NAME[@VERSION] required",
                );
            };
            match st.store.who_pulled(
                spec.name.ecosystem(),
                spec.name.as_str(),
                spec.version.as_ref().map(|v| v.as_str()),
            ) {
                Ok(p) => json_ok(&json!(p)),
                Err(e) => store_err(&e),
            }
        }
        (Method::POST, "block" | "unblock" | "allow") => {
            let body = match read_body(headers, body).await {
                Ok(b) => b,
                Err(r) => return r,
            };
            let Ok(v) = serde_json::from_slice::<Value>(&body) else {
                return err(
                    StatusCode::BAD_REQUEST,
                    "expected JSON {\"package\": ..., \"reason\": ...}",
                );
            };
            let Some(spec) = v
                .get("package")
                .and_then(Value::as_str)
                .and_then(|p| p.parse::<PackageSpec>().ok())
            else {
                return err(
                    StatusCode::BAD_REQUEST,
                    "package=pypi:NAME[==VERSION] or npm:NAME[@VERSION] required",
                );
            };
            let reason = v
                .get("reason")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned();
            let eco = spec.name.ecosystem();
            let ver = spec.version.as_ref().map(|v| v.as_str());
            let res = match rest {
                "block" => st
                    .store
                    .decide(eco, spec.name.as_str(), ver, Action::Block, &reason, &actor)
                    .map(|d| json!(d)),
                "allow" => st
                    .store
                    .decide(eco, spec.name.as_str(), ver, Action::Allow, &reason, &actor)
                    .map(|d| json!(d)),
                _ => st
                    .store
                    .clear_decision(eco, spec.name.as_str(), ver, &reason, &actor)
                    .map(|b| json!({"removed": b})),
            };
            match res {
                Ok(v) => json_ok(&v),
                Err(e) => store_err(&e),
            }
        }
        _ => err(StatusCode::NOT_FOUND, "unknown admin endpoint"),
    }
}

/// What `sluice audit --gate URL` matches lockfiles against: the manual
/// decisions, the artifacts judged malicious or suspicious and the active
/// intel records' package rows (the rows its local-store matchers load).
fn audit_data(store: &Store) -> Response {
    let rows = store.decisions().and_then(|d| {
        let a =
            store.artifacts_with_verdict(&[VerdictLevel::Malicious, VerdictLevel::Suspicious])?;
        let h = store.intel_all_hits()?;
        Ok((d, a, h))
    });
    match rows {
        Ok((decisions, artifacts, intel_hits)) => json_ok(&json!({
            "decisions": decisions,
            "artifacts": artifacts,
            "intel_hits": intel_hits,
        })),
        Err(e) => store_err(&e),
    }
}

fn json_ok(v: &Value) -> Response {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        v.to_string(),
    )
        .into_response()
}
