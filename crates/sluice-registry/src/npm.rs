//! npm packuments: extracting tarball locations, filtering refused
//! versions, rewriting tarball URLs, deriving the abbreviated form.

use serde_json::{Map, Value, json};
use sluice_store::FileRow;

use crate::RegistryError;
use crate::pypi::safe_filename;

/// A version of a packument with what the gate needs to know.
#[derive(Clone, Debug, PartialEq)]
pub struct NpmVersion {
    /// The version string.
    pub version: String,
    /// The tarball file (gate URL segment and upstream location).
    pub file: FileRow,
}

/// Parse a packument and list its versions with their tarballs. Versions
/// with no usable tarball are left out (and will be removed from the
/// document served).
///
/// # Errors
/// The body is not a JSON object.
pub fn parse(body: &[u8]) -> Result<(Value, Vec<NpmVersion>), RegistryError> {
    let doc: Value = serde_json::from_slice(body)
        .map_err(|e| RegistryError::Upstream(format!("malformed packument: {e}")))?;
    if !doc.is_object() {
        return Err(RegistryError::Upstream(
            "packument is not a JSON object".into(),
        ));
    }
    let mut out = Vec::new();
    if let Some(vs) = doc.get("versions").and_then(Value::as_object) {
        for (ver, man) in vs {
            let dist = man.get("dist");
            let Some(tarball) = dist.and_then(|d| d.get("tarball")).and_then(Value::as_str) else {
                continue;
            };
            let Ok(u) = url::Url::parse(tarball) else {
                continue;
            };
            if !matches!(u.scheme(), "http" | "https") {
                continue;
            }
            let Some(filename) = u
                .path_segments()
                .and_then(|mut s| s.next_back())
                .map(str::to_owned)
            else {
                continue;
            };
            if !safe_filename(&filename) || !safe_version(ver) {
                continue;
            }
            let s = |k: &str| {
                dist.and_then(|d| d.get(k))
                    .and_then(Value::as_str)
                    .map(str::to_owned)
            };
            out.push(NpmVersion {
                version: ver.clone(),
                file: FileRow {
                    filename,
                    version: ver.clone(),
                    url: u.to_string(),
                    sha256: None,
                    integrity: s("integrity"),
                    shasum: s("shasum"),
                    metadata_sha256: None,
                    upload_time: doc
                        .get("time")
                        .and_then(|t| t.get(ver))
                        .and_then(Value::as_str)
                        .map(str::to_owned),
                    removed_at: None,
                },
            });
        }
    }
    Ok((doc, out))
}

/// A version string safe to echo: semver characters only.
#[must_use]
pub fn safe_version(v: &str) -> bool {
    !v.is_empty()
        && v.len() <= 256
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'+' | b'_'))
}

/// The gate's tarball URL: `{base}/npm/{name}/-/{file}` (scoped names keep
/// their `/`, as the npm registry does).
#[must_use]
pub fn tarball_url(base: &str, name: &str, file: &str) -> String {
    format!("{base}/npm/{name}/-/{file}")
}

/// semver ordering: (major, minor, patch, is_release, prerelease).
#[must_use]
pub fn semver_key(v: &str) -> (u64, u64, u64, bool, String) {
    let v = v.split('+').next().unwrap_or(v);
    let (core, pre) = match v.split_once('-') {
        Some((c, p)) => (c, p.to_owned()),
        None => (v, String::new()),
    };
    let mut it = core.split('.').map(|n| n.parse::<u64>().unwrap_or(0));
    (
        it.next().unwrap_or(0),
        it.next().unwrap_or(0),
        it.next().unwrap_or(0),
        pre.is_empty(),
        pre,
    )
}

/// Remove refused versions, rewrite tarball URLs to the gate, and re-point
/// dist-tags that named a removed version. `allowed` lists the versions to
/// keep; everything else in `versions` and `time` goes.
pub fn filter(doc: &mut Value, name: &str, base: &str, allowed: &[&NpmVersion]) {
    let Some(obj) = doc.as_object_mut() else {
        return;
    };
    let keep: std::collections::HashMap<&str, &NpmVersion> =
        allowed.iter().map(|v| (v.version.as_str(), *v)).collect();
    if let Some(vs) = obj.get_mut("versions").and_then(Value::as_object_mut) {
        vs.retain(|k, _| keep.contains_key(k.as_str()));
        for (k, man) in vs.iter_mut() {
            if let (Some(v), Some(dist)) = (
                keep.get(k.as_str()),
                man.get_mut("dist").and_then(Value::as_object_mut),
            ) {
                dist.insert(
                    "tarball".into(),
                    json!(tarball_url(base, name, &v.file.filename)),
                );
            }
        }
    }
    if let Some(t) = obj.get_mut("time").and_then(Value::as_object_mut) {
        t.retain(|k, _| k == "created" || k == "modified" || keep.contains_key(k.as_str()));
    }
    let mut best: Vec<&str> = keep.keys().copied().collect();
    best.sort_by_key(|v| semver_key(v));
    let best_release = best
        .iter()
        .rev()
        .find(|v| semver_key(v).3)
        .or(best.last())
        .map(|s| (*s).to_owned());
    if let Some(tags) = obj.get_mut("dist-tags").and_then(Value::as_object_mut) {
        let mut fixed = Map::new();
        for (tag, v) in tags.iter() {
            match v.as_str() {
                Some(v) if keep.contains_key(v) => {
                    fixed.insert(tag.clone(), json!(v));
                }
                _ if tag == "latest" => {
                    if let Some(b) = &best_release {
                        fixed.insert(tag.clone(), json!(b));
                    }
                }
                _ => {}
            }
        }
        *tags = fixed;
    }
}

/// The abbreviated ("corgi") document derived from a full one.
#[must_use]
pub fn abbreviate(doc: &Value) -> Value {
    const KEEP: &[&str] = &[
        "name",
        "version",
        "dist",
        "dependencies",
        "optionalDependencies",
        "devDependencies",
        "peerDependencies",
        "peerDependenciesMeta",
        "bundleDependencies",
        "bundledDependencies",
        "bin",
        "directories",
        "engines",
        "os",
        "cpu",
        "deprecated",
        "funding",
        "_hasShrinkwrap",
        "libc",
    ];
    let mut out = Map::new();
    for k in ["name", "dist-tags"] {
        if let Some(v) = doc.get(k) {
            out.insert(k.into(), v.clone());
        }
    }
    if let Some(m) = doc.get("time").and_then(|t| t.get("modified")) {
        out.insert("modified".into(), m.clone());
    }
    let mut vs = Map::new();
    if let Some(versions) = doc.get("versions").and_then(Value::as_object) {
        for (ver, man) in versions {
            let mut m = Map::new();
            for k in KEEP {
                if let Some(v) = man.get(*k) {
                    m.insert((*k).into(), v.clone());
                }
            }
            let scripts = man.get("scripts");
            let has_install = ["preinstall", "install", "postinstall"]
                .iter()
                .any(|s| scripts.and_then(|x| x.get(*s)).is_some());
            if has_install || man.get("hasInstallScript").and_then(Value::as_bool) == Some(true) {
                m.insert("hasInstallScript".into(), json!(true));
            }
            vs.insert(ver.clone(), Value::Object(m));
        }
    }
    out.insert("versions".into(), Value::Object(vs));
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc() -> Value {
        json!({
            "name": "@s/demo",
            "dist-tags": {"latest": "2.0.0", "beta": "2.1.0-beta.1", "old": "1.0.0"},
            "time": {"created": "2020-01-01T00:00:00Z", "modified": "2020-01-03T00:00:00Z",
                     "1.0.0": "2020-01-01T00:00:00Z", "2.0.0": "2020-01-02T00:00:00Z", "2.1.0-beta.1": "2020-01-03T00:00:00Z"},
            "versions": {
                "1.0.0": {"name":"@s/demo","version":"1.0.0","dist":{"tarball":"http://127.0.0.1:1/@s/demo/-/demo-1.0.0.tgz","integrity":"sha512-x","shasum":"ab"},"scripts":{"postinstall":"node x"}},
                "2.0.0": {"name":"@s/demo","version":"2.0.0","dist":{"tarball":"http://127.0.0.1:1/@s/demo/-/demo-2.0.0.tgz"}},
                "2.1.0-beta.1": {"name":"@s/demo","version":"2.1.0-beta.1","dist":{"tarball":"http://127.0.0.1:1/@s/demo/-/demo-2.1.0-beta.1.tgz"}},
                "9.9.9": {"name":"@s/demo","version":"9.9.9","dist":{"tarball":"file:///etc/passwd"}},
                "6.6.6": {"name":"@s/demo","version":"6.6.6","dist":{"tarball":"http://127.0.0.1:1/..%2f..%2fx/-/.."}}
            }
        })
    }

    #[test]
    fn parse_skips_bad_tarballs() {
        let (_, vs) = parse(doc().to_string().as_bytes()).unwrap();
        let names: Vec<_> = vs.iter().map(|v| v.version.as_str()).collect();
        assert_eq!(names, vec!["1.0.0", "2.0.0", "2.1.0-beta.1"]);
        assert_eq!(vs[0].file.integrity.as_deref(), Some("sha512-x"));
        assert_eq!(
            vs[0].file.upload_time.as_deref(),
            Some("2020-01-01T00:00:00Z")
        );
        assert!(parse(b"[1]").is_err());
        assert!(parse(b"{").is_err());
    }

    #[test]
    fn filter_moves_latest_and_drops_time() {
        let (mut d, vs) = parse(doc().to_string().as_bytes()).unwrap();
        let allowed: Vec<&NpmVersion> = vs.iter().filter(|v| v.version != "2.0.0").collect();
        filter(&mut d, "@s/demo", "http://gate", &allowed);
        assert_eq!(d["dist-tags"]["latest"], "1.0.0");
        assert_eq!(d["dist-tags"]["beta"], "2.1.0-beta.1");
        assert!(d["versions"].get("2.0.0").is_none());
        assert!(d["versions"].get("9.9.9").is_none());
        assert!(d["time"].get("2.0.0").is_none());
        assert_eq!(d["time"]["created"], "2020-01-01T00:00:00Z");
        assert_eq!(
            d["versions"]["1.0.0"]["dist"]["tarball"],
            "http://gate/npm/@s/demo/-/demo-1.0.0.tgz"
        );
        assert_eq!(d["versions"]["1.0.0"]["dist"]["integrity"], "sha512-x");
        let c = abbreviate(&d);
        assert_eq!(c["versions"]["1.0.0"]["hasInstallScript"], true);
        assert!(c["versions"]["1.0.0"].get("scripts").is_none());
        assert_eq!(c["modified"], "2020-01-03T00:00:00Z");
    }

    #[test]
    fn semver_order() {
        let mut v = vec!["1.10.0", "1.2.0", "2.0.0-rc.1", "2.0.0"];
        v.sort_by_key(|s| semver_key(s));
        assert_eq!(v, vec!["1.2.0", "1.10.0", "2.0.0-rc.1", "2.0.0"]);
    }
}
