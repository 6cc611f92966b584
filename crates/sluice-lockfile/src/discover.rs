//! Finding dependency files: a walk of the given paths that skips VCS
//! folders, treats `site-packages` and `node_modules` as environments (read
//! whole by their own reader, never searched for lockfiles), and never
//! follows a symbolic link to a folder, so link loops cannot trap it.

use std::path::{Path, PathBuf};

use crate::{Error, FileKind};

/// A file (or environment folder) to read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Found {
    /// Its path, as reached from the given path.
    pub path: PathBuf,
    /// Its kind.
    pub kind: FileKind,
}

/// Folders never entered: version control metadata.
const SKIP: &[&str] = &[".git", ".hg", ".svn"];

/// Deepest folder level walked below a given path.
const MAX_WALK_DEPTH: usize = 64;

/// The kind a file name says, if any. SBOMs are named freely, so a JSON
/// file whose name mentions `bom`, `cdx` or `spdx` is sniffed by
/// [`sniff_json`].
#[must_use]
pub fn kind_of_name(name: &str) -> Option<FileKind> {
    let lower = name.to_ascii_lowercase();
    Some(match name {
        "pyproject.toml" => FileKind::Pyproject,
        "poetry.lock" => FileKind::PoetryLock,
        "uv.lock" => FileKind::UvLock,
        "Pipfile.lock" => FileKind::PipfileLock,
        "pdm.lock" => FileKind::PdmLock,
        "package-lock.json" => FileKind::PackageLock,
        "npm-shrinkwrap.json" => FileKind::NpmShrinkwrap,
        "yarn.lock" => FileKind::YarnLock,
        "pnpm-lock.yaml" => FileKind::PnpmLock,
        "bun.lock" => FileKind::BunLock,
        // PEP 751: `pylock.toml` or `pylock.<name>.toml`.
        _ if lower.starts_with("pylock.") && lower.ends_with(".toml") => FileKind::Pylock,
        _ if lower.ends_with(".txt")
            && (lower.starts_with("requirements")
                || lower.ends_with("requirements.txt")
                || lower.starts_with("constraints")) =>
        {
            FileKind::Requirements
        }
        _ => return None,
    })
}

/// Whether a JSON file is a CycloneDX or SPDX document, from its first
/// bytes.
fn sniff_json(path: &Path) -> Option<FileKind> {
    use std::io::Read as _;
    let mut head = vec![0u8; 4096];
    let n = std::fs::File::open(path).ok()?.read(&mut head).ok()?;
    let head = String::from_utf8_lossy(&head[..n]);
    if head.contains("\"bomFormat\"") {
        Some(FileKind::CycloneDx)
    } else if head.contains("\"spdxVersion\"") {
        Some(FileKind::Spdx)
    } else {
        None
    }
}

fn sbom_candidate(name: &str) -> bool {
    let l = name.to_ascii_lowercase();
    l.ends_with(".json") && (l.contains("bom") || l.contains("cdx") || l.contains("spdx"))
}

/// Walk `paths` and list what to read, with errors for paths that cannot
/// be walked. A path given as a file is read whatever its name when its
/// kind can be told (by name, or by content for a JSON SBOM).
#[must_use]
pub fn discover(paths: &[PathBuf]) -> (Vec<Found>, Vec<Error>) {
    let mut out = Vec::new();
    let mut errors = Vec::new();
    for p in paths {
        let meta = match std::fs::metadata(p) {
            Ok(m) => m,
            Err(source) => {
                errors.push(Error::Io {
                    path: p.clone(),
                    source,
                });
                continue;
            }
        };
        if meta.is_dir() {
            walk(p, 0, &mut out, &mut errors);
            continue;
        }
        let name = p.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        let kind = kind_of_name(name).or_else(|| {
            // Sniff regular files only: opening a fifo would block.
            (meta.is_file()
                && Path::new(name)
                    .extension()
                    .is_some_and(|e| e.eq_ignore_ascii_case("json")))
            .then(|| sniff_json(p))
            .flatten()
        });
        match kind {
            Some(kind) => out.push(Found {
                path: p.clone(),
                kind,
            }),
            // A requirements file under another name is still a
            // requirements file when named on the command line.
            None if name.ends_with(".txt") || name.ends_with(".in") => out.push(Found {
                path: p.clone(),
                kind: FileKind::Requirements,
            }),
            None => errors.push(Error::Invalid {
                path: p.clone(),
                line: None,
                message: "not a lockfile, manifest or SBOM sluice can read".into(),
            }),
        }
    }
    (out, errors)
}

fn walk(dir: &Path, depth: usize, out: &mut Vec<Found>, errors: &mut Vec<Error>) {
    let name = dir.file_name().and_then(|n| n.to_str()).unwrap_or_default();
    if name == "node_modules" {
        out.push(Found {
            path: dir.to_path_buf(),
            kind: FileKind::NodeModules,
        });
        return;
    }
    if name == "site-packages" || name == "dist-packages" {
        out.push(Found {
            path: dir.to_path_buf(),
            kind: FileKind::SitePackages,
        });
        return;
    }
    if depth > MAX_WALK_DEPTH {
        return;
    }
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(source) => {
            errors.push(Error::Io {
                path: dir.to_path_buf(),
                source,
            });
            return;
        }
    };
    let mut list: Vec<(PathBuf, std::fs::FileType)> = entries
        .filter_map(Result::ok)
        .filter_map(|e| e.file_type().ok().map(|t| (e.path(), t)))
        .collect();
    list.sort_by(|a, b| a.0.cmp(&b.0));
    let mut dirs = Vec::new();
    for (path, ft) in list {
        let fname = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        if ft.is_dir() {
            if !SKIP.contains(&fname) {
                dirs.push(path);
            }
            continue;
        }
        // Symbolic links to files are read (their target is checked by
        // the reader's size limit); links to folders are not followed.
        let is_file = ft.is_file() || (ft.is_symlink() && path.is_file());
        if !is_file {
            continue;
        }
        let kind = kind_of_name(fname).or_else(|| {
            // `requirements/base.txt`: a requirements folder's files.
            if name == "requirements" && fname.ends_with(".txt") {
                Some(FileKind::Requirements)
            } else if sbom_candidate(fname) {
                sniff_json(&path)
            } else {
                None
            }
        });
        if let Some(kind) = kind {
            out.push(Found { path, kind });
        }
    }
    for d in dirs {
        walk(&d, depth + 1, out, errors);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(
            kind_of_name("requirements-dev.txt"),
            Some(FileKind::Requirements)
        );
        assert_eq!(
            kind_of_name("dev-requirements.txt"),
            Some(FileKind::Requirements)
        );
        assert_eq!(
            kind_of_name("constraints.txt"),
            Some(FileKind::Requirements)
        );
        assert_eq!(kind_of_name("pylock.toml"), Some(FileKind::Pylock));
        assert_eq!(kind_of_name("pylock.dev.toml"), Some(FileKind::Pylock));
        assert_eq!(kind_of_name("notes.txt"), None);
        assert_eq!(kind_of_name("package.json"), None);
    }

    #[cfg(unix)]
    #[test]
    fn walk_skips_git_and_survives_link_loops() {
        let d = tempfile::tempdir().unwrap();
        let root = d.path();
        std::fs::create_dir_all(root.join(".git")).unwrap();
        std::fs::write(root.join(".git/requirements.txt"), "a==1\n").unwrap();
        std::fs::create_dir_all(root.join("app/sub")).unwrap();
        std::fs::write(root.join("app/sub/uv.lock"), "version = 1\n").unwrap();
        std::os::unix::fs::symlink(root, root.join("app/loop")).unwrap();
        std::fs::create_dir_all(root.join("node_modules/a/node_modules/b")).unwrap();
        std::fs::write(root.join("node_modules/a/yarn.lock"), "").unwrap();
        let (found, errors) = discover(&[root.to_path_buf()]);
        assert!(errors.is_empty(), "{errors:?}");
        let kinds: Vec<FileKind> = found.iter().map(|f| f.kind).collect();
        assert_eq!(kinds, vec![FileKind::UvLock, FileKind::NodeModules]);
    }
}
