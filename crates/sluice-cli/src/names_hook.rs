//! Name intelligence for `scan`: adds `NAME4xx` findings to a report.

use std::path::Path;

use anyhow::Context as _;
use sluice_archive::FileTree;
use sluice_model::Report;
use sluice_names::{Engine, PrivateList};

/// Build the names engine `scan` uses when a private-name list is given:
/// the user's refreshed index when `sluice names update` wrote one, else the
/// shipped index, plus the list. Without a list this returns `None` and
/// callers use the shared [`Engine::preferred`].
pub fn engine(private: Option<&Path>) -> anyhow::Result<Option<Engine>> {
    let Some(private) = private else {
        return Ok(None);
    };
    let user_index = sluice_names::user_index_path().filter(|p| p.is_file());
    let engine = match &user_index {
        Some(p) => Engine::from_index_file(p)
            .with_context(|| format!("cannot read the name index {}", p.display()))?,
        None => Engine::from_data(&Engine::builtin_data()?),
    };
    let text = fs_err::read_to_string(private)?;
    let list = PrivateList::parse(&text).with_context(|| format!("{}", private.display()))?;
    Ok(Some(engine.with_private(list)))
}

/// Add name findings (typosquats, confusion) for the report's package and
/// recompute its verdict (parsing the test and doc files of `tree` that the
/// first pass left aside, if the name findings make them matter).
pub fn add_name_findings(report: &mut Report, tree: &FileTree, engine: &Engine) {
    let Some(name) = &report.package else {
        return;
    };
    let found = engine.findings_for(name);
    if !found.is_empty() {
        sluice_analyze::add_findings(report, tree, found);
    }
}
