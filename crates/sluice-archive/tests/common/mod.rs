//! Builders for honest and evil archives, all in memory.
#![allow(dead_code)]

use std::io::{Cursor, Write};

use zip::write::SimpleFileOptions;

/// One raw 512-byte ustar header; any name, any declared size, any type,
/// with a correct checksum (the tar builder refuses `..` and absolute
/// names, so evil entries are written byte by byte).
pub fn raw_header(name: &[u8], typeflag: u8, declared: u64, link: &[u8]) -> [u8; 512] {
    let mut h = [0u8; 512];
    let n = name.len().min(100);
    h[..n].copy_from_slice(&name[..n]);
    h[100..108].copy_from_slice(b"0000644\0");
    h[108..116].copy_from_slice(b"0001750\0");
    h[116..124].copy_from_slice(b"0001750\0");
    let size = format!("{declared:011o}\0");
    h[124..136].copy_from_slice(size.as_bytes());
    h[136..148].copy_from_slice(b"14000000000\0");
    h[156] = typeflag;
    let l = link.len().min(100);
    h[157..157 + l].copy_from_slice(&link[..l]);
    h[257..263].copy_from_slice(b"ustar\0");
    h[263..265].copy_from_slice(b"00");
    h[148..156].copy_from_slice(b"        ");
    let sum: u32 = h.iter().map(|&b| u32::from(b)).sum();
    let ck = format!("{sum:06o}\0 ");
    h[148..156].copy_from_slice(ck.as_bytes());
    h
}

/// An entry for [`raw_tar`].
pub struct Raw<'a> {
    pub name: &'a [u8],
    pub typeflag: u8,
    pub data: &'a [u8],
    pub link: &'a [u8],
}

/// A regular file entry.
pub fn file<'a>(name: &'a [u8], data: &'a [u8]) -> Raw<'a> {
    Raw {
        name,
        typeflag: b'0',
        data,
        link: b"",
    }
}

/// A tar stream of raw entries, each declared with its true size.
pub fn raw_tar(entries: &[Raw<'_>]) -> Vec<u8> {
    let mut out = Vec::new();
    for e in entries {
        out.extend_from_slice(&raw_header(e.name, e.typeflag, e.data.len() as u64, e.link));
        out.extend_from_slice(e.data);
        let pad = (512 - e.data.len() % 512) % 512;
        out.extend(std::iter::repeat_n(0u8, pad));
    }
    out.extend(std::iter::repeat_n(0u8, 1024));
    out
}

pub fn gz(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

pub fn bz2(data: &[u8]) -> Vec<u8> {
    let mut e = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::fast());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

/// A tar built with the tar crate (honest archives).
pub fn built_tar(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (name, data) in files {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_entry_type(tar::EntryType::Regular);
        h.set_cksum();
        b.append_data(&mut h, name, *data).unwrap();
    }
    b.into_inner().unwrap()
}

/// A zip of regular files (deflated).
pub fn zip_of(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let opts = SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .unix_permissions(0o644);
    for (name, data) in files {
        w.start_file(*name, opts).unwrap();
        w.write_all(data).unwrap();
    }
    w.finish().unwrap().into_inner()
}

/// A zip of regular files (stored, not compressed).
pub fn zip_of_stored(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let opts = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for (name, data) in files {
        w.start_file(*name, opts).unwrap();
        w.write_all(data).unwrap();
    }
    w.finish().unwrap().into_inner()
}

/// Replace every occurrence of `from` by `to` (same length): zip names are
/// written in both the local and the central headers and are not covered
/// by the CRC, so this is how evil names are planted.
pub fn patch_all(bytes: &mut [u8], from: &[u8], to: &[u8]) -> usize {
    assert_eq!(from.len(), to.len());
    let mut n = 0;
    let mut i = 0;
    while i + from.len() <= bytes.len() {
        if &bytes[i..i + from.len()] == from {
            bytes[i..i + from.len()].copy_from_slice(to);
            n += 1;
            i += from.len();
        } else {
            i += 1;
        }
    }
    n
}

/// Offsets of the central directory headers, in order.
pub fn central_headers(bytes: &[u8]) -> Vec<usize> {
    (0..bytes.len().saturating_sub(4))
        .filter(|&i| &bytes[i..i + 4] == b"PK\x01\x02")
        .collect()
}

/// Offsets of the local headers, in order.
pub fn local_headers(bytes: &[u8]) -> Vec<usize> {
    (0..bytes.len().saturating_sub(4))
        .filter(|&i| &bytes[i..i + 4] == b"PK\x03\x04")
        .collect()
}

/// Set the unix mode stored in central header number `idx`.
pub fn set_zip_mode(bytes: &mut [u8], idx: usize, mode: u32) {
    let at = central_headers(bytes)[idx];
    bytes[at + 5] = 3; // made by: unix
    let attrs = mode << 16;
    bytes[at + 38..at + 42].copy_from_slice(&attrs.to_le_bytes());
}

/// Set the declared uncompressed size of entry `idx` in both headers.
pub fn set_zip_size(bytes: &mut [u8], idx: usize, size: u32) {
    let c = central_headers(bytes)[idx];
    bytes[c + 24..c + 28].copy_from_slice(&size.to_le_bytes());
    let l = local_headers(bytes)[idx];
    bytes[l + 22..l + 26].copy_from_slice(&size.to_le_bytes());
}

/// A small deterministic PRNG for mutation loops.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

/// A raw deflate stream of `prefix` followed by `mib` MiB of zeros, built
/// without compressing all of it: after one MiB of zeros the compressor's
/// window holds only zeros, so the sync-flushed blocks for the next MiB
/// decode to a MiB of zeros wherever they are repeated. This is how real
/// bombs are made, and it keeps the test fast in debug builds.
pub fn deflate_zeros(prefix: &[u8], mib: usize) -> Vec<u8> {
    use flate2::{Compress, Compression, FlushCompress};
    fn run(c: &mut Compress, input: &[u8], flush: FlushCompress) -> Vec<u8> {
        let mut out = Vec::with_capacity(1 << 16);
        let mut at = 0;
        loop {
            if out.capacity() - out.len() < 1024 {
                out.reserve(1 << 16);
            }
            let before = c.total_in();
            c.compress_vec(&input[at..], &mut out, flush).unwrap();
            at += (c.total_in() - before) as usize;
            if at == input.len() && out.capacity() - out.len() >= 1024 {
                return out;
            }
        }
    }
    let mut c = Compress::new(Compression::best(), false);
    let zeros = vec![0u8; 1 << 20];
    let mut first = prefix.to_vec();
    first.extend_from_slice(&zeros);
    let mut out = run(&mut c, &first, FlushCompress::Sync);
    let block = run(&mut c, &zeros, FlushCompress::Sync);
    for _ in 1..mib {
        out.extend_from_slice(&block);
    }
    out.extend(run(&mut c, &[], FlushCompress::Finish));
    out
}

/// A zip with one deflated entry `name` whose raw deflate data is `data`
/// and whose declared size is `size` (CRC left 0: a bomb is stopped long
/// before the CRC is checked).
pub fn zip_raw_deflate(name: &str, data: &[u8], size: u32) -> Vec<u8> {
    zip_raw_entries(&[(name.to_owned(), data, size, 0)])
}

/// A zip of raw deflated entries `(name, deflate data, declared size, crc)`.
pub fn zip_raw_entries(entries: &[(String, &[u8], u32, u32)]) -> Vec<u8> {
    let mut z = Vec::new();
    let mut central = Vec::new();
    for (name, data, size, crc) in entries {
        let offset = z.len() as u32;
        let n = name.len() as u16;
        let csize = data.len() as u32;
        z.extend_from_slice(b"PK\x03\x04");
        z.extend_from_slice(&20u16.to_le_bytes()); // version needed
        z.extend_from_slice(&0u16.to_le_bytes()); // flags
        z.extend_from_slice(&8u16.to_le_bytes()); // deflate
        z.extend_from_slice(&[0; 4]); // time, date
        z.extend_from_slice(&crc.to_le_bytes());
        z.extend_from_slice(&csize.to_le_bytes());
        z.extend_from_slice(&size.to_le_bytes());
        z.extend_from_slice(&n.to_le_bytes());
        z.extend_from_slice(&0u16.to_le_bytes());
        z.extend_from_slice(name.as_bytes());
        z.extend_from_slice(data);
        central.extend_from_slice(b"PK\x01\x02");
        central.extend_from_slice(&0x031eu16.to_le_bytes()); // made by unix
        central.extend_from_slice(&20u16.to_le_bytes());
        central.extend_from_slice(&0u16.to_le_bytes());
        central.extend_from_slice(&8u16.to_le_bytes());
        central.extend_from_slice(&[0; 4]);
        central.extend_from_slice(&crc.to_le_bytes());
        central.extend_from_slice(&csize.to_le_bytes());
        central.extend_from_slice(&size.to_le_bytes());
        central.extend_from_slice(&n.to_le_bytes());
        central.extend_from_slice(&[0; 8]); // extra, comment, disk, internal attrs
        central.extend_from_slice(&(0o100_644u32 << 16).to_le_bytes());
        central.extend_from_slice(&offset.to_le_bytes());
        central.extend_from_slice(name.as_bytes());
    }
    let cd = z.len() as u32;
    z.extend_from_slice(&central);
    let count = entries.len() as u16;
    z.extend_from_slice(b"PK\x05\x06");
    z.extend_from_slice(&[0; 4]);
    z.extend_from_slice(&count.to_le_bytes());
    z.extend_from_slice(&count.to_le_bytes());
    z.extend_from_slice(&(central.len() as u32).to_le_bytes());
    z.extend_from_slice(&cd.to_le_bytes());
    z.extend_from_slice(&0u16.to_le_bytes());
    z
}

/// Wrap a raw deflate stream as gzip (trailer CRC and size left 0).
pub fn gzip_raw(deflate: &[u8]) -> Vec<u8> {
    let mut g = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];
    g.extend_from_slice(deflate);
    g.extend_from_slice(&[0; 8]);
    g
}

/// xz-compress (the stream some uploads ship under a `.tar.gz` name).
pub fn xz(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    lzma_rs::xz_compress(&mut &data[..], &mut out).unwrap();
    out
}
