//! `yarn.lock`: classic (v1, yarn's own line format) and berry (v2+, YAML
//! with a `__metadata` entry). One dependency per lock entry (an entry
//! serves every range in its header).

use std::collections::HashSet;
use std::path::Path;

use super::add;
use crate::{Error, Parsed, SourceKind, npm_source, split_at_version};

/// Parse a `yarn.lock` of either generation.
pub(crate) fn parse(path: &Path, text: &str) -> Result<Parsed, Error> {
    if text.lines().any(|l| l.starts_with("__metadata:")) {
        berry(path, text)
    } else {
        classic(path, text)
    }
}

/// The package a header spec (`name@range`, `alias@npm:real@range`) names.
fn spec_name(spec: &str) -> Option<&str> {
    let (name, range) = split_at_version(spec)?;
    match range.strip_prefix("npm:") {
        Some(real) if real.len() > 1 && real[1..].contains('@') => {
            split_at_version(real).map(|(n, _)| n)
        }
        _ => Some(name),
    }
}

fn unquote(s: &str) -> &str {
    s.strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .unwrap_or(s)
}

struct Entry<'a> {
    line: u32,
    name: &'a str,
    version: Option<&'a str>,
    resolved: Option<&'a str>,
    integrity: Option<&'a str>,
}

fn classic(path: &Path, text: &str) -> Result<Parsed, Error> {
    let mut p = Parsed::default();
    let mut cur: Option<Entry<'_>> = None;
    let mut headers: HashSet<&str> = HashSet::new();
    for (i, raw) in text.lines().enumerate() {
        let no = u32::try_from(i + 1).unwrap_or(u32::MAX);
        let line = raw.trim_end();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if !line.starts_with(' ') {
            let Some(header) = line.strip_suffix(':') else {
                return Err(Error::Syntax {
                    path: path.to_path_buf(),
                    line: no,
                    message: "expected an entry header ending with `:`".into(),
                });
            };
            if !headers.insert(header) {
                return Err(Error::Syntax {
                    path: path.to_path_buf(),
                    line: no,
                    message: format!("duplicate entry `{}`", crate::clip(header)),
                });
            }
            finish(&mut p, path, cur.take());
            let first = unquote(header.split(", ").next().unwrap_or(header).trim());
            match spec_name(first) {
                Some(name) => {
                    cur = Some(Entry {
                        line: no,
                        name,
                        version: None,
                        resolved: None,
                        integrity: None,
                    });
                }
                None => p.warn(
                    path,
                    no,
                    format!("entry `{}` names no package", crate::clip(first)),
                ),
            }
            continue;
        }
        let body = line.trim_start();
        if line.len() - body.len() != 2 {
            continue; // dependency lists of the current entry
        }
        let Some(e) = cur.as_mut() else { continue };
        let (key, value) = body.split_once(' ').unwrap_or((body, ""));
        let value = unquote(value.trim());
        match key {
            "version" => e.version = Some(value),
            "resolved" => e.resolved = Some(value),
            "integrity" => e.integrity = Some(value),
            _ => {}
        }
    }
    finish(&mut p, path, cur.take());
    Ok(p)
}

fn finish(p: &mut Parsed, path: &Path, e: Option<Entry<'_>>) {
    let Some(e) = e else { return };
    let Some(version) = e.version else {
        p.warn(path, e.line, format!("entry `{}` has no version", e.name));
        return;
    };
    if let Some(d) = add(p, path, e.name, Some(version), e.line) {
        if let Some(r) = e.resolved {
            d.source = npm_source(r);
            d.url = Some(r.to_owned());
        }
        d.hashes.extend(e.integrity.map(str::to_owned));
    }
}

fn berry(path: &Path, text: &str) -> Result<Parsed, Error> {
    let doc = crate::yaml::parse(text).map_err(|e| e.at(path))?;
    let mut p = Parsed::default();
    for (key, e) in doc.entries() {
        if key == "__metadata" {
            continue;
        }
        let Some(resolution) = e.str_of("resolution") else {
            p.warn(
                path,
                e.line,
                format!("entry `{}` has no resolution", crate::clip(key)),
            );
            continue;
        };
        let Some((name, how)) = split_at_version(resolution) else {
            p.warn(
                path,
                e.line,
                format!("bad resolution `{}`", crate::clip(resolution)),
            );
            continue;
        };
        // A patch entry restates a package that has its own `npm:` entry.
        if how.starts_with("patch:") {
            continue;
        }
        let (source, version) = if how.starts_with("npm:") {
            (SourceKind::Registry, e.str_of("version"))
        } else if how.starts_with("workspace:") {
            (SourceKind::Path, e.str_of("version"))
        } else {
            (npm_source(how), None)
        };
        let checksum = e.str_of("checksum").map(str::to_owned);
        let url = (source != SourceKind::Registry).then(|| how.to_owned());
        let linked = e.str_of("linkType") == Some("soft");
        if let Some(d) = add(&mut p, path, name, version, e.line) {
            d.source = if linked && source == SourceKind::Registry {
                SourceKind::Path
            } else {
                source
            };
            d.url = url;
            d.hashes.extend(checksum);
        }
    }
    Ok(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classic_entries() {
        let t = r#"# THIS IS AN AUTOGENERATED FILE. DO NOT EDIT THIS FILE DIRECTLY.
# yarn lockfile v1


"@babel/code-frame@^7.0.0", "@babel/code-frame@^7.10.4":
  version "7.12.13"
  resolved "http://127.0.0.1:1/@babel/code-frame/-/code-frame-7.12.13.tgz#dcfc"
  integrity sha512-abc
  dependencies:
    "@babel/highlight" "^7.12.13"

string-width-cjs@npm:string-width@^4.2.0:
  version "4.2.3"

broken@^1:
  resolved "x"
"#;
        let p = parse(Path::new("yarn.lock"), t).unwrap();
        assert_eq!(p.deps.len(), 2);
        assert_eq!(p.deps[0].name.as_str(), "@babel/code-frame");
        assert_eq!(p.deps[0].line, 5);
        assert_eq!(p.deps[0].hashes, vec!["sha512-abc"]);
        assert_eq!(p.deps[1].name.as_str(), "string-width");
        assert_eq!(p.warnings.len(), 1);
        assert!(parse(Path::new("yarn.lock"), "a@1:\n  version \"1\"\na@1:\n").is_err());
    }

    #[test]
    fn berry_entries() {
        let t = "# This file is generated by running \"yarn install\"\n\n__metadata:\n  version: 8\n  cacheKey: 10c0\n\n\"left-pad@npm:^1.3.0\":\n  version: 1.3.0\n  resolution: \"left-pad@npm:1.3.0\"\n  checksum: 10c0/abc\n  languageName: node\n  linkType: hard\n\n\"app@workspace:.\":\n  version: 0.0.0-use.local\n  resolution: \"app@workspace:.\"\n  languageName: unknown\n  linkType: soft\n";
        let p = parse(Path::new("yarn.lock"), t).unwrap();
        assert_eq!(p.deps.len(), 2);
        assert_eq!(p.deps[0].name.as_str(), "left-pad");
        assert_eq!(p.deps[0].version.as_deref(), Some("1.3.0"));
        assert_eq!(p.deps[0].line, 7);
        assert_eq!(p.deps[0].hashes, vec!["10c0/abc"]);
        assert_eq!(p.deps[1].source, SourceKind::Path);
    }
}
