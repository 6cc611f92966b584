//! `audit --gate URL`: the gate's sources fetched from a running gate's
//! admin API (`GET /-/sluice/admin/audit-data`) instead of a local store.

use std::time::Duration;

use anyhow::Context as _;
use sluice_store::{ArtifactRow, Decision, IntelPackageHit};

use super::matchers::{GateMatcher, IntelMatcher};

/// The admin API path of the audit data, under the gate's URL.
const PATH: &str = "/-/sluice/admin/audit-data";

/// The largest answer accepted.
const MAX_BODY: usize = 1 << 30;

/// What `audit-data` answers.
#[derive(serde::Deserialize)]
struct AuditData {
    decisions: Vec<Decision>,
    artifacts: Vec<ArtifactRow>,
    intel_hits: Vec<IntelPackageHit>,
}

/// Fetch the audit data of the gate at `gate` with the admin `token` and
/// build the gate and intel matchers from it.
///
/// # Errors
/// No token, the gate unreachable or refusing the token, or an answer that
/// does not decode.
pub fn load(gate: &str, token: Option<&str>) -> anyhow::Result<(GateMatcher, IntelMatcher)> {
    let token = token
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .context("--gate needs the gate's admin token (--token or SLUICE_ADMIN_TOKEN)")?;
    let base = gate.trim_end_matches('/');
    anyhow::ensure!(
        base.starts_with("http://") || base.starts_with("https://"),
        "--gate {gate}: expected an http:// or https:// URL"
    );
    let url = format!("{base}{PATH}");
    let body = fetch(&url, token)?;
    let data: AuditData = serde_json::from_slice(&body)
        .with_context(|| format!("{url}: not the audit data of a sluice gate"))?;
    let intel = IntelMatcher::from_hits(data.intel_hits)
        .with_context(|| format!("{url}: an intel record does not decode"))?;
    Ok((
        GateMatcher::from_rows(data.decisions, data.artifacts),
        intel,
    ))
}

fn fetch(url: &str, token: &str) -> anyhow::Result<Vec<u8>> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let client = reqwest::Client::builder()
            .user_agent(concat!("sluice/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(120))
            .build()?;
        let mut resp = client
            .get(url)
            .bearer_auth(token)
            .send()
            .await
            .with_context(|| format!("cannot reach the gate at {url}"))?;
        let status = resp.status();
        if status == reqwest::StatusCode::UNAUTHORIZED || status == reqwest::StatusCode::FORBIDDEN {
            anyhow::bail!("{url}: the gate refused the admin token (HTTP {status})");
        }
        anyhow::ensure!(status.is_success(), "{url}: HTTP {status}");
        let mut buf = Vec::new();
        while let Some(chunk) = resp
            .chunk()
            .await
            .with_context(|| format!("reading {url}"))?
        {
            anyhow::ensure!(
                buf.len() + chunk.len() <= MAX_BODY,
                "{url}: larger than {MAX_BODY} bytes"
            );
            buf.extend_from_slice(&chunk);
        }
        Ok(buf)
    })
}
