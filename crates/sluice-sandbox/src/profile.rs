//! The dependency profile: the third-party Python modules malware leans on
//! most (`requests`, `cryptography`, `fernet`, …), laid out once in a
//! site folder outside the sandbox and shown read-only inside it, so a
//! `setup.py` that starts with `import requests` reaches its payload instead
//! of dying on an `ImportError`.
//!
//! The folder is built from artifacts the caller fetched as bytes (from
//! the configured index, never by pip): wheels are unpacked, and a
//! pure-Python sdist that carries its `*.egg-info/top_level.txt` has its
//! modules copied. No code of these packages runs while the profile is
//! built; it runs only inside the sandbox, when the package under test
//! imports it. Frames under the profile are "dependency" frames: the hook
//! blames the package line that called into them and notes where the event
//! happened (`via`).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::SandboxError;

/// What the profile holds, by how often the malicious set imports it at
/// install time (`setup.py`): `requests` in two of three install-time
/// samples, `fernet` in half of them, then crypto, async HTTP, Discord and
/// DNS libraries. Dependencies are listed too (the profile does not
/// resolve).
pub const PYTHON_PROFILE: &[&str] = &[
    "wheel",
    "requests",
    "urllib3",
    "idna",
    "charset-normalizer",
    "certifi",
    "cryptography",
    "cffi",
    "pycparser",
    "fernet",
    "pyaes",
    "pycryptodome",
    "pycryptodomex",
    "psutil",
    "dnspython",
    "aiohttp",
    "aiosignal",
    "aiohappyeyeballs",
    "frozenlist",
    "multidict",
    "yarl",
    "propcache",
    "attrs",
    "discord-py",
    "discord-webhook",
    "dhooks",
    "browser-cookie3",
    "lz4",
    "websocket-client",
    "colorama",
    "six",
    "getmac",
    "pyperclip",
    "typing-extensions",
    "packaging",
    "gitpython",
    "gitdb",
    "smmap",
    // Build back ends named in `pyproject.toml` (`build-system.requires`):
    // without them an offline build stops before any of the package's
    // code runs, at install and so at import too.
    "hatchling",
    "pathspec",
    "pluggy",
    "trove-classifiers",
    "hatch-vcs",
    "hatch-fancy-pypi-readme",
    "flit-core",
    "flit-scm",
    "poetry-core",
    "pdm-backend",
    "setuptools-scm",
    "vcs-versioning",
    "tomlkit",
];

/// The interpreter the profile is for: wheels must match it.
#[derive(Clone, Debug)]
pub struct PythonTarget {
    /// Major and minor version (3, 11).
    pub version: (u32, u32),
    /// Machine (`x86_64`, `aarch64`).
    pub machine: String,
    /// glibc version (2, 36); `None` on musl or unknown.
    pub glibc: Option<(u32, u32)>,
}

impl PythonTarget {
    /// Ask an interpreter what it is (runs only the interpreter itself).
    ///
    /// # Errors
    /// The interpreter cannot be run or answers nonsense.
    pub fn probe(python: &Path) -> Result<Self, SandboxError> {
        let out = std::process::Command::new(python)
            .args([
                "-I",
                "-c",
                "import sys,platform;v=platform.libc_ver();print(sys.version_info[0],sys.version_info[1],platform.machine(),v[0],v[1])",
            ])
            .output()
            .map_err(|e| SandboxError::Unavailable(format!("{}: {e}", python.display())))?;
        let text = String::from_utf8_lossy(&out.stdout);
        let f: Vec<&str> = text.split_whitespace().collect();
        let num = |i: usize| f.get(i).and_then(|s| s.parse::<u32>().ok());
        let (Some(major), Some(minor), Some(machine)) = (num(0), num(1), f.get(2)) else {
            return Err(SandboxError::Unavailable(format!(
                "cannot read the version of {}",
                python.display()
            )));
        };
        let glibc = (f.get(3) == Some(&"glibc"))
            .then(|| f.get(4)?.split_once('.'))
            .flatten()
            .and_then(|(a, b)| Some((a.parse().ok()?, b.parse().ok()?)));
        Ok(Self {
            version: (major, minor),
            machine: (*machine).to_owned(),
            glibc,
        })
    }

    /// The folder name of this target's profile (`cp311-x86_64`).
    #[must_use]
    pub fn key(&self) -> String {
        format!("cp{}{}-{}", self.version.0, self.version.1, self.machine)
    }

    /// True when a wheel file name can be installed on this target.
    #[must_use]
    pub fn accepts_wheel(&self, filename: &str) -> bool {
        let Some(stem) = filename.strip_suffix(".whl") else {
            return false;
        };
        let parts: Vec<&str> = stem.split('-').collect();
        if parts.len() < 5 {
            return false;
        }
        let (py, abi, plat) = (
            parts[parts.len() - 3],
            parts[parts.len() - 2],
            parts[parts.len() - 1],
        );
        let (maj, min) = self.version;
        let own = format!("cp{maj}{min}");
        let py_ok = py.split('.').any(|t| {
            t == "py3"
                || t == format!("py{maj}{min}")
                || t == own
                || (abi == "abi3"
                    && t.strip_prefix("cp3")
                        .and_then(|m| m.parse::<u32>().ok())
                        .is_some_and(|m| maj == 3 && m <= min))
        });
        let abi_ok = abi
            .split('.')
            .any(|a| a == "none" || a == "abi3" || a == own);
        let plat_ok = plat.split('.').any(|p| self.accepts_platform(p));
        py_ok && abi_ok && plat_ok
    }

    fn accepts_platform(&self, p: &str) -> bool {
        if p == "any" {
            return true;
        }
        let Some(glibc) = self.glibc else {
            return false;
        };
        let Some(rest) = p.strip_suffix(&format!("_{}", self.machine)) else {
            return false;
        };
        let need = match rest {
            "linux" => return false,
            "manylinux1" => (2, 5),
            "manylinux2010" => (2, 12),
            "manylinux2014" => (2, 17),
            other => {
                let Some(v) = other.strip_prefix("manylinux_") else {
                    return false;
                };
                let Some((a, b)) = v.split_once('_') else {
                    return false;
                };
                match (a.parse::<u32>(), b.parse::<u32>()) {
                    (Ok(a), Ok(b)) => (a, b),
                    _ => return false,
                }
            }
        };
        need <= glibc
    }
}

/// One project laid out in the profile.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProfileItem {
    /// The artifact's file name.
    pub filename: String,
    /// `wheel` or `sdist-copy`.
    pub how: &'static str,
    /// Files written.
    pub files: usize,
}

/// Lay out one artifact (a wheel, or a pure-Python sdist) in `site`.
///
/// Wheels: every file except `*.data/{scripts,headers,data}`; the
/// `purelib`/`platlib` parts of `*.data` go to the top. Sdists: the
/// modules named by the sdist's own `*.egg-info/top_level.txt` (packages
/// and single-file modules), plus a `dist-info` built from its `PKG-INFO`
/// so `pip` and `importlib.metadata` see it installed; an sdist with
/// C sources or without that list is refused (it would need a build).
///
/// # Errors
/// Unreadable archive, an sdist that needs a build, or a write error.
pub fn add_to_profile(
    site: &Path,
    filename: &str,
    bytes: &[u8],
) -> Result<ProfileItem, SandboxError> {
    let limits = sluice_archive::Limits {
        max_total_bytes: 256 << 20,
        ..sluice_archive::Limits::default()
    };
    let bad = |reason: String| SandboxError::Input {
        path: PathBuf::from(filename),
        reason,
    };
    let tree =
        sluice_archive::read_bytes(filename, bytes, &limits).map_err(|e| bad(e.to_string()))?;
    if tree.files.iter().any(|f| f.truncated) {
        return Err(bad("a file is larger than the profile accepts".into()));
    }
    let mut written = 0usize;
    let mut put = |rel: &str, data: &[u8]| -> Result<(), SandboxError> {
        // Paths come checked from sluice-archive (no `..`, not absolute).
        let dest = site.join(rel);
        if let Some(parent) = dest.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&dest, data)?;
        written += 1;
        Ok(())
    };
    if filename.ends_with(".whl") {
        for f in &tree.files {
            let mut rel = f.path.as_str();
            if let Some((first, rest)) = rel.split_once('/')
                && first.ends_with(".data")
            {
                match rest.split_once('/') {
                    Some(("purelib" | "platlib", inner)) => rel = inner,
                    _ => continue,
                }
            }
            put(rel, &f.data)?;
        }
        return Ok(ProfileItem {
            filename: filename.to_owned(),
            how: "wheel",
            files: written,
        });
    }
    // A pure-Python sdist: the modules its `*.egg-info/top_level.txt`
    // names, else the packages (folders with `__init__.py`) and modules at
    // its top, tests and docs left out.
    if tree.files.iter().any(|f| {
        let p = f.path.to_ascii_lowercase();
        p.ends_with(".c") || p.ends_with(".cpp") || p.ends_with(".pyx") || p.ends_with(".rs")
    }) {
        return Err(bad("sdist with native sources: needs a build".into()));
    }
    let pkg_info_entry = tree
        .files
        .iter()
        .find(|f| f.path.split('/').count() == 2 && f.path.ends_with("/PKG-INFO"))
        .ok_or_else(|| bad("sdist without PKG-INFO".into()))?;
    let root = pkg_info_entry
        .path
        .split('/')
        .next()
        .unwrap_or("")
        .to_owned();
    let top = tree.files.iter().find(|f| {
        let parts: Vec<&str> = f.path.split('/').collect();
        parts.len() == 3 && parts[1].ends_with(".egg-info") && parts[2] == "top_level.txt"
    });
    let egg = top
        .and_then(|t| t.path.split('/').nth(1))
        .unwrap_or("")
        .to_owned();
    let ident = |m: &str| !m.is_empty() && m.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    let modules: BTreeSet<String> = match top {
        Some(t) => String::from_utf8_lossy(&t.data)
            .lines()
            .map(str::trim)
            .filter(|m| ident(m))
            .map(str::to_owned)
            .collect(),
        None => tree
            .files
            .iter()
            .filter_map(|f| {
                let rel = f.path.strip_prefix(&format!("{root}/"))?;
                let rel = rel.strip_prefix("src/").unwrap_or(rel);
                let parts: Vec<&str> = rel.split('/').collect();
                let m = match parts.as_slice() {
                    [file] => file.strip_suffix(".py")?,
                    [dir, "__init__.py"] => dir,
                    _ => return None,
                };
                let skip = [
                    "setup",
                    "conftest",
                    "tests",
                    "test",
                    "docs",
                    "examples",
                    "benchmarks",
                ];
                (ident(m) && !skip.contains(&m)).then(|| m.to_owned())
            })
            .collect(),
    };
    let mut copied = 0usize;
    for f in &tree.files {
        let Some(rel) = f.path.strip_prefix(&format!("{root}/")) else {
            continue;
        };
        // Packages may sit under `src/`.
        let rel = rel.strip_prefix("src/").unwrap_or(rel);
        let first = rel.split('/').next().unwrap_or("");
        let module = first.strip_suffix(".py").unwrap_or(first);
        if modules.contains(module) && (rel.contains('/') || rel.ends_with(".py")) {
            put(rel, &f.data)?;
            copied += 1;
        }
    }
    if copied == 0 {
        return Err(bad(format!("no module of {modules:?} found in the sdist")));
    }
    let pkg_info = tree
        .get(&format!("{root}/PKG-INFO"))
        .map(|f| f.data.clone())
        .unwrap_or_default();
    let info = String::from_utf8_lossy(&pkg_info);
    let field = |k: &str| {
        info.lines()
            .find_map(|l| l.strip_prefix(&format!("{k}: ")))
            .map(str::trim)
            .map(str::to_owned)
    };
    let name = field("Name").unwrap_or_else(|| egg.trim_end_matches(".egg-info").to_owned());
    let version = field("Version").unwrap_or_else(|| "0".into());
    let dist = format!("{}-{}.dist-info", name.replace('-', "_"), version);
    put(&format!("{dist}/METADATA"), &pkg_info)?;
    put(
        &format!("{dist}/top_level.txt"),
        modules
            .iter()
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
            .as_bytes(),
    )?;
    put(&format!("{dist}/INSTALLER"), b"pip\n")?;
    put(&format!("{dist}/RECORD"), b"")?;
    Ok(ProfileItem {
        filename: filename.to_owned(),
        how: "sdist-copy",
        files: written,
    })
}

/// What [`build_profile`] laid out, and what it refused (file, why).
pub type Built = (Vec<ProfileItem>, Vec<(String, String)>);

/// Build a profile folder from fetched artifacts: written to a fresh
/// sibling folder and renamed into place, so a half-built profile is never
/// used. Returns what was laid out and what was refused (with why).
///
/// # Errors
/// The folder cannot be written.
pub fn build_profile(dest: &Path, artifacts: &[(String, Vec<u8>)]) -> Result<Built, SandboxError> {
    let parent = dest
        .parent()
        .ok_or_else(|| SandboxError::Setup("profile folder has no parent".into()))?;
    std::fs::create_dir_all(parent)?;
    let tmp = tempfile::Builder::new()
        .prefix(".profile-")
        .tempdir_in(parent)?;
    let site = tmp.path().join("site");
    std::fs::create_dir_all(&site)?;
    let mut done = Vec::new();
    let mut refused = Vec::new();
    for (name, bytes) in artifacts {
        match add_to_profile(&site, name, bytes) {
            Ok(item) => done.push(item),
            Err(e) => refused.push((name.clone(), e.to_string())),
        }
    }
    let manifest: String = done
        .iter()
        .map(|i| format!("{}\t{}\t{}\n", i.filename, i.how, i.files))
        .collect();
    std::fs::write(tmp.path().join("PROFILE.tsv"), manifest)?;
    let staged = tmp.keep();
    if dest.exists() {
        let old = parent.join(format!(
            ".old-{}-{}",
            std::process::id(),
            dest.file_name()
                .map_or_else(String::new, |n| n.to_string_lossy().into_owned())
        ));
        std::fs::rename(dest, &old)?;
        let _ = std::fs::remove_dir_all(&old);
    }
    std::fs::rename(&staged, dest)?;
    Ok((done, refused))
}

/// Requirements of the profile's projects that it does not hold:
/// `(project, requirement)`. The profile does not resolve, and one missing
/// dependency of a build plugin (setuptools loads every installed
/// `setuptools.finalize_distribution_options` entry point) breaks every
/// build. Requirements under an environment marker or an extra are not
/// checked; setuptools and pip come from the sandbox's venv.
#[must_use]
pub fn unmet_requirements(site: &Path) -> Vec<(String, String)> {
    let norm = |n: &str| n.trim().to_ascii_lowercase().replace(['_', '.'], "-");
    let Ok(entries) = std::fs::read_dir(site) else {
        return Vec::new();
    };
    let mut have: BTreeSet<String> = ["setuptools", "pip"].map(String::from).into();
    let mut metas = Vec::new();
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let Some(stem) = name
            .strip_suffix(".dist-info")
            .or_else(|| name.strip_suffix(".egg-info"))
        else {
            continue;
        };
        let project = stem.split('-').next().unwrap_or(stem);
        have.insert(norm(project));
        for meta in ["METADATA", "PKG-INFO"] {
            if let Ok(text) = std::fs::read_to_string(e.path().join(meta)) {
                metas.push((norm(project), text));
                break;
            }
        }
    }
    let mut out = Vec::new();
    for (project, text) in metas {
        for req in text
            .lines()
            .filter_map(|l| l.strip_prefix("Requires-Dist:"))
        {
            if req.contains(';') {
                continue;
            }
            let name: String = req
                .trim()
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || "-_.".contains(*c))
                .collect();
            if !name.is_empty() && !have.contains(&norm(&name)) {
                out.push((project.clone(), req.trim().to_owned()));
            }
        }
    }
    out.sort();
    out
}

/// The built profile under a data dir for the `python3` on `PATH`
/// (`DATA/sandbox-profile/cp311-x86_64/site`), if there is one.
#[must_use]
pub fn find_profile(data_dir: &Path) -> Option<PathBuf> {
    let python = std::env::var_os("PATH").and_then(|p| {
        std::env::split_paths(&p)
            .map(|d| d.join("python3"))
            .find(|c| c.is_file())
    })?;
    let target = PythonTarget::probe(&python).ok()?;
    let site = profile_site(&data_dir.join("sandbox-profile").join(target.key()))?;
    std::fs::canonicalize(site).ok()
}

/// The site folder of a built profile, if there is one.
#[must_use]
pub fn profile_site(dir: &Path) -> Option<PathBuf> {
    let site = dir.join("site");
    (dir.join("PROFILE.tsv").is_file() && site.is_dir()).then_some(site)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t() -> PythonTarget {
        PythonTarget {
            version: (3, 11),
            machine: "x86_64".into(),
            glibc: Some((2, 36)),
        }
    }

    #[test]
    fn wheel_tags() {
        let t = t();
        assert!(t.accepts_wheel("requests-2.32.3-py3-none-any.whl"));
        assert!(t.accepts_wheel("six-1.16.0-py2.py3-none-any.whl"));
        assert!(t.accepts_wheel("cryptography-44.0.0-cp39-abi3-manylinux_2_28_x86_64.whl"));
        assert!(t.accepts_wheel(
            "psutil-6.1.0-cp36-abi3-manylinux_2_12_x86_64.manylinux2010_x86_64.manylinux_2_17_x86_64.manylinux2014_x86_64.whl"
        ));
        assert!(t.accepts_wheel(
            "aiohttp-3.11.9-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl"
        ));
        assert!(!t.accepts_wheel(
            "aiohttp-3.11.9-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl"
        ));
        assert!(!t.accepts_wheel("cryptography-44.0.0-cp39-abi3-manylinux_2_39_x86_64.whl"));
        assert!(!t.accepts_wheel("psutil-6.1.0-cp37-abi3-win_amd64.whl"));
        assert!(!t.accepts_wheel("x-1.0-cp311-cp311-musllinux_1_2_x86_64.whl"));
        assert!(!t.accepts_wheel("x-1.0-cp311-cp311-manylinux2014_aarch64.whl"));
        assert!(!t.accepts_wheel("x-1.0.tar.gz"));
        assert!(!t.accepts_wheel("broken.whl"));
    }

    fn zip(files: &[(&str, &str)]) -> Vec<u8> {
        let mut buf = std::io::Cursor::new(Vec::new());
        {
            let mut z = zip::ZipWriter::new(&mut buf);
            for (n, d) in files {
                z.start_file(*n, zip::write::SimpleFileOptions::default())
                    .unwrap();
                std::io::Write::write_all(&mut z, d.as_bytes()).unwrap();
            }
            z.finish().unwrap();
        }
        buf.into_inner()
    }

    fn tgz(files: &[(&str, &str)]) -> Vec<u8> {
        let mut out = Vec::new();
        {
            let gz = flate2::write::GzEncoder::new(&mut out, flate2::Compression::fast());
            let mut t = tar::Builder::new(gz);
            for (n, d) in files {
                let mut h = tar::Header::new_gnu();
                h.set_size(d.len() as u64);
                h.set_mode(0o644);
                h.set_cksum();
                t.append_data(&mut h, n, d.as_bytes()).unwrap();
            }
            t.into_inner().unwrap().finish().unwrap();
        }
        out
    }

    #[test]
    fn unmet_requirements_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let plugin = zip(&[
            ("plug/__init__.py", "import helper\n"),
            (
                "plug-1.0.dist-info/METADATA",
                "Name: plug\nVersion: 1.0\nRequires-Dist: Helper_Lib>=2\nRequires-Dist: setuptools\nRequires-Dist: tomli; python_version < '3.11'\nRequires-Dist: base.dep\n",
            ),
        ]);
        let base = zip(&[
            ("base_dep/__init__.py", "\n"),
            (
                "base_dep-1.0.dist-info/METADATA",
                "Name: base.dep\nVersion: 1.0\n",
            ),
        ]);
        let dest = dir.path().join("p");
        build_profile(
            &dest,
            &[
                ("plug-1.0-py3-none-any.whl".into(), plugin),
                ("base_dep-1.0-py3-none-any.whl".into(), base),
            ],
        )
        .unwrap();
        let unmet = unmet_requirements(&profile_site(&dest).unwrap());
        assert_eq!(unmet, vec![("plug".to_owned(), "Helper_Lib>=2".to_owned())]);
    }

    #[test]
    fn wheel_and_sdist_laid_out() {
        let dir = tempfile::tempdir().unwrap();
        let whl = zip(&[
            ("req/__init__.py", "X = 1\n"),
            ("req-1.0.dist-info/METADATA", "Name: req\nVersion: 1.0\n"),
            ("req-1.0.data/purelib/extra.py", "Y = 2\n"),
            ("req-1.0.data/scripts/run", "#!/bin/sh\n"),
        ]);
        let sdist = tgz(&[
            (
                "fern-1.0/PKG-INFO",
                "Metadata-Version: 1.1\nName: fern\nVersion: 1.0\n",
            ),
            ("fern-1.0/setup.py", "raise SystemExit('never run')\n"),
            ("fern-1.0/fern.py", "class Fern: pass\n"),
            ("fern-1.0/fern.egg-info/top_level.txt", "fern\n"),
            ("fern-1.0/tests/test_fern.py", "\n"),
        ]);
        let native = tgz(&[
            ("nat-1.0/PKG-INFO", "Name: nat\nVersion: 1.0\n"),
            ("nat-1.0/nat/__init__.py", "\n"),
            ("nat-1.0/nat/speed.c", "int x;\n"),
            ("nat-1.0/nat.egg-info/top_level.txt", "nat\n"),
        ]);
        let dest = dir.path().join("cp311-x86_64");
        let (done, refused) = build_profile(
            &dest,
            &[
                ("req-1.0-py3-none-any.whl".into(), whl),
                ("fern-1.0.tar.gz".into(), sdist),
                ("nat-1.0.tar.gz".into(), native),
                ("junk-1.0.tar.gz".into(), b"not an archive".to_vec()),
            ],
        )
        .unwrap();
        assert_eq!(done.len(), 2, "{done:?} {refused:?}");
        assert_eq!(refused.len(), 2);
        let site = profile_site(&dest).unwrap();
        assert!(site.join("req/__init__.py").is_file());
        assert!(site.join("extra.py").is_file());
        assert!(!site.join("run").exists());
        assert!(site.join("fern.py").is_file());
        assert!(!site.join("setup.py").exists());
        assert!(!site.join("tests").exists());
        assert!(site.join("fern-1.0.dist-info/METADATA").is_file());
        assert!(!site.join("nat").exists());
        // Rebuilding replaces the old profile whole.
        build_profile(&dest, &[]).unwrap();
        assert!(!profile_site(&dest).unwrap().join("fern.py").exists());
    }
}
