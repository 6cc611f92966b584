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
//! - names written in look-alike Unicode letters (`𝘴𝗲𝙩𝙖𝘵𝘁𝙧`, fullwidth
//!   `ｅｘｅｃ`) that Python folds to ASCII (identifiers are NFKC-normalised),
//!   so `setattr`/`exec` run while a text search sees neither. The rules
//!   read such files folded ([`fold_identifiers`]).
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

/// Letterlike symbols that stand for the holes of the mathematical
/// alphabets (script B, italic h, Fraktur C…), folded as NFKC does.
const LETTERLIKE: [(char, char); 24] = [
    ('ℬ', 'B'),
    ('ℰ', 'E'),
    ('ℱ', 'F'),
    ('ℋ', 'H'),
    ('ℐ', 'I'),
    ('ℒ', 'L'),
    ('ℳ', 'M'),
    ('ℛ', 'R'),
    ('ℯ', 'e'),
    ('ℊ', 'g'),
    ('ℴ', 'o'),
    ('ℭ', 'C'),
    ('ℌ', 'H'),
    ('ℑ', 'I'),
    ('ℜ', 'R'),
    ('ℨ', 'Z'),
    ('ℂ', 'C'),
    ('ℍ', 'H'),
    ('ℕ', 'N'),
    ('ℙ', 'P'),
    ('ℚ', 'Q'),
    ('ℝ', 'R'),
    ('ℤ', 'Z'),
    ('ℎ', 'h'),
];

/// The ASCII letter or digit NFKC folds a mathematical or fullwidth
/// character to, if it is one.
fn fold_char(c: char) -> Option<char> {
    let u = u32::from(c);
    let ascii = |base: u8, off: u32| char::from_u32(u32::from(base) + off);
    match u {
        0x1D400..=0x1D6A3 => {
            let i = (u - 0x1D400) % 52;
            if i < 26 {
                ascii(b'A', i)
            } else {
                ascii(b'a', i - 26)
            }
        }
        0x1D6A4 => Some('i'),
        0x1D6A5 => Some('j'),
        0x1D7CE..=0x1D7FF => ascii(b'0', (u - 0x1D7CE) % 10),
        0xFF21..=0xFF3A => ascii(b'A', u - 0xFF21),
        0xFF41..=0xFF5A => ascii(b'a', u - 0xFF41),
        0xFF10..=0xFF19 => ascii(b'0', u - 0xFF10),
        0xFF3F => Some('_'),
        0x2100..=0x214F => LETTERLIKE.iter().find(|(l, _)| *l == c).map(|(_, a)| *a),
        _ => None,
    }
}

/// The file as Python reads its names: mathematical and fullwidth letters
/// folded to ASCII. `None` when there is nothing to fold (the common case,
/// decided without allocating), else the folded text, how many
/// characters were folded, and the first line (1-based) that had one.
#[must_use]
pub fn fold_identifiers(text: &str) -> Option<(String, usize, u32)> {
    if text.is_ascii() {
        return None;
    }
    let b = text.as_bytes();
    // U+1D400–1D7FF start F0 9D; FF10–FF5A start EF BC/BD; 2100–214F E2 84/85.
    let maybe = memchr::memchr_iter(0xF0, b).any(|i| b.get(i + 1) == Some(&0x9D))
        || memchr::memchr_iter(0xEF, b).any(|i| matches!(b.get(i + 1), Some(0xBC | 0xBD)))
        || memchr::memchr_iter(0xE2, b).any(|i| matches!(b.get(i + 1), Some(0x84 | 0x85)));
    if !maybe {
        return None;
    }
    // Only characters in code count: math letters in strings and comments
    // (LaTeX symbol tables, tokenizer vocabularies) are data, and Python
    // does not fold those.
    let (n, first) = folded_in_code(text);
    if n == 0 {
        return None;
    }
    let out: String = text.chars().map(|c| fold_char(c).unwrap_or(c)).collect();
    Some((out, n, first))
}

/// How many foldable characters stand outside string literals and
/// comments, and the first line with one (a small Python lexer: `#`
/// comments, quotes of one or three characters, backslash escapes).
fn folded_in_code(text: &str) -> (usize, u32) {
    let mut n = 0;
    let mut first = 0u32;
    let mut line = 1u32;
    let mut it = text.chars().peekable();
    // The open quote (character, tripled) of the literal being read.
    let mut quote: Option<(char, bool)> = None;
    let mut comment = false;
    while let Some(c) = it.next() {
        if c == '\n' {
            line = line.saturating_add(1);
            comment = false;
            if matches!(quote, Some((_, false))) {
                quote = None; // an unterminated one-line string ends here
            }
            continue;
        }
        if comment {
            continue;
        }
        match quote {
            Some((q, triple)) => {
                if c == '\\' {
                    if it.peek() == Some(&'\n') {
                        line = line.saturating_add(1);
                    }
                    it.next();
                } else if c == q {
                    if !triple {
                        quote = None;
                    } else if it.peek() == Some(&q) {
                        it.next();
                        if it.peek() == Some(&q) {
                            it.next();
                            quote = None;
                        }
                    }
                }
            }
            None => {
                if c == '#' {
                    comment = true;
                } else if c == '"' || c == '\'' {
                    if it.peek() == Some(&c) {
                        it.next();
                        if it.peek() == Some(&c) {
                            it.next();
                            quote = Some((c, true));
                        }
                        // else: an empty string, already closed
                    } else {
                        quote = Some((c, false));
                    }
                } else if fold_char(c).is_some() {
                    n += 1;
                    if first == 0 {
                        first = line;
                    }
                }
            }
        }
    }
    (n, first)
}

/// The PY114 finding for a file whose names were written in look-alike
/// Unicode letters (`folded` characters folded to ASCII).
pub(crate) fn folded_names_finding(f: &Facts<'_>, folded: usize, line: u32) -> Option<Finding> {
    // A few math letters in a string (a formula label) are not a disguise.
    if folded < 8 {
        return None;
    }
    let role = f.file.role;
    Some(
        at_line(
            f,
            "PY114",
            NAME,
            by_role(role, Severity::Critical, Severity::High),
            Confidence::High,
            "names written in look-alike Unicode letters that Python folds to ASCII",
            line,
            1,
            f.file
                .text
                .lines()
                .nth(line.saturating_sub(1) as usize)
                .unwrap_or(""),
        )
        .evidence(format!(
            "{folded} mathematical/fullwidth characters folded (identifiers are NFKC-normalised)"
        ))
        .evidence("read folded, the code's calls are judged as Python runs them"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_like_nfkc() {
        let (t, n, line) = fold_identifiers("x = 1\n𝘴𝗲𝙩𝙖𝘵𝘁𝙧(x) ｅｘｅｃ ℎ").unwrap();
        assert_eq!(t, "x = 1\nsetattr(x) exec h");
        assert_eq!(n, 12);
        assert_eq!(line, 2);
        assert!(fold_identifiers("plain ascii").is_none());
        assert!(fold_identifiers("café ünïcode — “quotes”").is_none());
        // data, not names: in strings and comments nothing is folded
        assert!(fold_identifiers("x = '𝑥 ∈ ℝ'  # 𝑦 = 𝑎𝑥\ns = \"\"\"𝐀𝐁𝐂\n𝐃\"\"\"\n").is_none());
        let (_, n, line) = fold_identifiers("s = '''𝐀'''\n𝐞𝐱𝐞𝐜('x')").unwrap();
        assert_eq!((n, line), (4, 2));
    }

    #[test]
    fn measures() {
        assert!(escape_share(r"\x65\x76\141\154") > 0.9);
        assert!(escape_share("plain text with no escapes at all") < 0.01);
        assert_eq!(underscore_names("_____=1; ______=2; __init__; _x; ____"), 3);
    }
}
