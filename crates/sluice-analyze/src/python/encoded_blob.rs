//! PY105 `encoded-blob`: a long, high-entropy base64 or hex literal.
//!
//! **What it detects.** String literals of at least 200 encoded characters
//! (base64 with Shannon entropy ≥ 5.0 bits/char, or hex ≥ 3.5) — packed
//! code. The blob is decoded through base64/hex/zlib/gzip layers and
//! classified; the kind decides the severity: executables and code are
//! medium (high where the file runs unasked), images, fonts and
//! certificates are informational, unknown bytes are low.
//!
//! **Why it matters.** `jeilyfish` carried its stealer as an encoded blob
//! inside an otherwise faithful copy of `jellyfish`. Obfuscated payloads
//! are how malware survives a human glance (CWE-506).
//!
//! **Example.** `_p = "eJzLSM3JyVcozy/KSQEAGgQEXQ==…"` (hundreds of chars).
//!
//! **False positives.** Embedded icons, fonts, test vectors and
//! certificates: decoded and recognised, reported as info. Alone this rule
//! never makes a package suspicious; it adds weight beside PY104.

use sluice_model::{Confidence, Finding, Severity};

use super::facts::Facts;
use super::payload::{decode, encoding_of, entropy};
use super::{at_line, by_role};

/// Rule name.
pub const NAME: &str = "encoded-blob";

/// Shortest blob reported, in encoded characters.
pub const MIN_LEN: usize = 200;

/// Check one file.
#[must_use]
pub fn check(f: &Facts<'_>) -> Vec<Finding> {
    let role = f.file.role;
    let mut out = Vec::new();
    for s in &f.strings {
        // Encoded addresses are short (a webhook is ~130 base64 characters);
        // blobs worth classifying start at MIN_LEN.
        if s.value.len() < 40 {
            continue;
        }
        let Some(enc) = encoding_of(&s.value) else {
            continue;
        };
        // Short hex constants are digests and ids; only base64 hides URLs.
        if s.value.len() < MIN_LEN && enc == "hex" {
            continue;
        }
        let t: String = s.value.chars().filter(|c| !c.is_whitespace()).collect();
        // Decoded once, for both questions below.
        let d = decode(&s.value);
        // An exfiltration address hidden in base64/hex: there is no other
        // reason to encode a webhook or a paste-site URL.
        if let Some(d) = d.as_ref().filter(|d| d.kind == "text")
            && let Ok(text) = std::str::from_utf8(&d.bytes)
            && let Some(service) = crate::ioc::exfil_service(text)
        {
            let shown: String = text.chars().take(120).collect();
            out.push(
                at_line(
                    f,
                    "PY105",
                    NAME,
                    Severity::High,
                    Confidence::High,
                    format!("{enc} constant hides the address of a {service}"),
                    s.line,
                    s.col,
                    &format!("{}…", t.chars().take(60).collect::<String>()),
                )
                .evidence(format!("decodes ({}) to: {shown}", d.layers.join(" → "))),
            );
            continue;
        }
        if t.len() < MIN_LEN {
            continue;
        }
        let e = entropy(&t);
        let high = match enc {
            "hex" => e >= 3.5,
            _ => e >= 5.0,
        };
        if !high {
            continue;
        }
        let (sev, conf, what) = match &d {
            Some(d) if d.is_code() => (
                by_role(role, Severity::High, Severity::Medium),
                Confidence::High,
                d.kind,
            ),
            Some(d) if d.is_media() => (Severity::Info, Confidence::High, d.kind),
            Some(d) if d.kind == "zip archive" || d.kind.ends_with("data") => (
                by_role(role, Severity::Medium, Severity::Low),
                Confidence::Medium,
                d.kind,
            ),
            Some(d) => (
                by_role(role, Severity::Low, Severity::Info),
                Confidence::Low,
                d.kind,
            ),
            None => (
                by_role(role, Severity::Low, Severity::Info),
                Confidence::Low,
                "undecodable",
            ),
        };
        let excerpt: String = t.chars().take(60).collect();
        let mut fd = at_line(
            f,
            "PY105",
            NAME,
            sev,
            conf,
            format!("{}-character {enc} constant ({what})", t.len()),
            s.line,
            s.col,
            &format!("{excerpt}…"),
        )
        .evidence(format!("entropy: {e:.2} bits/char"));
        if let Some(d) = &d {
            fd = fd.evidence(format!(
                "decodes ({}) to {} bytes of {}",
                d.layers.join(" → "),
                d.bytes.len(),
                d.kind
            ));
        }
        out.push(fd);
        if out.len() >= 5 {
            break;
        }
    }
    out
}
