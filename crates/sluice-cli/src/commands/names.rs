//! `sluice names`.

use std::process::ExitCode;

/// Arguments of `sluice names`.
#[derive(Debug, clap::Args)]
pub struct NamesArgs {}

/// Run `sluice names`.
pub fn run(args: NamesArgs) -> anyhow::Result<ExitCode> {
    let _ = args;
    anyhow::bail!("`sluice names` is not built yet")
}
