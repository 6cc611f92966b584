//! JS209 `install-script-activity`: a lifecycle script that goes online or
//! starts processes.
//!
//! **What it detects.** In a file run by an npm `preinstall`, `install` or
//! `postinstall` script: network calls (`https.get`, `fetch`, `net`,
//! `dns`) and process starts (`child_process`). One finding per file.
//!
//! **Why it matters.** Install scripts run with the user's rights on every
//! `npm install`, before anyone calls the package; almost every npm
//! malware sample starts there (GuardDog `npm-install-script`, Socket
//! `installScripts`). CWE-829.
//!
//! **Example.** `"postinstall": "node setup.js"` with `setup.js` calling
//! `https.get(...)`.
//!
//! **False positives.** Many: binary installers (esbuild, Playwright,
//! `node-pre-gyp`) download prebuilt binaries. That is why this is Low and
//! only adds weight to stronger findings.

use sluice_model::{Confidence, Finding, Severity};

use super::{Ctx, api};
use crate::FileRole;

pub(super) fn check(ctx: &Ctx<'_, '_>) -> Vec<Finding> {
    if ctx.file.role != FileRole::Install {
        return Vec::new();
    }
    let f = ctx.facts;
    let net: Vec<u32> = f
        .calls
        .iter()
        .filter(|c| {
            c.path
                .as_deref()
                .is_some_and(|p| api::is_network(p) || api::is_dns(p))
        })
        .map(|c| c.node)
        .collect();
    let proc: Vec<u32> = f
        .calls
        .iter()
        .filter(|c| c.path.as_deref().is_some_and(api::is_process))
        .map(|c| c.node)
        .collect();
    let Some(&first) = net.first().or(proc.first()) else {
        return Vec::new();
    };
    let mut fi = ctx.finding(
        first,
        "JS209",
        "install-script-activity",
        Severity::Low,
        Confidence::Medium,
        "an install script uses the network or starts processes",
    );
    if !net.is_empty() {
        fi = fi.evidence(format!(
            "{} network call(s), line {}",
            net.len(),
            ctx.lines_of(&net)
        ));
    }
    if !proc.is_empty() {
        fi = fi.evidence(format!(
            "{} process start(s), line {}",
            proc.len(),
            ctx.lines_of(&proc)
        ));
    }
    vec![fi]
}
