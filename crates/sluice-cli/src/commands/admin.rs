//! `sluice admin`.

use std::process::ExitCode;

/// Arguments of `sluice admin`.
#[derive(Debug, clap::Args)]
pub struct AdminArgs {}

/// Run `sluice admin`.
pub fn run(args: AdminArgs) -> anyhow::Result<ExitCode> {
    let _ = args;
    anyhow::bail!("`sluice admin` is not built yet")
}
