//! Discovering upstream URLs from pip's and npm's own configuration.

use std::path::{Path, PathBuf};
use std::process::Command;

use url::Url;

/// Where the upstream registries are.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Upstreams {
    /// A PEP 503 simple index root (ends with `/`), e.g. the `index-url`
    /// pip uses.
    pub pypi_simple: Option<Url>,
    /// An npm registry root (ends with `/`).
    pub npm_registry: Option<Url>,
}

impl Upstreams {
    /// Fill whatever is missing from the machine's pip and npm configuration.
    #[must_use]
    pub fn or_discovered(mut self) -> Self {
        if self.pypi_simple.is_none() {
            self.pypi_simple = discover_pip();
        }
        if self.npm_registry.is_none() {
            self.npm_registry = discover_npm();
        }
        self
    }
}

/// Read both upstreams from the machine's pip and npm configuration.
#[must_use]
pub fn discover() -> Upstreams {
    Upstreams::default().or_discovered()
}

/// Parse a URL and make sure it ends in `/` so joins stay under it.
pub(crate) fn dir_url(s: &str) -> Option<Url> {
    let s = s.trim().trim_matches('"');
    let with_slash = if s.ends_with('/') {
        s.to_owned()
    } else {
        format!("{s}/")
    };
    Url::parse(&with_slash)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https"))
}

fn home() -> Option<PathBuf> {
    std::env::var_os("HOME").map(PathBuf::from)
}

/// pip: `PIP_INDEX_URL`, then the config files pip reads (in pip's order,
/// later ones win), then pip's own default as pip reports it.
fn discover_pip() -> Option<Url> {
    if let Some(u) = std::env::var("PIP_INDEX_URL")
        .ok()
        .and_then(|v| dir_url(&v))
    {
        return Some(u);
    }
    let mut files: Vec<PathBuf> = vec![PathBuf::from("/etc/pip.conf")];
    if let Some(xdg) = std::env::var_os("XDG_CONFIG_HOME") {
        files.push(Path::new(&xdg).join("pip/pip.conf"));
    }
    if let Some(h) = home() {
        files.push(h.join(".pip/pip.conf"));
        files.push(h.join(".config/pip/pip.conf"));
    }
    if let Some(f) = std::env::var_os("PIP_CONFIG_FILE") {
        files.push(PathBuf::from(f));
    }
    let mut found = None;
    for f in files {
        if let Ok(text) = std::fs::read_to_string(&f)
            && let Some(u) = ini_value(&text, &["global", "install", "download"], "index-url")
                .and_then(|v| dir_url(&v))
        {
            found = Some(u);
        }
    }
    found.or_else(|| {
        // pip's built-in default, asked of pip itself so no address is
        // written here.
        let out = Command::new("python3")
            .args([
                "-c",
                "from pip._internal.models.index import PyPI; print(PyPI.simple_url)",
            ])
            .output()
            .ok()?;
        dir_url(std::str::from_utf8(&out.stdout).ok()?)
    })
}

/// Find `key` in any of `sections` of an INI file (pip.conf syntax).
pub(crate) fn ini_value(text: &str, sections: &[&str], key: &str) -> Option<String> {
    let mut section = String::new();
    let mut found = None;
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('#') || line.starts_with(';') || line.is_empty() {
            continue;
        }
        if let Some(s) = line.strip_prefix('[').and_then(|s| s.strip_suffix(']')) {
            s.trim().clone_into(&mut section);
            continue;
        }
        if let Some((k, v)) = line.split_once('=').or_else(|| line.split_once(':'))
            && k.trim().replace('_', "-") == key
            && sections.contains(&section.as_str())
        {
            found = Some(v.trim().to_owned());
        }
    }
    found
}

/// npm: `npm_config_registry`, then `.npmrc` in the working folder, the
/// user's `~/.npmrc`, then `npm config get registry`.
fn discover_npm() -> Option<Url> {
    for var in ["npm_config_registry", "NPM_CONFIG_REGISTRY"] {
        if let Some(u) = std::env::var(var).ok().and_then(|v| dir_url(&v)) {
            return Some(u);
        }
    }
    let mut files = vec![PathBuf::from(".npmrc")];
    if let Some(h) = home() {
        files.push(h.join(".npmrc"));
    }
    for f in files {
        if let Ok(text) = std::fs::read_to_string(&f)
            && let Some(u) = npmrc_registry(&text).and_then(|v| dir_url(&v))
        {
            return Some(u);
        }
    }
    let out = Command::new("npm")
        .args(["config", "get", "registry"])
        .output()
        .ok()?;
    dir_url(std::str::from_utf8(&out.stdout).ok()?)
}

/// The unscoped `registry=` line of an `.npmrc`.
pub(crate) fn npmrc_registry(text: &str) -> Option<String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.starts_with('#') && !l.starts_with(';'))
        .filter_map(|l| l.split_once('='))
        .find(|(k, _)| k.trim() == "registry")
        .map(|(_, v)| v.trim().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pip_conf() {
        let t = "[global]\ntimeout = 60\nindex-url = http://127.0.0.1:1/simple\n[install]\ntrusted-host=x\n";
        assert_eq!(
            ini_value(t, &["global"], "index-url").as_deref(),
            Some("http://127.0.0.1:1/simple")
        );
        assert_eq!(
            dir_url("http://127.0.0.1:1/simple").unwrap().as_str(),
            "http://127.0.0.1:1/simple/"
        );
        assert!(dir_url("file:///etc/passwd").is_none());
        assert!(ini_value("[other]\nindex-url=x", &["global"], "index-url").is_none());
    }

    #[test]
    fn npmrc() {
        let t = "# c\n@corp:registry=http://127.0.0.1:2/\nregistry = http://127.0.0.1:3/\n";
        assert_eq!(npmrc_registry(t).as_deref(), Some("http://127.0.0.1:3/"));
    }
}
