//! `sluice bench`: scan a folder of packages and print speed and memory
//! figures (packages/s, MB/s of unpacked source, peak resident memory),
//! plus the verdict counts and every package that was not clean.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use sluice_model::VerdictLevel;

use crate::commands::scan::{ScorerArg, artifacts_in};

/// Arguments of `sluice bench`.
#[derive(Debug, clap::Args)]
pub struct BenchArgs {
    /// Folders holding package artifacts (scanned one level deep).
    #[arg(required = true, value_name = "DIR")]
    pub dirs: Vec<PathBuf>,
    /// Worker threads (default: one per core).
    #[arg(long, short = 'j')]
    pub jobs: Option<usize>,
    /// Skip name intelligence.
    #[arg(long)]
    pub no_names: bool,
    /// Parse every test, doc and example file (as `scan --all-files`).
    #[arg(long)]
    pub all_files: bool,
    /// Which scorer decides the verdict listed per package (both are
    /// counted).
    #[arg(long, value_enum, default_value_t = ScorerArg::Model)]
    pub scorer: ScorerArg,
    /// Move the learned scorer's suspicious threshold (as `scan`).
    #[arg(long, value_name = "P", value_parser = crate::commands::scan::parse_probability)]
    pub threshold: Option<f64>,
}

struct One {
    path: PathBuf,
    unpacked: u64,
    level: Option<VerdictLevel>,
    rule_level: Option<VerdictLevel>,
    model_level: Option<VerdictLevel>,
    score: u32,
    why: String,
}

/// Run `sluice bench`.
pub fn run(args: BenchArgs) -> anyhow::Result<ExitCode> {
    let mut files = Vec::new();
    for d in &args.dirs {
        files.extend(artifacts_in(d)?);
    }
    anyhow::ensure!(!files.is_empty(), "no package artifacts found");
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(args.jobs.unwrap_or(0))
        .build()?;
    // Both scorers from one analysis: the model judges on top of the rule
    // verdict and keeps the rule level in `report.model`.
    let options = sluice_analyze::Options {
        all_files: args.all_files,
        scorer: sluice_analyze::learn::Scorer::Model,
        threshold: args.threshold,
        ..sluice_analyze::Options::default()
    };
    let names = (!args.no_names).then(sluice_names::Engine::builtin);
    let limits = sluice_archive::Limits::default();
    let start = Instant::now();
    let results: Vec<One> = crate::schedule::largest_first(
        &pool,
        &files,
        |p| crate::schedule::file_size(p),
        |p| match sluice_archive::read_path(p, &limits) {
            Ok(tree) => {
                let mut r = sluice_analyze::analyze(&p.display().to_string(), &tree, &options);
                if let Some(engine) = names {
                    crate::names_hook::add_name_findings(&mut r, &tree, engine);
                }
                let (rule_level, rule_score) = r
                    .model
                    .as_ref()
                    .map_or((r.verdict.level, r.verdict.score), |m| {
                        (m.rule_level, m.rule_score)
                    });
                let model_level = r.verdict.level;
                let (level, score) = match args.scorer {
                    ScorerArg::Model => (model_level, r.verdict.score),
                    ScorerArg::Rules => (rule_level, rule_score),
                };
                let mut rules: Vec<String> = r
                    .verdict
                    .drivers
                    .iter()
                    .map(|f| {
                        format!(
                            "{} {}:{}",
                            f.rule,
                            f.file.as_deref().unwrap_or("-"),
                            f.line.unwrap_or(0)
                        )
                    })
                    .collect();
                rules.dedup();
                One {
                    path: p.clone(),
                    unpacked: tree.unpacked_bytes(),
                    level: Some(level),
                    rule_level: Some(rule_level),
                    model_level: Some(model_level),
                    score,
                    why: rules.join("; "),
                }
            }
            Err(e) => One {
                path: p.clone(),
                unpacked: 0,
                level: None,
                rule_level: None,
                model_level: None,
                score: 0,
                why: e.to_string(),
            },
        },
    );
    let secs = start.elapsed().as_secs_f64();
    let n = results.len();
    let bytes: u64 = results.iter().map(|o| o.unpacked).sum();
    let count = |l: Option<VerdictLevel>| results.iter().filter(|o| o.level == l).count();
    let flagged: Vec<&One> = results
        .iter()
        .filter(|o| o.level.is_some_and(|l| l > VerdictLevel::Clean))
        .collect();
    println!("packages:        {n}");
    println!("wall time:       {secs:.2} s");
    #[allow(clippy::cast_precision_loss)]
    {
        println!("packages/s:      {:.1}", n as f64 / secs);
        println!(
            "unpacked:        {:.1} MB, {:.1} MB/s",
            bytes as f64 / 1e6,
            bytes as f64 / 1e6 / secs
        );
        println!(
            "flagged:         {} ({:.2} %)",
            flagged.len(),
            100.0 * flagged.len() as f64 / n as f64
        );
    }
    println!(
        "peak memory:     {}",
        peak_rss().unwrap_or_else(|| "unknown".into())
    );
    let by = |f: fn(&One) -> Option<VerdictLevel>, l: VerdictLevel| {
        results.iter().filter(|o| f(o) == Some(l)).count()
    };
    for (name, f) in [
        (
            "model",
            (|o: &One| o.model_level) as fn(&One) -> Option<VerdictLevel>,
        ),
        ("rules", |o: &One| o.rule_level),
    ] {
        println!(
            "verdicts, {name}: clean {}, suspicious {}, malicious {}, unreadable {}",
            by(f, VerdictLevel::Clean),
            by(f, VerdictLevel::Suspicious),
            by(f, VerdictLevel::Malicious),
            count(None)
        );
    }
    for o in &flagged {
        println!(
            "  {} {} (score {}): {}",
            o.level.map_or("error", VerdictLevel::as_str),
            o.path.display(),
            o.score,
            o.why
        );
    }
    for o in results.iter().filter(|o| o.level.is_none()) {
        println!("  unreadable {}: {}", o.path.display(), o.why);
    }
    Ok(ExitCode::SUCCESS)
}

/// Peak resident set size of this process (Linux `VmHWM`).
fn peak_rss() -> Option<String> {
    let status = fs_err::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .map(|v| v.trim().to_owned())
}
