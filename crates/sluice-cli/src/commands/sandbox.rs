//! `sluice sandbox`: install and import a package inside the isolated
//! sandbox (see `docs/sandbox.md`) and report its behaviour.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context as _;
use serde::Serialize;
use sluice_model::{PackageSpec, Verdict, VerdictLevel};
use sluice_sandbox::{SandboxOptions, SandboxReport};

use crate::commands::scan::FailOn;

/// Output format of `sluice sandbox`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum SandboxFormat {
    /// Human-readable text: phases, limits, behaviour chain, findings.
    Text,
    /// The full report as one JSON document (see docs/sandbox.md).
    Json,
}

/// Arguments of `sluice sandbox`.
#[derive(Debug, clap::Args)]
pub struct SandboxArgs {
    /// What to run: an artifact (.tar.gz, .zip, .whl, .tgz), a package
    /// folder, or a registry package `pypi:NAME==VERSION` /
    /// `npm:NAME@VERSION` (downloaded without running it).
    #[arg(value_name = "TARGET")]
    pub target: String,
    /// Output format.
    #[arg(long, value_enum, default_value_t = SandboxFormat::Text)]
    pub format: SandboxFormat,
    /// Exit with 1 when the verdict from the sandbox findings is at or
    /// above this level.
    #[arg(long, value_enum, default_value_t = FailOn::Suspicious)]
    pub fail_on: FailOn,
    /// Also run the execute phase: console scripts / `bin` entries with
    /// `--help`.
    #[arg(long)]
    pub execute: bool,
    /// Wall-clock limit per phase, in seconds.
    #[arg(long, default_value_t = 90, value_name = "SECONDS")]
    pub timeout: u64,
    /// Address-space limit per sandboxed process, in MiB.
    #[arg(long, default_value_t = 4096, value_name = "MIB")]
    pub memory: u64,
    /// Most processes the package may run at once.
    #[arg(long, default_value_t = 256, value_name = "N")]
    pub max_procs: u64,
    /// Size of the sandbox's writable file system, in MiB.
    #[arg(long, default_value_t = 1024, value_name = "MIB")]
    pub disk: u64,
    /// Copy the raw strace logs and hook events into this folder.
    #[arg(long, value_name = "DIR")]
    pub keep: Option<PathBuf>,
    /// PyPI simple index for `pypi:` targets (default: pip's configuration).
    #[arg(long, env = "SLUICE_PYPI_INDEX", value_name = "URL")]
    pub pypi_index: Option<String>,
    /// npm registry for `npm:` targets (default: npm's configuration).
    #[arg(long, env = "SLUICE_NPM_REGISTRY", value_name = "URL")]
    pub npm_registry: Option<String>,
}

#[derive(Serialize)]
struct Out<'a> {
    #[serde(flatten)]
    report: &'a SandboxReport,
    verdict: &'a Verdict,
}

/// Removes the download folder however `run` ends.
struct RemoveOnDrop(PathBuf);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn parse_url(s: Option<&str>, flag: &str) -> anyhow::Result<Option<url::Url>> {
    s.map(|s| {
        let with_slash = if s.ends_with('/') {
            s.to_owned()
        } else {
            format!("{s}/")
        };
        url::Url::parse(&with_slash).with_context(|| format!("{flag}: invalid URL `{s}`"))
    })
    .transpose()
}

/// Run `sluice sandbox`.
pub fn run(args: SandboxArgs) -> anyhow::Result<ExitCode> {
    let options = SandboxOptions {
        execute: args.execute,
        phase_timeout: Duration::from_secs(args.timeout.max(1)),
        memory_bytes: args.memory.saturating_mul(1 << 20),
        max_processes: args.max_procs.max(8),
        disk_bytes: args.disk.max(16).saturating_mul(1 << 20),
        keep: args.keep.clone(),
        ..SandboxOptions::default()
    };
    sluice_sandbox::check_prerequisites().context("cannot run the sandbox on this machine")?;
    // A registry spec is downloaded (never executed) into a private
    // folder first; the sandbox copies it into its own file system.
    let mut download_dir: Option<RemoveOnDrop> = None;
    let path = if args.target.starts_with("pypi:") || args.target.starts_with("npm:") {
        let spec: PackageSpec = args
            .target
            .parse()
            .with_context(|| format!("bad package spec `{}`", args.target))?;
        let upstreams = sluice_upstream::Upstreams {
            pypi_simple: parse_url(args.pypi_index.as_deref(), "--pypi-index")?,
            npm_registry: parse_url(args.npm_registry.as_deref(), "--npm-registry")?,
        }
        .or_discovered();
        let d = sluice_upstream::fetch_blocking(&spec, &upstreams)
            .with_context(|| format!("downloading {spec}"))?;
        let name = std::path::Path::new(&d.filename)
            .file_name()
            .and_then(|n| n.to_str())
            .filter(|n| !n.is_empty() && !n.starts_with('.'))
            .context("upstream gave an unusable file name")?
            .to_owned();
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let dir =
            std::env::temp_dir().join(format!("sluice-download-{}-{nanos}", std::process::id()));
        fs_err::create_dir(&dir)?;
        download_dir = Some(RemoveOnDrop(dir.clone()));
        let p = dir.join(name);
        fs_err::write(&p, &d.bytes)?;
        p
    } else {
        PathBuf::from(&args.target)
    };
    let mut report = sluice_sandbox::run(&path, &options)?;
    drop(download_dir.take());
    report.target.clone_from(&args.target);
    let verdict = sluice_analyze::score::judge(&report.findings);
    match args.format {
        SandboxFormat::Json => {
            let out = Out {
                report: &report,
                verdict: &verdict,
            };
            println!("{}", serde_json::to_string_pretty(&out)?);
        }
        SandboxFormat::Text => {
            print!("{}", sluice_sandbox::render_text(&report));
            println!("\nverdict: {} (score {})", verdict.level, verdict.score);
            for r in &verdict.reasons {
                println!("  {r}");
            }
        }
    }
    let threshold = match args.fail_on {
        FailOn::Suspicious => VerdictLevel::Suspicious,
        FailOn::Malicious => VerdictLevel::Malicious,
    };
    Ok(if verdict.level >= threshold {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
