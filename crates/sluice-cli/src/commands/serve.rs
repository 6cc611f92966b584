//! `sluice serve`: run the gate.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use sluice_registry::config::SandboxRun;
use sluice_registry::{AppState, Config};

/// Arguments of `sluice serve`.
#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// TOML configuration file (every key is optional; see docs/gate.md).
    #[arg(long, value_name = "FILE", env = "SLUICE_CONFIG")]
    pub config: Option<PathBuf>,
    /// Address to listen on (default 127.0.0.1:3141).
    #[arg(long, value_name = "ADDR:PORT")]
    pub listen: Option<SocketAddr>,
    /// Folder for the database and cached artifacts (default ./.sluice).
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// PyPI simple index to proxy (default: pip's configured index).
    #[arg(long, value_name = "URL")]
    pub pypi_upstream: Option<String>,
    /// npm registry to proxy (default: npm's configured registry).
    #[arg(long, value_name = "URL")]
    pub npm_upstream: Option<String>,
    /// The URL clients use to reach the gate (for npm tarball URLs).
    #[arg(long, value_name = "URL")]
    pub public_url: Option<String>,
}

/// Load the configuration file (if any) and apply command-line overrides.
pub(crate) fn effective_config(
    config: Option<&PathBuf>,
    data_dir: Option<PathBuf>,
) -> anyhow::Result<Config> {
    let mut cfg = match config {
        Some(p) => Config::load(p)?,
        None => Config::default(),
    };
    if let Some(d) = data_dir {
        cfg.data_dir = d;
    }
    Ok(cfg)
}

/// Run `sluice serve`.
pub fn run(args: ServeArgs) -> anyhow::Result<ExitCode> {
    let mut cfg = effective_config(args.config.as_ref(), args.data_dir)?;
    if let Some(l) = args.listen {
        cfg.listen = l;
    }
    if let Some(u) = args.pypi_upstream {
        cfg.upstream.pypi = Some(u);
    }
    if let Some(u) = args.npm_upstream {
        cfg.upstream.npm = Some(u);
    }
    if let Some(u) = args.public_url {
        cfg.public_url = Some(u);
    }
    if cfg.upstream.pypi.is_none() || cfg.upstream.npm.is_none() {
        // Ask pip and npm where they install from, as the user configured them.
        let found = sluice_upstream::discover();
        if cfg.upstream.pypi.is_none() {
            cfg.upstream.pypi = found.pypi_simple.map(|u| u.to_string());
        }
        if cfg.upstream.npm.is_none() {
            cfg.upstream.npm = found.npm_registry.map(|u| u.to_string());
        }
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    rt.block_on(async move {
        let listen = cfg.listen;
        let state = AppState::new(cfg.clone(), None)?;
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .with_context(|| format!("cannot listen on {listen}"))?;
        let local = listener.local_addr()?;
        eprintln!(
            "sluice gate listening on http://{local}/ (PyPI: http://{local}/simple/  npm: http://{local}/npm/)"
        );
        eprintln!(
            "  data dir {}; PyPI upstream {}; npm upstream {}",
            cfg.data_dir.display(),
            cfg.upstream.pypi.as_deref().unwrap_or("(none)"),
            cfg.upstream.npm.as_deref().unwrap_or("(none)")
        );
        if cfg.sandbox.run != SandboxRun::None {
            eprintln!(
                "  sandbox: run = {:?}, {} at a time, {} s per phase",
                cfg.sandbox.run, cfg.sandbox.max_concurrent, cfg.sandbox.timeout_secs
            );
            // Not fatal: every run then fails and the policy's scan_error
            // decides (hold, by default), artifact by artifact.
            if let Err(e) = sluice_sandbox::check_prerequisites() {
                eprintln!(
                    "  warning: the sandbox cannot run on this machine ({e}); artifacts it should run follow [policy] scan_error = {:?}",
                    cfg.policy.scan_error
                );
            }
        }
        sluice_registry::serve(state, listener).await?;
        anyhow::Ok(())
    })?;
    Ok(ExitCode::SUCCESS)
}
