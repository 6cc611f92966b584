//! `sluice serve`.

use std::process::ExitCode;

/// Arguments of `sluice serve`.
#[derive(Debug, clap::Args)]
pub struct ServeArgs {}

/// Run `sluice serve`.
pub fn run(args: ServeArgs) -> anyhow::Result<ExitCode> {
    let _ = args;
    anyhow::bail!("`sluice serve` is not built yet")
}
