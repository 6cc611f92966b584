use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::Ecosystem;

/// The longest package name npm accepts; PyPI has no documented limit, and we
/// apply the same bound to both so hostile input cannot make names huge.
pub const MAX_NAME_LEN: usize = 214;

/// A package name normalised for its ecosystem, with the raw spelling kept.
///
/// - PyPI: PEP 503 — lower-case, and every run of `-`, `_` and `.` becomes a
///   single `-`. Names must match PEP 508's
///   `^([A-Z0-9]|[A-Z0-9][A-Z0-9._-]*[A-Z0-9])$` (case-insensitive).
/// - npm: names are compared as written but must be lower-case for new
///   packages; we lower-case for comparison and keep the raw form. A scoped
///   name is `@scope/name`; `%2f` (any case) in a URL-encoded name is
///   decoded to `/`.
///
/// The raw spelling is evidence for name-confusion detection, so it is kept
/// beside the normalised form and never thrown away.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PackageName {
    eco: Ecosystem,
    norm: Box<str>,
    raw: Box<str>,
}

/// Why a string is not a valid package name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NameError {
    /// The name is empty.
    #[error("package name is empty")]
    Empty,
    /// The name is longer than [`MAX_NAME_LEN`].
    #[error("package name is {0} characters long (at most {MAX_NAME_LEN})")]
    TooLong(usize),
    /// The name holds a character the registry does not allow.
    #[error("package name `{name}` contains `{ch}`, which {eco} does not allow")]
    BadChar {
        /// The ecosystem whose rules were applied.
        eco: Ecosystem,
        /// The offending name (escaped for display).
        name: String,
        /// The first character that is not allowed.
        ch: char,
    },
    /// The name starts or ends with a character that is not allowed there.
    #[error("package name `{0}` must start and end with a letter or digit")]
    BadEdge(String),
    /// An npm scope is malformed (`@scope/name` expected).
    #[error("npm name `{0}` has a malformed scope (expected `@scope/name`)")]
    BadScope(String),
}

impl PackageName {
    /// Parse and normalise `raw` under the rules of `eco`.
    ///
    /// # Errors
    /// Returns a [`NameError`] when the name is empty, too long or holds
    /// characters the registry does not allow.
    pub fn parse(eco: Ecosystem, raw: &str) -> Result<Self, NameError> {
        let norm = match eco {
            Ecosystem::PyPI => normalize_pypi(raw)?,
            Ecosystem::Npm => normalize_npm(raw)?,
        };
        Ok(Self {
            eco,
            norm: norm.into(),
            raw: raw.into(),
        })
    }

    /// The ecosystem this name belongs to.
    #[must_use]
    pub fn ecosystem(&self) -> Ecosystem {
        self.eco
    }

    /// The normalised name, the form used for comparison and storage.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.norm
    }

    /// The name exactly as it was given.
    #[must_use]
    pub fn raw(&self) -> &str {
        &self.raw
    }

    /// For a scoped npm name, the scope without `@`.
    #[must_use]
    pub fn scope(&self) -> Option<&str> {
        if self.eco != Ecosystem::Npm {
            return None;
        }
        self.norm
            .strip_prefix('@')
            .and_then(|rest| rest.split_once('/'))
            .map(|(scope, _)| scope)
    }

    /// The name without its npm scope (the whole name for PyPI).
    #[must_use]
    pub fn unscoped(&self) -> &str {
        match self.scope() {
            Some(scope) => &self.norm[scope.len() + 2..],
            None => &self.norm,
        }
    }
}

impl fmt::Display for PackageName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.norm)
    }
}

fn check_len(raw: &str) -> Result<(), NameError> {
    if raw.is_empty() {
        return Err(NameError::Empty);
    }
    let n = raw.chars().count();
    if n > MAX_NAME_LEN {
        return Err(NameError::TooLong(n));
    }
    Ok(())
}

fn bad_char(eco: Ecosystem, raw: &str, ch: char) -> NameError {
    NameError::BadChar {
        eco,
        name: raw.escape_debug().to_string(),
        ch,
    }
}

/// PEP 503 normalisation, after PEP 508 validation.
fn normalize_pypi(raw: &str) -> Result<String, NameError> {
    check_len(raw)?;
    if let Some(ch) = raw
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
    {
        return Err(bad_char(Ecosystem::PyPI, raw, ch));
    }
    let first = raw.as_bytes()[0];
    let last = raw.as_bytes()[raw.len() - 1];
    if !first.is_ascii_alphanumeric() || !last.is_ascii_alphanumeric() {
        return Err(NameError::BadEdge(raw.to_owned()));
    }
    let mut out = String::with_capacity(raw.len());
    let mut in_sep = false;
    for c in raw.chars() {
        if matches!(c, '-' | '_' | '.') {
            if !in_sep {
                out.push('-');
            }
            in_sep = true;
        } else {
            out.push(c.to_ascii_lowercase());
            in_sep = false;
        }
    }
    Ok(out)
}

/// npm's rules (validate-npm-package-name): URL-safe characters, no leading
/// `.` or `_`, at most 214 characters, lower-case for comparison.
fn normalize_npm(raw: &str) -> Result<String, NameError> {
    check_len(raw)?;
    // A name taken from a URL path may carry its `/` encoded.
    let decoded = decode_scope_slash(raw);
    let lower = decoded.to_ascii_lowercase();
    let (scope, name) = match lower.strip_prefix('@') {
        Some(rest) => match rest.split_once('/') {
            Some((s, n)) if !s.is_empty() && !n.is_empty() && !n.contains('/') => (Some(s), n),
            _ => return Err(NameError::BadScope(raw.to_owned())),
        },
        None => (None, lower.as_str()),
    };
    for part in scope.iter().copied().chain(std::iter::once(name)) {
        if let Some(ch) = part
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '~')))
        {
            return Err(bad_char(Ecosystem::Npm, raw, ch));
        }
        if part.starts_with('.') || part.starts_with('_') || part == "node_modules" {
            return Err(NameError::BadEdge(raw.to_owned()));
        }
    }
    Ok(lower)
}

fn decode_scope_slash(raw: &str) -> std::borrow::Cow<'_, str> {
    let lower = raw.to_ascii_lowercase();
    if let Some(pos) = lower.find("%2f") {
        let mut s = String::with_capacity(raw.len());
        s.push_str(&raw[..pos]);
        s.push('/');
        s.push_str(&raw[pos + 3..]);
        std::borrow::Cow::Owned(s)
    } else {
        std::borrow::Cow::Borrowed(raw)
    }
}

impl Serialize for PackageName {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("PackageName", 3)?;
        st.serialize_field("ecosystem", &self.eco)?;
        st.serialize_field("name", &*self.norm)?;
        st.serialize_field("raw", &*self.raw)?;
        st.end()
    }
}

impl<'de> Deserialize<'de> for PackageName {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        struct Wire {
            ecosystem: Ecosystem,
            #[serde(default)]
            name: Option<String>,
            raw: String,
        }
        let w = Wire::deserialize(d)?;
        let _ = w.name;
        PackageName::parse(w.ecosystem, &w.raw).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pep503() {
        let n = PackageName::parse(Ecosystem::PyPI, "Foo.Bar__baz-_qux").unwrap();
        assert_eq!(n.as_str(), "foo-bar-baz-qux");
        assert_eq!(n.raw(), "Foo.Bar__baz-_qux");
    }

    #[test]
    fn pypi_rejects() {
        assert_eq!(
            PackageName::parse(Ecosystem::PyPI, ""),
            Err(NameError::Empty)
        );
        assert!(PackageName::parse(Ecosystem::PyPI, "-abc").is_err());
        assert!(PackageName::parse(Ecosystem::PyPI, "a/b").is_err());
        assert!(PackageName::parse(Ecosystem::PyPI, "ülib").is_err());
        assert!(PackageName::parse(Ecosystem::PyPI, &"a".repeat(215)).is_err());
    }

    #[test]
    fn npm_scope() {
        let n = PackageName::parse(Ecosystem::Npm, "@Types%2Fnode").unwrap();
        assert_eq!(n.as_str(), "@types/node");
        assert_eq!(n.scope(), Some("types"));
        assert_eq!(n.unscoped(), "node");
        assert!(PackageName::parse(Ecosystem::Npm, "@/x").is_err());
        assert!(PackageName::parse(Ecosystem::Npm, "@a/b/c").is_err());
        assert!(PackageName::parse(Ecosystem::Npm, ".hidden").is_err());
        assert!(PackageName::parse(Ecosystem::Npm, "a b").is_err());
        assert!(PackageName::parse(Ecosystem::Npm, "..").is_err());
    }

    #[test]
    fn serde_roundtrip_goes_through_parse() {
        let n = PackageName::parse(Ecosystem::PyPI, "Django_Rest").unwrap();
        let j = serde_json::to_string(&n).unwrap();
        assert_eq!(
            j,
            r#"{"ecosystem":"PyPI","name":"django-rest","raw":"Django_Rest"}"#
        );
        let back: PackageName = serde_json::from_str(&j).unwrap();
        assert_eq!(back, n);
        assert!(
            serde_json::from_str::<PackageName>(r#"{"ecosystem":"PyPI","raw":"../x"}"#).is_err()
        );
    }
}
