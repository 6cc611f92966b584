//! `audit --gate URL`: the gate's sources fetched from a running gate's
//! admin API (`GET /-/sluice/admin/audit-data`) instead of a local store.

use std::time::Duration;

use anyhow::Context as _;
use sluice_store::{ArtifactRow, Decision, IntelPackageHit};

use super::matchers::{GateMatcher, IntelMatcher};

/// The admin API path of the audit data, under the gate's URL.
const PATH: &str = "/-/sluice/admin/audit-data";

/// How the audit data is fetched: up to 1 GiB.
const FETCH: crate::http::Bounds = crate::http::Bounds {
    connect: Duration::from_secs(10),
    total: Duration::from_secs(120),
    max_bytes: 1 << 30,
};

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
    let body = crate::http::get(&url, "the gate", Some(token), &FETCH)?;
    let data: AuditData = serde_json::from_slice(&body)
        .with_context(|| format!("{url}: not the audit data of a sluice gate"))?;
    let intel = IntelMatcher::from_hits(data.intel_hits)
        .with_context(|| format!("{url}: an intel record does not decode"))?;
    Ok((
        GateMatcher::from_rows(data.decisions, data.artifacts),
        intel,
    ))
}
