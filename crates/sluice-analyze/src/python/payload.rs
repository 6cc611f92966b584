//! Decoding of encoded constants, so what they hide can be judged.
//!
//! A long base64 or hex literal is decoded (through up to four layers of
//! base64 / hex / zlib / gzip), classified by its magic bytes (image, font,
//! archive, executable, marshalled code, Python source…), and when it is
//! Python source the rules run on it again as if it sat in the same file.
//! Everything is bounded: input and output sizes, layers, nesting depth.

use std::io::Read as _;

use base64::Engine as _;
use sluice_model::Finding;

use super::facts::Facts;
use crate::SourceFile;

/// Largest decoded payload kept, in bytes.
const MAX_DECODED: usize = 4 << 20;
/// Most layers unwrapped.
const MAX_LAYERS: usize = 4;
/// Most blobs per file decoded for nested analysis.
const MAX_BLOBS: usize = 6;

/// What a decoded payload is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decoded {
    /// The layers unwrapped, outermost first (`base64`, `zlib`).
    pub layers: Vec<&'static str>,
    /// The final bytes.
    pub bytes: Vec<u8>,
    /// What the bytes look like.
    pub kind: &'static str,
}

impl Decoded {
    /// True when the payload is (or hides) runnable code.
    #[must_use]
    pub fn is_code(&self) -> bool {
        matches!(
            self.kind,
            "python source"
                | "marshalled code object"
                | "compiled python"
                | "ELF executable"
                | "Windows executable"
                | "Mach-O executable"
                | "shell script"
        )
    }

    /// True when the payload is a harmless media or data format.
    #[must_use]
    pub fn is_media(&self) -> bool {
        matches!(
            self.kind,
            "png image"
                | "gif image"
                | "jpeg image"
                | "icon"
                | "font"
                | "pdf document"
                | "svg image"
                | "certificate or key (DER)"
                | "webp image"
                | "wasm module"
        )
    }
}

fn stripped(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace()).collect()
}

/// Shannon entropy in bits per character.
#[must_use]
pub fn entropy(s: &str) -> f64 {
    let mut counts = [0u32; 256];
    let mut n = 0u32;
    for b in s.bytes() {
        counts[usize::from(b)] += 1;
        n += 1;
    }
    if n == 0 {
        return 0.0;
    }
    let n = f64::from(n);
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = f64::from(c) / n;
            -p * p.log2()
        })
        .sum()
}

/// The encoding a string appears to use, if it looks like an encoded blob.
#[must_use]
pub fn encoding_of(s: &str) -> Option<&'static str> {
    let t = stripped(s);
    if t.len() < 40 {
        return None;
    }
    if t.len().is_multiple_of(2) && t.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Some("hex");
    }
    let b64 = t
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=' | b'-' | b'_'));
    let mixed = t.bytes().any(|b| b.is_ascii_uppercase())
        && t.bytes().any(|b| b.is_ascii_lowercase())
        && t.bytes().any(|b| b.is_ascii_digit());
    // Identifiers and paths are alphanumeric too; real base64 has few
    // long runs of lower-case letters and no `=` except at the end.
    // (or at the start, when the blob is stored reversed).
    let eq_ok = t.trim_matches('=').bytes().all(|b| b != b'=');
    if b64 && mixed && eq_ok {
        return Some("base64");
    }
    None
}

/// True when a string looks like an encoded blob.
#[must_use]
pub fn looks_encoded(s: &str) -> bool {
    encoding_of(s).is_some()
}

fn b64(t: &str) -> Option<Vec<u8>> {
    use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
    let cfg = GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent);
    let std = GeneralPurpose::new(&base64::alphabet::STANDARD, cfg);
    let url = GeneralPurpose::new(&base64::alphabet::URL_SAFE, cfg);
    std.decode(t).ok().or_else(|| url.decode(t).ok())
}

fn inflate(data: &[u8], gz: bool) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let r: Box<dyn std::io::Read> = if gz {
        Box::new(flate2::read::GzDecoder::new(data))
    } else {
        Box::new(flate2::read::ZlibDecoder::new(data))
    };
    r.take(MAX_DECODED as u64).read_to_end(&mut out).ok()?;
    (!out.is_empty()).then_some(out)
}

fn classify(b: &[u8]) -> &'static str {
    let starts = |m: &[u8]| b.starts_with(m);
    if starts(b"\x89PNG") {
        "png image"
    } else if starts(b"GIF8") {
        "gif image"
    } else if starts(b"\xff\xd8\xff") {
        "jpeg image"
    } else if starts(b"RIFF") && b.get(8..12) == Some(b"WEBP") {
        "webp image"
    } else if starts(b"\x00\x00\x01\x00") {
        "icon"
    } else if starts(b"wOFF") || starts(b"wOF2") || starts(b"OTTO") || starts(b"\x00\x01\x00\x00") {
        "font"
    } else if starts(b"%PDF") {
        "pdf document"
    } else if starts(b"\x00asm") {
        "wasm module"
    } else if starts(b"PK\x03\x04") {
        "zip archive"
    } else if starts(b"\x7fELF") {
        "ELF executable"
    } else if starts(b"MZ") {
        "Windows executable"
    } else if starts(b"\xcf\xfa\xed\xfe")
        || starts(b"\xce\xfa\xed\xfe")
        || starts(b"\xca\xfe\xba\xbe")
    {
        "Mach-O executable"
    } else if starts(b"BZh") {
        "bzip2 data"
    } else if starts(b"\xfd7zXZ") {
        "xz data"
    } else if b.len() > 16 && b.get(2..4) == Some(b"\r\n") && b.get(1).is_some_and(|&x| x < 0x20) {
        "compiled python"
    } else if matches!(b.first(), Some(0xe3 | 0x63))
        && b.len() > 32
        && b.iter().take(64).filter(|&&x| x == 0).count() > 8
    {
        "marshalled code object"
    } else if starts(b"\x30\x82") {
        "certificate or key (DER)"
    } else if let Ok(t) = std::str::from_utf8(b) {
        let l = t.trim_start();
        if l.starts_with("<svg") || l.starts_with("<?xml") {
            "svg image"
        } else if l.starts_with("#!/bin/sh")
            || l.starts_with("#!/bin/bash")
            || l.starts_with("#!/usr/bin/env bash")
        {
            "shell script"
        } else if looks_python(t) {
            "python source"
        } else {
            "text"
        }
    } else {
        "binary data"
    }
}

fn looks_python(t: &str) -> bool {
    let hits = [
        "import ", "def ", "exec(", "eval(", "os.", "print(", "from ", "class ", "socket",
        "return ",
    ]
    .iter()
    .filter(|k| t.contains(*k))
    .count();
    hits >= 2 || (hits >= 1 && t.len() < 400 && t.contains('('))
}

/// Decode a string through up to four layers; a string that only makes
/// sense reversed (`b64decode(s[::-1])`, a common obfuscator trick) is
/// tried backwards too.
#[must_use]
pub fn decode(s: &str) -> Option<Decoded> {
    let forward = decode_forward(s);
    if forward
        .as_ref()
        .is_some_and(|d| d.is_code() || d.is_media())
    {
        return forward;
    }
    let reversed: String = s.chars().rev().collect();
    match decode_forward(&reversed) {
        Some(mut d) if d.is_code() => {
            d.layers.insert(0, "reverse");
            Some(d)
        }
        _ => forward,
    }
}

fn decode_forward(s: &str) -> Option<Decoded> {
    let enc = encoding_of(s)?;
    let t = stripped(s);
    if t.len() > MAX_DECODED * 2 {
        return None;
    }
    let mut bytes = match enc {
        "hex" => hex_decode(&t)?,
        _ => b64(&t)?,
    };
    let mut layers = vec![enc];
    for _ in 0..MAX_LAYERS {
        let next = if bytes.first() == Some(&0x78) && bytes.len() > 2 {
            inflate(&bytes, false).map(|b| (b, "zlib"))
        } else if bytes.starts_with(b"\x1f\x8b") {
            inflate(&bytes, true).map(|b| (b, "gzip"))
        } else if let Some(e) = std::str::from_utf8(&bytes).ok().and_then(|t| {
            let t = t.trim();
            encoding_of(t).filter(|_| t.len() == stripped(t).len())
        }) {
            let t = String::from_utf8_lossy(&bytes).trim().to_owned();
            match e {
                "hex" => hex_decode(&t).map(|b| (b, "hex")),
                _ => b64(&t).map(|b| (b, "base64")),
            }
        } else {
            None
        };
        match next {
            Some((b, l)) if b.len() <= MAX_DECODED => {
                bytes = b;
                layers.push(l);
            }
            _ => break,
        }
    }
    let kind = classify(&bytes);
    Some(Decoded {
        layers,
        bytes,
        kind,
    })
}

fn hex_decode(t: &str) -> Option<Vec<u8>> {
    let b = t.as_bytes();
    let mut out = Vec::with_capacity(b.len() / 2);
    for pair in b.chunks(2) {
        let s = std::str::from_utf8(pair).ok()?;
        out.push(u8::from_str_radix(s, 16).ok()?);
    }
    Some(out)
}

/// Most key × token pairs tried for Fernet decryption per file.
const MAX_FERNET_TRIES: usize = 64;

/// Decrypt a Fernet token (`gAAAAA…`) with a Fernet key (44 characters of
/// URL-safe base64 holding a 16-byte signing key and a 16-byte AES-128
/// key): version byte, 8-byte time, 16-byte IV, AES-128-CBC ciphertext
/// with PKCS#7 padding, 32-byte HMAC. The HMAC is not checked — the
/// padding and the plaintext's shape tell a right key from a wrong one.
#[must_use]
pub fn fernet_decrypt(key: &str, token: &str) -> Option<Vec<u8>> {
    use aes::cipher::{BlockDecryptMut as _, KeyIvInit as _, block_padding::Pkcs7};
    let key = b64(key.trim())?;
    if key.len() != 32 {
        return None;
    }
    let tok = b64(&stripped(token))?;
    if tok.len() < 1 + 8 + 16 + 16 + 32 || tok[0] != 0x80 || tok.len() > MAX_DECODED {
        return None;
    }
    let (iv, rest) = tok[9..].split_at(16);
    let ct = &rest[..rest.len() - 32];
    if ct.is_empty() || !ct.len().is_multiple_of(16) {
        return None;
    }
    let dec = cbc::Decryptor::<aes::Aes128>::new_from_slices(&key[16..], iv).ok()?;
    dec.decrypt_padded_vec_mut::<Pkcs7>(ct).ok()
}

/// Fernet tokens in the file decrypted with the file's own keys, when a
/// key is there (the `exec(Fernet(KEY).decrypt(TOKEN))` droppers ship
/// both): (token literal, plaintext).
fn fernet_payloads<'f>(f: &'f Facts<'_>) -> Vec<(&'f super::facts::StrLit, Vec<u8>)> {
    let tokens: Vec<&super::facts::StrLit> = f
        .strings
        .iter()
        .filter(|s| s.value.starts_with("gAAAAA") && s.value.len() >= 100)
        .take(MAX_BLOBS)
        .collect();
    if tokens.is_empty() {
        return Vec::new();
    }
    let keys: Vec<&str> = f
        .strings
        .iter()
        .map(|s| s.value.trim())
        .filter(|v| v.len() == 44 && v.ends_with('='))
        .take(8)
        .collect();
    let mut out = Vec::new();
    let mut tries = 0;
    for t in tokens {
        for k in &keys {
            tries += 1;
            if tries > MAX_FERNET_TRIES {
                return out;
            }
            if let Some(p) = fernet_decrypt(k, &t.value) {
                out.push((t, p));
                break;
            }
        }
    }
    out
}

/// Findings from encoded constants that decode to Python source, and from
/// Fernet tokens the file's own keys decrypt: the rules run on the
/// payload, and each finding is moved to the blob's line.
pub(crate) fn nested_findings(f: &Facts<'_>, depth: u8) -> Vec<Finding> {
    let mut blobs: Vec<&super::facts::StrLit> = f
        .strings
        .iter()
        .filter(|s| {
            s.value.len() >= 40 && looks_encoded(&s.value) && !s.value.starts_with("gAAAAA")
        })
        .collect();
    blobs.sort_by_key(|s| std::cmp::Reverse(s.value.len()));
    let mut decoded: Vec<(&super::facts::StrLit, Decoded)> = blobs
        .into_iter()
        .take(MAX_BLOBS)
        .filter_map(|b| decode(&b.value).map(|d| (b, d)))
        .collect();
    for (t, plain) in fernet_payloads(f) {
        let kind = classify(&plain);
        decoded.push((
            t,
            Decoded {
                layers: vec!["fernet"],
                bytes: plain,
                kind,
            },
        ));
    }
    // Python source kept as a plain string and written out or handed to an
    // interpreter (`tmp.write(b"exec(urlopen(...).read())")`, `python -c`):
    // judged as the code it is.
    let hands_on = f.calls.iter().any(|c| {
        c.caps.has(super::facts::Caps::WRITE)
            || c.caps.has(super::facts::Caps::PROC)
            || super::facts::is_write_call(c)
            || super::facts::is_proc_sink_name(&c.target)
            || matches!(c.target.as_str(), "exec" | "eval" | "compile")
    });
    if hands_on {
        let mut embedded: Vec<&super::facts::StrLit> = f
            .strings
            .iter()
            .filter(|s| {
                s.value.len() >= 40
                    && s.value.len() <= MAX_DECODED
                    && (s.value.contains("exec(") || s.value.contains("import "))
                    && looks_python(&s.value)
                    && !looks_encoded(&s.value)
            })
            .collect();
        embedded.sort_by_key(|s| std::cmp::Reverse(s.value.len()));
        for s in embedded.into_iter().take(MAX_BLOBS) {
            decoded.push((
                s,
                Decoded {
                    layers: vec!["embedded source"],
                    bytes: s.value.clone().into_bytes(),
                    kind: "python source",
                },
            ));
        }
    }
    // Code run through a classical cipher before `exec` (a reversed
    // alphabet, ROT13, the string backwards): only where the file executes
    // strings, and only when the plain text is code and the literal is not.
    if f.calls
        .iter()
        .any(|c| matches!(c.target.as_str(), "exec" | "eval" | "compile"))
    {
        let mut lits: Vec<&super::facts::StrLit> = f
            .strings
            .iter()
            .filter(|s| (40..=MAX_DECODED).contains(&s.value.len()) && !looks_python(&s.value))
            .collect();
        lits.sort_by_key(|s| std::cmp::Reverse(s.value.len()));
        for s in lits.into_iter().take(MAX_BLOBS) {
            if let Some((layer, plain)) = classical(&s.value) {
                decoded.push((
                    s,
                    Decoded {
                        layers: vec![layer],
                        bytes: plain.into_bytes(),
                        kind: "python source",
                    },
                ));
            }
        }
    }
    let mut out = Vec::new();
    for (blob, d) in decoded {
        // A decrypted payload is code whatever it looks like: it is only
        // ever decrypted to be run.
        if d.kind != "python source" && !(d.layers == ["fernet"] && d.kind == "text") {
            continue;
        }
        let text = String::from_utf8_lossy(&d.bytes);
        let inner = SourceFile {
            path: f.file.path,
            text: &text,
            role: f.file.role,
        };
        for mut fd in super::check_payload(&inner, depth) {
            // PY105 on the payload's own strings adds nothing new.
            if fd.rule.as_str() == "PY105" {
                continue;
            }
            fd.evidence.insert(
                0,
                format!(
                    "inside a {} payload decoded from the constant at line {} (payload line {})",
                    d.layers.join(" → "),
                    blob.line,
                    fd.line.unwrap_or(0)
                ),
            );
            fd.line = Some(blob.line);
            fd.column = Some(blob.col);
            fd.message = format!("hidden payload: {}", fd.message);
            out.push(fd);
        }
    }
    out
}

/// Undo a classical cipher: the ASCII letters mapped onto themselves
/// reversed (`string.ascii_letters[::-1]`), per-case Atbash, ROT13, or the
/// text backwards. The plain text must read as Python with an import or an
/// `exec`, which the cipher text did not.
#[must_use]
pub fn classical(s: &str) -> Option<(&'static str, String)> {
    const LETTERS: &[u8; 52] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    let map = |f: &dyn Fn(u8) -> u8| -> String {
        s.bytes()
            .map(|b| if b.is_ascii_alphabetic() { f(b) } else { b })
            .map(char::from)
            .collect()
    };
    if !s.is_ascii() {
        return None;
    }
    let idx = |b: u8| LETTERS.iter().position(|&x| x == b).unwrap_or(0);
    let candidates: [(&'static str, String); 4] = [
        (
            "reversed-alphabet substitution",
            map(&|b| LETTERS[51 - idx(b)]),
        ),
        (
            "atbash",
            map(&|b| {
                if b.is_ascii_lowercase() {
                    b'z' - (b - b'a')
                } else {
                    b'Z' - (b - b'A')
                }
            }),
        ),
        (
            "rot13",
            map(&|b| {
                let base = if b.is_ascii_lowercase() { b'a' } else { b'A' };
                (b - base + 13) % 26 + base
            }),
        ),
        ("reverse", s.chars().rev().collect()),
    ];
    candidates.into_iter().find(|(_, plain)| {
        looks_python(plain) && (plain.contains("import ") || plain.contains("exec("))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classical_ciphers_undone() {
        let (layer, plain) = classical(
            "RNKLIG HLXPVG,HFYKILXVHH,LH;H=HLXPVG.HLXPVG(HLXPVG.zu_rmvg,HLXPVG.hlxp_hgivzn)",
        )
        .unwrap();
        assert_eq!(layer, "reversed-alphabet substitution");
        assert!(plain.starts_with("import socket,subprocess,os"), "{plain}");
        let rot = "vzcbeg bf; bf.flfgrz('vq') # cevag(gur ubfg)";
        assert_eq!(classical(rot).unwrap().0, "rot13");
        let back: String = "import os; os.system('id')  # print(it)"
            .chars()
            .rev()
            .collect();
        assert_eq!(classical(&back).unwrap().0, "reverse");
        // prose and ordinary identifiers are not code in any of them
        assert!(classical("The quick brown fox jumps over the lazy dog again and again").is_none());
        assert!(
            classical("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+/").is_none()
        );
    }

    #[test]
    fn fernet_tokens_decrypt_with_their_key() {
        let key = "3w3XRXw8m51eI707VaugfTA_NVYl_tIZ6WifDuKHXwQ=";
        let tok = "gAAAAABrEuwsQ_PbWD8pkSQSbMLSI4n7y4kbqjLrST4SJBXwpNXpfHTiib6IG007wN37iPUWL_jsMjrXlNIRwWPb-GwHt3fmIpoHTnedQUOHXcH4bq2knlA4epKeBAFV27v7LpvLq9rAxnPld-rWYQ3n9SEPotTacQ==";
        let plain = fernet_decrypt(key, tok).unwrap();
        assert!(String::from_utf8_lossy(&plain).contains("os.system"));
        // a wrong key fails the padding, a truncated token fails cleanly
        assert!(fernet_decrypt("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", tok).is_none());
        assert!(fernet_decrypt(key, &tok[..60]).is_none());
        assert!(fernet_decrypt(key, "not a token").is_none());
    }

    #[test]
    fn layers_unwrap() {
        use std::io::Write as _;
        let src = b"import os\nos.system('id')\n";
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        z.write_all(src).unwrap();
        let blob = base64::engine::general_purpose::STANDARD.encode(z.finish().unwrap());
        let d = decode(&format!("{blob}{}", "")).unwrap();
        assert_eq!(d.layers, vec!["base64", "zlib"]);
        assert_eq!(d.kind, "python source");
        assert!(decode("hello world this is not encoded at all, really not").is_none());
        assert!(entropy("aaaa") < 0.1);
        assert!(entropy(&blob) > 4.5);
    }
}
