//! Tables of the malicious-package intel store (imported OSV records).
//!
//! The store keeps rows and knows nothing of OSV or version ordering: the
//! `sluice-intel` crate parses and validates records, decides what a
//! package entry matches, and hands finished rows here. What the store
//! guarantees is the part that needs the database:
//! - a batch of records is written in one transaction (all or nothing);
//! - a record replaces the stored one only when its `modified` is newer;
//! - a withdrawn record keeps its row (for `db show`) but loses its
//!   package rows, so it can no longer match anything;
//! - every batch that changed something bumps a generation counter, which
//!   the gate reads on each request (one indexed read) to know when its
//!   in-memory matcher is stale.

use rusqlite::{Connection, OptionalExtension, params};

use crate::{Result, Store, now};

pub(crate) const SCHEMA: &str = r"
CREATE TABLE IF NOT EXISTS intel_records(
  id TEXT PRIMARY KEY,
  modified TEXT NOT NULL,
  published TEXT,
  withdrawn TEXT,
  summary TEXT NOT NULL,
  source TEXT NOT NULL,
  imported_at TEXT NOT NULL,
  body TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS intel_packages(
  record_id TEXT NOT NULL,
  ecosystem TEXT NOT NULL,
  name TEXT NOT NULL,
  matcher TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS intel_packages_pkg ON intel_packages(ecosystem, name);
CREATE INDEX IF NOT EXISTS intel_packages_rec ON intel_packages(record_id);
CREATE TABLE IF NOT EXISTS intel_state(
  k TEXT PRIMARY KEY,
  v INTEGER NOT NULL
);
INSERT OR IGNORE INTO intel_state(k, v) VALUES ('generation', 0);
";

/// One imported record, ready to store.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IntelRecordRow {
    /// The OSV id (`MAL-2024-4922`).
    pub id: String,
    /// `modified`, normalised by the caller so that string order is time
    /// order (RFC 3339, UTC, fixed fraction digits).
    pub modified: String,
    /// `published`, as given.
    pub published: Option<String>,
    /// `withdrawn`, as given: a withdrawn record matches nothing.
    pub withdrawn: Option<String>,
    /// `summary` (clipped by the caller).
    pub summary: String,
    /// Where it was read from (file path, archive entry or URL).
    pub source: String,
    /// The record's JSON as imported.
    pub body: String,
    /// One row per affected package (ignored when withdrawn).
    pub packages: Vec<IntelPackageRow>,
}

/// One affected package of a record.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IntelPackageRow {
    /// `pypi` or `npm` (sluice's prefixes), or the OSV ecosystem string
    /// as given for ecosystems sluice does not match.
    pub ecosystem: String,
    /// The normalised package name.
    pub name: String,
    /// The matching data (ranges and versions) in `sluice-intel`'s
    /// compact JSON form; opaque to the store.
    pub matcher: String,
}

/// What writing one record did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IntelWrite {
    /// The id was not stored before.
    New,
    /// The stored record was older and was replaced.
    Updated,
    /// The stored record was as new or newer; nothing changed.
    Unchanged,
}

/// A matching row of an active record for one package.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct IntelPackageHit {
    /// The record's id.
    pub record_id: String,
    /// The record's summary.
    pub summary: String,
    /// `pypi`, `npm` or another OSV ecosystem string.
    pub ecosystem: String,
    /// The normalised package name.
    pub name: String,
    /// The matching data (opaque to the store).
    pub matcher: String,
}

/// A stored record as listed by `db list` and `db show`.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct IntelRecordInfo {
    /// The OSV id.
    pub id: String,
    /// Normalised `modified`.
    pub modified: String,
    /// `published`.
    pub published: Option<String>,
    /// `withdrawn`, when the record is withdrawn.
    pub withdrawn: Option<String>,
    /// Summary.
    pub summary: String,
    /// Where it was imported from.
    pub source: String,
    /// When it was imported (or last replaced).
    pub imported_at: String,
    /// `ecosystem:name` of each affected package (empty when withdrawn).
    pub packages: Vec<String>,
}

/// Counts of the intel tables.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct IntelCounts {
    /// Records stored.
    pub records: u64,
    /// Of which withdrawn.
    pub withdrawn: u64,
    /// Affected-package rows of active records.
    pub packages: u64,
}

fn to_u64(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

impl Store {
    /// Write a batch of records in one transaction. A record replaces the
    /// stored one with the same id only when its `modified` is newer
    /// (string order; the caller normalises). Returns what happened to
    /// each row, in order. Bumps the intel generation when anything
    /// changed. On error nothing of the batch is written.
    ///
    /// # Errors
    /// Database failure.
    pub fn intel_apply(&self, rows: &[IntelRecordRow]) -> Result<Vec<IntelWrite>> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let mut out = Vec::with_capacity(rows.len());
        {
            let mut get = tx.prepare_cached("SELECT modified FROM intel_records WHERE id = ?1")?;
            let mut put = tx.prepare_cached(
                "INSERT OR REPLACE INTO intel_records(id, modified, published, withdrawn, summary, source, imported_at, body)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )?;
            let mut del = tx.prepare_cached("DELETE FROM intel_packages WHERE record_id = ?1")?;
            let mut pkg = tx.prepare_cached(
                "INSERT INTO intel_packages(record_id, ecosystem, name, matcher) VALUES (?1, ?2, ?3, ?4)",
            )?;
            let at = now();
            for r in rows {
                let old: Option<String> = get.query_row([&r.id], |x| x.get(0)).optional()?;
                let what = match &old {
                    None => IntelWrite::New,
                    Some(m) if r.modified.as_str() > m.as_str() => IntelWrite::Updated,
                    Some(_) => IntelWrite::Unchanged,
                };
                out.push(what);
                if what == IntelWrite::Unchanged {
                    continue;
                }
                put.execute(params![
                    r.id,
                    r.modified,
                    r.published,
                    r.withdrawn,
                    r.summary,
                    r.source,
                    at,
                    r.body
                ])?;
                if what == IntelWrite::Updated {
                    del.execute([&r.id])?;
                }
                if r.withdrawn.is_none() {
                    for p in &r.packages {
                        pkg.execute(params![r.id, p.ecosystem, p.name, p.matcher])?;
                    }
                }
            }
        }
        if out.iter().any(|w| *w != IntelWrite::Unchanged) {
            bump_generation(&tx)?;
        }
        tx.commit()?;
        Ok(out)
    }

    /// The intel generation: changes whenever an import changed the
    /// stored records. One primary-key read, cheap enough for every
    /// request.
    ///
    /// # Errors
    /// Database failure.
    pub fn intel_generation(&self) -> Result<i64> {
        let conn = self.conn();
        let mut st = conn.prepare_cached("SELECT v FROM intel_state WHERE k = 'generation'")?;
        Ok(st.query_row([], |r| r.get(0)).optional()?.unwrap_or(0))
    }

    /// The package rows of active records naming one package (uses the
    /// `intel_packages_pkg` index).
    ///
    /// # Errors
    /// Database failure.
    pub fn intel_hits(&self, ecosystem: &str, name: &str) -> Result<Vec<IntelPackageHit>> {
        let conn = self.conn();
        let mut st = conn.prepare_cached(
            "SELECT p.record_id, r.summary, p.ecosystem, p.name, p.matcher
             FROM intel_packages p JOIN intel_records r ON r.id = p.record_id
             WHERE p.ecosystem = ?1 AND p.name = ?2 AND r.withdrawn IS NULL
             ORDER BY p.record_id",
        )?;
        let rows = st.query_map(params![ecosystem, name], row_to_hit)?;
        Ok(rows.collect::<std::result::Result<_, _>>()?)
    }

    /// Every package row of active records (to build a matcher of the
    /// whole list at once).
    ///
    /// # Errors
    /// Database failure.
    pub fn intel_all_hits(&self) -> Result<Vec<IntelPackageHit>> {
        let conn = self.conn();
        let mut st = conn.prepare(
            "SELECT p.record_id, r.summary, p.ecosystem, p.name, p.matcher
             FROM intel_packages p JOIN intel_records r ON r.id = p.record_id
             WHERE r.withdrawn IS NULL",
        )?;
        let rows = st.query_map([], row_to_hit)?;
        Ok(rows.collect::<std::result::Result<_, _>>()?)
    }

    /// The packages named by active records that the gate's audit log
    /// has requests for: `(ecosystem, name)` pairs, sorted.
    ///
    /// # Errors
    /// Database failure.
    pub fn intel_packages_downloaded(&self) -> Result<Vec<(String, String)>> {
        let conn = self.conn();
        let mut st = conn.prepare(
            "SELECT DISTINCT p.ecosystem, p.name FROM intel_packages p
             JOIN intel_records r ON r.id = p.record_id
             WHERE r.withdrawn IS NULL AND EXISTS (
               SELECT 1 FROM downloads d WHERE d.ecosystem = p.ecosystem AND d.name = p.name)
             ORDER BY p.ecosystem, p.name",
        )?;
        let rows = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<std::result::Result<_, _>>()?)
    }

    /// The distinct versions of a package in the audit log.
    ///
    /// # Errors
    /// Database failure.
    pub fn downloaded_versions(&self, ecosystem: &str, name: &str) -> Result<Vec<String>> {
        let conn = self.conn();
        let mut st = conn.prepare_cached(
            "SELECT DISTINCT version FROM downloads WHERE ecosystem = ?1 AND name = ?2 ORDER BY version",
        )?;
        let rows = st.query_map(params![ecosystem, name], |r| r.get(0))?;
        Ok(rows.collect::<std::result::Result<_, _>>()?)
    }

    /// One stored record with its JSON body.
    ///
    /// # Errors
    /// Database failure.
    pub fn intel_record(&self, id: &str) -> Result<Option<(IntelRecordInfo, String)>> {
        let conn = self.conn();
        let row = conn
            .query_row(
                "SELECT id, modified, published, withdrawn, summary, source, imported_at, body
                 FROM intel_records WHERE id = ?1",
                [id],
                |r| Ok((row_to_info(r)?, r.get::<_, String>(7)?)),
            )
            .optional()?;
        let Some((mut info, body)) = row else {
            return Ok(None);
        };
        info.packages = packages_of(&conn, &info.id)?;
        Ok(Some((info, body)))
    }

    /// Stored records, optionally only those naming a package of
    /// `ecosystem` and/or `name`, sorted by id, at most `limit`.
    ///
    /// # Errors
    /// Database failure.
    pub fn intel_list(
        &self,
        ecosystem: Option<&str>,
        name: Option<&str>,
        include_withdrawn: bool,
        limit: u32,
    ) -> Result<Vec<IntelRecordInfo>> {
        let conn = self.conn();
        let filtered = ecosystem.is_some() || name.is_some();
        // A package filter can only see active records (a withdrawn one
        // has no package rows left).
        let sql = if filtered {
            "SELECT id, modified, published, withdrawn, summary, source, imported_at FROM intel_records
             WHERE id IN (SELECT record_id FROM intel_packages
                          WHERE (?1 IS NULL OR ecosystem = ?1) AND (?2 IS NULL OR name = ?2))
             ORDER BY id LIMIT ?3"
        } else if include_withdrawn {
            "SELECT id, modified, published, withdrawn, summary, source, imported_at FROM intel_records
             WHERE ?1 IS NULL AND ?2 IS NULL ORDER BY id LIMIT ?3"
        } else {
            "SELECT id, modified, published, withdrawn, summary, source, imported_at FROM intel_records
             WHERE withdrawn IS NULL AND ?1 IS NULL AND ?2 IS NULL ORDER BY id LIMIT ?3"
        };
        let mut st = conn.prepare(sql)?;
        let rows = st.query_map(params![ecosystem, name, limit], row_to_info)?;
        let mut out: Vec<IntelRecordInfo> = rows.collect::<std::result::Result<_, _>>()?;
        for info in &mut out {
            info.packages = packages_of(&conn, &info.id)?;
        }
        Ok(out)
    }

    /// How many records and package rows are stored.
    ///
    /// # Errors
    /// Database failure.
    pub fn intel_counts(&self) -> Result<IntelCounts> {
        let conn = self.conn();
        let (records, withdrawn): (i64, i64) = conn.query_row(
            "SELECT count(*), count(withdrawn) FROM intel_records",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        let packages: i64 =
            conn.query_row("SELECT count(*) FROM intel_packages", [], |r| r.get(0))?;
        Ok(IntelCounts {
            records: to_u64(records),
            withdrawn: to_u64(withdrawn),
            packages: to_u64(packages),
        })
    }
}

fn bump_generation(conn: &Connection) -> Result<()> {
    conn.execute(
        "UPDATE intel_state SET v = v + 1 WHERE k = 'generation'",
        [],
    )?;
    Ok(())
}

fn packages_of(conn: &Connection, id: &str) -> Result<Vec<String>> {
    let mut st = conn.prepare_cached(
        "SELECT ecosystem, name FROM intel_packages WHERE record_id = ?1 ORDER BY ecosystem, name",
    )?;
    let rows = st.query_map([id], |r| {
        Ok(format!(
            "{}:{}",
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?
        ))
    })?;
    Ok(rows.collect::<std::result::Result<_, _>>()?)
}

fn row_to_hit(r: &rusqlite::Row<'_>) -> rusqlite::Result<IntelPackageHit> {
    Ok(IntelPackageHit {
        record_id: r.get(0)?,
        summary: r.get(1)?,
        ecosystem: r.get(2)?,
        name: r.get(3)?,
        matcher: r.get(4)?,
    })
}

fn row_to_info(r: &rusqlite::Row<'_>) -> rusqlite::Result<IntelRecordInfo> {
    Ok(IntelRecordInfo {
        id: r.get(0)?,
        modified: r.get(1)?,
        published: r.get(2)?,
        withdrawn: r.get(3)?,
        summary: r.get(4)?,
        source: r.get(5)?,
        imported_at: r.get(6)?,
        packages: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(id: &str, modified: &str, withdrawn: bool) -> IntelRecordRow {
        IntelRecordRow {
            id: id.into(),
            modified: modified.into(),
            withdrawn: withdrawn.then(|| modified.to_owned()),
            summary: format!("summary of {id}"),
            source: "test".into(),
            body: "{}".into(),
            packages: vec![IntelPackageRow {
                ecosystem: "pypi".into(),
                name: "evil".into(),
                matcher: format!("m-{modified}"),
            }],
            ..IntelRecordRow::default()
        }
    }

    #[test]
    fn newer_replaces_older_is_skipped_and_generation_moves() {
        let s = Store::in_memory().unwrap();
        let g0 = s.intel_generation().unwrap();
        let w = s.intel_apply(&[rec("MAL-1", "2024-01-01", false)]).unwrap();
        assert_eq!(w, vec![IntelWrite::New]);
        let g1 = s.intel_generation().unwrap();
        assert!(g1 > g0);
        // Same or older: unchanged, generation stays.
        let w = s
            .intel_apply(&[
                rec("MAL-1", "2024-01-01", false),
                rec("MAL-1", "2023-01-01", false),
            ])
            .unwrap();
        assert_eq!(w, vec![IntelWrite::Unchanged, IntelWrite::Unchanged]);
        assert_eq!(s.intel_generation().unwrap(), g1);
        let hits = s.intel_hits("pypi", "evil").unwrap();
        assert_eq!(hits.len(), 1);
        assert_eq!(hits[0].matcher, "m-2024-01-01");
        // Newer: replaced, old package rows gone.
        let w = s.intel_apply(&[rec("MAL-1", "2024-02-01", false)]).unwrap();
        assert_eq!(w, vec![IntelWrite::Updated]);
        let hits = s.intel_hits("pypi", "evil").unwrap();
        assert_eq!(hits.len(), 1);
        assert_eq!(hits[0].matcher, "m-2024-02-01");
        assert!(s.intel_generation().unwrap() > g1);
        // Withdrawn (newer): kept for show, matches nothing.
        s.intel_apply(&[rec("MAL-1", "2024-03-01", true)]).unwrap();
        assert!(s.intel_hits("pypi", "evil").unwrap().is_empty());
        let (info, _) = s.intel_record("MAL-1").unwrap().unwrap();
        assert!(info.withdrawn.is_some());
        assert!(info.packages.is_empty());
        let c = s.intel_counts().unwrap();
        assert_eq!((c.records, c.withdrawn, c.packages), (1, 1, 0));
        assert!(s.intel_list(None, None, false, 10).unwrap().is_empty());
        assert_eq!(s.intel_list(None, None, true, 10).unwrap().len(), 1);
    }

    #[test]
    fn lookup_uses_the_index() {
        let s = Store::in_memory().unwrap();
        let conn = s.conn();
        let plan: String = conn
            .query_row(
                "EXPLAIN QUERY PLAN SELECT record_id FROM intel_packages WHERE ecosystem = 'pypi' AND name = 'x'",
                [],
                |r| r.get(3),
            )
            .unwrap();
        assert!(plan.contains("intel_packages_pkg"), "{plan}");
    }

    #[test]
    fn list_filters_by_package() {
        let s = Store::in_memory().unwrap();
        let mut other = rec("MAL-2", "2024-01-01", false);
        other.packages[0].ecosystem = "npm".into();
        other.packages[0].name = "left-pad-evil".into();
        s.intel_apply(&[rec("MAL-1", "2024-01-01", false), other])
            .unwrap();
        let npm = s.intel_list(Some("npm"), None, false, 10).unwrap();
        assert_eq!(npm.len(), 1);
        assert_eq!(npm[0].id, "MAL-2");
        assert_eq!(npm[0].packages, vec!["npm:left-pad-evil".to_owned()]);
        assert_eq!(
            s.intel_list(None, Some("evil"), false, 10).unwrap().len(),
            1
        );
        assert_eq!(s.intel_list(None, None, false, 10).unwrap().len(), 2);
        assert_eq!(s.intel_list(None, None, false, 1).unwrap().len(), 1);
    }
}
