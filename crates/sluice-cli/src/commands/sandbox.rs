//! `sluice sandbox`.

use std::process::ExitCode;

/// Arguments of `sluice sandbox`.
#[derive(Debug, clap::Args)]
pub struct SandboxArgs {}

/// Run `sluice sandbox`.
pub fn run(args: SandboxArgs) -> anyhow::Result<ExitCode> {
    let _ = args;
    anyhow::bail!("`sluice sandbox` is not built yet")
}
