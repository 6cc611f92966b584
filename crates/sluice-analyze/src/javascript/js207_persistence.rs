//! JS207 `persistence`: code that makes itself run again later.
//!
//! **What it detects.** Writes or appends to shell start-up files
//! (`~/.bashrc`, `~/.zshrc`, `~/.profile`), cron (`crontab`, `/etc/cron*`),
//! the Windows Startup folder or `CurrentVersion\Run`, macOS LaunchAgents,
//! systemd units and XDG autostart; and command lines doing the same
//! (`echo … >> ~/.bashrc`, `crontab -`, `schtasks /create`).
//!
//! **Why it matters.** Persistence turns a one-off install into a lasting
//! compromise that survives removing the package (MITRE T1546.004,
//! T1053.003, T1547.001; GuardDog `threat-filesystem-autostart`).
//!
//! **Example.** `fs.appendFileSync(path.join(os.homedir(), '.bashrc'), 'curl … | sh\n')`
//!
//! **False positives.** Shell-completion installers append a line to
//! `~/.bashrc` when the user asks; in library code the finding is Medium,
//! High only where code runs unasked.

use sluice_model::{Confidence, Finding, Severity};

use super::js202_download_exec::command_strings;
use super::{Ctx, api, shell};

pub(super) fn check(ctx: &Ctx<'_, '_>) -> Vec<Finding> {
    let f = ctx.facts;
    let (sev, conf) = if ctx.unasked() {
        (Severity::High, Confidence::High)
    } else {
        (Severity::Medium, Confidence::Medium)
    };
    let mut out = Vec::new();
    for c in &f.calls {
        let path = c.path.as_deref().unwrap_or("");
        if api::is_fs_write(path) {
            let target = c.args.first().map(|&a| vec![a]).unwrap_or_default();
            let probe = super::facts::Call {
                node: c.node,
                path: None,
                method: None,
                receiver: super::facts::NONE,
                args: target,
                is_new: false,
            };
            if let Some(m) = f.args_marker(&probe, api::persist_marker) {
                out.push(
                    ctx.finding(
                        c.node,
                        "JS207",
                        "persistence",
                        sev,
                        conf,
                        format!("writes to a start-up location ({m})"),
                    )
                    .evidence(format!("target: {m}")),
                );
            }
        } else if api::is_process(path)
            && let Some(p) = command_strings(ctx, c)
                .into_iter()
                .find_map(|s| shell::classify(&s).persist)
        {
            out.push(
                ctx.finding(
                    c.node,
                    "JS207",
                    "persistence",
                    sev,
                    conf,
                    "a command line installs a start-up hook",
                )
                .evidence(format!("command: {p}")),
            );
        }
    }
    out.truncate(3);
    out
}
