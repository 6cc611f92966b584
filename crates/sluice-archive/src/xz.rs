//! xz streams (`.tar.xz`, and xz data under a `.tar.gz` name, as some
//! uploads carry): inflated into memory under the same byte budget as the
//! other decoders, so a bomb stops while it inflates.

use std::io::{self, Write};

use crate::budget::Budget;
use crate::{ArchiveError, Limits};

/// A sink that charges every byte to the budget before keeping it.
struct Bounded<'b> {
    out: Vec<u8>,
    budget: &'b Budget,
}

impl Write for Bounded<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.budget.charge(buf.len() as u64)?;
        self.out.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Inflate an xz stream whole.
///
/// # Errors
/// [`ArchiveError::Limit`] when the budget runs out, [`ArchiveError::Corrupt`]
/// for a damaged or truncated stream.
pub(crate) fn inflate(file: &str, bytes: &[u8], limits: &Limits) -> Result<Vec<u8>, ArchiveError> {
    let budget = Budget::new(bytes.len() as u64, limits);
    let mut sink = Bounded {
        out: Vec::new(),
        budget: &budget,
    };
    let mut input = bytes;
    match lzma_rs::xz_decompress(&mut input, &mut sink) {
        Ok(()) => Ok(sink.out),
        Err(e) => Err(budget.error(file).unwrap_or_else(|| ArchiveError::Corrupt {
            file: file.to_owned(),
            detail: format!("xz: {e}"),
        })),
    }
}
