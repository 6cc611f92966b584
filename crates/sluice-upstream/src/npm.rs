//! Reading npm packuments.

use url::Url;

/// The tarball chosen from a packument.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct NpmDist {
    pub version: String,
    pub tarball: Url,
    /// Subresource-integrity string (`sha512-…`), if given.
    pub integrity: Option<String>,
}

/// Pick `version` (or `dist-tags.latest`) from a packument.
pub(crate) fn pick(body: &[u8], version: Option<&str>, base: &Url) -> Result<NpmDist, String> {
    let v: serde_json::Value =
        serde_json::from_slice(body).map_err(|e| format!("invalid packument JSON: {e}"))?;
    let version = match version {
        Some(v) => v.to_owned(),
        None => v
            .pointer("/dist-tags/latest")
            .and_then(|x| x.as_str())
            .ok_or("packument has no dist-tags.latest")?
            .to_owned(),
    };
    let entry = v
        .get("versions")
        .and_then(|vs| vs.get(&version))
        .ok_or_else(|| format!("version {version} is not in the packument"))?;
    let tarball = entry
        .pointer("/dist/tarball")
        .and_then(|x| x.as_str())
        .ok_or("version has no dist.tarball")?;
    let tarball = base
        .join(tarball)
        .map_err(|e| format!("bad tarball URL `{tarball}`: {e}"))?;
    Ok(NpmDist {
        version,
        tarball,
        integrity: entry
            .pointer("/dist/integrity")
            .and_then(|x| x.as_str())
            .map(str::to_owned),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picks_latest_and_pinned() {
        let base = Url::parse("http://127.0.0.1:9/").unwrap();
        let body = br#"{"name":"a","dist-tags":{"latest":"1.0.1"},"versions":{
"1.0.0":{"dist":{"tarball":"http://127.0.0.1:9/a/-/a-1.0.0.tgz"}},
"1.0.1":{"dist":{"tarball":"/a/-/a-1.0.1.tgz","integrity":"sha512-xx"}}}}"#;
        let d = pick(body, None, &base).unwrap();
        assert_eq!(d.version, "1.0.1");
        assert_eq!(d.tarball.as_str(), "http://127.0.0.1:9/a/-/a-1.0.1.tgz");
        assert_eq!(d.integrity.as_deref(), Some("sha512-xx"));
        assert!(
            pick(body, Some("1.0.0"), &base)
                .unwrap()
                .integrity
                .is_none()
        );
        assert!(pick(body, Some("9.9.9"), &base).is_err());
        assert!(pick(b"{}", None, &base).is_err());
    }
}
