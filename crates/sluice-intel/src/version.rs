//! Version ordering per ecosystem: PEP 440 for PyPI, npm's semver for npm.
//!
//! OSV range events are compared "in the ecosystem's own ordering"
//! (ECOSYSTEM ranges) or by SemVer 2.0 precedence (SEMVER ranges). For
//! npm both are the same order; PyPI records use ECOSYSTEM ranges, and a
//! stray SEMVER range on a PyPI package is ordered by PEP 440 too, since
//! the versions it is compared with are PyPI's.

use std::cmp::Ordering;
use std::str::FromStr as _;

use sluice_model::Ecosystem;

/// The longest version string accepted from a record or a request; real
/// versions are far shorter, and this bounds the work a hostile record
/// can cause.
pub const MAX_VERSION_LEN: usize = 256;

/// A parsed version of one ecosystem.
#[derive(Clone, Debug)]
pub enum EcoVersion {
    /// A PEP 440 version (PyPI).
    Pep440(pep440_rs::Version),
    /// A SemVer 2.0 version (npm).
    Semver(semver::Version),
}

impl EcoVersion {
    /// Parse `raw` with the rules of `eco`.
    ///
    /// npm: node-semver's loose form is accepted (surrounding blanks and a
    /// leading `v` or `=`), as npm itself does when it reads versions.
    ///
    /// # Errors
    /// The string is too long or not a version of that ecosystem.
    pub fn parse(eco: Ecosystem, raw: &str) -> Result<Self, String> {
        let s = raw.trim();
        if s.len() > MAX_VERSION_LEN {
            return Err(format!(
                "version is {} bytes long (at most {MAX_VERSION_LEN})",
                s.len()
            ));
        }
        if s.is_empty() {
            return Err("version is empty".into());
        }
        match eco {
            Ecosystem::PyPI => pep440_rs::Version::from_str(s)
                .map(EcoVersion::Pep440)
                .map_err(|e| format!("`{}` is not a PEP 440 version: {e}", clip(s))),
            Ecosystem::Npm => {
                let t = s.strip_prefix('=').unwrap_or(s).trim_start();
                let t = t.strip_prefix(['v', 'V']).unwrap_or(t);
                semver::Version::parse(t)
                    .map(EcoVersion::Semver)
                    .map_err(|e| format!("`{}` is not a semver version: {e}", clip(s)))
            }
        }
    }

    /// Compare two versions of the same ecosystem. Build metadata of
    /// semver versions is ignored (SemVer 2.0 §10: it does not take part
    /// in precedence); versions of different ecosystems never meet in one
    /// comparison, and are ordered PyPI first so the order stays total.
    #[must_use]
    pub fn cmp_eco(&self, other: &Self) -> Ordering {
        match (self, other) {
            (EcoVersion::Pep440(a), EcoVersion::Pep440(b)) => a.cmp(b),
            (EcoVersion::Semver(a), EcoVersion::Semver(b)) => (a.major, a.minor, a.patch)
                .cmp(&(b.major, b.minor, b.patch))
                // A release sorts after its pre-releases (1.0.0-rc.1 < 1.0.0);
                // `Prerelease`'s own order puts the empty one first, so the
                // empty case is handled here.
                .then_with(|| match (a.pre.is_empty(), b.pre.is_empty()) {
                    (true, true) => Ordering::Equal,
                    (true, false) => Ordering::Greater,
                    (false, true) => Ordering::Less,
                    (false, false) => a.pre.cmp(&b.pre),
                }),
            (EcoVersion::Pep440(_), EcoVersion::Semver(_)) => Ordering::Less,
            (EcoVersion::Semver(_), EcoVersion::Pep440(_)) => Ordering::Greater,
        }
    }
}

/// A version string for a message: at most 64 characters.
pub(crate) fn clip(s: &str) -> String {
    if s.chars().count() <= 64 {
        s.to_owned()
    } else {
        let mut c: String = s.chars().take(64).collect();
        c.push('…');
        c
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ord(eco: Ecosystem, a: &str, b: &str) -> Ordering {
        EcoVersion::parse(eco, a)
            .unwrap()
            .cmp_eco(&EcoVersion::parse(eco, b).unwrap())
    }

    #[test]
    fn pep440_order() {
        use Ordering::*;
        let p = Ecosystem::PyPI;
        assert_eq!(ord(p, "1.0", "1.0.0"), Equal);
        assert_eq!(ord(p, "1.0a1", "1.0"), Less);
        assert_eq!(ord(p, "1.0.dev1", "1.0a1"), Less);
        assert_eq!(ord(p, "1.0", "1.0.post1"), Less);
        assert_eq!(ord(p, "1.0+local", "1.0"), Greater);
        assert_eq!(ord(p, "1!0.1", "2.0"), Greater);
        assert_eq!(ord(p, "1.10", "1.9"), Greater);
        assert_eq!(ord(p, "V1.0", "1.0"), Equal);
        assert_eq!(ord(p, "1.0rc1", "1.0c1"), Equal);
    }

    #[test]
    fn npm_order() {
        use Ordering::*;
        let n = Ecosystem::Npm;
        assert_eq!(ord(n, "1.0.0-alpha", "1.0.0-alpha.1"), Less);
        assert_eq!(ord(n, "1.0.0-alpha.1", "1.0.0-alpha.beta"), Less);
        assert_eq!(ord(n, "1.0.0-beta.2", "1.0.0-beta.11"), Less);
        assert_eq!(ord(n, "1.0.0-rc.1", "1.0.0"), Less);
        assert_eq!(ord(n, "1.0.0", "1.0.0-rc.1"), Greater);
        assert_eq!(ord(n, "1.0.0+build.1", "1.0.0+build.2"), Equal);
        assert_eq!(ord(n, "v1.2.3", "=1.2.3"), Equal);
        assert_eq!(ord(n, "1.10.0", "1.9.0"), Greater);
    }

    #[test]
    fn rejects_non_versions() {
        assert!(EcoVersion::parse(Ecosystem::Npm, "1.0").is_err());
        assert!(EcoVersion::parse(Ecosystem::Npm, "").is_err());
        assert!(EcoVersion::parse(Ecosystem::PyPI, "not a version").is_err());
        assert!(EcoVersion::parse(Ecosystem::PyPI, &"1".repeat(300)).is_err());
        let e =
            EcoVersion::parse(Ecosystem::Npm, &format!("1.0.0-{}!", "x".repeat(200))).unwrap_err();
        assert!(e.contains('…'), "{e}");
    }
}
