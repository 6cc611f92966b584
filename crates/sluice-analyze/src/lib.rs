//! Static analysis of package artifacts: rules, metadata, indicators, scoring.
//!
//! [`analyze`] takes a [`FileTree`] that `sluice-archive` already read and
//! checked, and returns a [`Report`]: the package's declared metadata, every
//! finding with its evidence (rule, file, line, excerpt), every indicator of
//! compromise, and one [`Verdict`](sluice_model::Verdict) explained in words.
//!
//! The pipeline, per artifact:
//! 1. [`manifest`] reads PKG-INFO / METADATA / setup.cfg / pyproject.toml /
//!    setup.py (statically) or package.json, and says which files run at
//!    install time (setup.py, cmdclass, npm lifecycle scripts, `.pth`) or on
//!    import (the package's top-level `__init__.py`, npm `main`).
//! 2. [`python`] and [`javascript`] parse each source file with tree-sitter
//!    (tolerant of broken and Python 2 code) and run one rule per file.
//! 3. [`ioc`] extracts IPs, URLs, domains, e-mails and webhook endpoints,
//!    and matches them against a user-supplied indicator set.
//! 4. [`score`] combines the findings into one verdict.
//!
//! This crate must not touch the file system or the network: everything it
//! needs arrives in memory.
#![warn(missing_docs)]

pub mod archive_findings;
pub mod ioc;
pub mod javascript;
pub mod learn;
pub mod manifest;
pub mod python;
pub mod score;
pub mod shell;
pub mod source;
pub mod syntax;

use sluice_archive::FileTree;
use sluice_model::{ArtifactInfo, Ecosystem, REPORT_SCHEMA, Report};

pub use source::{FileRole, SourceFile};

/// What the analysis may use beyond the artifact itself.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Indicators supplied by the user (`--ioc-file`); a hit becomes a finding.
    pub iocs: Option<ioc::IocSet>,
    /// Parse every test, doc and example file even when it cannot change
    /// the verdict (see [`analyze`]).
    pub all_files: bool,
    /// Which scorer decides the verdict ([`learn::Scorer::Rules`] unless
    /// asked; `sluice scan` and `sluice bench` default to the model).
    pub scorer: learn::Scorer,
    /// Move the learned scorer's suspicious threshold (a probability);
    /// `None` keeps the model file's.
    pub threshold: Option<f64>,
}

/// Files larger than this are not parsed (they are still searched for
/// indicators and byte patterns); minified bundles of many megabytes are
/// where parsers spend their time, and malware rarely hides only there.
pub const MAX_PARSE_BYTES: usize = 2 << 20;

/// Analyse one artifact.
///
/// Every file is searched for indicators. Source files are parsed and run
/// through the rules, except test, doc and example files that do not run
/// unasked while the rest of the package scores under
/// `SUSPICIOUS_AT - AUXILIARY_CAP` (5): their findings could not change the
/// verdict, so they are listed in `unparsed_auxiliary` instead and parsed
/// only when the score rises — here, or in [`add_findings`] when a caller
/// brings name or sandbox findings. [`Options::all_files`] parses them
/// regardless.
#[must_use]
pub fn analyze(target: &str, tree: &FileTree, opts: &Options) -> Report {
    let mut warnings = Vec::new();
    let manifest = manifest::read(tree);
    let mut findings = archive_findings::from_anomalies(&tree.anomalies);
    findings.extend(manifest.findings.iter().cloned());
    let mut indicators = Vec::new();

    let mut unparsed = Vec::new();
    let mut stats = learn::stats::Collector::default();
    for entry in &tree.files {
        let role = manifest.role_of(&entry.path);
        let Some(lang) = source::language_of(&entry.path, &entry.data) else {
            // Manifests and shell scripts carry payload URLs too.
            if ioc::is_text_candidate(&entry.path) {
                let text = String::from_utf8_lossy(&entry.data);
                let file = SourceFile {
                    path: &entry.path,
                    text: &text,
                    role,
                };
                indicators.extend(ioc::extract(&file));
            }
            continue;
        };
        stats.add_with_role(&entry.path, lang, &entry.data, role.runs_unasked());
        let text = String::from_utf8_lossy(&entry.data);
        let file = SourceFile {
            path: &entry.path,
            text: &text,
            role,
        };
        let found = ioc::extract(&file);
        findings.extend(ioc::findings(&file, &found));
        indicators.extend(found);
        if entry.data.len() > MAX_PARSE_BYTES {
            warnings.push(format!(
                "{}: {} bytes, over the parse limit of {} bytes; searched for indicators only",
                entry.path,
                entry.data.len(),
                MAX_PARSE_BYTES
            ));
            continue;
        }
        if !opts.all_files && is_deferrable(&entry.path, role) {
            unparsed.push(entry.path.clone());
            continue;
        }
        findings.extend(check_source(&file, lang));
    }
    let no_hooks = std::collections::BTreeMap::new();
    // JS214 needs the file tree: is a started path a shipped executable?
    javascript::js214_bundled_binary::link(
        &mut findings,
        tree,
        if manifest.ecosystem == Some(Ecosystem::Npm) {
            &manifest.metadata.install_hooks
        } else {
            &no_hooks
        },
        |p| manifest.role_of(p),
    );
    ioc::dedup(&mut indicators);
    if let Some(set) = &opts.iocs {
        findings.extend(set.matches(&indicators));
        if let Some(d) = &tree.sha256 {
            findings.extend(set.matches_digest(d));
        }
        if set.has_digests() {
            for entry in &tree.files {
                for mut f in set.matches_digest(&sluice_model::Sha256::of(&entry.data)) {
                    f.file = Some(entry.path.clone());
                    findings.push(f);
                }
            }
        }
    }

    let ecosystem = manifest.ecosystem;
    let package = manifest
        .metadata
        .name
        .as_deref()
        .zip(ecosystem)
        .and_then(|(n, eco)| sluice_model::PackageName::parse(eco, n).ok());
    let version = manifest
        .metadata
        .version
        .as_deref()
        .map(sluice_model::Version::new);
    if let Some(v) = version
        .as_ref()
        .filter(|v| is_placeholder_version(v.as_str()))
    {
        findings.push(
            sluice_model::Finding::new(
                sluice_model::RuleCode::new("PKG317"),
                "placeholder-version",
                sluice_model::Severity::Low,
                sluice_model::Confidence::Low,
                format!("version `{v}` is a placeholder, as dependency-confusion and squat uploads use"),
            )
            .evidence("weak alone; counts as context next to a look-alike name, an install hook or install-time behaviour"),
        );
    }
    let mut report = Report {
        schema: REPORT_SCHEMA,
        target: target.to_owned(),
        ecosystem,
        package,
        version,
        artifact: ArtifactInfo {
            filename: tree.filename.clone(),
            kind: tree.kind.as_str().to_owned(),
            sha256: tree.sha256,
            size: tree.size,
            files: tree.files.len() as u64,
            unpacked_bytes: tree.unpacked_bytes(),
        },
        metadata: manifest.metadata,
        verdict: sluice_model::Verdict::clean(),
        findings,
        indicators,
        warnings,
        unparsed_auxiliary: unparsed,
        stats: Some(stats.finish()),
        model: None,
    };
    rejudge(&mut report);
    if opts.scorer == learn::Scorer::Model {
        learn::apply(&mut report, opts.threshold);
    }
    settle(&mut report, tree);
    report
}

/// Versions chosen to win a resolver or to say nothing: `0.0.0`,
/// `99.99.99`, `9999.0.0`, `1337.0.0`, `666`…
#[must_use]
pub fn is_placeholder_version(v: &str) -> bool {
    let parts: Vec<&str> = v.trim().split('.').collect();
    if parts.is_empty()
        || parts.len() > 4
        || !parts
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
    {
        return false;
    }
    let nums: Vec<u64> = parts.iter().filter_map(|p| p.parse().ok()).collect();
    if nums.len() != parts.len() {
        return false;
    }
    let major = nums[0];
    nums.iter().all(|&n| n == 0)
        || major >= 99 && parts[0].bytes().all(|b| b == b'9')
        || matches!(major, 1337 | 666 | 6666 | 31337)
        || (1000..1900).contains(&major)
}

/// Run the rules of `lang` over one file.
fn check_source(file: &SourceFile<'_>, lang: source::Language) -> Vec<sluice_model::Finding> {
    match lang {
        source::Language::Python => python::check(file),
        source::Language::JavaScript => javascript::check(file),
    }
}

/// Test, doc and example code that does not run unasked: its findings are
/// auxiliary to the score, which caps them together at
/// [`score::AUXILIARY_CAP`], so parsing it can wait until the rest of the
/// package scores high enough for it to matter. This is where most of the
/// parsing time of large packages goes (a third of the Python bytes of
/// the 300 most downloaded sdists).
fn is_deferrable(path: &str, role: FileRole) -> bool {
    !role.runs_unasked() && manifest::is_auxiliary(path)
}

/// True when findings worth at most [`score::AUXILIARY_CAP`] points could
/// change a verdict that scored `score` (rounded) without them.
fn auxiliary_could_matter(score: u32) -> bool {
    f64::from(score) + 0.5 + score::AUXILIARY_CAP >= score::SUSPICIOUS_AT
}

/// Parse the auxiliary files left unparsed when the report's score has
/// risen to where they could change the verdict (or, with nothing to
/// wait for, do nothing).
fn settle(report: &mut Report, tree: &FileTree) {
    if report.unparsed_auxiliary.is_empty() || !auxiliary_could_matter(rule_score(report)) {
        return;
    }
    let manifest = manifest::read(tree);
    let wanted: std::collections::HashSet<String> = std::mem::take(&mut report.unparsed_auxiliary)
        .into_iter()
        .collect();
    for entry in tree.files.iter().filter(|e| wanted.contains(&e.path)) {
        let Some(lang) = source::language_of(&entry.path, &entry.data) else {
            continue;
        };
        let text = String::from_utf8_lossy(&entry.data);
        let file = SourceFile {
            path: &entry.path,
            text: &text,
            role: manifest.role_of(&entry.path),
        };
        report.findings.extend(check_source(&file, lang));
    }
    rejudge(report);
}

/// Add findings from outside the artifact's own code (name checks, the
/// sandbox) to `report`, judge again, and parse the auxiliary files that
/// [`analyze`] left unparsed if the new findings make them matter.
pub fn add_findings(
    report: &mut Report,
    tree: &FileTree,
    extra: impl IntoIterator<Item = sluice_model::Finding>,
) {
    report.findings.extend(extra);
    rejudge(report);
    settle(report, tree);
}

/// The hand-written rule score of a report, whichever scorer judged it.
fn rule_score(report: &Report) -> u32 {
    report
        .model
        .as_ref()
        .map_or(report.verdict.score, |m| m.rule_score)
}

/// Sort the findings (most severe first) and recompute the verdict, after a
/// caller added findings of its own (name checks, sandbox behaviour). A
/// report judged by the learned scorer is judged by it again, with the
/// same thresholds.
pub fn rejudge(report: &mut Report) {
    report.findings.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then(b.confidence.cmp(&a.confidence))
            .then(a.file.cmp(&b.file))
            .then(a.line.cmp(&b.line))
            .then(a.rule.cmp(&b.rule))
    });
    report.findings.dedup();
    report.verdict = score::judge(&report.findings);
    if let Some(m) = report.model.take() {
        let t = learn::Thresholds {
            suspicious_at: m.suspicious_at,
            malicious_at: m.malicious_at,
        };
        learn::apply_with(report, learn::embedded(), t);
    }
}

/// Guess the ecosystem of a tree from its shape alone.
#[must_use]
pub fn guess_ecosystem(tree: &FileTree) -> Option<Ecosystem> {
    manifest::read(tree).ecosystem
}

#[cfg(test)]
mod tests {
    use super::is_placeholder_version;

    #[test]
    fn placeholder_versions() {
        for v in [
            "0.0.0", "0.0", "99.99.99", "999.0.0", "9999.1", "1337.0.0", "1000.0.0",
        ] {
            assert!(is_placeholder_version(v), "{v}");
        }
        for v in [
            "0.0.1", "1.0.0", "2.31.0", "9.0.0", "2024.1.1", "1.0.0rc1", "99.3a", "",
        ] {
            assert!(!is_placeholder_version(v), "{v}");
        }
    }
}
