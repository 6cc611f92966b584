//! One bounded HTTP GET for the commands that fetch a whole document
//! (`db import URL`, `audit --gate URL`): a timeout for connecting and for
//! the whole exchange, and a size limit checked as the body arrives.

use std::time::Duration;

use anyhow::Context as _;

/// Limits of one fetch.
pub struct Bounds {
    /// Time to connect.
    pub connect: Duration,
    /// Time for the whole exchange.
    pub total: Duration,
    /// Largest body accepted, in bytes.
    pub max_bytes: u64,
}

/// GET `url` from `who` (named in errors: "the gate"), with an admin
/// bearer token when given, and return its body.
///
/// # Errors
/// The host unreachable, a non-success status (401/403 named as a refused
/// token when one was sent), a timeout, or a body over `bounds.max_bytes`.
pub fn get(url: &str, who: &str, bearer: Option<&str>, bounds: &Bounds) -> anyhow::Result<Vec<u8>> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let client = reqwest::Client::builder()
            .user_agent(concat!("sluice/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(bounds.connect)
            .timeout(bounds.total)
            .build()?;
        let mut req = client.get(url);
        if let Some(t) = bearer {
            req = req.bearer_auth(t);
        }
        let mut resp = req
            .send()
            .await
            .with_context(|| format!("cannot reach {who} at {url}"))?;
        let status = resp.status();
        if bearer.is_some()
            && (status == reqwest::StatusCode::UNAUTHORIZED
                || status == reqwest::StatusCode::FORBIDDEN)
        {
            anyhow::bail!("{url}: {who} refused the admin token (HTTP {status})");
        }
        anyhow::ensure!(status.is_success(), "{url}: HTTP {status}");
        let mut buf = Vec::new();
        while let Some(chunk) = resp
            .chunk()
            .await
            .with_context(|| format!("reading {url}"))?
        {
            anyhow::ensure!(
                (buf.len() + chunk.len()) as u64 <= bounds.max_bytes,
                "{url}: larger than {} bytes",
                bounds.max_bytes
            );
            buf.extend_from_slice(&chunk);
        }
        Ok(buf)
    })
}
