//! `sluice admin`: act on a gate's store (works while `sluice serve` runs;
//! every change takes effect on the gate's next request).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use sluice_model::{PackageSpec, VerdictLevel};
use sluice_registry::policy::{Gate, Policy, load_facts};
use sluice_store::{Action, Store};

/// Arguments of `sluice admin`.
#[derive(Debug, clap::Args)]
pub struct AdminArgs {
    /// The gate's configuration file (for its data dir and policy).
    #[arg(long, value_name = "FILE", env = "SLUICE_CONFIG", global = true)]
    pub config: Option<PathBuf>,
    /// The gate's data dir (overrides the configuration; default ./.sluice).
    #[arg(long, value_name = "DIR", global = true)]
    pub data_dir: Option<PathBuf>,
    /// Print JSON instead of text.
    #[arg(long, global = true)]
    pub json: bool,
    #[command(subcommand)]
    pub command: AdminCommand,
}

/// Admin actions.
#[derive(Debug, clap::Subcommand)]
pub enum AdminCommand {
    /// Block a package (`pypi:NAME`, `npm:NAME`) or one version
    /// (`pypi:NAME==1.0`, `npm:NAME@1.0.0`): hidden from metadata and its
    /// files refused with 403, cached copies included.
    Block {
        /// The package or version.
        spec: String,
        /// Why (recorded and shown to clients).
        #[arg(long, required = true)]
        reason: String,
        /// Who decided (default: $USER).
        #[arg(long)]
        by: Option<String>,
    },
    /// Remove a manual block. With --waive, allow it even if its verdict
    /// would refuse it (a recorded waiver).
    Unblock {
        /// The package or version.
        spec: String,
        /// Why.
        #[arg(long, default_value = "")]
        reason: String,
        /// Record an allow decision that overrides the verdict.
        #[arg(long)]
        waive: bool,
        /// Who decided (default: $USER).
        #[arg(long)]
        by: Option<String>,
    },
    /// List manual decisions and artifacts judged malicious or suspicious.
    List,
    /// List artifacts held for review, or approve/reject one.
    Review {
        /// `approve` or `reject`, followed by a spec; nothing = list.
        #[arg(value_name = "ACTION")]
        action: Option<String>,
        /// The package or version to approve or reject.
        spec: Option<String>,
        /// Why.
        #[arg(long, default_value = "")]
        reason: String,
        /// Who decided (default: $USER).
        #[arg(long)]
        by: Option<String>,
    },
    /// Which clients pulled a package or version, and when. With --intel:
    /// every version matched by an active imported record (`sluice db
    /// import`) that any client asked for — what did we serve that is now
    /// known bad?
    WhoPulled {
        /// `pypi:NAME[==VERSION]` or `npm:NAME[@VERSION]`.
        #[arg(required_unless_present = "intel", conflicts_with = "intel")]
        spec: Option<String>,
        /// Ask for every imported malicious-package record at once.
        #[arg(long)]
        intel: bool,
        /// Also print the individual requests (at most this many).
        #[arg(long, default_value_t = 0)]
        requests: u32,
    },
    /// Show the stored verdict report of an artifact by sha256.
    Show {
        /// The artifact's sha256.
        sha256: String,
    },
}

fn actor(by: Option<String>) -> String {
    by.or_else(|| std::env::var("USER").ok())
        .unwrap_or_else(|| "admin".to_owned())
}

fn spec(s: &str) -> anyhow::Result<PackageSpec> {
    s.parse::<PackageSpec>().map_err(|e| anyhow::anyhow!("{e}"))
}

/// Run `sluice admin`.
pub fn run(args: AdminArgs) -> anyhow::Result<ExitCode> {
    let cfg = super::serve::effective_config(args.config.as_ref(), args.data_dir)?;
    if !cfg.data_dir.join("sluice.db").exists() {
        anyhow::bail!(
            "no gate database in {} (pass --data-dir or --config)",
            cfg.data_dir.display()
        );
    }
    let store = Store::open(&cfg.data_dir).context("cannot open the gate's store")?;
    let policy = Policy::new(&cfg.policy)?;
    let intel = sluice_intel::LiveIntel::new();
    let out = |v: serde_json::Value, text: String| {
        if args.json {
            println!("{v}");
        } else {
            print!("{text}");
        }
    };
    match args.command {
        AdminCommand::Block {
            spec: s,
            reason,
            by,
        } => {
            let sp = spec(&s)?;
            let d = store.decide(
                sp.name.ecosystem(),
                sp.name.as_str(),
                sp.version.as_ref().map(|v| v.as_str()),
                Action::Block,
                &reason,
                &actor(by),
            )?;
            out(
                serde_json::json!(d),
                format!("blocked {sp} ({reason}) by {}\n", d.actor),
            );
        }
        AdminCommand::Unblock {
            spec: s,
            reason,
            waive,
            by,
        } => {
            let sp = spec(&s)?;
            let (eco, name) = (sp.name.ecosystem(), sp.name.as_str());
            let ver = sp.version.as_ref().map(|v| v.as_str());
            let who = actor(by);
            if waive {
                store.decide(eco, name, ver, Action::Allow, &reason, &who)?;
            } else {
                store.clear_decision(eco, name, ver, &reason, &who)?;
            }
            let facts = load_facts(&store, &intel, eco, name)?;
            let gate = ver.map(|v| policy.judge_now(eco, name, v, None, &facts));
            let note = match &gate {
                Some(Gate::Refuse { reason, .. }) => {
                    format!("note: {sp} is still refused: {reason} (use --waive to override)\n")
                }
                _ => String::new(),
            };
            out(
                serde_json::json!({"package": sp.to_string(), "waived": waive, "still_refused": gate.as_ref().is_some_and(|g| !g.allowed())}),
                format!(
                    "{} {sp}\n{note}",
                    if waive { "waived" } else { "unblocked" }
                ),
            );
        }
        AdminCommand::List => {
            let decisions = store.decisions()?;
            let flagged = store
                .artifacts_with_verdict(&[VerdictLevel::Malicious, VerdictLevel::Suspicious])?;
            let mut text = String::from("decisions:\n");
            for d in &decisions {
                let v = if d.version.is_empty() {
                    "*"
                } else {
                    &d.version
                };
                text.push_str(&format!(
                    "  {:<5} {}:{} {}  by {} at {}: {}\n",
                    d.action.as_str(),
                    d.ecosystem,
                    d.name,
                    v,
                    d.actor,
                    d.at,
                    d.reason
                ));
            }
            text.push_str("flagged artifacts:\n");
            for a in &flagged {
                text.push_str(&format!(
                    "  {:<10} {}:{} {} {} score {} sha256 {}\n",
                    a.verdict.as_str(),
                    a.ecosystem,
                    a.name,
                    a.version,
                    a.filename,
                    a.score,
                    a.sha256
                ));
            }
            let held = store.sandbox_jobs()?;
            if !held.is_empty() {
                text.push_str("held for a sandbox run:\n");
                for j in &held {
                    text.push_str(&format!(
                        "  {:<8} {}:{} {} {} since {}{}\n",
                        j.state.as_str(),
                        j.ecosystem,
                        j.name,
                        j.version,
                        j.filename,
                        j.queued_at,
                        j.error
                            .as_deref()
                            .map(|e| format!(": {e}"))
                            .unwrap_or_default()
                    ));
                }
            }
            out(
                serde_json::json!({"decisions": decisions, "flagged": flagged, "sandbox": held}),
                text,
            );
        }
        AdminCommand::Review {
            action,
            spec: s,
            reason,
            by,
        } => match action.as_deref() {
            None | Some("list") => {
                let mut held = Vec::new();
                let mut candidates = store
                    .artifacts_with_verdict(&[VerdictLevel::Malicious, VerdictLevel::Suspicious])?;
                // Clean artifacts held because their sandbox run failed.
                for j in store.sandbox_jobs()? {
                    if !candidates.iter().any(|a| a.sha256 == j.sha256)
                        && let Some(a) = store.artifact(&j.sha256)?
                    {
                        candidates.push(a);
                    }
                }
                for a in candidates {
                    let facts = load_facts(&store, &intel, a.ecosystem, &a.name)?;
                    if let Gate::Refuse {
                        kind: sluice_registry::policy::RefuseKind::Held,
                        ..
                    } = policy.judge_now(a.ecosystem, &a.name, &a.version, None, &facts)
                    {
                        held.push(a);
                    }
                }
                let mut text = format!("{} held for review\n", held.len());
                for a in &held {
                    text.push_str(&format!(
                        "  {}:{} {} {} ({} score {}) sha256 {}\n",
                        a.ecosystem,
                        a.name,
                        a.version,
                        a.filename,
                        a.verdict.as_str(),
                        a.score,
                        a.sha256
                    ));
                }
                out(serde_json::json!(held), text);
            }
            Some(act @ ("approve" | "reject")) => {
                let sp = spec(
                    s.as_deref()
                        .context("review approve|reject needs a package spec")?,
                )?;
                let action = if act == "approve" {
                    Action::Allow
                } else {
                    Action::Block
                };
                let d = store.decide(
                    sp.name.ecosystem(),
                    sp.name.as_str(),
                    sp.version.as_ref().map(|v| v.as_str()),
                    action,
                    &reason,
                    &actor(by),
                )?;
                out(
                    serde_json::json!(d),
                    format!("{act}d {sp} by {}\n", d.actor),
                );
            }
            Some(other) => {
                anyhow::bail!("unknown review action `{other}` (approve, reject or nothing)")
            }
        },
        AdminCommand::WhoPulled {
            intel: true,
            requests,
            ..
        } => {
            let (v, text) = who_pulled_intel(&store, &intel, requests)?;
            out(v, text);
        }
        AdminCommand::WhoPulled {
            spec: s, requests, ..
        } => {
            let sp = spec(
                s.as_deref()
                    .context("who-pulled needs a package spec or --intel")?,
            )?;
            let (eco, name) = (sp.name.ecosystem(), sp.name.as_str());
            let ver = sp.version.as_ref().map(|v| v.as_str());
            let pullers = store.who_pulled(eco, name, ver)?;
            let rows = if requests > 0 {
                store.downloads_of(eco, name, ver, requests)?
            } else {
                Vec::new()
            };
            let mut text = format!("{sp}: {} client(s)\n", pullers.len());
            for p in &pullers {
                text.push_str(&format!(
                    "  {}  versions {}  requests {} (served {})  first {}  last {}  from {}\n",
                    p.principal, p.versions, p.requests, p.served, p.first, p.last, p.addrs
                ));
            }
            for r in &rows {
                text.push_str(&format!(
                    "    {} {} {} {} {} {} {}\n",
                    r.at,
                    r.principal,
                    r.addr,
                    r.filename,
                    if r.allowed { "served" } else { "refused" },
                    r.verdict,
                    r.user_agent
                ));
            }
            out(
                serde_json::json!({"clients": pullers, "requests": rows}),
                text,
            );
        }
        AdminCommand::Show { sha256 } => match store.report(&sha256.to_ascii_lowercase())? {
            Some(r) => println!("{r}"),
            None => anyhow::bail!("no artifact with sha256 {sha256}"),
        },
    }
    Ok(ExitCode::SUCCESS)
}

/// `who-pulled --intel`: every requested version that an active imported
/// record matches, with its clients. Only packages named by a record and
/// present in the audit log are read (an indexed join), then each of
/// their requested versions is matched.
fn who_pulled_intel(
    store: &Store,
    intel: &sluice_intel::LiveIntel,
    requests: u32,
) -> anyhow::Result<(serde_json::Value, String)> {
    let mut found = Vec::new();
    let mut text = String::new();
    let (mut served, mut clients) = (0u64, std::collections::BTreeSet::new());
    for (eco_s, name) in store.intel_packages_downloaded()? {
        let Ok(eco) = eco_s.parse::<sluice_model::Ecosystem>() else {
            continue;
        };
        let pkg = intel.package(store, eco, &name)?;
        for version in store.downloaded_versions(&eco_s, &name)? {
            let matches = pkg.matches(&version);
            if matches.is_empty() {
                continue;
            }
            let pullers = store.who_pulled(eco, &name, Some(&version))?;
            let rows = if requests > 0 {
                store.downloads_of(eco, &name, Some(&version), requests)?
            } else {
                Vec::new()
            };
            let ids: Vec<&str> = matches.iter().map(|m| m.id.as_str()).collect();
            text.push_str(&format!(
                "{eco}:{name} {version}  known malicious: {}  {} client(s)\n",
                ids.join(", "),
                pullers.len()
            ));
            for p in &pullers {
                served += p.served;
                clients.insert(p.principal.clone());
                text.push_str(&format!(
                    "  {}  requests {} (served {})  first {}  last {}  from {}\n",
                    p.principal, p.requests, p.served, p.first, p.last, p.addrs
                ));
            }
            for r in &rows {
                text.push_str(&format!(
                    "    {} {} {} {} {}\n",
                    r.at,
                    r.principal,
                    r.filename,
                    if r.allowed { "served" } else { "refused" },
                    r.reason
                ));
            }
            found.push(serde_json::json!({
                "ecosystem": eco, "name": name, "version": version,
                "records": matches, "clients": pullers, "requests": rows,
            }));
        }
    }
    text.push_str(&format!(
        "{} known-bad version(s) requested by {} client(s); {} download(s) served\n",
        found.len(),
        clients.len(),
        served
    ));
    Ok((
        serde_json::json!({"versions": found, "clients": clients, "served": served}),
        text,
    ))
}
