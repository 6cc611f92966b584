//! `sluice scan`.

use std::process::ExitCode;

/// Arguments of `sluice scan`.
#[derive(Debug, clap::Args)]
pub struct ScanArgs {}

/// Run `sluice scan`.
pub fn run(args: ScanArgs) -> anyhow::Result<ExitCode> {
    let _ = args;
    anyhow::bail!("`sluice scan` is not built yet")
}
