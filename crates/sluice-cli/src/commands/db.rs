//! `sluice db`: the malicious-package intel store (OSV records) in the
//! gate's own database: import, export, list, show, and a benchmark.
//!
//! Works while `sluice serve` runs: an import takes effect on the gate's
//! next request (the gate checks the store's intel generation).

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use serde_json::json;
use sluice_intel::{ImportOptions, ImportReport, IntelIndex, LiveIntel};
use sluice_model::{Ecosystem, PackageName};
use sluice_store::Store;

/// Output format of `sluice db`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum DbFormat {
    /// Human-readable text.
    Text,
    /// One JSON document.
    Json,
    /// OSV JSON: `db show` prints the stored record; `db export` writes
    /// OSV files in any format (this one prints a text summary).
    Osv,
}

/// Arguments of `sluice db`.
#[derive(Debug, clap::Args)]
pub struct DbArgs {
    /// The gate's configuration file (for its data dir).
    #[arg(long, value_name = "FILE", env = "SLUICE_CONFIG", global = true)]
    pub config: Option<PathBuf>,
    /// The gate's data dir (overrides the configuration; default ./.sluice).
    #[arg(long, value_name = "DIR", global = true)]
    pub data_dir: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = DbFormat::Text, global = true)]
    pub format: DbFormat,
    #[command(subcommand)]
    pub command: DbCommand,
}

/// `sluice db` actions.
#[derive(Debug, clap::Subcommand)]
pub enum DbCommand {
    /// Import OSV records: a folder tree (like the OSSF malicious-packages
    /// repository; every `*.json`, recursively), a ZIP of OSV files, one
    /// JSON file, or an http(s) URL of a ZIP or JSON file. Idempotent and
    /// incremental: a record replaces the stored one only when its
    /// `modified` is newer. Exits 1 when some records were rejected (the
    /// rest are imported), 2 on an operational error.
    Import {
        /// Folder, ZIP, JSON file or URL.
        #[arg(value_name = "PATH|URL")]
        source: String,
        /// Records per transaction.
        #[arg(long, default_value_t = sluice_intel::import::DEFAULT_BATCH)]
        batch: usize,
    },
    /// Write the gate's own malicious verdicts as OSV records (one per
    /// package version, evidence in `database_specific.sluice`) under
    /// DIR/pypi and DIR/npm.
    Export {
        /// Output folder.
        #[arg(value_name = "DIR")]
        dir: PathBuf,
    },
    /// List stored records.
    List {
        /// Only records naming a package of this ecosystem (`pypi`, `npm`).
        #[arg(long)]
        ecosystem: Option<String>,
        /// Only records naming this package (normalised like the registry
        /// does; with --ecosystem, or both ecosystems are tried).
        #[arg(long)]
        name: Option<String>,
        /// Include withdrawn records (only without --ecosystem/--name).
        #[arg(long)]
        withdrawn: bool,
        /// At most this many.
        #[arg(long, default_value_t = 1000)]
        limit: u32,
    },
    /// Show one record: what sluice stored and the OSV JSON.
    Show {
        /// The record id (`MAL-2024-4922`).
        id: String,
    },
    /// Generate OSV records from the sample's shapes in a temporary
    /// folder, import them twice (fresh, then all unchanged), and time
    /// matching look-ups.
    Bench {
        /// How many records to generate.
        #[arg(long, default_value_t = 200_000)]
        records: usize,
        /// A folder of real OSV records to use as templates (e.g. the OSSF
        /// sample); default: built-in shapes of the MAL- records.
        #[arg(long, value_name = "DIR")]
        sample: Option<PathBuf>,
        /// Records per transaction.
        #[arg(long, default_value_t = sluice_intel::import::DEFAULT_BATCH)]
        batch: usize,
    },
}

fn open_store(data_dir: &Path, create: bool) -> anyhow::Result<Store> {
    if !create && !data_dir.join("sluice.db").exists() {
        anyhow::bail!(
            "no gate database in {} (pass --data-dir or --config)",
            data_dir.display()
        );
    }
    Store::open(data_dir)
        .with_context(|| format!("cannot open the store in {}", data_dir.display()))
}

/// Run `sluice db`.
pub fn run(args: DbArgs) -> anyhow::Result<ExitCode> {
    let format = args.format;
    if let DbCommand::Bench {
        records,
        sample,
        batch,
    } = &args.command
    {
        return bench(*records, sample.as_deref(), *batch, format);
    }
    let cfg = super::serve::effective_config(args.config.as_ref(), args.data_dir)?;
    match args.command {
        DbCommand::Import { source, batch } => {
            let store = open_store(&cfg.data_dir, true)?;
            let opts = ImportOptions { batch };
            let report = if source.starts_with("http://") || source.starts_with("https://") {
                let bytes = crate::http::get(&source, "the OSV source", None, &FETCH)?;
                sluice_intel::import_bytes(&store, &source, &bytes, opts)?
            } else {
                sluice_intel::import_path(&store, Path::new(&source), opts)?
            };
            print_import(&report, format);
            Ok(if report.errors.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
        DbCommand::Export { dir } => {
            let store = open_store(&cfg.data_dir, false)?;
            let r = sluice_intel::export_verdicts(&store, &dir)?;
            if format == DbFormat::Json {
                println!("{}", json!(r));
            } else {
                println!(
                    "exported {} record(s) to {} ({} waived version(s) left out)",
                    r.records, r.dir, r.waived
                );
                for f in &r.files {
                    println!("  {f}");
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        DbCommand::List {
            ecosystem,
            name,
            withdrawn,
            limit,
        } => {
            let store = open_store(&cfg.data_dir, false)?;
            let eco = ecosystem
                .as_deref()
                .map(str::parse::<Ecosystem>)
                .transpose()
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            let mut rows = Vec::new();
            match (&name, eco) {
                (Some(n), _) => {
                    let ecos =
                        eco.map_or_else(|| vec![Ecosystem::PyPI, Ecosystem::Npm], |e| vec![e]);
                    for e in ecos {
                        // A name one registry refuses simply matches nothing there.
                        if let Ok(pn) = PackageName::parse(e, n) {
                            rows.extend(store.intel_list(
                                Some(e.prefix()),
                                Some(pn.as_str()),
                                false,
                                limit,
                            )?);
                        }
                    }
                }
                (None, Some(e)) => rows = store.intel_list(Some(e.prefix()), None, false, limit)?,
                (None, None) => rows = store.intel_list(None, None, withdrawn, limit)?,
            }
            rows.sort_by(|a, b| a.id.cmp(&b.id));
            rows.dedup_by(|a, b| a.id == b.id);
            let counts = store.intel_counts()?;
            if format == DbFormat::Text {
                for r in &rows {
                    println!(
                        "{:<20} {:<40} {}{}",
                        r.id,
                        r.packages.join(", "),
                        r.summary,
                        if r.withdrawn.is_some() {
                            "  [withdrawn]"
                        } else {
                            ""
                        }
                    );
                }
                println!(
                    "{} listed; {} record(s) stored, {} withdrawn, {} package entries active",
                    rows.len(),
                    counts.records,
                    counts.withdrawn,
                    counts.packages
                );
            } else {
                println!("{}", json!({"records": rows, "counts": counts}));
            }
            Ok(ExitCode::SUCCESS)
        }
        DbCommand::Show { id } => {
            let store = open_store(&cfg.data_dir, false)?;
            let Some((info, body)) = store.intel_record(&id)? else {
                anyhow::bail!("no record with id {id}");
            };
            match format {
                DbFormat::Osv => println!("{body}"),
                DbFormat::Json => {
                    let osv: serde_json::Value = serde_json::from_str(&body)
                        .with_context(|| format!("stored record {id} is not JSON"))?;
                    println!("{}", json!({"record": info, "osv": osv}));
                }
                DbFormat::Text => {
                    println!("{}  {}", info.id, info.summary);
                    println!("  modified   {}", info.modified);
                    if let Some(p) = &info.published {
                        println!("  published  {p}");
                    }
                    if let Some(w) = &info.withdrawn {
                        println!("  withdrawn  {w} (matches nothing)");
                    }
                    println!("  packages   {}", info.packages.join(", "));
                    println!("  source     {}", info.source);
                    println!("  imported   {}", info.imported_at);
                    println!("{body}");
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        DbCommand::Bench { .. } => unreachable!("handled above"),
    }
}

/// How `db import URL` fetches: a ZIP or JSON file of up to 2 GiB.
const FETCH: crate::http::Bounds = crate::http::Bounds {
    connect: Duration::from_secs(30),
    total: Duration::from_secs(600),
    max_bytes: 2 << 30,
};

fn print_import(r: &ImportReport, format: DbFormat) {
    if format == DbFormat::Json {
        println!("{}", json!(r));
        return;
    }
    println!(
        "imported {}: {} new, {} updated, {} unchanged, {} withdrawn, {} errors ({} files, {} records)",
        r.source,
        r.new,
        r.updated,
        r.unchanged,
        r.withdrawn,
        r.errors.len(),
        r.files,
        r.records
    );
    if r.other_ecosystems > 0 || r.git_ranges > 0 {
        println!(
            "  kept but not matched: {} entries of other ecosystems, {} GIT ranges",
            r.other_ecosystems, r.git_ranges
        );
    }
    for e in &r.errors {
        println!("  error: {}: {}", e.file, e.reason);
    }
}

// ------------------------------------------------------------------ bench

/// Shapes of the OSSF `MAL-` records (from the 1,500-record sample): npm
/// `SEMVER introduced 0` with CWE data (the most common), PyPI
/// `ECOSYSTEM introduced 0`, exact versions only, a `last_affected`
/// range, and ranges plus versions.
fn builtin_templates() -> Vec<serde_json::Value> {
    let origins = json!({"malicious-packages-origins": [{
        "source": "ghsa-malware", "id": "GHSA-xxxx-xxxx-xxxx",
        "import_time": "2023-07-30T21:58:29.682801424Z", "modified_time": "2022-06-20T20:09:44Z",
        "sha256": "135827dd322d9568f577a805c46d870bbae74801b6ad2734fe24221d7d27a47f"}]});
    let cwes = json!({"cwes": [{"cweId": "CWE-506", "description": "The product contains code that appears to be malicious in nature.", "name": "Embedded Malicious Code"}]});
    let details = "\n---\n_-= Per source details. Do not edit below this line.=-_\n\n## Source: ghsa-malware\nAny computer that has this package installed or running should be considered fully compromised.\n";
    let base = |eco: &str, name: &str, affected_rest: serde_json::Value| {
        let mut a = json!({"package": {"ecosystem": eco, "name": name}});
        if let (Some(o), Some(rest)) = (a.as_object_mut(), affected_rest.as_object()) {
            o.extend(rest.clone());
        }
        json!({
            "modified": "2024-10-24T01:01:58Z", "published": "2024-06-25T13:33:39Z",
            "schema_version": "1.5.0", "id": "MAL-0000-0", "aliases": ["GHSA-xxxx-xxxx-xxxx"],
            "summary": format!("Malicious code in {name} ({eco})"), "details": details,
            "affected": [a],
            "references": [{"type": "ADVISORY", "url": "https://advisory.example/GHSA-xxxx"}],
            "database_specific": origins.clone(),
        })
    };
    vec![
        base(
            "npm",
            "bench-npm",
            json!({"ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}]}], "database_specific": cwes}),
        ),
        base(
            "npm",
            "@bench/scoped",
            json!({"ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}]}], "database_specific": cwes}),
        ),
        base(
            "PyPI",
            "bench-py",
            json!({"ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}]}]}),
        ),
        base(
            "PyPI",
            "bench-py-exact",
            json!({"versions": ["1.0.0", "1.0.1"]}),
        ),
        base(
            "npm",
            "bench-exact",
            json!({"versions": ["99.99.99", "1.0.0"]}),
        ),
        base(
            "npm",
            "bench-last",
            json!({"ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}, {"last_affected": "1.23.0"}]}]}),
        ),
        base(
            "npm",
            "bench-both",
            json!({"ranges": [{"type": "SEMVER", "events": [{"introduced": "99.2.2"}]}], "versions": ["99.2.0", "99.2.1"]}),
        ),
    ]
}

fn templates_from(dir: &Path) -> anyhow::Result<Vec<serde_json::Value>> {
    let mut out = Vec::new();
    for e in walkdir_json(dir)? {
        let text = fs_err::read_to_string(&e)?;
        if let Ok(v) = serde_json::from_str::<serde_json::Value>(&text)
            && v.get("affected").is_some()
        {
            out.push(v);
        }
    }
    anyhow::ensure!(!out.is_empty(), "no OSV records in {}", dir.display());
    Ok(out)
}

fn walkdir_json(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs_err::read_dir(&d)? {
            let p = e?.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "json") {
                out.push(p);
            }
        }
    }
    out.sort();
    Ok(out)
}

/// Give template `t` the identity of record `i`: id, package names
/// (`<name>-b<i>`), and `modified`.
fn instantiate(
    t: &serde_json::Value,
    i: usize,
    modified: &str,
) -> (String, String, serde_json::Value) {
    let mut v = t.clone();
    let id = format!("MAL-BENCH-{i}");
    v["id"] = json!(id);
    v["modified"] = json!(modified);
    let mut eco = String::from("npm");
    let mut first = String::new();
    if let Some(aff) = v["affected"].as_array_mut() {
        for a in aff {
            if let Some(n) = a["package"]["name"].as_str() {
                let name = format!("{n}-b{i}");
                if first.is_empty() {
                    first.clone_from(&name);
                    eco = a["package"]["ecosystem"]
                        .as_str()
                        .unwrap_or("npm")
                        .to_owned();
                }
                a["package"]["name"] = json!(name);
            }
        }
    }
    // The OSSF repository's layout: one folder per package.
    (
        format!("{}/{first}/{id}.json", eco.to_ascii_lowercase()),
        first,
        v,
    )
}

fn pct(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        clippy::cast_precision_loss
    )]
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

#[allow(clippy::too_many_lines)]
fn bench(
    n: usize,
    sample: Option<&Path>,
    batch: usize,
    format: DbFormat,
) -> anyhow::Result<ExitCode> {
    let templates = match sample {
        Some(d) => templates_from(d)?,
        None => builtin_templates(),
    };
    let tmp = tempfile::tempdir()?;
    let src = tmp.path().join("osv");
    let data = tmp.path().join("data");
    let t0 = Instant::now();
    let mut names: Vec<(Ecosystem, String)> = Vec::with_capacity(n);
    let mut bytes = 0u64;
    for i in 0..n {
        let (rel, name, v) =
            instantiate(&templates[i % templates.len()], i, "2025-01-01T00:00:00Z");
        let path = src.join(rel);
        if let Some(p) = path.parent() {
            fs_err::create_dir_all(p)?;
        }
        let text = serde_json::to_string_pretty(&v)?;
        bytes += text.len() as u64;
        fs_err::write(&path, text)?;
        let eco = v["affected"][0]["package"]["ecosystem"]
            .as_str()
            .and_then(sluice_intel::osv::matched_ecosystem);
        if let Some(e) = eco
            && let Ok(pn) = PackageName::parse(e, &name)
        {
            names.push((e, pn.as_str().to_owned()));
        }
    }
    let generate = t0.elapsed();
    let store = Store::open(&data)?;
    let opts = ImportOptions { batch };
    let t = Instant::now();
    let first = sluice_intel::import_path(&store, &src, opts)?;
    let import_fresh = t.elapsed();
    let t = Instant::now();
    let second = sluice_intel::import_path(&store, &src, opts)?;
    let import_again = t.elapsed();
    // 1% of the records changed upstream (newer modified).
    let step = 100;
    for i in (0..n).step_by(step) {
        let (rel, _, v) = instantiate(&templates[i % templates.len()], i, "2025-06-01T00:00:00Z");
        fs_err::write(src.join(rel), serde_json::to_string_pretty(&v)?)?;
    }
    let t = Instant::now();
    let third = sluice_intel::import_path(&store, &src, opts)?;
    let import_changed = t.elapsed();
    let t = Instant::now();
    let index = IntelIndex::load(&store)?;
    let load_all = t.elapsed();

    // Look-ups: the gate's path (LiveIntel: generation read + cache or one
    // indexed query), cold then warm, and the in-memory index; half hits,
    // half misses.
    let probes = 20_000.min(names.len().max(1));
    let mut probe_names: Vec<(Ecosystem, String)> = Vec::with_capacity(probes);
    for k in 0..probes {
        if k % 2 == 0 && !names.is_empty() {
            probe_names.push(names[(k * 7919) % names.len()].clone());
        } else {
            probe_names.push((Ecosystem::Npm, format!("not-listed-{k}")));
        }
    }
    let live = LiveIntel::new();
    let mut cold = Vec::with_capacity(probes);
    let mut warm = Vec::with_capacity(probes);
    let mut matched = 0usize;
    for pass in 0..2 {
        for (eco, name) in &probe_names {
            let t = Instant::now();
            let p = live.package(&store, *eco, name)?;
            let hit = p.first_match("1.0.0").is_some();
            let d = t.elapsed();
            if pass == 0 {
                cold.push(d);
                matched += usize::from(hit);
            } else {
                warm.push(d);
            }
        }
    }
    let mut mem = Vec::with_capacity(probes);
    for (eco, name) in &probe_names {
        let t = Instant::now();
        let _ = index.package(*eco, name).map(|p| p.first_match("1.0.0"));
        mem.push(t.elapsed());
    }
    cold.sort();
    warm.sort();
    mem.sort();
    let us = |d: Duration| d.as_secs_f64() * 1e6;
    let figures = json!({
        "records": n,
        "templates": templates.len(),
        "bytes": bytes,
        "generate_s": generate.as_secs_f64(),
        "import_fresh_s": import_fresh.as_secs_f64(),
        "import_fresh_records_per_s": first.records as f64 / import_fresh.as_secs_f64().max(1e-9),
        "import_unchanged_s": import_again.as_secs_f64(),
        "import_1pct_changed_s": import_changed.as_secs_f64(),
        "fresh": {"new": first.new, "errors": first.errors.len()},
        "unchanged": {"unchanged": second.unchanged, "new": second.new, "updated": second.updated},
        "changed": {"updated": third.updated, "unchanged": third.unchanged},
        "load_all_s": load_all.as_secs_f64(),
        "index_packages": index.packages(),
        "lookups": probes,
        "lookups_matched": matched,
        "gate_cold_us": {"p50": us(pct(&cold, 0.5)), "p99": us(pct(&cold, 0.99))},
        "gate_warm_us": {"p50": us(pct(&warm, 0.5)), "p99": us(pct(&warm, 0.99))},
        "index_us": {"p50": us(pct(&mem, 0.5)), "p99": us(pct(&mem, 0.99))},
    });
    if format == DbFormat::Json {
        println!("{figures}");
    } else {
        println!(
            "generated {n} records from {} template(s) ({:.1} MB) in {:.1} s",
            templates.len(),
            bytes as f64 / 1e6,
            generate.as_secs_f64()
        );
        println!(
            "import, fresh:            {:>7.2} s  ({:.0} records/s; {} new, {} errors)",
            import_fresh.as_secs_f64(),
            first.records as f64 / import_fresh.as_secs_f64().max(1e-9),
            first.new,
            first.errors.len()
        );
        println!(
            "import, all unchanged:    {:>7.2} s  ({} unchanged)",
            import_again.as_secs_f64(),
            second.unchanged
        );
        println!(
            "import, 1% changed:       {:>7.2} s  ({} updated)",
            import_changed.as_secs_f64(),
            third.updated
        );
        println!(
            "load the whole list:      {:>7.2} s  ({} packages)",
            load_all.as_secs_f64(),
            index.packages()
        );
        println!(
            "gate look-up, cold:       p50 {:>6.1} µs  p99 {:>6.1} µs  ({probes} look-ups, {matched} matched)",
            us(pct(&cold, 0.5)),
            us(pct(&cold, 0.99))
        );
        println!(
            "gate look-up, cached:     p50 {:>6.1} µs  p99 {:>6.1} µs",
            us(pct(&warm, 0.5)),
            us(pct(&warm, 0.99))
        );
        println!(
            "in-memory index look-up:  p50 {:>6.2} µs  p99 {:>6.2} µs",
            us(pct(&mem, 0.5)),
            us(pct(&mem, 0.99))
        );
    }
    // Removing the generated files can take longer than the benchmark
    // (one unlink per record); say so rather than look stuck.
    eprintln!("removing the {n} generated files…");
    drop(store);
    tmp.close()?;
    Ok(ExitCode::SUCCESS)
}
