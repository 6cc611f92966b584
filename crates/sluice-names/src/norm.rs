//! Name keys (flat, skeleton, tokens, core) and edit-distance helpers.
//!
//! Every key works on ASCII bytes: both registries only allow ASCII names,
//! and [`sluice_model::PackageName::parse`] has already rejected the rest.

/// Separators both registries treat as word boundaries.
pub(crate) fn is_sep(b: u8) -> bool {
    matches!(b, b'-' | b'_' | b'.' | b'/' | b'@' | b'~')
}

/// The name with separators and scope punctuation removed, lower-case.
/// `@babel/core`, `babel-core` and `babel.core` all give `babelcore`: this is
/// the form npm's and PyPI's own "too similar" rules compare.
pub(crate) fn flat(name: &str) -> String {
    name.bytes()
        .filter(|b| !is_sep(*b))
        .map(|b| char::from(b.to_ascii_lowercase()))
        .collect()
}

/// [`flat`] with ASCII look-alikes folded: `rn`→`m`, `vv`→`w`, and the
/// classes `{1,l,i}` and `{0,o}` (PyPI's "ultranormalised" form, widened).
pub(crate) fn skeleton(flat: &str) -> String {
    let b = flat.as_bytes();
    let mut out = String::with_capacity(b.len());
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        let next = b.get(i + 1).copied();
        match (c, next) {
            (b'r', Some(b'n')) => {
                out.push('m');
                i += 2;
                continue;
            }
            (b'v', Some(b'v')) => {
                out.push('w');
                i += 2;
                continue;
            }
            _ => {}
        }
        out.push(match c {
            b'1' | b'l' | b'i' | b'|' => 'l',
            b'0' | b'o' => 'o',
            other => char::from(other),
        });
        i += 1;
    }
    out
}

/// Words of the name, split on separators, lower-case, empty ones dropped.
pub(crate) fn tokens(name: &str) -> Vec<String> {
    name.split(|c: char| c.is_ascii() && is_sep(c as u8))
        .filter(|t| !t.is_empty())
        .map(str::to_ascii_lowercase)
        .collect()
}

/// Language markers that packagers add to a name (`py-`, `-js`, `node-`...).
pub(crate) const LANG_WORDS: &[&str] = &[
    "py",
    "python",
    "python2",
    "python3",
    "py2",
    "py3",
    "js",
    "node",
    "nodejs",
    "javascript",
    "ts",
    "typescript",
];

/// Generic words attached to a popular name in combosquats.
pub(crate) const GENERIC_WORDS: &[&str] = &[
    "utils", "util", "dev", "latest", "sdk", "types", "type", "core", "cli", "api", "lib", "libs",
    "client", "tools", "tool", "toolkit", "helper", "helpers", "test", "tests", "next", "legacy",
    "fix", "fixed", "secure", "plus", "lite", "compat", "ext", "extra", "extras", "pkg", "package",
    "module", "new", "beta", "alpha", "async", "fast", "pro", "official", "wrapper", "plugin",
    "v2", "v3", "v4", "v5", "v6", "v7", "v8", "v9", "2", "3", "4", "5", "6", "7", "8", "9", "npm",
    "pip", "patch", "update", "updated", "release", "stable", "mod", "x",
];

/// Is `w` a language marker?
pub(crate) fn is_lang(w: &str) -> bool {
    LANG_WORDS.contains(&w)
}

/// Is `w` a generic combosquat word?
pub(crate) fn is_generic(w: &str) -> bool {
    GENERIC_WORDS.contains(&w)
}

/// The name with language markers removed, whether they stand as words
/// (`python-dateutil`, `dateutil-py`) or are glued to the first or last
/// word (`pyyaml`→`yaml` is *not* done: a glued `py` is part of too many
/// real names; only whole words and `.js`/`js` suffix words are removed).
/// Returns `None` when nothing was removed or nothing useful is left.
pub(crate) fn core(tokens: &[String]) -> Option<String> {
    let kept: Vec<&str> = tokens
        .iter()
        .map(String::as_str)
        .filter(|t| !is_lang(t))
        .collect();
    if kept.len() == tokens.len() || kept.is_empty() {
        return None;
    }
    let s: String = kept.concat();
    (s.len() >= 3).then_some(s)
}

/// The flat form without trailing version digits (and a `v` before them):
/// `urllib3` → `urllib`, `reactv2` → `react`.
pub(crate) fn digit_stem(flat: &str) -> &str {
    let t = flat.trim_end_matches(|c: char| c.is_ascii_digit());
    if t.len() < flat.len() {
        t.strip_suffix('v').filter(|s| s.len() >= 3).unwrap_or(t)
    } else {
        t
    }
}

/// Restricted Damerau-Levenshtein (optimal string alignment) distance, with
/// an early exit once every path exceeds `max`. Returns `max + 1` then.
pub(crate) fn osa(a: &[u8], b: &[u8], max: usize) -> usize {
    let (n, m) = (a.len(), b.len());
    if n.abs_diff(m) > max {
        return max + 1;
    }
    // Three rolling rows on the stack (names are at most 214 bytes; longer
    // input is cut, which only makes the distance an estimate for it): the
    // row two back is needed for transpositions.
    const W: usize = 256;
    let (a, b) = (&a[..n.min(W - 1)], &b[..m.min(W - 1)]);
    let (n, m) = (a.len(), b.len());
    let mut prev2 = [0usize; W];
    let mut prev = [0usize; W];
    let mut cur = [0usize; W];
    for (j, p) in prev.iter_mut().enumerate().take(m + 1) {
        *p = j;
    }
    for i in 1..=n {
        cur[0] = i;
        let mut row_min = cur[0];
        for j in 1..=m {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut v = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(prev2[j - 2] + 1);
            }
            cur[j] = v;
            row_min = row_min.min(v);
        }
        if row_min > max {
            return max + 1;
        }
        std::mem::swap(&mut prev2, &mut prev);
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[m].min(max + 1)
}

/// QWERTY neighbours (plus the digit row) of a key.
fn qwerty(c: u8) -> &'static [u8] {
    match c {
        b'q' => b"wa12",
        b'w' => b"qeas23",
        b'e' => b"wrsd34",
        b'r' => b"etdf45",
        b't' => b"ryfg56",
        b'y' => b"tugh67z",
        b'u' => b"yihj78",
        b'i' => b"uojk89",
        b'o' => b"ipkl90",
        b'p' => b"ol0",
        b'a' => b"qwsz",
        b's' => b"awedxz",
        b'd' => b"serfcx",
        b'f' => b"drtgvc",
        b'g' => b"ftyhbv",
        b'h' => b"gyujnb",
        b'j' => b"huikmn",
        b'k' => b"jiolm",
        b'l' => b"kop",
        b'z' => b"asxy",
        b'x' => b"zsdc",
        b'c' => b"xdfv",
        b'v' => b"cfgb",
        b'b' => b"vghn",
        b'n' => b"bhjm",
        b'm' => b"njk",
        b'1' => b"2q",
        b'2' => b"13qw",
        b'3' => b"24we",
        b'4' => b"35er",
        b'5' => b"46rt",
        b'6' => b"57ty",
        b'7' => b"68yu",
        b'8' => b"79ui",
        b'9' => b"80io",
        b'0' => b"9op",
        _ => b"",
    }
}

/// Are `a` and `b` neighbouring keys?
pub(crate) fn keyboard_neighbours(a: u8, b: u8) -> bool {
    qwerty(a).contains(&b) || qwerty(b).contains(&a)
}

/// Single-character ASCII look-alikes (`1/l/i`, `0/o`, and digits written
/// for the letters they resemble: `8/b`, `3/e`, `4/a`, `5/s`, `7/t`).
pub(crate) fn homoglyphs(a: u8, b: u8) -> bool {
    // Letter pairs only where they really look alike in common fonts;
    // weaker shape pairs (c/e, u/v, ...) count as ordinary substitutions.
    // A digit in place of a letter (`mo8x` for `mobx`) is the deliberate
    // look-alike spelling: honest names rarely swap a letter for a digit.
    const PAIRS: &[(u8, u8)] = &[
        (b'1', b'l'),
        (b'1', b'i'),
        (b'l', b'i'),
        (b'0', b'o'),
        (b'8', b'b'),
        (b'3', b'e'),
        (b'4', b'a'),
        (b'5', b's'),
        (b'7', b't'),
    ];
    PAIRS
        .iter()
        .any(|&(x, y)| (x == a && y == b) || (x == b && y == a))
}

/// The kind of a single edit turning the target into the candidate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Edit {
    /// The candidate lacks one character.
    Omission,
    /// The candidate doubles a character.
    Repetition,
    /// The candidate has one extra character.
    Insertion,
    /// Two neighbouring characters are swapped.
    Transposition,
    /// One character is replaced by a look-alike.
    Homoglyph,
    /// One character is replaced by a neighbouring key.
    Keyboard,
    /// A digit replaced by another digit.
    Digit,
    /// Any other replacement.
    Substitution,
}

/// Classify a distance-1 difference between `cand` and `target` (flat
/// forms). `None` when they are not one edit apart.
pub(crate) fn classify_one(cand: &[u8], target: &[u8]) -> Option<Edit> {
    let pre = cand.iter().zip(target).take_while(|(a, b)| a == b).count();
    let (cr, tr) = (cand.get(pre..)?, target.get(pre..)?);
    let suf = cr
        .iter()
        .rev()
        .zip(tr.iter().rev())
        .take_while(|(a, b)| a == b)
        .count();
    let cm = cr.get(..cr.len().saturating_sub(suf))?;
    let tm = tr.get(..tr.len().saturating_sub(suf))?;
    match (cm.len(), tm.len()) {
        (0, 1) => Some(Edit::Omission),
        (1, 0) => {
            let x = cm[0];
            // The inserted byte sits at `pre`; a repetition doubles a neighbour.
            let before = pre.checked_sub(1).and_then(|i| cand.get(i)).copied();
            let after = cand.get(pre + 1).copied();
            if before == Some(x) || after == Some(x) {
                Some(Edit::Repetition)
            } else {
                Some(Edit::Insertion)
            }
        }
        (1, 1) => {
            let (a, b) = (cm[0], tm[0]);
            Some(if homoglyphs(a, b) {
                Edit::Homoglyph
            } else if a.is_ascii_digit() && b.is_ascii_digit() {
                Edit::Digit
            } else if keyboard_neighbours(a, b) {
                Edit::Keyboard
            } else {
                Edit::Substitution
            })
        }
        (2, 2) if cm[0] == tm[1] && cm[1] == tm[0] => Some(Edit::Transposition),
        _ => None,
    }
}

/// A fast 64-bit hash of a byte string (FxHash-style multiply-rotate), used
/// for the deletion-neighbourhood index. Collisions are harmless: every hit
/// is verified with [`osa`].
pub(crate) fn hash_bytes(b: &[u8]) -> u64 {
    const K: u64 = 0x517c_c1b7_2722_0a95;
    let mut h: u64 = b.len() as u64;
    let mut chunks = b.chunks_exact(8);
    for c in &mut chunks {
        let mut w = [0u8; 8];
        w.copy_from_slice(c);
        h = (h.rotate_left(5) ^ u64::from_le_bytes(w)).wrapping_mul(K);
    }
    for &x in chunks.remainder() {
        h = (h.rotate_left(5) ^ u64::from(x)).wrapping_mul(K);
    }
    // Final avalanche so that the low bits used by the hash table are mixed.
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h
}

/// Call `f` with the hash of every string obtained from `s` by deleting up
/// to `depth` (1 or 2) bytes, the string itself included. Duplicates are
/// possible (deleting either `e` of `ee`); callers deduplicate hits.
pub(crate) fn for_each_delete(s: &[u8], depth: usize, mut f: impl FnMut(u64)) {
    let mut buf: Vec<u8> = Vec::with_capacity(s.len());
    let mut one: Vec<u8> = Vec::with_capacity(s.len());
    f(hash_bytes(s));
    if depth == 0 || s.len() < 2 {
        return;
    }
    for i in 0..s.len() {
        // Skip a deletion that equals the previous one (same byte repeated).
        if i > 0 && s.get(i) == s.get(i - 1) {
            continue;
        }
        buf.clear();
        buf.extend_from_slice(&s[..i]);
        buf.extend_from_slice(&s[i + 1..]);
        f(hash_bytes(&buf));
        if depth >= 2 && buf.len() >= 2 {
            one.clear();
            one.extend_from_slice(&buf);
            for j in i..one.len() {
                if j > i && one.get(j) == one.get(j - 1) {
                    continue;
                }
                buf.clear();
                buf.extend_from_slice(&one[..j]);
                buf.extend_from_slice(&one[j + 1..]);
                f(hash_bytes(&buf));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys() {
        assert_eq!(flat("@babel/core"), "babelcore");
        assert_eq!(flat("Babel_Core"), "babelcore");
        assert_eq!(skeleton("modernizr"), skeleton("modemizr"));
        assert_eq!(skeleton("jeilyfish"), skeleton("jellyfish"));
        assert_eq!(skeleton("g00gle"), skeleton("google"));
        assert_ne!(skeleton("flask"), skeleton("flash"));
        assert_eq!(tokens("python3-dateutil"), vec!["python3", "dateutil"]);
        assert_eq!(
            core(&tokens("python3-dateutil")),
            core(&tokens("python-dateutil"))
        );
        assert_eq!(core(&tokens("requests")), None);
    }

    #[test]
    fn distance() {
        assert_eq!(osa(b"lodash", b"loadsh", 2), 1);
        assert_eq!(osa(b"requests", b"reqeusts", 2), 1);
        assert_eq!(osa(b"abc", b"xyz", 2), 3);
        assert_eq!(osa(b"commondir", b"commonbiz", 2), 2);
        assert_eq!(osa(b"", b"ab", 2), 2);
    }

    #[test]
    fn classify() {
        assert_eq!(classify_one(b"reeact", b"react"), Some(Edit::Repetition));
        assert_eq!(
            classify_one(b"evntstream", b"eventstream"),
            Some(Edit::Omission)
        );
        assert_eq!(classify_one(b"falask", b"flask"), Some(Edit::Insertion));
        assert_eq!(
            classify_one(b"loadsh", b"lodash"),
            Some(Edit::Transposition)
        );
        assert_eq!(classify_one(b"numpu", b"numpy"), Some(Edit::Keyboard));
        assert_eq!(classify_one(b"djanga", b"django"), Some(Edit::Substitution));
        assert_eq!(classify_one(b"c1ick", b"click"), Some(Edit::Homoglyph));
        assert_eq!(classify_one(b"react", b"react"), None);
        assert_eq!(classify_one(b"abcd", b"dcba"), None);
    }

    #[test]
    fn deletes_cover_distance_two() {
        let mut a = std::collections::HashSet::new();
        for_each_delete(b"chokidar", 2, |h| {
            a.insert(h);
        });
        let mut hit = false;
        for_each_delete(b"chokdazr", 2, |h| hit |= a.contains(&h));
        assert!(hit);
        let mut miss = false;
        for_each_delete(b"webpack", 2, |h| miss |= a.contains(&h));
        assert!(!miss);
    }
}
