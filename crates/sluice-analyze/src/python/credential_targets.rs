//! PY116 `credential-store-targets`: a file that lists the credential
//! stores of many applications — what a stealer carries as its target list.
//!
//! **What it detects.** String constants naming at least three distinct
//! kinds of credential store: browser profiles (`Login Data`, `Cookies`,
//! `Local State`, `key4.db`), Discord and Telegram token stores (leveldb
//! folders), crypto wallets (Exodus, Electrum, MetaMask's extension id),
//! cloud and CI credentials (`~/.aws`, `~/.config/gcloud`, `~/.kube`,
//! `.npmrc`, `.pypirc`, `.git-credentials`), the cloud metadata address.
//! Stronger when the same file talks to the network.
//!
//! **Why it matters.** Token grabbers and browser stealers (W4SP,
//! Creal, Hazard-style) iterate over a table of such paths; the table is
//! there even when the flow from reading to sending is hidden behind
//! threads, classes or a Discord library that static flow tracking misses
//! (CWE-522, MITRE T1555, T1528).
//!
//! **Example.**
//! ```python
//! PATHS = {"Discord": ROAMING + "/discord/Local Storage/leveldb",
//!          "Chrome": LOCAL + "/Google/Chrome/User Data/Default/Login Data",
//!          "Exodus": ROAMING + "/Exodus/exodus.wallet"}
//! ```
//!
//! **False positives.** Cookie-export and browser-automation libraries
//! name one browser's profile files (one kind); forensic tools name many
//! but do not send them: medium without a network call in the file.

use sluice_model::{Confidence, Finding, Severity};

use super::facts::{Facts, is_net_call, sensitive_path};
use super::{at_line, by_role};

/// Rule name.
pub const NAME: &str = "credential-store-targets";

/// The family a credential-store kind belongs to (several kinds of one
/// family — e.g. Chrome's cookies and passwords — count once).
fn family(kind: &str) -> &'static str {
    if kind.contains("discord") {
        "discord"
    } else if kind.contains("browser") || kind.contains("firefox") || kind.contains("cookies") {
        "browser"
    } else if kind.contains("telegram") {
        "telegram"
    } else if kind.contains("wallet") {
        "wallet"
    } else if kind.contains("ssh") || kind.contains("gpg") {
        "keys"
    } else if kind.contains("history") {
        "history"
    } else if kind.contains("user list") || kind.contains("password hashes") {
        "system"
    } else {
        "cloud/registry"
    }
}

/// Check one file.
#[must_use]
pub fn check(f: &Facts<'_>) -> Vec<Finding> {
    let mut families: Vec<&'static str> = Vec::new();
    let mut first: Option<(u32, u32, String)> = None;
    let mut kinds: Vec<&'static str> = Vec::new();
    for s in &f.strings {
        // The metadata service is where SDKs fetch their own instance
        // credentials: not a theft alone, one more target in a list.
        let metadata = (s.value.contains("169.254.169.254")
            || s.value.contains("metadata.google.internal"))
        .then_some("cloud metadata credentials");
        let Some(kind) = sensitive_path(&s.value).or(metadata) else {
            continue;
        };
        let fam = family(kind);
        if fam == "system" || fam == "history" {
            continue;
        }
        if !kinds.contains(&kind) {
            kinds.push(kind);
        }
        if !families.contains(&fam) {
            families.push(fam);
            if first.is_none() {
                first = Some((s.line, s.col, s.value.chars().take(120).collect()));
            }
        }
    }
    if families.len() < 3 {
        return Vec::new();
    }
    let Some((line, col, excerpt)) = first else {
        return Vec::new();
    };
    let sends = f.calls.iter().any(is_net_call)
        || f.strings
            .iter()
            .any(|s| crate::ioc::exfil_service(&s.value).is_some());
    let role = f.file.role;
    let (sev, conf) = if sends {
        (
            by_role(role, Severity::Critical, Severity::High),
            Confidence::High,
        )
    } else {
        (
            by_role(role, Severity::High, Severity::Medium),
            Confidence::Medium,
        )
    };
    let mut fd = at_line(
        f,
        "PY116",
        NAME,
        sev,
        conf,
        format!(
            "names the credential stores of {} kinds of application ({})",
            families.len(),
            families.join(", ")
        ),
        line,
        col,
        &excerpt,
    );
    for k in kinds.iter().take(8) {
        fd = fd.evidence(format!("target: {k}"));
    }
    if sends {
        fd = fd.evidence("the same file sends data over the network");
    }
    vec![fd]
}
