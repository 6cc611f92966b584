//! Private (internal) names, prefixes and npm scopes for dependency-confusion
//! checks.
//!
//! Two file forms are accepted.
//!
//! TOML:
//! ```toml
//! names = ["acme-billing", "pypi:acme-auth", "npm:@acme/ui-kit"]
//! prefixes = ["acme-"]
//! scopes = ["acme"]
//! ```
//!
//! Text, one entry a line, `#` comments:
//! ```text
//! acme-billing          # a name, checked in both registries
//! pypi:acme-auth        # a name in one registry
//! prefix:acme-
//! scope:@acme
//! ```

use serde::Deserialize;
use sluice_model::{Ecosystem, PackageName};

use crate::Error;
use crate::index::Popular;

/// The organisation's internal names.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PrivateList {
    names: Vec<(Option<Ecosystem>, String)>,
    prefixes: Vec<String>,
    scopes: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TomlForm {
    #[serde(default)]
    names: Vec<String>,
    #[serde(default)]
    prefixes: Vec<String>,
    #[serde(default)]
    scopes: Vec<String>,
}

impl PrivateList {
    /// Parse a private-name file (TOML or text, see the module docs).
    ///
    /// # Errors
    /// [`Error::BadPrivate`] naming the first bad entry and its line.
    pub fn parse(text: &str) -> Result<Self, Error> {
        let looks_toml = text.lines().any(|l| {
            l.trim_start().starts_with("names")
                || l.trim_start().starts_with("prefixes")
                || l.trim_start().starts_with("scopes")
                || l.trim_start().starts_with('[')
        });
        if looks_toml && text.contains('=') {
            let t: TomlForm =
                toml::from_str(text).map_err(|e| Error::BadPrivate(format!("toml: {e}")))?;
            let mut out = PrivateList::default();
            for n in t.names {
                out.add_name(&n)
                    .map_err(|e| Error::BadPrivate(format!("`{n}`: {e}")))?;
            }
            for p in t.prefixes {
                out.add_prefix(&p)?;
            }
            for s in t.scopes {
                out.add_scope(&s)?;
            }
            return Ok(out);
        }
        let mut out = PrivateList::default();
        for (i, line) in text.lines().enumerate() {
            let line = line.split('#').next().unwrap_or("").trim();
            if line.is_empty() {
                continue;
            }
            let r = if let Some(p) = line.strip_prefix("prefix:") {
                out.add_prefix(p.trim())
            } else if let Some(s) = line.strip_prefix("scope:") {
                out.add_scope(s.trim())
            } else {
                out.add_name(line)
            };
            r.map_err(|e| Error::BadPrivate(format!("line {}: {e}", i + 1)))?;
        }
        Ok(out)
    }

    /// Add a name, optionally prefixed `pypi:` or `npm:`.
    ///
    /// # Errors
    /// When the name is invalid for its registry (or for both, unprefixed).
    pub fn add_name(&mut self, raw: &str) -> Result<(), Error> {
        let (eco, name) = match raw.split_once(':') {
            Some((e, n)) => (
                Some(
                    e.parse::<Ecosystem>()
                        .map_err(|e| Error::BadPrivate(e.to_string()))?,
                ),
                n,
            ),
            None => (None, raw),
        };
        let ecos: Vec<Ecosystem> = match eco {
            Some(e) => vec![e],
            None => vec![Ecosystem::PyPI, Ecosystem::Npm],
        };
        let mut ok = false;
        let mut last = None;
        for e in ecos {
            match PackageName::parse(e, name) {
                Ok(p) => {
                    self.names.push((Some(e), p.as_str().to_owned()));
                    ok = true;
                }
                Err(err) => last = Some(err),
            }
        }
        match (ok, last) {
            (false, Some(e)) => Err(Error::BadPrivate(e.to_string())),
            _ => Ok(()),
        }
    }

    /// Add a name prefix (`acme-`).
    ///
    /// # Errors
    /// When the prefix is empty or not ASCII.
    pub fn add_prefix(&mut self, p: &str) -> Result<(), Error> {
        if p.len() < 2 || !p.is_ascii() {
            return Err(Error::BadPrivate(format!(
                "bad prefix `{}`",
                p.escape_debug()
            )));
        }
        self.prefixes.push(p.to_ascii_lowercase());
        Ok(())
    }

    /// Add an npm scope (`acme` or `@acme`).
    ///
    /// # Errors
    /// When the scope is empty or has characters npm does not allow.
    pub fn add_scope(&mut self, s: &str) -> Result<(), Error> {
        let s = s.trim_start_matches('@').trim_end_matches('/');
        PackageName::parse(Ecosystem::Npm, &format!("@{s}/x"))
            .map_err(|e| Error::BadPrivate(e.to_string()))?;
        self.scopes.push(s.to_ascii_lowercase());
        Ok(())
    }

    /// True when nothing is configured.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.names.is_empty() && self.prefixes.is_empty() && self.scopes.is_empty()
    }

    pub(crate) fn as_popular(&self, eco: Ecosystem) -> Vec<Popular> {
        self.names
            .iter()
            .filter(|(e, _)| e.is_none() || *e == Some(eco))
            .map(|(_, n)| Popular {
                name: n.clone(),
                rank: 1,
                downloads: None,
            })
            .collect()
    }

    pub(crate) fn prefixes_for(&self, _eco: Ecosystem) -> &[String] {
        &self.prefixes
    }

    pub(crate) fn scopes(&self) -> &[String] {
        &self.scopes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_and_toml() {
        let t = PrivateList::parse("acme-billing\n# c\nprefix:acme-\nscope:@acme\n").unwrap();
        assert_eq!(t.prefixes, vec!["acme-"]);
        assert_eq!(t.scopes, vec!["acme"]);
        assert_eq!(t.as_popular(Ecosystem::PyPI).len(), 1);
        let toml = "names = [\"pypi:acme-auth\"]\nscopes = [\"acme\"]\n";
        let t = PrivateList::parse(toml).unwrap();
        assert_eq!(t.as_popular(Ecosystem::PyPI).len(), 1);
        assert_eq!(t.as_popular(Ecosystem::Npm).len(), 0);
        let err = PrivateList::parse("ok-name\nbad name\n").unwrap_err();
        assert!(err.to_string().contains("line 2"), "{err}");
    }
}
