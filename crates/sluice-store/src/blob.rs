//! Content-addressed blob folder.

use std::io::Write;
use std::path::{Path, PathBuf};

use sha2::Digest as _;
use sluice_model::Sha256;

use crate::{Result, StoreError};

/// Artifact bytes under `root/ab/cd/<sha256>`, written atomically.
#[derive(Clone, Debug)]
pub struct BlobStore {
    root: PathBuf,
    tmp: PathBuf,
}

impl BlobStore {
    /// Open (creating) `data_dir/blobs` with its temporary folder
    /// `data_dir/tmp` on the same file system, so the final rename is atomic.
    ///
    /// # Errors
    /// The folders cannot be created.
    pub fn open(data_dir: &Path) -> Result<Self> {
        let root = data_dir.join("blobs");
        let tmp = data_dir.join("tmp");
        fs_err::create_dir_all(&root)?;
        fs_err::create_dir_all(&tmp)?;
        Ok(Self { root, tmp })
    }

    /// Where the blob with this digest lives (whether or not it exists).
    #[must_use]
    pub fn path(&self, sha: &Sha256) -> PathBuf {
        let hex = sha.to_hex();
        // The hex form is 64 ASCII digits, so these slices cannot panic;
        // they come from our own digest type, never from a request.
        self.root.join(&hex[0..2]).join(&hex[2..4]).join(hex)
    }

    /// Whether the blob is stored.
    #[must_use]
    pub fn contains(&self, sha: &Sha256) -> bool {
        self.path(sha).is_file()
    }

    /// Read a whole blob.
    ///
    /// # Errors
    /// Missing or unreadable blob.
    pub fn read(&self, sha: &Sha256) -> Result<Vec<u8>> {
        Ok(fs_err::read(self.path(sha))?)
    }

    /// Start writing a blob of at most `max_bytes`.
    ///
    /// # Errors
    /// The temporary file cannot be created.
    pub fn writer(&self, max_bytes: u64) -> Result<BlobWriter> {
        let file = tempfile::NamedTempFile::new_in(&self.tmp)?;
        Ok(BlobWriter {
            file,
            hasher: sha2::Sha256::new(),
            len: 0,
            max: max_bytes,
            root: self.clone(),
        })
    }

    /// Store bytes already in memory, checking them against `expected`.
    ///
    /// # Errors
    /// Digest mismatch or i/o failure.
    pub fn put(&self, bytes: &[u8], expected: Option<&Sha256>) -> Result<Sha256> {
        let mut w = self.writer(u64::MAX)?;
        w.write(bytes)?;
        w.finish(expected)
    }
}

/// A blob being written: hashed as it goes, invisible until
/// [`finish`](BlobWriter::finish) renames it into place. Dropping it
/// deletes the temporary file.
pub struct BlobWriter {
    file: tempfile::NamedTempFile,
    hasher: sha2::Sha256,
    len: u64,
    max: u64,
    root: BlobStore,
}

impl std::fmt::Debug for BlobWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "BlobWriter({} bytes)", self.len)
    }
}

impl BlobWriter {
    /// Append a chunk.
    ///
    /// # Errors
    /// The blob would exceed its limit, or the disk write failed.
    pub fn write(&mut self, chunk: &[u8]) -> Result<()> {
        self.len = self.len.saturating_add(chunk.len() as u64);
        if self.len > self.max {
            return Err(StoreError::TooLarge(self.max));
        }
        self.hasher.update(chunk);
        self.file.write_all(chunk)?;
        Ok(())
    }

    /// Bytes written so far.
    #[must_use]
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether nothing was written.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Check the digest and move the blob into place.
    ///
    /// # Errors
    /// Digest mismatch (the temporary file is deleted) or i/o failure.
    pub fn finish(self, expected: Option<&Sha256>) -> Result<Sha256> {
        let actual = Sha256::from_bytes(self.hasher.finalize().into());
        if let Some(exp) = expected
            && *exp != actual
        {
            return Err(StoreError::DigestMismatch {
                expected: exp.to_hex(),
                actual: actual.to_hex(),
            });
        }
        let dest = self.root.path(&actual);
        if let Some(parent) = dest.parent() {
            fs_err::create_dir_all(parent)?;
        }
        self.file.as_file().sync_all()?;
        self.file
            .persist(&dest)
            .map_err(|e| StoreError::Io(e.error))?;
        Ok(actual)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn put_checks_digest_and_leaves_no_partial_file() {
        let dir = tempfile::tempdir().unwrap();
        let b = BlobStore::open(dir.path()).unwrap();
        let good = Sha256::of(b"hello");
        assert_eq!(b.put(b"hello", Some(&good)).unwrap(), good);
        assert_eq!(b.read(&good).unwrap(), b"hello");
        let err = b.put(b"tampered", Some(&good)).unwrap_err();
        assert!(matches!(err, StoreError::DigestMismatch { .. }));
        assert!(!b.contains(&Sha256::of(b"tampered")));
        assert_eq!(fs_err::read_dir(dir.path().join("tmp")).unwrap().count(), 0);
    }

    #[test]
    fn writer_enforces_limit() {
        let dir = tempfile::tempdir().unwrap();
        let b = BlobStore::open(dir.path()).unwrap();
        let mut w = b.writer(4).unwrap();
        w.write(b"abc").unwrap();
        assert!(matches!(w.write(b"de"), Err(StoreError::TooLarge(4))));
        drop(w);
        assert_eq!(fs_err::read_dir(dir.path().join("tmp")).unwrap().count(), 0);
    }
}
