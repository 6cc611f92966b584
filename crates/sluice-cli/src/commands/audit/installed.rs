//! `audit --scan`: judge the installed code of each distribution found in
//! an environment with the same judge `scan` uses for folders. A Python
//! distribution is the files its `RECORD` lists (inside site-packages); an
//! npm package is its folder without the nested `node_modules`.

use std::path::{Component, Path};

use sluice_archive::{ArtifactKind, FileEntry, FileTree, Limits};
use sluice_lockfile::{Dependency, Installed};
use sluice_model::{Severity, VerdictLevel};

use super::matchers::AuditFinding;

/// Judge one installed distribution; a finding when the verdict is
/// suspicious or worse.
pub fn judge(dep: &Dependency, options: &sluice_analyze::Options) -> Option<AuditFinding> {
    let inst = dep.installed.as_ref()?;
    let tree = tree_of(dep, inst);
    if tree.files.is_empty() {
        return None;
    }
    let label = format!("{}:{}", dep.ecosystem, dep.name);
    let report = sluice_analyze::analyze(&label, &tree, options);
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

fn tree_of(dep: &Dependency, inst: &Installed) -> FileTree {
    let limits = Limits::default();
    let mut files = Vec::new();
    let mut total = 0u64;
    let mut push = |rel: String, abs: &Path| {
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
                    push(rel, &e.path());
                }
            }
        }
    } else {
        for rel in &inst.files {
            if safe(rel) && !rel.ends_with(".pyc") && !rel.contains("__pycache__") {
                push(rel.clone(), &inst.root.join(rel));
            }
        }
    }
    let size = files.iter().map(|f| f.data.len() as u64).sum();
    FileTree {
        kind: ArtifactKind::Folder,
        filename: format!("{}-{}", dep.name, dep.version.as_deref().unwrap_or("")),
        sha256: None,
        size,
        files,
        anomalies: Vec::new(),
    }
}
