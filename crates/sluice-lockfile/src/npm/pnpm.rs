//! `pnpm-lock.yaml`, lockfile versions 5.x (pnpm 7: keys `/name/1.0.0`,
//! peer suffix `_peer@1`), 6.x (pnpm 8: `/name@1.0.0(peer@1)`) and 9.0
//! (pnpm 9+: `name@1.0.0` in `packages`, peer variants in `snapshots`).
//! One dependency per `packages` entry, that is per resolved name and
//! version; peer variants are not counted twice.

use std::collections::HashSet;
use std::path::Path;

use super::{add, is_plain_version};
use crate::tree::Node;
use crate::{Error, Parsed, SourceKind, npm_source, split_at_version};

/// Parse a `pnpm-lock.yaml`.
pub(crate) fn parse(path: &Path, text: &str) -> Result<Parsed, Error> {
    let doc = crate::yaml::parse(text).map_err(|e| e.at(path))?;
    let Some(lv) = doc.str_of("lockfileVersion") else {
        return Err(Error::Invalid {
            path: path.to_path_buf(),
            line: None,
            message: "no `lockfileVersion` (not a pnpm lockfile)".into(),
        });
    };
    let v5 = lv.starts_with('5') || lv.starts_with('4') || lv.starts_with('3');
    let direct = direct_deps(&doc);
    let mut p = Parsed::default();
    for (key, e) in doc.get("packages").map(Node::entries).unwrap_or_default() {
        let Some((key_name, key_version)) = split_key(key, v5) else {
            if e.str_of("name").is_none() {
                p.warn(
                    path,
                    e.line,
                    format!("cannot read package key `{}`", crate::clip(key)),
                );
                continue;
            }
            add_entry(&mut p, path, e, None, "", &direct);
            continue;
        };
        add_entry(&mut p, path, e, Some(key_name), key_version, &direct);
    }
    Ok(p)
}

fn add_entry(
    p: &mut Parsed,
    path: &Path,
    e: &Node,
    key_name: Option<&str>,
    key_version: &str,
    direct: &HashSet<(String, String)>,
) {
    let Some(name) = e.str_of("name").or(key_name) else {
        return;
    };
    let res = e.get("resolution");
    let integrity = res.and_then(|r| r.str_of("integrity")).map(str::to_owned);
    let (source, url) = if let Some(r) = res.filter(|r| r.str_of("type") == Some("git")) {
        (SourceKind::Git, r.str_of("repo"))
    } else if let Some(d) = res.and_then(|r| r.str_of("directory")) {
        (SourceKind::Path, Some(d))
    } else if !is_plain_version(key_version) && !key_version.is_empty() {
        let s = match npm_source(key_version) {
            SourceKind::Registry if key_version.contains("://") => SourceKind::Url,
            s => s,
        };
        (
            s,
            res.and_then(|r| r.str_of("tarball")).or(Some(key_version)),
        )
    } else {
        (SourceKind::Registry, res.and_then(|r| r.str_of("tarball")))
    };
    let version = e
        .str_of("version")
        .or(Some(key_version).filter(|v| is_plain_version(v)));
    let dev = e.get("dev").map(|_| e.flag("dev"));
    let is_direct = version.is_some_and(|v| direct.contains(&(name.to_owned(), v.to_owned())));
    let url = url.map(str::to_owned);
    if let Some(d) = add(p, path, name, version, e.line) {
        d.source = source;
        d.url = url;
        d.hashes.extend(integrity);
        d.dev = dev;
        d.direct = Some(is_direct);
    }
}

/// `(name, version)` of a packages key, peer suffix removed.
fn split_key(key: &str, v5: bool) -> Option<(&str, &str)> {
    let k = key.strip_prefix('/').unwrap_or(key);
    if v5 {
        let (name, ver) = k.rsplit_once('/')?;
        let ver = ver.split('_').next().unwrap_or(ver);
        return (!name.is_empty() && !ver.is_empty()).then_some((name, ver));
    }
    let k = k.split('(').next().unwrap_or(k);
    split_at_version(k).filter(|(n, v)| !n.is_empty() && !v.is_empty())
}

/// Direct dependencies of every importer (or of the single project in a
/// v5 lockfile without importers), as `(name, version)`.
fn direct_deps(doc: &Node) -> HashSet<(String, String)> {
    let mut out = HashSet::new();
    let mut take = |project: &Node| {
        for key in ["dependencies", "devDependencies", "optionalDependencies"] {
            for (name, v) in project.get(key).map(Node::entries).unwrap_or_default() {
                let ver = v
                    .as_str()
                    .or_else(|| v.str_of("version"))
                    .unwrap_or_default();
                let ver = ver.split(['(', '_']).next().unwrap_or(ver);
                out.insert((name.clone(), ver.to_owned()));
            }
        }
    };
    match doc.get("importers") {
        Some(imp) => imp.entries().iter().for_each(|(_, p)| take(p)),
        None => take(doc),
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(t: &str) -> Vec<(String, Option<String>, u32, Option<bool>)> {
        parse(Path::new("pnpm-lock.yaml"), t)
            .unwrap()
            .deps
            .into_iter()
            .map(|d| (d.name.as_str().to_owned(), d.version, d.line, d.direct))
            .collect()
    }

    #[test]
    fn three_key_formats() {
        let v5 = "lockfileVersion: 5.4\n\nspecifiers:\n  a: ^1.0.0\n\ndependencies:\n  a: 1.0.0\n\npackages:\n\n  /a/1.0.0:\n    resolution: {integrity: sha512-a}\n    dev: false\n\n  /@s/b/2.0.0_a@1.0.0:\n    resolution: {integrity: sha512-b}\n    dev: true\n";
        assert_eq!(
            names(v5),
            vec![
                ("a".into(), Some("1.0.0".into()), 11, Some(true)),
                ("@s/b".into(), Some("2.0.0".into()), 15, Some(false)),
            ]
        );
        let v6 = "lockfileVersion: '6.0'\n\nimporters:\n  .:\n    dependencies:\n      a:\n        specifier: ^1.0.0\n        version: 1.0.0(b@2.0.0)\n\npackages:\n\n  /a@1.0.0(b@2.0.0):\n    resolution: {integrity: sha512-a}\n    dev: false\n";
        assert_eq!(
            names(v6),
            vec![("a".into(), Some("1.0.0".into()), 12, Some(true))]
        );
        let v9 = "lockfileVersion: '9.0'\n\nimporters:\n\n  .:\n    dependencies:\n      '@s/a':\n        specifier: ^1.0.0\n        version: 1.0.0\n\npackages:\n\n  '@s/a@1.0.0':\n    resolution: {integrity: sha512-a}\n\n  g@https://codeload.example/x/tar.gz/abc:\n    resolution: {tarball: https://codeload.example/x/tar.gz/abc}\n    version: 1.2.0\n\nsnapshots:\n\n  '@s/a@1.0.0': {}\n";
        let got = names(v9);
        assert_eq!(
            got[0],
            ("@s/a".into(), Some("1.0.0".into()), 13, Some(true))
        );
        assert_eq!(got[1].0, "g");
        assert_eq!(got.len(), 2);
    }
}
