//! `audit --scan`: judge the installed code of each distribution found in
//! an environment with the same judge `scan` uses for folders. A Python
//! distribution is the files its `RECORD` lists (inside site-packages); an
//! npm package is its folder without the nested `node_modules`. A Python
//! file whose bytes no longer match the sha256 its `RECORD` holds was
//! changed after installation, which pip never does: a finding of its own.

use std::path::{Component, Path};

use base64::Engine as _;
use sha2::Digest as _;
use sluice_archive::{ArtifactKind, FileEntry, FileTree, Limits};
use sluice_lockfile::{Dependency, Installed};
use sluice_model::{Severity, VerdictLevel};

use super::matchers::AuditFinding;

/// Judge one installed distribution: findings for a verdict of suspicious
/// or worse, and for files changed since installation.
pub fn judge(dep: &Dependency, options: &sluice_analyze::Options) -> Vec<AuditFinding> {
    let Some(inst) = dep.installed.as_ref() else {
        return Vec::new();
    };
    let (tree, changed) = tree_of(dep, inst);
    let mut out = Vec::new();
    if !changed.is_empty() {
        out.push(AuditFinding {
            rule: "AUD831".into(),
            source: "scan",
            severity: Severity::High,
            level: VerdictLevel::Suspicious,
            message: format!(
                "{} installed file(s) differ from the hashes in RECORD: changed after installation",
                changed.len()
            ),
            ids: Vec::new(),
            evidence: changed
                .iter()
                .take(8)
                .map(|p| format!("changed: {}", inst.root.join(p).display()))
                .collect(),
        });
    }
    if tree.files.is_empty() {
        return out;
    }
    out.extend(verdict(dep, inst, &tree, options));
    out
}

fn verdict(
    dep: &Dependency,
    inst: &Installed,
    tree: &FileTree,
    options: &sluice_analyze::Options,
) -> Option<AuditFinding> {
    let label = format!("{}:{}", dep.ecosystem, dep.name);
    let report = sluice_analyze::analyze(&label, tree, options);
    if report.verdict.level < VerdictLevel::Suspicious {
        return None;
    }
    let severity = report
        .findings
        .iter()
        .map(|f| f.severity)
        .max()
        .unwrap_or(Severity::Medium);
    let mut evidence: Vec<String> = report
        .findings
        .iter()
        .filter(|f| f.severity > Severity::Info)
        .take(8)
        .map(|f| {
            let place = match (&f.file, f.line) {
                (Some(file), Some(l)) => format!("{}:{l}", inst.root.join(file).display()),
                (Some(file), None) => inst.root.join(file).display().to_string(),
                _ => "(package)".into(),
            };
            format!("{} {place}: {}", f.rule, f.message)
        })
        .collect();
    evidence.extend(report.verdict.reasons.iter().map(|r| format!("why: {r}")));
    Some(AuditFinding {
        rule: "AUD830".into(),
        source: "scan",
        severity,
        level: report.verdict.level,
        message: format!(
            "installed code judged {} (score {}, {} files)",
            match report.verdict.level {
                VerdictLevel::Malicious => "MALICIOUS",
                _ => "SUSPICIOUS",
            },
            report.verdict.score,
            tree.files.len()
        ),
        ids: Vec::new(),
        evidence,
    })
}

/// A relative path with no `..`, root or prefix component.
fn safe(rel: &str) -> bool {
    !rel.is_empty()
        && Path::new(rel)
            .components()
            .all(|c| matches!(c, Component::Normal(_)))
}

/// Whether `data` matches a RECORD hash (`sha256=<urlsafe base64, no
/// padding>`). Other algorithms are not checked (`None`).
fn record_matches(hash: &str, data: &[u8]) -> Option<bool> {
    let want = hash.strip_prefix("sha256=")?;
    let got = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(data));
    Some(got == want.trim_end_matches('='))
}

/// The distribution's files as a tree, and the paths whose bytes differ
/// from their RECORD hash.
fn tree_of(dep: &Dependency, inst: &Installed) -> (FileTree, Vec<String>) {
    let limits = Limits::default();
    let mut files = Vec::new();
    let mut changed = Vec::new();
    let mut total = 0u64;
    let mut push = |rel: String, abs: &Path, hash: Option<&str>| {
        let Ok(meta) = std::fs::symlink_metadata(abs) else {
            return;
        };
        // Regular files only (never follow a link out of the package),
        // within the per-file and per-package budgets `scan` applies.
        if !meta.is_file()
            || meta.len() > limits.max_file_bytes
            || total + meta.len() > limits.max_total_bytes
        {
            return;
        }
        total += meta.len();
        if let Ok(data) = std::fs::read(abs) {
            if hash.and_then(|h| record_matches(h, &data)) == Some(false) {
                changed.push(rel.clone());
            }
            files.push(FileEntry {
                path: rel,
                data,
                mode: None,
                truncated: false,
            });
        }
    };
    if inst.files.is_empty() {
        // An npm package folder, without the packages nested in it.
        let mut stack = vec![(inst.root.clone(), String::new(), 0usize)];
        let mut count = 0u64;
        while let Some((dir, prefix, depth)) = stack.pop() {
            let Ok(rd) = std::fs::read_dir(&dir) else {
                continue;
            };
            let mut entries: Vec<_> = rd.filter_map(Result::ok).collect();
            entries.sort_by_key(std::fs::DirEntry::file_name);
            for e in entries {
                let name = e.file_name().to_string_lossy().into_owned();
                let Ok(ft) = e.file_type() else { continue };
                let rel = format!("{prefix}{name}");
                count += 1;
                if count > limits.max_entries {
                    break;
                }
                if ft.is_dir() && name != "node_modules" && depth < limits.max_depth {
                    stack.push((e.path(), format!("{rel}/"), depth + 1));
                } else if ft.is_file() {
                    push(rel, &e.path(), None);
                }
            }
        }
    } else {
        for f in &inst.files {
            let rel = &f.path;
            if safe(rel) && !rel.ends_with(".pyc") && !rel.contains("__pycache__") {
                push(rel.clone(), &inst.root.join(rel), f.hash.as_deref());
            }
        }
    }
    let size = files.iter().map(|f| f.data.len() as u64).sum();
    let tree = FileTree {
        kind: ArtifactKind::Folder,
        filename: format!("{}-{}", dep.name, dep.version.as_deref().unwrap_or("")),
        sha256: None,
        size,
        files,
        anomalies: Vec::new(),
    };
    (tree, changed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_hashes() {
        // RECORD of a wheel holding `VALUE = 1\n` (PEP 376 encoding).
        let data = b"VALUE = 1\n";
        let h = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(data));
        assert_eq!(record_matches(&format!("sha256={h}"), data), Some(true));
        assert_eq!(
            record_matches(&format!("sha256={h}"), b"VALUE = 2\n"),
            Some(false)
        );
        assert_eq!(record_matches("md5=abc", data), None);
    }
}
