//! Entry-name checking: turns a raw stored name into a safe relative path,
//! or explains (as [`Anomaly`]s) why the entry is left out.

use crate::{Anomaly, AnomalyKind};

/// Names longer than this are refused: no file system accepts them, and a
/// multi-megabyte GNU long name is a resource trick, not a file.
pub(crate) const MAX_NAME_BYTES: usize = 4096;

/// Longest entry name shown in an anomaly, in characters.
const DISPLAY_CHARS: usize = 300;

/// The outcome of checking one stored name.
#[derive(Debug)]
pub(crate) struct Checked {
    /// The normalised path, when the entry may be kept.
    pub path: Option<String>,
    /// Everything odd about the name (some are warnings on a kept entry).
    pub anomalies: Vec<Anomaly>,
    /// True when the name normalises to nothing (`./`, ``).
    pub empty: bool,
}

/// A printable form of a stored name: lossy UTF-8, control characters
/// escaped, long names clipped.
pub(crate) fn display(raw: &[u8]) -> String {
    let lossy = String::from_utf8_lossy(raw);
    let mut out = String::new();
    for (n, ch) in lossy.chars().enumerate() {
        if n >= DISPLAY_CHARS {
            out.push('…');
            break;
        }
        if ch.is_control() {
            out.extend(ch.escape_default());
        } else {
            out.push(ch);
        }
    }
    out
}

fn anomaly(kind: AnomalyKind, entry: &str, detail: String) -> Anomaly {
    Anomaly {
        kind,
        entry: entry.to_owned(),
        detail,
    }
}

/// True for `C:`-style prefixes (drive-absolute or drive-relative: both
/// leave the extraction folder on Windows).
fn has_drive_prefix(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 2 && b[0].is_ascii_alphabetic() && b[1] == b':'
}

/// Check a stored entry name.
///
/// Backslashes are treated as separators everywhere: Windows extractors do,
/// so `..\..\x` is a traversal even in a tar. `.` and empty components are
/// dropped (`./pkg//a` → `pkg/a`). A NUL byte cuts the name, as Python's
/// `zipfile` does, with a warning. A name that is not UTF-8 is kept under its
/// lossy form (U+FFFD for bad bytes) when that form is otherwise safe, so the
/// file's content is still analysed; a `BadNameEncoding` anomaly says so.
pub(crate) fn check(raw: &[u8], max_depth: usize) -> Checked {
    let shown = display(raw);
    let mut anomalies = Vec::new();
    if raw.len() > MAX_NAME_BYTES {
        anomalies.push(anomaly(
            AnomalyKind::BadNameEncoding,
            &shown,
            format!(
                "name is {} bytes long (limit {MAX_NAME_BYTES}); left out",
                raw.len()
            ),
        ));
        return Checked {
            path: None,
            anomalies,
            empty: false,
        };
    }
    let mut name = raw;
    if let Some(nul) = name.iter().position(|&b| b == 0) {
        name = &name[..nul];
        anomalies.push(anomaly(
            AnomalyKind::BadNameEncoding,
            &shown,
            format!(
                "name contains a NUL byte; readers stop there, so it is read as `{}`",
                display(name)
            ),
        ));
    }
    let text = match std::str::from_utf8(name) {
        Ok(s) => s.to_owned(),
        Err(_) => {
            let lossy = String::from_utf8_lossy(name).into_owned();
            anomalies.push(anomaly(
                AnomalyKind::BadNameEncoding,
                &shown,
                format!(
                    "name is not valid UTF-8; kept as `{}` when otherwise safe",
                    display(lossy.as_bytes())
                ),
            ));
            lossy
        }
    };
    let text = text.replace('\\', "/");
    if text.starts_with('/') || has_drive_prefix(&text) {
        anomalies.push(anomaly(
            AnomalyKind::AbsolutePath,
            &shown,
            "absolute path (leading `/`, `\\` or drive letter); left out".to_owned(),
        ));
        return Checked {
            path: None,
            anomalies,
            empty: false,
        };
    }
    let parts: Vec<&str> = text
        .split('/')
        .filter(|p| !p.is_empty() && *p != ".")
        .collect();
    if parts.contains(&"..") {
        let escapes = climbs_out(std::iter::empty(), &parts);
        anomalies.push(anomaly(
            AnomalyKind::PathTraversal,
            &shown,
            if escapes {
                "`..` component resolves outside the extraction folder; left out".to_owned()
            } else {
                "`..` component (stays inside the archive, but no honest packer writes it); left out"
                    .to_owned()
            },
        ));
        return Checked {
            path: None,
            anomalies,
            empty: false,
        };
    }
    if parts.len() > max_depth {
        anomalies.push(anomaly(
            AnomalyKind::TooDeep,
            &shown,
            format!(
                "{} path components (limit {max_depth}); left out",
                parts.len()
            ),
        ));
        return Checked {
            path: None,
            anomalies,
            empty: false,
        };
    }
    if parts.is_empty() {
        return Checked {
            path: None,
            anomalies,
            empty: true,
        };
    }
    Checked {
        path: Some(parts.join("/")),
        anomalies,
        empty: false,
    }
}

/// Walk `rel` from `base` and say whether it ever goes above the root.
fn climbs_out<'a>(base: impl Iterator<Item = &'a str>, rel: &[&str]) -> bool {
    let mut depth = base.count();
    for part in rel {
        match *part {
            "" | "." => {}
            ".." => {
                if depth == 0 {
                    return true;
                }
                depth -= 1;
            }
            _ => depth += 1,
        }
    }
    false
}

/// Describe a link entry: its target and whether the target leaves the
/// archive root. `link_path` is the link's own name (raw), `hard` says
/// whether the target is relative to the archive root (hard links) or to
/// the link's folder (symlinks).
pub(crate) fn link_detail(link_path: &[u8], target: &[u8], hard: bool) -> String {
    let link = String::from_utf8_lossy(link_path).replace('\\', "/");
    let tgt = String::from_utf8_lossy(target).replace('\\', "/");
    let outside = if tgt.starts_with('/') || has_drive_prefix(&tgt) || target.is_empty() {
        true
    } else {
        let link_parts: Vec<&str> = link
            .split('/')
            .filter(|p| !p.is_empty() && *p != ".")
            .collect();
        // A link whose own name climbs out is outside whatever it points at.
        if climbs_out(std::iter::empty(), &link_parts) {
            true
        } else {
            let base: Vec<&str> = if hard {
                Vec::new()
            } else {
                link_parts[..link_parts.len().saturating_sub(1)].to_vec()
            };
            let rel: Vec<&str> = tgt.split('/').collect();
            climbs_out(base.into_iter(), &rel)
        }
    };
    format!(
        "{} target: `{}` ({}); never followed",
        if hard { "hard link" } else { "symlink" },
        display(target),
        if outside {
            "points outside the archive root"
        } else {
            "stays inside the archive"
        }
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(c: &Checked) -> Vec<AnomalyKind> {
        c.anomalies.iter().map(|a| a.kind).collect()
    }

    #[test]
    fn plain_names_are_normalised() {
        let c = check(b"./pkg-1.0//src/./a.py", 64);
        assert_eq!(c.path.as_deref(), Some("pkg-1.0/src/a.py"));
        assert!(c.anomalies.is_empty());
        let c = check(b"pkg\\sub\\a.py", 64);
        assert_eq!(c.path.as_deref(), Some("pkg/sub/a.py"));
    }

    #[test]
    fn traversal_and_absolute_are_refused() {
        for (raw, kind) in [
            (&b"../evil"[..], AnomalyKind::PathTraversal),
            (b"pkg/../../evil", AnomalyKind::PathTraversal),
            (b"..\\..\\evil", AnomalyKind::PathTraversal),
            (b"/etc/passwd", AnomalyKind::AbsolutePath),
            (b"\\windows\\x", AnomalyKind::AbsolutePath),
            (b"C:\\x", AnomalyKind::AbsolutePath),
            (b"c:x", AnomalyKind::AbsolutePath),
        ] {
            let c = check(raw, 64);
            assert_eq!(c.path, None, "{raw:?}");
            assert_eq!(kinds(&c), vec![kind], "{raw:?}");
        }
        assert!(
            check(b"a/../../b", 64).anomalies[0]
                .detail
                .contains("outside")
        );
        assert!(
            check(b"a/b/../c", 64).anomalies[0]
                .detail
                .contains("stays inside")
        );
    }

    #[test]
    fn names_with_dots_inside_are_fine() {
        let c = check(b"pkg/..hidden/a..b", 64);
        assert_eq!(c.path.as_deref(), Some("pkg/..hidden/a..b"));
    }

    #[test]
    fn depth_limit() {
        assert_eq!(check(b"a/b/c", 3).path.as_deref(), Some("a/b/c"));
        let c = check(b"a/b/c/d", 3);
        assert_eq!(c.path, None);
        assert_eq!(kinds(&c), vec![AnomalyKind::TooDeep]);
    }

    #[test]
    fn bad_encoding_kept_lossy_nul_cut() {
        let c = check(b"pkg/\xff\xfe.py", 64);
        assert_eq!(c.path.as_deref(), Some("pkg/\u{fffd}\u{fffd}.py"));
        assert_eq!(kinds(&c), vec![AnomalyKind::BadNameEncoding]);
        let c = check(b"pkg/evil.py\0.txt", 64);
        assert_eq!(c.path.as_deref(), Some("pkg/evil.py"));
        assert_eq!(kinds(&c), vec![AnomalyKind::BadNameEncoding]);
        // Bad bytes do not excuse a traversal.
        let c = check(b"../\xff", 64);
        assert_eq!(c.path, None);
        assert!(kinds(&c).contains(&AnomalyKind::PathTraversal));
    }

    #[test]
    fn empty_and_overlong() {
        assert!(check(b"./", 64).empty);
        assert!(check(b"", 64).empty);
        let long = vec![b'a'; MAX_NAME_BYTES + 1];
        let c = check(&long, 64);
        assert_eq!(c.path, None);
        assert!(!c.empty);
        assert!(c.anomalies[0].entry.len() < 400);
    }

    #[test]
    fn link_targets() {
        assert!(link_detail(b"pkg/a", b"../../etc/passwd", false).contains("outside"));
        assert!(link_detail(b"pkg/a", b"/etc/passwd", false).contains("outside"));
        assert!(link_detail(b"pkg/sub/a", b"../b", false).contains("stays inside"));
        assert!(link_detail(b"pkg/a", b"pkg/b", true).contains("stays inside"));
        assert!(link_detail(b"pkg/a", b"../b", true).contains("outside"));
        assert!(link_detail(b"pkg/a", b"..\\..\\x", false).contains("outside"));
    }

    #[test]
    fn display_escapes_controls() {
        assert_eq!(display(b"a\nb"), "a\\nb");
    }
}
