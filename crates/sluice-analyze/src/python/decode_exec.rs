//! PY104 `decode-execute`: decoded or obfuscated data fed to execution.
//!
//! **What it detects.** Output of a decoder — base64/b32/b16/b85,
//! `binascii.unhexlify`, `bytes.fromhex`, zlib/gzip/bz2/lzma, `marshal`,
//! `codecs.decode(…, 'rot13')`, `''.join(chr(…))`, pixels of an image —
//! reaching `exec`, `eval`, `compile`, `types.FunctionType`, `__import__`,
//! `importlib.import_module`, or a shell (`os.system`, `subprocess`),
//! directly or through variables. When the decoded value is a constant in
//! the file, the payload is decoded here and analysed in turn (see
//! [`super::payload`]).
//!
//! **Why it matters.** Hiding the real code is the only reason to decode
//! then execute: the `jeilyfish` payload was an encoded blob executed on
//! import; GuardDog's `exec-base64` and steganography rules cover the same
//! idiom (CWE-506, CWE-95).
//!
//! **Example.**
//! ```python
//! exec(zlib.decompress(base64.b64decode(BLOB)))
//! ```
//!
//! **False positives.** Serialisation libraries `pickle.loads` decoded data
//! they received (not counted unless the data is a constant blob); code
//! generators `exec` templates (not decoded). Self-extracting installers in
//! tooling folders are discounted by the score's context.

use sluice_model::{Confidence, Finding, Severity};

use super::facts::{Call, Facts, Labels, is_proc_sink_name};
use super::{at_call, by_role};

/// Rule name.
pub const NAME: &str = "decode-execute";

const DECODEISH: Labels = Labels(Labels::DECODED.0 | Labels::CHR.0 | Labels::IMAGE.0);

fn sink_kind(c: &Call) -> Option<&'static str> {
    match c.target.as_str() {
        "exec" | "eval" | "execfile" | "compile" | "types.FunctionType" | "types.CodeType"
        | "runpy.run_path" => Some("code"),
        "__import__" | "importlib.import_module" => Some("import"),
        "marshal.loads" | "pickle.loads" | "cPickle.loads" => Some("deserialise"),
        t if is_proc_sink_name(t) => Some("shell"),
        _ => None,
    }
}

/// Check one file.
#[must_use]
pub fn check(f: &Facts<'_>) -> Vec<Finding> {
    let role = f.file.role;
    // A packed payload: long and random-looking, not a 64-digit checksum.
    let long_blob = f.strings.iter().any(|s| {
        s.value.len() >= super::encoded_blob::MIN_LEN
            && super::payload::encoding_of(&s.value).is_some_and(|e| {
                super::payload::entropy(&s.value) >= if e == "hex" { 3.5 } else { 5.0 }
            })
    });
    let mut out = Vec::new();
    // PowerShell's own decoder: `-EncodedCommand` / `FromBase64String`.
    for c in f.calls.iter().filter(|c| is_proc_sink_name(&c.target)) {
        let cmd = super::command_of(c);
        if cmd.contains("powershell")
            && (cmd.contains(" -enc ")
                || cmd.contains(" -e ")
                || cmd.contains("-encodedcommand")
                || cmd.contains("frombase64string"))
        {
            out.push(
                at_call(
                    f,
                    "PY104",
                    NAME,
                    by_role(role, Severity::Critical, Severity::High),
                    Confidence::High,
                    "runs an encoded PowerShell command",
                    c,
                )
                .evidence("flow: base64 → powershell execution"),
            );
            break;
        }
    }
    for c in &f.calls {
        let Some(kind) = sink_kind(c) else { continue };
        if !c.arg_labels.has(DECODEISH) {
            continue;
        }
        // Deserialising decoded *input* is what serialisers do; only a
        // decoded constant is suspicious.
        if kind == "deserialise"
            && (!long_blob
                || c.arg_labels
                    .has(Labels(Labels::FILEDATA.0 | Labels::FETCHED.0)))
        {
            continue;
        }
        let how = (c.arg_labels & DECODEISH).names().join(", ");
        let (sev, conf) = if role.runs_unasked() {
            (Severity::Critical, Confidence::High)
        } else if long_blob || c.arg_labels.has(Labels::CHR) || c.arg_labels.has(Labels::IMAGE) {
            (Severity::High, Confidence::High)
        } else {
            (
                by_role(role, Severity::High, Severity::Medium),
                Confidence::Medium,
            )
        };
        let mut fd = at_call(
            f,
            "PY104",
            NAME,
            sev,
            conf,
            format!("executes {how} with `{}`", c.target),
            c,
        )
        .evidence(format!("flow: {how} → {kind} execution"));
        if c.indirect {
            fd = fd.evidence("the executing function is reached indirectly");
        }
        if long_blob {
            fd = fd.evidence("the file holds a long encoded constant");
        }
        out.push(fd);
        if out.len() >= 3 {
            break;
        }
    }
    out
}
