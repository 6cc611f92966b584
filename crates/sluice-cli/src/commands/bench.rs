//! `sluice bench`.

use std::process::ExitCode;

/// Arguments of `sluice bench`.
#[derive(Debug, clap::Args)]
pub struct BenchArgs {}

/// Run `sluice bench`.
pub fn run(args: BenchArgs) -> anyhow::Result<ExitCode> {
    let _ = args;
    anyhow::bail!("`sluice bench` is not built yet")
}
