//! PY117 `cryptominer`: the package starts a cryptocurrency miner.
//!
//! **What it detects.** A process call whose command line has a miner's
//! shape ([`crate::shell`]): a miner binary by name (`xmrig`, `t-rex`,
//! `lolminer`, …), a pool URL (`stratum+tcp://`), `--donate-level`, or a
//! wallet flag (`-w`, `-u`, `--wallet`) followed by a cryptocurrency
//! address; or a pool URL kept in a string of a file that starts processes.
//!
//! **Why it matters.** Miner droppers (`huggingprocessor`, `dero-pip`,
//! the 2022–2024 DERO and Monero floods) fetch a miner into `/tmp` and keep
//! it running with the attacker's wallet: the user pays for the CPU
//! (MITRE T1496, resource hijacking).
//!
//! **Example.**
//! ```python
//! os.system("astro.exe -w dero1qy… -r 203.0.113.7:10100")
//! ```
//!
//! **False positives.** Mining tools published as such (a miner's own
//! wrapper) start miners by design: the rule is high, not critical, in
//! library code, and critical only where the code runs unasked.

use sluice_model::{Confidence, Finding, Severity};

use super::facts::{Caps, Facts, is_proc_sink_name};
use super::{at_call, by_role, shell_line};

/// Rule name.
pub const NAME: &str = "cryptominer";

/// Check one file.
#[must_use]
pub fn check(f: &Facts<'_>) -> Vec<Finding> {
    let procs = || {
        f.calls
            .iter()
            .filter(|c| c.caps.has(Caps::PROC) || is_proc_sink_name(&c.target))
    };
    for c in procs() {
        if let Some(word) = crate::shell::analyse(&shell_line(c)).miner {
            return vec![
                at_call(
                    f,
                    "PY117",
                    NAME,
                    by_role(f.file.role, Severity::Critical, Severity::High),
                    Confidence::High,
                    "starts a cryptocurrency miner",
                    c,
                )
                .evidence(format!(
                    "miner argument: {}",
                    word.chars().take(100).collect::<String>()
                )),
            ];
        }
    }
    // A pool address kept in a constant, in a file that starts processes.
    let pool = f.strings.iter().find(|s| {
        let v = s.value.to_ascii_lowercase();
        v.contains("stratum+tcp://") || v.contains("stratum+ssl://")
    });
    let (Some(pool), Some(run)) = (pool, procs().next()) else {
        return Vec::new();
    };
    vec![
        at_call(
            f,
            "PY117",
            NAME,
            by_role(f.file.role, Severity::Critical, Severity::High),
            Confidence::Medium,
            "starts processes and names a mining pool",
            run,
        )
        .evidence(format!(
            "pool: {}",
            pool.value.chars().take(100).collect::<String>()
        )),
    ]
}
