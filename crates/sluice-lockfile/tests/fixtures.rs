//! Reading the committed fixtures: counts against what each ecosystem's
//! own tool lists for the same file (`real/counts.json`, written by
//! `bench/make-lockfiles.sh`), line numbers, and hostile input.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use sluice_lockfile::{Dependency, Error, FileKind, Inventory, SourceKind, read_paths};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn read(rel: &str) -> Inventory {
    read_paths(&[fixtures().join(rel)])
}

/// Dependencies read from files under `rel`, with no error.
fn deps(rel: &str) -> Vec<Dependency> {
    let inv = read(rel);
    assert!(inv.errors.is_empty(), "{rel}: {:?}", inv.errors);
    inv.dependencies
}

fn names(d: &[Dependency]) -> Vec<String> {
    let mut v: Vec<String> = d
        .iter()
        .map(|d| format!("{}@{}", d.name, d.version.as_deref().unwrap_or("-")))
        .collect();
    v.sort();
    v
}

/// Entries the tool does not list but the file does, by design (see
/// docs/audit.md): uv.lock records the project itself.
const EXTRA: &[(&str, usize)] = &[("uv/uv.lock", 1)];

#[test]
fn counts_match_the_tools() {
    let counts: BTreeMap<String, serde_json::Value> = serde_json::from_str(
        &std::fs::read_to_string(fixtures().join("real/counts.json")).unwrap(),
    )
    .unwrap();
    assert!(counts.len() >= 12, "{counts:?}");
    for (file, c) in &counts {
        let rel = file.split(' ').next().unwrap();
        let tool = usize::try_from(c["tool"].as_u64().unwrap()).unwrap();
        let extra = EXTRA.iter().find(|(f, _)| *f == rel).map_or(0, |(_, n)| *n);
        let inv = read(&format!("real/{rel}"));
        assert!(inv.errors.is_empty(), "{rel}: {:?}", inv.errors);
        assert!(inv.warnings.is_empty(), "{rel}: {:?}", inv.warnings);
        assert_eq!(
            inv.dependencies.len(),
            tool + extra,
            "{rel}: sluice read {:?}, {} lists {tool}",
            names(&inv.dependencies),
            c["how"]
        );
    }
}

#[test]
fn the_same_packages_in_every_npm_format() {
    let want = names(&deps("real/npm-v3/package-lock.json"));
    assert_eq!(want.len(), 9);
    for rel in [
        "real/npm-v1/package-lock.json",
        "real/npm-v2/package-lock.json",
        "real/npm-shrinkwrap/npm-shrinkwrap.json",
        "real/npm-env/node_modules",
        "real/pnpm/pnpm-lock.yaml",
        "real/pnpm-env/node_modules",
        "real/yarn-v1/yarn.lock",
        "real/sbom/npm.cdx.json",
        "hand/bun/bun.lock",
        "hand/pnpm-v5/pnpm-lock.yaml",
        "hand/pnpm-v6/pnpm-lock.yaml",
    ] {
        assert_eq!(names(&deps(rel)), want, "{rel}");
    }
    // berry also locks the workspace itself; SPDX lists the root package.
    let berry = deps("hand/yarn-berry/yarn.lock");
    assert_eq!(berry.len(), 10);
    let ws: Vec<&Dependency> = berry
        .iter()
        .filter(|d| d.source == SourceKind::Path)
        .collect();
    assert_eq!(ws.len(), 1);
    assert_eq!(ws[0].name.as_str(), "app-npm");
}

#[test]
fn the_same_packages_in_every_python_format() {
    let want = names(&deps("real/uv/pylock.toml"));
    assert_eq!(want.len(), 6);
    for rel in [
        "real/uv/requirements.txt",
        "real/venv/site-packages",
        "hand/poetry/poetry.lock",
        "hand/pdm/pdm.lock",
        "hand/pipenv/Pipfile.lock",
        "hand/sbom/python.cdx.json",
        "hand/sbom/python.spdx.json",
    ] {
        assert_eq!(names(&deps(rel)), want, "{rel}");
    }
    let uv = deps("real/uv/uv.lock");
    assert_eq!(uv.len(), 7);
    let project: Vec<&Dependency> = uv.iter().filter(|d| d.source == SourceKind::Path).collect();
    assert_eq!(project[0].name.as_str(), "app-py");
}

#[test]
fn hashes_flags_and_sources() {
    let v3 = deps("real/npm-v3/package-lock.json");
    assert!(
        v3.iter()
            .all(|d| d.hashes.len() == 1 && d.hashes[0].starts_with("sha512-"))
    );
    let tt = v3.iter().find(|d| d.name.as_str() == "test-thing").unwrap();
    assert_eq!((tt.dev, tt.direct), (Some(true), Some(true)));
    let nested = v3
        .iter()
        .find(|d| d.name.as_str() == "ansi-stylez" && d.version.as_deref() == Some("1.0.0"))
        .unwrap();
    assert_eq!(nested.direct, Some(false));
    let pnpm = deps("real/pnpm/pnpm-lock.yaml");
    let direct: Vec<&str> = pnpm
        .iter()
        .filter(|d| d.direct == Some(true))
        .map(|d| d.name.as_str())
        .collect();
    assert_eq!(direct.len(), 7, "{direct:?}");
    let uv = deps("real/uv/uv.lock");
    let alpha = uv.iter().find(|d| d.name.as_str() == "alpha").unwrap();
    assert_eq!(alpha.hashes.len(), 1);
    assert!(alpha.hashes[0].starts_with("sha256:"));
    let pip = deps("hand/pipenv/Pipfile.lock");
    let gamma = pip.iter().find(|d| d.name.as_str() == "gamma-lib").unwrap();
    assert_eq!(gamma.dev, Some(true));
    let pdm = deps("hand/pdm/pdm.lock");
    let gamma = pdm.iter().find(|d| d.name.as_str() == "gamma-lib").unwrap();
    assert_eq!(gamma.dev, Some(true));
    let site = deps("real/venv/site-packages");
    let six = site.iter().find(|d| d.name.as_str() == "six").unwrap();
    let inst = six.installed.as_ref().unwrap();
    let init = inst
        .files
        .iter()
        .find(|f| f.path == "six/__init__.py")
        .unwrap();
    assert!(
        init.hash.as_deref().unwrap().starts_with("sha256="),
        "{inst:?}"
    );
}

/// Every entry's line holds its name, in every fixture.
#[test]
fn lines_point_at_the_entry() {
    let inv = read_paths(&[fixtures()]);
    assert!(inv.dependencies.len() > 150, "{}", inv.dependencies.len());
    let mut texts: BTreeMap<PathBuf, Vec<String>> = BTreeMap::new();
    for d in &inv.dependencies {
        let lines = texts.entry(d.file.clone()).or_insert_with(|| {
            std::fs::read_to_string(&d.file)
                .unwrap()
                .lines()
                .map(str::to_owned)
                .collect()
        });
        let line = &lines[d.line as usize - 1];
        let raw = d.name.raw();
        let encoded = raw.replace('@', "%40");
        assert!(
            line.contains(raw) || line.contains(&encoded),
            "{}:{}: `{line}` does not name {raw}",
            d.file.display(),
            d.line
        );
    }
}

#[test]
fn requirements_includes_and_loops() {
    let inv = read("hand/req");
    assert!(inv.errors.is_empty(), "{:?}", inv.errors);
    let kinds: Vec<FileKind> = inv.files.iter().map(|f| f.kind).collect();
    assert_eq!(kinds, vec![FileKind::Requirements; 3]);
    let got: Vec<(String, Option<String>, u32, String)> = inv
        .dependencies
        .iter()
        .map(|d| {
            (
                d.name.as_str().to_owned(),
                d.version.clone(),
                d.line,
                d.file.file_name().unwrap().to_string_lossy().into_owned(),
            )
        })
        .collect();
    let want = vec![
        ("beta", None, 1, "constraints.txt"),
        ("six", Some("1.16.0"), 2, "constraints.txt"),
        ("alpha", Some("1.0.0"), 6, "requirements.txt"),
        ("reqeusts", None, 8, "requirements.txt"),
        ("six", Some("1.16.0"), 9, "requirements.txt"),
        ("gamma-lib", None, 10, "requirements.txt"),
        ("acme-internal-auth", None, 11, "requirements.txt"),
        ("beta", Some("1.1.0"), 1, "base.txt"),
    ];
    let want: Vec<(String, Option<String>, u32, String)> = want
        .into_iter()
        .map(|(n, v, l, f)| (n.to_owned(), v.map(str::to_owned), l, f.to_owned()))
        .collect();
    assert_eq!(got, want);
    let alpha = &inv.dependencies[2];
    assert_eq!(alpha.hashes.len(), 1);
    assert_eq!(inv.dependencies[6].source, SourceKind::Git);
    assert_eq!(inv.dependencies[5].source, SourceKind::Url);
}

#[test]
fn poetry_pyproject_declarations() {
    let d = deps("hand/poetry-project");
    let got: Vec<(&str, Option<&str>, Option<bool>)> = d
        .iter()
        .map(|d| (d.name.as_str(), d.version.as_deref(), d.dev))
        .collect();
    assert_eq!(
        got,
        vec![
            ("alpha", Some("1.0.0"), Some(false)),
            ("reqeusts", None, Some(false)),
            ("six", Some("1.16.0"), Some(false)),
            ("acme-internal-auth", None, Some(false)),
            ("gamma-lib", None, Some(true)),
        ]
    );
}

#[test]
fn environment_findings() {
    let inv = read("hand/env");
    assert!(inv.errors.is_empty(), "{:?}", inv.errors);
    assert_eq!(
        names(&inv.dependencies),
        vec!["distutils-thing@1.2", "legacy-pkg@0.9"]
    );
    let f: Vec<(&str, u32)> = inv.findings.iter().map(|f| (f.kind, f.line)).collect();
    assert_eq!(f, vec![("pth-exec-known", 1), ("pth-exec", 2)]);
    assert!(inv.findings[1].excerpt.contains("b64decode"));
    // A clean environment has no start-up hook finding.
    assert!(read("real/venv").findings.is_empty());
}

// --- hostile input ---------------------------------------------------------

fn write(dir: &Path, rel: &str, body: &[u8]) -> PathBuf {
    let p = dir.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(&p, body).unwrap();
    p
}

/// Reads `bad` next to a good lockfile: the bad one is an error naming the
/// file (and line), the good one is still read.
fn one_bad(rel: &str, body: &[u8]) -> Error {
    let d = tempfile::tempdir().unwrap();
    let bad = write(d.path(), rel, body);
    write(d.path(), "good/requirements.txt", b"alpha==1.0.0\n");
    let inv = read_paths(&[d.path().to_path_buf()]);
    assert_eq!(inv.dependencies.len(), 1, "{:?}", inv.dependencies);
    assert_eq!(inv.errors.len(), 1, "{:?}", inv.errors);
    let e = inv.errors.into_iter().next().unwrap();
    assert_eq!(e.path(), bad);
    assert!(e.to_string().contains(&bad.display().to_string()), "{e}");
    e
}

#[test]
fn yaml_bomb_is_refused() {
    let mut bomb =
        String::from("lockfileVersion: '9.0'\na: &a [\"lol\",\"lol\",\"lol\",\"lol\"]\n");
    for i in 0..9 {
        let prev = if i == 0 {
            "a".to_owned()
        } else {
            format!("b{}", i - 1)
        };
        bomb.push_str(&format!("b{i}: &b{i} [*{prev},*{prev},*{prev},*{prev}]\n"));
    }
    let e = one_bad("x/pnpm-lock.yaml", bomb.as_bytes());
    assert_eq!(e.line(), Some(2), "{e}");
    assert!(e.to_string().contains("anchors"), "{e}");
    let e = one_bad(
        "y/yarn.lock",
        b"__metadata:\n  version: 8\n\"a@npm:1\": *x\n",
    );
    assert_eq!(e.line(), Some(3), "{e}");
}

#[test]
fn deep_nesting_is_refused() {
    let deep = format!(
        "{{\"packages\": {}{}}}",
        "[".repeat(200_000),
        "]".repeat(200_000)
    );
    let e = one_bad("x/package-lock.json", deep.as_bytes());
    assert!(e.to_string().contains("nesting"), "{e}");
    let deep_yaml: String = std::iter::once("lockfileVersion: '9.0'\n".to_owned())
        .chain((0..300).map(|i| format!("{}k{i}:\n", " ".repeat(i))))
        .collect();
    let e = one_bad("y/pnpm-lock.yaml", deep_yaml.as_bytes());
    assert!(e.to_string().contains("nesting"), "{e}");
    let deep_toml = format!(
        "version = 1\nx = {}{}\n",
        "[".repeat(50_000),
        "]".repeat(50_000)
    );
    let e = one_bad("z/uv.lock", deep_toml.as_bytes());
    assert_eq!(e.line(), Some(2), "{e}");
}

#[test]
fn duplicate_keys_are_refused() {
    let e = one_bad(
        "x/package-lock.json",
        b"{\"lockfileVersion\": 3, \"packages\": {\n\"node_modules/a\": {\"version\": \"1.0.0\"},\n\"node_modules/a\": {\"version\": \"6.6.6\"}}}",
    );
    assert_eq!(e.line(), Some(3), "{e}");
    assert!(e.to_string().contains("duplicate key"), "{e}");
    let e = one_bad(
        "y/pnpm-lock.yaml",
        b"lockfileVersion: '9.0'\npackages:\n  a@1.0.0:\n    resolution: {integrity: x}\n  a@1.0.0:\n    resolution: {integrity: y}\n",
    );
    assert_eq!(e.line(), Some(5), "{e}");
    let e = one_bad(
        "z/poetry.lock",
        b"[[package]]\nname = \"a\"\nname = \"b\"\nversion = \"1\"\n",
    );
    assert_eq!(e.line(), Some(3), "{e}");
}

#[test]
fn enormous_strings_are_bounded() {
    // A 5 MB version: the entry is skipped with a warning, the rest read.
    let d = tempfile::tempdir().unwrap();
    let huge = "9".repeat(5 << 20);
    let body = format!(
        "{{\"lockfileVersion\": 3, \"packages\": {{\n\"node_modules/a\": {{\"version\": \"{huge}\"}},\n\"node_modules/b\": {{\"version\": \"1.0.0\"}}}}}}"
    );
    write(d.path(), "package-lock.json", body.as_bytes());
    let inv = read_paths(&[d.path().to_path_buf()]);
    assert!(inv.errors.is_empty(), "{:?}", inv.errors);
    assert_eq!(names(&inv.dependencies), vec!["b@1.0.0"]);
    assert_eq!(inv.warnings.len(), 1);
    assert_eq!(inv.warnings[0].line(), Some(2));
    // A name longer than any registry allows.
    let long = format!("{}==1.0\n", "a".repeat(100_000));
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "requirements.txt", long.as_bytes());
    let inv = read_paths(&[d.path().to_path_buf()]);
    assert!(inv.dependencies.is_empty());
    assert_eq!(inv.warnings.len(), 1);
}

#[test]
fn oversized_files_are_refused_unread() {
    let d = tempfile::tempdir().unwrap();
    let p = write(d.path(), "x/package-lock.json", b"");
    let f = std::fs::OpenOptions::new().write(true).open(&p).unwrap();
    f.set_len(sluice_lockfile::MAX_FILE_BYTES + 1).unwrap();
    write(d.path(), "good/requirements.txt", b"alpha==1.0.0\n");
    let inv = read_paths(&[d.path().to_path_buf()]);
    assert_eq!(inv.dependencies.len(), 1);
    assert!(
        matches!(inv.errors[..], [Error::TooLarge { .. }]),
        "{:?}",
        inv.errors
    );
}

#[test]
fn truncated_files_name_their_line() {
    for rel in [
        "real/npm-v3/package-lock.json",
        "real/pnpm/pnpm-lock.yaml",
        "real/uv/uv.lock",
        "hand/bun/bun.lock",
        "hand/pipenv/Pipfile.lock",
        "hand/sbom/python.cdx.json",
        "hand/poetry/poetry.lock",
    ] {
        let text = std::fs::read_to_string(fixtures().join(rel)).unwrap();
        // Cut inside a quoted string or an open bracket in the middle.
        let mid = text.len() / 2;
        let cut = mid + text[mid..].find(['"', '{', '[']).unwrap() + 1;
        let name = Path::new(rel).file_name().unwrap().to_str().unwrap();
        let e = one_bad(&format!("t/{name}"), &text.as_bytes()[..cut]);
        let line = e.line().unwrap_or_else(|| panic!("{rel}: {e}"));
        let total = u32::try_from(text[..cut].lines().count()).unwrap();
        assert!(
            line >= total.saturating_sub(1) && line <= total + 1,
            "{rel}: {e} (cut at line {total})"
        );
    }
}

#[test]
fn invalid_utf8_names_the_line() {
    let e = one_bad(
        "x/yarn.lock",
        b"# yarn lockfile v1\n\na@1:\n  version \"1\xff\"\n",
    );
    assert!(matches!(e, Error::NotUtf8 { line: 4, .. }), "{e}");
}

/// Every prefix of every text fixture (cut every few bytes) parses or
/// fails cleanly: no panic, and an error always names a line in range.
#[test]
fn every_prefix_is_handled() {
    use sluice_lockfile::parse_str;
    let kinds = [
        ("real/npm-v3/package-lock.json", FileKind::PackageLock),
        ("real/npm-v1/package-lock.json", FileKind::PackageLock),
        ("real/pnpm/pnpm-lock.yaml", FileKind::PnpmLock),
        ("hand/pnpm-v5/pnpm-lock.yaml", FileKind::PnpmLock),
        ("real/yarn-v1/yarn.lock", FileKind::YarnLock),
        ("hand/yarn-berry/yarn.lock", FileKind::YarnLock),
        ("hand/bun/bun.lock", FileKind::BunLock),
        ("real/uv/uv.lock", FileKind::UvLock),
        ("real/uv/pylock.toml", FileKind::Pylock),
        ("hand/poetry/poetry.lock", FileKind::PoetryLock),
        ("hand/pdm/pdm.lock", FileKind::PdmLock),
        ("hand/pipenv/Pipfile.lock", FileKind::PipfileLock),
        ("hand/req/requirements.txt", FileKind::Requirements),
        ("hand/poetry-project/pyproject.toml", FileKind::Pyproject),
        ("real/sbom/npm.cdx.json", FileKind::CycloneDx),
        ("real/sbom/npm.spdx.json", FileKind::Spdx),
    ];
    for (rel, kind) in kinds {
        let text = std::fs::read_to_string(fixtures().join(rel)).unwrap();
        let full = parse_str(Path::new(rel), kind, &text).unwrap();
        assert!(!full.0.is_empty(), "{rel}");
        let lines = u32::try_from(text.lines().count()).unwrap() + 1;
        let mut cut = 0;
        while cut < text.len() {
            if text.is_char_boundary(cut) {
                match parse_str(Path::new(rel), kind, &text[..cut]) {
                    Ok((deps, _)) => assert!(deps.len() <= full.0.len(), "{rel} cut at {cut}"),
                    Err(e) => {
                        if let Some(l) = e.line() {
                            assert!(l >= 1 && l <= lines, "{rel} cut at {cut}: {e}");
                        }
                    }
                }
            }
            cut += 13;
        }
    }
}

#[cfg(unix)]
#[test]
fn a_fifo_named_like_a_lockfile_is_not_read() {
    let d = tempfile::tempdir().unwrap();
    let fifo = d.path().join("yarn.lock");
    let ok = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        return; // no mkfifo on this machine
    }
    // Given by name (the walk skips non-regular files by itself).
    let inv = read_paths(std::slice::from_ref(&fifo));
    assert!(inv.dependencies.is_empty());
    assert_eq!(inv.errors.len(), 1, "{:?}", inv.errors);
    assert!(inv.errors[0].to_string().contains("not a regular file"));
    let inv = read_paths(&[d.path().to_path_buf()]);
    assert!(
        inv.errors.is_empty() && inv.files.is_empty(),
        "{:?}",
        inv.errors
    );
}
