//! PY114 `packed-code`: code shipped in a form made to be unreadable — a
//! packer's runtime stub or an obfuscator's output feeding `exec`/`eval`.
//!
//! **What it detects.**
//! - PyArmor runtime stubs (`from pytransform import pyarmor_runtime`,
//!   `__pyarmor__(__name__, __file__, b'…')`, `pyarmor_runtime_NNNNNN`):
//!   the real code is an encrypted blob only the native runtime can read;
//! - an obfuscator's output: its banner (`Obfuscated with …`, BlankOBF,
//!   Hyperion, Kramer, pyobfuscate, …), names made only of underscores, or
//!   string literals written almost entirely as `\x`/octal escapes, in a
//!   file that calls `exec`, `eval` or `compile` (or reaches them through
//!   `eval("\x65\x76\x61\x6c")`).
//!
//! **Why it matters.** Stealers on PyPI ship as BlankOBF/Hyperion output or
//! PyArmor-wrapped modules so that no reviewer or scanner can read them;
//! hiding what runs at import or install time has no honest purpose in an
//! open-source package (CWE-506).
//!
//! **Example.**
//! ```python
//! # Obfuscated with BlankOBF
//! _____=eval("\x65\x76\141\154");_______=_____("\143\157\x6d\160\x69\x6c\x65")
//! ```
//!
//! **False positives.** Commercial packages protected with PyArmor exist:
//! high (suspicious) but not critical; the verdict says what the stub is.
//! Escape-heavy tables without any code execution are not flagged.

use sluice_model::{Confidence, Finding, Severity};

use super::facts::Facts;
use super::{at_line, by_role};

/// Rule name.
pub const NAME: &str = "packed-code";

const BANNERS: [&str; 10] = [
    "obfuscated with",
    "obfuscated by",
    "blankobf",
    "hyperion",
    "pyobfuscate",
    "kramer",
    "specter obfuscator",
    "anubis",
    "pyfuscator",
    "development-tools.net",
];

fn line_of(text: &str, at: usize) -> u32 {
    u32::try_from(memchr::memchr_iter(b'\n', &text.as_bytes()[..at]).count() + 1)
        .unwrap_or(u32::MAX)
}

/// Share of the file's bytes that are `\xNN` or `\NNN` escapes.
fn escape_share(text: &str) -> f64 {
    let b = text.as_bytes();
    let mut escaped = 0usize;
    let mut i = 0;
    while i + 3 < b.len() {
        if b[i] == b'\\' {
            if b[i + 1] == b'x' && b[i + 2].is_ascii_hexdigit() && b[i + 3].is_ascii_hexdigit() {
                escaped += 4;
                i += 4;
                continue;
            }
            if (b'0'..=b'3').contains(&b[i + 1])
                && (b'0'..=b'7').contains(&b[i + 2])
                && (b'0'..=b'7').contains(&b[i + 3])
            {
                escaped += 4;
                i += 4;
                continue;
            }
        }
        i += 1;
    }
    escaped as f64 / b.len().max(1) as f64
}

/// Names made only of underscores (`_____`), as obfuscators emit.
fn underscore_names(text: &str) -> usize {
    let b = text.as_bytes();
    let mut n = 0;
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'_' && (i == 0 || !(b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_')) {
            let start = i;
            while i < b.len() && b[i] == b'_' {
                i += 1;
            }
            let alnum_next = i < b.len() && b[i].is_ascii_alphanumeric();
            if i - start >= 4 && !alnum_next {
                n += 1;
            }
            continue;
        }
        i += 1;
    }
    n
}

/// Check one file.
#[must_use]
pub fn check(f: &Facts<'_>) -> Vec<Finding> {
    let text = f.file.text;
    let role = f.file.role;
    let lower_head: String = text
        .chars()
        .take(4096)
        .collect::<String>()
        .to_ascii_lowercase();
    // PyArmor: the stub is the whole module.
    for pat in ["__pyarmor__(", "pyarmor_runtime", "from pytransform import"] {
        if let Some(at) = text.find(pat) {
            let line = line_of(text, at);
            let excerpt = text[at..].lines().next().unwrap_or("");
            return vec![
                at_line(
                    f,
                    "PY114",
                    NAME,
                    by_role(role, Severity::High, Severity::Medium),
                    Confidence::High,
                    "module is a PyArmor-encrypted payload: its code cannot be read",
                    line,
                    1,
                    &excerpt.chars().take(160).collect::<String>(),
                )
                .evidence("packer: PyArmor runtime stub"),
            ];
        }
    }
    let runs_code = f.calls.iter().any(|c| {
        matches!(
            c.target.as_str(),
            "exec" | "eval" | "compile" | "execfile" | "marshal.loads"
        )
    });
    if !runs_code {
        return Vec::new();
    }
    let mut signs = Vec::new();
    let mut at = None;
    if let Some(b) = BANNERS.iter().find(|b| lower_head.contains(*b)) {
        signs.push(format!("obfuscator banner: {b}"));
        at = lower_head.find(b);
    }
    let share = if text.len() >= 200 {
        escape_share(text)
    } else {
        0.0
    };
    if share >= 0.2 {
        signs.push(format!(
            "{:.0} % of the file is \\x/octal escapes",
            share * 100.0
        ));
    }
    let unders = underscore_names(text);
    if unders >= 8 {
        signs.push(format!("{unders} names made only of underscores"));
    }
    let escaped_eval = f.calls.iter().find(|c| {
        c.indirect && matches!(c.target.as_str(), "eval" | "exec" | "compile") && {
            c.text.contains("\\x") || c.text.starts_with('_')
        }
    });
    if escaped_eval.is_some() {
        signs.push("exec/eval/compile reached through an evaluated name".to_owned());
    }
    // One sign alone may be a style; two are an obfuscator's output.
    if signs.len() < 2 {
        return Vec::new();
    }
    let (line, excerpt) = match (escaped_eval, at) {
        (Some(c), _) => (c.line, c.text.clone()),
        (None, Some(a)) => (
            line_of(text, a),
            text[a.min(text.len())..]
                .lines()
                .next()
                .unwrap_or("")
                .to_owned(),
        ),
        (None, None) => (1, text.lines().next().unwrap_or("").to_owned()),
    };
    let mut fd = at_line(
        f,
        "PY114",
        NAME,
        by_role(role, Severity::Critical, Severity::High),
        Confidence::High,
        "obfuscated code that executes what it hides",
        line,
        1,
        &excerpt.chars().take(160).collect::<String>(),
    );
    for s in signs {
        fd = fd.evidence(s);
    }
    vec![fd]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn measures() {
        assert!(escape_share(r"\x65\x76\141\154") > 0.9);
        assert!(escape_share("plain text with no escapes at all") < 0.01);
        assert_eq!(underscore_names("_____=1; ______=2; __init__; _x; ____"), 3);
    }
}
