//! `sluice scan`: judge artifacts, folders and registry packages.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use sluice_model::{PackageSpec, Report, VerdictLevel};

use crate::render::{self, Format};

/// Arguments of `sluice scan`.
#[derive(Debug, clap::Args)]
pub struct ScanArgs {
    /// What to scan: artifact files (.tar.gz, .tar.bz2, .zip, .whl, .tgz),
    /// package folders, folders of artifacts, or registry packages
    /// `pypi:NAME[==VERSION]` / `npm:NAME[@VERSION]`.
    #[arg(required = true, value_name = "TARGET")]
    pub targets: Vec<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Exit with 1 when any package's verdict is at or above this level.
    #[arg(long, value_enum, default_value_t = FailOn::Suspicious)]
    pub fail_on: FailOn,
    /// A file of indicators (IPs, CIDRs, domains, URLs, e-mails, sha256
    /// digests; one per line, `#` comments); a hit becomes a finding.
    #[arg(long, value_name = "FILE")]
    pub ioc_file: Option<PathBuf>,
    /// PyPI simple index to download `pypi:` targets from (default: pip's
    /// own configuration).
    #[arg(long, env = "SLUICE_PYPI_INDEX", value_name = "URL")]
    pub pypi_index: Option<String>,
    /// npm registry to download `npm:` targets from (default: npm's own
    /// configuration).
    #[arg(long, env = "SLUICE_NPM_REGISTRY", value_name = "URL")]
    pub npm_registry: Option<String>,
    /// Skip name intelligence (typosquat and confusion checks).
    #[arg(long)]
    pub no_names: bool,
    /// Internal package names, prefixes and npm scopes (TOML or text, see
    /// docs/names.md): a public package confusable with one is flagged.
    #[arg(long, value_name = "FILE")]
    pub private: Option<PathBuf>,
    /// Also install and import each package in the sandbox (see
    /// `sluice sandbox`) and add its behaviour findings (`DYN7xx`) to the
    /// report. Runs one package at a time.
    #[arg(long)]
    pub dynamic: bool,
    /// Show informational findings too in text output.
    #[arg(long)]
    pub all: bool,
    /// Parse every test, doc and example file, even when its findings could
    /// not change the verdict (by default such files are only searched for
    /// indicators until the rest of the package scores 5 or more).
    #[arg(long)]
    pub all_files: bool,
    /// Worker threads (default: one per core).
    #[arg(long, short = 'j')]
    pub jobs: Option<usize>,
    /// Which scorer decides the verdict: `model` (the learned scorer on top
    /// of the rule score; the stronger level wins) or `rules` (the
    /// hand-written rule score alone).
    #[arg(long, value_enum, default_value_t = ScorerArg::Model)]
    pub scorer: ScorerArg,
    /// Move the learned scorer's suspicious threshold to this probability
    /// (0–1; lower flags more). The malicious threshold never goes below it.
    #[arg(long, value_name = "P", value_parser = parse_probability)]
    pub threshold: Option<f64>,
}

/// `--scorer`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ScorerArg {
    /// The learned scorer on top of the rule score.
    Model,
    /// The hand-written rule score alone.
    Rules,
}

impl ScorerArg {
    /// The analysis option.
    #[must_use]
    pub fn scorer(self) -> sluice_analyze::learn::Scorer {
        match self {
            ScorerArg::Model => sluice_analyze::learn::Scorer::Model,
            ScorerArg::Rules => sluice_analyze::learn::Scorer::Rules,
        }
    }
}

/// A probability between 0 and 1.
pub fn parse_probability(s: &str) -> Result<f64, String> {
    let p: f64 = s.parse().map_err(|_| format!("`{s}` is not a number"))?;
    if (0.0..=1.0).contains(&p) {
        Ok(p)
    } else {
        Err(format!("{p} is not a probability between 0 and 1"))
    }
}

/// The verdict level that makes `scan` exit with 1.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum FailOn {
    /// Suspicious or malicious.
    Suspicious,
    /// Malicious only.
    Malicious,
}

impl FailOn {
    /// The lowest verdict level that fails the run.
    pub(crate) fn level(self) -> VerdictLevel {
        match self {
            FailOn::Suspicious => VerdictLevel::Suspicious,
            FailOn::Malicious => VerdictLevel::Malicious,
        }
    }
}

/// One thing to scan, resolved from the command line.
#[derive(Debug)]
enum Target {
    Path(PathBuf),
    Registry(PackageSpec),
}

/// A target that could not be scanned.
#[derive(Debug, serde::Serialize)]
pub struct ScanError {
    /// The target as given.
    pub target: String,
    /// Why it failed.
    pub error: String,
}

/// Run `sluice scan`.
pub fn run(args: ScanArgs) -> anyhow::Result<ExitCode> {
    let mut options = options(args.ioc_file.as_deref(), args.all_files)?;
    options.scorer = args.scorer.scorer();
    options.threshold = args.threshold;
    let upstreams = sluice_upstream::Upstreams {
        pypi_simple: parse_url(args.pypi_index.as_deref(), "--pypi-index")?,
        npm_registry: parse_url(args.npm_registry.as_deref(), "--npm-registry")?,
    };
    let targets = resolve(&args.targets)?;
    let owned_engine = if args.no_names {
        None
    } else {
        crate::names_hook::engine(args.private.as_deref())?
    };
    let names = (!args.no_names).then(|| {
        owned_engine
            .as_ref()
            .unwrap_or_else(|| sluice_names::Engine::preferred())
    });
    // The sandbox is heavy (a whole pip/npm install per package) and has
    // its own limits; running several at once would only fight for memory.
    let jobs = if args.dynamic {
        1
    } else {
        args.jobs.unwrap_or(0)
    };
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(jobs)
        .build()
        .context("cannot start worker threads")?;
    let progress = render::progress(targets.len(), args.format);
    let size = |t: &Target| match t {
        Target::Path(p) => crate::schedule::file_size(p),
        Target::Registry(_) => 0,
    };
    let results: Vec<Result<Report, ScanError>> =
        crate::schedule::largest_first(&pool, &targets, size, |t| {
            let r = scan_one(t, &options, &upstreams, names, args.dynamic);
            if let Some(p) = &progress {
                p.inc(1);
            }
            r
        });
    if let Some(p) = progress {
        p.finish_and_clear();
    }
    let (reports, errors): (Vec<_>, Vec<_>) = results.into_iter().partition(Result::is_ok);
    let reports: Vec<Report> = reports.into_iter().filter_map(Result::ok).collect();
    let errors: Vec<ScanError> = errors.into_iter().filter_map(Result::err).collect();

    let mut out = std::io::stdout().lock();
    render::write(&mut out, args.format, &reports, &errors, args.all)?;
    for e in &errors {
        eprintln!("error: {}: {}", e.target, e.error);
    }
    Ok(exit_code(&reports, &errors, args.fail_on.level()))
}

/// 2 when anything failed; else 1 when any verdict reaches `threshold`.
fn exit_code(reports: &[Report], errors: &[ScanError], threshold: VerdictLevel) -> ExitCode {
    if !errors.is_empty() {
        ExitCode::from(2)
    } else if reports.iter().any(|r| r.verdict.level >= threshold) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
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

/// Build analysis options from the command line.
pub fn options(
    ioc_file: Option<&Path>,
    all_files: bool,
) -> anyhow::Result<sluice_analyze::Options> {
    let iocs = match ioc_file {
        Some(p) => {
            let text = fs_err::read_to_string(p)?;
            Some(
                sluice_analyze::ioc::IocSet::parse(&text)
                    .map_err(|e| anyhow::anyhow!("{}: {e}", p.display()))?,
            )
        }
        None => None,
    };
    Ok(sluice_analyze::Options {
        iocs,
        all_files,
        ..sluice_analyze::Options::default()
    })
}

/// Expand the command line into targets. A folder with no package manifest
/// at its top but with artifact files in it is a folder of artifacts.
fn resolve(raw: &[String]) -> anyhow::Result<Vec<Target>> {
    let mut out = Vec::new();
    for t in raw {
        if t.starts_with("pypi:") || t.starts_with("npm:") {
            out.push(Target::Registry(t.parse()?));
            continue;
        }
        let p = PathBuf::from(t);
        if p.is_dir() && !is_package_dir(&p) {
            let artifacts = artifacts_in(&p)?;
            if !artifacts.is_empty() {
                out.extend(artifacts.into_iter().map(Target::Path));
                continue;
            }
        }
        out.push(Target::Path(p));
    }
    Ok(out)
}

/// True when `dir` looks like one package's source folder.
fn is_package_dir(dir: &Path) -> bool {
    [
        "setup.py",
        "pyproject.toml",
        "setup.cfg",
        "PKG-INFO",
        "package.json",
    ]
    .iter()
    .any(|m| dir.join(m).is_file())
}

/// Artifact files directly inside `dir`, sorted.
pub fn artifacts_in(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut v = Vec::new();
    for e in fs_err::read_dir(dir)? {
        let p = e?.path();
        let name = p
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_ascii_lowercase();
        let is_artifact = [".tar.gz", ".tgz", ".tar.bz2", ".zip", ".whl", ".tar"]
            .iter()
            .any(|ext| name.ends_with(ext));
        if is_artifact && p.is_file() {
            v.push(p);
        }
    }
    v.sort();
    Ok(v)
}

fn scan_one(
    target: &Target,
    options: &sluice_analyze::Options,
    upstreams: &sluice_upstream::Upstreams,
    names: Option<&sluice_names::Engine>,
    dynamic: bool,
) -> Result<Report, ScanError> {
    let label = match target {
        Target::Path(p) => p.display().to_string(),
        Target::Registry(s) => s.to_string(),
    };
    let err = |e: String| ScanError {
        target: label.clone(),
        error: e,
    };
    let limits = sluice_archive::Limits::default();
    // A downloaded artifact is kept in a temporary folder only when the
    // sandbox needs a file to install.
    let mut download_dir = None;
    let (tree, on_disk) = match target {
        Target::Path(p) => (
            sluice_archive::read_path(p, &limits).map_err(|e| err(e.to_string()))?,
            Some(p.clone()),
        ),
        Target::Registry(spec) => {
            let up = upstreams.clone().or_discovered();
            let d = sluice_upstream::fetch_blocking(spec, &up).map_err(|e| err(e.to_string()))?;
            let tree = sluice_archive::read_bytes(&d.filename, &d.bytes, &limits)
                .map_err(|e| err(e.to_string()))?;
            let path = if dynamic {
                let dir = tempfile::tempdir().map_err(|e| err(e.to_string()))?;
                // The file name comes from the index: keep only its last
                // component so it cannot point outside the folder.
                let name = Path::new(&d.filename)
                    .file_name()
                    .map_or_else(|| "artifact".into(), |n| n.to_owned());
                let path = dir.path().join(name);
                fs_err::write(&path, &d.bytes).map_err(|e| err(e.to_string()))?;
                download_dir = Some(dir);
                Some(path)
            } else {
                None
            };
            (tree, path)
        }
    };
    let mut report = sluice_analyze::analyze(&label, &tree, options);
    if let Some(engine) = names {
        crate::names_hook::add_name_findings(&mut report, &tree, engine);
    }
    if dynamic && let Some(path) = on_disk {
        add_sandbox_findings(&mut report, &tree, &path);
    }
    drop(download_dir);
    Ok(report)
}

/// Run the sandbox on `path` and merge its findings into `report`. A
/// sandbox that cannot run here is a warning in the report, not a failed
/// scan: the static verdict still stands.
fn add_sandbox_findings(report: &mut Report, tree: &sluice_archive::FileTree, path: &Path) {
    let options = sluice_sandbox::SandboxOptions {
        ecosystem: report.ecosystem,
        ..sluice_sandbox::SandboxOptions::default()
    };
    match sluice_sandbox::run(path, &options) {
        Ok(dynamic) => {
            for limit in &dynamic.limits_hit {
                report.warnings.push(format!(
                    "sandbox {:?} phase stopped at its {} limit: {}",
                    limit.phase, limit.limit, limit.detail
                ));
            }
            sluice_analyze::add_findings(report, tree, dynamic.findings);
        }
        Err(e) => report.warnings.push(format!("sandbox did not run: {e}")),
    }
}
