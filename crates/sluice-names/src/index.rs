//! The popular-name index: its compact on-disk form, its generator, and the
//! in-memory lookup structures built from it.
//!
//! On-disk form (gzip of UTF-8 text, so it diffs badly but loads in a few
//! milliseconds and weighs a third of the source TSVs):
//!
//! ```text
//! sluice-popular 1
//! [pypi]
//! boto3            <- one name a line, most popular first (rank = line order)
//! [npm]
//! semver 2400000000  <- name, space, monthly downloads (3 significant digits)
//! ```

use std::collections::HashMap;
use std::io::{BufRead, Read, Write};

use sluice_model::{Ecosystem, PackageName};

use crate::Error;
use crate::norm::{self, for_each_delete};

/// Header line of the compact index format.
const MAGIC: &str = "sluice-popular 1";

/// One popular package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Popular {
    /// Normalised name (PEP 503 for PyPI, lower-case for npm).
    pub name: String,
    /// 1-based popularity rank inside its ecosystem.
    pub rank: u32,
    /// Monthly downloads, when the source gave them.
    pub downloads: Option<u64>,
}

/// The raw popularity data of both ecosystems, most popular first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PopularData {
    /// PyPI names by rank.
    pub pypi: Vec<Popular>,
    /// npm names by downloads.
    pub npm: Vec<Popular>,
}

/// A line that could not be used, with its 1-based number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadLine {
    /// 1-based line number.
    pub line: usize,
    /// Why it was skipped.
    pub reason: String,
}

impl PopularData {
    /// Read a popularity TSV: a header line, then `name<TAB>number` rows.
    /// For PyPI the number is a rank (smaller is more popular); for npm it is
    /// monthly downloads (larger is more popular). Malformed rows are skipped
    /// and returned so the caller can name them; the rest still loads.
    ///
    /// # Errors
    /// Only on I/O failure.
    pub fn read_tsv(
        eco: Ecosystem,
        r: impl BufRead,
    ) -> Result<(Vec<Popular>, Vec<BadLine>), Error> {
        let mut rows: Vec<(String, u64)> = Vec::new();
        let mut bad = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for (i, line) in r.lines().enumerate() {
            let n = i + 1;
            let line = line?;
            let line = line.trim_end_matches('\r');
            if line.trim().is_empty() {
                continue;
            }
            let mut parts = line.split('\t');
            let (Some(name), Some(num)) = (parts.next(), parts.next()) else {
                bad.push(BadLine {
                    line: n,
                    reason: "expected `name<TAB>number`".into(),
                });
                continue;
            };
            let Ok(num) = num.trim().parse::<u64>() else {
                // The header row is the usual cause; do not report it.
                if n != 1 {
                    bad.push(BadLine {
                        line: n,
                        reason: format!("`{}` is not a number", num.escape_debug()),
                    });
                }
                continue;
            };
            match PackageName::parse(eco, name.trim()) {
                Ok(p) => {
                    if seen.insert(p.as_str().to_owned()) {
                        rows.push((p.as_str().to_owned(), num));
                    }
                }
                Err(e) => bad.push(BadLine {
                    line: n,
                    reason: e.to_string(),
                }),
            }
        }
        match eco {
            Ecosystem::PyPI => rows.sort_by_key(|r| r.1),
            Ecosystem::Npm => rows.sort_by_key(|b| std::cmp::Reverse(b.1)),
        }
        let out = rows
            .into_iter()
            .enumerate()
            .map(|(i, (name, num))| Popular {
                name,
                rank: u32::try_from(i + 1).unwrap_or(u32::MAX),
                downloads: (eco == Ecosystem::Npm).then_some(round3(num)),
            })
            .collect();
        Ok((out, bad))
    }

    /// Write the compact gzip form.
    ///
    /// # Errors
    /// On I/O failure.
    pub fn write_compact(&self, w: impl Write) -> Result<(), Error> {
        let mut gz = flate2::write::GzEncoder::new(w, flate2::Compression::best());
        writeln!(gz, "{MAGIC}")?;
        writeln!(gz, "[pypi]")?;
        for p in &self.pypi {
            writeln!(gz, "{}", p.name)?;
        }
        writeln!(gz, "[npm]")?;
        for p in &self.npm {
            writeln!(gz, "{} {}", p.name, p.downloads.unwrap_or(0))?;
        }
        gz.finish()?;
        Ok(())
    }

    /// Read the compact gzip form written by [`PopularData::write_compact`].
    ///
    /// # Errors
    /// [`Error::BadIndex`] when the data is not a sluice index.
    pub fn read_compact(bytes: &[u8]) -> Result<Self, Error> {
        let mut text = String::new();
        flate2::read::GzDecoder::new(bytes)
            // A corrupt or hostile file must not make us inflate gigabytes.
            .take(64 << 20)
            .read_to_string(&mut text)
            .map_err(|e| Error::BadIndex(format!("cannot inflate: {e}")))?;
        let mut lines = text.lines();
        if lines.next() != Some(MAGIC) {
            return Err(Error::BadIndex("missing `sluice-popular 1` header".into()));
        }
        let mut out = PopularData::default();
        let mut cur: Option<Ecosystem> = None;
        for (i, line) in lines.enumerate() {
            match line {
                "[pypi]" => cur = Some(Ecosystem::PyPI),
                "[npm]" => cur = Some(Ecosystem::Npm),
                "" => {}
                _ => {
                    let eco = cur.ok_or_else(|| {
                        Error::BadIndex(format!("line {}: row before a section", i + 2))
                    })?;
                    let (name, dl) = match line.split_once(' ') {
                        Some((n, d)) => (n, d.parse::<u64>().ok()),
                        None => (line, None),
                    };
                    let list = match eco {
                        Ecosystem::PyPI => &mut out.pypi,
                        Ecosystem::Npm => &mut out.npm,
                    };
                    let rank = u32::try_from(list.len() + 1).unwrap_or(u32::MAX);
                    list.push(Popular {
                        name: name.to_owned(),
                        rank,
                        downloads: dl,
                    });
                }
            }
        }
        Ok(out)
    }
}

/// Round to three significant digits: enough for popularity ratios, and it
/// makes the shipped file compress far better.
fn round3(n: u64) -> u64 {
    let mut scale = 1u64;
    while n / scale >= 1000 {
        scale = scale.saturating_mul(10);
    }
    (n / scale).saturating_mul(scale)
}

/// An entry of a [`Corpus`].
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    pub name: String,
    pub flat: String,
    pub words: Vec<String>,
    pub scope: Option<String>,
    pub rank: u32,
    pub downloads: Option<u64>,
}

/// Deletion-neighbourhood index: every string reachable from a corpus
/// name's flat form by up to [`depth_for`] deletions, hashed, in an
/// open-addressing table of `(hash check, entry id)` slots at most half
/// full. A lookup is usually one cache line: the probe starts at the
/// hash's slot and stops at the first empty slot.
#[derive(Debug, Default)]
pub(crate) struct DelIndex {
    mask: usize,
    /// `(check, id + 1)`; id 0 marks an empty slot. `check` is the hash's
    /// low 32 bits (collisions are filtered later by OSA).
    slots: Vec<(u32, u32)>,
}

impl DelIndex {
    /// Build from a generator that calls its argument with every
    /// `(hash, id)` pair, at most `n` of them. The pair buffer is sized
    /// once (growing it by doubling would briefly hold two copies, the
    /// build's peak memory) and sorted, which dedups the pairs and makes
    /// the table fill far more cache-friendly than inserting at random.
    fn build(n: usize, pairs: impl FnOnce(&mut dyn FnMut(u64, u32))) -> Self {
        let mut buf: Vec<(u64, u32)> = Vec::with_capacity(n);
        pairs(&mut |h, id| buf.push((h, id)));
        buf.sort_unstable();
        buf.dedup();
        let cap = (buf.len() * 2).next_power_of_two().max(16);
        let mask = cap - 1;
        let mut slots = vec![(0u32, 0u32); cap];
        for &(h, id) in &buf {
            let mut i = (h >> 32) as usize & mask;
            // The table is at most half full, so this always ends.
            while slots.get(i).is_some_and(|s| s.1 != 0) {
                i = (i + 1) & mask;
            }
            if let Some(s) = slots.get_mut(i) {
                *s = (h as u32, id.saturating_add(1));
            }
        }
        DelIndex { mask, slots }
    }

    fn get(&self, h: u64, out: &mut Vec<u32>) {
        if self.slots.is_empty() {
            return;
        }
        let mut i = (h >> 32) as usize & self.mask;
        while let Some(&(c, id)) = self.slots.get(i) {
            if id == 0 {
                break;
            }
            if c == h as u32 {
                out.push(id - 1);
            }
            i = (i + 1) & self.mask;
        }
    }

    fn bytes(&self) -> usize {
        self.slots.capacity() * 8
    }
}

/// Names of one ecosystem (or a private list) with every lookup key.
#[derive(Debug, Default)]
pub(crate) struct Corpus {
    pub entries: Vec<Entry>,
    /// Normalised name -> entry.
    pub by_name: HashMap<String, u32>,
    /// Flat form -> entries.
    pub by_flat: HashMap<String, Vec<u32>>,
    /// Flat form without trailing version digits -> entries.
    pub by_stem: HashMap<String, Vec<u32>>,
    /// Skeleton -> entries.
    pub by_skel: HashMap<String, Vec<u32>>,
    /// Sorted words (two or more) -> entries.
    pub by_words: HashMap<String, Vec<u32>>,
    /// Name with language words removed -> entries.
    pub by_core: HashMap<String, Vec<u32>>,
    /// Scopes that hold at least one entry.
    pub scopes: HashMap<String, u32>,
    /// Deletion neighbourhoods of the flat forms, built on first fuzzy
    /// lookup (a PyPI-only run never pays for npm's).
    pub deletes: std::sync::OnceLock<DelIndex>,
}

/// Deletion depth for a flat form of `len` bytes: distance 2 is only
/// meaningful for longer names (shorter ones are a sea of neighbours), and
/// very long names would need hundreds of variants each, so they get one.
pub(crate) fn depth_for(len: usize) -> usize {
    if (7..=40).contains(&len) {
        2
    } else if len >= 4 {
        1
    } else {
        0
    }
}

impl Corpus {
    pub(crate) fn build(list: &[Popular], eco: Ecosystem) -> Self {
        let mut c = Corpus::default();
        for p in list {
            let Ok(id) = u32::try_from(c.entries.len()) else {
                break;
            };
            let flat = norm::flat(&p.name);
            let scope = match eco {
                Ecosystem::Npm => p
                    .name
                    .strip_prefix('@')
                    .and_then(|r| r.split_once('/'))
                    .map(|(s, _)| s.to_owned()),
                Ecosystem::PyPI => None,
            };
            if let Some(s) = &scope {
                c.scopes.entry(s.clone()).or_insert(id);
            }
            c.by_name.entry(p.name.clone()).or_insert(id);
            c.by_flat.entry(flat.clone()).or_default().push(id);
            c.by_skel.entry(norm::skeleton(&flat)).or_default().push(id);
            c.by_stem
                .entry(norm::digit_stem(&flat).to_owned())
                .or_default()
                .push(id);
            let words = norm::tokens(&p.name);
            if words.len() >= 2 {
                let mut w = words.clone();
                w.sort();
                c.by_words.entry(w.join(" ")).or_default().push(id);
            }
            let core = norm::core(&words).unwrap_or_else(|| flat.clone());
            let words = words.clone();
            c.by_core.entry(core).or_default().push(id);
            c.entries.push(Entry {
                name: p.name.clone(),
                flat,
                words,
                scope,
                rank: p.rank,
                downloads: p.downloads,
            });
        }
        c
    }

    pub(crate) fn get(&self, id: u32) -> Option<&Entry> {
        self.entries.get(id as usize)
    }

    /// Entries whose deletion neighbourhood meets that of `flat`.
    fn delete_index(&self) -> &DelIndex {
        self.deletes.get_or_init(|| {
            // Upper bound on the pairs: the name and its deletions.
            let n = self
                .entries
                .iter()
                .map(|e| {
                    let l = e.flat.len();
                    match depth_for(l) {
                        0 => 1,
                        1 => 1 + l,
                        _ => 1 + l + l * l.saturating_sub(1) / 2,
                    }
                })
                .sum();
            DelIndex::build(n, |emit| {
                for (id, e) in self.entries.iter().enumerate() {
                    let Ok(id) = u32::try_from(id) else { break };
                    for_each_delete(e.flat.as_bytes(), depth_for(e.flat.len()), |h| {
                        emit(h, id);
                    });
                }
            })
        })
    }

    pub(crate) fn fuzzy_ids(&self, flat: &str, out: &mut Vec<u32>) {
        let index = self.delete_index();
        // Hash first, probe after: independent probes let the CPU overlap
        // their cache misses instead of waiting on each in turn.
        let mut hashes: Vec<u64> = Vec::with_capacity(128);
        for_each_delete(flat.as_bytes(), depth_for(flat.len()), |h| hashes.push(h));
        for h in hashes {
            index.get(h, out);
        }
        out.sort_unstable();
        out.dedup();
    }

    /// Rough resident size in bytes, for the bench report.
    pub(crate) fn approx_bytes(&self) -> usize {
        let strings: usize = self
            .entries
            .iter()
            .map(|e| e.name.len() * 4 + e.flat.len() * 4 + 200)
            .sum();
        strings + self.deletes.get().map_or(0, DelIndex::bytes) + self.by_flat.capacity() * 80
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tsv_roundtrip_and_bad_lines() {
        let tsv = "name\trank\nrequests\t2\nboto3\t1\n\nbad name\t3\nnumpy\tx\nflask\n";
        let (rows, bad) = PopularData::read_tsv(Ecosystem::PyPI, tsv.as_bytes()).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].name, "boto3");
        assert_eq!(rows[1].rank, 2);
        let lines: Vec<usize> = bad.iter().map(|b| b.line).collect();
        assert_eq!(lines, vec![5, 6, 7]);
        let npm = "name\td\nsmall\t10\nbig\t123456\n";
        let (n, _) = PopularData::read_tsv(Ecosystem::Npm, npm.as_bytes()).unwrap();
        assert_eq!(n[0].name, "big");
        assert_eq!(n[0].downloads, Some(123_000));
        let data = PopularData { pypi: rows, npm: n };
        let mut buf = Vec::new();
        data.write_compact(&mut buf).unwrap();
        assert_eq!(PopularData::read_compact(&buf).unwrap(), data);
        assert!(PopularData::read_compact(b"not gzip").is_err());
    }
}
