//! Name intelligence for `scan`: adds `NAME4xx` findings to a report.

use sluice_model::Report;

/// Add name findings (typosquats, confusion) for the report's package and
/// recompute its verdict.
pub fn add_name_findings(report: &mut Report) {
    let _ = report;
}
