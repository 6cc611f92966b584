//! Helpers shared by the sandbox integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use sluice_sandbox::{SandboxReport, check_prerequisites};

/// The fixtures folder.
pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// Whether the sandbox can run here; prints why not.
pub fn available() -> bool {
    match check_prerequisites() {
        Ok(_) => {
            if std::process::Command::new("python3")
                .arg("-V")
                .output()
                .is_err()
            {
                eprintln!("SKIP: python3 not found");
                return false;
            }
            true
        }
        Err(e) => {
            eprintln!("SKIP: {e}");
            false
        }
    }
}

/// Whether the sandbox can run npm packages here (node and npm too);
/// prints why not.
pub fn npm_available() -> bool {
    if !available() {
        return false;
    }
    let ok = ["node", "npm"]
        .iter()
        .all(|t| std::process::Command::new(t).arg("-v").output().is_ok());
    if !ok {
        eprintln!("SKIP: node/npm not found");
    }
    ok
}

/// Pack `src` as `<prefix>/...` into a .tar.gz at `dest`.
pub fn tar_gz(src: &Path, prefix: &str, dest: &Path) {
    let f = std::fs::File::create(dest).unwrap();
    let gz = flate2::write::GzEncoder::new(f, flate2::Compression::fast());
    let mut t = tar::Builder::new(gz);
    t.append_dir_all(prefix, src).unwrap();
    t.into_inner().unwrap().finish().unwrap();
}

/// Build an sdist `name-version.tar.gz` from a fixture folder.
pub fn sdist(dir: &Path, fixture: &str, name_version: &str) -> PathBuf {
    let out = dir.join(format!("{name_version}.tar.gz"));
    tar_gz(&fixtures().join(fixture), name_version, &out);
    out
}

/// Build an npm tarball from a fixture folder holding `package/`.
pub fn npm_tgz(dir: &Path, fixture: &str) -> PathBuf {
    let out = dir.join(format!("{fixture}.tgz"));
    tar_gz(&fixtures().join(fixture).join("package"), "package", &out);
    out
}

/// 1-based line of the first line in `file` containing `marker`.
pub fn line_of(file: &Path, marker: &str) -> u32 {
    let text = std::fs::read_to_string(file).unwrap();
    let i = text
        .lines()
        .position(|l| l.contains(marker))
        .unwrap_or_else(|| panic!("{marker} not in {}", file.display()));
    u32::try_from(i + 1).unwrap()
}

/// Print the report when a test wants to show it (`--nocapture`).
pub fn show(r: &SandboxReport) {
    eprintln!("{}", sluice_sandbox::render_text(r));
}

/// The finding with `rule` at `file:line`, if any.
pub fn has(r: &SandboxReport, rule: &str, file: &str, line: u32) -> bool {
    r.findings
        .iter()
        .any(|f| f.rule.as_str() == rule && f.file.as_deref() == Some(file) && f.line == Some(line))
}

/// Python that only acts inside a sealed network namespace (the sandbox).
pub const SEALED_GUARD: &str = r#"
def _sealed():
    try:
        with open("/proc/net/dev") as f:
            devs = [l.split(":")[0].strip() for l in f.readlines()[2:]]
        return devs == ["lo"]
    except OSError:
        return False
"#;

/// Build an sdist whose setup.py runs `body` (indented under the sealed
/// guard) before calling setup().
pub fn inline_sdist(dir: &Path, name: &str, body: &str) -> PathBuf {
    let src = dir.join(format!("{name}-src"));
    std::fs::create_dir_all(src.join(name.replace('-', "_"))).unwrap();
    std::fs::write(src.join(name.replace('-', "_")).join("__init__.py"), "").unwrap();
    let indented: String = body.lines().map(|l| format!("    {l}\n")).collect();
    let setup = format!(
        "import os, sys, socket, time\nfrom setuptools import setup\n{SEALED_GUARD}\nif _sealed():\n{indented}\nsetup(name={name:?}, version='0.0.1', packages=[{pkg:?}])\n",
        pkg = name.replace('-', "_")
    );
    std::fs::write(src.join("setup.py"), setup).unwrap();
    let out = dir.join(format!("{name}-0.0.1.tar.gz"));
    tar_gz(&src, &format!("{name}-0.0.1"), &out);
    out
}
