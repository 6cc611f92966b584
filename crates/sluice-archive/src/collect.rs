//! The format-independent part of reading: counting entries, checking
//! names, keeping files and anomalies, enforcing the kept-bytes limit.

use std::collections::HashMap;

use crate::names::{self, display};
use crate::{Anomaly, AnomalyKind, ArchiveError, FileEntry, Limits};

/// Accumulates the files and anomalies of one artifact.
pub(crate) struct Collector<'a> {
    pub(crate) limits: &'a Limits,
    /// Artifact file name, for error messages.
    pub(crate) file: String,
    pub(crate) files: Vec<FileEntry>,
    pub(crate) anomalies: Vec<Anomaly>,
    index: HashMap<String, usize>,
    entries: u64,
    kept: u64,
}

impl<'a> Collector<'a> {
    pub(crate) fn new(file: &str, limits: &'a Limits) -> Self {
        Self {
            limits,
            file: file.to_owned(),
            files: Vec::new(),
            anomalies: Vec::new(),
            index: HashMap::new(),
            entries: 0,
            kept: 0,
        }
    }

    /// Count one more entry of any type; error past `max_entries`.
    pub(crate) fn count_entry(&mut self) -> Result<(), ArchiveError> {
        self.entries += 1;
        if self.entries > self.limits.max_entries {
            return Err(self.entry_limit(self.entries));
        }
        Ok(())
    }

    /// The entry-count error for `n` entries.
    pub(crate) fn entry_limit(&self, n: u64) -> ArchiveError {
        ArchiveError::Limit {
            file: self.file.clone(),
            what: "entry count",
            detail: format!("at least {n} entries, limit {}", self.limits.max_entries),
        }
    }

    /// Record an anomaly.
    pub(crate) fn anomaly(&mut self, kind: AnomalyKind, raw_name: &[u8], detail: String) {
        self.anomalies.push(Anomaly {
            kind,
            entry: display(raw_name),
            detail,
        });
    }

    /// Check a stored name; record its anomalies; return the path to keep
    /// it under, if any. `what` names the entry type for an empty name.
    pub(crate) fn check_name(&mut self, raw: &[u8], is_file: bool) -> Option<String> {
        let checked = names::check(raw, self.limits.max_depth);
        self.anomalies.extend(checked.anomalies);
        if checked.empty && is_file {
            self.anomaly(
                AnomalyKind::BadNameEncoding,
                raw,
                "file entry with an empty name; left out".to_owned(),
            );
        }
        checked.path
    }

    /// Keep a regular file.
    ///
    /// A path seen before is a duplicate: the LATER copy replaces the
    /// earlier one (in the earlier one's place), because pip, Python's
    /// `tarfile`/`zipfile` and npm extract entries in order and the last
    /// write wins on disk; the analyser must see what gets installed.
    pub(crate) fn add_file(
        &mut self,
        path: String,
        raw_name: &[u8],
        data: Vec<u8>,
        mode: Option<u32>,
        truncated: bool,
    ) -> Result<(), ArchiveError> {
        let len = data.len() as u64;
        if truncated {
            self.anomaly(
                AnomalyKind::TruncatedFile,
                raw_name,
                format!("larger than the per-file limit; only the first {len} bytes were kept"),
            );
        }
        let entry = FileEntry {
            path: path.clone(),
            data,
            mode,
            truncated,
        };
        let old_len = match self.index.get(&path) {
            Some(&i) => {
                let (old, same) = self
                    .files
                    .get(i)
                    .map_or((0, false), |f| (f.data.len() as u64, f.data == entry.data));
                self.anomaly(
                    AnomalyKind::DuplicateEntry,
                    raw_name,
                    format!(
                        "`{}` appears more than once ({}); the later copy is kept, as pip, \
                         tarfile, zipfile and npm extract in order and the last write wins \
                         (earlier copy: {old} bytes, later: {len} bytes)",
                        display(path.as_bytes()),
                        if same {
                            "copies identical"
                        } else {
                            "copies DIFFER"
                        }
                    ),
                );
                if let Some(slot) = self.files.get_mut(i) {
                    *slot = entry;
                }
                old
            }
            None => {
                self.index.insert(path, self.files.len());
                self.files.push(entry);
                0
            }
        };
        self.kept = self.kept.saturating_sub(old_len).saturating_add(len);
        if self.kept > self.limits.max_total_bytes {
            return Err(ArchiveError::Limit {
                file: self.file.clone(),
                what: "total size",
                detail: format!(
                    "more than {} bytes of files, limit {}",
                    self.kept, self.limits.max_total_bytes
                ),
            });
        }
        Ok(())
    }
}
