//! `ARC6xx`: archive tricks reported by `sluice-archive`, as findings.

use sluice_archive::{Anomaly, AnomalyKind};
use sluice_model::{Confidence, Finding, RuleCode, Severity};

/// Turn archive anomalies into findings.
#[must_use]
pub fn from_anomalies(anomalies: &[Anomaly]) -> Vec<Finding> {
    anomalies.iter().map(one).collect()
}

fn one(a: &Anomaly) -> Finding {
    let (code, name, sev, conf, msg) = match a.kind {
        AnomalyKind::PathTraversal => (
            "ARC601",
            "archive-path-traversal",
            Severity::High,
            Confidence::High,
            "archive entry climbs out of the extraction folder with `..`",
        ),
        AnomalyKind::AbsolutePath => (
            "ARC602",
            "archive-absolute-path",
            Severity::High,
            Confidence::High,
            "archive entry has an absolute path",
        ),
        AnomalyKind::Link => (
            "ARC603",
            "archive-link",
            Severity::Low,
            Confidence::Medium,
            "archive holds a link (not followed)",
        ),
        AnomalyKind::DuplicateEntry => (
            "ARC604",
            "archive-duplicate-entry",
            Severity::Medium,
            Confidence::High,
            "archive holds two entries with the same path; installers may read a different one than a scanner",
        ),
        AnomalyKind::SpecialFile => (
            "ARC605",
            "archive-special-file",
            Severity::Medium,
            Confidence::High,
            "archive holds a device, fifo or other special file",
        ),
        AnomalyKind::SizeMismatch => (
            "ARC606",
            "archive-size-mismatch",
            Severity::Medium,
            Confidence::Medium,
            "declared entry size disagrees with the bytes present",
        ),
        AnomalyKind::TooDeep => (
            "ARC607",
            "archive-too-deep",
            Severity::Low,
            Confidence::Medium,
            "archive entry nested deeper than the depth limit; left out",
        ),
        AnomalyKind::TruncatedFile => (
            "ARC608",
            "archive-huge-file",
            Severity::Info,
            Confidence::High,
            "file larger than the per-file limit; only its start was analysed",
        ),
        AnomalyKind::BadNameEncoding => (
            "ARC609",
            "archive-bad-name-encoding",
            Severity::Low,
            Confidence::Medium,
            "archive entry name is not valid UTF-8",
        ),
        _ => (
            "ARC699",
            "archive-anomaly",
            Severity::Low,
            Confidence::Low,
            "archive anomaly",
        ),
    };
    // A link aiming outside the archive is how extraction escapes the work
    // folder (CVE-2007-4559 style): high, not a curiosity.
    // An absolute link to an interpreter or a system library (a committed
    // virtualenv's `bin/python → /usr/bin/python3`) is a packaging slip;
    // a link into home folders, /etc, site-packages or up through `..` is
    // how an extraction writes where it must not.
    let (sev, conf, msg) = if a.kind == AnomalyKind::Link && points_outside(&a.detail) {
        if points_somewhere_sensitive(&a.detail) {
            (
                Severity::High,
                Confidence::High,
                "archive holds a link pointing outside the archive, at a sensitive place (not followed)",
            )
        } else {
            (
                Severity::Low,
                Confidence::Medium,
                "archive holds a link pointing outside the archive (not followed)",
            )
        }
    } else {
        (sev, conf, msg)
    };
    let mut f = Finding::new(RuleCode::new(code), name, sev, conf, msg)
        .excerpt(&a.entry)
        .evidence(a.detail.clone());
    f.file = Some(a.entry.clone());
    f
}

/// True when a link's target is a place an attacker would write through:
/// relative escapes, home folders, configuration, site-packages, devices.
fn points_somewhere_sensitive(detail: &str) -> bool {
    let d = detail.to_ascii_lowercase();
    let target = d.rsplit("target:").next().unwrap_or("").trim();
    target.starts_with("..")
        || target.contains("/../")
        || [
            "/etc",
            "/root",
            "/home/",
            "~",
            ".ssh",
            ".bashrc",
            ".profile",
            ".config",
            "site-packages",
            "dist-packages",
            "/proc",
            "/dev/",
            "/var/",
            "/boot",
            "\\windows",
            ":\\users",
        ]
        .iter()
        .any(|p| target.contains(p))
}

/// True when a link's detail says its target leaves the archive.
fn points_outside(detail: &str) -> bool {
    let d = detail.to_ascii_lowercase();
    if d.contains("outside") {
        return true;
    }
    let target = d.rsplit("target:").next().unwrap_or("").trim();
    target.starts_with('/')
        || target.starts_with("..")
        || target.contains("/../")
        || target.contains(":\\")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outside_links_are_high() {
        let a = Anomaly {
            kind: AnomalyKind::Link,
            entry: "p/x".into(),
            detail: "link target: ../../etc/passwd".into(),
        };
        assert_eq!(from_anomalies(&[a])[0].severity, Severity::High);
        let a = Anomaly {
            kind: AnomalyKind::Link,
            entry: "p/x".into(),
            detail: "link target: sub/y".into(),
        };
        assert_eq!(from_anomalies(&[a])[0].severity, Severity::Low);
        // a committed virtualenv's interpreter link: a slip, not an attack
        let a = Anomaly {
            kind: AnomalyKind::Link,
            entry: "p/venv/bin/python".into(),
            detail: "link target: /usr/bin/python3".into(),
        };
        assert_eq!(from_anomalies(&[a])[0].severity, Severity::Low);
        let a = Anomaly {
            kind: AnomalyKind::Link,
            entry: "p/x".into(),
            detail: "link target: /root/.ssh/authorized_keys".into(),
        };
        assert_eq!(from_anomalies(&[a])[0].severity, Severity::High);
    }
}
