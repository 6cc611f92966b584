//! Dev tool: scan package artifacts and print one line per package.
//!
//! ```text
//! cargo run --release -p sluice-analyze --example scan -- [-v] PATH...
//! ```
//!
//! Each PATH is read with `sluice_archive::read_path` (never extracted to
//! disk, never executed) and analysed; the line is
//! `verdict score path top-rules`. `-v` adds the verdict's reasons, `-f`
//! every finding above info. Work is
//! spread over `SCAN_THREADS` (default: available cores) std threads.

use std::io::Write as _;
use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use sluice_analyze::{Options, analyze};
use sluice_archive::{Limits, read_path};

fn main() {
    let mut verbose = false;
    let mut all_findings = false;
    let mut paths: Vec<PathBuf> = Vec::new();
    for a in std::env::args().skip(1) {
        if a == "-v" {
            verbose = true;
        } else if a == "-f" {
            all_findings = true;
        } else {
            paths.push(a.into());
        }
    }
    if paths.is_empty() {
        eprintln!("usage: scan [-v] [-f] PATH...");
        std::process::exit(2);
    }
    let threads = std::env::var("SCAN_THREADS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, usize::from))
        .max(1);
    let next = AtomicUsize::new(0);
    let out = Mutex::new(std::io::stdout());
    let counts = Mutex::new([0usize; 4]);
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(p) = paths.get(i) else { break };
                    let line = match read_path(p, &Limits::default()) {
                        Ok(tree) => {
                            if std::env::var_os("SCAN_SLOW").is_some() {
                                report_slow_files(&tree);
                            }
                            let r = analyze(&p.display().to_string(), &tree, &Options::default());
                            let mut rules: Vec<String> = Vec::new();
                            for f in r.verdict.drivers.iter().chain(r.findings.iter()) {
                                let c = f.rule.to_string();
                                if f.severity > sluice_model::Severity::Info && !rules.contains(&c)
                                {
                                    rules.push(c);
                                }
                                if rules.len() >= 4 {
                                    break;
                                }
                            }
                            let idx = r.verdict.level as usize;
                            if let Ok(mut c) = counts.lock() {
                                c[idx] += 1;
                            }
                            let mut l = format!(
                                "{} {} {} {}",
                                r.verdict.level,
                                r.verdict.score,
                                p.display(),
                                rules.join(",")
                            );
                            if all_findings {
                                for f in r
                                    .findings
                                    .iter()
                                    .filter(|f| f.severity > sluice_model::Severity::Info)
                                {
                                    l.push_str(&format!(
                                        "\n    {} {:?}/{:?} {}:{} {}",
                                        f.rule,
                                        f.severity,
                                        f.confidence,
                                        f.file.as_deref().unwrap_or("-"),
                                        f.line.unwrap_or(0),
                                        f.message
                                    ));
                                }
                            }
                            if verbose && r.verdict.level != sluice_model::VerdictLevel::Clean {
                                for reason in &r.verdict.reasons {
                                    l.push_str("\n    ");
                                    l.push_str(reason);
                                }
                            }
                            l
                        }
                        Err(e) => {
                            if let Ok(mut c) = counts.lock() {
                                c[3] += 1;
                            }
                            format!("error - {} {e}", p.display())
                        }
                    };
                    if let Ok(mut o) = out.lock() {
                        let _ = writeln!(o, "{line}");
                    }
                }
            });
        }
    });
    if let Ok(c) = counts.lock() {
        eprintln!(
            "{} scanned: {} clean, {} suspicious, {} malicious, {} unreadable",
            paths.len(),
            c[0],
            c[1],
            c[2],
            c[3]
        );
    }
}

/// With `SCAN_SLOW` set: print Python files that take over 200 ms to check.
fn report_slow_files(tree: &sluice_archive::FileTree) {
    for f in &tree.files {
        if !f.path.ends_with(".py") {
            continue;
        }
        let text = String::from_utf8_lossy(&f.data);
        let file = sluice_analyze::SourceFile {
            path: &f.path,
            text: &text,
            role: sluice_analyze::FileRole::Library,
        };
        let t = std::time::Instant::now();
        let _ = sluice_analyze::python::check(&file);
        let ms = t.elapsed().as_millis();
        if ms > 200 {
            eprintln!("slow: {ms} ms {} ({} bytes)", f.path, f.data.len());
        }
    }
}
