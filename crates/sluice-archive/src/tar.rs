//! Tar streams (plain, gzip, bzip2), read entry by entry, never unpacked.

use std::io::Read;

use tar::EntryType;

use crate::budget::{Budget, Counted, read_body};
use crate::collect::Collector;
use crate::names::link_detail;
use crate::{AnomalyKind, ArchiveError};

/// Read every entry of a (decompressed) tar stream into `c`.
///
/// `stream` must already be the decompressor over the artifact bytes; it
/// is wrapped in a [`Counted`] reader so every byte the tar parser pulls,
/// including skipped data, is charged to `budget`.
pub(crate) fn read_tar<R: Read>(
    stream: R,
    c: &mut Collector<'_>,
    budget: &Budget,
) -> Result<(), ArchiveError> {
    let mut archive = tar::Archive::new(Counted {
        inner: stream,
        budget,
    });
    let file = c.file.clone();
    read_entries(&mut archive, c, budget)?;
    // Drain what follows the end-of-archive marker, still on the budget:
    // this checks the gzip/bzip2 trailer (a truncated stream is corrupt
    // even when the tar inside happens to be complete).
    std::io::copy(&mut archive.into_inner(), &mut std::io::sink())
        .map_err(|e| budget.map_err(&file, e))?;
    Ok(())
}

fn read_entries<R: Read>(
    archive: &mut tar::Archive<Counted<'_, R>>,
    c: &mut Collector<'_>,
    budget: &Budget,
) -> Result<(), ArchiveError> {
    let file = c.file.clone();
    let entries = archive.entries().map_err(|e| budget.map_err(&file, e))?;
    for entry in entries {
        let mut entry = entry.map_err(|e| budget.map_err(&file, e))?;
        c.count_entry()?;
        let raw = entry.path_bytes().into_owned();
        let kind = entry.header().entry_type();
        let mode = entry.header().mode().ok();
        match kind {
            EntryType::Directory => {
                c.check_name(&raw, false);
            }
            EntryType::XGlobalHeader => {
                // pax global headers carry defaults, not files; tar-rs
                // hands them over as entries.
            }
            EntryType::Symlink | EntryType::Link => {
                c.check_name(&raw, false);
                let target = entry
                    .link_name_bytes()
                    .map(|t| t.into_owned())
                    .unwrap_or_default();
                c.anomaly(
                    AnomalyKind::Link,
                    &raw,
                    link_detail(&raw, &target, kind == EntryType::Link),
                );
            }
            EntryType::Char | EntryType::Block | EntryType::Fifo => {
                c.check_name(&raw, false);
                let what = match kind {
                    EntryType::Char => "character device",
                    EntryType::Block => "block device",
                    _ => "fifo",
                };
                c.anomaly(AnomalyKind::SpecialFile, &raw, format!("{what}; left out"));
            }
            _ => {
                if !matches!(
                    kind,
                    EntryType::Regular | EntryType::Continuous | EntryType::GNUSparse
                ) {
                    // Python's tarfile extracts unknown types as regular
                    // files, so the content is read and analysed too.
                    c.anomaly(
                        AnomalyKind::SpecialFile,
                        &raw,
                        format!(
                            "unknown tar entry type {:?}; read as a regular file, as tarfile does",
                            char::from(kind.as_byte())
                        ),
                    );
                }
                let Some(path) = c.check_name(&raw, true) else {
                    continue;
                };
                let declared = entry.size();
                let (data, truncated) = read_body(&mut entry, declared, c.limits.max_file_bytes)
                    .map_err(|e| budget.map_err(&file, e))?;
                if !truncated && (data.len() as u64) < declared {
                    // The tar stream ended inside this entry's data.
                    return Err(ArchiveError::Corrupt {
                        file,
                        detail: format!(
                            "entry `{}` declares {declared} bytes but the archive ends after {}",
                            crate::names::display(&raw),
                            data.len()
                        ),
                    });
                }
                c.add_file(path, &raw, data, mode, truncated)?;
            }
        }
    }
    Ok(())
}
