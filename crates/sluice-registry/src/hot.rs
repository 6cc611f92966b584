//! A bounded in-memory copy of recently served artifact blobs.
//!
//! Blobs are addressed by their sha256 and never rewritten, so a copy held
//! here cannot go stale: it only saves the disk read (and the copy out of
//! the page cache) on a cache hit. It decides nothing — the verdict and
//! decision check runs on every request before this is consulted, so a
//! block still acts on the next request whether or not the bytes are here.

use std::collections::HashMap;
use std::sync::Mutex;

use bytes::Bytes;
use sluice_model::Sha256;

struct Entry {
    bytes: Bytes,
    last_used: u64,
}

#[derive(Default)]
struct Inner {
    map: HashMap<Sha256, Entry>,
    used: u64,
    tick: u64,
}

/// Least-recently-used blob copies within a byte budget.
pub(crate) struct HotBlobs {
    budget: u64,
    max_file: u64,
    inner: Mutex<Inner>,
}

impl HotBlobs {
    /// At most `budget` bytes in all, no single blob above `max_file`
    /// (larger ones are streamed from disk). A zero budget turns it off.
    pub(crate) fn new(budget: u64, max_file: u64) -> Self {
        Self {
            budget,
            max_file: max_file.min(budget),
            inner: Mutex::new(Inner::default()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // Every critical section leaves `Inner` consistent before anything
        // can panic, so a poisoned lock is safe to reuse.
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Whether a blob of `len` bytes would be kept.
    pub(crate) fn admits(&self, len: u64) -> bool {
        len <= self.max_file
    }

    /// The cached bytes of a blob (a cheap shared handle).
    pub(crate) fn get(&self, sha: &Sha256) -> Option<Bytes> {
        let mut g = self.lock();
        g.tick += 1;
        let tick = g.tick;
        let e = g.map.get_mut(sha)?;
        e.last_used = tick;
        Some(e.bytes.clone())
    }

    /// Whether a blob's bytes are held (without counting as a use).
    pub(crate) fn holds(&self, sha: &Sha256) -> bool {
        self.lock().map.contains_key(sha)
    }

    /// Keep a blob, evicting the least recently used ones to stay within
    /// the budget. Blobs the cache does not admit are ignored.
    pub(crate) fn insert(&self, sha: Sha256, bytes: Bytes) {
        let len = bytes.len() as u64;
        if !self.admits(len) {
            return;
        }
        let mut g = self.lock();
        if g.map.contains_key(&sha) {
            return;
        }
        while g.used + len > self.budget {
            // A linear scan: the map holds at most budget / typical size
            // entries (hundreds), and inserts happen only on a miss.
            let Some(victim) = g
                .map
                .iter()
                .min_by_key(|(_, e)| e.last_used)
                .map(|(k, _)| *k)
            else {
                break;
            };
            if let Some(e) = g.map.remove(&victim) {
                g.used -= e.bytes.len() as u64;
            }
        }
        g.tick += 1;
        let tick = g.tick;
        g.used += len;
        g.map.insert(
            sha,
            Entry {
                bytes,
                last_used: tick,
            },
        );
    }

    /// Bytes held now.
    #[cfg(test)]
    pub(crate) fn used(&self) -> u64 {
        self.lock().used
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sha(i: u8) -> Sha256 {
        format!("{i:02x}").repeat(32).parse().unwrap()
    }

    #[test]
    fn keeps_within_budget_and_evicts_least_recent() {
        let h = HotBlobs::new(100, 60);
        h.insert(sha(1), Bytes::from(vec![1; 40]));
        h.insert(sha(2), Bytes::from(vec![2; 40]));
        assert_eq!(h.used(), 80);
        // Touch 1, so 2 is the least recently used.
        assert_eq!(h.get(&sha(1)).unwrap().len(), 40);
        h.insert(sha(3), Bytes::from(vec![3; 40]));
        assert_eq!(h.used(), 80);
        assert!(h.get(&sha(2)).is_none());
        assert_eq!(h.get(&sha(1)).unwrap()[0], 1);
        assert_eq!(h.get(&sha(3)).unwrap()[0], 3);
    }

    #[test]
    fn too_large_or_disabled_is_not_kept() {
        let h = HotBlobs::new(100, 60);
        assert!(!h.admits(61));
        h.insert(sha(1), Bytes::from(vec![1; 61]));
        assert!(h.get(&sha(1)).is_none());
        assert_eq!(h.used(), 0);
        let off = HotBlobs::new(0, 1 << 20);
        assert!(!off.admits(1));
        off.insert(sha(1), Bytes::from(vec![1; 1]));
        assert!(off.get(&sha(1)).is_none());
    }
}
