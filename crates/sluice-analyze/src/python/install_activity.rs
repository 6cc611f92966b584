//! PY110 `install-time-activity`: network or process activity while installing.
//!
//! **What it detects.** In code that runs during `pip install` (setup.py,
//! modules holding its `cmdclass` overrides): any network call, and
//! process launches other than the build tools a package legitimately
//! runs (compilers, git, cmake, make, pkg-config, cython, cargo, npm…).
//!
//! **Why it matters.** Building a package needs neither the internet nor
//! arbitrary commands; GuardDog's `code-execution` and
//! `threat-setup-network-in-install` flag the same place. It is the
//! weaker, general cousin of PY101/PY102.
//!
//! **Example.** `urllib.request.urlopen("http://203.0.113.5/ping")` at
//! module level of setup.py.
//!
//! **False positives.** Some setup.py files download a native library or
//! run an unusual build tool: medium for network, low for processes; never
//! decisive alone.

use sluice_model::{Confidence, Finding, Severity};

use super::facts::{Caps, Facts, is_proc_sink_name};
use super::{at_call, command_of, urls_in};
use crate::FileRole;

/// Rule name.
pub const NAME: &str = "install-time-activity";

const BUILD_TOOLS: &[&str] = &[
    "git",
    "hg",
    "svn",
    "make",
    "gmake",
    "nmake",
    "cmake",
    "ninja",
    "meson",
    "gcc",
    "g++",
    "cc",
    "c++",
    "clang",
    "clang++",
    "cl",
    "cl.exe",
    "nvcc",
    "hipcc",
    "pkg-config",
    "pkgconf",
    "cython",
    "swig",
    "cargo",
    "rustc",
    "go",
    "npm",
    "yarn",
    "jlpm",
    "node",
    "pnpm",
    "python",
    "python3",
    "sys.executable",
    "xcrun",
    "lipo",
    "install_name_tool",
    "ar",
    "ld",
    "nasm",
    "yasm",
    "autoreconf",
    "autoconf",
    "./configure",
    "configure",
    "sh",
    "bash",
    "uname",
    "which",
    "where",
    "llvm-config",
    "mysql_config",
    "pg_config",
    "icu-config",
    "gfortran",
    "f2py",
    "protoc",
    "sphinx-build",
    "ldconfig",
    "brew",
    "xcode-select",
    "lsb_release",
    "sw_vers",
    "otool",
    "patchelf",
    "strip",
    "nproc",
    "sysctl",
    "getconf",
    "rpm",
    "dpkg",
    "pip",
    "tar",
    "unzip",
    "cp",
    "mkdir",
    "ln",
    "msbuild",
    "vswhere",
    "bazel",
    "scons",
    "qmake",
    "moc",
    "hipconfig",
    "rocm_agent_enumerator",
    "nvidia-smi",
    "ccache",
    "wheel",
    "maturin",
    "poetry",
    "git.exe",
    "cmd",
    "env",
    "javac",
];

/// Check one file.
#[must_use]
pub fn check(f: &Facts<'_>) -> Vec<Finding> {
    if f.file.role != FileRole::Install || f.file.path.ends_with(".pth") {
        return Vec::new();
    }
    let mut out = Vec::new();
    if let Some(c) = f
        .calls
        .iter()
        .find(|c| c.caps.has(Caps::NET) && !c.target.starts_with("local:"))
    {
        let mut fd = at_call(
            f,
            "PY110",
            NAME,
            Severity::Medium,
            Confidence::Medium,
            "talks to the network during installation",
            c,
        );
        for u in urls_in(&c.strings) {
            fd = fd.evidence(format!("network: {u}"));
        }
        out.push(fd);
    }
    for c in f.calls.iter().filter(|c| is_proc_sink_name(&c.target)) {
        let cmd = command_of(c);
        let first = cmd.split_whitespace().next().unwrap_or("");
        let base = first.rsplit(['/', '\\']).next().unwrap_or(first);
        if c.strings.is_empty()
            || first.starts_with('-')
            || BUILD_TOOLS.contains(&base)
            || base.starts_with("python")
            || c.text.contains("sys.executable")
        {
            continue;
        }
        out.push(
            at_call(
                f,
                "PY110",
                NAME,
                Severity::Low,
                Confidence::Medium,
                format!("runs `{base}` during installation"),
                c,
            )
            .evidence(format!(
                "command: {}",
                cmd.chars().take(160).collect::<String>()
            )),
        );
        break;
    }
    out
}
