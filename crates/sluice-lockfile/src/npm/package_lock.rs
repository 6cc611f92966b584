//! `package-lock.json` and `npm-shrinkwrap.json`, lockfile versions 1–3.
//!
//! v2 and v3 list every installed folder in `packages`, keyed by its path
//! (`node_modules/a/node_modules/b`); v1 nests `dependencies`. v2 has both:
//! `packages` is read, as npm 7+ does.

use std::collections::HashSet;
use std::path::Path;

use super::{add, is_plain_version};
use crate::tree::Node;
use crate::{Error, Parsed, SourceKind, npm_source};

/// Parse a package-lock or shrinkwrap file.
pub(crate) fn parse(path: &Path, text: &str) -> Result<Parsed, Error> {
    let doc = crate::json::parse(text, crate::json::Dialect::default()).map_err(|e| e.at(path))?;
    let mut p = Parsed::default();
    if let Some(pkgs) = doc.get("packages") {
        v2(&mut p, path, pkgs);
    } else if let Some(deps) = doc.get("dependencies") {
        v1(&mut p, path, deps, 0);
    } else if doc.get("lockfileVersion").is_none() {
        return Err(Error::Invalid {
            path: path.to_path_buf(),
            line: None,
            message: "no `lockfileVersion`, `packages` or `dependencies` (not a package-lock)"
                .into(),
        });
    }
    Ok(p)
}

fn v2(p: &mut Parsed, path: &Path, pkgs: &Node) {
    let root = pkgs.get("");
    let mut direct: HashSet<&str> = HashSet::new();
    if let Some(r) = root {
        for key in [
            "dependencies",
            "devDependencies",
            "optionalDependencies",
            "peerDependencies",
        ] {
            direct.extend(
                r.get(key)
                    .map(Node::entries)
                    .unwrap_or_default()
                    .iter()
                    .map(|(k, _)| k.as_str()),
            );
        }
    }
    for (key, e) in pkgs.entries() {
        if key.is_empty() || e.flag("link") {
            // The root project, and links to workspace folders (the folder
            // itself has its own entry).
            continue;
        }
        let (installed_as, nested) = match key.rfind("node_modules/") {
            Some(i) => (
                &key[i + "node_modules/".len()..],
                key[..i].contains("node_modules/"),
            ),
            // A workspace folder (`packages/app`): its name is in the entry.
            None => ("", false),
        };
        let Some(name) = e
            .str_of("name")
            .or(Some(installed_as).filter(|n| !n.is_empty()))
        else {
            continue;
        };
        let version = e.str_of("version");
        let resolved = e.str_of("resolved");
        let source = match (resolved, key.contains("node_modules/")) {
            (_, false) => SourceKind::Path,
            (Some(r), _) => npm_source(r),
            (None, _) => SourceKind::Registry,
        };
        let integrity = e.str_of("integrity").map(str::to_owned);
        let dev = e.flag("dev") || e.flag("devOptional");
        let Some(d) = add(p, path, name, version, e.line) else {
            continue;
        };
        d.source = source;
        d.url = resolved.map(str::to_owned);
        d.hashes.extend(integrity);
        d.dev = Some(dev);
        if source == SourceKind::Path && !key.contains("node_modules/") {
            d.direct = Some(false);
        } else {
            d.direct = Some(!nested && direct.contains(installed_as));
        }
    }
}

fn v1(p: &mut Parsed, path: &Path, deps: &Node, depth: usize) {
    if depth > crate::MAX_DEPTH {
        p.warn(path, deps.line, "dependencies nested too deep".into());
        return;
    }
    for (name, e) in deps.entries() {
        let version = e.str_of("version").unwrap_or_default();
        // v1 writes a git or file dependency's spec where the version goes.
        let (v, source) = if is_plain_version(version) {
            (
                Some(version),
                e.str_of("resolved")
                    .map_or(SourceKind::Registry, npm_source),
            )
        } else {
            (None, npm_source(version))
        };
        let integrity = e.str_of("integrity").map(str::to_owned);
        let resolved = e
            .str_of("resolved")
            .or((!version.is_empty() && v.is_none()).then_some(version))
            .map(str::to_owned);
        let dev = e.flag("dev");
        if let Some(d) = add(p, path, name, v, e.line) {
            d.source = source;
            d.url = resolved;
            d.hashes.extend(integrity);
            d.dev = Some(dev);
            if depth > 0 {
                d.direct = Some(false);
            }
        }
        if let Some(nested) = e.get("dependencies") {
            v1(p, path, nested, depth + 1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v3_paths_and_flags() {
        let t = r#"{
  "name": "app",
  "lockfileVersion": 3,
  "packages": {
    "": { "name": "app", "dependencies": { "a": "^1.0.0" }, "devDependencies": { "@s/b": "2" } },
    "node_modules/a": { "version": "1.0.0", "resolved": "http://127.0.0.1:1/a/-/a-1.0.0.tgz", "integrity": "sha512-x" },
    "node_modules/@s/b": { "version": "2.0.0", "dev": true },
    "node_modules/a/node_modules/c": { "version": "3.0.0" },
    "node_modules/alias": { "name": "real", "version": "1.1.0" },
    "node_modules/ws": { "resolved": "packages/ws", "link": true },
    "packages/ws": { "name": "ws-app", "version": "0.0.1" }
  }
}"#;
        let p = parse(Path::new("package-lock.json"), t).unwrap();
        type Row<'a> = (&'a str, Option<&'a str>, u32, Option<bool>, Option<bool>);
        let got: Vec<Row<'_>> = p
            .deps
            .iter()
            .map(|d| {
                (
                    d.name.as_str(),
                    d.version.as_deref(),
                    d.line,
                    d.direct,
                    d.dev,
                )
            })
            .collect();
        assert_eq!(
            got,
            vec![
                ("a", Some("1.0.0"), 6, Some(true), Some(false)),
                ("@s/b", Some("2.0.0"), 7, Some(true), Some(true)),
                ("c", Some("3.0.0"), 8, Some(false), Some(false)),
                ("real", Some("1.1.0"), 9, Some(false), Some(false)),
                ("ws-app", Some("0.0.1"), 11, Some(false), Some(false)),
            ]
        );
        assert_eq!(p.deps[0].hashes, vec!["sha512-x"]);
        assert_eq!(p.deps[4].source, SourceKind::Path);
    }

    #[test]
    fn v1_nested() {
        let t = r#"{"lockfileVersion": 1, "dependencies": {
  "a": {"version": "1.0.0", "integrity": "sha1-x", "dependencies": {
    "b": {"version": "2.0.0", "dev": true}}},
  "g": {"version": "git+https://git.example/g.git#abc"}
}}"#;
        let p = parse(Path::new("package-lock.json"), t).unwrap();
        assert_eq!(p.deps.len(), 3);
        assert_eq!(p.deps[1].name.as_str(), "b");
        assert_eq!(p.deps[1].line, 3);
        assert_eq!(p.deps[2].version, None);
        assert_eq!(p.deps[2].source, SourceKind::Git);
    }

    #[test]
    fn not_a_lock() {
        assert!(parse(Path::new("x.json"), "{\"name\": 1}").is_err());
        let e = parse(
            Path::new("x.json"),
            "{\"packages\": {\n\"node_modules/a\": {",
        )
        .unwrap_err();
        assert_eq!(e.line(), Some(2));
    }
}
