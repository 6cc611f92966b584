//! One module per subcommand; each owns its clap arguments and a `run`.

pub mod admin;
pub mod audit;
pub mod bench;
pub mod db;
pub mod names;
pub mod sandbox;
pub mod scan;
pub mod serve;
pub mod train;
