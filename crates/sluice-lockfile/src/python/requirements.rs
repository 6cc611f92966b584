//! pip requirements and constraints files: one requirement per logical
//! line (backslash continuations joined), `-r`/`-c` includes resolved
//! relative to the including file, `--hash` options, environment markers,
//! direct URLs and `-e` editables. Only `==`/`===` pins give a version;
//! other entries are listed without one.

use std::path::Path;

use super::{add, name_from_artifact_url, parse_pep508, url_source};
use crate::{Parsed, SourceKind};

/// Parse a requirements file.
pub(crate) fn parse(path: &Path, text: &str) -> Parsed {
    let mut p = Parsed::default();
    let dir = path.parent().unwrap_or(Path::new("."));
    for (line_no, logical) in logical_lines(text) {
        let (body, hashes) = take_hashes(&logical);
        let body = body.trim();
        if body.is_empty() {
            continue;
        }
        if let Some(target) = include_target(body) {
            if target.contains("://") {
                p.warn(
                    path,
                    line_no,
                    format!("remote include `{}` not read", crate::clip(target)),
                );
            } else {
                p.includes.push(dir.join(target));
            }
            continue;
        }
        let (editable, body) = match strip_option(body, &["-e", "--editable"]) {
            Some(rest) => (true, rest),
            None => (false, body),
        };
        if body.starts_with('-') {
            // Global options (`--index-url`, `--pre`, …) name no package.
            continue;
        }
        requirement(&mut p, path, line_no, body, editable, hashes);
    }
    p
}

fn requirement(
    p: &mut Parsed,
    path: &Path,
    line: u32,
    body: &str,
    editable: bool,
    hashes: Vec<String>,
) {
    let looks_url = body.split_once("://").is_some_and(|(scheme, _)| {
        scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '+')
    }) || body.starts_with('.')
        || body.starts_with('/')
        || body.starts_with("file:");
    let (name, version, url) = if looks_url {
        let url = body.split(" ;").next().unwrap_or(body).trim();
        let egg = url
            .split_once("#egg=")
            .map(|(_, e)| e.split('&').next().unwrap_or(e));
        match egg {
            Some(e) => (e.to_owned(), None, Some(url)),
            None => match name_from_artifact_url(url) {
                Some((n, v)) => (n.to_owned(), v.map(str::to_owned), Some(url)),
                None => {
                    p.warn(
                        path,
                        line,
                        format!("`{}` names no package (no #egg=)", crate::clip(url)),
                    );
                    return;
                }
            },
        }
    } else {
        let Some(r) = parse_pep508(body) else {
            p.warn(
                path,
                line,
                format!("not a requirement: `{}`", crate::clip(body)),
            );
            return;
        };
        (r.name.to_owned(), r.pinned.map(str::to_owned), r.url)
    };
    let Some(d) = add(p, path, &name, version.as_deref(), line) else {
        return;
    };
    d.hashes = hashes;
    if let Some(u) = url {
        d.source = url_source(u);
        d.url = Some(u.to_owned());
    }
    if editable {
        d.direct = Some(true);
        if d.source == SourceKind::Url {
            d.source = SourceKind::Path;
        }
    }
}

/// Lines with comments removed and `\` continuations joined, each with the
/// line number of its first physical line.
fn logical_lines(text: &str) -> Vec<(u32, String)> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut start = 0u32;
    for (i, raw) in text.lines().enumerate() {
        let no = u32::try_from(i + 1).unwrap_or(u32::MAX);
        if cur.is_empty() {
            start = no;
        }
        let line = strip_comment(raw);
        if let Some(head) = line.strip_suffix('\\') {
            cur.push_str(head);
            cur.push(' ');
            continue;
        }
        cur.push_str(line);
        if !cur.trim().is_empty() {
            out.push((start, std::mem::take(&mut cur)));
        }
        cur.clear();
    }
    if !cur.trim().is_empty() {
        out.push((start, cur));
    }
    out
}

/// pip's rule: `#` at the start of a line or after whitespace starts a
/// comment (so `#egg=` in a URL is kept).
fn strip_comment(line: &str) -> &str {
    let b = line.as_bytes();
    for (i, &c) in b.iter().enumerate() {
        if c == b'#' && (i == 0 || b[i - 1].is_ascii_whitespace()) {
            return line[..i].trim_end();
        }
    }
    line.trim_end()
}

/// Remove `--hash=algo:hex` / `--hash algo:hex` options, returning them.
fn take_hashes(line: &str) -> (String, Vec<String>) {
    let mut body = Vec::new();
    let mut hashes = Vec::new();
    let mut words = line.split_whitespace();
    while let Some(w) = words.next() {
        if let Some(h) = w.strip_prefix("--hash=") {
            hashes.push(h.to_owned());
        } else if w == "--hash" {
            if let Some(h) = words.next() {
                hashes.push(h.to_owned());
            }
        } else {
            body.push(w);
        }
    }
    (body.join(" "), hashes)
}

fn include_target(body: &str) -> Option<&str> {
    strip_option(body, &["-r", "--requirement", "-c", "--constraint"])
}

/// The value of an option written `-r x`, `-rx`, `--requirement x` or
/// `--requirement=x`.
fn strip_option<'a>(body: &'a str, names: &[&str]) -> Option<&'a str> {
    for n in names {
        if let Some(rest) = body.strip_prefix(n) {
            let v = if n.starts_with("--") {
                rest.strip_prefix('=').or_else(|| rest.strip_prefix(' '))
            } else {
                Some(rest.strip_prefix('=').unwrap_or(rest))
            };
            if let Some(v) = v.map(str::trim).filter(|v| !v.is_empty()) {
                return Some(v);
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SourceKind;

    #[test]
    fn shapes() {
        let t = "\
# comment
-i http://127.0.0.1:9/simple
requests==2.31.0 \\
    --hash=sha256:aaa \\
    --hash sha256:bbb
Flask>=2  # unpinned
idna===3.4 ; python_version >= \"3\"
-r common.txt
--constraint=c.txt
-e git+https://git.example/x.git#egg=xlib
pkg @ https://h.example/pkg-1.0.tar.gz
http://127.0.0.1:9/files/six-1.16.0-py2.py3-none-any.whl
./local/dir
bad name!
";
        let p = parse(Path::new("/r/requirements.txt"), t);
        let got: Vec<(&str, Option<&str>, u32)> = p
            .deps
            .iter()
            .map(|d| (d.name.as_str(), d.version.as_deref(), d.line))
            .collect();
        assert_eq!(
            got,
            vec![
                ("requests", Some("2.31.0"), 3),
                ("flask", None, 6),
                ("idna", Some("3.4"), 7),
                ("xlib", None, 10),
                ("pkg", None, 11),
                ("six", Some("1.16.0"), 12),
            ]
        );
        assert_eq!(p.deps[0].hashes, vec!["sha256:aaa", "sha256:bbb"]);
        assert_eq!(p.deps[3].source, SourceKind::Git);
        assert_eq!(p.deps[4].source, SourceKind::Url);
        assert_eq!(
            p.includes,
            vec![Path::new("/r/common.txt"), Path::new("/r/c.txt")]
        );
        // `./local/dir` names no package; `bad name!` is not a requirement.
        assert_eq!(p.warnings.len(), 2, "{:?}", p.warnings);
        assert!(p.warnings[1].to_string().contains("requirements.txt:14"));
    }
}
