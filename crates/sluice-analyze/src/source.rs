//! A source file as the rules see it, and how its role is decided.

/// When a file's code runs, which weighs how much a finding in it counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FileRole {
    /// Runs during installation: `setup.py`, a `cmdclass` module, an npm
    /// `preinstall`/`install`/`postinstall` script, a `.pth` file.
    Install,
    /// Runs as soon as the package is imported: a top-level `__init__.py`,
    /// npm `main`.
    Import,
    /// Runs when a console script / `bin` entry is invoked.
    Entry,
    /// Ordinary library code.
    Library,
    /// Tests, examples, docs, build tooling: shipped but rarely run.
    Auxiliary,
}

impl FileRole {
    /// True for install and import roles, where code runs without the user
    /// calling it.
    #[must_use]
    pub fn runs_unasked(self) -> bool {
        matches!(self, FileRole::Install | FileRole::Import)
    }
}

/// One file handed to the language rules.
#[derive(Clone, Copy, Debug)]
pub struct SourceFile<'a> {
    /// Path inside the artifact.
    pub path: &'a str,
    /// The text (invalid UTF-8 replaced).
    pub text: &'a str,
    /// When this file runs.
    pub role: FileRole,
}

/// The languages the rules understand.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Language {
    /// Python source (`.py`, `.pyw`, `.pth`, Python shebang; not `.pyi`
    /// type stubs, which Python never runs).
    Python,
    /// JavaScript source (`.js`, `.cjs`, `.mjs`, node shebang).
    JavaScript,
}

/// Decide a file's language from its name, then its shebang. Binary files
/// named `.py` are skipped (a NUL byte in the first 8 KiB).
#[must_use]
pub fn language_of(path: &str, data: &[u8]) -> Option<Language> {
    let name = path.rsplit('/').next().unwrap_or(path).to_ascii_lowercase();
    let ext = name.rsplit_once('.').map(|(_, e)| e);
    let lang = match ext {
        // `.pyi` stubs are never imported, so never run: they are only
        // searched for indicators (see `ioc::is_text_candidate`).
        Some("py" | "pyw" | "pth") => Some(Language::Python),
        Some("js" | "cjs" | "mjs") => Some(Language::JavaScript),
        _ => {
            let head = &data[..data.len().min(128)];
            if head.starts_with(b"#!") {
                let line = head.split(|&b| b == b'\n').next().unwrap_or_default();
                if memchr::memmem::find(line, b"python").is_some() {
                    Some(Language::Python)
                } else if memchr::memmem::find(line, b"node").is_some() {
                    Some(Language::JavaScript)
                } else {
                    None
                }
            } else {
                None
            }
        }
    }?;
    if memchr::memchr(0, &data[..data.len().min(8192)]).is_some() {
        return None;
    }
    Some(lang)
}

/// `rel` walked from the folder `dir` into a tree path: `.` and empty
/// parts dropped, `..` climbing (`None` when it climbs above the root or
/// nothing is left), `\\` taken as `/`.
#[must_use]
pub fn join_path(dir: &str, rel: &str) -> Option<String> {
    let mut parts: Vec<&str> = dir.split('/').filter(|p| !p.is_empty()).collect();
    for c in rel.split(['/', '\\']) {
        match c {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            c => parts.push(c),
        }
    }
    (!parts.is_empty()).then(|| parts.join("/"))
}
