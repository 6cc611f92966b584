//! The runtime view: records written by the Python audit hook and the Node
//! preload (resources `hook.py`, `hook.js`), and the resource files
//! themselves.
//!
//! The records come from inside the sandbox, so they are evidence with
//! attribution, not proof: a hostile package can forge or suppress them.
//! Parsing is therefore defensive (bounded, lossy, never panics).

use serde_json::Value;

/// The Python audit hook (PEP 578), loaded by a `.pth` file.
pub(crate) const HOOK_PY: &str = include_str!("../resources/hook.py");
/// The Node preload, loaded with `NODE_OPTIONS=--require`.
pub(crate) const HOOK_JS: &str = include_str!("../resources/hook.js");
/// In-sandbox driver for the Python import and execute phases.
pub(crate) const DRIVER_PY: &str = include_str!("../resources/driver.py");
/// In-sandbox driver for the Node import and execute phases.
pub(crate) const DRIVER_JS: &str = include_str!("../resources/driver.js");

/// Most records read from one run; the rest is ignored (flood).
const MAX_RECORDS: usize = 50_000;

/// One runtime record.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct AppEvent {
    pub t: f64,
    pub pid: u32,
    pub node: bool,
    pub api: String,
    pub args: Vec<String>,
    /// `file:line[:col|:function]` of the innermost package frame.
    pub culprit: Option<String>,
    pub chain: Vec<String>,
    /// No build tooling frame between the package frame and the event
    /// (`false`: setuptools or npm did it while running package code).
    pub direct: bool,
    /// npm lifecycle script (`preinstall`) the process runs for, if any.
    pub lifecycle: Option<String>,
    /// The npm lifecycle script a spawn starts (from the child's env).
    pub spawns_lifecycle: Option<String>,
    /// Where it happened when that was inside a dependency the package
    /// called (`requests/sessions.py:589:request`); the culprit is the
    /// package frame that called it.
    pub via: Option<String>,
}

fn s(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// Parse the JSON-lines event file. Malformed lines are skipped.
pub(crate) fn parse(text: &str) -> Vec<AppEvent> {
    let mut out = Vec::new();
    for line in text.lines().take(MAX_RECORDS) {
        let Ok(Value::Object(m)) = serde_json::from_str::<Value>(line) else {
            continue;
        };
        let node = m.contains_key("api");
        let api = m
            .get("api")
            .or_else(|| m.get("event"))
            .map(s)
            .unwrap_or_default();
        if api.is_empty() {
            continue;
        }
        let args = match m.get("args") {
            Some(Value::Array(a)) => a.iter().take(8).map(s).collect(),
            _ => Vec::new(),
        };
        let chain = match m.get("chain") {
            Some(Value::Array(a)) => a.iter().take(16).map(s).collect(),
            _ => Vec::new(),
        };
        let lifecycle = m
            .get("lifecycle")
            .and_then(|l| l.get("event"))
            .and_then(Value::as_str)
            .map(str::to_owned);
        let spawns_lifecycle = args.iter().find_map(|a| {
            let v: Value = serde_json::from_str(a).ok()?;
            v.get("lifecycle")
                .and_then(Value::as_str)
                .map(str::to_owned)
        });
        out.push(AppEvent {
            t: m.get("t").and_then(Value::as_f64).unwrap_or(0.0),
            pid: m
                .get("pid")
                .and_then(Value::as_u64)
                .and_then(|p| u32::try_from(p).ok())
                .unwrap_or(0),
            node,
            api,
            args,
            culprit: m.get("culprit").and_then(Value::as_str).map(str::to_owned),
            chain,
            direct: m.get("direct").and_then(Value::as_bool).unwrap_or(true),
            lifecycle,
            spawns_lifecycle,
            via: m.get("via").and_then(Value::as_str).map(str::to_owned),
        });
    }
    out
}

/// A culprit string split into the file as it appears in the package and
/// a line: `<string>@/tmp/pip-req-build-x/setup.py:27:behave` → `setup.py`, 27.
/// The second value says whether the frame was `exec`'d code.
pub(crate) fn locate(culprit: &str) -> (String, u32, bool) {
    let (mut path, exec) = match culprit.split_once('@') {
        Some((pre, host)) if pre.starts_with('<') => (host.to_owned(), true),
        _ => (culprit.to_owned(), false),
    };
    // Strip `:line[:col|:func]` from the right: the first numeric field
    // from the left after the path is the line.
    let mut line = 0u32;
    let parts: Vec<&str> = path.split(':').collect();
    if let Some(idx) = parts.iter().skip(1).position(|p| p.parse::<u32>().is_ok()) {
        line = parts.get(idx + 1).and_then(|p| p.parse().ok()).unwrap_or(0);
        path = parts.get(..=idx).map(|p| p.join(":")).unwrap_or_default();
    }
    (package_relative(&path), line, exec)
}

/// The path of a file inside the package, from its path in the sandbox.
pub(crate) fn package_relative(path: &str) -> String {
    if let Some((_, rest)) = path.rsplit_once("/site-packages/") {
        return rest.to_owned();
    }
    if let Some(i) = path.rfind("/node_modules/") {
        let rest = &path[i + "/node_modules/".len()..];
        let mut it = rest.splitn(3, '/');
        let first = it.next().unwrap_or("");
        let tail = if first.starts_with('@') {
            it.next();
            it.next().unwrap_or("")
        } else {
            rest.split_once('/').map_or("", |(_, t)| t)
        };
        return tail.to_owned();
    }
    // pip's temporary build folders: pip-req-build-XXXX/<file> and
    // pip-install-XXXX/<name>_<hash>/<file>
    for marker in ["/pip-req-build-", "/pip-install-", "/pip-build-env-"] {
        if let Some(i) = path.find(marker) {
            let rest = &path[i + 1..];
            let mut it = rest.splitn(2, '/');
            let first = it.next().unwrap_or("");
            let tail = it.next().unwrap_or("");
            if first.starts_with("pip-install-") {
                return tail.split_once('/').map_or(tail, |(_, t)| t).to_owned();
            }
            return tail.to_owned();
        }
    }
    if let Some((_, rest)) = path.split_once("/Downloads/") {
        // an unpacked folder given as input: drop the folder's own name
        return rest.split_once('/').map_or(rest, |(_, t)| t).to_owned();
    }
    path.rsplit('/').next().unwrap_or(path).to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locates_culprits() {
        assert_eq!(
            locate("<string>@/tmp/pip-req-build-ab12/setup.py:27:behave"),
            ("setup.py".to_owned(), 27, true)
        );
        assert_eq!(
            locate("/home/u/.venv/lib/python3.11/site-packages/jelly/__init__.py:5:<module>"),
            ("jelly/__init__.py".to_owned(), 5, false)
        );
        assert_eq!(
            locate("/home/u/project/node_modules/@sc/pkg/lib/pre.js:4:23"),
            ("lib/pre.js".to_owned(), 4, false)
        );
        assert_eq!(
            locate("/tmp/pip-install-x1/mysl-python_0abc/setup.py:9:<module>"),
            ("setup.py".to_owned(), 9, false)
        );
        assert_eq!(locate("garbage"), ("garbage".to_owned(), 0, false));
    }

    #[test]
    fn parses_both_runtimes() {
        let text = concat!(
            r#"{"t": 1.5, "pid": 7, "event": "socket.connect", "args": ["<socket>", "('175.24.100.2', 8000)"], "culprit": "/x/setup.py:3:f", "chain": ["/x/setup.py:3:f"]}"#,
            "\n",
            r#"{"t": 2.0, "pid": 9, "api": "child_process.spawn", "args": ["sh", ["-c","node pre.js"], "{\"lifecycle\":\"preinstall\",\"pkg\":\"p\"}"], "culprit": null, "chain": [], "lifecycle": {"pkg": null, "event": null}}"#,
            "\nnot json\n{}\n"
        );
        let ev = parse(text);
        assert_eq!(ev.len(), 2);
        assert_eq!(ev[0].api, "socket.connect");
        assert!(!ev[0].node);
        assert!(ev[1].node);
        assert_eq!(ev[1].spawns_lifecycle.as_deref(), Some("preinstall"));
    }
}
