//! Simple code statistics: longest line, Shannon entropy, share of
//! non-ASCII bytes. One pass over each source file's bytes.

use sluice_model::{CodeStats, LangStats};

use crate::source::Language;

/// Files shorter than this do not count for the highest entropy (a short
/// file's byte histogram says little).
pub const MIN_ENTROPY_BYTES: usize = 256;

/// Accumulates [`CodeStats`] file by file.
#[derive(Debug, Default)]
pub struct Collector {
    stats: CodeStats,
    non_ascii: [u64; 3],
}

impl Collector {
    /// Count one source file.
    pub fn add(&mut self, path: &str, lang: Language, data: &[u8]) {
        self.add_with_role(path, lang, data, false);
    }

    /// Count one source file, also among the files that run unasked when
    /// `unasked`.
    pub fn add_with_role(&mut self, path: &str, lang: Language, data: &[u8], unasked: bool) {
        let (s, na) = match lang {
            Language::Python => (&mut self.stats.python, &mut self.non_ascii[0]),
            Language::JavaScript => (&mut self.stats.javascript, &mut self.non_ascii[1]),
        };
        let (hist, longest) = add_one(s, na, path, data);
        if unasked {
            let u = &mut self.stats.unasked;
            u.files += 1;
            u.bytes += data.len() as u64;
            self.non_ascii[2] += hist[128..].iter().sum::<u64>();
            update(u, path, &hist, longest, data.len());
        }
    }
}

fn add_one(s: &mut LangStats, na: &mut u64, path: &str, data: &[u8]) -> ([u64; 256], u64) {
    s.files += 1;
    s.bytes += data.len() as u64;
    let mut hist = [0u64; 256];
    for &b in data {
        hist[usize::from(b)] += 1;
    }
    *na += hist[128..].iter().sum::<u64>();
    let longest = data
        .split(|&b| b == b'\n')
        .map(<[u8]>::len)
        .max()
        .unwrap_or(0) as u64;
    update(s, path, &hist, longest, data.len());
    (hist, longest)
}

fn update(s: &mut LangStats, path: &str, hist: &[u64; 256], longest: u64, len: usize) {
    if longest > s.max_line {
        s.max_line = longest;
        s.max_line_file = Some(path.to_owned());
    }
    if len >= MIN_ENTROPY_BYTES {
        let h = entropy(hist, len);
        if h > s.max_entropy {
            s.max_entropy = h;
            s.max_entropy_file = Some(path.to_owned());
        }
    }
}

impl Collector {
    /// The statistics of every file added.
    #[must_use]
    pub fn finish(mut self) -> CodeStats {
        #[allow(clippy::cast_precision_loss)]
        for (s, na) in [
            (&mut self.stats.python, self.non_ascii[0]),
            (&mut self.stats.javascript, self.non_ascii[1]),
            (&mut self.stats.unasked, self.non_ascii[2]),
        ] {
            s.non_ascii = if s.bytes == 0 {
                0.0
            } else {
                na as f64 / s.bytes as f64
            };
            s.max_entropy = round4(s.max_entropy);
            s.non_ascii = round4(s.non_ascii);
        }
        self.stats
    }
}

/// Shannon entropy in bits per byte of a histogram over `n` bytes.
#[must_use]
#[allow(clippy::cast_precision_loss)]
pub fn entropy(hist: &[u64; 256], n: usize) -> f64 {
    if n == 0 {
        return 0.0;
    }
    let n = n as f64;
    hist.iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = c as f64 / n;
            -p * p.log2()
        })
        .sum()
}

fn round4(x: f64) -> f64 {
    (x * 1e4).round() / 1e4
}

/// Statistics of one language, for tests and callers that hold one file.
#[must_use]
pub fn of_one(path: &str, lang: Language, data: &[u8]) -> LangStats {
    let mut c = Collector::default();
    c.add(path, lang, data);
    let s = c.finish();
    match lang {
        Language::Python => s.python,
        Language::JavaScript => s.javascript,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entropy_of_uniform_and_constant_bytes() {
        let data: Vec<u8> = (0..=255u8).cycle().take(4096).collect();
        let s = of_one("a.py", Language::Python, &data);
        assert!((s.max_entropy - 8.0).abs() < 1e-9, "{}", s.max_entropy);
        let s = of_one("a.py", Language::Python, &[b'a'; 1000]);
        assert!(s.max_entropy.abs() < 1e-12);
        // Too short to count.
        let s = of_one("a.py", Language::Python, b"import os\n");
        assert!(s.max_entropy.abs() < 1e-12);
        assert!(s.max_entropy_file.is_none());
    }

    #[test]
    fn longest_line_and_non_ascii() {
        let mut c = Collector::default();
        c.add("p/a.py", Language::Python, b"x = 1\ny = 'long line here'\n");
        c.add("p/b.py", Language::Python, "z = 'é'\n".as_bytes());
        c.add_with_role("p/c.js", Language::JavaScript, b"var a = 1;", true);
        let s = c.finish();
        assert_eq!(s.unasked.files, 1);
        assert_eq!(s.unasked.max_line_file.as_deref(), Some("p/c.js"));
        assert_eq!(s.python.files, 2);
        assert_eq!(s.python.max_line, 20);
        assert_eq!(s.python.max_line_file.as_deref(), Some("p/a.py"));
        // 2 non-ASCII bytes (é) out of 36.
        assert!((s.python.non_ascii - 2.0 / 36.0).abs() < 1e-4);
        assert_eq!(s.javascript.files, 1);
        assert_eq!(s.javascript.max_line, 10);
    }
}
