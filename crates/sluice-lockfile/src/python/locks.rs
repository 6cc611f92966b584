//! Resolved Python lockfiles: `poetry.lock`, `uv.lock`, `pdm.lock`,
//! `pylock.toml` (PEP 751) and `Pipfile.lock`. Every entry is a resolved
//! package with its version and, where the file lists them, the hashes of
//! its files.

use std::path::Path;

use super::{add, url_source};
use crate::tree::Node;
use crate::{Error, Parsed, SourceKind};

fn toml(path: &Path, text: &str) -> Result<Node, Error> {
    crate::toml_tree::parse(text).map_err(|e| e.at(path))
}

fn invalid(path: &Path, message: &str) -> Error {
    Error::Invalid {
        path: path.to_path_buf(),
        line: None,
        message: message.to_owned(),
    }
}

/// `[[package]]` tables of a TOML lockfile, or an error when the file has
/// none of the expected keys (a truncated file, or another format).
fn packages<'a>(
    path: &Path,
    doc: &'a Node,
    key: &str,
    marker: &[&str],
) -> Result<&'a [Node], Error> {
    match doc.get(key) {
        Some(p) => Ok(p.items()),
        None if marker.iter().any(|m| doc.get(m).is_some()) => Ok(&[]),
        None => Err(invalid(
            path,
            &format!("no `{key}` entries and no `{}`", marker.join("`/`")),
        )),
    }
}

/// The line of a package table's `name` key (a `[[package]]` header names
/// nothing; the name line is what a reader looks for).
fn name_line(pkg: &Node) -> u32 {
    pkg.get("name").map_or(pkg.line, |n| n.line)
}

/// Hashes of `{file, hash}` lists (Poetry, PDM) or `{url, hash}` (uv).
fn file_hashes(list: Option<&Node>) -> Vec<String> {
    list.map(|l| {
        l.items()
            .iter()
            .filter_map(|f| f.str_of("hash").map(str::to_owned))
            .collect()
    })
    .unwrap_or_default()
}

/// `poetry.lock`.
pub(crate) fn poetry(path: &Path, text: &str) -> Result<Parsed, Error> {
    let doc = toml(path, text)?;
    let mut p = Parsed::default();
    // Poetry before 1.2 kept hashes in `[metadata.files]`, keyed by name.
    let legacy = doc.get("metadata").and_then(|m| m.get("files"));
    for pkg in packages(path, &doc, "package", &["metadata"])? {
        let (Some(name), Some(version)) = (pkg.str_of("name"), pkg.str_of("version")) else {
            p.warn(path, pkg.line, "package without name or version".into());
            continue;
        };
        let mut hashes = file_hashes(pkg.get("files"));
        if hashes.is_empty() {
            hashes = file_hashes(legacy.and_then(|l| l.get(name)));
        }
        let source = pkg.get("source");
        let Some(d) = add(&mut p, path, name, Some(version), name_line(pkg)) else {
            continue;
        };
        d.hashes = hashes;
        if let Some(cat) = pkg.str_of("category") {
            d.dev = Some(cat == "dev");
        }
        if let Some(s) = source {
            let url = s.str_of("url").map(str::to_owned);
            d.source = match s.str_of("type") {
                Some("git") => SourceKind::Git,
                Some("directory" | "file") => SourceKind::Path,
                Some("url") => SourceKind::Url,
                _ => SourceKind::Registry,
            };
            d.url = url;
        }
    }
    Ok(p)
}

/// `uv.lock`.
pub(crate) fn uv(path: &Path, text: &str) -> Result<Parsed, Error> {
    let doc = toml(path, text)?;
    let mut p = Parsed::default();
    for pkg in packages(path, &doc, "package", &["version", "requires-python"])? {
        let Some(name) = pkg.str_of("name") else {
            p.warn(path, pkg.line, "package without a name".into());
            continue;
        };
        let mut hashes: Vec<String> = pkg
            .get("sdist")
            .and_then(|s| s.str_of("hash"))
            .map(str::to_owned)
            .into_iter()
            .collect();
        hashes.extend(file_hashes(pkg.get("wheels")));
        let src = pkg.get("source");
        let Some(d) = add(&mut p, path, name, pkg.str_of("version"), name_line(pkg)) else {
            continue;
        };
        d.hashes = hashes;
        if let Some(s) = src {
            if let Some(r) = s.str_of("registry") {
                d.url = Some(r.to_owned());
            } else if let Some(g) = s.str_of("git") {
                d.source = SourceKind::Git;
                d.url = Some(g.to_owned());
            } else if let Some(u) = s.str_of("url") {
                d.source = SourceKind::Url;
                d.url = Some(u.to_owned());
            } else {
                // editable, virtual, directory, path: the project itself or
                // a workspace member.
                d.source = SourceKind::Path;
            }
        }
    }
    Ok(p)
}

/// `pdm.lock`.
pub(crate) fn pdm(path: &Path, text: &str) -> Result<Parsed, Error> {
    let doc = toml(path, text)?;
    let mut p = Parsed::default();
    for pkg in packages(path, &doc, "package", &["metadata"])? {
        let Some(name) = pkg.str_of("name") else {
            p.warn(path, pkg.line, "package without a name".into());
            continue;
        };
        let groups: Vec<&str> = pkg
            .get("groups")
            .map(|g| g.items().iter().filter_map(Node::as_str).collect())
            .unwrap_or_default();
        let hashes = file_hashes(pkg.get("files"));
        let git = pkg.str_of("git").map(str::to_owned);
        let url = pkg.str_of("url").map(str::to_owned);
        let local = pkg.get("path").is_some();
        let Some(d) = add(&mut p, path, name, pkg.str_of("version"), name_line(pkg)) else {
            continue;
        };
        d.hashes = hashes;
        if !groups.is_empty() {
            d.dev = Some(!groups.contains(&"default"));
        }
        if let Some(g) = git {
            d.source = SourceKind::Git;
            d.url = Some(g);
        } else if let Some(u) = url {
            d.source = SourceKind::Url;
            d.url = Some(u);
        } else if local {
            d.source = SourceKind::Path;
        }
    }
    Ok(p)
}

/// `pylock.toml` (PEP 751).
pub(crate) fn pylock(path: &Path, text: &str) -> Result<Parsed, Error> {
    let doc = toml(path, text)?;
    if doc.get("lock-version").is_none() {
        return Err(invalid(path, "no `lock-version` (not a PEP 751 lock)"));
    }
    let mut p = Parsed::default();
    for pkg in doc.get("packages").map(Node::items).unwrap_or_default() {
        let Some(name) = pkg.str_of("name") else {
            p.warn(path, pkg.line, "package without a name".into());
            continue;
        };
        let mut hashes = Vec::new();
        let mut push_hashes = |n: Option<&Node>| {
            if let Some(h) = n.and_then(|n| n.get("hashes")) {
                for (algo, v) in h.entries() {
                    if let Some(v) = v.as_str() {
                        hashes.push(format!("{algo}:{v}"));
                    }
                }
            }
        };
        push_hashes(pkg.get("sdist"));
        push_hashes(pkg.get("archive"));
        for w in pkg.get("wheels").map(Node::items).unwrap_or_default() {
            push_hashes(Some(w));
        }
        let (source, url) = if let Some(v) = pkg.get("vcs") {
            (SourceKind::Git, v.str_of("url"))
        } else if let Some(a) = pkg.get("archive") {
            let u = a.str_of("url");
            (u.map_or(SourceKind::Path, url_source), u)
        } else if pkg.get("directory").is_some() {
            (SourceKind::Path, None)
        } else {
            (SourceKind::Registry, pkg.str_of("index"))
        };
        let url = url.map(str::to_owned);
        let Some(d) = add(&mut p, path, name, pkg.str_of("version"), name_line(pkg)) else {
            continue;
        };
        d.hashes = hashes;
        d.source = source;
        d.url = url;
    }
    Ok(p)
}

/// `Pipfile.lock` (JSON): `default` and `develop` maps of name → entry.
pub(crate) fn pipfile(path: &Path, text: &str) -> Result<Parsed, Error> {
    let doc = crate::json::parse(text, crate::json::Dialect::default()).map_err(|e| e.at(path))?;
    if doc.get("_meta").is_none() {
        return Err(invalid(path, "no `_meta` (not a Pipfile.lock)"));
    }
    let mut p = Parsed::default();
    for (section, dev) in [("default", false), ("develop", true)] {
        for (name, e) in doc.get(section).map(Node::entries).unwrap_or_default() {
            let version = e
                .str_of("version")
                .map(|v| v.trim_start_matches("==="))
                .map(|v| v.trim_start_matches("=="));
            let hashes: Vec<String> = e
                .get("hashes")
                .map(|h| {
                    h.items()
                        .iter()
                        .filter_map(|x| x.as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default();
            let git = e.str_of("git").map(str::to_owned);
            let file = e.str_of("file").map(str::to_owned);
            let local = e.get("path").is_some();
            let Some(d) = add(&mut p, path, name, version, e.line) else {
                continue;
            };
            d.hashes = hashes;
            d.dev = Some(dev);
            if let Some(g) = git {
                d.source = SourceKind::Git;
                d.url = Some(g);
            } else if let Some(f) = file {
                d.source = url_source(&f);
                d.url = Some(f);
            } else if local {
                d.source = SourceKind::Path;
            }
        }
    }
    Ok(p)
}
