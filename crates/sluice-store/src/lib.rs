//! Metadata store (SQLite) and blob store (local folder) for the gate.
#![warn(missing_docs)]
