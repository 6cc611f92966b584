//! Name intelligence for `scan`: adds `NAME4xx` findings to a report.

use std::path::Path;

use anyhow::Context as _;
use sluice_model::Report;
use sluice_names::{Engine, PrivateList};

/// Build the names engine `scan` uses: the user's refreshed index when
/// `sluice names update` wrote one, else the shipped index; plus the
/// private-name list when one is given. Returns `None` for the shipped
/// index with no private list, which callers take from
/// [`Engine::builtin`] (built once, shared).
pub fn engine(private: Option<&Path>) -> anyhow::Result<Option<Engine>> {
    let user_index = sluice_names::user_index_path().filter(|p| p.is_file());
    if user_index.is_none() && private.is_none() {
        return Ok(None);
    }
    let mut engine = match &user_index {
        Some(p) => Engine::from_index_file(p)
            .with_context(|| format!("cannot read the name index {}", p.display()))?,
        None => Engine::from_data(&Engine::builtin_data()?),
    };
    if let Some(p) = private {
        let text = fs_err::read_to_string(p)?;
        let list = PrivateList::parse(&text).with_context(|| format!("{}", p.display()))?;
        engine = engine.with_private(list);
    }
    Ok(Some(engine))
}

/// Add name findings (typosquats, confusion) for the report's package and
/// recompute its verdict.
pub fn add_name_findings(report: &mut Report, engine: &Engine) {
    let Some(name) = &report.package else {
        return;
    };
    let found = engine.findings_for(name);
    if !found.is_empty() {
        report.findings.extend(found);
        sluice_analyze::rejudge(report);
    }
}
