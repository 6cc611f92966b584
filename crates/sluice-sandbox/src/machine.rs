//! The machine the package believes it runs on: a logged-in person at a
//! terminal on a developer's laptop (or a CI runner), with a believable CPU
//! count, uptime and environment. Malware checks these before it acts
//! (`os.getlogin()` with no login record raises; few CPUs, a fresh boot,
//! a user called `sandbox` say "analysis box"), so each is made to look
//! ordinary, with values that vary per run. Nothing here names the sandbox.

use crate::canary::Rng;

/// `struct utmp` of glibc on 64-bit Linux (384 bytes).
const UTMP_SIZE: usize = 384;
const BOOT_TIME: i16 = 2;
const USER_PROCESS: i16 = 7;

/// Facts of one run's machine.
#[derive(Clone, Debug)]
pub(crate) struct Machine {
    /// CPUs shown in `/proc/cpuinfo` and `/sys/devices/system/cpu/online`.
    pub cpus: u32,
    /// Seconds since boot shown in `/proc/uptime`.
    pub uptime_secs: u64,
    /// The terminal of the login (`pts/1`).
    pub tty: String,
    /// Seconds since the Unix epoch when the person logged in.
    pub login_at: u64,
}

impl Machine {
    pub(crate) fn new(rng: &mut Rng, host_cpus: u32) -> Self {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        // 4, 8, 12 or 16 CPUs, never fewer than the host has.
        let cpus = (4 * (1 + rng.below(4)) as u32).max(host_cpus);
        // Up between 3 hours and 9 days; logged in within the last 5 hours.
        let uptime_secs = 3 * 3600 + rng.below(9 * 24 * 3600);
        let login_at = now.saturating_sub(300 + rng.below(5 * 3600).min(uptime_secs));
        Self {
            cpus,
            uptime_secs,
            tty: format!("pts/{}", rng.below(4)),
            login_at,
        }
    }

    /// A `/run/utmp` with the boot record and the person's login on its
    /// terminal (`who`, `w`, `users`, and glibc's `getlogin()` fallback).
    pub(crate) fn utmp(&self, user: &str, host_pid: u32) -> Vec<u8> {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let boot = now.saturating_sub(self.uptime_secs);
        let mut out = Vec::with_capacity(UTMP_SIZE * 2);
        out.extend(utmp_record(BOOT_TIME, 0, "~", "~~", "reboot", "", boot));
        let id = self.tty.trim_start_matches("pts/");
        out.extend(utmp_record(
            USER_PROCESS,
            host_pid,
            &self.tty,
            id,
            user,
            "",
            self.login_at,
        ));
        out
    }

    /// `/proc/cpuinfo` with `cpus` processors, modelled on the host's first
    /// processor block (so flags and model match the real CPU).
    pub(crate) fn cpuinfo(&self, host: &str) -> String {
        let first = host.split("\n\n").next().unwrap_or("").trim_end();
        let mut out = String::new();
        for i in 0..self.cpus {
            for line in first.lines() {
                let key = line.split(':').next().unwrap_or("").trim();
                let value = match key {
                    "processor" => Some(i.to_string()),
                    "core id" => Some((i % (self.cpus / 2).max(1)).to_string()),
                    "apicid" | "initial apicid" => Some(i.to_string()),
                    "siblings" => Some(self.cpus.to_string()),
                    "cpu cores" => Some((self.cpus / 2).max(1).to_string()),
                    _ => None,
                };
                match value {
                    Some(v) => {
                        let (k, _) = line.split_once(':').unwrap_or((line, ""));
                        out.push_str(&format!("{k}: {v}\n"));
                    }
                    None => {
                        out.push_str(line);
                        out.push('\n');
                    }
                }
            }
            out.push('\n');
        }
        out
    }

    /// `/sys/devices/system/cpu/{online,possible,present}`.
    pub(crate) fn cpu_range(&self) -> String {
        format!("0-{}\n", self.cpus.saturating_sub(1))
    }

    /// `/proc/uptime`.
    pub(crate) fn uptime(&self) -> String {
        let idle = self.uptime_secs * u64::from(self.cpus) * 9 / 10;
        format!("{}.{:02} {}.{:02}\n", self.uptime_secs, 37, idle, 12)
    }
}

fn put(buf: &mut [u8], at: usize, len: usize, s: &str) {
    let b = s.as_bytes();
    let n = b.len().min(len);
    buf[at..at + n].copy_from_slice(&b[..n]);
}

fn utmp_record(
    kind: i16,
    pid: u32,
    line: &str,
    id: &str,
    user: &str,
    host: &str,
    secs: u64,
) -> [u8; UTMP_SIZE] {
    let mut r = [0u8; UTMP_SIZE];
    r[0..2].copy_from_slice(&kind.to_le_bytes());
    r[4..8].copy_from_slice(&pid.to_le_bytes());
    put(&mut r, 8, 32, line);
    put(&mut r, 40, 4, id);
    put(&mut r, 44, 32, user);
    put(&mut r, 76, 256, host);
    let secs = i32::try_from(secs).unwrap_or(i32::MAX);
    r[340..344].copy_from_slice(&secs.to_le_bytes());
    r
}

/// Environment of a developer's laptop session, or of a CI runner.
pub(crate) fn session_env(
    rng: &mut Rng,
    user: &str,
    home: &str,
    ci: bool,
    windows: bool,
) -> Vec<(String, String)> {
    let mut env: Vec<(String, String)> = vec![
        ("LANG".into(), "en_US.UTF-8".into()),
        ("SHLVL".into(), "1".into()),
        ("PWD".into(), format!("{home}/project")),
        ("EDITOR".into(), "vim".into()),
        ("PAGER".into(), "less".into()),
    ];
    if ci {
        const ORGS: &[&str] = &["acme-platform", "northwind", "globex-eng", "initech"];
        const REPOS: &[&str] = &[
            "billing-api",
            "web-frontend",
            "data-pipeline",
            "auth-service",
        ];
        let org = ORGS[rng.below(ORGS.len() as u64) as usize];
        let repo = REPOS[rng.below(REPOS.len() as u64) as usize];
        let sha = rng.string(b"0123456789abcdef", 40);
        env.extend(
            [
                ("CI", "true".to_owned()),
                ("GITHUB_ACTIONS", "true".to_owned()),
                ("RUNNER_OS", "Linux".to_owned()),
                ("RUNNER_ARCH", "X64".to_owned()),
                (
                    "RUNNER_NAME",
                    format!("runner-{}", rng.string(b"0123456789", 4)),
                ),
                ("GITHUB_REPOSITORY", format!("{org}/{repo}")),
                ("GITHUB_WORKFLOW", "build".to_owned()),
                (
                    "GITHUB_RUN_ID",
                    (1_000_000_000 + rng.below(9_000_000_000)).to_string(),
                ),
                ("GITHUB_SHA", sha),
                ("GITHUB_REF", "refs/heads/main".to_owned()),
                ("GITHUB_ACTOR", user.to_owned()),
                ("GITHUB_WORKSPACE", format!("{home}/project")),
            ]
            .map(|(k, v)| (k.to_owned(), v)),
        );
    } else {
        env.extend(
            [
                ("DISPLAY", ":0".to_owned()),
                ("XDG_SESSION_TYPE", "x11".to_owned()),
                ("XDG_CURRENT_DESKTOP", "GNOME".to_owned()),
                ("DESKTOP_SESSION", "ubuntu".to_owned()),
                ("COLORTERM", "truecolor".to_owned()),
                ("SSH_AUTH_SOCK", "/run/user/1000/keyring/ssh".to_owned()),
            ]
            .map(|(k, v)| (k.to_owned(), v)),
        );
    }
    if windows {
        // Windows paths mapped into the home, so code that joins them and
        // writes a file there succeeds (and is seen doing it).
        env.extend(
            [
                ("APPDATA", format!("{home}/AppData/Roaming")),
                ("LOCALAPPDATA", format!("{home}/AppData/Local")),
                ("USERPROFILE", home.to_owned()),
                ("TEMP", format!("{home}/AppData/Local/Temp")),
                ("PROGRAMDATA", format!("{home}/ProgramData")),
                ("USERNAME", user.to_owned()),
                (
                    "COMPUTERNAME",
                    user.to_uppercase().chars().take(8).collect::<String>() + "-PC",
                ),
                ("SYSTEMROOT", format!("{home}/Windows")),
                ("WINDIR", format!("{home}/Windows")),
            ]
            .map(|(k, v)| (k.to_owned(), v)),
        );
    }
    env
}

/// The folders every desktop account has (`xdg-user-dirs`), with a file or
/// two each: an empty home is a sandbox's tell, and droppers move their
/// payload into `~/Documents` or `~/Desktop` without checking it exists.
pub(crate) const USER_DIRS: &[(&str, &[&str])] = &[
    ("Desktop", &["todo.txt"]),
    ("Documents", &["notes.md", "meeting-2026-q3.txt"]),
    ("Downloads", &[]),
    ("Music", &[]),
    ("Pictures", &["Screenshots/.keep"]),
    ("Public", &[]),
    ("Templates", &[]),
    ("Videos", &[]),
];

/// Folders the Windows persona's variables point at.
pub(crate) const WINDOWS_DIRS: &[&str] = &[
    "AppData/Roaming/Microsoft/Windows/Start Menu/Programs/Startup",
    "AppData/Local/Temp",
    "ProgramData",
    "Windows/System32",
];

/// Windows programs the persona provides as do-nothing stand-ins.
pub(crate) const WINDOWS_TOOLS: &[&str] = &[
    "start",
    "powershell",
    "powershell.exe",
    "pwsh",
    "cmd",
    "cmd.exe",
    "reg",
    "reg.exe",
    "schtasks",
    "schtasks.exe",
    "taskkill",
    "taskkill.exe",
    "wmic",
    "attrib",
    "certutil",
    "certutil.exe",
    "bitsadmin",
    "mshta",
    "rundll32",
    "regsvr32",
    "cscript",
    "wscript",
    "explorer",
    "explorer.exe",
    "tasklist",
    "vssadmin",
    "netsh",
    "ipconfig",
    "systeminfo",
    "notepad",
    "notepad.exe",
    "calc",
    "calc.exe",
    "msiexec",
    "py",
    "py.exe",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utmp_has_the_login() {
        let mut rng = Rng::new();
        let m = Machine::new(&mut rng, 2);
        let u = m.utmp("maria7hcmz", 1234);
        assert_eq!(u.len(), 2 * UTMP_SIZE);
        let rec = &u[UTMP_SIZE..];
        assert_eq!(i16::from_le_bytes([rec[0], rec[1]]), USER_PROCESS);
        assert_eq!(&rec[44..54], b"maria7hcmz");
        assert_eq!(&rec[8..12], b"pts/");
        assert!(m.cpus >= 4);
    }

    #[test]
    fn cpuinfo_counts() {
        let mut rng = Rng::new();
        let m = Machine::new(&mut rng, 2);
        let host = "processor\t: 0\nmodel name\t: Some CPU\nsiblings\t: 2\n\nprocessor\t: 1\nmodel name\t: Some CPU\n";
        let text = m.cpuinfo(host);
        assert_eq!(text.matches("processor").count() as u32, m.cpus);
        assert!(text.contains("model name\t: Some CPU"));
        assert_eq!(m.cpu_range(), format!("0-{}\n", m.cpus - 1));
        assert!(
            m.uptime()
                .split(' ')
                .next()
                .unwrap()
                .parse::<f64>()
                .unwrap()
                >= 3.0 * 3600.0
        );
    }

    #[test]
    fn env_looks() {
        let mut rng = Rng::new();
        let ci = session_env(&mut rng, "sam1", "/home/sam1", true, false);
        assert!(ci.iter().any(|(k, v)| k == "GITHUB_ACTIONS" && v == "true"));
        let laptop = session_env(&mut rng, "sam1", "/home/sam1", false, true);
        assert!(laptop.iter().any(|(k, _)| k == "APPDATA"));
        assert!(!laptop.iter().any(|(k, _)| k == "CI"));
        for (k, v) in ci.iter().chain(&laptop) {
            let t = format!("{k}={v}").to_lowercase();
            assert!(
                !t.contains("sandbox") && !t.contains("sluice") && !t.contains("analysis"),
                "{t}"
            );
        }
    }
}
