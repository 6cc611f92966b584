//! Byte budgets: every decompressed byte is counted as it is produced, so a
//! bomb is stopped while it inflates, not after.

use std::cell::Cell;
use std::io::{self, Read};

use crate::{ArchiveError, Limits};

/// Below this many unpacked bytes the compression ratio is not checked:
/// small archives of tar headers or repetitive text legitimately compress
/// far beyond any sane ratio, and a megabyte costs nothing to inflate.
pub(crate) const RATIO_FLOOR: u64 = 1 << 20;

/// Largest initial buffer reserved for one file, whatever its header says.
pub(crate) const MAX_PREALLOC: u64 = 1 << 20;

/// Which budget ran out.
#[derive(Clone, Copy, Debug)]
enum Trip {
    Ratio,
    Total,
}

/// Counts bytes coming out of decompressors for one artifact.
#[derive(Debug)]
pub(crate) struct Budget {
    packed: u64,
    max_ratio: u64,
    ratio_cap: u64,
    stream_cap: u64,
    used: Cell<u64>,
    trip: Cell<Option<Trip>>,
}

impl Budget {
    /// A budget for an artifact of `packed` bytes.
    ///
    /// The stream cap counts everything decompressed (tar headers, padding,
    /// the skipped tails of truncated files), so it is looser than
    /// `max_total_bytes`, which counts kept file bytes: the kept total plus
    /// as much again (at least 1 MiB) of overhead.
    pub(crate) fn new(packed: u64, limits: &Limits) -> Self {
        Self {
            packed,
            max_ratio: limits.max_ratio,
            ratio_cap: packed.saturating_mul(limits.max_ratio).max(RATIO_FLOOR),
            stream_cap: limits
                .max_total_bytes
                .saturating_add(limits.max_total_bytes.max(RATIO_FLOOR)),
            used: Cell::new(0),
            trip: Cell::new(None),
        }
    }

    /// Count `n` more unpacked bytes.
    pub(crate) fn charge(&self, n: u64) -> io::Result<()> {
        let used = self.used.get().saturating_add(n);
        self.used.set(used);
        let trip = if used > self.ratio_cap {
            Some(Trip::Ratio)
        } else if used > self.stream_cap {
            Some(Trip::Total)
        } else {
            None
        };
        match trip {
            Some(t) => {
                self.trip.set(Some(t));
                Err(io::Error::other("sluice unpack budget exceeded"))
            }
            None => Ok(()),
        }
    }

    /// The limit error, if a budget ran out.
    pub(crate) fn error(&self, file: &str) -> Option<ArchiveError> {
        let used = self.used.get();
        self.trip.get().map(|t| match t {
            Trip::Ratio => ArchiveError::Limit {
                file: file.to_owned(),
                what: "compression ratio",
                detail: format!(
                    "more than {used} bytes unpacked from {} packed bytes, over {}:1; a decompression bomb",
                    self.packed, self.max_ratio
                ),
            },
            Trip::Total => ArchiveError::Limit {
                file: file.to_owned(),
                what: "total size",
                detail: format!(
                    "decompressed stream passed {} bytes",
                    self.stream_cap
                ),
            },
        })
    }

    /// Turn an I/O error met while unpacking into the right
    /// [`ArchiveError`]: the budget's own error if it tripped, else
    /// [`ArchiveError::Corrupt`].
    pub(crate) fn map_err(&self, file: &str, err: impl std::fmt::Display) -> ArchiveError {
        self.error(file).unwrap_or_else(|| ArchiveError::Corrupt {
            file: file.to_owned(),
            detail: err.to_string(),
        })
    }
}

/// A reader that charges every byte it yields to a [`Budget`].
pub(crate) struct Counted<'b, R> {
    pub(crate) inner: R,
    pub(crate) budget: &'b Budget,
}

impl<R: Read> Read for Counted<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.budget.charge(n as u64)?;
        Ok(n)
    }
}

/// Read one file body: at most `max_file` bytes kept, the initial buffer
/// capped at [`MAX_PREALLOC`] whatever `declared` says. Returns the bytes
/// and whether more were present (the file was truncated).
pub(crate) fn read_body<R: Read>(
    r: &mut R,
    declared: u64,
    max_file: u64,
) -> io::Result<(Vec<u8>, bool)> {
    let cap = declared.min(max_file).min(MAX_PREALLOC);
    let mut data = Vec::with_capacity(usize::try_from(cap).unwrap_or(0));
    r.by_ref().take(max_file).read_to_end(&mut data)?;
    let truncated = if data.len() as u64 >= max_file {
        let mut probe = [0u8; 1];
        loop {
            match r.read(&mut probe) {
                Ok(n) => break n > 0,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    } else {
        false
    };
    Ok((data, truncated))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ratio_trips_above_floor_only() {
        let limits = Limits {
            max_ratio: 10,
            ..Limits::default()
        };
        let b = Budget::new(100, &limits);
        assert!(b.charge(RATIO_FLOOR).is_ok());
        assert!(b.error("x").is_none());
        assert!(b.charge(1).is_err());
        match b.error("x") {
            Some(ArchiveError::Limit { what, .. }) => assert_eq!(what, "compression ratio"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn stream_cap_trips() {
        let limits = Limits {
            max_total_bytes: 10,
            max_ratio: u64::MAX,
            ..Limits::default()
        };
        let b = Budget::new(100, &limits);
        assert!(b.charge(RATIO_FLOOR + 10).is_ok());
        assert!(b.charge(1).is_err());
        assert!(matches!(
            b.error("x"),
            Some(ArchiveError::Limit {
                what: "total size",
                ..
            })
        ));
    }

    #[test]
    fn body_truncation() {
        let data = [7u8; 100];
        let (v, t) = read_body(&mut &data[..], 100, 100).unwrap();
        assert_eq!((v.len(), t), (100, false));
        let (v, t) = read_body(&mut &data[..], 100, 99).unwrap();
        assert_eq!((v.len(), t), (99, true));
        // A lying header does not reserve memory.
        let (v, t) = read_body(&mut &data[..], u64::MAX, 1 << 40).unwrap();
        assert_eq!((v.len(), t), (100, false));
        assert!(v.capacity() <= MAX_PREALLOC as usize);
    }
}
