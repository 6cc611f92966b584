//! `sluice train`: fit the learned scorer on the malicious-dev set and the
//! benign caches, measure it on what it never saw, and write the model
//! file (`crates/sluice-analyze/model/scorer.json`).
//!
//! Every archive is read as bytes by `sluice_archive::read_path` and
//! analysed like `sluice scan` does (rules, then name findings); nothing is
//! installed, unpacked to disk or run, and nothing goes over the network.
//! The malicious set is split by cluster with `learn::split_of`: only the
//! tuning half and the `--benign` folders are trained on; the held-out half
//! and the `--holdout-benign` folders are only measured.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use serde_json::json;
use sluice_analyze::learn::{self, Feature, ScorerModel, Split, train::Sample};
use sluice_model::VerdictLevel;

use crate::commands::scan::artifacts_in;

/// Arguments of `sluice train`.
#[derive(Debug, clap::Args)]
pub struct TrainArgs {
    /// The malicious set: a folder with `MANIFEST.tsv` (columns `path`,
    /// `cluster`; `tags` are never read).
    #[arg(long, value_name = "DIR")]
    pub malicious: PathBuf,
    /// Folders of benign package artifacts to train on.
    #[arg(long, value_name = "DIR", num_args = 1.., required = true)]
    pub benign: Vec<PathBuf>,
    /// Folders of benign artifacts never trained on: false positives are
    /// measured here.
    #[arg(long, value_name = "DIR", num_args = 1..)]
    pub holdout_benign: Vec<PathBuf>,
    /// Where to write the model file.
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// A label stored in the model file (e.g. the date or commit); nothing
    /// time-dependent is stored unless given here.
    #[arg(long, value_name = "TEXT")]
    pub label: Option<String>,
    /// L2 penalty.
    #[arg(long)]
    pub l2: Option<f64>,
    /// Largest share of benign training packages allowed at or above the
    /// suspicious threshold (out of fold).
    #[arg(long)]
    pub max_benign_suspicious: Option<f64>,
    /// Write every package's features and probabilities here (TSV) for
    /// inspection.
    #[arg(long, value_name = "FILE")]
    pub dump: Option<PathBuf>,
    /// Take the features from a previous `--dump` instead of scanning
    /// again (every artifact must be in it): for trying hyper-parameters
    /// and feature sets quickly.
    #[arg(long, value_name = "FILE")]
    pub features_in: Option<PathBuf>,
    /// Leave out features whose name starts with this prefix (repeatable),
    /// e.g. `archive:` or `manifest:no_`.
    #[arg(long, value_name = "PREFIX")]
    pub exclude: Vec<String>,
    /// Keep the feature families left out by default (package size and
    /// documentation: see `DEFAULT_EXCLUDE`).
    #[arg(long)]
    pub keep_shape: bool,
    /// Worker threads (default: one per core).
    #[arg(long, short = 'j')]
    pub jobs: Option<usize>,
}

/// Which set a package belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Set {
    MalTune,
    MalHoldout,
    Benign,
    BenignHoldout,
}

impl Set {
    fn name(self) -> &'static str {
        match self {
            Set::MalTune => "malicious, tuning half (trained on)",
            Set::MalHoldout => "malicious, held-out half",
            Set::Benign => "benign, trained on",
            Set::BenignHoldout => "benign, held out",
        }
    }
    fn key(self) -> &'static str {
        match self {
            Set::MalTune => "malicious_tune",
            Set::MalHoldout => "malicious_holdout",
            Set::Benign => "benign_train",
            Set::BenignHoldout => "benign_holdout",
        }
    }
    fn malicious(self) -> bool {
        matches!(self, Set::MalTune | Set::MalHoldout)
    }
}

struct Item {
    path: PathBuf,
    set: Set,
    group: String,
}

/// What one scan left for training and measuring.
struct Scanned {
    features: Vec<Feature>,
    rule_level: VerdictLevel,
}

/// Run `sluice train`.
#[allow(clippy::too_many_lines)]
pub fn run(args: TrainArgs) -> anyhow::Result<ExitCode> {
    let manifest_path = args.malicious.join("MANIFEST.tsv");
    let manifest = fs_err::read(&manifest_path)?;
    let mut items = Vec::new();
    let text = String::from_utf8_lossy(&manifest);
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap_or_default().split('\t').collect();
    let col = |name: &str| {
        header
            .iter()
            .position(|h| *h == name)
            .with_context(|| format!("{}: no `{name}` column", manifest_path.display()))
    };
    let (c_path, c_cluster) = (col("path")?, col("cluster")?);
    for line in lines.filter(|l| !l.trim().is_empty()) {
        let cells: Vec<&str> = line.split('\t').collect();
        let (Some(p), Some(c)) = (cells.get(c_path), cells.get(c_cluster)) else {
            anyhow::bail!("{}: short row `{line}`", manifest_path.display());
        };
        let set = match learn::split_of(c) {
            Split::Tune => Set::MalTune,
            Split::Holdout => Set::MalHoldout,
        };
        items.push(Item {
            path: args.malicious.join(p),
            set,
            group: (*c).to_owned(),
        });
    }
    let mut benign_manifest = BTreeMap::new();
    for (dirs, set) in [
        (&args.benign, Set::Benign),
        (&args.holdout_benign, Set::BenignHoldout),
    ] {
        let mut names = Vec::new();
        for d in dirs {
            for p in artifacts_in(d)? {
                let name = file_name(&p);
                names.push(name.clone());
                items.push(Item {
                    path: p,
                    set,
                    group: name,
                });
            }
        }
        names.sort();
        benign_manifest.insert(
            set.key(),
            json!({
                "artifacts": names.len(),
                "names_sha256": sluice_model::Sha256::of(names.join("\n").as_bytes()).to_hex(),
                "folders": dirs.iter().map(|d| last_two(d)).collect::<Vec<_>>(),
            }),
        );
    }
    anyhow::ensure!(
        items.iter().any(|i| i.set == Set::MalTune) && items.iter().any(|i| i.set == Set::Benign),
        "nothing to train on"
    );
    let mut scanned = match &args.features_in {
        Some(p) => from_dump(p, &items)?,
        None => scan_all(&items, args.jobs)?,
    };
    let mut exclude = if args.keep_shape {
        Vec::new()
    } else {
        default_exclusions()
    };
    exclude.extend(args.exclude.iter().cloned());
    for s in scanned.iter_mut().flatten() {
        s.features
            .retain(|f| !exclude.iter().any(|x| f.name.starts_with(x.as_str())));
    }

    // Training samples: tuning malware (each cluster weighs the same) and
    // the benign training folders.
    let mut cluster_rows: BTreeMap<&str, usize> = BTreeMap::new();
    for i in items.iter().filter(|i| i.set == Set::MalTune) {
        *cluster_rows.entry(i.group.as_str()).or_default() += 1;
    }
    let mut samples = Vec::new();
    let mut sample_of = vec![None; items.len()];
    for (k, (i, s)) in items.iter().zip(&scanned).enumerate() {
        let Some(s) = s else { continue };
        if !matches!(i.set, Set::MalTune | Set::Benign) {
            continue;
        }
        #[allow(clippy::cast_precision_loss)]
        let weight = if i.set == Set::MalTune {
            1.0 / cluster_rows[i.group.as_str()] as f64
        } else {
            1.0
        };
        sample_of[k] = Some(samples.len());
        samples.push(Sample {
            name: i.path.display().to_string(),
            features: s.features.clone(),
            malicious: i.set.malicious(),
            weight,
            group: i.group.clone(),
        });
    }
    let mut cfg = learn::train::Config::default();
    if let Some(l2) = args.l2 {
        cfg.l2 = l2;
    }
    if let Some(m) = args.max_benign_suspicious {
        cfg.max_benign_suspicious = m;
    }
    eprintln!(
        "training on {} samples ({} malicious, {} benign) …",
        samples.len(),
        samples.iter().filter(|s| s.malicious).count(),
        samples.iter().filter(|s| !s.malicious).count()
    );
    let (mut model, oof) = learn::train::train(&samples, &cfg);

    // Measure: rules alone, and rules + model (the stronger level), per set.
    let level_of = |p: f64| {
        if p >= model.malicious_at {
            VerdictLevel::Malicious
        } else if p >= model.suspicious_at {
            VerdictLevel::Suspicious
        } else {
            VerdictLevel::Clean
        }
    };
    let mut counts: BTreeMap<Set, [[usize; 3]; 3]> = BTreeMap::new();
    let mut n_set: BTreeMap<Set, usize> = BTreeMap::new();
    let mut errors: BTreeMap<Set, usize> = BTreeMap::new();
    let mut dump = String::from(
        "set\tgroup\tpath\trule_level\tfeatures\tprobability\tout_of_fold\tmodel_level\n",
    );
    let mut flagged_benign = Vec::new();
    for (k, (i, s)) in items.iter().zip(&scanned).enumerate() {
        *n_set.entry(i.set).or_default() += 1;
        let Some(s) = s else {
            *errors.entry(i.set).or_default() += 1;
            dump.push_str(&format!(
                "{}\t{}\t{}\tunreadable\t\t-\t-\t-\n",
                i.set.key(),
                i.group,
                i.path.display()
            ));
            continue;
        };
        let p = learn::model::sigmoid(model.logit(&s.features));
        let ml = level_of(p).max(s.rule_level);
        // [scorer][level]: 0 rules, 1 model (stronger of both), 2 model out of fold
        let c = counts.entry(i.set).or_default();
        c[0][s.rule_level as usize] += 1;
        c[1][ml as usize] += 1;
        let oof_p = sample_of[k].map(|j| oof[j]);
        c[2][level_of(oof_p.unwrap_or(p)).max(s.rule_level) as usize] += 1;
        if !i.set.malicious() && ml > VerdictLevel::Clean {
            flagged_benign.push(format!(
                "  {} {} p={p:.3} ({})",
                ml,
                i.path.display(),
                i.set.name()
            ));
        }
        if args.dump.is_some() {
            let feats: Vec<String> = s
                .features
                .iter()
                .map(|f| format!("{}={}", f.name, f.value))
                .collect();
            dump.push_str(&format!(
                "{}\t{}\t{}\t{}\t{}\t{p:.4}\t{}\t{}\n",
                i.set.key(),
                i.group,
                i.path.display(),
                s.rule_level,
                feats.join(" "),
                oof_p.map_or_else(|| "-".to_owned(), |v| format!("{v:.4}")),
                level_of(p),
            ));
        }
    }
    let mut figures = serde_json::Map::new();
    println!(
        "suspicious from p ≥ {:.3}, malicious from p ≥ {:.3}; {} weights",
        model.suspicious_at,
        model.malicious_at,
        model.weights.len()
    );
    println!(
        "{:38} {:>5} {:>6} | {:>10} {:>10} | {:>10} {:>10}",
        "set", "n", "errors", "rules s+", "rules mal", "model s+", "model mal"
    );
    for (set, c) in &counts {
        let n = n_set[set];
        let e = errors.get(set).copied().unwrap_or(0);
        let s_plus = |k: usize| c[k][1] + c[k][2];
        let pct = |x: usize| {
            #[allow(clippy::cast_precision_loss)]
            let v = 100.0 * x as f64 / n.max(1) as f64;
            (v * 100.0).round() / 100.0
        };
        println!(
            "{:38} {:>5} {:>6} | {:>9.2}% {:>9.2}% | {:>9.2}% {:>9.2}%",
            set.name(),
            n,
            e,
            pct(s_plus(0)),
            pct(c[0][2]),
            pct(s_plus(1)),
            pct(c[1][2])
        );
        let mut fig = json!({
            "n": n,
            "unreadable": e,
            "rules": {"suspicious_or_worse": s_plus(0), "malicious": c[0][2],
                      "suspicious_or_worse_pct": pct(s_plus(0)), "malicious_pct": pct(c[0][2])},
            "model": {"suspicious_or_worse": s_plus(1), "malicious": c[1][2],
                      "suspicious_or_worse_pct": pct(s_plus(1)), "malicious_pct": pct(c[1][2])},
        });
        if matches!(set, Set::MalTune | Set::Benign) {
            fig["model_out_of_fold"] = json!({
                "suspicious_or_worse": s_plus(2), "malicious": c[2][2],
                "suspicious_or_worse_pct": pct(s_plus(2)), "malicious_pct": pct(c[2][2]),
            });
        }
        figures.insert(set.key().to_owned(), fig);
    }
    for l in &flagged_benign {
        println!("{l}");
    }
    model.trained_on = json!({
        "label": args.label,
        "split": "a cluster is in the tuning half when sha256(\"sluice-split-v1:\" + cluster)[0] is even; only the tuning half is trained on",
        "malicious_manifest_sha256": sluice_model::Sha256::of(&manifest).to_hex(),
        "malicious_folder": last_two(&args.malicious),
        "malicious_tune_rows": items.iter().filter(|i| i.set == Set::MalTune).count(),
        "malicious_holdout_rows": items.iter().filter(|i| i.set == Set::MalHoldout).count(),
        "benign": benign_manifest,
        "excluded_features": exclude,
        "analysis": "sluice scan defaults: rules, then name findings (builtin name index); tests/docs parsed only when they could matter",
    });
    model.figures = serde_json::Value::Object(figures);
    let text = model.to_file_text();
    fs_err::write(&args.out, &text)?;
    println!(
        "wrote {} ({} bytes, {})",
        args.out.display(),
        text.len(),
        ScorerModel::parse(&text).map_err(anyhow::Error::msg)?.id()
    );
    if let Some(p) = &args.dump {
        fs_err::write(p, dump)?;
    }
    Ok(ExitCode::SUCCESS)
}

/// Feature families left out by default: facts that say how big or how
/// well documented a package is rather than what its code does. The benign
/// training set (the most popular packages) is far larger and better
/// documented than a typical package, so these learn "small means
/// malicious", which flags ordinary small packages.
fn default_exclusions() -> Vec<String> {
    DEFAULT_EXCLUDE.iter().map(|s| (*s).to_owned()).collect()
}

/// See [`default_exclusions`].
pub const DEFAULT_EXCLUDE: &[&str] = &[
    "archive:",
    "code:py_files",
    "code:js_files",
    "code:no_source",
    "manifest:no_",
    "manifest:dependencies",
    "manifest:entry_points",
];

/// Scan every item as `sluice scan` does (rules, then name findings).
fn scan_all(items: &[Item], jobs: Option<usize>) -> anyhow::Result<Vec<Option<Scanned>>> {
    eprintln!("scanning {} artifacts …", items.len());
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(jobs.unwrap_or(0))
        .build()?;
    let options = sluice_analyze::Options::default();
    let names = sluice_names::Engine::builtin();
    let limits = sluice_archive::Limits::default();
    Ok(crate::schedule::largest_first(
        &pool,
        items,
        |i| crate::schedule::file_size(&i.path),
        |i| {
            let tree = sluice_archive::read_path(&i.path, &limits).ok()?;
            let mut r = sluice_analyze::analyze(&i.path.display().to_string(), &tree, &options);
            crate::names_hook::add_name_findings(&mut r, &tree, names);
            Some(Scanned {
                features: learn::extract(&r),
                rule_level: r.verdict.level,
            })
        },
    ))
}

/// Features of every item from a `--dump` file (unreadable artifacts stay
/// unreadable; an artifact missing from the file is an error).
fn from_dump(p: &Path, items: &[Item]) -> anyhow::Result<Vec<Option<Scanned>>> {
    let text = fs_err::read_to_string(p)?;
    let mut by_path: BTreeMap<&str, Option<Scanned>> = BTreeMap::new();
    for line in text.lines().skip(1) {
        let cells: Vec<&str> = line.split('\t').collect();
        let (Some(path), Some(level), Some(feats)) = (cells.get(2), cells.get(3), cells.get(4))
        else {
            anyhow::bail!("{}: short row", p.display());
        };
        if *level == "unreadable" {
            by_path.insert(path, None);
            continue;
        }
        let mut features = Vec::new();
        for kv in feats.split(' ').filter(|kv| !kv.is_empty()) {
            let (k, v) = kv
                .rsplit_once('=')
                .with_context(|| format!("{}: bad feature `{kv}`", p.display()))?;
            features.push(Feature {
                name: k.to_owned(),
                value: v.parse()?,
                rule: None,
                file: None,
                line: None,
            });
        }
        by_path.insert(
            path,
            Some(Scanned {
                features,
                rule_level: level.parse().map_err(anyhow::Error::msg)?,
            }),
        );
    }
    items
        .iter()
        .map(|i| {
            let key = i.path.display().to_string();
            by_path
                .remove(key.as_str())
                .with_context(|| format!("{key} is not in {}", p.display()))
        })
        .collect()
}

fn file_name(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// The last two components of a folder (`top300/npm`): enough to say what
/// it was without the machine's own paths.
fn last_two(p: &Path) -> String {
    let parts: Vec<String> = p
        .components()
        .filter_map(|c| match c {
            std::path::Component::Normal(s) => Some(s.to_string_lossy().into_owned()),
            _ => None,
        })
        .collect();
    parts[parts.len().saturating_sub(2)..].join("/")
}
