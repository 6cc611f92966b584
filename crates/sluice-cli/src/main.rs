//! The `sluice` command: a thin clap front end over the sluice crates.

mod commands;
mod http;
mod names_hook;
mod render;
mod schedule;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// mimalloc, with its `override` feature also taking the C allocations of
/// the tree-sitter parsers: parsing and fact extraction allocate millions of
/// small nodes per large package, and glibc's malloc spent an eighth of
/// `sluice bench` in `_int_malloc`/`malloc_consolidate`.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// sluice — a gate between your company and the public PyPI and npm
/// registries: scan packages, judge names, sandbox installs, serve a
/// scanning proxy.
#[derive(Debug, Parser)]
#[command(name = "sluice", version, about, long_about = None)]
struct Cli {
    /// More log output (-v, -vv).
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    verbose: u8,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Scan package artifacts, folders or registry packages and print a verdict.
    Scan(commands::scan::ScanArgs),
    /// Name intelligence: typosquats, private-name squats, flood campaigns.
    Names(commands::names::NamesArgs),
    /// Install and import a package in an isolated sandbox and report its behaviour.
    Sandbox(commands::sandbox::SandboxArgs),
    /// Run the gate: a scanning PyPI and npm proxy.
    Serve(commands::serve::ServeArgs),
    /// Check lockfiles, manifests, SBOMs and installed environments against
    /// the gate's verdicts, private names and the name engine.
    Audit(commands::audit::AuditArgs),
    /// Administer a gate: block, unblock, review, who-pulled.
    Admin(commands::admin::AdminArgs),
    /// The malicious-package list (OSV records): import, export, list, show.
    Db(commands::db::DbArgs),
    /// Measure scanning speed over a folder of packages.
    Bench(commands::bench::BenchArgs),
    /// Train the learned scorer on a malicious set and benign packages.
    Train(commands::train::TrainArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let filter = match cli.verbose {
        0 => "warn",
        1 => "info",
        _ => "debug",
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("SLUICE_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(filter)),
        )
        .with_writer(std::io::stderr)
        .init();
    let result = match cli.command {
        Command::Scan(a) => commands::scan::run(a),
        Command::Names(a) => commands::names::run(a),
        Command::Sandbox(a) => commands::sandbox::run(a),
        Command::Serve(a) => commands::serve::run(a),
        Command::Audit(a) => commands::audit::run(a),
        Command::Admin(a) => commands::admin::run(a),
        Command::Db(a) => commands::db::run(a),
        Command::Bench(a) => commands::bench::run(a),
        Command::Train(a) => commands::train::run(a),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            // A closed pipe (`sluice scan … | head`) is not an error.
            if e.chain().any(|c| {
                c.downcast_ref::<std::io::Error>()
                    .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            }) {
                return ExitCode::SUCCESS;
            }
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}
