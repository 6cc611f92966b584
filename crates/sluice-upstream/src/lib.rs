//! Upstream registry discovery (pip and npm configuration) and artifact download.
#![warn(missing_docs)]
