//! Zip containers (wheels, zip sdists), read entry by entry from memory.

use std::collections::HashMap;
use std::io::{Cursor, Read};

use zip::ZipArchive;

use crate::budget::{Budget, Counted, read_body};
use crate::collect::Collector;
use crate::names::{display, link_detail};
use crate::{AnomalyKind, ArchiveError};

const CENTRAL_SIG: &[u8; 4] = b"PK\x01\x02";
const LOCAL_SIG: &[u8; 4] = b"PK\x03\x04";

/// Unix file-type bits (`S_IFMT`) and the types that matter here.
const S_IFMT: u32 = 0o170_000;
const S_IFREG: u32 = 0o100_000;
const S_IFDIR: u32 = 0o040_000;
const S_IFLNK: u32 = 0o120_000;

/// Longest symlink target read (a zip symlink's target is its content).
const MAX_LINK_TARGET: u64 = 4096;

fn u16_at(b: &[u8], at: usize) -> Option<usize> {
    let s = b.get(at..at.checked_add(2)?)?;
    Some(usize::from(u16::from_le_bytes([s[0], s[1]])))
}

/// Raw names from the central directory, in order, duplicates included
/// (the zip crate's index keeps one entry per name). Stops at the first
/// record that is not a central header, or after `cap` records.
fn central_names(bytes: &[u8], start: u64, cap: u64) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let Ok(mut at) = usize::try_from(start) else {
        return out;
    };
    while (out.len() as u64) < cap {
        if bytes.get(at..at.saturating_add(4)) != Some(&CENTRAL_SIG[..]) {
            break;
        }
        let (Some(name_len), Some(extra_len), Some(comment_len)) = (
            u16_at(bytes, at + 28),
            u16_at(bytes, at + 30),
            u16_at(bytes, at + 32),
        ) else {
            break;
        };
        let name_at = at + 46;
        let Some(name) = bytes.get(name_at..name_at + name_len) else {
            break;
        };
        out.push(name);
        at = name_at + name_len + extra_len + comment_len;
    }
    out
}

/// The name written in the local header at `header_start`, if readable.
fn local_name(bytes: &[u8], header_start: u64) -> Option<&[u8]> {
    let at = usize::try_from(header_start).ok()?;
    if bytes.get(at..at.checked_add(4)?)? != &LOCAL_SIG[..] {
        return None;
    }
    let name_len = u16_at(bytes, at + 26)?;
    bytes.get(at + 30..at + 30 + name_len)
}

/// Read every entry of a zip archive held in `bytes` into `c`.
pub(crate) fn read_zip(
    bytes: &[u8],
    c: &mut Collector<'_>,
    budget: &Budget,
) -> Result<(), ArchiveError> {
    let file = c.file.clone();
    let corrupt = |detail: String| ArchiveError::Corrupt {
        file: file.clone(),
        detail,
    };
    let mut archive = ZipArchive::new(Cursor::new(bytes)).map_err(|e| corrupt(e.to_string()))?;

    // Entry count and exact duplicates come from the raw central
    // directory, which still lists every copy.
    let raw_names = central_names(
        bytes,
        archive.central_directory_start(),
        c.limits.max_entries.saturating_add(1),
    );
    let total = (raw_names.len() as u64).max(archive.len() as u64);
    if total > c.limits.max_entries {
        return Err(c.entry_limit(total));
    }
    let mut seen: HashMap<&[u8], usize> = HashMap::new();
    for name in &raw_names {
        *seen.entry(name).or_default() += 1;
    }
    let mut dups: Vec<(&[u8], usize)> = seen.into_iter().filter(|(_, n)| *n > 1).collect();
    dups.sort();
    for (name, n) in dups {
        c.anomaly(
            AnomalyKind::DuplicateEntry,
            name,
            format!(
                "the central directory lists `{}` {n} times; zip readers (pip, zipfile) \
                 return the last copy, and so does sluice",
                display(name)
            ),
        );
    }

    for i in 0..archive.len() {
        c.count_entry()?;
        let mut entry = archive.by_index(i).map_err(|e| corrupt(e.to_string()))?;
        let raw = entry.name_raw().to_vec();
        if let Some(local) = local_name(bytes, entry.header_start())
            && local != raw.as_slice()
        {
            c.anomaly(
                AnomalyKind::HeaderMismatch,
                &raw,
                format!(
                    "local header names this entry `{}`; streaming readers see that name",
                    display(local)
                ),
            );
        }
        let mode = entry.unix_mode();
        let file_type = mode.map_or(0, |m| m & S_IFMT);
        let named_dir = raw.last().is_some_and(|&b| b == b'/' || b == b'\\');
        if named_dir || file_type == S_IFDIR {
            c.check_name(&raw, false);
            continue;
        }
        if file_type == S_IFLNK {
            c.check_name(&raw, false);
            let mut target = Vec::new();
            Counted {
                inner: &mut entry,
                budget,
            }
            .take(MAX_LINK_TARGET)
            .read_to_end(&mut target)
            .map_err(|e| budget.map_err(&file, e))?;
            c.anomaly(AnomalyKind::Link, &raw, link_detail(&raw, &target, false));
            continue;
        }
        if file_type != 0 && file_type != S_IFREG {
            c.check_name(&raw, false);
            c.anomaly(
                AnomalyKind::SpecialFile,
                &raw,
                format!(
                    "unix mode {:o} is not a regular file; left out",
                    mode.unwrap_or(0)
                ),
            );
            continue;
        }
        let Some(path) = c.check_name(&raw, true) else {
            continue;
        };
        let declared = entry.size();
        let (data, truncated) = read_body(
            &mut Counted {
                inner: &mut entry,
                budget,
            },
            declared,
            c.limits.max_file_bytes,
        )
        .map_err(|e| budget.map_err(&file, e))?;
        if !truncated && data.len() as u64 != declared {
            c.anomaly(
                AnomalyKind::SizeMismatch,
                &raw,
                format!(
                    "declared {declared} bytes, {} present; the bytes present are kept",
                    data.len()
                ),
            );
        }
        c.add_file(path, &raw, data, mode, truncated)?;
    }
    Ok(())
}

/// Whether `bytes` could be a zip archive by its magic.
pub(crate) fn has_magic(bytes: &[u8]) -> bool {
    bytes.starts_with(LOCAL_SIG) || bytes.starts_with(b"PK\x05\x06")
}
