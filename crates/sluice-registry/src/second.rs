//! The gate's second opinion: the dynamic sandbox, behind a trait so the
//! gate can be tested without root, and the merge of its findings into the
//! static report.
//!
//! Package code is executed only by [`SandboxOpinion`], through
//! `sluice_sandbox::run`, which runs it in its own network namespace (only
//! a loopback device) under bubblewrap. Nothing else in this crate runs
//! package code.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::{Value, json};
use sluice_analyze::FileRole;
use sluice_model::{Ecosystem, Finding, Report, VerdictLevel};

use crate::config::{SandboxConfig, SandboxRun};

/// What a second opinion observed while running an artifact.
#[derive(Clone, Debug, Default)]
pub struct Observed {
    /// Behaviour findings (`DYN7xx` for the real sandbox).
    pub findings: Vec<Finding>,
    /// Notes for the report's warnings (limits hit, phases that did not
    /// complete).
    pub warnings: Vec<String>,
    /// A summary of the run, kept as evidence next to the findings.
    pub evidence: Value,
}

/// Runs an artifact and reports its behaviour. The default,
/// [`SandboxOpinion`], is `sluice-sandbox`; tests substitute a fake.
pub trait SecondOpinion: Send + Sync + 'static {
    /// Run the artifact stored at `path` (named as upstream names it).
    /// Called on a blocking thread; may take minutes.
    ///
    /// # Errors
    /// The run could not happen (sandbox unavailable on this machine,
    /// isolation could not be built, input not installable). A hostile
    /// package is not an error: it produces findings.
    fn run(
        &self,
        eco: Ecosystem,
        name: &str,
        version: &str,
        path: &Path,
    ) -> Result<Observed, String>;
}

/// The real second opinion: `sluice_sandbox::run` with the configured
/// limits. Its prerequisites (root, bubblewrap, strace, nftables, …) are
/// checked before every run, so a missing one is an error for that
/// artifact (and the policy's `scan_error` decides), never a clean result.
#[derive(Clone, Debug)]
pub struct SandboxOpinion {
    options: sluice_sandbox::SandboxOptions,
}

impl SandboxOpinion {
    /// The sandbox with `cfg`'s limits, working under `work_root` (a folder
    /// inside the gate's data dir).
    ///
    /// The dependency profile is used when one was built under the same
    /// data dir (`sluice sandbox --refresh-profile --data-dir DIR`): the
    /// gate itself never fetches it.
    #[must_use]
    pub fn new(cfg: &SandboxConfig, work_root: PathBuf) -> Self {
        let python_profile = work_root
            .parent()
            .and_then(sluice_sandbox::profile::find_profile);
        Self {
            options: sluice_sandbox::SandboxOptions {
                phase_timeout: Duration::from_secs(cfg.timeout_secs.max(1)),
                memory_bytes: cfg.memory_mib.max(64).saturating_mul(1 << 20),
                work_root: Some(work_root),
                python_profile,
                ..sluice_sandbox::SandboxOptions::default()
            },
        }
    }
}

/// The last `max` characters of `s`.
fn tail(s: &str, max: usize) -> String {
    let n = s.chars().count();
    if n <= max {
        s.to_owned()
    } else {
        format!("…{}", s.chars().skip(n - max).collect::<String>())
    }
}

impl SecondOpinion for SandboxOpinion {
    fn run(
        &self,
        eco: Ecosystem,
        _name: &str,
        _version: &str,
        path: &Path,
    ) -> Result<Observed, String> {
        sluice_sandbox::check_prerequisites().map_err(|e| e.to_string())?;
        if let Some(root) = &self.options.work_root {
            std::fs::create_dir_all(root)
                .map_err(|e| format!("sandbox work folder {}: {e}", root.display()))?;
        }
        let options = sluice_sandbox::SandboxOptions {
            ecosystem: Some(eco),
            ..self.options.clone()
        };
        let r = sluice_sandbox::run(path, &options).map_err(|e| e.to_string())?;
        let mut warnings: Vec<String> = r
            .limits_hit
            .iter()
            .map(|l| {
                format!(
                    "sandbox {} phase stopped at its {} limit: {}",
                    l.phase.as_str(),
                    l.limit,
                    l.detail
                )
            })
            .collect();
        for p in r.phases.iter().filter(|p| p.status != "completed") {
            warnings.push(format!(
                "sandbox {} phase {}{}: the run saw only what happened before",
                p.phase.as_str(),
                p.status,
                p.exit_code
                    .map(|c| format!(" (exit {c})"))
                    .unwrap_or_default()
            ));
        }
        let phases: Vec<Value> = r
            .phases
            .iter()
            .map(|p| {
                json!({
                    "phase": p.phase.as_str(),
                    "status": p.status,
                    "exit_code": p.exit_code,
                    "duration_ms": p.duration_ms,
                    "stdout_tail": tail(&p.stdout_tail, 2000),
                    "stderr_tail": tail(&p.stderr_tail, 2000),
                })
            })
            .collect();
        let evidence = json!({
            "tool": "sluice-sandbox",
            "phases": phases,
            "limits_hit": r.limits_hit,
            "stories": r.stories,
            "chain_steps": r.chain.len(),
            "network_records": r.network.len(),
            "install_import_ms": r.install_import_ms,
        });
        Ok(Observed {
            findings: r.findings,
            warnings,
            evidence,
        })
    }
}

/// Lifecycle scripts npm runs when a package is installed from a registry.
const NPM_INSTALL_SCRIPTS: [&str; 3] = ["preinstall", "install", "postinstall"];

/// Whether an artifact carries code that runs when it is installed:
/// setup.py (and modules its `cmdclass` imports) in an sdist, `.pth` files,
/// npm `preinstall`/`install`/`postinstall` scripts, or a root
/// `binding.gyp` (npm then runs `node-gyp rebuild`). Read from the archive
/// tree with the static judge's manifest reader.
///
/// # Errors
/// The archive cannot be read.
pub fn has_install_time_code(filename: &str, bytes: &[u8]) -> Result<bool, String> {
    let tree = sluice_archive::read_bytes(filename, bytes, &sluice_archive::Limits::default())
        .map_err(|e| e.to_string())?;
    let m = sluice_analyze::manifest::read(&tree);
    if m.metadata
        .install_hooks
        .keys()
        .any(|k| NPM_INSTALL_SCRIPTS.contains(&k.as_str()))
    {
        return Ok(true);
    }
    if m.ecosystem == Some(Ecosystem::Npm)
        && tree
            .files
            .iter()
            .any(|f| f.path == "package/binding.gyp" || f.path == "binding.gyp")
    {
        return Ok(true);
    }
    Ok(tree
        .files
        .iter()
        .any(|f| m.role_of(&f.path) == FileRole::Install))
}

/// Whether `run` asks for a sandbox run of an artifact the static judge
/// called `level`. `install_time` is only consulted in
/// [`SandboxRun::InstallTime`] mode.
pub(crate) fn wanted(
    run: SandboxRun,
    level: VerdictLevel,
    install_time: impl FnOnce() -> bool,
) -> bool {
    if level == VerdictLevel::Malicious {
        return false;
    }
    match run {
        SandboxRun::None => false,
        SandboxRun::Suspicious => level == VerdictLevel::Suspicious,
        SandboxRun::InstallTime => install_time(),
        SandboxRun::All => true,
    }
}

/// The combined verdict of an artifact.
#[derive(Clone, Debug)]
pub(crate) struct Merged {
    pub level: VerdictLevel,
    pub score: u32,
    pub report_json: String,
}

/// Merge a second opinion into the stored static report.
///
/// When the static report is a `sluice-analyze` report, the sandbox's
/// findings are added to it and it is judged again with the same scoring
/// (`sluice_analyze::add_findings`); the run's summary goes under a
/// `sandbox` key. For other scanners (the tests' fixed answers) the
/// sandbox findings are scored alone with `sluice_analyze::score::judge`
/// and the worse of the two verdicts is kept. Either way the merged
/// verdict is never better than the static one: a quiet run does not
/// prove anything.
pub(crate) fn merge(
    static_json: &str,
    static_level: VerdictLevel,
    static_score: u32,
    filename: &str,
    bytes: &[u8],
    observed: Observed,
) -> Merged {
    let at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let dynamic_rules: Vec<String> = observed
        .findings
        .iter()
        .map(|f| f.rule.as_str().to_owned())
        .collect();
    let sandbox = json!({
        "ran_at": at,
        "findings": dynamic_rules,
        "warnings": observed.warnings,
        "run": observed.evidence,
    });
    if let Ok(mut report) = serde_json::from_str::<Report>(static_json) {
        report.warnings.extend(observed.warnings.iter().cloned());
        match sluice_archive::read_bytes(filename, bytes, &sluice_archive::Limits::default()) {
            Ok(tree) => sluice_analyze::add_findings(&mut report, &tree, observed.findings),
            Err(_) => {
                report.findings.extend(observed.findings);
                sluice_analyze::rejudge(&mut report);
            }
        }
        let level = report.verdict.level.max(static_level);
        let score = report.verdict.score.max(static_score);
        let mut v = serde_json::to_value(&report).unwrap_or_else(|_| json!({}));
        if let Some(o) = v.as_object_mut() {
            o.insert("sandbox".into(), sandbox);
        }
        return Merged {
            level,
            score,
            report_json: v.to_string(),
        };
    }
    let dynamic = sluice_analyze::score::judge(&observed.findings);
    let level = dynamic.level.max(static_level);
    let score = dynamic.score.max(static_score);
    let static_value: Value =
        serde_json::from_str(static_json).unwrap_or_else(|_| Value::String(static_json.into()));
    let v = json!({
        "verdict": {"level": level, "score": score},
        "static": static_value,
        "sandbox": {
            "ran_at": sandbox["ran_at"],
            "verdict": dynamic,
            "findings": observed.findings,
            "warnings": sandbox["warnings"],
            "run": sandbox["run"],
        },
    });
    Merged {
        level,
        score,
        report_json: v.to_string(),
    }
}

/// The static report with a note that the sandbox could not run (kept as
/// the evidence when the policy's `scan_error` is `allow`).
pub(crate) fn note_error(static_json: &str, error: &str) -> String {
    let at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let mut v: Value =
        serde_json::from_str(static_json).unwrap_or_else(|_| json!({"static": static_json}));
    if let Some(o) = v.as_object_mut() {
        let note = Value::String(format!("sandbox did not run: {error}"));
        match o.get_mut("warnings") {
            Some(Value::Array(w)) => w.push(note),
            _ => {
                o.insert("warnings".into(), Value::Array(vec![note]));
            }
        }
        o.insert("sandbox".into(), json!({"ran_at": at, "error": error}));
    }
    v.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use sluice_model::{Confidence, RuleCode, Severity};

    fn npm(scripts: Value, files: &[(&str, &str)]) -> Vec<u8> {
        let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        let mut t = tar::Builder::new(gz);
        let pj = json!({"name": "x", "version": "1.0.0", "scripts": scripts}).to_string();
        let mut all = vec![("package/package.json".to_owned(), pj)];
        all.extend(
            files
                .iter()
                .map(|(p, c)| (format!("package/{p}"), (*c).to_owned())),
        );
        for (p, c) in &all {
            let mut h = tar::Header::new_gnu();
            h.set_size(c.len() as u64);
            h.set_mode(0o644);
            h.set_cksum();
            t.append_data(&mut h, p, c.as_bytes()).unwrap();
        }
        t.into_inner().unwrap().finish().unwrap()
    }

    #[test]
    fn install_time_code_is_found_in_npm_scripts_and_gyp() {
        let plain = npm(json!({"test": "node t.js"}), &[("index.js", "1;\n")]);
        assert!(!has_install_time_code("x-1.0.0.tgz", &plain).unwrap());
        let hook = npm(
            json!({"postinstall": "node setup.js"}),
            &[("setup.js", "1;\n")],
        );
        assert!(has_install_time_code("x-1.0.0.tgz", &hook).unwrap());
        // A hook that is only a shell command, no file of the package.
        let shell = npm(json!({"preinstall": "echo hi"}), &[]);
        assert!(has_install_time_code("x-1.0.0.tgz", &shell).unwrap());
        let gyp = npm(json!({}), &[("binding.gyp", "{}\n")]);
        assert!(has_install_time_code("x-1.0.0.tgz", &gyp).unwrap());
        assert!(has_install_time_code("x-1.0.0.tgz", b"not a tarball").is_err());
    }

    #[test]
    fn modes() {
        use SandboxRun as R;
        use VerdictLevel as V;
        let never = || panic!("install-time code looked up outside install-time mode");
        assert!(!wanted(R::None, V::Suspicious, never));
        assert!(wanted(R::Suspicious, V::Suspicious, never));
        assert!(!wanted(R::Suspicious, V::Clean, never));
        assert!(wanted(R::All, V::Clean, never));
        assert!(!wanted(R::All, V::Malicious, never));
        assert!(wanted(R::InstallTime, V::Clean, || true));
        assert!(!wanted(R::InstallTime, V::Suspicious, || false));
        assert!(!wanted(R::InstallTime, V::Malicious, || true));
    }

    fn dyn_finding(sev: Severity) -> Finding {
        let mut f = Finding::new(
            RuleCode::new("DYN701"),
            "test-behaviour",
            sev,
            Confidence::High,
            "sent the host name",
        );
        f.install_time = true;
        f
    }

    #[test]
    fn merge_never_lowers_and_adds_dynamic_findings() {
        // A fixed-answer scanner's report: the worse verdict wins.
        let fixed = r#"{"verdict":{"level":"suspicious","score":50}}"#;
        let m = merge(
            fixed,
            VerdictLevel::Suspicious,
            50,
            "x.whl",
            b"",
            Observed::default(),
        );
        assert_eq!(m.level, VerdictLevel::Suspicious);
        assert_eq!(m.score, 50);
        let m = merge(
            fixed,
            VerdictLevel::Suspicious,
            50,
            "x.whl",
            b"",
            Observed {
                findings: vec![dyn_finding(Severity::Critical)],
                ..Observed::default()
            },
        );
        assert_eq!(m.level, VerdictLevel::Malicious);
        let v: Value = serde_json::from_str(&m.report_json).unwrap();
        assert_eq!(v["sandbox"]["findings"][0]["rule"], "DYN701");
        assert_eq!(v["static"]["verdict"]["score"], 50);
        // A real report is judged again with its findings and the sandbox's.
        let bytes = npm(json!({}), &[("index.js", "module.exports = 1;\n")]);
        let tree =
            sluice_archive::read_bytes("x-1.0.0.tgz", &bytes, &sluice_archive::Limits::default())
                .unwrap();
        let report =
            sluice_analyze::analyze("npm:x@1.0.0", &tree, &sluice_analyze::Options::default());
        assert_eq!(report.verdict.level, VerdictLevel::Clean);
        let json = serde_json::to_string(&report).unwrap();
        let m = merge(
            &json,
            VerdictLevel::Clean,
            0,
            "x-1.0.0.tgz",
            &bytes,
            Observed {
                findings: vec![dyn_finding(Severity::Critical)],
                warnings: vec!["sandbox import phase failed".into()],
                evidence: json!({"phases": []}),
            },
        );
        assert_eq!(m.level, VerdictLevel::Malicious);
        let back: Report = serde_json::from_str(&m.report_json).unwrap();
        assert!(back.findings.iter().any(|f| f.rule.as_str() == "DYN701"));
        assert_eq!(back.verdict.level, VerdictLevel::Malicious);
        assert!(back.warnings.iter().any(|w| w.contains("import phase")));
        let v: Value = serde_json::from_str(&m.report_json).unwrap();
        assert_eq!(v["sandbox"]["findings"][0], "DYN701");
        // An error note keeps the static report readable.
        let noted = note_error(&json, "sandbox unavailable: must run as root");
        let back: Report = serde_json::from_str(&noted).unwrap();
        assert!(back.warnings.iter().any(|w| w.contains("must run as root")));
    }
}
