//! Python dependency files: requirements files, `pyproject.toml` and the
//! lockfiles of Poetry, uv, Pipenv, PDM and PEP 751.

pub(crate) mod locks;
pub(crate) mod pyproject;
pub(crate) mod requirements;

use sluice_model::Ecosystem;

use crate::{Dependency, Parsed, SourceKind};

/// A PEP 508 requirement string split into the parts we use.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Req<'a> {
    pub name: &'a str,
    /// The version of a single `==`/`===` clause without wildcard.
    pub pinned: Option<&'a str>,
    /// The URL after `@`, for a direct reference.
    pub url: Option<&'a str>,
}

/// Split `name[extras] (spec) ; marker` or `name[extras] @ url ; marker`.
/// `None` when the string does not start with a name.
pub(crate) fn parse_pep508(s: &str) -> Option<Req<'_>> {
    let s = s.trim();
    let end = s
        .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
        .unwrap_or(s.len());
    if end == 0 {
        return None;
    }
    let name = &s[..end];
    let mut rest = s[end..].trim_start();
    if !(rest.is_empty() || rest.starts_with(['[', '(', '@', ';', '<', '>', '=', '!', '~'])) {
        return None;
    }
    if rest.starts_with('[') {
        let close = rest.find(']')?;
        rest = rest[close + 1..].trim_start();
    }
    if let Some(url) = rest.strip_prefix('@') {
        // PEP 508: a marker after a URL needs a space before `;`.
        let url = url.trim_start();
        let url = url.split(" ;").next().unwrap_or(url).trim();
        return Some(Req {
            name,
            pinned: None,
            url: Some(url).filter(|u| !u.is_empty()),
        });
    }
    let spec = rest.split(';').next().unwrap_or("").trim();
    let spec = spec
        .strip_prefix('(')
        .and_then(|s| s.strip_suffix(')'))
        .unwrap_or(spec)
        .trim();
    Some(Req {
        name,
        pinned: pinned_version(spec),
        url: None,
    })
}

/// The version of a specifier that pins exactly one version: `==1.2`,
/// `===1.2`, not `==1.*`, not `>=1,<2`.
pub(crate) fn pinned_version(spec: &str) -> Option<&str> {
    if spec.contains(',') {
        return None;
    }
    let v = spec
        .strip_prefix("===")
        .or_else(|| spec.strip_prefix("=="))?
        .trim();
    (!v.is_empty() && !v.contains('*') && !v.contains(char::is_whitespace)).then_some(v)
}

/// Source kind of a Python direct reference.
pub(crate) fn url_source(url: &str) -> SourceKind {
    if url.starts_with("git+")
        || url.starts_with("hg+")
        || url.starts_with("svn+")
        || url.starts_with("bzr+")
    {
        SourceKind::Git
    } else if url.starts_with("file:") || url.starts_with('.') || url.starts_with('/') {
        SourceKind::Path
    } else {
        SourceKind::Url
    }
}

/// Name and version from a wheel or sdist file name at the end of a URL
/// (`pkg-1.0-py3-none-any.whl`, `pkg-1.0.tar.gz`).
pub(crate) fn name_from_artifact_url(url: &str) -> Option<(&str, Option<&str>)> {
    let path = url.split(['#', '?']).next().unwrap_or(url);
    let file = path.rsplit('/').next()?;
    if let Some(stem) = file.strip_suffix(".whl") {
        let mut parts = stem.split('-');
        let name = parts.next()?;
        return Some((name, parts.next()));
    }
    let stem = [".tar.gz", ".zip", ".tar.bz2", ".tgz"]
        .iter()
        .find_map(|ext| file.strip_suffix(ext))?;
    // The version starts after the last `-` that is followed by a digit.
    let cut = stem
        .match_indices('-')
        .filter(|(i, _)| stem[i + 1..].starts_with(|c: char| c.is_ascii_digit()))
        .map(|(i, _)| i)
        .next_back()?;
    Some((&stem[..cut], Some(&stem[cut + 1..])))
}

/// Add a PyPI entry.
pub(crate) fn add<'p>(
    p: &'p mut Parsed,
    path: &std::path::Path,
    name: &str,
    version: Option<&str>,
    line: u32,
) -> Option<&'p mut Dependency> {
    p.add(path, Ecosystem::PyPI, name, version, line)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pep508() {
        let r = parse_pep508("Requests[socks] == 2.31.0 ; python_version >= '3.8'").unwrap();
        assert_eq!((r.name, r.pinned), ("Requests", Some("2.31.0")));
        assert_eq!(parse_pep508("a (==1.0)").unwrap().pinned, Some("1.0"));
        assert_eq!(parse_pep508("a>=1,<2").unwrap().pinned, None);
        assert_eq!(parse_pep508("a==1.*").unwrap().pinned, None);
        assert_eq!(
            parse_pep508("a===1.0+local").unwrap().pinned,
            Some("1.0+local")
        );
        let r = parse_pep508("pkg @ https://h.example/pkg-1.0.tar.gz ; os_name == 'nt'").unwrap();
        assert_eq!(r.url, Some("https://h.example/pkg-1.0.tar.gz"));
        assert!(parse_pep508("==1.0").is_none());
    }

    #[test]
    fn artifact_names() {
        assert_eq!(
            name_from_artifact_url("http://127.0.0.1/p/six-1.16.0-py2.py3-none-any.whl#sha256=x"),
            Some(("six", Some("1.16.0")))
        );
        assert_eq!(
            name_from_artifact_url("./dist/my-pkg-2-0.1.tar.gz"),
            Some(("my-pkg-2", Some("0.1")))
        );
        assert_eq!(name_from_artifact_url("http://h/x"), None);
    }
}
