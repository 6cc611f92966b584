//! SBOMs: CycloneDX JSON (`components`, nested, with `purl`) and SPDX JSON
//! (`packages` with a `purl` external reference). Only `pkg:pypi/` and
//! `pkg:npm/` package URLs are read; other ecosystems are counted and left
//! out.

use std::path::Path;

use percent_encoding::percent_decode_str;
use sluice_model::Ecosystem;

use crate::tree::Node;
use crate::{Error, Parsed};

/// A package URL's ecosystem, name and version.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Purl {
    pub eco: Ecosystem,
    pub name: String,
    pub version: Option<String>,
}

/// Parse `pkg:type/namespace/name@version?qualifiers#subpath` for the two
/// types sluice knows. `None` for other types or a malformed purl.
pub(crate) fn parse_purl(s: &str) -> Option<Purl> {
    let rest = s.strip_prefix("pkg:")?;
    let rest = rest.split('#').next().unwrap_or(rest);
    let rest = rest.split('?').next().unwrap_or(rest);
    let (ty, path) = rest.split_once('/')?;
    let eco = match ty.to_ascii_lowercase().as_str() {
        "pypi" => Ecosystem::PyPI,
        "npm" => Ecosystem::Npm,
        _ => return None,
    };
    let (path, version) = match path.rsplit_once('@') {
        // The `@` of an encoded-less npm scope is at the very start.
        Some((p, v)) if !p.is_empty() => (p, Some(v)),
        _ => (path, None),
    };
    let decode = |x: &str| {
        percent_decode_str(x)
            .decode_utf8()
            .ok()
            .map(|c| c.into_owned())
    };
    let name = path
        .split('/')
        .map(decode)
        .collect::<Option<Vec<String>>>()?
        .join("/");
    let version = match version {
        Some(v) => Some(decode(v)?),
        None => None,
    };
    Some(Purl { eco, name, version })
}

fn json(path: &Path, text: &str) -> Result<Node, Error> {
    crate::json::parse(text, crate::json::Dialect::default()).map_err(|e| e.at(path))
}

fn add_purl(p: &mut Parsed, path: &Path, purl: &str, line: u32, hashes: Vec<String>) {
    let Some(u) = parse_purl(purl) else { return };
    if let Some(d) = p.add(path, u.eco, &u.name, u.version.as_deref(), line) {
        d.hashes = hashes;
    }
}

/// A CycloneDX JSON document.
pub(crate) fn cyclonedx(path: &Path, text: &str) -> Result<Parsed, Error> {
    let doc = json(path, text)?;
    if doc.str_of("bomFormat") != Some("CycloneDX") {
        return Err(Error::Invalid {
            path: path.to_path_buf(),
            line: None,
            message: "`bomFormat` is not `CycloneDX`".into(),
        });
    }
    let mut p = Parsed::default();
    let mut stack: Vec<&Node> = doc
        .get("components")
        .map(|c| c.items().iter().collect())
        .unwrap_or_default();
    stack.reverse();
    while let Some(c) = stack.pop() {
        if let Some(purl) = c.str_of("purl") {
            let hashes = c
                .get("hashes")
                .map(|h| {
                    h.items()
                        .iter()
                        .filter_map(|x| {
                            let alg = x.str_of("alg")?.to_ascii_lowercase().replace('-', "");
                            Some(format!("{alg}:{}", x.str_of("content")?))
                        })
                        .collect()
                })
                .unwrap_or_default();
            let line = c.get("purl").map_or(c.line, |n| n.line);
            add_purl(&mut p, path, purl, line, hashes);
        }
        if let Some(children) = c.get("components") {
            stack.extend(children.items().iter().rev());
        }
    }
    Ok(p)
}

/// An SPDX JSON document.
pub(crate) fn spdx(path: &Path, text: &str) -> Result<Parsed, Error> {
    let doc = json(path, text)?;
    if doc.get("spdxVersion").is_none() {
        return Err(Error::Invalid {
            path: path.to_path_buf(),
            line: None,
            message: "no `spdxVersion` (not an SPDX document)".into(),
        });
    }
    let mut p = Parsed::default();
    for pkg in doc.get("packages").map(Node::items).unwrap_or_default() {
        let purl = pkg
            .get("externalRefs")
            .map(Node::items)
            .unwrap_or_default()
            .iter()
            .find(|r| r.str_of("referenceType") == Some("purl"))
            .and_then(|r| r.str_of("referenceLocator"));
        let Some(purl) = purl else { continue };
        let hashes = pkg
            .get("checksums")
            .map(|h| {
                h.items()
                    .iter()
                    .filter_map(|x| {
                        let alg = x.str_of("algorithm")?.to_ascii_lowercase().replace('-', "");
                        Some(format!("{alg}:{}", x.str_of("checksumValue")?))
                    })
                    .collect()
            })
            .unwrap_or_default();
        let line = pkg.get("name").map_or(pkg.line, |n| n.line);
        add_purl(&mut p, path, purl, line, hashes);
    }
    Ok(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn purls() {
        assert_eq!(
            parse_purl("pkg:npm/%40babel/core@7.0.0?x=1#sub"),
            Some(Purl {
                eco: Ecosystem::Npm,
                name: "@babel/core".into(),
                version: Some("7.0.0".into())
            })
        );
        assert_eq!(
            parse_purl("pkg:pypi/requests@2.31.0").map(|p| p.name),
            Some("requests".into())
        );
        assert_eq!(parse_purl("pkg:maven/a/b@1"), None);
        assert_eq!(parse_purl("pkg:npm/left-pad").unwrap().version, None);
        assert_eq!(parse_purl("npm/x@1"), None);
    }
}
