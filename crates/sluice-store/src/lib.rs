//! Metadata store (SQLite) and blob store (local folder) for the gate.
//!
//! [`Store`] keeps, in one SQLite database in WAL mode (so `sluice admin`
//! can read and write while `sluice serve` runs):
//! - `artifacts`: every artifact the gate fetched, by sha256, with its
//!   verdict and the full JSON report as evidence;
//! - `files`: the upstream location and expected digests of every file a
//!   metadata page listed, so artifact URLs can be resolved and verified;
//! - `decisions`: manual blocks, waivers and review outcomes (who, why,
//!   when), plus `decision_log`, their append-only history;
//! - `downloads`: the audit log of every artifact request, indexed for
//!   `who-pulled`;
//! - `meta_cache`: the last good upstream metadata body per page, served
//!   when upstream is down;
//! - `sandbox_jobs`: artifacts held until the gate's second opinion (the
//!   dynamic sandbox) has run on them, written in the same transaction as
//!   the static verdict, so a crash can lose a run but never release the
//!   artifact;
//! - `intel_records` / `intel_packages`: imported malicious-package
//!   records (OSV) and the packages they name, with a generation counter
//!   the gate checks per request (see [`Store::intel_apply`]).
//!
//! [`BlobStore`] keeps artifact bytes under `blobs/ab/cd/<sha256>`; a blob
//! is written to a temporary file inside the data dir and renamed into
//! place only after its digest was checked, so a partial download is never
//! visible.
//!
//! This crate must not talk to the network or judge packages.
#![warn(missing_docs)]

mod blob;
mod intel;

use std::path::Path;
use std::sync::Mutex;

use rusqlite::{Connection, OptionalExtension, params};
use sluice_model::{Ecosystem, Sha256, VerdictLevel};

pub use blob::{BlobStore, BlobWriter};
pub use intel::{
    IntelCounts, IntelPackageHit, IntelPackageRow, IntelRecordInfo, IntelRecordRow, IntelWrite,
};

/// Errors of the store.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// SQLite failed.
    #[error("database error: {0}")]
    Db(#[from] rusqlite::Error),
    /// File system failure.
    #[error("i/o error: {0}")]
    Io(#[from] std::io::Error),
    /// A blob's bytes do not hash to the expected digest.
    #[error("digest mismatch: expected {expected}, got {actual}")]
    DigestMismatch {
        /// The digest the caller expected.
        expected: String,
        /// The digest of the bytes received.
        actual: String,
    },
    /// A blob grew beyond the allowed size.
    #[error("blob larger than the limit of {0} bytes")]
    TooLarge(u64),
    /// A stored value could not be decoded.
    #[error("corrupt stored value: {0}")]
    Corrupt(String),
}

/// Result alias of this crate.
pub type Result<T> = std::result::Result<T, StoreError>;

const SCHEMA: &str = r"
CREATE TABLE IF NOT EXISTS artifacts(
  sha256 TEXT PRIMARY KEY,
  ecosystem TEXT NOT NULL,
  name TEXT NOT NULL,
  version TEXT NOT NULL,
  filename TEXT NOT NULL,
  size INTEGER NOT NULL,
  verdict TEXT NOT NULL,
  score INTEGER NOT NULL,
  report TEXT NOT NULL,
  scanned_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS artifacts_pkg ON artifacts(ecosystem, name, version);
CREATE TABLE IF NOT EXISTS files(
  ecosystem TEXT NOT NULL,
  name TEXT NOT NULL,
  filename TEXT NOT NULL,
  version TEXT NOT NULL,
  url TEXT NOT NULL,
  sha256 TEXT,
  integrity TEXT,
  shasum TEXT,
  metadata_sha256 TEXT,
  upload_time TEXT,
  removed_at TEXT,
  PRIMARY KEY(ecosystem, name, filename)
);
CREATE TABLE IF NOT EXISTS decisions(
  ecosystem TEXT NOT NULL,
  name TEXT NOT NULL,
  version TEXT NOT NULL,
  action TEXT NOT NULL,
  reason TEXT NOT NULL,
  actor TEXT NOT NULL,
  at TEXT NOT NULL,
  PRIMARY KEY(ecosystem, name, version)
);
CREATE TABLE IF NOT EXISTS decision_log(
  id INTEGER PRIMARY KEY,
  ecosystem TEXT NOT NULL,
  name TEXT NOT NULL,
  version TEXT NOT NULL,
  action TEXT NOT NULL,
  reason TEXT NOT NULL,
  actor TEXT NOT NULL,
  at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS downloads(
  id INTEGER PRIMARY KEY,
  at TEXT NOT NULL,
  ecosystem TEXT NOT NULL,
  name TEXT NOT NULL,
  version TEXT NOT NULL,
  filename TEXT NOT NULL,
  sha256 TEXT,
  principal TEXT NOT NULL,
  addr TEXT NOT NULL,
  user_agent TEXT NOT NULL,
  verdict TEXT NOT NULL,
  allowed INTEGER NOT NULL,
  reason TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS downloads_pkg ON downloads(ecosystem, name, version, at);
CREATE TABLE IF NOT EXISTS meta_cache(
  key TEXT PRIMARY KEY,
  body BLOB NOT NULL,
  content_type TEXT NOT NULL,
  fetched_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS sandbox_jobs(
  sha256 TEXT PRIMARY KEY,
  ecosystem TEXT NOT NULL,
  name TEXT NOT NULL,
  version TEXT NOT NULL,
  filename TEXT NOT NULL,
  state TEXT NOT NULL,
  error TEXT,
  queued_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS sandbox_jobs_pkg ON sandbox_jobs(ecosystem, name);
";

/// What a manual decision does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// Refuse the package or version whatever its verdict.
    Block,
    /// Allow it whatever its verdict (a waiver, or an approved review).
    Allow,
}

impl Action {
    /// The stored lower-case name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Block => "block",
            Action::Allow => "allow",
        }
    }
    fn parse(s: &str) -> Result<Self> {
        match s {
            "block" => Ok(Action::Block),
            "allow" => Ok(Action::Allow),
            other => Err(StoreError::Corrupt(format!("unknown action `{other}`"))),
        }
    }
}

/// A manual decision on a package (`version` empty = every version).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Decision {
    /// Ecosystem.
    pub ecosystem: Ecosystem,
    /// Normalised name.
    pub name: String,
    /// Version, or empty for the whole package.
    pub version: String,
    /// Block or allow.
    pub action: Action,
    /// Why.
    pub reason: String,
    /// Who decided.
    pub actor: String,
    /// When (RFC 3339).
    pub at: String,
}

/// An artifact the gate fetched and judged.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ArtifactRow {
    /// Digest of the bytes.
    pub sha256: String,
    /// Ecosystem.
    pub ecosystem: Ecosystem,
    /// Normalised name.
    pub name: String,
    /// Version.
    pub version: String,
    /// File name.
    pub filename: String,
    /// Size in bytes.
    pub size: u64,
    /// The verdict level.
    pub verdict: VerdictLevel,
    /// Verdict score.
    pub score: u32,
    /// When it was judged.
    pub scanned_at: String,
}

/// Where an artifact's sandbox run stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum JobState {
    /// Waiting for, or in, a sandbox run: the artifact is not served.
    Pending,
    /// The sandbox could not run; the policy's `scan_error` decides.
    Failed,
}

impl JobState {
    /// The stored lower-case name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Pending => "pending",
            JobState::Failed => "failed",
        }
    }
    fn parse(s: &str) -> Result<Self> {
        match s {
            "pending" => Ok(JobState::Pending),
            "failed" => Ok(JobState::Failed),
            other => Err(StoreError::Corrupt(format!("unknown job state `{other}`"))),
        }
    }
}

/// An artifact held for a sandbox run.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct SandboxJob {
    /// Digest of the artifact.
    pub sha256: String,
    /// Ecosystem.
    pub ecosystem: Ecosystem,
    /// Normalised name.
    pub name: String,
    /// Version.
    pub version: String,
    /// File name.
    pub filename: String,
    /// Pending or failed.
    pub state: JobState,
    /// Why the run failed, when it did.
    pub error: Option<String>,
    /// When the artifact was first held (RFC 3339).
    pub queued_at: String,
}

/// A file listed by upstream metadata, with what the gate must verify.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FileRow {
    /// File name (the last path segment of the gate's URL).
    pub filename: String,
    /// Version the file belongs to.
    pub version: String,
    /// Absolute upstream URL.
    pub url: String,
    /// Expected sha256 (hex), when upstream gave one.
    pub sha256: Option<String>,
    /// Expected npm SRI integrity string.
    pub integrity: Option<String>,
    /// Expected npm sha1 (hex).
    pub shasum: Option<String>,
    /// Expected sha256 of the PEP 658 core-metadata file.
    pub metadata_sha256: Option<String>,
    /// Upload time (RFC 3339), when known.
    pub upload_time: Option<String>,
    /// When upstream stopped listing the file (a takedown), if it did.
    pub removed_at: Option<String>,
}

/// One row of the audit log.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Download {
    /// When (RFC 3339, UTC).
    pub at: String,
    /// `pypi` or `npm`.
    pub ecosystem: String,
    /// Normalised name.
    pub name: String,
    /// Version.
    pub version: String,
    /// File requested.
    pub filename: String,
    /// Digest of the bytes served or refused, when known.
    pub sha256: Option<String>,
    /// Client identity: basic-auth user or named token, or `anonymous`.
    pub principal: String,
    /// Client address.
    pub addr: String,
    /// User-Agent header.
    pub user_agent: String,
    /// Verdict at request time (`clean`, `suspicious`, `malicious`, `unscanned`, …).
    pub verdict: String,
    /// Whether the bytes were served.
    pub allowed: bool,
    /// Why it was refused (or `ok`).
    pub reason: String,
}

/// Per-client summary answered by `who-pulled`.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Puller {
    /// Client identity.
    pub principal: String,
    /// Versions it pulled (comma-separated, distinct).
    pub versions: String,
    /// How many requests.
    pub requests: u64,
    /// How many were served.
    pub served: u64,
    /// First request.
    pub first: String,
    /// Last request.
    pub last: String,
    /// Addresses seen (comma-separated, distinct).
    pub addrs: String,
}

/// The metadata store. One connection behind a mutex: every statement is
/// short, and SQLite serialises writers anyway.
pub struct Store {
    conn: Mutex<Connection>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Store")
    }
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

fn eco_str(e: Ecosystem) -> &'static str {
    e.prefix()
}

fn eco_parse(s: &str) -> Result<Ecosystem> {
    s.parse()
        .map_err(|_| StoreError::Corrupt(format!("unknown ecosystem `{s}`")))
}

impl Store {
    /// Open (creating if needed) `dir/sluice.db`.
    ///
    /// # Errors
    /// Fails when the folder cannot be created or the database opened.
    pub fn open(dir: &Path) -> Result<Self> {
        fs_err::create_dir_all(dir)?;
        let conn = Connection::open(dir.join("sluice.db"))?;
        Self::init(conn)
    }

    /// An in-memory store, for tests.
    ///
    /// # Errors
    /// Fails when SQLite cannot start.
    pub fn in_memory() -> Result<Self> {
        Self::init(Connection::open_in_memory()?)
    }

    fn init(conn: Connection) -> Result<Self> {
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        // WAL lets the admin command write while the server reads.
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.execute_batch(SCHEMA)?;
        conn.execute_batch(intel::SCHEMA)?;
        let has_removed: bool = conn
            .prepare("SELECT 1 FROM pragma_table_info('files') WHERE name = 'removed_at'")?
            .exists([])?;
        if !has_removed {
            conn.execute_batch("ALTER TABLE files ADD COLUMN removed_at TEXT")?;
        }
        Ok(Self {
            conn: Mutex::new(conn),
        })
    }

    fn conn(&self) -> std::sync::MutexGuard<'_, Connection> {
        // A panic while holding the lock leaves SQLite consistent (every
        // statement is atomic), so a poisoned lock is safe to reuse.
        self.conn
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Record (or replace) the verdict of an artifact.
    ///
    /// # Errors
    /// Database failure.
    pub fn put_artifact(&self, row: &ArtifactRow, report_json: &str) -> Result<()> {
        insert_artifact(&self.conn(), row, report_json)
    }

    /// Record the static verdict of an artifact and hold it for a sandbox
    /// run, in one transaction: there is no moment at which the verdict is
    /// stored and the hold is not.
    ///
    /// # Errors
    /// Database failure.
    pub fn put_artifact_held(&self, row: &ArtifactRow, report_json: &str) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        insert_artifact(&tx, row, report_json)?;
        tx.execute(
            "INSERT OR REPLACE INTO sandbox_jobs(sha256, ecosystem, name, version, filename, state, error, queued_at)
             VALUES (?1, ?2, ?3, ?4, ?5, 'pending', NULL, ?6)",
            params![
                row.sha256,
                eco_str(row.ecosystem),
                row.name,
                row.version,
                row.filename,
                now()
            ],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Replace an artifact's verdict with the one that includes its sandbox
    /// run (or its static one, annotated) and drop its hold, in one
    /// transaction.
    ///
    /// # Errors
    /// Database failure.
    pub fn finish_sandbox(&self, row: &ArtifactRow, report_json: &str) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        insert_artifact(&tx, row, report_json)?;
        tx.execute("DELETE FROM sandbox_jobs WHERE sha256 = ?1", [&row.sha256])?;
        tx.commit()?;
        Ok(())
    }

    /// Mark a held artifact's sandbox run as failed (it stays held; the
    /// policy's `scan_error` decides what a failure means). Returns whether
    /// the artifact was held.
    ///
    /// # Errors
    /// Database failure.
    pub fn fail_sandbox(&self, sha256: &str, error: &str) -> Result<bool> {
        let n = self.conn().execute(
            "UPDATE sandbox_jobs SET state = 'failed', error = ?2 WHERE sha256 = ?1",
            params![sha256, error],
        )?;
        Ok(n > 0)
    }

    /// The sandbox holds of a package.
    ///
    /// # Errors
    /// Database failure.
    pub fn sandbox_jobs_of(&self, eco: Ecosystem, name: &str) -> Result<Vec<SandboxJob>> {
        let conn = self.conn();
        let mut st = conn.prepare_cached(
            "SELECT sha256, ecosystem, name, version, filename, state, error, queued_at FROM sandbox_jobs
             WHERE ecosystem = ?1 AND name = ?2",
        )?;
        let rows = st.query_map(params![eco_str(eco), name], row_to_job)?;
        let mut out = Vec::new();
        for r in rows {
            out.push(r??);
        }
        Ok(out)
    }

    /// Every sandbox hold, oldest first.
    ///
    /// # Errors
    /// Database failure.
    pub fn sandbox_jobs(&self) -> Result<Vec<SandboxJob>> {
        let conn = self.conn();
        let mut st = conn.prepare(
            "SELECT sha256, ecosystem, name, version, filename, state, error, queued_at FROM sandbox_jobs
             ORDER BY queued_at, sha256",
        )?;
        let rows = st.query_map([], row_to_job)?;
        let mut out = Vec::new();
        for r in rows {
            out.push(r??);
        }
        Ok(out)
    }

    /// At start-up: every hold goes back to pending (failed runs are tried
    /// again) and is returned, oldest first, to be run.
    ///
    /// # Errors
    /// Database failure.
    pub fn requeue_sandbox_jobs(&self) -> Result<Vec<SandboxJob>> {
        self.conn().execute(
            "UPDATE sandbox_jobs SET state = 'pending', error = NULL WHERE state <> 'pending'",
            [],
        )?;
        self.sandbox_jobs()
    }

    /// The stored artifact with this digest.
    ///
    /// # Errors
    /// Database failure.
    pub fn artifact(&self, sha256: &str) -> Result<Option<ArtifactRow>> {
        let conn = self.conn();
        let mut st = conn.prepare_cached(
            "SELECT sha256, ecosystem, name, version, filename, size, verdict, score, scanned_at FROM artifacts WHERE sha256 = ?1",
        )?;
        let row = st.query_row([sha256], row_to_artifact).optional()?;
        row.transpose()
    }

    /// The stored JSON report of an artifact.
    ///
    /// # Errors
    /// Database failure.
    pub fn report(&self, sha256: &str) -> Result<Option<String>> {
        Ok(self
            .conn()
            .query_row(
                "SELECT report FROM artifacts WHERE sha256 = ?1",
                [sha256],
                |r| r.get(0),
            )
            .optional()?)
    }

    /// Every judged artifact of a package (all versions when `version` is None).
    ///
    /// # Errors
    /// Database failure.
    pub fn artifacts_of(
        &self,
        eco: Ecosystem,
        name: &str,
        version: Option<&str>,
    ) -> Result<Vec<ArtifactRow>> {
        let conn = self.conn();
        let mut st = conn.prepare_cached(
            "SELECT sha256, ecosystem, name, version, filename, size, verdict, score, scanned_at FROM artifacts
             WHERE ecosystem = ?1 AND name = ?2 AND (?3 IS NULL OR version = ?3)",
        )?;
        let rows = st.query_map(params![eco_str(eco), name, version], row_to_artifact)?;
        let mut out = Vec::new();
        for r in rows {
            out.push(r??);
        }
        Ok(out)
    }

    /// Artifacts whose verdict is at least `level`, newest first.
    ///
    /// # Errors
    /// Database failure.
    pub fn artifacts_with_verdict(&self, levels: &[VerdictLevel]) -> Result<Vec<ArtifactRow>> {
        let conn = self.conn();
        let mut st = conn.prepare(
            "SELECT sha256, ecosystem, name, version, filename, size, verdict, score, scanned_at FROM artifacts
             ORDER BY scanned_at DESC",
        )?;
        let rows = st.query_map([], row_to_artifact)?;
        let mut out = Vec::new();
        for r in rows {
            let a = r??;
            if levels.contains(&a.verdict) {
                out.push(a);
            }
        }
        Ok(out)
    }

    /// Remember the files a fresh upstream metadata page listed, replacing
    /// older rows. Files of the package that upstream no longer lists are
    /// marked removed (a takedown signal) rather than forgotten, so their
    /// cached copies are not served on as if nothing happened.
    ///
    /// # Errors
    /// Database failure.
    pub fn put_files(&self, eco: Ecosystem, name: &str, files: &[FileRow]) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        {
            let at = now();
            tx.execute(
                "UPDATE files SET removed_at = ?3 WHERE ecosystem = ?1 AND name = ?2 AND removed_at IS NULL",
                params![eco_str(eco), name, at],
            )?;
            let mut st = tx.prepare_cached(
                "INSERT OR REPLACE INTO files(ecosystem, name, filename, version, url, sha256, integrity, shasum, metadata_sha256, upload_time, removed_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, NULL)",
            )?;
            for f in files {
                st.execute(params![
                    eco_str(eco),
                    name,
                    f.filename,
                    f.version,
                    f.url,
                    f.sha256,
                    f.integrity,
                    f.shasum,
                    f.metadata_sha256,
                    f.upload_time
                ])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// The upstream location of a file the gate listed.
    ///
    /// # Errors
    /// Database failure.
    pub fn file(&self, eco: Ecosystem, name: &str, filename: &str) -> Result<Option<FileRow>> {
        let conn = self.conn();
        let mut st = conn.prepare_cached(
            "SELECT filename, version, url, sha256, integrity, shasum, metadata_sha256, upload_time, removed_at FROM files
             WHERE ecosystem = ?1 AND name = ?2 AND filename = ?3",
        )?;
        Ok(st
            .query_row(params![eco_str(eco), name, filename], |r| {
                Ok(FileRow {
                    filename: r.get(0)?,
                    version: r.get(1)?,
                    url: r.get(2)?,
                    sha256: r.get(3)?,
                    integrity: r.get(4)?,
                    shasum: r.get(5)?,
                    metadata_sha256: r.get(6)?,
                    upload_time: r.get(7)?,
                    removed_at: r.get(8)?,
                })
            })
            .optional()?)
    }

    /// Set a manual decision (replacing an earlier one on the same target)
    /// and append it to the history.
    ///
    /// # Errors
    /// Database failure.
    pub fn decide(
        &self,
        eco: Ecosystem,
        name: &str,
        version: Option<&str>,
        action: Action,
        reason: &str,
        actor: &str,
    ) -> Result<Decision> {
        let at = now();
        let version = version.unwrap_or("");
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        tx.execute(
            "INSERT OR REPLACE INTO decisions(ecosystem, name, version, action, reason, actor, at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![eco_str(eco), name, version, action.as_str(), reason, actor, at],
        )?;
        tx.execute(
            "INSERT INTO decision_log(ecosystem, name, version, action, reason, actor, at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![eco_str(eco), name, version, action.as_str(), reason, actor, at],
        )?;
        tx.commit()?;
        Ok(Decision {
            ecosystem: eco,
            name: name.to_owned(),
            version: version.to_owned(),
            action,
            reason: reason.to_owned(),
            actor: actor.to_owned(),
            at,
        })
    }

    /// Remove a manual decision; returns whether one existed. The removal
    /// is logged too.
    ///
    /// # Errors
    /// Database failure.
    pub fn clear_decision(
        &self,
        eco: Ecosystem,
        name: &str,
        version: Option<&str>,
        reason: &str,
        actor: &str,
    ) -> Result<bool> {
        let version = version.unwrap_or("");
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let n = tx.execute(
            "DELETE FROM decisions WHERE ecosystem = ?1 AND name = ?2 AND version = ?3",
            params![eco_str(eco), name, version],
        )?;
        tx.execute(
            "INSERT INTO decision_log(ecosystem, name, version, action, reason, actor, at) VALUES (?1, ?2, ?3, 'clear', ?4, ?5, ?6)",
            params![eco_str(eco), name, version, reason, actor, now()],
        )?;
        tx.commit()?;
        Ok(n > 0)
    }

    /// Every decision on a package: the whole-package one (version empty)
    /// and per-version ones.
    ///
    /// # Errors
    /// Database failure.
    pub fn decisions_for(&self, eco: Ecosystem, name: &str) -> Result<Vec<Decision>> {
        let conn = self.conn();
        let mut st = conn.prepare_cached(
            "SELECT ecosystem, name, version, action, reason, actor, at FROM decisions WHERE ecosystem = ?1 AND name = ?2",
        )?;
        let rows = st.query_map(params![eco_str(eco), name], row_to_decision)?;
        let mut out = Vec::new();
        for r in rows {
            out.push(r??);
        }
        Ok(out)
    }

    /// Every decision, newest first.
    ///
    /// # Errors
    /// Database failure.
    pub fn decisions(&self) -> Result<Vec<Decision>> {
        let conn = self.conn();
        let mut st = conn.prepare(
            "SELECT ecosystem, name, version, action, reason, actor, at FROM decisions ORDER BY at DESC",
        )?;
        let rows = st.query_map([], row_to_decision)?;
        let mut out = Vec::new();
        for r in rows {
            out.push(r??);
        }
        Ok(out)
    }

    /// Append one audit-log row.
    ///
    /// # Errors
    /// Database failure.
    pub fn log_download(&self, d: &Download) -> Result<()> {
        self.log_downloads(std::slice::from_ref(d))
    }

    /// Append many audit-log rows in one transaction (used by benchmarks
    /// and imports).
    ///
    /// # Errors
    /// Database failure.
    pub fn log_downloads(&self, rows: &[Download]) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        {
            let mut st = tx.prepare_cached(
                "INSERT INTO downloads(at, ecosystem, name, version, filename, sha256, principal, addr, user_agent, verdict, allowed, reason)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
            )?;
            for d in rows {
                st.execute(params![
                    d.at,
                    d.ecosystem,
                    d.name,
                    d.version,
                    d.filename,
                    d.sha256,
                    d.principal,
                    d.addr,
                    d.user_agent,
                    d.verdict,
                    d.allowed,
                    d.reason
                ])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Which clients pulled a package (one version, or all), one row per
    /// client, most recent first. Uses the `downloads_pkg` index.
    ///
    /// # Errors
    /// Database failure.
    pub fn who_pulled(
        &self,
        eco: Ecosystem,
        name: &str,
        version: Option<&str>,
    ) -> Result<Vec<Puller>> {
        let conn = self.conn();
        let sql = "SELECT principal, group_concat(DISTINCT version), count(*), sum(allowed), min(at), max(at), group_concat(DISTINCT addr)
             FROM downloads WHERE ecosystem = ?1 AND name = ?2 AND (?3 IS NULL OR version = ?3)
             GROUP BY principal ORDER BY max(at) DESC";
        let mut st = conn.prepare_cached(sql)?;
        let rows = st.query_map(params![eco_str(eco), name, version], |r| {
            Ok(Puller {
                principal: r.get(0)?,
                versions: r.get::<_, Option<String>>(1)?.unwrap_or_default(),
                requests: u64::try_from(r.get::<_, i64>(2)?).unwrap_or(0),
                served: u64::try_from(r.get::<_, Option<i64>>(3)?.unwrap_or(0)).unwrap_or(0),
                first: r.get(4)?,
                last: r.get(5)?,
                addrs: r.get::<_, Option<String>>(6)?.unwrap_or_default(),
            })
        })?;
        Ok(rows.collect::<std::result::Result<_, _>>()?)
    }

    /// The raw audit rows of a package, newest first, at most `limit`.
    ///
    /// # Errors
    /// Database failure.
    pub fn downloads_of(
        &self,
        eco: Ecosystem,
        name: &str,
        version: Option<&str>,
        limit: u32,
    ) -> Result<Vec<Download>> {
        let conn = self.conn();
        let mut st = conn.prepare_cached(
            "SELECT at, ecosystem, name, version, filename, sha256, principal, addr, user_agent, verdict, allowed, reason
             FROM downloads WHERE ecosystem = ?1 AND name = ?2 AND (?3 IS NULL OR version = ?3)
             ORDER BY at DESC LIMIT ?4",
        )?;
        let rows = st.query_map(params![eco_str(eco), name, version, limit], |r| {
            Ok(Download {
                at: r.get(0)?,
                ecosystem: r.get(1)?,
                name: r.get(2)?,
                version: r.get(3)?,
                filename: r.get(4)?,
                sha256: r.get(5)?,
                principal: r.get(6)?,
                addr: r.get(7)?,
                user_agent: r.get(8)?,
                verdict: r.get(9)?,
                allowed: r.get(10)?,
                reason: r.get(11)?,
            })
        })?;
        Ok(rows.collect::<std::result::Result<_, _>>()?)
    }

    /// Save the last good upstream body of a metadata page.
    ///
    /// # Errors
    /// Database failure.
    pub fn put_meta(&self, key: &str, body: &[u8], content_type: &str) -> Result<()> {
        self.conn().execute(
            "INSERT OR REPLACE INTO meta_cache(key, body, content_type, fetched_at) VALUES (?1, ?2, ?3, ?4)",
            params![key, body, content_type, now()],
        )?;
        Ok(())
    }

    /// The last good upstream body of a metadata page: (body, content type,
    /// fetched at).
    ///
    /// # Errors
    /// Database failure.
    pub fn meta(&self, key: &str) -> Result<Option<(Vec<u8>, String, String)>> {
        Ok(self
            .conn()
            .query_row(
                "SELECT body, content_type, fetched_at FROM meta_cache WHERE key = ?1",
                [key],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?)
    }
}

fn insert_artifact(conn: &Connection, row: &ArtifactRow, report_json: &str) -> Result<()> {
    conn.execute(
        "INSERT OR REPLACE INTO artifacts(sha256, ecosystem, name, version, filename, size, verdict, score, report, scanned_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        params![
            row.sha256,
            eco_str(row.ecosystem),
            row.name,
            row.version,
            row.filename,
            i64::try_from(row.size).unwrap_or(i64::MAX),
            row.verdict.as_str(),
            row.score,
            report_json,
            row.scanned_at
        ],
    )?;
    Ok(())
}

fn row_to_job(r: &rusqlite::Row<'_>) -> rusqlite::Result<Result<SandboxJob>> {
    let eco: String = r.get(1)?;
    let state: String = r.get(5)?;
    Ok((|| {
        Ok(SandboxJob {
            sha256: r.get(0)?,
            ecosystem: eco_parse(&eco)?,
            name: r.get(2)?,
            version: r.get(3)?,
            filename: r.get(4)?,
            state: JobState::parse(&state)?,
            error: r.get(6)?,
            queued_at: r.get(7)?,
        })
    })())
}

fn row_to_artifact(r: &rusqlite::Row<'_>) -> rusqlite::Result<Result<ArtifactRow>> {
    let eco: String = r.get(1)?;
    let verdict: String = r.get(6)?;
    let size: i64 = r.get(5)?;
    Ok((|| {
        Ok(ArtifactRow {
            sha256: r.get(0)?,
            ecosystem: eco_parse(&eco)?,
            name: r.get(2)?,
            version: r.get(3)?,
            filename: r.get(4)?,
            size: u64::try_from(size).unwrap_or(0),
            verdict: verdict.parse().map_err(StoreError::Corrupt)?,
            score: r.get(7)?,
            scanned_at: r.get(8)?,
        })
    })())
}

fn row_to_decision(r: &rusqlite::Row<'_>) -> rusqlite::Result<Result<Decision>> {
    let eco: String = r.get(0)?;
    let action: String = r.get(3)?;
    Ok((|| {
        Ok(Decision {
            ecosystem: eco_parse(&eco)?,
            name: r.get(1)?,
            version: r.get(2)?,
            action: Action::parse(&action)?,
            reason: r.get(4)?,
            actor: r.get(5)?,
            at: r.get(6)?,
        })
    })())
}

/// The digest of some bytes as lower-case hex (convenience for callers).
#[must_use]
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::of(bytes).to_hex()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dl(name: &str, version: &str, who: &str, at: &str, allowed: bool) -> Download {
        Download {
            at: at.into(),
            ecosystem: "pypi".into(),
            name: name.into(),
            version: version.into(),
            filename: format!("{name}-{version}.tar.gz"),
            principal: who.into(),
            addr: "127.0.0.1".into(),
            verdict: "clean".into(),
            allowed,
            reason: "ok".into(),
            ..Download::default()
        }
    }

    #[test]
    fn who_pulled_groups_by_principal_and_filters_version() {
        let s = Store::in_memory().unwrap();
        s.log_download(&dl("evil", "1.0", "ci", "2026-01-01T00:00:00Z", true))
            .unwrap();
        s.log_download(&dl("evil", "1.0", "ci", "2026-01-02T00:00:00Z", false))
            .unwrap();
        s.log_download(&dl("evil", "2.0", "web", "2026-01-03T00:00:00Z", true))
            .unwrap();
        s.log_download(&dl("good", "1.0", "other", "2026-01-03T00:00:00Z", true))
            .unwrap();
        let all = s.who_pulled(Ecosystem::PyPI, "evil", None).unwrap();
        assert_eq!(all.len(), 2);
        assert_eq!(all[0].principal, "web");
        assert_eq!(all[1].principal, "ci");
        assert_eq!(all[1].requests, 2);
        assert_eq!(all[1].served, 1);
        assert_eq!(all[1].first, "2026-01-01T00:00:00Z");
        let v1 = s.who_pulled(Ecosystem::PyPI, "evil", Some("1.0")).unwrap();
        assert_eq!(v1.len(), 1);
        assert_eq!(v1[0].principal, "ci");
        assert!(
            s.who_pulled(Ecosystem::Npm, "evil", None)
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn who_pulled_uses_the_index() {
        let s = Store::in_memory().unwrap();
        let conn = s.conn();
        let plan: String = conn
            .query_row(
                "EXPLAIN QUERY PLAN SELECT principal FROM downloads WHERE ecosystem = 'pypi' AND name = 'x' AND version = '1' GROUP BY principal",
                [],
                |r| r.get(3),
            )
            .unwrap();
        assert!(plan.contains("downloads_pkg"), "{plan}");
    }

    #[test]
    fn decisions_replace_and_clear() {
        let s = Store::in_memory().unwrap();
        s.decide(
            Ecosystem::Npm,
            "x",
            Some("1.0.0"),
            Action::Block,
            "bad",
            "alice",
        )
        .unwrap();
        s.decide(
            Ecosystem::Npm,
            "x",
            Some("1.0.0"),
            Action::Allow,
            "fp",
            "bob",
        )
        .unwrap();
        let d = s.decisions_for(Ecosystem::Npm, "x").unwrap();
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].action, Action::Allow);
        assert_eq!(d[0].actor, "bob");
        assert!(
            s.clear_decision(Ecosystem::Npm, "x", Some("1.0.0"), "done", "bob")
                .unwrap()
        );
        assert!(
            !s.clear_decision(Ecosystem::Npm, "x", Some("1.0.0"), "again", "bob")
                .unwrap()
        );
        assert!(s.decisions_for(Ecosystem::Npm, "x").unwrap().is_empty());
    }

    #[test]
    fn artifacts_roundtrip() {
        let s = Store::in_memory().unwrap();
        let row = ArtifactRow {
            sha256: "ab".repeat(32),
            ecosystem: Ecosystem::PyPI,
            name: "evil".into(),
            version: "1.0".into(),
            filename: "evil-1.0.tar.gz".into(),
            size: 10,
            verdict: VerdictLevel::Malicious,
            score: 90,
            scanned_at: now(),
        };
        s.put_artifact(&row, "{}").unwrap();
        assert_eq!(s.artifact(&row.sha256).unwrap().unwrap(), row);
        assert_eq!(
            s.artifacts_of(Ecosystem::PyPI, "evil", Some("1.0"))
                .unwrap()
                .len(),
            1
        );
        assert!(
            s.artifacts_of(Ecosystem::PyPI, "evil", Some("2.0"))
                .unwrap()
                .is_empty()
        );
        assert_eq!(
            s.artifacts_with_verdict(&[VerdictLevel::Malicious])
                .unwrap()
                .len(),
            1
        );
    }

    #[test]
    fn sandbox_holds_are_written_with_the_verdict_and_survive_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let mut row = ArtifactRow {
            sha256: "cd".repeat(32),
            ecosystem: Ecosystem::Npm,
            name: "hooky".into(),
            version: "1.0.0".into(),
            filename: "hooky-1.0.0.tgz".into(),
            size: 10,
            verdict: VerdictLevel::Suspicious,
            score: 40,
            scanned_at: now(),
        };
        {
            let s = Store::open(dir.path()).unwrap();
            s.put_artifact_held(&row, "{\"static\":1}").unwrap();
            assert_eq!(s.artifact(&row.sha256).unwrap().unwrap(), row);
            let jobs = s.sandbox_jobs_of(Ecosystem::Npm, "hooky").unwrap();
            assert_eq!(jobs.len(), 1);
            assert_eq!(jobs[0].state, JobState::Pending);
            assert!(s.fail_sandbox(&row.sha256, "no bwrap").unwrap());
            assert!(!s.fail_sandbox(&"ee".repeat(32), "x").unwrap());
            let jobs = s.sandbox_jobs().unwrap();
            assert_eq!(jobs[0].state, JobState::Failed);
            assert_eq!(jobs[0].error.as_deref(), Some("no bwrap"));
        }
        // Reopened (a restart): the hold is still there, pending again.
        let s = Store::open(dir.path()).unwrap();
        let jobs = s.requeue_sandbox_jobs().unwrap();
        assert_eq!(jobs.len(), 1);
        assert_eq!(jobs[0].state, JobState::Pending);
        assert_eq!(jobs[0].error, None);
        assert!(
            s.sandbox_jobs_of(Ecosystem::PyPI, "hooky")
                .unwrap()
                .is_empty()
        );
        // Finishing replaces the verdict and drops the hold together.
        row.verdict = VerdictLevel::Malicious;
        row.score = 95;
        s.finish_sandbox(&row, "{\"merged\":1}").unwrap();
        assert!(s.sandbox_jobs().unwrap().is_empty());
        assert_eq!(
            s.artifact(&row.sha256).unwrap().unwrap().verdict,
            VerdictLevel::Malicious
        );
        assert_eq!(
            s.report(&row.sha256).unwrap().as_deref(),
            Some("{\"merged\":1}")
        );
    }

    #[test]
    fn files_and_meta() {
        let s = Store::in_memory().unwrap();
        let f = FileRow {
            filename: "a-1.whl".into(),
            version: "1".into(),
            url: "http://127.0.0.1/a-1.whl".into(),
            sha256: Some("00".repeat(32)),
            ..FileRow::default()
        };
        s.put_files(Ecosystem::PyPI, "a", std::slice::from_ref(&f))
            .unwrap();
        assert_eq!(
            s.file(Ecosystem::PyPI, "a", "a-1.whl").unwrap(),
            Some(f.clone())
        );
        assert_eq!(s.file(Ecosystem::PyPI, "a", "b").unwrap(), None);
        // Upstream stops listing it: kept, marked removed; listed again: cleared.
        s.put_files(Ecosystem::PyPI, "a", &[]).unwrap();
        assert!(
            s.file(Ecosystem::PyPI, "a", "a-1.whl")
                .unwrap()
                .unwrap()
                .removed_at
                .is_some()
        );
        s.put_files(Ecosystem::PyPI, "a", std::slice::from_ref(&f))
            .unwrap();
        assert_eq!(
            s.file(Ecosystem::PyPI, "a", "a-1.whl").unwrap(),
            Some(f.clone())
        );
        s.put_meta("pypi:a", b"{}", "application/json").unwrap();
        assert_eq!(s.meta("pypi:a").unwrap().unwrap().0, b"{}");
    }
}
