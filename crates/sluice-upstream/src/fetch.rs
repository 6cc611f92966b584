//! Downloading one artifact, bounded and verified.

use std::time::Duration;

use base64::Engine as _;
use sha2::Digest as _;
use sluice_model::{Ecosystem, PackageSpec, Sha256};
use url::Url;

use crate::pypi::{IndexFile, parse_simple_html, parse_simple_json};
use crate::{Upstreams, npm};

/// The largest artifact or index page downloaded.
const MAX_BYTES: u64 = 512 << 20;

/// One downloaded artifact.
#[derive(Clone, Debug)]
pub struct Downloaded {
    /// The artifact's file name.
    pub filename: String,
    /// The version downloaded.
    pub version: String,
    /// Where it came from.
    pub url: Url,
    /// The bytes.
    pub bytes: Vec<u8>,
    /// sha256 of the bytes.
    pub sha256: Sha256,
}

/// Why a download failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FetchError {
    /// No upstream is configured for the ecosystem.
    #[error("no {0} upstream configured (pass one, or configure pip/npm)")]
    NoUpstream(Ecosystem),
    /// A transport error (connection refused, timeout, TLS).
    #[error("request to {url} failed: {source}")]
    Network {
        /// The URL.
        url: String,
        /// The client's error.
        source: reqwest::Error,
    },
    /// The server answered with an error status.
    #[error("{url} answered HTTP {status}")]
    Status {
        /// The URL.
        url: String,
        /// The status code.
        status: u16,
    },
    /// The body was larger than the cap.
    #[error("{url}: response larger than {MAX_BYTES} bytes")]
    TooLarge {
        /// The URL.
        url: String,
    },
    /// The index answered something we cannot read.
    #[error("{url}: malformed index answer: {detail}")]
    Malformed {
        /// The URL.
        url: String,
        /// What was wrong.
        detail: String,
    },
    /// No file matches the requested version.
    #[error("{0}")]
    NotFound(String),
    /// The bytes do not match the digest the index advertised.
    #[error("{url}: digest mismatch (index says {expected}, got {actual})")]
    DigestMismatch {
        /// The URL.
        url: String,
        /// Advertised digest.
        expected: String,
        /// Digest of what arrived.
        actual: String,
    },
    /// The async runtime could not start.
    #[error("cannot start the async runtime: {0}")]
    Runtime(std::io::Error),
}

fn client() -> Result<reqwest::Client, FetchError> {
    reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(15))
        .timeout(Duration::from_secs(300))
        .redirect(reqwest::redirect::Policy::limited(5))
        .user_agent(concat!("sluice/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|source| FetchError::Network {
            url: String::new(),
            source,
        })
}

async fn get(client: &reqwest::Client, url: &Url, accept: &str) -> Result<Vec<u8>, FetchError> {
    let net = |source| FetchError::Network {
        url: url.to_string(),
        source,
    };
    let mut resp = client
        .get(url.clone())
        .header(reqwest::header::ACCEPT, accept)
        .send()
        .await
        .map_err(net)?;
    if !resp.status().is_success() {
        return Err(FetchError::Status {
            url: url.to_string(),
            status: resp.status().as_u16(),
        });
    }
    if resp.content_length().is_some_and(|n| n > MAX_BYTES) {
        return Err(FetchError::TooLarge {
            url: url.to_string(),
        });
    }
    // Content-Length is untrusted: cap the initial allocation and count.
    let hint = resp.content_length().unwrap_or(0).min(1 << 20);
    let mut body = Vec::with_capacity(usize::try_from(hint).unwrap_or(0));
    while let Some(chunk) = resp.chunk().await.map_err(net)? {
        if body.len() as u64 + chunk.len() as u64 > MAX_BYTES {
            return Err(FetchError::TooLarge {
                url: url.to_string(),
            });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// Download the artifact named by `spec` from `upstreams`.
///
/// PyPI: the requested version's sdist if there is one, else a pure-Python
/// wheel, else any wheel; without a version, the newest non-yanked upload.
/// npm: the version's tarball, or `dist-tags.latest`.
///
/// # Errors
/// See [`FetchError`].
pub async fn fetch(spec: &PackageSpec, upstreams: &Upstreams) -> Result<Downloaded, FetchError> {
    let client = client()?;
    match spec.name.ecosystem() {
        Ecosystem::PyPI => fetch_pypi(&client, spec, upstreams).await,
        Ecosystem::Npm => fetch_npm(&client, spec, upstreams).await,
    }
}

/// [`fetch`] on a private single-threaded runtime, for synchronous callers.
///
/// # Errors
/// See [`FetchError`].
pub fn fetch_blocking(spec: &PackageSpec, upstreams: &Upstreams) -> Result<Downloaded, FetchError> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(FetchError::Runtime)?
        .block_on(fetch(spec, upstreams))
}

async fn fetch_pypi(
    client: &reqwest::Client,
    spec: &PackageSpec,
    up: &Upstreams,
) -> Result<Downloaded, FetchError> {
    let index = up
        .pypi_simple
        .as_ref()
        .ok_or(FetchError::NoUpstream(Ecosystem::PyPI))?;
    let page = index
        .join(&format!("{}/", spec.name.as_str()))
        .map_err(|e| FetchError::Malformed {
            url: index.to_string(),
            detail: e.to_string(),
        })?;
    let body = get(
        client,
        &page,
        "application/vnd.pypi.simple.v1+json, text/html;q=0.1",
    )
    .await?;
    let files = if body.first() == Some(&b'{') {
        parse_simple_json(&body, &page).map_err(|detail| FetchError::Malformed {
            url: page.to_string(),
            detail,
        })?
    } else {
        parse_simple_html(&String::from_utf8_lossy(&body), &page)
    };
    let file = choose_pypi(&files, spec.version.as_ref().map(|v| v.as_str())).ok_or_else(|| {
        FetchError::NotFound(match &spec.version {
            Some(v) => format!("{spec}: no file for version {v} on the index"),
            None => format!("{spec}: no installable file on the index"),
        })
    })?;
    let bytes = get(client, &file.url, "*/*").await?;
    let sha256 = Sha256::of(&bytes);
    if let Some(expected) = &file.sha256
        && !expected.eq_ignore_ascii_case(&sha256.to_hex())
    {
        return Err(FetchError::DigestMismatch {
            url: file.url.to_string(),
            expected: expected.clone(),
            actual: sha256.to_hex(),
        });
    }
    Ok(Downloaded {
        filename: file.filename.clone(),
        version: file.version().unwrap_or_default().to_owned(),
        url: file.url.clone(),
        bytes,
        sha256,
    })
}

/// Download one file of each PyPI project in `names`, the file chosen by
/// `pick` from the project's index page (e.g. the newest wheel this
/// interpreter can install). One result per name, in order; each checked
/// against the page's sha256.
///
/// # Errors
/// Per name, see [`FetchError`]; the outer error is a runtime failure.
pub fn fetch_pypi_picked_blocking(
    names: &[&str],
    upstreams: &Upstreams,
    pick: &dyn Fn(&[IndexFile]) -> Option<IndexFile>,
) -> Result<Vec<Result<Downloaded, FetchError>>, FetchError> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(FetchError::Runtime)?;
    rt.block_on(async {
        let client = client()?;
        let index = upstreams
            .pypi_simple
            .as_ref()
            .ok_or(FetchError::NoUpstream(Ecosystem::PyPI))?;
        let mut out = Vec::new();
        for name in names {
            out.push(fetch_picked(&client, index, name, pick).await);
        }
        Ok(out)
    })
}

async fn fetch_picked(
    client: &reqwest::Client,
    index: &Url,
    name: &str,
    pick: &dyn Fn(&[IndexFile]) -> Option<IndexFile>,
) -> Result<Downloaded, FetchError> {
    let page = index
        .join(&format!("{name}/"))
        .map_err(|e| FetchError::Malformed {
            url: index.to_string(),
            detail: e.to_string(),
        })?;
    let body = get(
        client,
        &page,
        "application/vnd.pypi.simple.v1+json, text/html;q=0.1",
    )
    .await?;
    let files = if body.first() == Some(&b'{') {
        parse_simple_json(&body, &page).map_err(|detail| FetchError::Malformed {
            url: page.to_string(),
            detail,
        })?
    } else {
        parse_simple_html(&String::from_utf8_lossy(&body), &page)
    };
    let file = pick(&files)
        .ok_or_else(|| FetchError::NotFound(format!("{name}: no suitable file on the index")))?;
    let bytes = get(client, &file.url, "*/*").await?;
    let sha256 = Sha256::of(&bytes);
    if let Some(expected) = &file.sha256
        && !expected.eq_ignore_ascii_case(&sha256.to_hex())
    {
        return Err(FetchError::DigestMismatch {
            url: file.url.to_string(),
            expected: expected.clone(),
            actual: sha256.to_hex(),
        });
    }
    Ok(Downloaded {
        filename: file.filename.clone(),
        version: file.version().unwrap_or_default().to_owned(),
        url: file.url.clone(),
        bytes,
        sha256,
    })
}

/// Choose which file of a project page to fetch.
fn choose_pypi<'a>(files: &'a [IndexFile], version: Option<&str>) -> Option<&'a IndexFile> {
    let candidates: Vec<&IndexFile> = match version {
        Some(v) => files
            .iter()
            .filter(|f| f.version().is_some_and(|fv| fv == v))
            .collect(),
        None => {
            let live: Vec<&IndexFile> = files.iter().filter(|f| !f.yanked).collect();
            // The newest upload: by PEP 700 upload time when the index gives
            // it, else page order (indexes list files oldest first).
            let newest = live
                .iter()
                .enumerate()
                .max_by(|(ia, a), (ib, b)| a.upload_time.cmp(&b.upload_time).then(ia.cmp(ib)))
                .and_then(|(_, f)| f.version())?;
            live.into_iter()
                .filter(|f| f.version() == Some(newest))
                .collect()
        }
    };
    candidates
        .iter()
        .find(|f| f.is_sdist())
        .or_else(|| {
            candidates
                .iter()
                .find(|f| f.filename.contains("-none-any.whl"))
        })
        .or_else(|| candidates.iter().find(|f| f.filename.ends_with(".whl")))
        .copied()
}

async fn fetch_npm(
    client: &reqwest::Client,
    spec: &PackageSpec,
    up: &Upstreams,
) -> Result<Downloaded, FetchError> {
    let registry = up
        .npm_registry
        .as_ref()
        .ok_or(FetchError::NoUpstream(Ecosystem::Npm))?;
    // Scoped names are requested with the slash encoded, as npm does.
    let path = spec.name.as_str().replace('/', "%2f");
    let url = registry.join(&path).map_err(|e| FetchError::Malformed {
        url: registry.to_string(),
        detail: e.to_string(),
    })?;
    let body = get(client, &url, "application/json").await?;
    let dist =
        npm::pick(&body, spec.version.as_ref().map(|v| v.as_str()), &url).map_err(|detail| {
            FetchError::Malformed {
                url: url.to_string(),
                detail,
            }
        })?;
    let bytes = get(client, &dist.tarball, "*/*").await?;
    if let Some(integrity) = &dist.integrity
        && let Some(b64) = integrity.strip_prefix("sha512-")
    {
        let actual = base64::engine::general_purpose::STANDARD.encode(sha2::Sha512::digest(&bytes));
        if actual != b64 {
            return Err(FetchError::DigestMismatch {
                url: dist.tarball.to_string(),
                expected: integrity.clone(),
                actual: format!("sha512-{actual}"),
            });
        }
    }
    let filename = dist
        .tarball
        .path_segments()
        .and_then(|mut s| s.next_back())
        .filter(|s| !s.is_empty())
        .map_or_else(
            || format!("{}-{}.tgz", spec.name.unscoped(), dist.version),
            str::to_owned,
        );
    Ok(Downloaded {
        filename,
        version: dist.version,
        url: dist.tarball,
        sha256: Sha256::of(&bytes),
        bytes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(name: &str, t: Option<&str>, yanked: bool) -> IndexFile {
        IndexFile {
            filename: name.to_owned(),
            url: Url::parse("http://127.0.0.1/x").unwrap(),
            sha256: None,
            yanked,
            upload_time: t.map(str::to_owned),
        }
    }

    #[test]
    fn choose() {
        let files = vec![
            f("p-1.0-py3-none-any.whl", None, false),
            f("p-1.0.tar.gz", None, false),
            f("p-2.0-cp311-cp311-manylinux_x86_64.whl", None, false),
            f("p-2.0-py3-none-any.whl", None, false),
            f("p-3.0.tar.gz", None, true),
        ];
        assert_eq!(
            choose_pypi(&files, Some("1.0")).unwrap().filename,
            "p-1.0.tar.gz"
        );
        assert_eq!(
            choose_pypi(&files, None).unwrap().filename,
            "p-2.0-py3-none-any.whl"
        );
        assert_eq!(
            choose_pypi(&files, Some("3.0")).unwrap().filename,
            "p-3.0.tar.gz"
        );
        assert!(choose_pypi(&files, Some("9")).is_none());
    }
}
