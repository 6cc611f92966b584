//! Dynamic analysis: install and import a package inside isolated
//! namespaces with a fake network, watch what it does from inside the
//! runtimes (Python audit hook, Node preload) and from outside (strace, the
//! network sink), and turn the joined, time-ordered behaviour into `DYN7xx`
//! findings.
//!
//! What it must not do: run package code outside isolation, let a packet
//! leave the machine, or write outside its own sandbox folder. Every phase
//! runs in a fresh network namespace that has only a loopback device (no
//! route out exists), under bubblewrap (user, mount, pid, ipc and uts
//! namespaces, host file system read-only, no capabilities) as a throw-away
//! unprivileged uid, with wall-clock, memory, process, file-size and disk
//! limits. See `docs/sandbox.md`.
//!
//! ```no_run
//! use sluice_sandbox::{run, SandboxOptions};
//! let report = run(std::path::Path::new("pkg-1.0.tar.gz"), &SandboxOptions::default())?;
//! for f in &report.findings {
//!     println!("{} {}", f.rule, f.message);
//! }
//! # Ok::<(), sluice_sandbox::SandboxError>(())
//! ```

mod analyze;
mod canary;
mod hooks;
mod machine;
mod netns;
pub mod profile;
mod render;
mod runner;
mod sink;
mod strace;

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use sluice_model::{Ecosystem, Finding};

pub use analyze::rules;
pub use canary::{Canary, CanaryHit, find_canaries, find_canaries_in_dns};
pub use render::render_text;
pub use runner::{Prerequisites, check_prerequisites};
pub use sink::NetRecord;

/// Errors of the sandbox itself (a hostile package is not an error: it
/// produces findings and limits hit).
#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    /// Something the sandbox needs is missing (root, bubblewrap, strace…).
    #[error("sandbox unavailable: {0}")]
    Unavailable(String),
    /// The input is not something the sandbox can install.
    #[error("unsupported input {}: {reason}", path.display())]
    Input {
        /// The input path.
        path: PathBuf,
        /// Why it is not supported.
        reason: String,
    },
    /// Building the isolation failed; nothing was run.
    #[error("sandbox setup failed: {0}")]
    Setup(String),
    /// An I/O error in the supervisor.
    #[error("i/o error: {0}")]
    Io(#[from] std::io::Error),
}

/// How to run the sandbox. `Default` gives the documented limits.
#[derive(Clone, Debug)]
pub struct SandboxOptions {
    /// Force the ecosystem instead of guessing from the input.
    pub ecosystem: Option<Ecosystem>,
    /// Also run the `execute` phase (console scripts / `bin` with `--help`).
    pub execute: bool,
    /// Wall-clock limit of each phase.
    pub phase_timeout: Duration,
    /// Address-space limit of each sandboxed process (RLIMIT_AS).
    pub memory_bytes: u64,
    /// Most processes the sandbox uid may have at once (RLIMIT_NPROC).
    pub max_processes: u64,
    /// Size of the sandbox's writable file system (home, venv, project).
    pub disk_bytes: u64,
    /// Largest single file a sandboxed process may write (RLIMIT_FSIZE).
    pub max_file_bytes: u64,
    /// stdout + stderr kept per phase before the phase is stopped.
    pub max_output_bytes: u64,
    /// Flows and DNS questions the sink records before it only counts.
    pub max_net_records: usize,
    /// Bytes kept per flow.
    pub max_flow_bytes: usize,
    /// Python interpreter to use (default: `python3` on `PATH`).
    pub python: Option<PathBuf>,
    /// Node binary (default: `node` on `PATH`).
    pub node: Option<PathBuf>,
    /// npm CLI script or binary (default: `npm` on `PATH`).
    pub npm: Option<PathBuf>,
    /// Parent folder of the sandbox folder (default: the temp dir).
    pub work_root: Option<PathBuf>,
    /// Copy the raw observations (strace logs, hook events) here after the
    /// run, for debugging the sandbox itself.
    pub keep: Option<PathBuf>,
    /// A dependency profile's site folder (see [`profile`]): shown
    /// read-only on the sandbox venv's `sys.path` so the package's imports
    /// of `requests`, `cryptography`, … succeed offline.
    pub python_profile: Option<PathBuf>,
    /// Show package code (only package code) a Windows machine: `os.name`
    /// is `nt`, `platform.system()` is `Windows`, `os.startfile` and
    /// pywin32-style modules exist and record every call, `APPDATA` and
    /// friends are set. Payloads gated on Windows then run and show intent.
    pub windows_persona: bool,
    /// Look like a CI runner (`CI`, `GITHUB_ACTIONS`-style variables)
    /// instead of a developer's laptop.
    pub ci_runner: bool,
}

impl Default for SandboxOptions {
    fn default() -> Self {
        Self {
            ecosystem: None,
            execute: false,
            phase_timeout: Duration::from_secs(90),
            memory_bytes: 4 << 30,
            max_processes: 256,
            disk_bytes: 1 << 30,
            max_file_bytes: 256 << 20,
            max_output_bytes: 8 << 20,
            max_net_records: 2000,
            max_flow_bytes: 64 << 10,
            python: None,
            node: None,
            npm: None,
            work_root: None,
            keep: None,
            python_profile: None,
            windows_persona: true,
            ci_runner: false,
        }
    }
}

/// A phase of a sandbox run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Phase {
    /// pip / npm install (setup.py, lifecycle scripts).
    Install,
    /// Import every top-level module / require the package.
    Import,
    /// Run console scripts / `bin` entries with `--help`.
    Execute,
}

impl Phase {
    /// Lower-case name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Install => "install",
            Phase::Import => "import",
            Phase::Execute => "execute",
        }
    }
}

/// How a phase ended.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PhaseResult {
    /// Which phase.
    pub phase: Phase,
    /// `completed` (exit 0), `failed` (non-zero exit), `limit` (stopped at
    /// a limit) or `skipped` (an earlier phase did not complete).
    pub status: String,
    /// Exit code of the phase command, when it exited.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i32>,
    /// Wall time in milliseconds.
    pub duration_ms: u64,
    /// Last part of stdout.
    #[serde(default)]
    pub stdout_tail: String,
    /// Last part of stderr.
    #[serde(default)]
    pub stderr_tail: String,
}

/// A limit that stopped or constrained the package.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LimitHit {
    /// Phase in which it happened.
    pub phase: Phase,
    /// `wall-clock`, `memory`, `processes`, `disk`, `file-size`, `output`
    /// or `network-flood`.
    pub limit: String,
    /// What was seen.
    pub detail: String,
}

/// Which view saw a step.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Layer {
    /// A runtime hook (Python audit hook, Node preload).
    Runtime,
    /// strace, outside the runtime.
    System,
    /// The network sink.
    Network,
}

/// One step of the behaviour chain.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChainStep {
    /// Seconds since the Unix epoch.
    pub t: f64,
    /// Phase.
    pub phase: Phase,
    /// Which view saw it first.
    pub layer: Layer,
    /// `exec`, `connect`, `dns`, `http`, `tls`, `send`, `read-secret`,
    /// `env-secret`, `env-dump`, `recon`, `write`, `delete`, `dynamic-code`,
    /// `native-load`.
    pub kind: String,
    /// File inside the package, when attributed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// Line in that file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    /// One line saying what happened.
    pub what: String,
    /// Canaries seen in what this step sent.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub canaries: Vec<CanaryHit>,
    /// Package frames of the runtime call stack, innermost first
    /// (`file:line`), when a runtime hook saw the step.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stack: Vec<String>,
    /// Longer detail: the decoded source of dynamic code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// The other view confirmed it (runtime record ↔ system/network).
    #[serde(default)]
    pub confirmed: bool,
    /// No runtime record explains this system/network event.
    #[serde(default)]
    pub unattributed: bool,
    /// How many times it happened (duplicates folded).
    pub count: u32,
}

/// The outcome of a sandbox run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SandboxReport {
    /// What was run (path or spec).
    pub target: String,
    /// Ecosystem of the input.
    pub ecosystem: Ecosystem,
    /// Per-phase results, in order.
    pub phases: Vec<PhaseResult>,
    /// Limits hit.
    pub limits_hit: Vec<LimitHit>,
    /// The behaviour, time-ordered, both views joined.
    pub chain: Vec<ChainStep>,
    /// One sentence per flow that left a process: what the same file did
    /// before, then where it sent it.
    pub stories: Vec<String>,
    /// Everything the network sink recorded.
    pub network: Vec<NetRecord>,
    /// `DYN7xx` findings.
    pub findings: Vec<Finding>,
    /// The canaries planted in this run (values are per-run fakes).
    pub canaries: Vec<Canary>,
    /// Hostname and user name shown to the package.
    pub identity: (String, String),
    /// Wall time of install + import, milliseconds.
    pub install_import_ms: u64,
}

/// Run `input` (an sdist, wheel, npm tarball or package folder) through
/// the sandbox phases and report what it did.
///
/// # Errors
/// [`SandboxError::Unavailable`] when the machine lacks what the sandbox
/// needs; [`SandboxError::Input`] for inputs it cannot install;
/// [`SandboxError::Setup`] when isolation could not be built (nothing is run
/// then).
pub fn run(input: &Path, options: &SandboxOptions) -> Result<SandboxReport, SandboxError> {
    runner::run(input, options)
}

/// Guess the ecosystem of an input path.
///
/// # Errors
/// [`SandboxError::Input`] when it is neither a Python nor an npm package.
pub fn detect_ecosystem(input: &Path) -> Result<Ecosystem, SandboxError> {
    let name = input
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    let bad = |reason: &str| SandboxError::Input {
        path: input.to_owned(),
        reason: reason.to_owned(),
    };
    if input.is_dir() {
        if input.join("package.json").is_file() {
            return Ok(Ecosystem::Npm);
        }
        if input.join("setup.py").is_file() || input.join("pyproject.toml").is_file() {
            return Ok(Ecosystem::PyPI);
        }
        return Err(bad(
            "folder has no package.json, setup.py or pyproject.toml",
        ));
    }
    if !input.is_file() {
        return Err(bad("no such file"));
    }
    if name.ends_with(".whl")
        || name.ends_with(".zip")
        || name.ends_with(".tar.gz")
        || name.ends_with(".tar.bz2")
    {
        return Ok(Ecosystem::PyPI);
    }
    if name.ends_with(".tgz") {
        return Ok(Ecosystem::Npm);
    }
    Err(bad(
        "expected .tar.gz, .zip or .whl (PyPI) or .tgz (npm), or a folder",
    ))
}
