//! The name engine: matching a candidate against the popular corpus and a
//! private-name list, scoring, and turning matches into findings.

use std::sync::OnceLock;

use serde::Serialize;
use sluice_model::{Confidence, Ecosystem, Finding, PackageName, RuleCode, Severity};

use crate::Error;
use crate::index::{Corpus, Entry, PopularData};
use crate::norm::{self, Edit};
use crate::private::PrivateList;

/// The compact popularity index shipped with sluice (see `data/README.md`).
static BUILTIN_INDEX: &[u8] = include_bytes!("../data/popular.idx.gz");

/// English words of 4–12 letters (derived from Debian's `wamerican`, see
/// `data/README.md`), one a line, gzip.
static DICTIONARY: &[u8] = include_bytes!("../data/words.txt.gz");

/// The shipped English word list, inflated on first use.
fn dictionary() -> &'static std::collections::HashSet<String> {
    static WORDS: OnceLock<std::collections::HashSet<String>> = OnceLock::new();
    WORDS.get_or_init(|| {
        use std::io::Read;
        let mut text = String::new();
        // Shipped data; a failure would only leave the set empty.
        let _ = flate2::read::GzDecoder::new(DICTIONARY)
            .take(8 << 20)
            .read_to_string(&mut text);
        text.lines()
            .filter(|w| w.len() >= 4 && w.bytes().all(|b| b.is_ascii_lowercase()))
            .map(str::to_owned)
            .collect()
    })
}

/// How a candidate name imitates its target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum MatchClass {
    /// One character left out (`reqests`).
    Omission,
    /// One character doubled (`reequests`).
    Repetition,
    /// One extra character (`falask`).
    Insertion,
    /// Two neighbouring characters swapped (`loadsh`).
    Transposition,
    /// One character replaced by a neighbouring key (`numpu`).
    KeyboardSubstitution,
    /// One character replaced by another (`djanga`).
    Substitution,
    /// ASCII look-alikes (`1/l/i`, `0/o`, `rn/m`, `vv/w`).
    Homoglyph,
    /// Separators changed, added or removed (`python_dateutil`, `reactnative`).
    Separator,
    /// Words reordered (`dateutil-python`).
    WordOrder,
    /// Version digits added, removed or changed (`react2`, `urllib`).
    VersionDigits,
    /// Language marker added or removed (`py-`, `-js`, `node-`, `python3-`).
    LanguageAffix,
    /// `py` swapped for `python` or the reverse.
    PyPythonSwap,
    /// npm scope confusion (`@scope/name` vs `scope-name`, `@sc0pe/name`).
    ScopeConfusion,
    /// Popular name plus a generic word (`requests-latest`, `types-`).
    Combosquat,
    /// Two edits from the target.
    EditDistance2,
    /// Exactly a configured private name (dependency confusion).
    PrivateName,
    /// Confusable with, or under the prefix or scope of, a private name.
    PrivateConfusable,
    /// Same name as a popular package of the other registry.
    CrossRegistry,
}

impl MatchClass {
    /// Stable kebab-case label.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            MatchClass::Omission => "omission",
            MatchClass::Repetition => "repetition",
            MatchClass::Insertion => "insertion",
            MatchClass::Transposition => "transposition",
            MatchClass::KeyboardSubstitution => "keyboard-substitution",
            MatchClass::Substitution => "substitution",
            MatchClass::Homoglyph => "homoglyph",
            MatchClass::Separator => "separator",
            MatchClass::WordOrder => "word-order",
            MatchClass::VersionDigits => "version-digits",
            MatchClass::LanguageAffix => "language-affix",
            MatchClass::PyPythonSwap => "py-python-swap",
            MatchClass::ScopeConfusion => "scope-confusion",
            MatchClass::Combosquat => "combosquat",
            MatchClass::EditDistance2 => "edit-distance-2",
            MatchClass::PrivateName => "private-name",
            MatchClass::PrivateConfusable => "private-confusable",
            MatchClass::CrossRegistry => "cross-registry",
        }
    }

    /// Prior plausibility that a name of this class, found near a popular
    /// target, is an imitation. The first factor of the score.
    #[must_use]
    pub fn base_score(self) -> f32 {
        match self {
            MatchClass::PrivateName => 1.0,
            MatchClass::PrivateConfusable => 0.9,
            MatchClass::Homoglyph | MatchClass::Separator => 0.9,
            MatchClass::Repetition | MatchClass::Transposition => 0.9,
            MatchClass::Omission | MatchClass::KeyboardSubstitution => 0.85,
            MatchClass::WordOrder | MatchClass::PyPythonSwap | MatchClass::ScopeConfusion => 0.85,
            MatchClass::LanguageAffix => 0.8,
            MatchClass::Substitution | MatchClass::Insertion | MatchClass::VersionDigits => 0.8,
            MatchClass::Combosquat => 0.75,
            MatchClass::EditDistance2 => 0.7,
            MatchClass::CrossRegistry => 0.3,
        }
    }

    /// A single-edit typo class (omission … homoglyph).
    #[must_use]
    pub fn is_one_edit(self) -> bool {
        matches!(
            self,
            MatchClass::Omission
                | MatchClass::Repetition
                | MatchClass::Insertion
                | MatchClass::Transposition
                | MatchClass::KeyboardSubstitution
                | MatchClass::Substitution
                | MatchClass::Homoglyph
        )
    }

    /// The finding code for this class.
    #[must_use]
    pub fn code(self) -> &'static str {
        match self {
            MatchClass::PrivateName | MatchClass::PrivateConfusable => "NAME402",
            MatchClass::CrossRegistry => "NAME403",
            MatchClass::Combosquat => "NAME404",
            MatchClass::ScopeConfusion => "NAME405",
            _ => "NAME401",
        }
    }
}

impl std::fmt::Display for MatchClass {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One way a candidate resembles a more popular (or private) name.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NameMatch {
    /// The imitated name (normalised).
    pub target: String,
    /// The registry of the target.
    pub target_ecosystem: Ecosystem,
    /// How the candidate differs from the target.
    pub class: MatchClass,
    /// 0..=1; see the crate docs for how it is formed.
    pub score: f32,
    /// Popularity rank of the target (1 = most popular); `None` for private names.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_rank: Option<u32>,
    /// Monthly downloads of the target, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_downloads: Option<u64>,
    /// Why the score is what it is, in a few words.
    pub note: String,
}

/// The overall judgement of a name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum NameVerdict {
    /// Nothing worth reporting.
    Ok,
    /// Resembles a popular or private name; worth a look.
    Suspicious,
    /// Very likely an imitation.
    Squat,
}

impl NameVerdict {
    /// Lower-case label.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            NameVerdict::Ok => "ok",
            NameVerdict::Suspicious => "suspicious",
            NameVerdict::Squat => "squat",
        }
    }
}

/// Score from which a match makes a name suspicious.
pub const SUSPICIOUS_AT: f32 = 0.45;
/// Score from which a match makes a name a squat.
pub const SQUAT_AT: f32 = 0.7;
/// Score factor when every word the candidate changed is a common word of
/// package names (a different project, not a slip of the finger).
const VOCAB_FACTOR: f32 = 0.55;
/// npm score factor for a candidate that reads as an independent name: the
/// changed word is an English word or two words glued (`talkback`,
/// `eventlistener`), the words are reordered dictionary words, or a
/// language marker of the target was dropped (`string` for `string-ts`).
const NPM_WORDLIKE_FACTOR: f32 = 0.6;

/// A two-character word is an established qualifier when at least this
/// many popular names use it as a word. Only 676 two-letter strings exist,
/// so a random edit often lands on one that a name or two happens to use;
/// real qualifiers (`is` 281 names, `ts` 127, `es` 48, `ip` 20) are far
/// above it.
const QUALIFIER_MIN_NAMES: u32 = 10;

/// Score factor when the candidate is not a slip of the finger on the
/// target's own name but a differently formed name: the target's glued
/// successor digit (`punycode2`), its scope's bare organisation name
/// (`storyblok` for `@storyblok/js`), or its base name without the last
/// word (`eslint-plugin` for `eslint-plugin-n`).
const DERIVED_NAME_FACTOR: f32 = 0.6;

/// Matches below this score are not reported at all.
const REPORT_AT: f32 = 0.2;

/// The verdict for a set of matches (the best score decides).
#[must_use]
pub fn verdict_of(matches: &[NameMatch]) -> NameVerdict {
    let best = matches.iter().map(|m| m.score).fold(0.0f32, f32::max);
    if best >= SQUAT_AT {
        NameVerdict::Squat
    } else if best >= SUSPICIOUS_AT {
        NameVerdict::Suspicious
    } else {
        NameVerdict::Ok
    }
}

/// The name engine: popular corpora of both registries plus an optional
/// private-name list. Cheap to share (`&'static` via [`Engine::builtin`]).
#[derive(Debug)]
pub struct Engine {
    pypi: Corpus,
    npm: Corpus,
    private: PrivateList,
    private_pypi: Corpus,
    private_npm: Corpus,
    /// Words (separator-delimited, digits trimmed, 3+ letters) used by at
    /// least two popular names of either registry.
    vocab: std::collections::HashSet<String>,
    /// Two-character words used by at least [`QUALIFIER_MIN_NAMES`] popular
    /// names: the established short qualifiers of package families (`is`,
    /// `es`, `ts`, `js`, `ui`, `ai`...).
    qualifiers: std::collections::HashSet<String>,
}

impl Engine {
    /// The engine over the index shipped inside the binary, built on first
    /// use and shared afterwards.
    ///
    /// # Panics
    /// Never in practice: the shipped index is checked by a unit test; if it
    /// were corrupt the engine would simply be empty.
    #[must_use]
    pub fn builtin() -> &'static Engine {
        static ENGINE: OnceLock<Engine> = OnceLock::new();
        ENGINE.get_or_init(|| {
            let data = PopularData::read_compact(BUILTIN_INDEX).unwrap_or_default();
            Engine::from_data(&data)
        })
    }

    /// The engine `sluice` commands should use: the user's index written by
    /// `sluice names update` ([`crate::user_index_path`]) when it exists and
    /// loads, else [`Engine::builtin`]. Built once and shared.
    #[must_use]
    pub fn preferred() -> &'static Engine {
        static ENGINE: OnceLock<Option<Engine>> = OnceLock::new();
        ENGINE
            .get_or_init(|| {
                crate::user_index_path()
                    .filter(|p| p.is_file())
                    .and_then(|p| Engine::from_index_file(&p).ok())
            })
            .as_ref()
            .unwrap_or_else(|| Engine::builtin())
    }

    /// The shipped popularity data.
    ///
    /// # Errors
    /// [`Error::BadIndex`] if the shipped index cannot be read.
    pub fn builtin_data() -> Result<PopularData, Error> {
        PopularData::read_compact(BUILTIN_INDEX)
    }

    /// Build an engine from popularity data.
    #[must_use]
    pub fn from_data(data: &PopularData) -> Engine {
        let mut counts: std::collections::HashMap<String, u32> = std::collections::HashMap::new();
        let mut short: std::collections::HashMap<String, u32> = std::collections::HashMap::new();
        for p in data.pypi.iter().chain(&data.npm) {
            let mut words = norm::tokens(&p.name);
            words.sort();
            words.dedup();
            for w in words {
                if w.len() == 2 {
                    *short.entry(w.clone()).or_default() += 1;
                }
                let w = w.trim_matches(|c: char| c.is_ascii_digit());
                if w.len() >= 3 {
                    *counts.entry(w.to_owned()).or_default() += 1;
                }
            }
        }
        Engine {
            pypi: Corpus::build(&data.pypi, Ecosystem::PyPI),
            npm: Corpus::build(&data.npm, Ecosystem::Npm),
            private: PrivateList::default(),
            private_pypi: Corpus::default(),
            private_npm: Corpus::default(),
            vocab: counts
                .into_iter()
                .filter(|(_, c)| *c >= 2)
                .map(|(w, _)| w)
                .collect(),
            qualifiers: short
                .into_iter()
                .filter(|(_, c)| *c >= QUALIFIER_MIN_NAMES)
                .map(|(w, _)| w)
                .collect(),
        }
    }

    /// Load an index file written by `sluice names update`.
    ///
    /// # Errors
    /// I/O errors and [`Error::BadIndex`].
    pub fn from_index_file(path: &std::path::Path) -> Result<Engine, Error> {
        let bytes = std::fs::read(path)?;
        Ok(Engine::from_data(&PopularData::read_compact(&bytes)?))
    }

    /// Add a private-name list (dependency-confusion protection).
    #[must_use]
    pub fn with_private(mut self, list: PrivateList) -> Engine {
        self.private_pypi = Corpus::build(&list.as_popular(Ecosystem::PyPI), Ecosystem::PyPI);
        self.private_npm = Corpus::build(&list.as_popular(Ecosystem::Npm), Ecosystem::Npm);
        self.private = list;
        self
    }

    fn corpus(&self, eco: Ecosystem) -> &Corpus {
        match eco {
            Ecosystem::PyPI => &self.pypi,
            Ecosystem::Npm => &self.npm,
        }
    }

    /// Number of popular names per ecosystem `(pypi, npm)`.
    #[must_use]
    pub fn sizes(&self) -> (usize, usize) {
        (self.pypi.entries.len(), self.npm.entries.len())
    }

    /// Rough resident size of the index structures, in bytes.
    #[must_use]
    pub fn approx_bytes(&self) -> usize {
        self.pypi.approx_bytes() + self.npm.approx_bytes()
    }

    /// The popularity rank of `name` in its own registry, if it is popular.
    #[must_use]
    pub fn rank_of(&self, name: &PackageName) -> Option<u32> {
        let c = self.corpus(name.ecosystem());
        c.by_name
            .get(name.as_str())
            .and_then(|&id| c.get(id))
            .map(|e| e.rank)
    }

    /// The popular package of the *other* registry with the same flat name.
    #[must_use]
    pub fn other_registry_twin(&self, name: &PackageName) -> Option<(Ecosystem, String, u32)> {
        let other = match name.ecosystem() {
            Ecosystem::PyPI => Ecosystem::Npm,
            Ecosystem::Npm => Ecosystem::PyPI,
        };
        let c = self.corpus(other);
        let f = norm::flat(name.as_str());
        // Only unscoped npm names can collide with a PyPI name.
        c.by_flat.get(&f).and_then(|ids| {
            ids.iter()
                .filter_map(|&id| c.get(id))
                .find(|e| e.scope.is_none())
                .map(|e| (other, e.name.clone(), e.rank))
        })
    }

    /// All ways `name` resembles a popular or private name, best first.
    /// An empty vector means nothing resembles it.
    #[must_use]
    pub fn check(&self, name: &PackageName) -> Vec<NameMatch> {
        let eco = name.ecosystem();
        let mut out: Vec<NameMatch> = Vec::new();
        let cand = Cand::new(name);
        // Private names first: they count whatever the popularity.
        let private = match eco {
            Ecosystem::PyPI => &self.private_pypi,
            Ecosystem::Npm => &self.private_npm,
        };
        if !private.entries.is_empty() || !self.private.is_empty() {
            self.check_private(&cand, private, eco, &mut out);
        }
        let corpus = self.corpus(eco);
        let own = corpus
            .by_name
            .get(name.as_str())
            .and_then(|&id| corpus.get(id));
        // npm has refused new names equal to an existing one up to
        // punctuation since 2017: a live npm name whose punctuation-free
        // form equals a popular name's is itself old, i.e. established.
        let npm_old = eco == Ecosystem::Npm
            && own.is_none()
            && cand.scope.is_none()
            && corpus.by_flat.get(&cand.flat).is_some_and(|ids| {
                ids.iter()
                    .filter_map(|&id| corpus.get(id))
                    .any(|t| t.scope.is_none())
            });
        // A package inside a scope that owns popular packages is published by
        // that scope's owner: it cannot be imitating anyone from there.
        let trusted_scope = cand
            .scope
            .as_deref()
            .is_some_and(|s| corpus.scopes.contains_key(s));
        let twin = self.other_registry_twin(name);
        // Best one-edit score, reported or not (see the cap below).
        let mut nearest: Option<f32> = None;
        if !trusted_scope {
            let mut raw = Vec::new();
            collect(corpus, &cand, &mut raw);
            // One score per (target, class); several steps can find the same.
            raw.sort_unstable_by_key(|r| (r.0, r.1));
            raw.dedup_by_key(|r| (r.0, r.1));
            // A target that a structural class explains (`retry-promise`
            // drops the `ts` of `ts-retry-promise`) is judged on that
            // explanation, not on the looser two-edit view of the same pair.
            let explained: Vec<u32> = raw
                .iter()
                .filter(|r| r.1 != MatchClass::EditDistance2)
                .map(|r| r.0)
                .collect();
            raw.retain(|r| r.1 != MatchClass::EditDistance2 || !explained.contains(&r.0));
            for (id, class, note) in raw {
                let Some(t) = corpus.get(id) else { continue };
                if t.name == cand.name {
                    continue;
                }
                // npm: names in the same scope are published by one owner.
                if cand.scope.is_some() && cand.scope == t.scope {
                    continue;
                }
                let (mut score, mut extra) =
                    self.score(eco, class, t, corpus.entries.len(), own, &cand);
                if npm_old && class != MatchClass::Separator {
                    score *= 0.5;
                    extra = Some(
                        "a punctuation variant of a popular npm name, so published before 2017",
                    );
                }
                // A name that is popular in the other registry is a known
                // word or brand; same-named ports are common and are judged
                // on provenance (cross-registry), not as typos of a neighbour.
                if own.is_none()
                    && twin.is_some()
                    && !matches!(class, MatchClass::ScopeConfusion | MatchClass::Combosquat)
                {
                    score *= 0.5;
                    extra = Some("the name is popular in the other registry");
                }
                if class.is_one_edit() {
                    nearest = Some(nearest.map_or(score, |n: f32| n.max(score)));
                }
                if score >= REPORT_AT {
                    let note = match extra {
                        Some(x) => format!("{note}; {x}"),
                        None => note.to_owned(),
                    };
                    out.push(NameMatch {
                        target: t.name.clone(),
                        target_ecosystem: eco,
                        class,
                        score,
                        target_rank: Some(t.rank),
                        target_downloads: t.downloads,
                        note: note_for(own, t, &note),
                    });
                }
            }
        }
        // The nearest neighbour explains a name best: when a popular name is
        // one edit away, a two-edit match elsewhere (`talkback` is one edit
        // from `walk-back`, two from `stackback`) scores no higher than it.
        // Unreported one-edit matches (below `REPORT_AT`) count too: a weak
        // nearest neighbour still explains the name better than a far one.
        if let Some(cap) = nearest {
            for m in &mut out {
                if m.class == MatchClass::EditDistance2 && m.score > cap {
                    m.score = cap;
                    m.note
                        .push_str("; capped at the score of a nearer (one-edit) neighbour");
                }
            }
        }
        // Same name as a popular package of the other registry: reported at a
        // score that never flags on its own (see `cross::judge`).
        if let Some((other, tname, rank)) = twin {
            out.push(NameMatch {
                target: tname,
                target_ecosystem: other,
                class: MatchClass::CrossRegistry,
                score: MatchClass::CrossRegistry.base_score(),
                target_rank: Some(rank),
                target_downloads: None,
                note: "same name as a popular package of the other registry; judge on provenance"
                    .into(),
            });
        }
        // Keep the best match per (target, class family) and sort.
        out.sort_by(|a, b| {
            b.score
                .total_cmp(&a.score)
                .then(a.target_rank.unwrap_or(0).cmp(&b.target_rank.unwrap_or(0)))
        });
        let mut seen: Vec<(String, Ecosystem)> = Vec::new();
        out.retain(|m| {
            let k = (m.target.clone(), m.target_ecosystem);
            if seen.contains(&k) {
                false
            } else {
                seen.push(k);
                true
            }
        });
        out.truncate(5);
        out
    }

    /// Score one raw match; see the crate docs for the formula. Returns the
    /// score and, when a false-positive control fired, a note saying which.
    fn score(
        &self,
        eco: Ecosystem,
        class: MatchClass,
        t: &Entry,
        total: usize,
        own: Option<&Entry>,
        cand: &Cand,
    ) -> (f32, Option<&'static str>) {
        let mut note = None;
        let mut base = class.base_score();
        // npm has refused names that differ from an existing one only in
        // punctuation since 2017, so a live npm separator variant is an old,
        // established project rather than a fresh imitation.
        if eco == Ecosystem::Npm && class == MatchClass::Separator {
            base = 0.4;
            note = Some("npm refuses new punctuation-only variants, so this one is old");
        }
        // A scoped candidate is published by its scope's owner, and people
        // type scopes on purpose: `@org/lodash` or `@react-input/mask` next
        // to `react-input-mask` are ordinary. The attack is the other way
        // round (`azure-storage-blob` for `@azure/storage-blob`) or a typo
        // in the scope itself (`@bable/core`), which keep their weight.
        if class == MatchClass::ScopeConfusion && cand.scope.is_some() && t.scope.is_none() {
            base = 0.4;
            note = Some("a scope's owner chose this name on purpose");
        }
        // `types-<name>` is typeshed's naming convention for stub packages
        // on PyPI, a large honest family; report it without flagging.
        if class == MatchClass::Combosquat
            && eco == Ecosystem::PyPI
            && cand.words.first().is_some_and(|w| w == "types")
        {
            base = 0.4;
            note = Some("`types-` is typeshed's stub-package naming convention");
        }
        // `<host>-plugin` is how npm plugin ecosystems name themselves
        // (`eslint-plugin`, `rollup-plugin`); report it without flagging.
        // Typos of a plugin's own name (`eslintplugnnvue`) are judged
        // against that plugin.
        if class == MatchClass::Combosquat
            && cand.words.len() == t.words.len() + 1
            && cand.words.starts_with(&t.words)
            && cand
                .words
                .last()
                .is_some_and(|w| w == "plugin" || w == "plugins")
        {
            base = 0.4;
            note = Some("`<name>-plugin` is the plugin-ecosystem naming convention");
        }
        // A *separated* major-version word added to a popular name
        // (`mongoose-4`, `react-spring-v7`) mimics a release line, a common
        // attacker pattern; honest successors glue the digit (`inquirer2`,
        // `htmlparser2`). It keeps the gentle popularity slope.
        let version_word = class == MatchClass::VersionDigits
            && cand.scope.is_none()
            && cand.words.len() >= 2
            && cand.words.last().is_some_and(|w| {
                let d = w.strip_prefix('v').unwrap_or(w);
                !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit())
            })
            && !t.flat.ends_with(|c: char| c.is_ascii_digit());
        let steep =
            !version_word && matches!(class, MatchClass::WordOrder | MatchClass::VersionDigits);
        let mut s = base * len_factor(class, t.flat.len()) * pop_factor(t.rank, total, steep);
        // Set when a word-level control below has already weighed the name.
        let mut word_fired = false;
        // Distance 2 is meaningful only when the name is long: scale by how
        // much of the name survives.
        if class == MatchClass::EditDistance2 {
            let l = t.flat.len().max(cand.flat.len()) as f32;
            s *= (1.0 - 2.0 / l).clamp(0.0, 1.0).powf(0.5);
        }
        // Dropping a version digit (`htmlparser` for `htmlparser2`) usually
        // names the older project the digit was added to distinguish from.
        if class == MatchClass::VersionDigits && cand.flat.len() < t.flat.len() {
            s *= 0.6;
            note = Some("the candidate is the undigited (usually older) name");
        }
        // The same inside a name: `es-set` for `es6-set`, `bumpversion` for
        // `bump2version` — a dropped digit is rarely a slip of the finger.
        if class == MatchClass::Omission && dropped_digit(&cand.flat, &t.flat) {
            s *= 0.6;
            note = Some("the candidate lacks a digit of the target (usually the older name)");
        }
        // A typo makes a non-word; when every changed word is a common word
        // of package names (`path-parser` vs `path-parse`), it is more likely
        // a different project.
        if matches!(
            class,
            MatchClass::Omission
                | MatchClass::Repetition
                | MatchClass::Insertion
                | MatchClass::Transposition
                | MatchClass::KeyboardSubstitution
                | MatchClass::Substitution
                | MatchClass::EditDistance2
        ) {
            let changed: Vec<&String> =
                cand.words.iter().filter(|w| !t.words.contains(w)).collect();
            if !changed.is_empty()
                && changed.iter().all(|w| {
                    let w = w.trim_matches(|c: char| c.is_ascii_digit());
                    w.len() >= 3 && self.vocab.contains(w)
                })
            {
                s *= VOCAB_FACTOR;
                word_fired = true;
                note = Some("every changed word is a common package-name word");
            } else if eco == Ecosystem::Npm
                && class != MatchClass::EditDistance2
                && !changed.is_empty()
                && changed.iter().all(|w| self.wordlike(w))
            {
                // npm holds ~3 million names for our 20,000 popular ones, so
                // a real word one key from a popular name is usually someone
                // else's project (`talkback`/`walk-back`), whereas typos make
                // non-words. Two edits are left alone: random pairs of edits
                // land on words too often (`debugdogs`).
                s *= NPM_WORDLIKE_FACTOR;
                word_fired = true;
                note = Some("the changed word reads as an ordinary word or word pair");
            }
        }
        // Look-alike characters that spell another word (`is-uri` next to
        // `is-url`) are the same case as the typo classes above.
        if eco == Ecosystem::Npm && class == MatchClass::Homoglyph {
            let changed: Vec<&String> =
                cand.words.iter().filter(|w| !t.words.contains(w)).collect();
            if !changed.is_empty() && changed.iter().all(|w| self.wordlike(w)) {
                s *= NPM_WORDLIKE_FACTOR;
                word_fired = true;
                note = Some("the changed word reads as an ordinary word or word pair");
            }
        }
        // npm: one established word swapped for another of the same length,
        // seen through either name's word boundaries: `ts-promise` for
        // `is-promise`, `os-utils` for `esutils`, `is-uri` for `isurl`.
        // npm names package families by short qualifiers (`is-`, `es-`,
        // `ts-`, `js-`) and ordinary words, and a qualifier swap names a
        // sibling package; typos make non-words (`zs-sha3`, `buffer-xop`).
        if eco == Ecosystem::Npm
            && !word_fired
            && matches!(
                class,
                MatchClass::Substitution
                    | MatchClass::KeyboardSubstitution
                    | MatchClass::Homoglyph
                    | MatchClass::Transposition
            )
            && self.sibling_swap(cand, t)
        {
            s *= VOCAB_FACTOR;
            note = Some("one established word swapped for another (a sibling package)");
        }
        // The candidate is derived from the target's name in a way projects
        // name themselves, not the way fingers slip: the glued successor
        // digit (`punycode2` after `punycode`, as `htmlparser2`,
        // `inquirer2`), the bare organisation of a scoped target
        // (`storyblok` for `@storyblok/js`), or the target's base name
        // without its last word (`eslint-plugin` for `eslint-plugin-n`).
        if eco == Ecosystem::Npm
            && let Some(why) = derived_name(class, cand, t)
        {
            s *= DERIVED_NAME_FACTOR;
            note = Some(why);
        }
        // npm: a scoped name is chosen by its scope's owner; near an
        // *unscoped* popular name (`@xstyled/system` by `styled-system`) it
        // is that owner's own project. Attacks go the other way round
        // (`azure-storage-blob` for `@azure/storage-blob`) or typo the scope.
        if eco == Ecosystem::Npm
            && cand.scope.is_some()
            && t.scope.is_none()
            && class != MatchClass::ScopeConfusion
        {
            s *= 0.5;
            note = Some("a scope's owner chose this name on purpose");
        }
        // npm: reordered dictionary words (`path-normalize` for
        // `normalize-path`) are a natural way to name another project.
        if eco == Ecosystem::Npm
            && class == MatchClass::WordOrder
            && cand.words.iter().all(|w| self.is_word(w))
        {
            s *= NPM_WORDLIKE_FACTOR;
            note = Some("reordered ordinary words");
        }
        // npm: dropping the target's language marker (`string` for
        // `string-ts`, `retry-promise` for `ts-retry-promise`) names the
        // generic project the marked port was named after.
        // An unscoped copy of a scoped name (`solana-web3` for
        // `@solana/web3.js`) is the attack direction and keeps its weight.
        if eco == Ecosystem::Npm
            && class == MatchClass::LanguageAffix
            && t.scope.is_none()
            && cand.flat.len() < t.flat.len()
        {
            s *= NPM_WORDLIKE_FACTOR;
            note = Some("the candidate drops the target's language marker");
        }
        // npm: one language marker swapped for another (`ts-levenshtein`
        // for `js-levenshtein`) names the port to the other language, the
        // same sibling relation as a swapped qualifier.
        if eco == Ecosystem::Npm && class == MatchClass::LanguageAffix {
            fn langs(ws: &[String]) -> Vec<&str> {
                ws.iter()
                    .filter(|w| norm::is_lang(w))
                    .map(String::as_str)
                    .collect()
            }
            let (cl, tl) = (langs(&cand.words), langs(&t.words));
            if !cl.is_empty() && !tl.is_empty() && cl.iter().all(|w| !tl.contains(w)) {
                s *= VOCAB_FACTOR;
                note = Some("one language marker swapped for another (a port)");
            }
        }
        // Both names established: the candidate is itself a popular package,
        // a known project rather than a fresh imitation. Popularity asymmetry
        // only softens this a little.
        if let Some(o) = own {
            let ratio = (o.rank.max(1) as f32) / (t.rank.max(1) as f32);
            s *= if ratio > 1000.0 { 0.45 } else { 0.3 };
        }
        (s.clamp(0.0, 1.0), note)
    }

    /// An established word of package names: a two-character qualifier of
    /// many popular names, a word of at least two popular names (3+
    /// characters) or a dictionary word of 5+ letters (4-letter words are
    /// too often a typo of a short name: `gull` for `gulp`).
    fn established(&self, w: &str) -> bool {
        match w.len() {
            0 | 1 => false,
            2 => self.qualifiers.contains(w),
            n => self.vocab.contains(w) || (n >= 5 && dictionary().contains(w)),
        }
    }

    /// One established word swapped for another ([`Engine::established`])
    /// between two flat forms of equal length: the differing stretch,
    /// widened to either name's word boundaries (`os-utils` / `esutils` →
    /// `os` / `es`) or to a split of the glued name into established words
    /// (`jsurl` / `jsuri` → `js`+`url` / `js`+`uri`), is a word on both sides.
    fn sibling_swap(&self, cand: &Cand, t: &Entry) -> bool {
        if swapped_segment(&cand.name, &cand.flat, &t.name, &t.flat)
            .is_some_and(|(a, b)| self.established(a) && self.established(b))
        {
            return true;
        }
        let (a, b) = (cand.flat.as_str(), t.flat.as_str());
        let n = a.len();
        // Long names are never short words glued; bound the quadratic work.
        if n != b.len() || n > 40 {
            return false;
        }
        let (ab, bb) = (a.as_bytes(), b.as_bytes());
        let Some(first) = ab.iter().zip(bb).position(|(x, y)| x != y) else {
            return false;
        };
        let Some(from_end) = ab
            .iter()
            .rev()
            .zip(bb.iter().rev())
            .position(|(x, y)| x != y)
        else {
            return false;
        };
        let last = n - 1 - from_end;
        // Words of the split are 2..=16 characters (the dictionary stops at
        // 12); the bound keeps the look-ups few.
        let word = |s: &str, i: usize, j: usize| {
            (2..=16).contains(&(j - i)) && s.get(i..j).is_some_and(|w| self.established(w))
        };
        // Both names agree outside `first..=last`, so one split serves both:
        // `pre[i]`: `a[..i]` splits into established words; `suf[j]`: `a[j..]`.
        let mut pre = [false; 41];
        let mut suf = [false; 41];
        pre[0] = true;
        suf[n] = true;
        for i in 2..=first {
            let ok = (i.saturating_sub(16)..i - 1).any(|k| pre[k] && word(a, k, i));
            pre[i] = ok;
        }
        for j in (last + 1..n).rev() {
            let ok = (j + 2..=n.min(j + 16)).any(|k| suf[k] && word(a, j, k));
            suf[j] = ok;
        }
        (first.saturating_sub(16)..=first)
            .filter(|&i| pre[i])
            .any(|i| {
                (last + 1..=n.min(i + 16))
                    .filter(|&j| suf[j])
                    .any(|j| word(a, i, j) && word(b, i, j))
            })
    }

    /// A dictionary word (4+ letters) or a word of at least two popular
    /// package names (3+ letters); surrounding digits ignored.
    fn is_word(&self, w: &str) -> bool {
        let w = w.trim_matches(|c: char| c.is_ascii_digit());
        (w.len() >= 4 && dictionary().contains(w)) || (w.len() >= 3 && self.vocab.contains(w))
    }

    /// A word of 5+ letters (a typo of a short name lands on a 4-letter
    /// dictionary word too often), a popular-name word, or two
    /// [`Engine::is_word`]s glued (`eventlistener`).
    fn wordlike(&self, w: &str) -> bool {
        let w = w.trim_matches(|c: char| c.is_ascii_digit());
        (self.is_word(w) && (w.len() >= 5 || self.vocab.contains(w)))
            || ((6..=40).contains(&w.len())
                && (3..=w.len() - 3).any(|i| {
                    matches!((w.get(..i), w.get(i..)), (Some(a), Some(b))
                        if self.is_word(a) && self.is_word(b))
                }))
    }

    /// [`Engine::check`] over many names, on every available core. Results
    /// are in input order.
    #[must_use]
    pub fn check_many(&self, names: &[PackageName]) -> Vec<Vec<NameMatch>> {
        let threads = std::thread::available_parallelism()
            .map_or(1, usize::from)
            .max(1);
        if threads == 1 || names.len() < 256 {
            return names.iter().map(|n| self.check(n)).collect();
        }
        let chunk = names.len().div_ceil(threads);
        std::thread::scope(|s| {
            let handles: Vec<_> = names
                .chunks(chunk)
                .map(|part| s.spawn(move || part.iter().map(|n| self.check(n)).collect::<Vec<_>>()))
                .collect();
            handles
                .into_iter()
                .flat_map(|h| h.join().unwrap_or_default())
                .collect()
        })
    }

    /// The verdict for `name` (shorthand for `verdict_of(&self.check(name))`).
    #[must_use]
    pub fn verdict(&self, name: &PackageName) -> NameVerdict {
        verdict_of(&self.check(name))
    }

    fn check_private(
        &self,
        cand: &Cand,
        corpus: &Corpus,
        eco: Ecosystem,
        out: &mut Vec<NameMatch>,
    ) {
        let mut push = |target: String, class: MatchClass, score: f32, note: String| {
            out.push(NameMatch {
                target,
                target_ecosystem: eco,
                class,
                score,
                target_rank: None,
                target_downloads: None,
                note,
            });
        };
        if corpus.by_name.contains_key(&cand.name) {
            push(
                cand.name.clone(),
                MatchClass::PrivateName,
                1.0,
                "a public package carries an internal name".into(),
            );
        } else {
            let mut raw = Vec::new();
            collect(corpus, cand, &mut raw);
            for (id, class, _) in raw {
                let Some(t) = corpus.get(id) else { continue };
                // Edit distance 2 on private names is too loose for a
                // finding that fires whatever the popularity.
                if class == MatchClass::EditDistance2 && t.flat.len() < 10 {
                    continue;
                }
                push(
                    t.name.clone(),
                    MatchClass::PrivateConfusable,
                    MatchClass::PrivateConfusable.base_score(),
                    format!("confusable with internal name ({})", class.as_str()),
                );
            }
        }
        for p in self.private.prefixes_for(eco) {
            if cand.flat.starts_with(&norm::flat(p)) && cand.flat.len() > norm::flat(p).len() {
                push(
                    p.clone(),
                    MatchClass::PrivateConfusable,
                    0.85,
                    "public package under an internal name prefix".into(),
                );
            }
        }
        if eco == Ecosystem::Npm {
            for s in self.private.scopes() {
                match cand.scope.as_deref() {
                    Some(cs) if cs == s => push(
                        format!("@{s}"),
                        MatchClass::PrivateName,
                        1.0,
                        "public package in an internal npm scope".into(),
                    ),
                    Some(cs)
                        if norm::osa(cs.as_bytes(), s.as_bytes(), 1) <= 1
                            || norm::skeleton(cs) == norm::skeleton(s) =>
                    {
                        push(
                            format!("@{s}"),
                            MatchClass::PrivateConfusable,
                            0.9,
                            "scope confusable with an internal npm scope".into(),
                        );
                    }
                    None if cand.flat.starts_with(s.as_str()) && cand.flat.len() > s.len() + 2 => {
                        push(
                            format!("@{s}"),
                            MatchClass::PrivateConfusable,
                            0.8,
                            "unscoped package named after an internal npm scope".into(),
                        );
                    }
                    _ => {}
                }
            }
        }
    }

    /// Findings for `name`, for `sluice scan`: one per reported match at or
    /// above the suspicious threshold (cross-registry and private matches
    /// always reported), with codes `NAME401`..`NAME405`.
    #[must_use]
    pub fn findings_for(&self, name: &PackageName) -> Vec<Finding> {
        self.check(name)
            .into_iter()
            .filter(|m| {
                m.score >= SUSPICIOUS_AT
                    || matches!(
                        m.class,
                        MatchClass::CrossRegistry
                            | MatchClass::PrivateName
                            | MatchClass::PrivateConfusable
                    )
            })
            .map(|m| finding_for(name, &m))
            .collect()
    }
}

/// Turn one match into a finding (severity scaled by score).
#[must_use]
pub fn finding_for(name: &PackageName, m: &NameMatch) -> Finding {
    let private = matches!(
        m.class,
        MatchClass::PrivateName | MatchClass::PrivateConfusable
    );
    let severity = if m.class == MatchClass::PrivateName {
        Severity::Critical
    } else if m.score >= 0.85 {
        Severity::High
    } else if m.score >= SQUAT_AT {
        Severity::Medium
    } else if m.score >= SUSPICIOUS_AT {
        Severity::Low
    } else {
        Severity::Info
    };
    let confidence = if m.score >= 0.85 {
        Confidence::High
    } else if m.score >= SQUAT_AT {
        Confidence::Medium
    } else {
        Confidence::Low
    };
    let (rule_name, message) = match m.class {
        MatchClass::PrivateName | MatchClass::PrivateConfusable => (
            "private-name-confusion",
            format!(
                "public package `{name}` is {} internal name `{}`",
                if m.class == MatchClass::PrivateName {
                    "the"
                } else {
                    "confusable with"
                },
                m.target
            ),
        ),
        MatchClass::CrossRegistry => (
            "cross-registry-name",
            format!(
                "`{name}` has the name of popular {} package `{}`",
                m.target_ecosystem, m.target
            ),
        ),
        MatchClass::Combosquat => (
            "combosquat",
            format!(
                "`{name}` is popular package `{}` plus a generic word",
                m.target
            ),
        ),
        MatchClass::ScopeConfusion => (
            "scope-confusion",
            format!(
                "`{name}` confuses the npm scope of popular package `{}`",
                m.target
            ),
        ),
        _ => (
            "typosquat",
            format!(
                "`{name}` imitates popular package `{}` ({})",
                m.target, m.class
            ),
        ),
    };
    let code = match m.class.code() {
        "NAME402" => RuleCode::new("NAME402"),
        "NAME403" => RuleCode::new("NAME403"),
        "NAME404" => RuleCode::new("NAME404"),
        "NAME405" => RuleCode::new("NAME405"),
        _ => RuleCode::new("NAME401"),
    };
    let mut f = Finding::new(code, rule_name, severity, confidence, message)
        .evidence(format!("target: {}:{}", m.target_ecosystem, m.target))
        .evidence(format!("class: {}", m.class))
        .evidence(format!("score: {:.2}", m.score));
    if !private {
        if let Some(r) = m.target_rank {
            f = f.evidence(format!("target rank: {r}"));
        }
        if let Some(d) = m.target_downloads {
            f = f.evidence(format!("target downloads a month: {d}"));
        }
    }
    f.evidence(format!("note: {}", m.note))
}

/// The candidate's keys, computed once.
struct Cand {
    name: String,
    flat: String,
    skel: String,
    words: Vec<String>,
    scope: Option<String>,
    unscoped: String,
}

impl Cand {
    fn new(n: &PackageName) -> Self {
        let flat = norm::flat(n.as_str());
        Cand {
            name: n.as_str().to_owned(),
            skel: norm::skeleton(&flat),
            words: norm::tokens(n.as_str()),
            scope: n.scope().map(str::to_owned),
            unscoped: n.unscoped().to_owned(),
            flat,
        }
    }
}

/// Collect raw `(entry, class, note)` hits of `cand` in `c`.
fn collect(c: &Corpus, cand: &Cand, out: &mut Vec<(u32, MatchClass, &'static str)>) {
    // 1. Same flat form: separators or scope punctuation differ.
    if let Some(ids) = c.by_flat.get(&cand.flat) {
        for &id in ids {
            let Some(t) = c.get(id) else { continue };
            let class = if t.scope.is_some() != cand.scope.is_some()
                || (t.scope.is_some() && t.scope != cand.scope)
            {
                MatchClass::ScopeConfusion
            } else {
                MatchClass::Separator
            };
            out.push((id, class, "same name once separators are removed"));
        }
    }
    // 2. Same skeleton: look-alike characters.
    if let Some(ids) = c.by_skel.get(&cand.skel) {
        for &id in ids {
            // Equal flat forms are separator variants, handled above.
            if c.get(id).is_some_and(|t| t.flat != cand.flat) {
                out.push((
                    id,
                    MatchClass::Homoglyph,
                    "same name once look-alikes are folded",
                ));
            }
        }
    }
    // 3. Same words in another order.
    if cand.words.len() >= 2 {
        let mut w = cand.words.clone();
        w.sort();
        if let Some(ids) = c.by_words.get(&w.join(" ")) {
            for &id in ids {
                // Same words in the same order is a separator variant.
                if c.get(id).is_some_and(|t| t.words != cand.words) {
                    out.push((id, MatchClass::WordOrder, "same words in another order"));
                }
            }
        }
    }
    // 4. Language markers added, removed or swapped.
    let cand_core = norm::core(&cand.words);
    for key in [cand_core.as_deref(), Some(cand.flat.as_str())]
        .into_iter()
        .flatten()
    {
        if key.len() < 3 {
            continue;
        }
        if let Some(ids) = c.by_core.get(key) {
            for &id in ids {
                let Some(t) = c.get(id) else { continue };
                let twords = &t.words;
                // Neither side carries a language word: nothing was added or
                // removed (that is a separator variant at most).
                if cand_core.is_none() && norm::core(twords).is_none() {
                    continue;
                }
                let langs = |ws: &[String]| -> Vec<String> {
                    let mut v: Vec<String> =
                        ws.iter().filter(|w| norm::is_lang(w)).cloned().collect();
                    v.sort();
                    v.dedup();
                    v
                };
                let (cl, tl) = (langs(&cand.words), langs(twords));
                // Same markers on both sides: only order or separators
                // differ, which other steps report.
                if cl == tl {
                    continue;
                }
                let short = |v: &[String]| {
                    v.iter()
                        .any(|w| w.starts_with("py") && !w.starts_with("python"))
                };
                let long = |v: &[String]| v.iter().any(|w| w.starts_with("python"));
                let class = if (short(&cl) && long(&tl)) || (long(&cl) && short(&tl)) {
                    MatchClass::PyPythonSwap
                } else {
                    MatchClass::LanguageAffix
                };
                out.push((id, class, "language marker added, removed or swapped"));
            }
        }
    }
    // py <-> python glued to a word (`pythonjwt` vs `pyjwt`, `py-mysql` vs
    // `python-mysql`).
    for (from, to) in [("python", "py"), ("py", "python")] {
        if let Some(rest) = cand.flat.strip_prefix(from)
            && rest.len() >= 3
            && !(from == "py" && rest.starts_with("thon"))
        {
            let alt = format!("{to}{rest}");
            if let Some(ids) = c.by_flat.get(&alt) {
                for &id in ids {
                    out.push((id, MatchClass::PyPythonSwap, "`py` and `python` swapped"));
                }
            }
        }
    }
    // 5. Version digits added, removed or changed at the end (`react2`,
    //    `urllib`, `urllib33`, `react-v2`).
    let stem = norm::digit_stem(&cand.flat);
    if stem.len() >= 3
        && let Some(ids) = c.by_stem.get(stem)
    {
        for &id in ids {
            if c.get(id).is_some_and(|t| t.flat != cand.flat) {
                out.push((id, MatchClass::VersionDigits, "version digits differ"));
            }
        }
    }
    // 6. Popular name plus generic (or language) words.
    combos(c, cand, out);
    // 7. One or two edits (deletion-neighbourhood index, verified by OSA).
    let mut ids = Vec::new();
    c.fuzzy_ids(&cand.flat, &mut ids);
    for id in ids {
        let Some(t) = c.get(id) else { continue };
        let (a, b) = (cand.flat.as_bytes(), t.flat.as_bytes());
        if a == b {
            continue;
        }
        // Differing only in trailing digits is the version-digit step's case.
        let strip =
            |s: &[u8]| -> usize { s.iter().rev().take_while(|c| c.is_ascii_digit()).count() };
        if a.get(..a.len() - strip(a)) == b.get(..b.len() - strip(b)) {
            continue;
        }
        let max = if a.len().min(b.len()) >= 7 { 2 } else { 1 };
        let d = norm::osa(a, b, max);
        if d > max {
            continue;
        }
        let class = if d == 1 {
            match norm::classify_one(a, b) {
                Some(Edit::Omission) => MatchClass::Omission,
                Some(Edit::Repetition) => MatchClass::Repetition,
                Some(Edit::Insertion) => MatchClass::Insertion,
                Some(Edit::Transposition) => MatchClass::Transposition,
                Some(Edit::Homoglyph) => MatchClass::Homoglyph,
                Some(Edit::Keyboard) => MatchClass::KeyboardSubstitution,
                Some(Edit::Digit) => MatchClass::VersionDigits,
                Some(Edit::Substitution) | None => MatchClass::Substitution,
            }
        } else {
            MatchClass::EditDistance2
        };
        // A typo in an npm scope with the rest intact is scope confusion.
        let class = match (&cand.scope, &t.scope) {
            (Some(cs), Some(ts))
                if cs != ts && t.name.ends_with(&format!("/{}", cand.unscoped)) =>
            {
                MatchClass::ScopeConfusion
            }
            _ => class,
        };
        out.push((
            id,
            class,
            if d == 1 {
                "one edit away"
            } else {
                "two edits away"
            },
        ));
    }
    // npm: `@evil/popular-name` re-publishes a popular unscoped name in a
    // scope nobody popular owns.
    if cand.scope.is_some()
        && let Some(ids) = c.by_flat.get(&norm::flat(&cand.unscoped))
    {
        for &id in ids {
            if c.get(id)
                .is_some_and(|t| t.scope.is_none() && t.flat.len() >= 5)
            {
                out.push((
                    id,
                    MatchClass::ScopeConfusion,
                    "popular name re-published in another scope",
                ));
            }
        }
    }
}

/// Combosquats: strip generic/language words from either end (as words or
/// glued) and look the rest up exactly.
fn combos(c: &Corpus, cand: &Cand, out: &mut Vec<(u32, MatchClass, &'static str)>) {
    let words = &cand.words;
    // Word-level: drop any subset of leading/trailing generic words.
    if words.len() >= 2 {
        let mut lo = 0;
        let mut hi = words.len();
        let mut lang_only = true;
        // Try removing from the end, then from the start, greedily, checking
        // each intermediate rest.
        let mut tried: Vec<(usize, usize, bool)> = Vec::new();
        while hi > lo + 1 {
            let w = &words[hi - 1];
            if norm::is_generic(w) || norm::is_lang(w) {
                lang_only &= norm::is_lang(w);
                hi -= 1;
                tried.push((lo, hi, lang_only));
            } else {
                break;
            }
        }
        let hi_max = words.len();
        let mut lang_only2 = true;
        while lo + 1 < hi_max {
            let w = &words[lo];
            if norm::is_generic(w) || norm::is_lang(w) {
                lang_only2 &= norm::is_lang(w);
                lo += 1;
                tried.push((lo, hi_max, lang_only2));
                // Combined with the trailing removals.
                if hi < hi_max && lo < hi {
                    tried.push((lo, hi, lang_only2 && lang_only));
                }
            } else {
                break;
            }
        }
        for (a, b, lang) in tried {
            let Some(rest) = words.get(a..b) else {
                continue;
            };
            let key = rest.concat();
            if key.len() < 3 {
                continue;
            }
            if let Some(ids) = c.by_flat.get(&key) {
                let class = if lang {
                    MatchClass::LanguageAffix
                } else {
                    MatchClass::Combosquat
                };
                for &id in ids {
                    out.push((id, class, "popular name plus generic words"));
                }
            }
        }
    }
    // Glued: `requestsutils`, `nodesass`, `jqueryjs`.
    let f = cand.flat.as_str();
    for w in norm::GENERIC_WORDS.iter().chain(norm::LANG_WORDS) {
        if w.len() < 2 {
            continue;
        }
        let lang = norm::is_lang(w);
        for rest in [f.strip_suffix(w), f.strip_prefix(w)].into_iter().flatten() {
            if rest.len() < 4 {
                continue;
            }
            if let Some(ids) = c.by_flat.get(rest) {
                let class = if lang {
                    MatchClass::LanguageAffix
                } else {
                    MatchClass::Combosquat
                };
                for &id in ids {
                    out.push((id, class, "popular name plus a glued word"));
                }
            }
        }
    }
}

/// Flat-form positions where `name`'s words start and end (separators
/// removed), including 0 and the flat length.
fn word_bounds(name: &str, out: &mut Vec<usize>) {
    let mut pos = 0;
    out.push(0);
    for b in name.bytes() {
        if norm::is_sep(b) {
            out.push(pos);
        } else {
            pos += 1;
        }
    }
    out.push(pos);
}

/// For flat forms of equal length, the differing stretch widened to the
/// word boundaries of either name: `(ts, is)` for `ts-promise` /
/// `is-promise`, `(os, es)` for `os-utils` / `esutils`, `(uri, url)` for
/// `is-uri` / `isurl`. `None` for different lengths or equal forms.
fn swapped_segment<'a>(
    cname: &str,
    cflat: &'a str,
    tname: &str,
    tflat: &'a str,
) -> Option<(&'a str, &'a str)> {
    let (a, b) = (cflat.as_bytes(), tflat.as_bytes());
    if a.len() != b.len() {
        return None;
    }
    let first = a.iter().zip(b).position(|(x, y)| x != y)?;
    let from_end = a
        .iter()
        .rev()
        .zip(b.iter().rev())
        .position(|(x, y)| x != y)?;
    let last = a.len() - 1 - from_end;
    let mut bounds = Vec::with_capacity(8);
    word_bounds(cname, &mut bounds);
    word_bounds(tname, &mut bounds);
    let start = bounds.iter().copied().filter(|&x| x <= first).max()?;
    let end = bounds.iter().copied().filter(|&x| x > last).min()?;
    Some((cflat.get(start..end)?, tflat.get(start..end)?))
}

/// The ways a candidate is derived from its target as projects name
/// themselves (see [`DERIVED_NAME_FACTOR`]); the note to give, if any.
fn derived_name(class: MatchClass, cand: &Cand, t: &Entry) -> Option<&'static str> {
    // `punycode2`: one digit (2-9: a successor is never 0 or 1) glued to a
    // name that ends in none. A separated number (`react-is-17`) mimics a
    // release line and is left alone.
    if class == MatchClass::VersionDigits
        && cand.scope.is_none()
        && cand.flat.len() == t.flat.len() + 1
        && cand.flat.ends_with(|c: char| ('2'..='9').contains(&c))
        && cand.flat.starts_with(&t.flat)
        && !t.flat.ends_with(|c: char| c.is_ascii_digit())
        && cand
            .words
            .last()
            .is_some_and(|w| !w.bytes().all(|b| b.is_ascii_digit()))
    {
        return Some("a glued successor digit, as projects name their next version");
    }
    // `storyblok` for `@storyblok/js`: the organisation's own bare name.
    if cand.scope.is_none()
        && t.scope
            .as_deref()
            .is_some_and(|s| norm::flat(s) == cand.flat)
    {
        return Some("the bare name of the target's npm scope (the organisation itself)");
    }
    // `eslint-plugin` for `eslint-plugin-n`: the target minus a whole word.
    if (class.is_one_edit() || class == MatchClass::EditDistance2)
        && !cand.words.is_empty()
        && cand.words.len() < t.words.len()
        && (t.words.starts_with(&cand.words) || t.words.ends_with(&cand.words))
    {
        return Some("the target's base name without its last word");
    }
    None
}

/// `short` is `long` with one digit removed.
fn dropped_digit(short: &str, long: &str) -> bool {
    let (a, b) = (short.as_bytes(), long.as_bytes());
    if b.len() != a.len() + 1 {
        return false;
    }
    // First differing position; the rest must line up shifted by one.
    let i = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    b.get(i).is_some_and(u8::is_ascii_digit) && a.get(i..) == b.get(i + 1..)
}

/// Popularity factor: 1.0 for the top name, falling to ~0.75 for the last
/// name of the corpus (log scale); to 0.4 for the weak classes (`steep`),
/// whose honest look-alikes are common among mid-ranked names.
fn pop_factor(rank: u32, total: usize, steep: bool) -> f32 {
    if total <= 1 {
        return 1.0;
    }
    let lr = (rank.max(1) as f32).ln();
    let lt = (total as f32).ln().max(1.0);
    let k = if steep { 0.6 } else { 0.25 };
    1.0 - k * (lr / lt).min(1.0)
}

/// Length factor: short names sit in a crowd of legitimate neighbours.
fn len_factor(class: MatchClass, target_flat_len: usize) -> f32 {
    let exact_key = matches!(
        class,
        MatchClass::Separator | MatchClass::Homoglyph | MatchClass::ScopeConfusion
    );
    match target_flat_len {
        // Two characters: every other two-character string is one edit or
        // one look-alike away (`0x` and `ox`); no class means much there.
        0..=2 => 0.4,
        3 if exact_key => 0.7,
        3 => 0.4,
        4 => 0.7,
        5 => 0.85,
        6 => 0.95,
        _ => 1.0,
    }
}

fn note_for(own: Option<&Entry>, t: &Entry, what: &str) -> String {
    match own {
        Some(o) => format!(
            "{what}; both established (candidate rank {}, target rank {})",
            o.rank, t.rank
        ),
        None => format!("{what}; target rank {}", t.rank),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seg<'a>(c: &'a str, t: &'a str) -> Option<(String, String)> {
        let (cf, tf) = (norm::flat(c), norm::flat(t));
        swapped_segment(c, &cf, t, &tf).map(|(a, b)| (a.to_owned(), b.to_owned()))
    }

    #[test]
    fn swapped_segment_uses_either_names_words() {
        let s = |a: &str, b: &str| Some((a.to_owned(), b.to_owned()));
        assert_eq!(seg("ts-promise", "is-promise"), s("ts", "is"));
        assert_eq!(seg("os-utils", "esutils"), s("os", "es"));
        assert_eq!(seg("is-uri", "isurl"), s("uri", "url"));
        assert_eq!(seg("firebaseui", "@firebase/ai"), s("ui", "ai"));
        // A transposition across a word boundary takes both words.
        assert_eq!(seg("ab-cd", "ac-bd"), s("abcd", "acbd"));
        // Single words: the whole name.
        assert_eq!(seg("lodahs", "lodash"), s("lodahs", "lodash"));
        // Different lengths and equal forms have no swapped segment.
        assert_eq!(seg("lodas", "lodash"), None);
        assert_eq!(seg("lo-dash", "lodash"), None);
    }
}
