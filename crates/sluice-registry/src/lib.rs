//! The gate: PyPI and npm proxy with scanning, policy, quarantine and audit log.
#![warn(missing_docs)]
