//! The gate: PyPI and npm proxy with scanning, policy, quarantine and audit log.
//!
//! [`serve`] runs an axum server that speaks the PyPI simple API (PEP 503,
//! 592, 629, 658, 691, 700, 714, 792), a read-only PyPI JSON API, and the npm
//! registry read API (full and abbreviated packuments, tarballs, the bulk
//! advisory endpoint `npm audit` calls). Every artifact is fetched from the
//! configured upstream once, checked against upstream's digest, stored by
//! sha256, judged by `sluice-analyze`, and then served from the gate's own
//! origin, byte for byte. Every metadata page is filtered and every artifact
//! request is checked against the *current* verdicts and decisions, so a
//! block takes effect on the next request, cached copies included. Every
//! artifact request is written to the audit log.
//!
//! With `[sandbox] run` set, chosen artifacts also get a second opinion
//! from the dynamic sandbox ([`second`]) and are held (answered 503) until
//! it has run; its findings are merged into the stored verdict.
//!
//! This crate must not execute package code other than through
//! `sluice_sandbox::run` (its own network namespace, only loopback), and
//! must never write outside the configured data dir.
#![warn(missing_docs)]

pub mod config;
mod hot;
pub mod npm;
pub mod policy;
pub mod pypi;
pub mod second;
mod server;

pub use config::Config;
pub use second::{Observed, SandboxOpinion, SecondOpinion};
pub use server::{AppState, Judged, Scanner, StaticScanner, router, serve};

/// Errors of the gate.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RegistryError {
    /// The configuration is invalid.
    #[error("configuration: {0}")]
    Config(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] sluice_store::StoreError),
    /// Upstream failed or answered something unusable.
    #[error("upstream: {0}")]
    Upstream(String),
    /// Network or server failure.
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
}
