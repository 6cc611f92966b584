//! `sluice names`: check names against popular and private names, refresh
//! the popularity index, find flood campaigns, evaluate, benchmark.

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use sluice_model::{Ecosystem, PackageName};
use sluice_names::{Engine, NameVerdict, PopularData, PrivateList, verdict_of};

/// Arguments of `sluice names`.
#[derive(Debug, clap::Args)]
pub struct NamesArgs {
    #[command(subcommand)]
    command: NamesCommand,
}

#[derive(Debug, clap::Subcommand)]
enum NamesCommand {
    /// Judge package names: typosquats, combosquats, private-name confusion.
    ///
    /// Exit code: 0 nothing flagged, 1 at least one name flagged, 2 only
    /// bad input (each bad name is reported; the rest is still checked).
    Check(CheckArgs),
    /// Judge a name that is popular in the other registry, on provenance.
    Cross(CrossArgs),
    /// Rebuild the popularity index from popularity TSVs.
    Update(UpdateArgs),
    /// Cluster upload events (JSON lines) into flood campaigns.
    Campaigns(CampaignArgs),
    /// Measure recall and false positives on a labelled TSV.
    Eval(EvalArgs),
    /// Measure check speed and index size (a benchmark, not a test).
    Bench(BenchArgs),
}

/// Where the popularity index comes from.
#[derive(Debug, clap::Args)]
struct IndexOpts {
    /// Popularity index file (from `sluice names update`). Default: the
    /// user's index if present (see `update`), else the shipped one.
    #[arg(long, value_name = "FILE")]
    index: Option<PathBuf>,
    /// Private names, prefixes and npm scopes (TOML or text; see docs/names.md).
    #[arg(long, value_name = "FILE")]
    private: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
struct CheckArgs {
    /// Registry of unprefixed names (`pypi:NAME` / `npm:NAME` override it).
    #[arg(long, short, default_value = "pypi")]
    ecosystem: Ecosystem,
    /// Also read names from standard input, one a line.
    #[arg(long)]
    stdin: bool,
    /// JSON lines output: one object per name.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    index: IndexOpts,
    /// Names to check.
    names: Vec<String>,
}

#[derive(Debug, clap::Args)]
struct CrossArgs {
    /// Registry of the candidate.
    #[arg(long, short, default_value = "pypi")]
    ecosystem: Ecosystem,
    /// Candidate name.
    name: String,
    /// Its version equals the other registry's latest (yes/no).
    #[arg(long, value_name = "yes|no")]
    same_version: Option<YesNo>,
    /// Its repository matches the other registry's package (yes/no).
    #[arg(long, value_name = "yes|no")]
    repo_matches: Option<YesNo>,
    /// It shares an author/maintainer with the other package (yes/no).
    #[arg(long, value_name = "yes|no")]
    author_matches: Option<YesNo>,
    /// Days since its first upload.
    #[arg(long, value_name = "DAYS")]
    first_upload_days: Option<u32>,
    /// Number of releases it has.
    #[arg(long, value_name = "N")]
    releases: Option<u32>,
    /// JSON output.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    index: IndexOpts,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum YesNo {
    Yes,
    No,
}

impl YesNo {
    fn as_bool(self) -> bool {
        matches!(self, YesNo::Yes)
    }
}

#[derive(Debug, clap::Args)]
struct UpdateArgs {
    /// PyPI popularity TSV (`name<TAB>rank`, header line).
    #[arg(long, value_name = "FILE")]
    pypi: Option<PathBuf>,
    /// npm popularity TSV (`name<TAB>downloads_a_month`, header line).
    #[arg(long, value_name = "FILE")]
    npm: Option<PathBuf>,
    /// Where to write the index. Default: `$SLUICE_DATA_DIR`,
    /// `$XDG_DATA_HOME/sluice` or `~/.local/share/sluice`, `popular.idx.gz`,
    /// which `check` then prefers over the shipped index.
    #[arg(long, value_name = "FILE")]
    index: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
struct CampaignArgs {
    /// JSON-lines file of upload events (`-` for standard input).
    file: PathBuf,
    /// Registry of events without an `ecosystem` field.
    #[arg(long, short, default_value = "pypi")]
    ecosystem: Ecosystem,
    /// Smallest cluster to print.
    #[arg(long, default_value_t = 5)]
    min_size: usize,
    /// JSON lines output: one object per cluster.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    index: IndexOpts,
}

#[derive(Debug, clap::Args)]
struct EvalArgs {
    /// TSV with columns ecosystem, candidate, label (squat|benign), target,
    /// source, class, and a header line.
    file: PathBuf,
    /// Also list the rows we got wrong.
    #[arg(long)]
    misses: bool,
    /// JSON output.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    index: IndexOpts,
}

#[derive(Debug, clap::Args)]
struct BenchArgs {
    /// Names checked one at a time (for the median).
    #[arg(long, default_value_t = 20_000)]
    single: usize,
    /// Names in the batch.
    #[arg(long, default_value_t = 100_000)]
    batch: usize,
}

/// Run `sluice names`.
pub fn run(args: NamesArgs) -> anyhow::Result<ExitCode> {
    match args.command {
        NamesCommand::Check(a) => check(a),
        NamesCommand::Cross(a) => cross(a),
        NamesCommand::Update(a) => update(a),
        NamesCommand::Campaigns(a) => campaigns(a),
        NamesCommand::Eval(a) => eval(a),
        NamesCommand::Bench(a) => bench(a),
    }
}

/// An engine that lives as long as the command: the shared built-in one or
/// one built from a file.
enum EngineRef {
    Shared(&'static Engine),
    Owned(Box<Engine>),
}

impl std::ops::Deref for EngineRef {
    type Target = Engine;
    fn deref(&self) -> &Engine {
        match self {
            EngineRef::Shared(e) => e,
            EngineRef::Owned(e) => e,
        }
    }
}

fn load_engine(o: &IndexOpts) -> anyhow::Result<EngineRef> {
    let file = match &o.index {
        Some(p) => Some(p.clone()),
        None => sluice_names::user_index_path().filter(|p| p.is_file()),
    };
    let private = match &o.private {
        Some(p) => Some(
            PrivateList::parse(
                &fs_err::read_to_string(p).context("reading the private-name list")?,
            )
            .with_context(|| format!("in {}", p.display()))?,
        ),
        None => None,
    };
    let engine = match (file, private) {
        (None, None) => return Ok(EngineRef::Shared(Engine::builtin())),
        (Some(f), private) => {
            let e = Engine::from_index_file(&f)
                .with_context(|| format!("loading index {}", f.display()))?;
            match private {
                Some(p) => e.with_private(p),
                None => e,
            }
        }
        (None, Some(p)) => Engine::from_data(&Engine::builtin_data()?).with_private(p),
    };
    Ok(EngineRef::Owned(Box::new(engine)))
}

/// Split an optional `pypi:` / `npm:` prefix off a name.
fn split_prefix(raw: &str, default: Ecosystem) -> (Ecosystem, &str) {
    if let Some((p, rest)) = raw.split_once(':')
        && let Ok(eco) = p.parse::<Ecosystem>()
    {
        return (eco, rest);
    }
    (default, raw)
}

fn check(a: CheckArgs) -> anyhow::Result<ExitCode> {
    let engine = load_engine(&a.index)?;
    // (line label, raw text) of every input name, in order.
    let mut inputs: Vec<(String, String)> = a
        .names
        .iter()
        .enumerate()
        .map(|(i, n)| (format!("argument {}", i + 1), n.clone()))
        .collect();
    if a.stdin {
        let stdin = std::io::stdin();
        for (i, line) in stdin.lock().lines().enumerate() {
            let line = line.context("reading standard input")?;
            let t = line.trim();
            if t.is_empty() || t.starts_with('#') {
                continue;
            }
            inputs.push((format!("line {}", i + 1), t.to_owned()));
        }
    }
    if inputs.is_empty() {
        anyhow::bail!("no names given (pass NAME... or --stdin)");
    }
    let mut parsed = Vec::with_capacity(inputs.len());
    let mut errors = 0usize;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    for (label, raw) in &inputs {
        let (eco, name) = split_prefix(raw, a.ecosystem);
        match PackageName::parse(eco, name) {
            Ok(p) => parsed.push(p),
            Err(e) => {
                errors += 1;
                let shown: String = raw.chars().take(80).collect();
                eprintln!("error: {label}: `{}`: {e}", shown.escape_debug());
                if a.json {
                    let obj = serde_json::json!({
                        "name": shown, "verdict": "error", "error": e.to_string(), "input": label,
                    });
                    writeln!(out, "{obj}")?;
                }
            }
        }
    }
    let results = engine.check_many(&parsed);
    let mut flagged = 0usize;
    for (name, matches) in parsed.iter().zip(&results) {
        let verdict = verdict_of(matches);
        if verdict != NameVerdict::Ok {
            flagged += 1;
        }
        let best = matches.first();
        if a.json {
            let obj = serde_json::json!({
                "name": name.as_str(),
                "ecosystem": name.ecosystem(),
                "verdict": verdict,
                "targets": matches.iter().map(|m| m.target.as_str()).collect::<Vec<_>>(),
                "class": best.map(|m| m.class),
                "score": best.map_or(0.0, |m| (m.score * 1000.0).round() / 1000.0),
                "matches": matches,
            });
            writeln!(out, "{obj}")?;
        } else {
            match best {
                Some(m) => writeln!(
                    out,
                    "{:<11} {}:{}  -> {}:{} ({}, score {:.2}){}",
                    verdict.as_str(),
                    name.ecosystem(),
                    name.as_str(),
                    m.target_ecosystem,
                    m.target,
                    m.class,
                    m.score,
                    if matches.len() > 1 {
                        format!(
                            "; also {}",
                            matches[1..]
                                .iter()
                                .map(|x| format!("{} ({}, {:.2})", x.target, x.class, x.score))
                                .collect::<Vec<_>>()
                                .join(", ")
                        )
                    } else {
                        String::new()
                    }
                )?,
                None => writeln!(
                    out,
                    "{:<11} {}:{}",
                    verdict.as_str(),
                    name.ecosystem(),
                    name.as_str()
                )?,
            }
        }
    }
    out.flush()?;
    Ok(if flagged > 0 {
        ExitCode::from(1)
    } else if errors > 0 {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    })
}

fn cross(a: CrossArgs) -> anyhow::Result<ExitCode> {
    let engine = load_engine(&a.index)?;
    let (eco, name) = split_prefix(&a.name, a.ecosystem);
    let name = PackageName::parse(eco, name)?;
    let facts = sluice_names::cross::Provenance {
        same_version_as_other: a.same_version.map(YesNo::as_bool),
        repository_matches_other: a.repo_matches.map(YesNo::as_bool),
        author_matches_other: a.author_matches.map(YesNo::as_bool),
        first_upload_days_ago: a.first_upload_days,
        release_count: a.releases,
    };
    let Some(j) = sluice_names::cross::judge(&engine, &name, &facts) else {
        if a.json {
            println!(
                "{}",
                serde_json::json!({"name": name.as_str(), "verdict": "ok", "twin": null})
            );
        } else {
            println!(
                "ok          {}:{}  (no popular package of that name in the other registry)",
                eco, name
            );
        }
        return Ok(ExitCode::SUCCESS);
    };
    if a.json {
        println!("{}", serde_json::to_string(&j)?);
    } else {
        println!(
            "{:<11} {}:{}  -> {}:{} (cross-registry, score {:.2})",
            j.verdict.as_str(),
            eco,
            name,
            j.matched.target_ecosystem,
            j.matched.target,
            j.matched.score
        );
        for r in &j.reasons {
            println!("  - {r}");
        }
    }
    Ok(if j.verdict == NameVerdict::Ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn read_tsv(eco: Ecosystem, p: &Path) -> anyhow::Result<Vec<sluice_names::Popular>> {
    let f = fs_err::File::open(p)?;
    let (rows, bad) = PopularData::read_tsv(eco, std::io::BufReader::new(f))?;
    for b in &bad {
        eprintln!("warning: {}: line {}: {}", p.display(), b.line, b.reason);
    }
    if rows.is_empty() {
        anyhow::bail!("{}: no usable rows", p.display());
    }
    Ok(rows)
}

fn update(a: UpdateArgs) -> anyhow::Result<ExitCode> {
    if a.pypi.is_none() && a.npm.is_none() {
        anyhow::bail!("give --pypi FILE and/or --npm FILE");
    }
    // A registry not given keeps the shipped data.
    let mut data = Engine::builtin_data()?;
    if let Some(p) = &a.pypi {
        data.pypi = read_tsv(Ecosystem::PyPI, p)?;
    }
    if let Some(p) = &a.npm {
        data.npm = read_tsv(Ecosystem::Npm, p)?;
    }
    let out = match a.index {
        Some(p) => p,
        None => sluice_names::user_index_path()
            .context("no home or data directory; pass --index FILE")?,
    };
    if let Some(dir) = out.parent().filter(|d| !d.as_os_str().is_empty()) {
        fs_err::create_dir_all(dir)?;
    }
    // Write beside the target and rename, so a reader never sees half a file.
    let tmp = out.with_extension("tmp");
    data.write_compact(fs_err::File::create(&tmp)?)?;
    fs_err::rename(&tmp, &out)?;
    println!(
        "wrote {} ({} PyPI names, {} npm names)",
        out.display(),
        data.pypi.len(),
        data.npm.len()
    );
    Ok(ExitCode::SUCCESS)
}

fn campaigns(a: CampaignArgs) -> anyhow::Result<ExitCode> {
    let engine = load_engine(&a.index)?;
    let (events, bad) = if a.file.as_os_str() == "-" {
        sluice_names::campaign::read_events(std::io::stdin().lock())?
    } else {
        let f = fs_err::File::open(&a.file)?;
        sluice_names::campaign::read_events(std::io::BufReader::new(f))?
    };
    for b in &bad {
        eprintln!("error: line {}: {}", b.line, b.reason);
    }
    let clusters = sluice_names::campaign::cluster(&engine, &events, a.ecosystem, a.min_size);
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    if !a.json {
        writeln!(
            out,
            "{} events, {} clusters of {}+",
            events.len(),
            clusters.len(),
            a.min_size
        )?;
    }
    for (i, c) in clusters.iter().enumerate() {
        if a.json {
            writeln!(out, "{}", serde_json::to_string(c)?)?;
            continue;
        }
        writeln!(
            out,
            "cluster {}: {} uploads, {} names, score {:.2}, {:.0}% imitate popular names",
            i + 1,
            c.size,
            c.names,
            c.score,
            100.0 * c.imitating
        )?;
        writeln!(out, "  shared: {}", c.shared.join(", "))?;
        if let Some((v, share)) = &c.common_version {
            writeln!(out, "  version: {v} on {:.0}% of uploads", 100.0 * share)?;
        }
        if let (Some(f), Some(l)) = (c.first, c.last) {
            let fmt = sluice_names::campaign::format_time;
            writeln!(
                out,
                "  time: {} .. {} UTC, peak {} uploads in 24 h",
                fmt(f),
                fmt(l),
                c.peak_per_day
            )?;
        }
        if !c.targets.is_empty() {
            writeln!(
                out,
                "  targets: {}",
                c.targets
                    .iter()
                    .map(|(t, n)| format!("{t} ({n})"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )?;
        }
        writeln!(out, "  sample: {}", c.sample.join(", "))?;
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

fn eval(a: EvalArgs) -> anyhow::Result<ExitCode> {
    let engine = load_engine(&a.index)?;
    let f = fs_err::File::open(&a.file)?;
    let rep = sluice_names::eval::evaluate(&engine, std::io::BufReader::new(f))?;
    for (line, e) in &rep.bad_lines {
        eprintln!("error: {}: line {line}: {e}", a.file.display());
    }
    if a.json {
        let obj = serde_json::json!({
            "by_ecosystem": rep.by_ecosystem,
            "by_class": rep.by_class,
            "bad_lines": rep.bad_lines,
        });
        println!("{obj}");
        return Ok(ExitCode::SUCCESS);
    }
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    writeln!(
        out,
        "{:<34} {:>6} {:>7} {:>7} {:>7} {:>8}",
        "group", "squats", "recall", "target", "benign", "flagged"
    )?;
    let line = |out: &mut dyn Write, k: &str, t: &sluice_names::eval::Tally| {
        writeln!(
            out,
            "{:<34} {:>6} {:>6.1}% {:>6.1}% {:>7} {:>7.1}%",
            k.replace('\t', " "),
            t.squats,
            100.0 * t.recall(),
            if t.caught == 0 {
                0.0
            } else {
                100.0 * t.target_agrees as f32 / t.caught as f32
            },
            t.benign,
            100.0 * t.fp_rate()
        )
    };
    for (k, t) in &rep.by_ecosystem {
        line(&mut out, k, t)?;
    }
    writeln!(out)?;
    for (k, t) in &rep.by_class {
        line(&mut out, k, t)?;
    }
    if a.misses {
        writeln!(out)?;
        for r in &rep.rows {
            let flagged = r.verdict != NameVerdict::Ok;
            if (r.label == "squat") != flagged {
                let best = r
                    .best
                    .as_ref()
                    .map_or_else(String::new, |(t, c, s)| format!(" -> {t} ({c}, {s:.2})"));
                writeln!(
                    out,
                    "{} {} {} [{} / {}]: {}{}",
                    if flagged { "FP  " } else { "MISS" },
                    r.ecosystem,
                    r.candidate,
                    r.class,
                    r.target,
                    r.verdict.as_str(),
                    best
                )?;
            }
        }
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

fn bench(a: BenchArgs) -> anyhow::Result<ExitCode> {
    let r = sluice_names::bench::run(a.single, a.batch)?;
    println!(
        "index build (inflate + lookup tables): {:.0} ms",
        r.build_ms
    );
    println!(
        "single check: median {:.1} µs, p99 {:.1} µs over {} names",
        r.single_median_us, r.single_p99_us, r.single_names
    );
    println!(
        "batch: {} names in {:.0} ms wall, {:.0} ms CPU ({} flagged)",
        r.batch_names, r.batch_ms, r.batch_cpu_ms, r.batch_flagged
    );
    println!("index structures: ~{:.1} MB", r.index_bytes as f64 / 1e6);
    if let Ok(s) = std::fs::read_to_string("/proc/self/status") {
        for l in s
            .lines()
            .filter(|l| l.starts_with("VmRSS") || l.starts_with("VmHWM"))
        {
            println!("{}", l.split_whitespace().collect::<Vec<_>>().join(" "));
        }
    }
    Ok(ExitCode::SUCCESS)
}
