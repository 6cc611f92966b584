//! Importing OSV records into the store: a folder tree (like the OSSF
//! malicious-packages repository), a ZIP of OSV files, or one JSON file
//! (one record, or an array of records).
//!
//! Records are read and checked in parallel, a batch at a time, and each
//! batch is written in one transaction ([`Store::intel_apply`]): a batch
//! is stored whole or not at all. A record that fails its checks is
//! reported (file and reason) and left out; the rest go on. Re-importing
//! the same data changes nothing (records whose `modified` is not newer
//! are skipped), so an import cut short by a database error is completed
//! by running it again.

use std::io::{Read, Seek};
use std::path::Path;

use rayon::prelude::*;
use serde::Serialize;
use sluice_store::{IntelWrite, Store};

use crate::IntelError;
use crate::osv::{CheckedRecord, MAX_RECORD_BYTES, RecordError, check_record};

/// Records per transaction by default: large enough that the per-commit
/// cost vanishes, small enough that the gate's writers (its audit log)
/// never wait long for the lock.
pub const DEFAULT_BATCH: usize = 5_000;
/// The most entries read from one ZIP.
pub const MAX_ZIP_ENTRIES: usize = 5_000_000;

/// How an import ran.
#[derive(Clone, Debug, Default, Serialize)]
pub struct ImportReport {
    /// What was imported (path or URL).
    pub source: String,
    /// JSON files (or archive entries) read.
    pub files: u64,
    /// Records that passed their checks.
    pub records: u64,
    /// Records not stored before.
    pub new: u64,
    /// Records that replaced an older stored one.
    pub updated: u64,
    /// Records already stored, as new or newer.
    pub unchanged: u64,
    /// Of the new and updated records, those that are withdrawn (they
    /// stop matching).
    pub withdrawn: u64,
    /// Affected entries of ecosystems sluice does not match (kept).
    pub other_ecosystems: u64,
    /// GIT ranges (kept, not matched).
    pub git_ranges: u64,
    /// Transactions committed.
    pub batches: u64,
    /// Records that were not imported, with the file and the reason.
    pub errors: Vec<RecordError>,
}

impl ImportReport {
    fn add(&mut self, checked: &[CheckedRecord], writes: &[IntelWrite]) {
        for (c, w) in checked.iter().zip(writes) {
            match w {
                IntelWrite::New => self.new += 1,
                IntelWrite::Updated => self.updated += 1,
                IntelWrite::Unchanged => self.unchanged += 1,
            }
            if *w != IntelWrite::Unchanged && c.row.withdrawn.is_some() {
                self.withdrawn += 1;
            }
            self.other_ecosystems += u64::from(c.other_ecosystems);
            self.git_ranges += u64::from(c.git_ranges);
        }
        self.records += checked.len() as u64;
    }
}

/// Options of an import.
#[derive(Clone, Copy, Debug)]
pub struct ImportOptions {
    /// Records per transaction.
    pub batch: usize,
}

impl Default for ImportOptions {
    fn default() -> Self {
        Self {
            batch: DEFAULT_BATCH,
        }
    }
}

/// One file's bytes, or why it could not be read.
type Loaded = (String, Result<Vec<u8>, String>);

fn is_json(name: &str) -> bool {
    name.len() > 5 && name[name.len() - 5..].eq_ignore_ascii_case(".json")
}

fn is_zip(bytes: &[u8]) -> bool {
    bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(b"PK\x05\x06")
}

/// Read a file, refusing one larger than [`MAX_RECORD_BYTES`].
fn read_capped(path: &Path) -> Result<Vec<u8>, String> {
    let f = fs_err::File::open(path).map_err(|e| e.to_string())?;
    read_stream_capped(f)
}

fn read_stream_capped(r: impl Read) -> Result<Vec<u8>, String> {
    let mut buf = Vec::new();
    r.take(MAX_RECORD_BYTES + 1)
        .read_to_end(&mut buf)
        .map_err(|e| e.to_string())?;
    if buf.len() as u64 > MAX_RECORD_BYTES {
        return Err(format!("larger than {MAX_RECORD_BYTES} bytes"));
    }
    Ok(buf)
}

/// Check the records of one file: a record, or an array of records.
fn check_file(label: &str, bytes: &[u8]) -> Vec<Result<CheckedRecord, RecordError>> {
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
    if first != Some(&b'[') {
        return vec![check_record(label, bytes)];
    }
    match serde_json::from_slice::<Vec<serde_json::Value>>(bytes) {
        Ok(items) => items
            .iter()
            .enumerate()
            .map(|(i, v)| {
                let label = format!("{label}[{i}]");
                match serde_json::to_vec(v) {
                    Ok(b) => check_record(&label, &b),
                    Err(e) => Err(RecordError {
                        file: label,
                        reason: e.to_string(),
                    }),
                }
            })
            .collect(),
        Err(e) => vec![Err(RecordError {
            file: label.to_owned(),
            reason: format!("not a JSON array of OSV records: {e}"),
        })],
    }
}

/// Check a batch in parallel and write it in one transaction.
fn run_batch(
    store: &Store,
    loaded: Vec<Loaded>,
    report: &mut ImportReport,
) -> Result<(), IntelError> {
    report.files += loaded.len() as u64;
    let results: Vec<Vec<Result<CheckedRecord, RecordError>>> = loaded
        .into_par_iter()
        .map(|(label, bytes)| match bytes {
            Ok(b) => check_file(&label, &b),
            Err(reason) => vec![Err(RecordError {
                file: label,
                reason,
            })],
        })
        .collect();
    let mut ok = Vec::new();
    for r in results.into_iter().flatten() {
        match r {
            Ok(c) => ok.push(c),
            Err(e) => report.errors.push(e),
        }
    }
    if ok.is_empty() {
        return Ok(());
    }
    let rows: Vec<_> = ok.iter().map(|c| c.row.clone()).collect();
    let writes = store.intel_apply(&rows)?;
    report.add(&ok, &writes);
    report.batches += 1;
    Ok(())
}

/// Import from a path: a folder (recursively, every `*.json`; hidden
/// folders such as `.git` skipped), a ZIP file, or a JSON file.
///
/// # Errors
/// The path cannot be read, or the database failed. Bad records are not
/// errors of the import: they are listed in the report.
pub fn import_path(
    store: &Store,
    path: &Path,
    opts: ImportOptions,
) -> Result<ImportReport, IntelError> {
    let mut report = ImportReport {
        source: path.display().to_string(),
        ..ImportReport::default()
    };
    let meta = fs_err::metadata(path).map_err(|e| IntelError::Io {
        path: path.display().to_string(),
        source: e,
    })?;
    if meta.is_dir() {
        import_dir(store, path, opts, &mut report)?;
        return Ok(report);
    }
    let mut f = fs_err::File::open(path).map_err(|e| IntelError::Io {
        path: path.display().to_string(),
        source: e,
    })?;
    let mut magic = [0u8; 4];
    let n = f.read(&mut magic).unwrap_or(0);
    if is_zip(&magic[..n]) {
        f.rewind().map_err(|e| IntelError::Io {
            path: path.display().to_string(),
            source: e,
        })?;
        import_zip(store, f, &report.source.clone(), opts, &mut report)?;
    } else {
        let label = path.display().to_string();
        let bytes = read_capped(path);
        run_batch(store, vec![(label, bytes)], &mut report)?;
    }
    Ok(report)
}

/// Import from bytes fetched elsewhere (a URL): a ZIP or a JSON file.
///
/// # Errors
/// The ZIP cannot be read, or the database failed.
pub fn import_bytes(
    store: &Store,
    label: &str,
    bytes: &[u8],
    opts: ImportOptions,
) -> Result<ImportReport, IntelError> {
    let mut report = ImportReport {
        source: label.to_owned(),
        ..ImportReport::default()
    };
    if is_zip(bytes) {
        import_zip(store, std::io::Cursor::new(bytes), label, opts, &mut report)?;
    } else if bytes.len() as u64 > MAX_RECORD_BYTES {
        report.files = 1;
        report.errors.push(RecordError {
            file: label.to_owned(),
            reason: format!("larger than {MAX_RECORD_BYTES} bytes"),
        });
    } else {
        run_batch(
            store,
            vec![(label.to_owned(), Ok(bytes.to_vec()))],
            &mut report,
        )?;
    }
    Ok(report)
}

fn import_dir(
    store: &Store,
    root: &Path,
    opts: ImportOptions,
    report: &mut ImportReport,
) -> Result<(), IntelError> {
    let walker = walkdir::WalkDir::new(root)
        .follow_links(false)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| {
            e.depth() == 0
                || !(e.file_type().is_dir() && e.file_name().to_string_lossy().starts_with('.'))
        });
    let mut pending: Vec<std::path::PathBuf> = Vec::new();
    let batch = opts.batch.max(1);
    for entry in walker {
        let entry = match entry {
            Ok(e) => e,
            Err(e) => {
                report.errors.push(RecordError {
                    file: e
                        .path()
                        .map_or_else(|| root.display().to_string(), |p| p.display().to_string()),
                    reason: e.to_string(),
                });
                continue;
            }
        };
        if !entry.file_type().is_file() || !is_json(&entry.file_name().to_string_lossy()) {
            continue;
        }
        pending.push(entry.into_path());
        if pending.len() >= batch {
            let loaded = load_paths(std::mem::take(&mut pending));
            run_batch(store, loaded, report)?;
        }
    }
    if !pending.is_empty() {
        run_batch(store, load_paths(pending), report)?;
    }
    Ok(())
}

fn load_paths(paths: Vec<std::path::PathBuf>) -> Vec<Loaded> {
    paths
        .into_par_iter()
        .map(|p| {
            let b = read_capped(&p);
            (p.display().to_string(), b)
        })
        .collect()
}

fn import_zip<R: Read + Seek>(
    store: &Store,
    reader: R,
    label: &str,
    opts: ImportOptions,
    report: &mut ImportReport,
) -> Result<(), IntelError> {
    let mut zip = zip::ZipArchive::new(reader).map_err(|e| IntelError::Archive {
        path: label.to_owned(),
        reason: e.to_string(),
    })?;
    if zip.len() > MAX_ZIP_ENTRIES {
        return Err(IntelError::Archive {
            path: label.to_owned(),
            reason: format!("more than {MAX_ZIP_ENTRIES} entries"),
        });
    }
    let batch = opts.batch.max(1);
    let mut pending: Vec<Loaded> = Vec::new();
    for i in 0..zip.len() {
        let entry = match zip.by_index(i) {
            Ok(e) => e,
            Err(e) => {
                report.errors.push(RecordError {
                    file: format!("{label}!entry {i}"),
                    reason: e.to_string(),
                });
                continue;
            }
        };
        // Entry names are bytes; a non-UTF-8 one is shown lossily.
        let name = String::from_utf8_lossy(entry.name_raw()).into_owned();
        if entry.is_dir() || !is_json(&name) {
            continue;
        }
        let at = format!("{label}!{name}");
        // `take` bounds what is inflated, whatever size the entry claims.
        let bytes = read_stream_capped(entry);
        pending.push((at, bytes));
        if pending.len() >= batch {
            run_batch(store, std::mem::take(&mut pending), report)?;
        }
    }
    if !pending.is_empty() {
        run_batch(store, pending, report)?;
    }
    Ok(())
}
