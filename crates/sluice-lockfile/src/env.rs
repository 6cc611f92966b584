//! Installed environments: a Python `site-packages` folder (`*.dist-info`
//! with `METADATA` and `RECORD`, legacy `*.egg-info`, and `.pth` files) and
//! a `node_modules` tree (every `package.json` at `node_modules/<name>` or
//! `node_modules/@scope/<name>`, nested trees and pnpm's `.pnpm` store
//! included, each real folder read once however many links lead to it).

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use sluice_model::Ecosystem;

use crate::tree::Node;
use crate::{EnvFinding, Installed, InstalledFile, Parsed, SourceKind};

/// Deepest `node_modules` nesting followed.
const MAX_NESTING: usize = 32;
/// Metadata files larger than this are not read.
const MAX_METADATA_BYTES: u64 = 4 << 20;

fn sorted_entries(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| rd.filter_map(Result::ok).map(|e| e.path()).collect())
        .unwrap_or_default();
    v.sort();
    v
}

fn file_name(p: &Path) -> &str {
    p.file_name().and_then(|n| n.to_str()).unwrap_or_default()
}

fn read_small(p: &mut Parsed, path: &Path) -> Option<String> {
    match crate::read_text_within(path, MAX_METADATA_BYTES) {
        Ok(t) => Some(t),
        Err(e) => {
            p.warnings.push(e);
            None
        }
    }
}

/// Read a `site-packages` folder.
pub(crate) fn site_packages(dir: &Path) -> Parsed {
    let mut p = Parsed::default();
    for entry in sorted_entries(dir) {
        let name = file_name(&entry);
        if name.ends_with(".dist-info") && entry.is_dir() {
            let meta = entry.join("METADATA");
            let files = record_files(&entry.join("RECORD"), "");
            dist(&mut p, dir, &meta, files);
        } else if name.ends_with(".egg-info") {
            // A folder with PKG-INFO, or (distutils) the PKG-INFO itself.
            let (meta, files) = if entry.is_dir() {
                let prefix = format!("{name}/");
                (
                    entry.join("PKG-INFO"),
                    installed_files(&entry.join("installed-files.txt"), &prefix),
                )
            } else {
                (entry.clone(), Vec::new())
            };
            dist(&mut p, dir, &meta, files);
        } else if name.ends_with(".pth") && entry.is_file() {
            pth(&mut p, &entry);
        }
    }
    p
}

fn dist(p: &mut Parsed, site: &Path, meta: &Path, files: Vec<InstalledFile>) {
    let Some(text) = read_small(p, meta) else {
        return;
    };
    let (mut name, mut version) = (None, None);
    for (i, line) in text.lines().enumerate() {
        if line.is_empty() {
            break; // the body (description) follows the headers
        }
        let no = u32::try_from(i + 1).unwrap_or(u32::MAX);
        if let Some(v) = line.strip_prefix("Name:") {
            name = Some((v.trim(), no));
        } else if let Some(v) = line.strip_prefix("Version:") {
            version = Some(v.trim());
        }
    }
    let Some((name, line)) = name else {
        p.warn(meta, 1, "no `Name:` header".into());
        return;
    };
    if let Some(d) = p.add(meta, Ecosystem::PyPI, name, version, line) {
        d.installed = Some(Installed {
            root: site.to_path_buf(),
            files,
        });
    }
}

/// The files a `RECORD` lists, with their recorded hash (CSV: path,
/// `algo=urlsafe-base64`, size; a path holding a comma is quoted).
fn record_files(record: &Path, prefix: &str) -> Vec<InstalledFile> {
    let Ok(text) = crate::read_text_within(record, MAX_METADATA_BYTES) else {
        return Vec::new();
    };
    text.lines()
        .filter_map(|l| {
            let (path, rest) = if let Some(q) = l.strip_prefix('"') {
                let (p, r) = q.split_once('"')?;
                (p, r.strip_prefix(',').unwrap_or(r))
            } else {
                l.split_once(',').unwrap_or((l, ""))
            };
            let hash = rest.split(',').next().filter(|h| h.contains('='));
            (!path.is_empty()).then(|| InstalledFile {
                path: format!("{prefix}{path}"),
                hash: hash.map(str::to_owned),
            })
        })
        .collect()
}

/// `installed-files.txt` of an egg-info folder: paths relative to it.
fn installed_files(list: &Path, prefix: &str) -> Vec<InstalledFile> {
    let Ok(text) = crate::read_text_within(list, MAX_METADATA_BYTES) else {
        return Vec::new();
    };
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| InstalledFile {
            path: format!("{prefix}{}", l.trim()),
            hash: None,
        })
        .collect()
}

/// `.pth` lines that start with `import` are executed by `site` at every
/// interpreter start-up.
fn pth(p: &mut Parsed, path: &Path) {
    let Some(text) = read_small(p, path) else {
        return;
    };
    let name = file_name(path);
    for (i, line) in text.lines().enumerate() {
        if !(line.starts_with("import ") || line.starts_with("import\t")) {
            continue;
        }
        // Hooks that packaging tools install for themselves.
        let known = name == "distutils-precedence.pth"
            || name == "_virtualenv.pth"
            || name.starts_with("__editable__.")
            || name.starts_with("_") && name.ends_with("_editable.pth");
        p.findings.push(EnvFinding {
            file: path.to_path_buf(),
            line: u32::try_from(i + 1).unwrap_or(u32::MAX),
            kind: if known { "pth-exec-known" } else { "pth-exec" },
            message: format!(
                "`{name}` runs code at every Python start-up{}",
                if known {
                    " (a packaging tool's own hook)"
                } else {
                    ""
                }
            ),
            excerpt: crate::clip(line),
        });
    }
}

/// Read a `node_modules` tree.
pub(crate) fn node_modules(dir: &Path) -> Parsed {
    let mut p = Parsed::default();
    let mut seen = HashSet::new();
    walk_nm(&mut p, dir, 0, &mut seen);
    p
}

fn walk_nm(p: &mut Parsed, nm: &Path, depth: usize, seen: &mut HashSet<PathBuf>) {
    if depth > MAX_NESTING {
        p.warn(nm, 1, "node_modules nested too deep; not followed".into());
        return;
    }
    for entry in sorted_entries(nm) {
        let name = file_name(&entry);
        if name == ".pnpm" {
            for store in sorted_entries(&entry) {
                let inner = store.join("node_modules");
                if inner.is_dir() {
                    walk_nm(p, &inner, depth + 1, seen);
                }
            }
        } else if name.starts_with('.') {
            // .bin, .cache, .package-lock.json, .yarn-state.yml
        } else if name.starts_with('@') {
            for pkg in sorted_entries(&entry) {
                package(p, &pkg, depth, seen);
            }
        } else {
            package(p, &entry, depth, seen);
        }
    }
}

fn package(p: &mut Parsed, dir: &Path, depth: usize, seen: &mut HashSet<PathBuf>) {
    // Links (pnpm, workspaces) are followed once: the real folder is the
    // identity.
    let Ok(real) = std::fs::canonicalize(dir) else {
        return;
    };
    if !real.is_dir() || !seen.insert(real) {
        return;
    }
    let manifest = dir.join("package.json");
    if manifest.is_file()
        && let Some(text) = read_small(p, &manifest)
    {
        match crate::json::parse(&text, crate::json::Dialect::default()) {
            Ok(doc) => {
                let name_node = doc.get("name");
                let name = name_node.and_then(Node::as_str).map_or_else(
                    || {
                        let parent = dir.parent().map(file_name).unwrap_or_default();
                        if parent.starts_with('@') {
                            format!("{parent}/{}", file_name(dir))
                        } else {
                            file_name(dir).to_owned()
                        }
                    },
                    str::to_owned,
                );
                let line = name_node.map_or(1, |n| n.line);
                let resolved = doc.str_of("_resolved").map(str::to_owned);
                let integrity = doc.str_of("_integrity").map(str::to_owned);
                if let Some(d) = p.add(
                    &manifest,
                    Ecosystem::Npm,
                    &name,
                    doc.str_of("version"),
                    line,
                ) {
                    d.source = SourceKind::Registry;
                    d.url = resolved;
                    d.hashes.extend(integrity);
                    d.installed = Some(Installed {
                        root: dir.to_path_buf(),
                        files: Vec::new(),
                    });
                }
            }
            Err(e) => p.warnings.push(e.at(&manifest)),
        }
    }
    let nested = dir.join("node_modules");
    if nested.is_dir() {
        walk_nm(p, &nested, depth + 1, seen);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn site_packages_reads_dists_and_pth() {
        let d = tempfile::tempdir().unwrap();
        let sp = d.path();
        std::fs::create_dir(sp.join("six-1.16.0.dist-info")).unwrap();
        std::fs::write(
            sp.join("six-1.16.0.dist-info/METADATA"),
            "Metadata-Version: 2.1\nName: six\nVersion: 1.16.0\n\nName: not-this\n",
        )
        .unwrap();
        std::fs::write(
            sp.join("six-1.16.0.dist-info/RECORD"),
            "six.py,sha256=abc,100\n\"we,ird.py\",,\nsix-1.16.0.dist-info/RECORD,,\n",
        )
        .unwrap();
        std::fs::write(sp.join("old.egg-info"), "Name: Old_Pkg\nVersion: 0.1\n").unwrap();
        std::fs::write(
            sp.join("evil.pth"),
            "/some/path\nimport os; os.system('x')\n",
        )
        .unwrap();
        std::fs::write(sp.join("distutils-precedence.pth"), "import os; x=1\n").unwrap();
        let p = site_packages(sp);
        assert_eq!(p.deps.len(), 2);
        assert_eq!(p.deps[1].name.as_str(), "six");
        assert_eq!(p.deps[1].line, 2);
        let files = &p.deps[1].installed.as_ref().unwrap().files;
        let paths: Vec<&str> = files.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(
            paths,
            vec!["six.py", "we,ird.py", "six-1.16.0.dist-info/RECORD"]
        );
        assert_eq!(files[0].hash.as_deref(), Some("sha256=abc"));
        assert_eq!(files[1].hash, None);
        assert_eq!(p.deps[0].name.as_str(), "old-pkg");
        let kinds: Vec<&str> = p.findings.iter().map(|f| f.kind).collect();
        assert_eq!(kinds, vec!["pth-exec-known", "pth-exec"]);
        assert_eq!(p.findings[1].line, 2);
    }

    #[cfg(unix)]
    #[test]
    fn node_modules_nested_scoped_and_linked_once() {
        let d = tempfile::tempdir().unwrap();
        let nm = d.path().join("node_modules");
        let w = |rel: &str, body: &str| {
            let p = nm.join(rel);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, body).unwrap();
        };
        w(
            "a/package.json",
            "{\n \"name\": \"a\",\n \"version\": \"1.0.0\"\n}",
        );
        w(
            "a/node_modules/b/package.json",
            "{\"name\": \"b\", \"version\": \"2.0.0\"}",
        );
        w(
            "@s/c/package.json",
            "{\"name\": \"@s/c\", \"version\": \"3.0.0\"}",
        );
        w(
            ".pnpm/d@1.0.0/node_modules/d/package.json",
            "{\"name\": \"d\", \"version\": \"1.0.0\"}",
        );
        w("broken/package.json", "{\"name\": ");
        std::os::unix::fs::symlink(nm.join(".pnpm/d@1.0.0/node_modules/d"), nm.join("d")).unwrap();
        std::os::unix::fs::symlink(&nm, nm.join("a/node_modules/loop")).unwrap();
        let p = node_modules(&nm);
        let got: Vec<(&str, Option<&str>)> = p
            .deps
            .iter()
            .map(|d| (d.name.as_str(), d.version.as_deref()))
            .collect();
        assert_eq!(
            got,
            vec![
                ("d", Some("1.0.0")),
                ("@s/c", Some("3.0.0")),
                ("a", Some("1.0.0")),
                ("b", Some("2.0.0"))
            ]
        );
        assert_eq!(p.deps[2].line, 2);
        assert_eq!(p.warnings.len(), 1, "{:?}", p.warnings);
    }
}
