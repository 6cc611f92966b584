//! The gate's TOML configuration.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::RegistryError;

/// Everything `sluice serve` can be told. Every field has a default, so an
/// empty file (or none) is a valid configuration.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// Folder for the SQLite database and the blob folder.
    pub data_dir: PathBuf,
    /// The URL clients use to reach the gate (no trailing slash). Used in
    /// npm tarball URLs; when absent they are built from the request's
    /// `Host` header. PyPI pages use root-relative URLs unless this is set.
    pub public_url: Option<String>,
    /// Upstream registries and limits.
    pub upstream: UpstreamConfig,
    /// What to do with verdicts.
    pub policy: PolicyConfig,
    /// Named client tokens, so downloads are attributed to a service.
    pub clients: Vec<ClientToken>,
    /// Admin API settings.
    pub admin: AdminConfig,
    /// Seconds a client may take to send its request headers.
    pub client_header_timeout_secs: u64,
    /// In-memory copies of hot artifacts.
    pub cache: CacheConfig,
    /// The second opinion: which artifacts the dynamic sandbox runs, and
    /// its limits.
    pub sandbox: SandboxConfig,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 3141)),
            data_dir: PathBuf::from(".sluice"),
            public_url: None,
            upstream: UpstreamConfig::default(),
            policy: PolicyConfig::default(),
            clients: Vec::new(),
            admin: AdminConfig::default(),
            client_header_timeout_secs: 20,
            cache: CacheConfig::default(),
            sandbox: SandboxConfig::default(),
        }
    }
}

/// Which artifacts the dynamic sandbox runs after the static judge.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SandboxRun {
    /// Never (the default).
    None,
    /// Artifacts the static judge calls `suspicious`.
    Suspicious,
    /// Artifacts with code that runs at install time (setup.py and other
    /// install hooks, `.pth` files, npm `preinstall`/`install`/`postinstall`
    /// scripts, `binding.gyp`), whatever their static verdict.
    InstallTime,
    /// Every artifact.
    All,
}

/// The gate's second opinion: the dynamic sandbox (`sluice-sandbox`).
/// Artifacts the static judge calls `malicious` are never run (the
/// sandbox's findings can only add to a verdict, and that one cannot get
/// worse).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SandboxConfig {
    /// Which artifacts to run.
    pub run: SandboxRun,
    /// Wall-clock limit of each sandbox phase (install, import), seconds.
    pub timeout_secs: u64,
    /// Address-space limit of each sandboxed process, MiB.
    pub memory_mib: u64,
    /// Sandbox runs at once; further held artifacts wait their turn.
    pub max_concurrent: usize,
    /// How long a download request for a held artifact waits for its run
    /// to finish before it is answered 503 (0 = answer at once). Keep it
    /// under the clients' read timeout (pip: 15 s).
    pub wait_secs: u64,
    /// The `Retry-After` sent with that 503.
    pub retry_after_secs: u64,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        Self {
            run: SandboxRun::None,
            timeout_secs: 90,
            memory_mib: 4096,
            max_concurrent: 1,
            wait_secs: 10,
            retry_after_secs: 10,
        }
    }
}

/// In-memory copies of recently served artifacts (by sha256, so they
/// never go stale). Only the bytes are kept: the verdict is still checked
/// on every request.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CacheConfig {
    /// Total bytes of artifacts held in memory (0 = off: always read from
    /// disk).
    pub memory_bytes: u64,
    /// Larger artifacts are always streamed from disk.
    pub memory_max_file_bytes: u64,
}

impl Default for CacheConfig {
    fn default() -> Self {
        Self {
            memory_bytes: 256 << 20,
            memory_max_file_bytes: 16 << 20,
        }
    }
}

/// Upstream registries, timeouts and size caps.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct UpstreamConfig {
    /// PyPI simple index URL (ends in `/simple/` or similar). When absent,
    /// taken from pip's own configuration at start-up.
    pub pypi: Option<String>,
    /// npm registry URL. When absent, taken from npm's configuration.
    pub npm: Option<String>,
    /// Connect timeout, seconds.
    pub connect_timeout_secs: u64,
    /// Whole-request timeout for metadata pages, seconds.
    pub metadata_timeout_secs: u64,
    /// Whole-request timeout for artifact downloads, seconds.
    pub artifact_timeout_secs: u64,
    /// How long fetched metadata is reused before asking upstream again.
    pub metadata_ttl_secs: u64,
    /// Largest metadata page (project page, packument) accepted.
    pub max_metadata_bytes: u64,
    /// Largest artifact accepted.
    pub max_artifact_bytes: u64,
}

impl Default for UpstreamConfig {
    fn default() -> Self {
        Self {
            pypi: None,
            npm: None,
            connect_timeout_secs: 10,
            metadata_timeout_secs: 30,
            artifact_timeout_secs: 300,
            metadata_ttl_secs: 300,
            max_metadata_bytes: 64 << 20,
            max_artifact_bytes: 512 << 20,
        }
    }
}

/// What the gate does with a verdict level.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OnVerdict {
    /// Refuse, reported as blocked.
    Block,
    /// Refuse until a person approves it (`sluice admin review`).
    Hold,
    /// Serve it.
    Allow,
}

/// Policy: verdict handling, waivers, cooldown, private names.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PolicyConfig {
    /// For `malicious` verdicts.
    pub malicious: OnVerdict,
    /// For `suspicious` verdicts.
    pub suspicious: OnVerdict,
    /// When the scanner failed on an artifact.
    pub scan_error: OnVerdict,
    /// Hide and refuse versions younger than this many hours (0 = off).
    pub min_release_age_hours: u64,
    /// Names that are never resolved upstream: `pypi:acme-*`, `npm:@acme/*`
    /// (a trailing `*` matches any suffix).
    pub private: Vec<String>,
    /// Packages or versions always allowed whatever their verdict.
    pub waivers: Vec<Waiver>,
}

impl Default for PolicyConfig {
    fn default() -> Self {
        Self {
            malicious: OnVerdict::Block,
            suspicious: OnVerdict::Hold,
            scan_error: OnVerdict::Hold,
            min_release_age_hours: 0,
            private: Vec::new(),
            waivers: Vec::new(),
        }
    }
}

/// A waiver from the configuration file.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Waiver {
    /// `pypi:NAME[==VERSION]` or `npm:NAME[@VERSION]`.
    pub package: String,
    /// Why it is waived.
    #[serde(default)]
    pub reason: String,
}

/// A named client credential. The token is matched against the Bearer
/// token or the Basic-auth password the client sends.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientToken {
    /// The service's name, written to the audit log.
    pub name: String,
    /// The secret the service sends.
    pub token: String,
}

/// Admin API settings.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AdminConfig {
    /// Bearer tokens allowed to call `/-/sluice/admin/...`; none = API off.
    pub tokens: Vec<ClientToken>,
    /// Refuse clients that present no known credential.
    pub require_client_auth: bool,
}

impl Config {
    /// Read a TOML file.
    ///
    /// # Errors
    /// The file cannot be read or is not valid configuration.
    pub fn load(path: &Path) -> Result<Self, RegistryError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| RegistryError::Config(format!("{}: {e}", path.display())))?;
        Self::parse(&text).map_err(|e| RegistryError::Config(format!("{}: {e}", path.display())))
    }

    /// Parse TOML text.
    ///
    /// # Errors
    /// Not valid configuration.
    pub fn parse(text: &str) -> Result<Self, RegistryError> {
        toml::from_str(text).map_err(|e| RegistryError::Config(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_is_default_and_keys_parse() {
        let c = Config::parse("").unwrap();
        assert_eq!(c.listen.port(), 3141);
        let c = Config::parse(
            r#"
listen = "127.0.0.1:9000"
[upstream]
pypi = "http://127.0.0.1:1/simple/"
[policy]
suspicious = "allow"
min_release_age_hours = 48
private = ["npm:@acme/*"]
[[policy.waivers]]
package = "pypi:foo==1.0"
[[clients]]
name = "ci"
token = "t"
[cache]
memory_bytes = 0
"#,
        )
        .unwrap();
        assert_eq!(c.policy.suspicious, OnVerdict::Allow);
        assert_eq!(c.policy.waivers.len(), 1);
        assert_eq!(c.clients[0].name, "ci");
        assert_eq!(c.cache.memory_bytes, 0);
        assert_eq!(c.cache.memory_max_file_bytes, 16 << 20);
        assert!(Config::parse("nonsense = 1").is_err());
    }

    #[test]
    fn sandbox_section() {
        let c = Config::parse("").unwrap();
        assert_eq!(c.sandbox.run, SandboxRun::None);
        assert_eq!(c.sandbox.max_concurrent, 1);
        let c = Config::parse(
            r#"
[sandbox]
run = "install-time"
timeout_secs = 30
max_concurrent = 2
memory_mib = 1024
"#,
        )
        .unwrap();
        assert_eq!(c.sandbox.run, SandboxRun::InstallTime);
        assert_eq!(c.sandbox.timeout_secs, 30);
        assert_eq!(c.sandbox.max_concurrent, 2);
        assert_eq!(c.sandbox.memory_mib, 1024);
        assert_eq!(c.sandbox.wait_secs, 10);
        for (text, want) in [
            ("none", SandboxRun::None),
            ("suspicious", SandboxRun::Suspicious),
            ("all", SandboxRun::All),
        ] {
            let c = Config::parse(&format!("[sandbox]\nrun = \"{text}\"\n")).unwrap();
            assert_eq!(c.sandbox.run, want);
        }
        assert!(Config::parse("[sandbox]\nrun = \"sometimes\"\n").is_err());
        assert!(Config::parse("[sandbox]\ntimeout = 1\n").is_err());
    }
}
