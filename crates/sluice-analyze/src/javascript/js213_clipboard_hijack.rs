//! JS213 `clipboard-hijack`: the clipboard read, matched against
//! cryptocurrency-address patterns and written back (a wallet-address
//! swap, "clipper").
//!
//! **What it detects.** In one file: a clipboard read (`clipboardy.read`,
//! Electron `clipboard.readText`, or a process running `pbpaste`,
//! `xclip -o`, `xsel -o`, `wl-paste`, `powershell Get-Clipboard`), a
//! clipboard write (`clipboardy.write`, `clipboard.writeText`, `pbcopy`,
//! `xclip`/`xsel` input, `clip`, `Set-Clipboard`, `wl-copy`), and a wallet
//! address pattern — a regular expression for Bitcoin/Ethereum/Tron/Solana
//! addresses (base58 alphabet `a-km-z`, `bc1`, `0x…{40}`) or a hard-coded
//! address. The finding is at the write.
//!
//! **Why it matters.** Clippers replace a wallet address the victim copied
//! with the attacker's, so the next transfer goes to the attacker; npm
//! malware has shipped them since 2018 and they run from a `postinstall`
//! or from the package's `main` in a polling loop (MITRE T1115, T1565.002).
//!
//! **Example.**
//! ```js
//! const t = clipboardy.readSync();
//! if (/^(bc1|[13])[a-km-zA-HJ-NP-Z1-9]{25,34}$/.test(t)) clipboardy.writeSync('bc1q…');
//! ```
//!
//! **False positives.** Clipboard managers read and write the clipboard
//! but have no wallet patterns; wallet libraries validate addresses but do
//! not touch the clipboard. A wallet UI with a "paste address" button and
//! a "copy" button in one file is the look-alike: it is reported High
//! (Critical only where the file runs unasked), never from one or two of
//! the three parts alone.

use std::sync::LazyLock;

use regex::Regex;
use sluice_model::{Confidence, Finding, Severity};

use super::facts::{Call, Facts};
use super::{Ctx, api, shell};

static CLIP_READ: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)(^|[\s;&|(`])(pbpaste|wl-paste|termux-clipboard-get|get-clipboard)\b|\bxclip\b.*\s-o(ut)?\b|\bxsel\b.*\s(-[a-z]*o[a-z]*|--output)\b",
    )
    .unwrap_or_else(|e| panic!("clipboard-read pattern: {e}"))
});

static CLIP_WRITE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)(^|[\s;&|(`])(pbcopy|wl-copy|termux-clipboard-set|set-clipboard|clip(\.exe)?)(\s|$)|\bxclip\b|\bxsel\b.*\s(-[a-z]*i[a-z]*|--input)\b",
    )
    .unwrap_or_else(|e| panic!("clipboard-write pattern: {e}"))
});

/// A regular expression that matches cryptocurrency addresses.
static WALLET_PATTERN: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"a-km-z|A-HJ-NP-Z|bc1|0x\[[0-9a-fA-F-]+\]\{40\}")
        .unwrap_or_else(|e| panic!("wallet pattern: {e}"))
});

/// A hard-coded wallet address.
static WALLET_ADDRESS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(0x[0-9a-fA-F]{40}|bc1[02-9ac-hj-np-z]{25,60}|[13][1-9A-HJ-NP-Za-km-z]{25,34}|T[1-9A-HJ-NP-Za-km-z]{33})$")
        .unwrap_or_else(|e| panic!("wallet address: {e}"))
});

fn command_text(f: &Facts<'_>, c: &Call<'_>) -> Option<String> {
    let mut parts = Vec::new();
    for &a in c.args.iter().take(2) {
        if f.kind(a) == "array" {
            parts.extend(f.children(a).take(16).filter_map(|x| f.const_string(x, 0)));
        } else if let Some(s) = f.const_string(a, 0) {
            parts.push(s);
        }
    }
    (!parts.is_empty()).then(|| parts.join(" "))
}

/// A process call that reads the clipboard (`pbpaste`, `Get-Clipboard`).
pub(super) fn command_reads_clipboard(f: &Facts<'_>, c: &Call<'_>) -> bool {
    command_text(f, c).is_some_and(|s| s.len() < shell::MAX_COMMAND && CLIP_READ.is_match(&s))
}

fn command_writes_clipboard(f: &Facts<'_>, c: &Call<'_>) -> bool {
    command_text(f, c).is_some_and(|s| {
        s.len() < shell::MAX_COMMAND && !CLIP_READ.is_match(&s) && CLIP_WRITE.is_match(&s)
    })
}

/// Where the file names a wallet address pattern or address: (node, what).
fn wallet_evidence(f: &Facts<'_>) -> Option<(u32, &'static str)> {
    for (i, n) in f.nodes.iter().enumerate() {
        if n.kind == "regex_pattern" {
            let t = f.text(i as u32);
            if t.len() < 512 && WALLET_PATTERN.is_match(t) {
                return Some((i as u32, "a wallet-address regular expression"));
            }
        }
    }
    for &s in f.strings.iter().take(50_000) {
        let Some(v) = f.string_value(s) else { continue };
        if v.len() > 100 {
            continue;
        }
        if WALLET_ADDRESS.is_match(&v) {
            return Some((s, "a hard-coded wallet address"));
        }
        // `new RegExp('[13][a-km-zA-HJ-NP-Z1-9]{25,34}')`
        if v.contains('[') && WALLET_PATTERN.is_match(&v) {
            return Some((s, "a wallet-address regular expression"));
        }
    }
    None
}

pub(super) fn check(ctx: &Ctx<'_, '_>) -> Vec<Finding> {
    let f = ctx.facts;
    let read = f.calls.iter().find(|c| {
        let p = c.path.as_deref().unwrap_or("");
        api::is_clipboard_read(p) || (api::is_process(p) && command_reads_clipboard(f, c))
    });
    let Some(read) = read else {
        return Vec::new();
    };
    let write = f.calls.iter().find(|c| {
        let p = c.path.as_deref().unwrap_or("");
        api::is_clipboard_write(p) || (api::is_process(p) && command_writes_clipboard(f, c))
    });
    let Some(write) = write else {
        return Vec::new();
    };
    let Some((wallet, what)) = wallet_evidence(f) else {
        return Vec::new();
    };
    let sev = if ctx.unasked() {
        Severity::Critical
    } else {
        Severity::High
    };
    vec![
        ctx.finding(
            write.node,
            "JS213",
            "clipboard-hijack",
            sev,
            Confidence::High,
            "the clipboard is read, matched against wallet addresses and written back",
        )
        .evidence(format!(
            "reads the clipboard at line {}",
            f.line_col(read.node).0
        ))
        .evidence(format!("{what} at line {}", f.line_col(wallet).0))
        .evidence(format!(
            "writes the clipboard at line {}",
            f.line_col(write.node).0
        )),
    ]
}
