//! PY107 `persistence`: making code run again later.
//!
//! **What it detects.** Writes to shell start-up files (`~/.bashrc`,
//! `.profile`, `.zshrc`, `.bash_profile`), cron (`crontab` commands,
//! `/etc/cron*`, `/var/spool/cron`), systemd units, XDG autostart, macOS
//! LaunchAgents, the Windows `…\CurrentVersion\Run` registry keys
//! (`winreg.SetValueEx`, `reg add`), the Startup folder, `schtasks
//! /create`, and `.pth` files written into site-packages (they run at every
//! interpreter start).
//!
//! **Why it matters.** Persistence turns a one-off install-time payload
//! into a lasting backdoor (MITRE T1546.004, T1053, T1547.001).
//!
//! **Example.** `open(os.path.expanduser("~/.bashrc"), "a").write("curl …|sh")`
//!
//! **False positives.** Shell-completion installers and PATH fixers append
//! to rc files on request; in library code this is medium, in install-time
//! code critical.

use sluice_model::{Confidence, Finding, Severity};

use super::facts::{Facts, is_proc_sink_name, is_write_call};
use super::{at_call, command_of};
use crate::FileRole;

/// Rule name.
pub const NAME: &str = "persistence";

fn autostart_path(s: &str) -> Option<&'static str> {
    let l = s.to_ascii_lowercase().replace('\\', "/");
    const P: [(&str, &str); 16] = [
        (".bashrc", "shell start-up file"),
        (".bash_profile", "shell start-up file"),
        (".zshrc", "shell start-up file"),
        (".zprofile", "shell start-up file"),
        ("/.profile", "shell start-up file"),
        ("/etc/profile", "shell start-up file"),
        ("/etc/cron", "cron"),
        ("/var/spool/cron", "cron"),
        ("systemd/system/", "systemd unit"),
        ("systemd/user", "systemd unit"),
        (".config/autostart", "xdg autostart"),
        ("library/launchagents", "launch agent"),
        ("library/launchdaemons", "launch daemon"),
        ("currentversion/run", "windows run key"),
        ("start menu/programs/startup", "startup folder"),
        ("/etc/rc.local", "rc.local"),
    ];
    for (p, k) in P {
        if l.contains(p) {
            return Some(k);
        }
    }
    if l.ends_with(".pth") && (l.contains("site-packages") || l.contains("dist-packages")) {
        return Some("site-packages .pth file");
    }
    None
}

fn command_persists(cmd: &str) -> Option<&'static str> {
    if cmd.contains("crontab") && !cmd.contains("crontab -l")
        || cmd.contains("crontab -l") && cmd.contains('|')
    {
        return Some("cron");
    }
    if cmd.contains("schtasks") && cmd.contains("/create") {
        return Some("scheduled task");
    }
    if cmd.contains("reg add") && cmd.contains("currentversion\\run") {
        return Some("windows run key");
    }
    if cmd.contains("systemctl") && cmd.contains("enable") {
        return Some("systemd unit");
    }
    if cmd.contains("launchctl load") {
        return Some("launch agent");
    }
    if cmd.contains(">> ~/.bashrc")
        || cmd.contains(">>~/.bashrc")
        || cmd.contains(">> ~/.profile")
        || cmd.contains(">> ~/.zshrc")
    {
        return Some("shell start-up file");
    }
    None
}

/// Check one file.
#[must_use]
pub fn check(f: &Facts<'_>) -> Vec<Finding> {
    let role = f.file.role;
    let (sev, conf) = match role {
        FileRole::Install | FileRole::Import => (Severity::Critical, Confidence::High),
        _ => (Severity::Medium, Confidence::Medium),
    };
    for c in &f.calls {
        let hit = if is_write_call(c)
            || c.target == "winreg.SetValueEx"
            || c.target == "_winreg.SetValueEx"
            || c.target == "winreg.CreateKey"
        {
            c.strings.iter().find_map(|s| autostart_path(s))
        } else if is_proc_sink_name(&c.target) {
            command_persists(&command_of(c))
        } else {
            None
        };
        if let Some(kind) = hit {
            return vec![
                at_call(
                    f,
                    "PY107",
                    NAME,
                    sev,
                    conf,
                    format!("installs itself to run again later ({kind})"),
                    c,
                )
                .evidence(format!("mechanism: {kind}")),
            ];
        }
    }
    Vec::new()
}
