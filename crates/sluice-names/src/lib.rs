//! Name intelligence for sluice: does a package name imitate a popular
//! package, an internal (private) name, or a popular package of the other
//! registry; and do many uploads form a flood campaign?
//!
//! This crate judges *names and upload metadata only*. It must not read
//! archives, run package code or talk to a network: callers (scan, the gate)
//! gather the facts and pass them in.
//!
//! # API for `sluice scan`
//!
//! ```
//! use sluice_model::{Ecosystem, PackageName};
//! use sluice_names::{Engine, NameVerdict};
//!
//! let engine = Engine::builtin(); // shipped index, built once, shared
//! let name = PackageName::parse(Ecosystem::PyPI, "reqeusts").unwrap();
//! let matches = engine.check(&name); // Vec<NameMatch>, best first
//! assert_eq!(matches[0].target, "requests");
//! assert_eq!(engine.verdict(&name), NameVerdict::Squat);
//! let findings = engine.findings_for(&name); // Vec<sluice_model::Finding>
//! assert_eq!(findings[0].rule.as_str(), "NAME401");
//! ```
//!
//! - [`Engine::builtin`] — the index shipped in the binary
//!   (`data/popular.idx.gz`, ~35k names), built lazily on first use.
//!   [`Engine::preferred`] uses the user's index from `sluice names update`
//!   when present (what `sluice scan` should call);
//!   [`Engine::from_index_file`] loads one written by `sluice names update`;
//!   [`Engine::with_private`] adds a [`PrivateList`].
//! - [`Engine::check`] returns [`NameMatch`]es (target, class, score, target
//!   popularity); [`verdict_of`] turns them into ok / suspicious / squat.
//! - [`Engine::findings_for`] returns findings with stable codes:
//!   `NAME401` typosquat of a popular name, `NAME402` private-name confusion,
//!   `NAME403` cross-registry name, `NAME404` combosquat, `NAME405` npm scope
//!   confusion. Severity follows the score (≥0.85 high, ≥0.7 medium, ≥0.45
//!   low, else info; an exact private name is critical). Evidence lines name
//!   target, class, score, target rank and downloads.
//! - [`cross::judge`] weighs provenance facts ([`cross::Provenance`]) for a
//!   name that is popular in the other registry.
//! - [`campaign::cluster`] groups upload events into flood campaigns.
//! - [`eval::evaluate`] measures recall and false positives on labelled rows.
//!
//! # How the score is formed
//!
//! `score = class prior × length × popularity × controls`, in 0..=1.
//!
//! - class prior: 0.9 exact look-alike skeleton (`1/l/i`, `0/o`, `rn/m`,
//!   `vv/w`; a digit for its look-alike letter, `8/b 3/e 4/a 5/s 7/t`, in a
//!   one-character swap), separators (PyPI), repetition, transposition;
//!   0.85 omission, keyboard slip, word order, py↔python, scope confusion;
//!   0.8 other substitution, insertion, version digits, language affix;
//!   0.75 combosquat; 0.7 two edits (names of 7–40 characters, ×
//!   `sqrt(1 − 2/len)`); 0.4 npm separator variants (npm refuses new ones
//!   since 2017, so live ones are old) and for a *scoped* candidate
//!   mirroring an unscoped name (`@org/lodash`) and PyPI `types-<name>`
//!   (typeshed's stub convention);
//!   0.3 cross-registry name (never flags alone; see [`cross::judge`]).
//! - length: target ≤3 characters 0.4 (0.7 for exact keys of 3), 4 → 0.7,
//!   5 → 0.85, 6 → 0.95, longer 1.0 — short names have many honest
//!   neighbours.
//! - popularity: `1 − k·ln(rank)/ln(corpus size)`, k = 0.25 (0.6 for word
//!   order and version digits, whose honest look-alikes are common among
//!   mid-ranked names).
//! - controls (multiply): candidate itself popular (both established) ×0.3
//!   (×0.45 if the target ranks over 1000× higher); candidate popular in the
//!   other registry ×0.5 (typo classes); npm candidate whose punctuation-free
//!   form equals a popular name's ×0.5 (it predates npm's 2017 rule); every
//!   changed word is a common word of package names (`path-parser` vs
//!   `path-parse`) ×0.55; version digit *dropped* (`htmlparser` for
//!   `htmlparser2`) or inside the name (`es-set` for `es6-set`) ×0.6. npm
//!   only (its registry is far denser than our list): the changed word is
//!   an English word (shipped `wamerican`-derived list, 5+ letters), a
//!   popular-name word, or two such words glued (4+ letters each,
//!   `sourcemaps`), for
//!   one-edit classes and look-alikes ×0.6; reordered such words ×0.6;
//!   the candidate drops an unscoped target's language marker (`toolbelt`
//!   for `ts-toolbelt`) ×0.6; a scoped candidate near an unscoped name
//!   ×0.5; a sibling name — one established word or two-letter qualifier
//!   (used by 10+ popular names) swapped for another, seen through either
//!   name's word boundaries or a split of a glued name into such words
//!   (`os-utils` for `esutils`, `is-uri` for `isurl`, `jsurl` for
//!   `jsuri`) — ×0.55, and likewise one language marker swapped for
//!   another (`ts-levenshtein`); a name derived as projects name
//!   themselves — glued successor digit 2–9 (`punycode2`), the bare name of
//!   the target's scope (`storyblok`), the target minus its last word
//!   (`eslint-plugin`) — ×0.6; `<popular>-plugin` has combosquat prior
//!   0.4. A separated major-version word (`mongoose-4`) keeps the gentle
//!   popularity slope. Two-character targets get length factor 0.4 for
//!   every class. npm matches inside one scope, and any candidate in a
//!   scope that owns popular packages (`@types/…`), are dropped: only the
//!   scope owner publishes there.
//! - which explanation counts: a target explained by a structural class is
//!   not also scored as two edits away, and a two-edit match never scores
//!   above the candidate's best one-edit match (the nearer neighbour).
//!
//! Verdict: best score ≥ 0.7 squat, ≥ 0.45 suspicious, else ok. Private
//! names score 1.0 (exact name or scope) or 0.8–0.9 (confusable, prefix)
//! whatever the popularity.
#![warn(missing_docs)]

pub mod bench;
pub mod campaign;
pub mod cross;
mod engine;
pub mod eval;
mod index;
mod norm;
mod private;

pub use engine::{
    Engine, MatchClass, NameMatch, NameVerdict, SQUAT_AT, SUSPICIOUS_AT, finding_for, verdict_of,
};
pub use index::{BadLine, Popular, PopularData};
pub use private::PrivateList;

/// Errors of the name engine.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Reading or writing a file failed.
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
    /// An index file is not in the sluice format.
    #[error("bad popularity index: {0}")]
    BadIndex(String),
    /// A private-name file has a bad entry.
    #[error("bad private-name list: {0}")]
    BadPrivate(String),
}

/// Where `sluice names update` writes the user's index by default:
/// `$SLUICE_DATA_DIR`, else `$XDG_DATA_HOME/sluice`, else
/// `$HOME/.local/share/sluice`, plus `popular.idx.gz`.
#[must_use]
pub fn user_index_path() -> Option<std::path::PathBuf> {
    let base = std::env::var_os("SLUICE_DATA_DIR")
        .map(std::path::PathBuf::from)
        .or_else(|| {
            std::env::var_os("XDG_DATA_HOME").map(|d| std::path::PathBuf::from(d).join("sluice"))
        })
        .or_else(|| {
            std::env::var_os("HOME")
                .map(|h| std::path::PathBuf::from(h).join(".local/share/sluice"))
        })?;
    Some(base.join("popular.idx.gz"))
}
