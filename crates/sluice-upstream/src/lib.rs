//! Upstream registries: where they are, and how to fetch one artifact.
//!
//! sluice never writes a public registry's address into its code. The
//! upstream URLs come from the user (a flag or the gate's config file) or,
//! by default, from the machine's own pip and npm configuration
//! ([`discover`]): `PIP_INDEX_URL`, `pip.conf`, then pip's own default as
//! pip itself reports it; `npm_config_registry`, `.npmrc`, then
//! `npm config get registry`.
//!
//! [`fetch`] downloads one artifact named by a
//! [`PackageSpec`](sluice_model::PackageSpec) (`pypi:NAME[==VERSION]`,
//! `npm:NAME[@VERSION]`), with timeouts and a size cap, and checks the
//! digest the index advertises (sha256 for PyPI, `integrity` sha512 for
//! npm) before handing the bytes back. This crate does not scan anything.
#![warn(missing_docs)]

mod config;
mod fetch;
mod npm;
mod pypi;

pub use config::{Upstreams, discover};
pub use fetch::{Downloaded, FetchError, fetch, fetch_blocking, fetch_pypi_picked_blocking};
pub use pypi::{IndexFile, parse_simple_html, parse_simple_json};
