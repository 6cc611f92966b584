//! `pyproject.toml`: declared (not resolved) dependencies — PEP 621
//! `[project]` dependencies and optional dependencies, PEP 735
//! `[dependency-groups]`, and Poetry's `[tool.poetry.*dependencies]`
//! tables. A version is given only for an exact pin.

use std::path::Path;

use super::{add, parse_pep508, pinned_version, url_source};
use crate::tree::Node;
use crate::{Error, Parsed, SourceKind};

/// Parse a `pyproject.toml`.
pub(crate) fn parse(path: &Path, text: &str) -> Result<Parsed, Error> {
    let doc = crate::toml_tree::parse(text).map_err(|e| e.at(path))?;
    let mut p = Parsed::default();
    if let Some(project) = doc.get("project") {
        if let Some(deps) = project.get("dependencies") {
            pep508_list(&mut p, path, deps, false);
        }
        if let Some(opt) = project.get("optional-dependencies") {
            for (_, list) in opt.entries() {
                pep508_list(&mut p, path, list, false);
            }
        }
    }
    if let Some(groups) = doc.get("dependency-groups") {
        for (group, list) in groups.entries() {
            pep508_list(&mut p, path, list, group == "dev");
        }
    }
    if let Some(poetry) = doc.get("tool").and_then(|t| t.get("poetry")) {
        if let Some(t) = poetry.get("dependencies") {
            poetry_table(&mut p, path, t, false);
        }
        if let Some(t) = poetry.get("dev-dependencies") {
            poetry_table(&mut p, path, t, true);
        }
        if let Some(groups) = poetry.get("group") {
            for (g, body) in groups.entries() {
                if let Some(t) = body.get("dependencies") {
                    poetry_table(&mut p, path, t, g == "dev" || g == "test");
                }
            }
        }
    }
    Ok(p)
}

fn pep508_list(p: &mut Parsed, path: &Path, list: &Node, dev: bool) {
    for item in list.items() {
        // `{include-group = "x"}` (PEP 735) names no package.
        let Some(s) = item.as_str() else { continue };
        let Some(r) = parse_pep508(s) else {
            p.warn(
                path,
                item.line,
                format!("not a requirement: `{}`", crate::clip(s)),
            );
            continue;
        };
        if let Some(d) = add(p, path, r.name, r.pinned, item.line) {
            d.direct = Some(true);
            d.dev = Some(dev);
            if let Some(u) = r.url {
                d.source = url_source(u);
                d.url = Some(u.to_owned());
            }
        }
    }
}

fn poetry_table(p: &mut Parsed, path: &Path, table: &Node, dev: bool) {
    for (name, spec) in table.entries() {
        if name.eq_ignore_ascii_case("python") {
            continue;
        }
        // `name = "^1.0"`, `name = {version = "1.0", extras = [...]}`, or a
        // list of such tables for per-marker constraints.
        let first = spec.items().first().unwrap_or(spec);
        let version = first.as_str().or_else(|| first.str_of("version"));
        let pinned = version.and_then(poetry_pin);
        let Some(d) = add(p, path, name, pinned, spec.line) else {
            continue;
        };
        d.direct = Some(true);
        d.dev = Some(dev);
        if let Some(g) = first.str_of("git") {
            d.source = SourceKind::Git;
            d.url = Some(g.to_owned());
        } else if let Some(u) = first.str_of("url") {
            d.source = SourceKind::Url;
            d.url = Some(u.to_owned());
        } else if first.get("path").is_some() {
            d.source = SourceKind::Path;
        }
    }
}

/// Poetry reads a bare `1.2.3` as `==1.2.3`.
fn poetry_pin(v: &str) -> Option<&str> {
    let v = v.trim();
    if !v.is_empty() && v.chars().all(|c| c.is_ascii_alphanumeric() || c == '.') {
        return v.starts_with(|c: char| c.is_ascii_digit()).then_some(v);
    }
    pinned_version(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pep621_and_poetry() {
        let t = r#"[project]
name = "app"
dependencies = [
  "requests==2.31.0",
  "flask>=2",
]
[project.optional-dependencies]
docs = ["sphinx"]

[dependency-groups]
dev = ["pytest==8.0.0", {include-group = "docs"}]

[tool.poetry.dependencies]
python = "^3.10"
Django = "4.2.1"
lib = {git = "https://git.example/lib.git"}
[tool.poetry.group.dev.dependencies]
black = "^24"
"#;
        let p = parse(Path::new("pyproject.toml"), t).unwrap();
        let got: Vec<(&str, Option<&str>, u32, Option<bool>)> = p
            .deps
            .iter()
            .map(|d| (d.name.as_str(), d.version.as_deref(), d.line, d.dev))
            .collect();
        assert_eq!(
            got,
            vec![
                ("requests", Some("2.31.0"), 4, Some(false)),
                ("flask", None, 5, Some(false)),
                ("sphinx", None, 8, Some(false)),
                ("pytest", Some("8.0.0"), 11, Some(true)),
                ("django", Some("4.2.1"), 15, Some(false)),
                ("lib", None, 16, Some(false)),
                ("black", None, 18, Some(true)),
            ]
        );
        assert_eq!(p.deps[5].source, SourceKind::Git);
    }
}
