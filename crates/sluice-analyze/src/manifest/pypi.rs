//! PyPI manifests: PKG-INFO / METADATA, setup.cfg, pyproject.toml, setup.py.
//!
//! Nothing is executed: setup.py is parsed with tree-sitter and its
//! `setup(...)` keyword arguments are read where they are literals (or
//! names bound to literals in the same file, or `**dict` splats).
//!
//! Findings (`PKG31x`, the PyPI share of the manifest codes):
//!
//! | code | name | what |
//! | --- | --- | --- |
//! | PKG311 | install-hook-override | `cmdclass` replaces `install`/`develop`/`egg_info`… so code runs at install |
//! | PKG312 | url-dependency | a requirement fetched from a URL or VCS (`pkg @ https://…`, `git+`, `dependency_links`) |
//! | PKG313 | installation-entry-point | a `setuptools.installation` entry point (the egg runs package code when executed: libpeshnx) |
//! | PKG314 | command-shadowing | a console script named like a system command (`ls`, `sudo`, `git`, `ssh`…) unrelated to the package |
//! | PKG315 | malformed-metadata | PKG-INFO/METADATA, setup.cfg or pyproject.toml that does not parse |
//! | PKG316 | bundled-executable | an sdist ships ELF/PE/Mach-O executables (outside tests) |
//!
//! Roles: setup.py and modules imported for `cmdclass` → install; every
//! top-level package `__init__.py` (one whose folder's parent is not a
//! package) → import; modules named by entry points → entry; `.pth` →
//! install (decided in [`super::Manifest::role_of`]).

use std::collections::{BTreeMap, HashMap};

use sluice_archive::{ArtifactKind, FileTree};
use sluice_model::{Confidence, Ecosystem, Finding, RuleCode, Severity};
use tree_sitter::Node;

use super::Manifest;
use crate::FileRole;
use crate::python::facts::literal;

/// Read the PyPI manifests of a tree, if it looks like a Python package.
#[must_use]
pub fn read(tree: &FileTree) -> Option<Manifest> {
    let root = package_root(tree);
    let at = |name: &str| tree.get(&format!("{root}{name}"));
    let pkg_info = at("PKG-INFO").or_else(|| {
        tree.files.iter().find(|f| {
            f.path.ends_with(".dist-info/METADATA")
                && f.path.matches('/').count() <= root.matches('/').count() + 1
        })
    });
    let setup_py = at("setup.py");
    let setup_cfg = at("setup.cfg");
    let pyproject = at("pyproject.toml");
    let any_py = tree.files.iter().any(|f| f.path.ends_with(".py"));
    if pkg_info.is_none()
        && setup_py.is_none()
        && setup_cfg.is_none()
        && pyproject.is_none()
        && !any_py
    {
        return None;
    }
    let mut m = Manifest {
        ecosystem: Some(Ecosystem::PyPI),
        ..Manifest::default()
    };
    let mut entry_points: Vec<(String, String, String)> = Vec::new();

    if let Some(f) = setup_py {
        let text = String::from_utf8_lossy(&f.data);
        setup_py_read(&f.path, &text, tree, &root, &mut m, &mut entry_points);
        m.roles.insert(f.path.clone(), FileRole::Install);
        // The project's own single module, imported for its `__version__`,
        // is the library itself, not an install helper.
        if let Some(name) = m.metadata.name.as_deref() {
            let own = format!(
                "{root}{}.py",
                name.to_ascii_lowercase().replace(['-', '.'], "_")
            );
            if m.roles.get(&own) == Some(&FileRole::Install) {
                m.roles.remove(&own);
            }
        }
    }
    if let Some(f) = setup_cfg {
        setup_cfg_read(
            &f.path,
            &String::from_utf8_lossy(&f.data),
            &mut m,
            &mut entry_points,
        );
    }
    if let Some(f) = pyproject {
        pyproject_read(
            &f.path,
            &String::from_utf8_lossy(&f.data),
            &mut m,
            &mut entry_points,
        );
    }
    // entry_points.txt of an egg-info or dist-info
    // (the package's own: not those of an environment committed into the
    // source tree, which pip never installs)
    for f in tree.files.iter().filter(|f| {
        (f.path.ends_with(".egg-info/entry_points.txt")
            || f.path.ends_with(".dist-info/entry_points.txt"))
            && !super::in_committed_environment(&f.path)
    }) {
        for (g, n, t) in parse_entry_points_ini(&String::from_utf8_lossy(&f.data)) {
            entry_points.push((g, n, t));
        }
    }
    // PKG-INFO last: it is what pip sees, so it wins.
    if let Some(f) = pkg_info {
        pkg_info_read(&f.path, &String::from_utf8_lossy(&f.data), &mut m);
    }

    entry_points.sort();
    entry_points.dedup();
    let pkg_name = m.metadata.name.clone().unwrap_or_default();
    for (group, name, target) in &entry_points {
        m.metadata
            .entry_points
            .insert(format!("{group}:{name}"), target.clone());
        entry_findings(group, name, target, &pkg_name, &mut m.findings);
        // The module an entry point names runs when it is invoked.
        let module = target.split(':').next().unwrap_or("").trim();
        for path in module_files(tree, &root, module) {
            m.roles.entry(path).or_insert(FileRole::Entry);
        }
    }
    import_roles(tree, &root, &mut m.roles);
    if tree.kind != ArtifactKind::Wheel {
        bundled_executables(tree, &mut m.findings);
    }
    if tree.kind == ArtifactKind::Wheel {
        // A wheel's top-level modules (`six.py`) run when imported by name.
        for f in tree
            .files
            .iter()
            .filter(|f| f.path.ends_with(".py") && !f.path.contains('/'))
        {
            m.roles.entry(f.path.clone()).or_insert(FileRole::Import);
        }
    }
    Some(m)
}

/// The single top-level folder of an sdist (`pkg-1.0/`), or "".
fn package_root(tree: &FileTree) -> String {
    if tree.kind == ArtifactKind::Wheel {
        return String::new();
    }
    let mut first: Option<&str> = None;
    for f in &tree.files {
        let Some((top, _)) = f.path.split_once('/') else {
            return String::new();
        };
        match first {
            None => first = Some(top),
            Some(t) if t == top => {}
            Some(_) => return String::new(),
        }
    }
    first.map(|t| format!("{t}/")).unwrap_or_default()
}

/// Files that hold a dotted module, under the root or `src/`.
fn module_files(tree: &FileTree, root: &str, module: &str) -> Vec<String> {
    if module.is_empty() || module.len() > 200 {
        return Vec::new();
    }
    let rel = module.replace('.', "/");
    let mut out = Vec::new();
    for base in [root.to_owned(), format!("{root}src/")] {
        for cand in [
            format!("{base}{rel}.py"),
            format!("{base}{rel}/__init__.py"),
        ] {
            if tree.get(&cand).is_some() {
                out.push(cand);
            }
        }
    }
    out
}

/// Top-level package `__init__.py` files run on import.
fn import_roles(tree: &FileTree, root: &str, roles: &mut BTreeMap<String, FileRole>) {
    let inits: std::collections::HashSet<&str> = tree
        .files
        .iter()
        .filter(|f| f.path.ends_with("/__init__.py") || f.path == "__init__.py")
        .map(|f| f.path.as_str())
        .collect();
    for p in &inits {
        if !p.starts_with(root) || super::is_auxiliary(p) {
            continue;
        }
        let dir = p.strip_suffix("/__init__.py").unwrap_or("");
        let parent = dir.rsplit_once('/').map(|(a, _)| a).unwrap_or("");
        let parent_init = if parent.is_empty() {
            "__init__.py".to_owned()
        } else {
            format!("{parent}/__init__.py")
        };
        if inits.contains(parent_init.as_str()) {
            continue;
        }
        // Skip build trees copied into sdists (`build/lib/pkg`).
        if p.contains("/build/lib") {
            continue;
        }
        roles.entry((*p).to_owned()).or_insert(FileRole::Import);
    }
}

/// Native executables shipped in a *source* distribution: built code
/// nobody can review (GuardDog `bundled_binary`). Wheels carry compiled
/// extensions by design, so only sdists are checked.
fn bundled_executables(tree: &FileTree, out: &mut Vec<Finding>) {
    let mut hits: Vec<(&str, &str)> = Vec::new();
    for f in &tree.files {
        let d = &f.data;
        let kind = if d.starts_with(b"\x7fELF") {
            "ELF"
        } else if d.starts_with(b"MZ") && d.len() > 0x40 {
            "PE"
        } else if d.starts_with(b"\xcf\xfa\xed\xfe") || d.starts_with(b"\xce\xfa\xed\xfe") {
            "Mach-O"
        } else {
            continue;
        };
        if super::is_auxiliary(&f.path) {
            continue;
        }
        hits.push((f.path.as_str(), kind));
    }
    let Some(first) = hits.first() else { return };
    let mut fd = Finding::new(
        RuleCode::new("PKG316"),
        "bundled-executable",
        Severity::Low,
        Confidence::High,
        format!(
            "the source distribution ships {} native executable(s)",
            hits.len()
        ),
    )
    .at(first.0, 0, 0);
    for (p, k) in hits.iter().take(5) {
        fd = fd.evidence(format!("{k}: {p}"));
    }
    out.push(fd);
}

fn finding(
    code: &'static str,
    name: &str,
    sev: Severity,
    conf: Confidence,
    msg: String,
    file: &str,
    line: u32,
) -> Finding {
    Finding::new(RuleCode::new(code), name, sev, conf, msg).at(file, line, 0)
}

/// System commands a package's console script should not impersonate.
const SYSTEM_COMMANDS: &[&str] = &[
    "ls",
    "sudo",
    "su",
    "pip",
    "pip3",
    "python",
    "python3",
    "git",
    "ssh",
    "scp",
    "curl",
    "wget",
    "cd",
    "cat",
    "sh",
    "bash",
    "zsh",
    "cp",
    "mv",
    "rm",
    "apt",
    "apt-get",
    "yum",
    "dnf",
    "brew",
    "npm",
    "node",
    "docker",
    "kubectl",
    "passwd",
    "chmod",
    "chown",
    "ps",
    "top",
    "kill",
    "grep",
    "find",
    "tar",
    "make",
    "gcc",
    "openssl",
    "gpg",
    "env",
    "which",
    "id",
    "whoami",
    "ifconfig",
    "ip",
    "netstat",
    "nc",
    "vim",
    "vi",
    "nano",
    "less",
    "more",
    "uname",
    "ping",
    "ssh-keygen",
    "systemctl",
    "service",
    "aws",
    "gcloud",
    "az",
    "sed",
    "awk",
    "xargs",
    "tee",
    "echo",
    "ln",
    "mkdir",
    "touch",
    "head",
    "tail",
    "sort",
    "crontab",
    "mount",
    "dd",
    "nslookup",
    "dig",
];

fn norm(s: &str) -> String {
    s.to_ascii_lowercase().replace(['_', '.'], "-")
}

fn entry_findings(group: &str, name: &str, target: &str, pkg: &str, out: &mut Vec<Finding>) {
    if group == "setuptools.installation" {
        out.push(
            Finding::new(
                RuleCode::new("PKG313"),
                "installation-entry-point",
                Severity::Medium,
                Confidence::High,
                format!("registers a `setuptools.installation` entry point `{name}` → `{target}`: running the built egg executes package code"),
            )
            .evidence(format!("entry point: [{group}] {name} = {target}")),
        );
    }
    if matches!(group, "console_scripts" | "gui_scripts") {
        let n = norm(name);
        let p = norm(pkg);
        if SYSTEM_COMMANDS.contains(&n.as_str())
            && !(p.contains(&n) || (p.len() >= 3 && n.contains(&p)))
        {
            out.push(
                Finding::new(
                    RuleCode::new("PKG314"),
                    "command-shadowing",
                    Severity::Medium,
                    Confidence::Medium,
                    format!(
                        "installs a `{name}` command that shadows the system command of that name"
                    ),
                )
                .evidence(format!("entry point: [{group}] {name} = {target}")),
            );
        }
    }
}

fn dependency_findings(deps: &[String], file: &str, line: u32, out: &mut Vec<Finding>) {
    for d in deps {
        let l = d.to_ascii_lowercase();
        let url = l.contains("git+")
            || l.contains("hg+")
            || l.contains("svn+")
            || l.contains("://")
            || l.contains("file:");
        if url {
            out.push(finding(
                "PKG312",
                "url-dependency",
                Severity::Medium,
                Confidence::High,
                format!(
                    "depends on code fetched from a URL, outside the registry: `{}`",
                    d.chars().take(160).collect::<String>()
                ),
                file,
                line,
            ));
        }
    }
}

fn malformed(file: &str, what: &str) -> Finding {
    finding(
        "PKG315",
        "malformed-metadata",
        Severity::Low,
        Confidence::High,
        format!("malformed metadata: {what}"),
        file,
        0,
    )
}

// ---------------------------------------------------------------- PKG-INFO

fn pkg_info_read(path: &str, text: &str, m: &mut Manifest) {
    let mut headers: Vec<(String, String)> = Vec::new();
    let mut bad_lines = 0usize;
    for line in text.lines() {
        if line.trim().is_empty() {
            break; // the body (long description) follows
        }
        if line.starts_with(' ') || line.starts_with('\t') {
            if let Some(last) = headers.last_mut() {
                last.1.push('\n');
                last.1.push_str(line.trim());
            } else {
                bad_lines += 1;
            }
            continue;
        }
        match line.split_once(':') {
            Some((k, v)) if !k.is_empty() && !k.contains(' ') => {
                headers.push((k.trim().to_ascii_lowercase(), v.trim().to_owned()));
            }
            _ => bad_lines += 1,
        }
        if headers.len() > 10_000 {
            break;
        }
    }
    let get = |k: &str| {
        headers
            .iter()
            .find(|(h, _)| h == k)
            .map(|(_, v)| v.clone())
            .filter(|v| !v.is_empty() && v != "UNKNOWN")
    };
    if get("name").is_none() || bad_lines > 0 {
        m.findings.push(malformed(
            path,
            &format!(
                "{} unreadable header line(s){}",
                bad_lines,
                if get("name").is_none() {
                    ", no Name field"
                } else {
                    ""
                }
            ),
        ));
    }
    let md = &mut m.metadata;
    if let Some(v) = get("name") {
        md.name = Some(v);
    }
    if let Some(v) = get("version") {
        md.version = Some(v);
    }
    md.summary = get("summary").or(md.summary.take());
    md.author = get("author").or(md.author.take());
    md.author_email = get("author-email").or(md.author_email.take());
    md.homepage = get("home-page").or(md.homepage.take());
    md.license = get("license")
        .map(|l| l.lines().next().unwrap_or("").to_owned())
        .or(md.license.take());
    for (k, v) in &headers {
        if k == "project-url"
            && let Some((label, url)) = v.split_once(',')
        {
            let label = label.trim().to_ascii_lowercase();
            if matches!(
                label.as_str(),
                "source" | "source code" | "repository" | "code" | "github"
            ) {
                md.repository = Some(url.trim().to_owned());
            } else if label == "homepage" && md.homepage.is_none() {
                md.homepage = Some(url.trim().to_owned());
            }
        }
    }
    let reqs: Vec<String> = headers
        .iter()
        .filter(|(k, _)| k == "requires-dist")
        .map(|(_, v)| v.clone())
        .collect();
    if !reqs.is_empty() {
        dependency_findings(&reqs, path, 0, &mut m.findings);
        md.dependencies = reqs;
    }
}

// ---------------------------------------------------------------- setup.cfg

fn parse_ini(text: &str) -> Vec<(String, String, String)> {
    // (section, key, value) with continuation lines joined by '\n'.
    let mut out: Vec<(String, String, String)> = Vec::new();
    let mut section = String::new();
    for line in text.lines() {
        let t = line.trim();
        if t.is_empty() || t.starts_with('#') || t.starts_with(';') {
            continue;
        }
        if line.starts_with([' ', '\t']) {
            if let Some(last) = out.last_mut() {
                last.2.push('\n');
                last.2.push_str(t);
            }
            continue;
        }
        if t.starts_with('[') && t.ends_with(']') {
            section = t[1..t.len() - 1].trim().to_owned();
            continue;
        }
        let split = t.find(['=', ':']).map(|i| (&t[..i], &t[i + 1..]));
        if let Some((k, v)) = split {
            out.push((section.clone(), k.trim().to_owned(), v.trim().to_owned()));
        }
        if out.len() > 100_000 {
            break;
        }
    }
    out
}

/// Entry points in INI form (`[group]` then `name = module:func`).
fn parse_entry_points_ini(text: &str) -> Vec<(String, String, String)> {
    parse_ini(text)
        .into_iter()
        .filter(|(s, _, _)| !s.is_empty())
        .collect()
}

fn setup_cfg_read(
    path: &str,
    text: &str,
    m: &mut Manifest,
    eps: &mut Vec<(String, String, String)>,
) {
    let ini = parse_ini(text);
    for (s, k, v) in &ini {
        let md = &mut m.metadata;
        match (s.as_str(), k.as_str()) {
            ("metadata", "name") if md.name.is_none() => md.name = Some(v.clone()),
            ("metadata", "version")
                if md.version.is_none() && !v.starts_with("attr:") && !v.starts_with("file:") =>
            {
                md.version = Some(v.clone());
            }
            ("metadata", "author") if md.author.is_none() => md.author = Some(v.clone()),
            ("metadata", "author_email") if md.author_email.is_none() => {
                md.author_email = Some(v.clone())
            }
            ("metadata", "url") if md.homepage.is_none() => md.homepage = Some(v.clone()),
            ("metadata", "description") if md.summary.is_none() => md.summary = Some(v.clone()),
            ("options", "install_requires") => {
                let deps: Vec<String> = v
                    .lines()
                    .map(str::trim)
                    .filter(|l| !l.is_empty())
                    .map(str::to_owned)
                    .collect();
                dependency_findings(&deps, path, 0, &mut m.findings);
                if m.metadata.dependencies.is_empty() {
                    m.metadata.dependencies = deps;
                }
            }
            ("options", "dependency_links") if !v.trim().is_empty() => {
                dependency_findings(std::slice::from_ref(v), path, 0, &mut m.findings);
            }
            ("options.entry_points", group) => {
                for l in v.lines() {
                    if let Some((n, t)) = l.split_once('=') {
                        eps.push((group.to_owned(), n.trim().to_owned(), t.trim().to_owned()));
                    }
                }
            }
            _ => {}
        }
    }
}

// ---------------------------------------------------------------- pyproject

fn pyproject_read(
    path: &str,
    text: &str,
    m: &mut Manifest,
    eps: &mut Vec<(String, String, String)>,
) {
    let v: toml::Value = match toml::from_str(text) {
        Ok(v) => v,
        Err(e) => {
            let msg = e.to_string();
            m.findings.push(malformed(
                path,
                &format!(
                    "pyproject.toml: {}",
                    msg.lines().next().unwrap_or("invalid TOML")
                ),
            ));
            return;
        }
    };
    let s = |t: Option<&toml::Value>| t.and_then(toml::Value::as_str).map(str::to_owned);
    let project = v.get("project");
    let poetry = v.get("tool").and_then(|t| t.get("poetry"));
    let md = &mut m.metadata;
    for p in [project, poetry].into_iter().flatten() {
        if md.name.is_none() {
            md.name = s(p.get("name"));
        }
        if md.version.is_none() {
            md.version = s(p.get("version"));
        }
        if md.summary.is_none() {
            md.summary = s(p.get("description"));
        }
    }
    if let Some(p) = project {
        if let Some(a) = p
            .get("authors")
            .and_then(toml::Value::as_array)
            .and_then(|a| a.first())
        {
            if md.author.is_none() {
                md.author = s(a.get("name"));
            }
            if md.author_email.is_none() {
                md.author_email = s(a.get("email"));
            }
        }
        if let Some(deps) = p.get("dependencies").and_then(toml::Value::as_array) {
            let deps: Vec<String> = deps
                .iter()
                .filter_map(|d| d.as_str().map(str::to_owned))
                .collect();
            dependency_findings(&deps, path, 0, &mut m.findings);
            if m.metadata.dependencies.is_empty() {
                m.metadata.dependencies = deps;
            }
        }
        for (key, group) in [
            ("scripts", "console_scripts"),
            ("gui-scripts", "gui_scripts"),
        ] {
            if let Some(t) = p.get(key).and_then(toml::Value::as_table) {
                for (n, target) in t {
                    if let Some(target) = target.as_str() {
                        eps.push((group.to_owned(), n.clone(), target.to_owned()));
                    }
                }
            }
        }
        if let Some(t) = p.get("entry-points").and_then(toml::Value::as_table) {
            for (group, entries) in t {
                if let Some(entries) = entries.as_table() {
                    for (n, target) in entries {
                        if let Some(target) = target.as_str() {
                            eps.push((group.clone(), n.clone(), target.to_owned()));
                        }
                    }
                }
            }
        }
    }
    if let Some(t) = poetry
        .and_then(|p| p.get("scripts"))
        .and_then(toml::Value::as_table)
    {
        for (n, target) in t {
            if let Some(target) = target.as_str() {
                eps.push(("console_scripts".to_owned(), n.clone(), target.to_owned()));
            }
        }
    }
}

// ---------------------------------------------------------------- setup.py

struct SetupPy<'t, 's> {
    src: &'s [u8],
    /// Module-level bindings: name → value nodes.
    binds: HashMap<String, Vec<Node<'t>>>,
    /// `name['key'] = value` and `name.update(key=value)` on dicts.
    items: HashMap<String, Vec<(String, Node<'t>)>>,
}

impl<'t> SetupPy<'t, '_> {
    fn text(&self, n: Node<'_>) -> String {
        n.utf8_text(self.src).unwrap_or("").to_owned()
    }

    fn resolve(&self, n: Node<'t>, depth: usize) -> Node<'t> {
        if depth < 4
            && n.kind() == "identifier"
            && let Some(v) = self.binds.get(&self.text(n)).and_then(|v| v.last())
        {
            return self.resolve(*v, depth + 1);
        }
        n
    }

    fn strings(&self, n: Node<'t>) -> Vec<String> {
        self.strings_d(n, 0)
    }

    fn strings_d(&self, n: Node<'t>, depth: usize) -> Vec<String> {
        if depth > 32 {
            return Vec::new();
        }
        let n = self.resolve(n, 0);
        if let Some(s) = literal(n, self.src) {
            return vec![s];
        }
        let mut out = Vec::new();
        if matches!(n.kind(), "list" | "tuple" | "set") {
            let mut c = n.walk();
            for x in n.named_children(&mut c) {
                out.extend(self.strings_d(x, depth + 1));
            }
        } else if n.kind() == "binary_operator" {
            for f in ["left", "right"] {
                if let Some(x) = n.child_by_field_name(f) {
                    out.extend(self.strings_d(x, depth + 1));
                }
            }
        }
        out
    }

    /// Pairs of a dict literal, a `dict(k=v)` call, or subscript
    /// assignments to a name.
    fn pairs(&self, n: Node<'t>) -> Vec<(String, Node<'t>)> {
        let mut out = Vec::new();
        if n.kind() == "identifier"
            && let Some(items) = self.items.get(&self.text(n))
        {
            out.extend(items.iter().cloned());
        }
        let n = self.resolve(n, 0);
        let mut c = n.walk();
        match n.kind() {
            "dictionary" => {
                for p in n.named_children(&mut c) {
                    if p.kind() == "pair"
                        && let (Some(k), Some(v)) =
                            (p.child_by_field_name("key"), p.child_by_field_name("value"))
                        && let Some(k) = literal(k, self.src)
                    {
                        out.push((k, v));
                    }
                }
            }
            "call"
                if n.child_by_field_name("function")
                    .map(|f| self.text(f))
                    .as_deref()
                    == Some("dict") =>
            {
                if let Some(args) = n.child_by_field_name("arguments") {
                    let mut c2 = args.walk();
                    for a in args.named_children(&mut c2) {
                        if a.kind() == "keyword_argument"
                            && let (Some(k), Some(v)) = (
                                a.child_by_field_name("name"),
                                a.child_by_field_name("value"),
                            )
                        {
                            out.push((self.text(k), v));
                        }
                    }
                }
            }
            _ => {}
        }
        out
    }
}

fn line_of(n: Node<'_>) -> u32 {
    u32::try_from(n.start_position().row + 1).unwrap_or(u32::MAX)
}

fn setup_py_read(
    path: &str,
    text: &str,
    tree: &FileTree,
    root: &str,
    m: &mut Manifest,
    eps: &mut Vec<(String, String, String)>,
) {
    let Some(ts) = crate::python::parse(text) else {
        return;
    };
    let src = text.as_bytes();
    let file = crate::SourceFile {
        path,
        text,
        role: FileRole::Install,
    };
    let facts = crate::python::facts::extract(file, &ts);
    // A plain module beside setup.py that setup.py imports
    // (`from pre_install import run`) runs at install time too. Packages
    // setup.py imports for their `__version__` keep their own role.
    for q in facts.imports.values() {
        let top = q.split('.').next().unwrap_or(q);
        let cand = format!("{root}{top}.py");
        if !top.is_empty() && top.len() <= 100 && tree.get(&cand).is_some() && cand != path {
            m.roles.insert(cand, FileRole::Install);
        }
    }
    let mut sp = SetupPy {
        src,
        binds: HashMap::new(),
        items: HashMap::new(),
    };
    let mut setup_calls: Vec<Node<'_>> = Vec::new();
    // Iterative walk: bindings, dict item assignments, setup() calls.
    let mut stack = vec![ts.root_node()];
    while let Some(n) = stack.pop() {
        match n.kind() {
            "assignment" => {
                if let (Some(l), Some(r)) = (
                    n.child_by_field_name("left"),
                    n.child_by_field_name("right"),
                ) {
                    match l.kind() {
                        "identifier" => sp.binds.entry(sp.text(l)).or_default().push(r),
                        "subscript" => {
                            let target = l.child_by_field_name("value").map(|v| sp.text(v));
                            let key = l
                                .child_by_field_name("subscript")
                                .and_then(|k| literal(k, src));
                            if let (Some(t), Some(k)) = (target, key) {
                                sp.items.entry(t).or_default().push((k, r));
                            }
                        }
                        _ => {}
                    }
                }
            }
            "call" => {
                if let Some(f) = n.child_by_field_name("function") {
                    let t = sp.text(f);
                    let last = t.rsplit('.').next().unwrap_or(&t);
                    if last == "setup" {
                        setup_calls.push(n);
                    }
                }
            }
            _ => {}
        }
        let mut c = n.walk();
        let kids: Vec<Node<'_>> = n.named_children(&mut c).collect();
        stack.extend(kids.into_iter().rev());
    }
    let Some(call) = setup_calls.into_iter().max_by_key(|c| c.byte_range().len()) else {
        return;
    };
    let Some(args) = call.child_by_field_name("arguments") else {
        return;
    };
    let mut kw: Vec<(String, Node<'_>)> = Vec::new();
    let mut c = args.walk();
    for a in args.named_children(&mut c) {
        match a.kind() {
            "keyword_argument" => {
                if let (Some(k), Some(v)) = (
                    a.child_by_field_name("name"),
                    a.child_by_field_name("value"),
                ) {
                    kw.push((sp.text(k), v));
                }
            }
            "dictionary_splat" => {
                if let Some(inner) = a.named_child(0) {
                    kw.extend(sp.pairs(inner));
                }
            }
            _ => {}
        }
    }
    let one = |n: Node<'_>| sp.strings(n).into_iter().next();
    for (k, v) in &kw {
        let md = &mut m.metadata;
        match k.as_str() {
            "name" if md.name.is_none() => md.name = one(*v),
            "version" if md.version.is_none() => md.version = one(*v),
            "author" if md.author.is_none() => md.author = one(*v),
            "author_email" if md.author_email.is_none() => md.author_email = one(*v),
            "url" if md.homepage.is_none() => md.homepage = one(*v),
            "description" if md.summary.is_none() => md.summary = one(*v),
            "license" if md.license.is_none() => md.license = one(*v),
            "install_requires" => {
                let deps = sp.strings(*v);
                dependency_findings(&deps, path, line_of(*v), &mut m.findings);
                if md.dependencies.is_empty() {
                    m.metadata.dependencies = deps;
                }
            }
            "dependency_links" => {
                let links = sp.strings(*v);
                if !links.is_empty() {
                    dependency_findings(&links, path, line_of(*v), &mut m.findings);
                }
            }
            "entry_points" => {
                let r = sp.resolve(*v, 0);
                if let Some(s) = literal(r, src) {
                    eps.extend(parse_entry_points_ini(&s));
                } else {
                    for (group, val) in sp.pairs(*v) {
                        for e in sp.strings(val) {
                            if let Some((n, t)) = e.split_once('=') {
                                eps.push((group.clone(), n.trim().to_owned(), t.trim().to_owned()));
                            }
                        }
                    }
                }
            }
            "cmdclass" => cmdclass(path, *v, &sp, &facts, tree, root, m),
            _ => {}
        }
    }
}

/// Commands whose override runs code during `pip install` of an sdist.
const INSTALL_COMMANDS: &[&str] = &[
    "install",
    "develop",
    "egg_info",
    "easy_install",
    "bdist_egg",
    "install_lib",
    "install_scripts",
    "install_data",
];

fn cmdclass(
    path: &str,
    v: Node<'_>,
    sp: &SetupPy<'_, '_>,
    facts: &crate::python::facts::Facts<'_>,
    tree: &FileTree,
    root: &str,
    m: &mut Manifest,
) {
    let pairs = sp.pairs(v);
    if pairs.is_empty() {
        // `cmdclass=versioneer.get_cmdclass()` and the like.
        m.metadata.install_hooks.insert(
            "cmdclass".to_owned(),
            sp.text(v).chars().take(120).collect(),
        );
        return;
    }
    for (cmd, cls) in pairs {
        let cls_text = sp.text(cls);
        let class_name = cls_text.rsplit('.').next().unwrap_or(&cls_text).to_owned();
        let local = facts.classes.iter().find(|c| c.name == class_name);
        let bases = local.map(|c| c.bases.join(", ")).unwrap_or_default();
        m.metadata.install_hooks.insert(
            format!("cmdclass:{cmd}"),
            if bases.is_empty() {
                cls_text.clone()
            } else {
                format!("{cls_text} ({bases})")
            },
        );
        // A class imported from the package's own modules: that module runs at install.
        let root_name = cls_text.split('.').next().unwrap_or(&cls_text);
        if let Some(q) = facts.imports.get(root_name) {
            let module = if local.is_none() && q.ends_with(&format!(".{root_name}")) {
                q.rsplit_once('.').map(|(a, _)| a).unwrap_or(q)
            } else {
                q.as_str()
            };
            for p in module_files(tree, root, module) {
                m.roles.insert(p, FileRole::Install);
            }
        }
        let sev = if INSTALL_COMMANDS.contains(&cmd.as_str()) {
            Severity::Low
        } else {
            Severity::Info
        };
        m.findings.push(
            finding(
                "PKG311",
                "install-hook-override",
                sev,
                Confidence::High,
                format!("setup.py replaces the `{cmd}` command with `{cls_text}`: its code runs during installation"),
                path,
                local.map_or_else(|| line_of(cls), |c| c.line),
            )
            .evidence(format!("cmdclass: {cmd} → {cls_text}{}", if bases.is_empty() { String::new() } else { format!(" (subclass of {bases})") }))
            .install_time(true),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sluice_archive::FileEntry;

    fn tree(files: &[(&str, &str)]) -> FileTree {
        FileTree {
            kind: ArtifactKind::Sdist,
            filename: "x.tar.gz".into(),
            sha256: None,
            size: 0,
            files: files
                .iter()
                .map(|(p, d)| FileEntry {
                    path: (*p).into(),
                    data: d.as_bytes().to_vec(),
                    mode: None,
                    truncated: false,
                })
                .collect(),
            anomalies: Vec::new(),
        }
    }

    #[test]
    fn modules_setup_py_imports_from_beside_it_run_at_install() {
        let t = tree(&[
            (
                "p-1.0/setup.py",
                "from setuptools import setup\nfrom pre_install import run\nimport p_tool\nrun()\nsetup(name='p-tool', version='1.0')\n",
            ),
            ("p-1.0/pre_install.py", "def run(): pass\n"),
            ("p-1.0/p_tool.py", "__version__ = '1.0'\n"),
            ("p-1.0/other.py", ""),
        ]);
        let m = read(&t).unwrap();
        assert_eq!(m.role_of("p-1.0/pre_install.py"), FileRole::Install);
        // the project's own module, imported for its version, is the library
        assert_ne!(m.role_of("p-1.0/p_tool.py"), FileRole::Install);
        assert_ne!(m.role_of("p-1.0/other.py"), FileRole::Install);
    }

    #[test]
    fn setup_py_is_read_statically() {
        let t = tree(&[
            (
                "p-1.0/setup.py",
                "from setuptools import setup\nfrom setuptools.command.install import install\nfrom p.hooks import Post\nclass X(install):\n    pass\nEP = {'console_scripts': ['ls = p.cli:main'], 'setuptools.installation': ['eggsecutable = p.cli:main']}\nsetup(name='p', version='1.0', author='a', install_requires=['requests', 'evil @ https://203.0.113.1/e.tgz'], entry_points=EP, cmdclass={'install': X, 'develop': Post})\n",
            ),
            ("p-1.0/p/__init__.py", ""),
            ("p-1.0/p/sub/__init__.py", ""),
            ("p-1.0/p/cli.py", ""),
            ("p-1.0/p/hooks.py", ""),
            ("p-1.0/tests/__init__.py", ""),
        ]);
        let m = read(&t).unwrap();
        assert_eq!(m.metadata.name.as_deref(), Some("p"));
        assert_eq!(m.metadata.version.as_deref(), Some("1.0"));
        assert_eq!(
            m.metadata
                .entry_points
                .get("console_scripts:ls")
                .map(String::as_str),
            Some("p.cli:main")
        );
        assert!(m.metadata.install_hooks.contains_key("cmdclass:install"));
        let codes: Vec<&str> = m.findings.iter().map(|f| f.rule.as_str()).collect();
        for c in ["PKG311", "PKG312", "PKG313", "PKG314"] {
            assert!(codes.contains(&c), "{c} missing from {codes:?}");
        }
        assert_eq!(m.role_of("p-1.0/setup.py"), FileRole::Install);
        assert_eq!(m.role_of("p-1.0/p/hooks.py"), FileRole::Install);
        assert_eq!(m.role_of("p-1.0/p/__init__.py"), FileRole::Import);
        assert_eq!(m.role_of("p-1.0/p/sub/__init__.py"), FileRole::Library);
        assert_eq!(m.role_of("p-1.0/p/cli.py"), FileRole::Entry);
        assert_eq!(m.role_of("p-1.0/tests/__init__.py"), FileRole::Auxiliary);
    }

    #[test]
    fn bundled_executables_in_sdists() {
        let t = tree(&[
            (
                "b-1/setup.py",
                "from setuptools import setup\nsetup(name='b')\n",
            ),
            ("b-1/b/helper", "\u{7f}ELF\u{2}\u{1}\u{1}"),
            ("b-1/tests/data/x.so", "\u{7f}ELF\u{2}\u{1}\u{1}"),
        ]);
        let m = read(&t).unwrap();
        let f = m
            .findings
            .iter()
            .find(|f| f.rule.as_str() == "PKG316")
            .unwrap();
        assert_eq!(f.evidence, vec!["ELF: b-1/b/helper".to_owned()]);
        let t = tree(&[(
            "c-1/setup.py",
            "from setuptools import setup\nsetup(name='c')\n",
        )]);
        assert!(
            read(&t)
                .unwrap()
                .findings
                .iter()
                .all(|f| f.rule.as_str() != "PKG316")
        );
    }

    #[test]
    fn wheel_roles() {
        let mut t = tree(&[
            ("six.py", ""),
            ("pkg/__init__.py", ""),
            ("pkg/cli.py", ""),
            (
                "pkg-1.0.dist-info/METADATA",
                "Metadata-Version: 2.1\nName: pkg\nVersion: 1.0\n",
            ),
            (
                "pkg-1.0.dist-info/entry_points.txt",
                "[console_scripts]\npkg = pkg.cli:main\n",
            ),
        ]);
        t.kind = ArtifactKind::Wheel;
        let m = read(&t).unwrap();
        assert_eq!(m.metadata.name.as_deref(), Some("pkg"));
        assert_eq!(m.role_of("six.py"), FileRole::Import);
        assert_eq!(m.role_of("pkg/__init__.py"), FileRole::Import);
        assert_eq!(m.role_of("pkg/cli.py"), FileRole::Entry);
    }

    #[test]
    fn benign_setup_has_no_threat_findings() {
        let t = tree(&[
            (
                "q-2.0/setup.py",
                "from setuptools import setup, Extension\nfrom setuptools.command.build_ext import build_ext\nclass B(build_ext):\n    pass\nsetup(name='q', version='2.0', install_requires=['six>=1.0'], cmdclass={'build_ext': B}, entry_points={'console_scripts': ['q = q.cli:main']})\n",
            ),
            ("q-2.0/q/__init__.py", ""),
        ]);
        let m = read(&t).unwrap();
        assert!(
            m.findings.iter().all(|f| f.severity <= Severity::Info),
            "{:?}",
            m.findings
        );
    }

    #[test]
    fn metadata_files_and_malformed_input() {
        let t = tree(&[
            (
                "r-1/PKG-INFO",
                "Metadata-Version: 2.1\nName: r\nVersion: 1\nRequires-Dist: x @ git+https://203.0.113.2/x.git\n\nbody",
            ),
            (
                "r-1/setup.cfg",
                "[metadata]\nname = r\n[options.entry_points]\nconsole_scripts =\n    r = r.main:run\n",
            ),
            ("r-1/pyproject.toml", "[project\nname="),
        ]);
        let m = read(&t).unwrap();
        assert_eq!(m.metadata.name.as_deref(), Some("r"));
        assert_eq!(
            m.metadata
                .entry_points
                .get("console_scripts:r")
                .map(String::as_str),
            Some("r.main:run")
        );
        let codes: Vec<&str> = m.findings.iter().map(|f| f.rule.as_str()).collect();
        assert!(codes.contains(&"PKG315"));
        assert!(codes.contains(&"PKG312"));
        let t = tree(&[("s/PKG-INFO", "\u{0}\u{1}garbage without headers\n::::\n")]);
        let m = read(&t).unwrap();
        assert!(m.findings.iter().any(|f| f.rule.as_str() == "PKG315"));
        let t = tree(&[(
            "s/pyproject.toml",
            "[project]\nname = 's'\n[project.scripts]\nsudo = 's.x:main'\n",
        )]);
        let m = read(&t).unwrap();
        assert!(m.findings.iter().any(|f| f.rule.as_str() == "PKG314"));
    }
}
