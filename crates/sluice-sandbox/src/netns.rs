//! The sandbox's network: a fresh network namespace with only a loopback
//! device, a default route through it, and nftables rules that redirect
//! every TCP and UDP flow to the sink. There is no interface that leads
//! anywhere, so no packet can leave the machine whatever the rules say;
//! the rules only decide which local socket receives it.
//!
//! Must be called on a dedicated thread: `unshare(CLONE_NEWNET)` moves only
//! the calling thread, and everything it spawns afterwards inherits it.

use std::path::Path;
use std::process::{Command, Stdio};

use crate::SandboxError;
use crate::sink::{TCP_PORT, UDP_PORT};

/// Source address given to processes in the namespace (on `lo`).
pub(crate) const LOCAL_ADDR: &str = "10.253.0.1";

/// The nftables program: DNS to the fake resolver (also when aimed at a
/// loopback resolver such as 127.0.0.53), all other TCP/UDP to the sinks,
/// and a filter that drops anything not leaving through `lo` (there is no
/// other device; this is a second fence, not the first).
pub(crate) fn nft_rules() -> String {
    format!(
        "table inet sluice {{
  chain out_nat {{
    type nat hook output priority -100; policy accept;
    udp dport 53 redirect to :53
    ip daddr 127.0.0.0/8 return
    ip6 daddr ::1 return
    meta l4proto tcp redirect to :{TCP_PORT}
    meta l4proto udp redirect to :{UDP_PORT}
  }}
  chain in_nat {{ type nat hook input priority 100; policy accept; }}
  chain post_nat {{ type nat hook postrouting priority 100; policy accept; }}
  chain out_filter {{
    type filter hook output priority 0; policy drop;
    oifname \"lo\" accept
  }}
}}
"
    )
}

fn run(cmd: &Path, args: &[&str], stdin: Option<&str>) -> Result<(), SandboxError> {
    let mut c = Command::new(cmd);
    c.args(args).stdout(Stdio::null()).stderr(Stdio::piped());
    if stdin.is_some() {
        c.stdin(Stdio::piped());
    } else {
        c.stdin(Stdio::null());
    }
    let mut child = c
        .spawn()
        .map_err(|e| SandboxError::Setup(format!("cannot run {}: {e}", cmd.display())))?;
    if let (Some(text), Some(mut w)) = (stdin, child.stdin.take()) {
        use std::io::Write;
        w.write_all(text.as_bytes())?;
    }
    let out = child.wait_with_output()?;
    if !out.status.success() {
        return Err(SandboxError::Setup(format!(
            "{} {}: {}",
            cmd.display(),
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    Ok(())
}

/// Names of the network devices of the calling thread's namespace.
pub(crate) fn devices() -> Result<Vec<String>, SandboxError> {
    let text = std::fs::read_to_string("/proc/thread-self/net/dev")?;
    Ok(text
        .lines()
        .skip(2)
        .filter_map(|l| l.split(':').next())
        .map(|s| s.trim().to_owned())
        .collect())
}

/// Move the calling thread into a new network namespace and wire it up.
/// Fails (and nothing may be run) unless the namespace has only `lo`.
pub(crate) fn enter(ip: &Path, nft: &Path) -> Result<(), SandboxError> {
    nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWNET)
        .map_err(|e| SandboxError::Setup(format!("unshare(CLONE_NEWNET): {e}")))?;
    let devs = devices()?;
    if devs != ["lo"] {
        return Err(SandboxError::Setup(format!(
            "new network namespace is not empty: {devs:?}"
        )));
    }
    run(ip, &["link", "set", "lo", "up"], None)?;
    run(
        ip,
        &["addr", "add", &format!("{LOCAL_ADDR}/32"), "dev", "lo"],
        None,
    )?;
    // A default route through lo makes every destination "local": connect()
    // proceeds (instead of ENETUNREACH) and nft redirects it to the sink.
    run(
        ip,
        &["route", "add", "default", "dev", "lo", "src", LOCAL_ADDR],
        None,
    )?;
    // IPv6 off: the sinks listen on IPv4; the inet table covers both anyway.
    // /proc/sys/net is per network namespace of the opening thread.
    let _ = std::fs::write("/proc/sys/net/ipv6/conf/all/disable_ipv6", "1");
    let _ = std::fs::write("/proc/sys/net/ipv6/conf/default/disable_ipv6", "1");
    run(nft, &["-f", "-"], Some(&nft_rules()))?;
    let devs = devices()?;
    if devs != ["lo"] {
        return Err(SandboxError::Setup(format!(
            "network namespace gained devices: {devs:?}"
        )));
    }
    Ok(())
}
