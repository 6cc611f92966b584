//! JS205 `obfuscated-code`: obfuscator.io output and long encoded blobs.
//!
//! **What it detects.**
//! - obfuscator.io style code: many `_0x1a2b`-style identifiers making up a
//!   large share of the file's names, often with the rotated string array
//!   (`while(!![])` + `push(shift())`);
//! - string literals of 1 KiB or more with high entropy and a base64/hex
//!   alphabet (reported as Low, and only as a preview in library code).
//!
//! **Why it matters.** Legitimate packages publish minified code, not
//! obfuscated code; obfuscator.io output is the most common wrapper around
//! npm stealers (GuardDog `js-mangling`: 0 % false positives on top
//! packages). CWE-506, MITRE T1027.
//!
//! **Example.** `var _0x3f2a=['log','hello'];(function(_0x1b2c,_0x4d5e){…})`
//!
//! **Severity.** obfuscator.io output is High with medium confidence: on
//! its own it holds a package for review (suspicious), never blocks it.
//!
//! **False positives.** Minifiers (terser, esbuild) use short names, not
//! `_0x` names. Long base64 literals are common in benign bundles (inlined
//! WebAssembly, fonts, images), which is why that half is weak and `data:`
//! URIs are skipped.

use sluice_model::{Confidence, Finding, Severity};

use super::Ctx;

const MIN_HEX_IDENTS: usize = 10;
const MIN_BLOB: usize = 1024;

pub(super) fn check(ctx: &Ctx<'_, '_>) -> Vec<Finding> {
    let f = ctx.facts;
    let mut out = Vec::new();
    if f.hex_idents >= MIN_HEX_IDENTS && f.hex_idents * 4 >= f.idents {
        let rotation = f.src.contains("while(!![])") || f.src.contains("while (!![])");
        let first = f
            .nodes
            .iter()
            .position(|n| {
                n.kind == "identifier"
                    && f.src
                        .get(n.start as usize..n.end as usize)
                        .is_some_and(|t| t.starts_with("_0x"))
            })
            .map_or(0, |p| p as u32);
        let mut fi = ctx
            .finding(
                first,
                "JS205",
                "obfuscated-code",
                Severity::High,
                Confidence::Medium,
                "the file is obfuscated (obfuscator.io style)",
            )
            .evidence(format!(
                "{} of {} identifiers are _0x names",
                f.hex_idents, f.idents
            ));
        if rotation {
            fi = fi.evidence("string-array rotation loop `while(!![])`");
        }
        out.push(fi);
    }
    let blob = f
        .strings
        .iter()
        .filter(|&&s| {
            let n = &f.nodes[s as usize];
            (n.end - n.start) as usize >= MIN_BLOB
        })
        .filter_map(|&s| {
            let t = f.text(s);
            let inner = t.get(1..t.len().saturating_sub(1)).unwrap_or("");
            if inner.starts_with("data:") || inner.contains("base64,") {
                return None;
            }
            let e = encoded_entropy(inner)?;
            Some((s, e, inner.len()))
        })
        .max_by_key(|&(_, _, len)| len);
    if let Some((node, e, len)) = blob {
        let mut fi = ctx
            .finding(
                node,
                "JS205",
                "obfuscated-code",
                Severity::Low,
                Confidence::Low,
                "a long encoded, high-entropy string literal",
            )
            .evidence(format!(
                "{len} characters, {e:.2} bits of entropy per character"
            ));
        fi.preview = !ctx.unasked();
        out.push(fi);
    }
    out
}

/// Shannon entropy of `s` when it is (almost) all base64/hex characters
/// and random-looking; `None` otherwise.
fn encoded_entropy(s: &str) -> Option<f64> {
    let b = s.as_bytes();
    let sample = &b[..b.len().min(64 * 1024)];
    let ok = sample
        .iter()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, b'+' | b'/' | b'=' | b'-' | b'_'))
        .count();
    if ok * 100 < sample.len() * 97 {
        return None;
    }
    let mut counts = [0u32; 256];
    for &c in sample {
        counts[c as usize] += 1;
    }
    let n = sample.len() as f64;
    let e: f64 = counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = f64::from(c) / n;
            -p * p.log2()
        })
        .sum();
    (e >= 3.9).then_some(e)
}
