//! JS210 `hidden-code`: code pushed out of sight with a wall of whitespace.
//!
//! **What it detects.** A run of 150 or more spaces or tabs followed by
//! more code on the same line (outside strings and comments), so that the
//! payload sits far beyond the right edge of an editor or a diff view.
//!
//! **Why it matters.** A reviewer skimming the file sees a harmless line;
//! the payload (`require('child_process').exec(…)`) is on the same line,
//! hundreds of columns to the right. Seen in npm and PyPI malware and
//! flagged by GuardDog's `threat-runtime-obfuscation-hidden-code`.
//! CWE-506, MITRE T1027.
//!
//! **Example.**
//! `module.exports = add;` followed by 300 spaces and
//! `require('https').get('https://192.0.2.1/x')`.
//!
//! **False positives.** None in the top npm packages: generated code is
//! either minified (no whitespace walls) or indented well under 150
//! columns. Runs inside strings (padding constants) and comments (ASCII
//! art) are ignored.

use sluice_model::{Confidence, Finding, Severity};

use super::Ctx;

const MIN_RUN: usize = 150;

pub(super) fn check(ctx: &Ctx<'_, '_>) -> Vec<Finding> {
    let f = ctx.facts;
    let text = ctx.file.text.as_bytes();
    // Byte ranges of strings and comments, sorted by start.
    let mut quiet: Vec<(u32, u32)> = f
        .nodes
        .iter()
        .filter(|n| matches!(n.kind, "string" | "template_string" | "comment" | "regex"))
        .map(|n| (n.start, n.end))
        .collect();
    quiet.sort_unstable();
    let inside = |off: usize| {
        let off = off as u32;
        let k = quiet.partition_point(|&(s, _)| s <= off);
        k > 0 && quiet[k - 1].1 > off
    };
    let mut run = 0usize;
    let mut run_start = 0usize;
    let mut line = 1u32;
    let mut line_start = 0usize;
    for (i, &b) in text.iter().enumerate() {
        match b {
            b'\n' => {
                line += 1;
                line_start = i + 1;
                run = 0;
            }
            b' ' | b'\t' => {
                if run == 0 {
                    run_start = i;
                }
                run += 1;
            }
            b'\r' => run = 0,
            _ => {
                if run >= MIN_RUN && !inside(run_start) && !inside(i) {
                    let (sev, conf) = if ctx.unasked() {
                        (Severity::High, Confidence::Medium)
                    } else {
                        (Severity::Medium, Confidence::Medium)
                    };
                    let end = text[i..]
                        .iter()
                        .position(|&c| c == b'\n')
                        .map_or(text.len(), |p| i + p);
                    let hidden = String::from_utf8_lossy(&text[i..end.min(i + 400)]).into_owned();
                    let col = u32::try_from(i - line_start + 1).unwrap_or(u32::MAX);
                    let mut fi = Finding::new(
                        sluice_model::RuleCode::new("JS210"),
                        "hidden-code",
                        sev,
                        conf,
                        format!("code hidden {run} columns to the right by whitespace"),
                    )
                    .at(ctx.file.path, line, col)
                    .excerpt(&hidden)
                    .install_time(ctx.unasked());
                    fi = fi.evidence(format!("{run} blank characters before column {col}"));
                    return vec![fi];
                }
                run = 0;
            }
        }
    }
    Vec::new()
}
