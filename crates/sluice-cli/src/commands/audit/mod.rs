//! `sluice audit`: read a project's lockfiles, manifests, SBOMs and
//! installed environments (`sluice-lockfile`) and look every dependency up
//! in the configured sources ([`matchers::Matcher`]): the gate's verdicts
//! and decisions, private names and the name engine.

pub mod bench;
mod installed;
pub mod matchers;
mod output;
mod remote;

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use rayon::prelude::*;
use sluice_lockfile::{Dependency, Inventory, SourceKind};
use sluice_model::{Ecosystem, Severity, VerdictLevel};

use crate::commands::scan::FailOn;
use matchers::{
    AuditFinding, CachedEngine, GateMatcher, IntelMatcher, Matcher, NameMatcher, PrivateMatcher,
};

/// Arguments of `sluice audit`.
#[derive(Debug, clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct AuditArgs {
    /// Files or folders to audit (walked recursively): lockfiles,
    /// requirements files, pyproject.toml, SBOMs, site-packages and
    /// node_modules.
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// The gate's data dir, whose verdicts and decisions are matched
    /// (default: the configuration's, `./.sluice`, when it holds a store).
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// The gate's configuration file (for its data dir).
    #[arg(long, value_name = "FILE", env = "SLUICE_CONFIG")]
    pub config: Option<PathBuf>,
    /// A running gate (`http://HOST:PORT`) whose verdicts, decisions and
    /// imported records are matched, fetched through its admin API instead
    /// of a local store.
    #[arg(long, value_name = "URL", conflicts_with_all = ["data_dir", "config"])]
    pub gate: Option<String>,
    /// The gate's admin token, for `--gate`.
    #[arg(
        long,
        value_name = "TOKEN",
        env = "SLUICE_ADMIN_TOKEN",
        hide_env_values = true
    )]
    pub token: Option<String>,
    /// Internal package names, prefixes and npm scopes (TOML or text, see
    /// docs/names.md): a dependency that is or imitates one is reported.
    #[arg(long, value_name = "FILE")]
    pub private: Option<PathBuf>,
    /// URL prefix of a company registry: internal names resolved from it
    /// are not dependency confusion (repeatable).
    #[arg(long, value_name = "URL")]
    pub internal_registry: Vec<String>,
    /// Skip the name engine (typosquats of popular names).
    #[arg(long)]
    pub no_names: bool,
    /// Also judge the installed code of every distribution found in an
    /// environment (site-packages, node_modules) with the static judge.
    #[arg(long)]
    pub scan: bool,
    /// Output format (`osv`: osv-scanner-like JSON).
    #[arg(long, value_enum, default_value_t = AuditFormat::Text)]
    pub format: AuditFormat,
    /// Exit with 1 when any finding is at or above this level.
    #[arg(long, value_enum, default_value_t = FailOn::Suspicious)]
    pub fail_on: FailOn,
    /// Show informational findings in text output, and list every
    /// dependency in JSON output.
    #[arg(long)]
    pub all: bool,
    #[command(subcommand)]
    pub command: Option<AuditCommand>,
}

/// `sluice audit` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum AuditCommand {
    /// Generate a monorepo of lockfiles and time `audit` on it.
    Bench(bench::BenchArgs),
}

/// `--format` of `audit`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum AuditFormat {
    /// Human-readable text, grouped by file.
    Text,
    /// One JSON document.
    Json,
    /// SARIF 2.1.0, one result per affected entry, at its lockfile line.
    Sarif,
    /// osv-scanner-like JSON (`results[].packages[]`).
    Osv,
}

/// A finding with the entry it is about.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Row {
    /// The file the entry is in.
    pub file: PathBuf,
    /// 1-based line of the entry.
    pub line: u32,
    /// The package, when the finding is about one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub package: Option<Pkg>,
    /// The finding.
    #[serde(flatten)]
    pub finding: AuditFinding,
}

/// The package of a row.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Pkg {
    /// Ecosystem.
    pub ecosystem: Ecosystem,
    /// Normalised name.
    pub name: String,
    /// Version, when pinned.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Where the package comes from.
    pub source: SourceKind,
}

/// What an audit produced.
pub struct Outcome {
    /// What was read.
    pub inventory: Inventory,
    /// Findings, by file then line.
    pub rows: Vec<Row>,
    /// Names of the sources used.
    pub sources: Vec<&'static str>,
}

/// Run `sluice audit`.
pub fn run(args: AuditArgs) -> anyhow::Result<ExitCode> {
    if let Some(AuditCommand::Bench(b)) = args.command {
        return bench::run(&b);
    }
    if args.paths.is_empty() {
        anyhow::bail!("nothing to audit: give one or more paths");
    }
    let (gate, intel) = match &args.gate {
        Some(url) => {
            let (g, i) = remote::load(url, args.token.as_deref())?;
            (Some(g), Some(i))
        }
        None => {
            let store = open_store(args.config.as_ref(), args.data_dir.clone())?;
            (
                store.as_ref().map(GateMatcher::load).transpose()?,
                store.as_ref().map(IntelMatcher::load).transpose()?,
            )
        }
    };
    // With a private list, one engine (popular names + the list) serves
    // both name matchers, through one cache.
    let private_engine = crate::names_hook::engine(args.private.as_deref())?;
    let engine = match &private_engine {
        Some(e) => Some(e),
        None if !args.no_names => Some(sluice_names::Engine::preferred()),
        None => None,
    };
    let cached = engine.map(CachedEngine::new);
    let private = cached
        .as_ref()
        .filter(|_| private_engine.is_some())
        .map(|c| PrivateMatcher::new(c, args.internal_registry.clone()));
    let names = cached
        .as_ref()
        .filter(|_| !args.no_names)
        .map(NameMatcher::new);
    let mut matchers: Vec<&dyn Matcher> = Vec::new();
    if let Some(g) = &gate {
        matchers.push(g);
    }
    if let Some(i) = &intel {
        matchers.push(i);
    }
    if let Some(p) = &private {
        matchers.push(p);
    }
    if let Some(n) = &names {
        matchers.push(n);
    }
    let scan_options = if args.scan {
        Some(crate::commands::scan::options(None, false)?)
    } else {
        None
    };
    let outcome = audit(&args.paths, &matchers, scan_options.as_ref());
    let mut out = std::io::stdout().lock();
    output::write(&mut out, args.format, &outcome, args.all)?;
    for e in &outcome.inventory.errors {
        eprintln!("error: {e}");
    }
    Ok(exit_code(&outcome, args.fail_on.level()))
}

/// The gate's store named by `--data-dir`/`--config`, or the default
/// data dir's when it exists. An explicit data dir without a store is an
/// error; a missing default one is not.
fn open_store(
    config: Option<&PathBuf>,
    data_dir: Option<PathBuf>,
) -> anyhow::Result<Option<sluice_store::Store>> {
    let explicit = data_dir.is_some() || config.is_some();
    let cfg = crate::commands::serve::effective_config(config, data_dir)?;
    if !cfg.data_dir.join("sluice.db").exists() {
        if explicit {
            anyhow::bail!(
                "no gate database in {} (pass --data-dir or --config)",
                cfg.data_dir.display()
            );
        }
        return Ok(None);
    }
    let store = sluice_store::Store::open(&cfg.data_dir)
        .with_context(|| format!("cannot open the gate's store in {}", cfg.data_dir.display()))?;
    Ok(Some(store))
}

/// Read `paths` and match every dependency against `matchers` (and judge
/// installed code when `scan` holds options).
#[must_use]
pub fn audit(
    paths: &[PathBuf],
    matchers: &[&dyn Matcher],
    scan: Option<&sluice_analyze::Options>,
) -> Outcome {
    let inventory = sluice_lockfile::read_paths(paths);
    let found = match_all(&inventory.dependencies, matchers);
    let mut rows = Vec::new();
    for (dep, findings) in inventory.dependencies.iter().zip(found) {
        rows.extend(findings.into_iter().map(|f| row(dep, f)));
    }
    if let Some(opts) = scan {
        let judged: Vec<(usize, AuditFinding)> = inventory
            .dependencies
            .par_iter()
            .enumerate()
            .flat_map_iter(|(i, d)| installed::judge(d, opts).into_iter().map(move |f| (i, f)))
            .collect();
        for (i, f) in judged {
            rows.push(row(&inventory.dependencies[i], f));
        }
    }
    for e in &inventory.findings {
        let known = e.kind == "pth-exec-known";
        rows.push(Row {
            file: e.file.clone(),
            line: e.line,
            package: None,
            finding: AuditFinding {
                rule: if known { "AUD821" } else { "AUD820" }.into(),
                source: "environment",
                severity: if known {
                    Severity::Info
                } else {
                    Severity::High
                },
                level: if known {
                    VerdictLevel::Clean
                } else {
                    VerdictLevel::Suspicious
                },
                message: e.message.clone(),
                ids: Vec::new(),
                evidence: vec![format!("line: {}", e.excerpt)],
            },
        });
    }
    rows.sort_by(|a, b| {
        a.file
            .cmp(&b.file)
            .then(a.line.cmp(&b.line))
            .then(b.finding.level.cmp(&a.finding.level))
    });
    Outcome {
        inventory,
        rows,
        sources: matchers.iter().map(|m| m.name()).collect(),
    }
}

fn row(dep: &Dependency, finding: AuditFinding) -> Row {
    Row {
        file: dep.file.clone(),
        line: dep.line,
        package: Some(Pkg {
            ecosystem: dep.ecosystem,
            name: dep.name.as_str().to_owned(),
            version: dep.version.clone(),
            source: dep.source,
        }),
        finding,
    }
}

/// What the matchers see of a dependency: entries equal in all of these
/// get the same answer, so each distinct one is checked once (a monorepo
/// repeats the same packages in every lockfile).
type MatchKey<'a> = (
    Ecosystem,
    &'a str,
    Option<&'a str>,
    SourceKind,
    Option<&'a str>,
    &'a [String],
);

fn match_all(deps: &[Dependency], matchers: &[&dyn Matcher]) -> Vec<Vec<AuditFinding>> {
    if matchers.is_empty() {
        return vec![Vec::new(); deps.len()];
    }
    let mut index: HashMap<MatchKey<'_>, usize> = HashMap::new();
    let mut unique: Vec<&Dependency> = Vec::new();
    let slots: Vec<usize> = deps
        .iter()
        .map(|d| {
            let key = (
                d.ecosystem,
                d.name.as_str(),
                d.version.as_deref(),
                d.source,
                d.url.as_deref(),
                d.hashes.as_slice(),
            );
            *index.entry(key).or_insert_with(|| {
                unique.push(d);
                unique.len() - 1
            })
        })
        .collect();
    let answers: Vec<Vec<AuditFinding>> = unique
        .par_iter()
        .map(|d| matchers.iter().flat_map(|m| m.check(d)).collect())
        .collect();
    slots.into_iter().map(|i| answers[i].clone()).collect()
}

/// 2 when a file could not be read; else 1 when a finding reaches
/// `threshold`.
fn exit_code(o: &Outcome, threshold: VerdictLevel) -> ExitCode {
    if !o.inventory.errors.is_empty() {
        ExitCode::from(2)
    } else if o.rows.iter().any(|r| r.finding.level >= threshold) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}
