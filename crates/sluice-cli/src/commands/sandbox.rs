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
    /// Without a target, `--refresh-profile` only rebuilds the profile.
    #[arg(value_name = "TARGET", required_unless_present = "refresh_profile")]
    pub target: Option<String>,
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
    /// Folder for sluice's state; the sandbox keeps its dependency profile
    /// (the third-party Python modules malware imports most, fetched once
    /// from the PyPI index as bytes) under `sandbox-profile/` here.
    #[arg(long, value_name = "DIR", default_value = ".sluice")]
    pub data_dir: PathBuf,
    /// Run without the dependency profile: `import requests` then fails
    /// inside the sandbox (reported as DYN714).
    #[arg(long)]
    pub no_profile: bool,
    /// Fetch and rebuild the dependency profile before running.
    #[arg(long)]
    pub refresh_profile: bool,
    /// Do not show package code a Windows machine (`os.name == "nt"`,
    /// `os.startfile`, pywin32-style modules); payloads gated on Windows
    /// then stay dormant.
    #[arg(long)]
    pub no_windows: bool,
    /// Look like a CI runner (`CI`, `GITHUB_ACTIONS`-style variables)
    /// instead of a developer's laptop.
    #[arg(long)]
    pub ci: bool,
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

/// A stable release (`2.32.3`, `1.0.post1`), not a pre-release.
fn stable(version: &str) -> bool {
    let v = version.to_ascii_lowercase();
    !v.is_empty()
        && v.chars().next().is_some_and(|c| c.is_ascii_digit())
        && v.replace("post", "")
            .chars()
            .all(|c| c.is_ascii_digit() || c == '.')
}

/// The newest stable file of a project this interpreter can use: a wheel
/// it accepts, else an sdist (laid out only when it is pure Python).
fn pick_profile_file(
    target: &sluice_sandbox::profile::PythonTarget,
    files: &[sluice_upstream::IndexFile],
) -> Option<sluice_upstream::IndexFile> {
    let newest = |ok: &dyn Fn(&sluice_upstream::IndexFile) -> bool| {
        files
            .iter()
            .enumerate()
            .filter(|(_, f)| !f.yanked && f.version().is_some_and(stable) && ok(f))
            .max_by(|(ia, a), (ib, b)| a.upload_time.cmp(&b.upload_time).then(ia.cmp(ib)))
            .map(|(_, f)| f.clone())
    };
    newest(&|f| target.accepts_wheel(&f.filename)).or_else(|| newest(&|f| f.is_sdist()))
}

/// The dependency profile's site folder: built on first use (or with
/// `--refresh-profile`) from the configured PyPI index, then reused.
fn python_profile(
    args: &SandboxArgs,
    upstreams: &sluice_upstream::Upstreams,
) -> anyhow::Result<Option<PathBuf>> {
    use sluice_sandbox::profile::{PYTHON_PROFILE, PythonTarget, build_profile, profile_site};
    if args.no_profile {
        return Ok(None);
    }
    let python = which_python().context("python3 not found")?;
    let target = PythonTarget::probe(&python)?;
    let dir = args.data_dir.join("sandbox-profile").join(target.key());
    if !args.refresh_profile
        && let Some(site) = profile_site(&dir)
    {
        return Ok(Some(std::fs::canonicalize(site)?));
    }
    eprintln!(
        "preparing the sandbox's dependency profile for {} in {} (once)…",
        target.key(),
        dir.display()
    );
    let pick = |files: &[sluice_upstream::IndexFile]| pick_profile_file(&target, files);
    let results = match sluice_upstream::fetch_pypi_picked_blocking(
        PYTHON_PROFILE,
        upstreams,
        &pick,
    ) {
        Ok(r) => r,
        Err(e) => {
            eprintln!(
                "warning: no dependency profile ({e}); imports of third-party modules will fail inside the sandbox"
            );
            return Ok(None);
        }
    };
    let mut artifacts = Vec::new();
    for (name, r) in PYTHON_PROFILE.iter().zip(results) {
        match r {
            Ok(d) => artifacts.push((d.filename, d.bytes)),
            Err(e) => eprintln!("warning: profile: {name}: {e}"),
        }
    }
    if artifacts.is_empty() {
        eprintln!("warning: no dependency profile (nothing could be fetched)");
        return Ok(None);
    }
    let (done, refused) = build_profile(&dir, &artifacts)?;
    for (f, why) in &refused {
        eprintln!("warning: profile: left out {f}: {why}");
    }
    eprintln!("profile: {} projects laid out", done.len());
    if let Some(site) = profile_site(&dir) {
        for (project, req) in sluice_sandbox::profile::unmet_requirements(&site) {
            eprintln!("warning: profile: {project} needs {req}, which the profile lacks");
        }
    }
    Ok(profile_site(&dir).map(std::fs::canonicalize).transpose()?)
}

fn which_python() -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|p| {
        std::env::split_paths(&p)
            .map(|d| d.join("python3"))
            .find(|c| c.is_file())
    })
}

/// Run `sluice sandbox`.
pub fn run(args: SandboxArgs) -> anyhow::Result<ExitCode> {
    sluice_sandbox::check_prerequisites().context("cannot run the sandbox on this machine")?;
    let upstreams = sluice_upstream::Upstreams {
        pypi_simple: parse_url(args.pypi_index.as_deref(), "--pypi-index")?,
        npm_registry: parse_url(args.npm_registry.as_deref(), "--npm-registry")?,
    }
    .or_discovered();
    let npm = args
        .target
        .as_deref()
        .is_some_and(|t| t.starts_with("npm:") || t.ends_with(".tgz"));
    let python_profile = if npm {
        None
    } else {
        python_profile(&args, &upstreams)?
    };
    let Some(target) = args.target.clone() else {
        // `--refresh-profile` alone: the profile is ready.
        return Ok(ExitCode::SUCCESS);
    };
    let options = SandboxOptions {
        execute: args.execute,
        phase_timeout: Duration::from_secs(args.timeout.max(1)),
        memory_bytes: args.memory.saturating_mul(1 << 20),
        max_processes: args.max_procs.max(8),
        disk_bytes: args.disk.max(16).saturating_mul(1 << 20),
        keep: args.keep.clone(),
        python_profile,
        windows_persona: !args.no_windows,
        ci_runner: args.ci,
        ..SandboxOptions::default()
    };
    // A registry spec is downloaded (never executed) into a private
    // folder first; the sandbox copies it into its own file system.
    let mut download_dir: Option<RemoveOnDrop> = None;
    let path = if target.starts_with("pypi:") || target.starts_with("npm:") {
        let spec: PackageSpec = target
            .parse()
            .with_context(|| format!("bad package spec `{target}`"))?;
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
        PathBuf::from(&target)
    };
    let mut report = sluice_sandbox::run(&path, &options)?;
    drop(download_dir.take());
    report.target.clone_from(&target);
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
