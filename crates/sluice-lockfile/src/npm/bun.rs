//! `bun.lock`, bun's text lockfile (bun 1.2+): JSON with trailing commas.
//! `packages` maps an install path (`a`, `@s/b`, `a/c` for a nested copy)
//! to an array whose first item is the resolved `name@version` (or
//! `name@github:…`, `name@workspace:…`, `name@file:…`) and whose last
//! item, for registry packages, is the SRI integrity.

use std::collections::HashSet;
use std::path::Path;

use super::{add, is_plain_version};
use crate::tree::Node;
use crate::{Error, Parsed, SourceKind, npm_source, split_at_version};

/// Parse a `bun.lock`.
pub(crate) fn parse(path: &Path, text: &str) -> Result<Parsed, Error> {
    let doc =
        crate::json::parse(text, crate::json::Dialect { lenient: true }).map_err(|e| e.at(path))?;
    if doc.get("lockfileVersion").is_none() {
        return Err(Error::Invalid {
            path: path.to_path_buf(),
            line: None,
            message: "no `lockfileVersion` (not a bun.lock)".into(),
        });
    }
    let mut direct: HashSet<&str> = HashSet::new();
    for (_, ws) in doc.get("workspaces").map(Node::entries).unwrap_or_default() {
        for key in [
            "dependencies",
            "devDependencies",
            "optionalDependencies",
            "peerDependencies",
        ] {
            direct.extend(
                ws.get(key)
                    .map(Node::entries)
                    .unwrap_or_default()
                    .iter()
                    .map(|(k, _)| k.as_str()),
            );
        }
    }
    let mut p = Parsed::default();
    for (key, e) in doc.get("packages").map(Node::entries).unwrap_or_default() {
        let items = e.items();
        let Some((name, how)) = items
            .first()
            .and_then(Node::as_str)
            .and_then(split_at_version)
        else {
            p.warn(
                path,
                e.line,
                format!("entry `{}` has no `name@version`", crate::clip(key)),
            );
            continue;
        };
        let (version, source) = if is_plain_version(how) {
            (Some(how), SourceKind::Registry)
        } else if let Some(v) = how.strip_prefix("npm:") {
            (Some(v), SourceKind::Registry)
        } else {
            (None, npm_source(how))
        };
        let integrity = (source == SourceKind::Registry && items.len() >= 4)
            .then(|| items.last().and_then(Node::as_str))
            .flatten()
            .filter(|s| s.starts_with("sha"))
            .map(str::to_owned);
        let registry = items
            .get(1)
            .and_then(Node::as_str)
            .filter(|s| !s.is_empty() && source == SourceKind::Registry);
        let url = registry
            .map(str::to_owned)
            .or((source != SourceKind::Registry).then(|| how.to_owned()));
        // A nested copy (`a/c`) is never a direct dependency.
        let top = !key.trim_start_matches('@').contains('/')
            || (key.starts_with('@') && key.matches('/').count() == 1);
        let is_direct = top && direct.contains(key.as_str());
        if let Some(d) = add(&mut p, path, name, version, e.line) {
            d.source = source;
            d.url = url;
            d.hashes.extend(integrity);
            d.direct = Some(is_direct);
        }
    }
    Ok(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries() {
        let t = r#"{
  "lockfileVersion": 1,
  "workspaces": {
    "": {
      "name": "app",
      "dependencies": {
        "left-pad": "^1.3.0",
      },
    },
  },
  "packages": {
    "left-pad": ["left-pad@1.3.0", "", {}, "sha512-abc"],

    "@s/b": ["@s/b@2.0.0", "http://127.0.0.1:1/", { "dependencies": { "c": "^1" } }, "sha512-b"],

    "@s/b/c": ["c@1.0.0", "", {}, "sha512-c"],

    "g": ["g@github:user/g#abc", {}, "user-g-abc"],
  }
}
"#;
        let p = parse(Path::new("bun.lock"), t).unwrap();
        let got: Vec<(&str, Option<&str>, u32, Option<bool>)> = p
            .deps
            .iter()
            .map(|d| (d.name.as_str(), d.version.as_deref(), d.line, d.direct))
            .collect();
        assert_eq!(
            got,
            vec![
                ("left-pad", Some("1.3.0"), 12, Some(true)),
                ("@s/b", Some("2.0.0"), 14, Some(false)),
                ("c", Some("1.0.0"), 16, Some(false)),
                ("g", None, 18, Some(false)),
            ]
        );
        assert_eq!(p.deps[0].hashes, vec!["sha512-abc"]);
        assert_eq!(p.deps[3].source, SourceKind::Git);
        assert!(p.deps[3].hashes.is_empty());
    }
}
