//! Mutation classes, false-positive control, private names, cross-registry
//! provenance and findings, over the shipped index and small hand-made ones.

use sluice_model::{Ecosystem, PackageName, Severity};
use sluice_names::cross::{Provenance, judge};
use sluice_names::{
    Engine, MatchClass, NameVerdict, Popular, PopularData, PrivateList, SUSPICIOUS_AT,
};

fn pypi(n: &str) -> PackageName {
    PackageName::parse(Ecosystem::PyPI, n).unwrap()
}
fn npm(n: &str) -> PackageName {
    PackageName::parse(Ecosystem::Npm, n).unwrap()
}

/// Best match of `name`, asserting its target and class and that it flags.
fn flags(e: &Engine, name: &PackageName, target: &str, class: MatchClass) {
    let m = e.check(name);
    let hit = m
        .iter()
        .find(|x| x.target == target)
        .unwrap_or_else(|| panic!("{name}: no match on {target}: {m:?}"));
    assert_eq!(hit.class, class, "{name}: {m:?}");
    assert!(
        hit.score >= SUSPICIOUS_AT,
        "{name}: score {} too low",
        hit.score
    );
    assert_ne!(e.verdict(name), NameVerdict::Ok, "{name}");
}

fn ok(e: &Engine, name: &PackageName) {
    let m = e.check(name);
    assert_eq!(e.verdict(name), NameVerdict::Ok, "{name}: {m:?}");
}

/// A tiny corpus where every rank is known.
fn small() -> Engine {
    let list = |names: &[&str], eco: Ecosystem| -> Vec<Popular> {
        names
            .iter()
            .enumerate()
            .map(|(i, n)| Popular {
                name: PackageName::parse(eco, n).unwrap().as_str().to_owned(),
                rank: u32::try_from(i + 1).unwrap(),
                downloads: None,
            })
            .collect()
    };
    Engine::from_data(&PopularData {
        pypi: list(
            &[
                "requests",
                "python-dateutil",
                "jinja2",
                "colorama",
                "colorlog",
                "pymysql",
                "htmlparser2",
                "clone-deep",
            ],
            Ecosystem::PyPI,
        ),
        npm: list(
            &[
                "lodash",
                "@babel/core",
                "react-native",
                "request",
                "@types/node",
                "express",
            ],
            Ecosystem::Npm,
        ),
    })
}

#[test]
fn omission() {
    let e = Engine::builtin();
    flags(e, &pypi("reqests"), "requests", MatchClass::Omission);
    flags(e, &pypi("ullib3"), "urllib3", MatchClass::Omission);
    flags(
        e,
        &pypi("opencv-pytho"),
        "opencv-python",
        MatchClass::Omission,
    );
    ok(e, &pypi("requests"));
}

#[test]
fn repetition() {
    let e = Engine::builtin();
    flags(e, &pypi("reequests"), "requests", MatchClass::Repetition);
    flags(e, &npm("llodash"), "lodash", MatchClass::Repetition);
    ok(e, &npm("lodash"));
}

#[test]
fn insertion() {
    let e = Engine::builtin();
    flags(e, &pypi("falask"), "flask", MatchClass::Insertion);
    // A three-letter target sits among too many honest neighbours.
    let m = small().check(&pypi("abcd"));
    assert!(m.is_empty(), "{m:?}");
}

#[test]
fn transposition() {
    let e = Engine::builtin();
    flags(e, &pypi("jijna2"), "jinja2", MatchClass::Transposition);
    flags(
        e,
        &pypi("mysql-pythno"),
        "mysql-python",
        MatchClass::Transposition,
    );
    flags(e, &npm("loadsh"), "lodash", MatchClass::Transposition);
    ok(e, &pypi("zzqxjw-unrelated"));
}

#[test]
fn keyboard_and_other_substitution() {
    let e = Engine::builtin();
    flags(
        e,
        &pypi("reqiests"),
        "requests",
        MatchClass::KeyboardSubstitution,
    );
    flags(e, &pypi("djanga"), "django", MatchClass::Substitution);
    ok(e, &pypi("django"));
}

#[test]
fn ascii_lookalikes() {
    let e = Engine::builtin();
    flags(e, &pypi("jeilyfish"), "jellyfish", MatchClass::Homoglyph);
    flags(e, &pypi("rnatplotlib"), "matplotlib", MatchClass::Homoglyph);
    flags(e, &pypi("c0lorama"), "colorama", MatchClass::Homoglyph);
    flags(e, &npm("vvebpack"), "webpack", MatchClass::Homoglyph);
    ok(e, &pypi("matplotlib"));
}

#[test]
fn separators() {
    let s = small();
    flags(
        &s,
        &pypi("pythondateutil"),
        "python-dateutil",
        MatchClass::Separator,
    );
    // PEP 503 already folds `_` and `.`: the same project, no match at all.
    assert!(s.check(&pypi("Python_DateUtil")).is_empty());
    // npm refuses punctuation-only variants since 2017: reported, not flagged.
    let m = s.check(&npm("reactnative"));
    assert_eq!(m[0].class, MatchClass::Separator);
    assert!(m[0].score < SUSPICIOUS_AT, "{m:?}");
}

#[test]
fn word_order() {
    let s = small();
    flags(
        &s,
        &pypi("dateutil-python"),
        "python-dateutil",
        MatchClass::WordOrder,
    );
    // Same words, same order, other separators: not word order.
    assert!(
        s.check(&pypi("python.dateutil"))
            .iter()
            .all(|m| m.class != MatchClass::WordOrder)
    );
}

#[test]
fn version_digits() {
    let e = Engine::builtin();
    flags(e, &pypi("requests2"), "requests", MatchClass::VersionDigits);
    flags(e, &pypi("urllib33"), "urllib3", MatchClass::VersionDigits);
    // Dropping the digit usually names the older project (`htmlparser`).
    let s = small();
    let dropped = s.check(&pypi("htmlparser"));
    let added = s.check(&pypi("htmlparser23"));
    assert_eq!(dropped[0].class, MatchClass::VersionDigits);
    assert!(dropped[0].score < added[0].score);
}

#[test]
fn language_affixes_and_py_python() {
    let e = Engine::builtin();
    flags(
        e,
        &pypi("python3-dateutil"),
        "python-dateutil",
        MatchClass::LanguageAffix,
    );
    flags(e, &npm("lodash-js"), "lodash", MatchClass::LanguageAffix);
    flags(e, &npm("node-lodash"), "lodash", MatchClass::LanguageAffix);
    flags(
        &small(),
        &pypi("python-mysql"),
        "pymysql",
        MatchClass::PyPythonSwap,
    );
    ok(e, &pypi("python-dateutil"));
}

#[test]
fn scope_confusion() {
    let e = Engine::builtin();
    flags(
        e,
        &npm("@bable/core"),
        "@babel/core",
        MatchClass::ScopeConfusion,
    );
    flags(
        e,
        &npm("azure-keyvault-keys"),
        "@azure/keyvault-keys",
        MatchClass::ScopeConfusion,
    );
    // A popular name re-published in someone's own scope is reported but
    // does not flag: the scope owner chose it, and people type scopes.
    let m = e.check(&npm("@evilcorp/lodash"));
    assert_eq!(m[0].class, MatchClass::ScopeConfusion, "{m:?}");
    assert!(m[0].score < SUSPICIOUS_AT);
    // A scope that owns popular packages publishes its own: `@types/x`.
    assert!(e.check(&npm("@types/lodash")).is_empty());
    assert!(e.check(&npm("@babel/cor")).is_empty());
}

#[test]
fn combosquats() {
    let e = Engine::builtin();
    flags(
        e,
        &pypi("requests-latest"),
        "requests",
        MatchClass::Combosquat,
    );
    flags(e, &npm("lodash-utils"), "lodash", MatchClass::Combosquat);
    flags(e, &npm("express-sdk"), "express", MatchClass::Combosquat);
    // typeshed's `types-<name>` convention is reported, not flagged.
    let s = small();
    flags(
        &s,
        &pypi("colorama-latest"),
        "colorama",
        MatchClass::Combosquat,
    );
    let m = s.check(&pypi("types-colorama"));
    assert_eq!(m[0].class, MatchClass::Combosquat, "{m:?}");
    assert!(m[0].score < SUSPICIOUS_AT);
    // Established combos are popular themselves.
    ok(e, &pypi("types-requests"));
    ok(e, &pypi("requests-toolbelt"));
}

#[test]
fn edit_distance_two() {
    let e = Engine::builtin();
    flags(
        e,
        &pypi("matplotlibbb"),
        "matplotlib",
        MatchClass::EditDistance2,
    );
    // Two edits on a short name is noise.
    let m = e.check(&pypi("flxsk"));
    assert!(
        m.iter().all(|x| x.class != MatchClass::EditDistance2),
        "{m:?}"
    );
}

#[test]
fn false_positive_control() {
    let s = small();
    // Both established: colorlog and colorama, jinja2 and (not popular) jinja.
    ok(&s, &pypi("colorlog"));
    let e = Engine::builtin();
    ok(e, &pypi("colorlog"));
    ok(e, &pypi("jinja"));
    // npm `requests` carries the name of PyPI's most popular package.
    ok(e, &npm("requests"));
    // The shipped index: popular names are never flagged.
    for n in ["numpy", "pandas", "boto3", "urllib3", "six"] {
        ok(e, &pypi(n));
    }
    for n in ["react", "react-dom", "debug", "semver", "chalk"] {
        ok(e, &npm(n));
    }
}

#[test]
fn private_names() {
    let list = PrivateList::parse("acme-billing\nprefix:acmecorp-\nscope:@acme\n").unwrap();
    let e = Engine::from_data(&Engine::builtin_data().unwrap()).with_private(list);
    let m = e.check(&pypi("acme-billing"));
    assert_eq!(m[0].class, MatchClass::PrivateName);
    assert!((m[0].score - 1.0).abs() < 1e-6);
    let m = e.check(&pypi("acme-biling"));
    assert_eq!(m[0].class, MatchClass::PrivateConfusable, "{m:?}");
    let m = e.check(&pypi("acme_billing"));
    assert_eq!(m[0].class, MatchClass::PrivateName);
    let m = e.check(&npm("acmecorp-tools"));
    assert_eq!(m[0].class, MatchClass::PrivateConfusable);
    let m = e.check(&npm("@acme/ui-kit"));
    assert_eq!(m[0].class, MatchClass::PrivateName);
    let m = e.check(&npm("@acrne/ui-kit"));
    assert_eq!(m[0].class, MatchClass::PrivateConfusable, "{m:?}");
    // Unrelated names are untouched by the private list.
    assert!(
        e.check(&pypi("flask"))
            .iter()
            .all(|x| x.class != MatchClass::PrivateName && x.class != MatchClass::PrivateConfusable)
    );
    let f = e.findings_for(&pypi("acme-billing"));
    assert_eq!(f[0].rule.as_str(), "NAME402");
    assert_eq!(f[0].severity, Severity::Critical);
}

#[test]
fn cross_registry_provenance() {
    let e = Engine::builtin();
    let name = pypi("botframework-streaming");
    // The name alone never condemns: reported, not flagged.
    let m = e.check(&name);
    assert!(m.iter().any(|x| x.class == MatchClass::CrossRegistry));
    assert_eq!(e.verdict(&name), NameVerdict::Ok);
    // The real one today: same org, same repo, same version numbers.
    let legit = Provenance {
        same_version_as_other: Some(true),
        repository_matches_other: Some(true),
        author_matches_other: Some(true),
        first_upload_days_ago: Some(1500),
        release_count: Some(40),
    };
    assert_eq!(judge(e, &name, &legit).unwrap().verdict, NameVerdict::Ok);
    // The 2021 squat: copied the npm version, other author, no repo, new.
    let squat = Provenance {
        same_version_as_other: Some(true),
        repository_matches_other: Some(false),
        author_matches_other: Some(false),
        first_upload_days_ago: Some(2),
        release_count: Some(1),
    };
    let j = judge(e, &name, &squat).unwrap();
    assert_eq!(j.verdict, NameVerdict::Squat, "{j:?}");
    assert_eq!(j.matched.target_ecosystem, Ecosystem::Npm);
    // No twin, no judgement.
    assert!(judge(e, &pypi("zzqxjw-unrelated"), &squat).is_none());
}

#[test]
fn findings_carry_code_and_evidence() {
    let e = Engine::builtin();
    let f = e.findings_for(&pypi("reqeusts"));
    let first = &f[0];
    assert_eq!(first.rule.as_str(), "NAME401");
    assert!(first.severity >= Severity::Medium);
    let ev = first.evidence.join("\n");
    assert!(ev.contains("target: pypi:requests"), "{ev}");
    assert!(ev.contains("class: transposition"), "{ev}");
    assert!(ev.contains("score: "), "{ev}");
    assert!(ev.contains("target rank: "), "{ev}");
    let f = e.findings_for(&pypi("requests-latest"));
    assert_eq!(f[0].rule.as_str(), "NAME404");
    let f = e.findings_for(&pypi("botframework-streaming"));
    assert_eq!(f[0].rule.as_str(), "NAME403");
    assert_eq!(f[0].severity, Severity::Info);
    assert!(e.findings_for(&pypi("numpy")).is_empty());
}

#[test]
fn check_many_matches_check() {
    let e = Engine::builtin();
    let names: Vec<PackageName> = (0..600)
        .map(|i| pypi(&format!("reqests{}", i % 7)))
        .collect();
    let many = e.check_many(&names);
    assert_eq!(many.len(), names.len());
    for (n, m) in names.iter().zip(&many) {
        assert_eq!(&e.check(n), m);
    }
}

#[test]
fn hostile_but_valid_names_do_not_panic() {
    let e = Engine::builtin();
    let mut names = vec![
        "a".repeat(214),
        "ab".repeat(107),
        "a-".repeat(106) + "ab",
        "1".repeat(30),
        "x".to_owned(),
        "0o0o0o0o".to_owned(),
        "rnrnrnrnrn".to_owned(),
        "vvvvvvvv".to_owned(),
        "py".to_owned(),
        "python".to_owned(),
        "python-py-js-node".to_owned(),
        "utils-dev-latest".to_owned(),
        "a.b_c-d.e_f-g.h".to_owned(),
    ];
    names.push("request".repeat(30));
    for n in &names {
        for eco in [Ecosystem::PyPI, Ecosystem::Npm] {
            if let Ok(p) = PackageName::parse(eco, n) {
                let m = e.check(&p);
                assert!(m.len() <= 5);
                assert!(m.iter().all(|x| (0.0..=1.0).contains(&x.score)));
                let _ = e.findings_for(&p);
            }
        }
    }
    for n in [
        "@a/b",
        "@x/-",
        "@aaaaaaaaaaaaaaaaaaaa/bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
        "@types/x",
    ] {
        if let Ok(p) = PackageName::parse(Ecosystem::Npm, n) {
            let _ = e.check(&p);
        }
    }
    // Invalid names never reach the engine: the model rejects them.
    for bad in ["", "a b", "ünï", "-a", &"a".repeat(215)] {
        assert!(PackageName::parse(Ecosystem::PyPI, bad).is_err());
    }
}

#[test]
fn preferred_falls_back_to_builtin() {
    // No user index in the test environment's data dir: same names as builtin.
    let p = Engine::preferred();
    assert!(p.sizes().0 > 10_000 && p.sizes().1 > 10_000);
}

/// npm controls for names that read as independent projects: an ordinary
/// word or word pair one edit from a popular name, reordered ordinary words,
/// a dropped language marker, a scope owner's own name. Typos that make
/// non-words still flag.
#[test]
fn npm_independent_names() {
    let e = Engine::builtin();
    // A dictionary word one key from `chalk`; the non-word slip still flags.
    ok(e, &npm("chalky"));
    flags(e, &npm("chalkk"), "chalk", MatchClass::Repetition);
    // A 4-letter word is too easily a typo of a short name: still flagged.
    assert_ne!(
        e.verdict(&npm("gull")),
        NameVerdict::Ok,
        "{:?}",
        e.check(&npm("gull"))
    );
    // Two words glued (`source` + `maps`) next to `source-map`.
    ok(e, &npm("sourcemaps"));
    flags(e, &npm("sourcemapp"), "source-map", MatchClass::Repetition);
    // Reordered ordinary words.
    ok(e, &npm("loader-style"));
    // Dropping the `ts-` of `ts-toolbelt` names the generic project.
    ok(e, &npm("toolbelt"));
    // A scope owner's package near an unscoped popular name.
    ok(e, &npm("@someone/expresss"));
    flags(e, &npm("expresss"), "express", MatchClass::Repetition);
    // The same rules do not apply to PyPI, whose list covers its registry
    // far more densely.
    assert_ne!(e.verdict(&pypi("requestss")), NameVerdict::Ok);
}

/// A separated major-version word (`-1`, `-v7`) added to a popular name keeps
/// the gentle popularity slope; a glued successor digit stays weak.
#[test]
fn separated_version_word() {
    let e = Engine::builtin();
    let score = |n: &str| {
        e.check(&npm(n))
            .iter()
            .find(|m| m.target == "font-awesome")
            .map(|m| (m.class, m.score))
    };
    let (class, sep) = score("fontawesome-1").unwrap();
    assert_eq!(class, MatchClass::VersionDigits);
    assert!(sep >= SUSPICIOUS_AT, "{sep}");
    let (_, glued) = score("fontawesome1").unwrap();
    assert!(glued < sep, "{glued} vs {sep}");
}

/// A two-edit match never outscores the name's nearest (one-edit) neighbour.
#[test]
fn nearest_neighbour_caps_two_edits() {
    let e = Engine::builtin();
    for n in ["talkback", "chalky", "expresss"] {
        let m = e.check(&npm(n));
        let one = m
            .iter()
            .filter(|x| x.class.is_one_edit())
            .map(|x| x.score)
            .fold(0.0f32, f32::max);
        if one > 0.0 {
            for x in m.iter().filter(|x| x.class == MatchClass::EditDistance2) {
                assert!(x.score <= one, "{n}: {m:?}");
            }
        }
    }
    ok(e, &npm("talkback"));
}

/// A dropped digit (`d-array` for `d3-array`) weighs less than a dropped
/// letter of the same name.
#[test]
fn dropped_digit_weighs_less() {
    let e = Engine::builtin();
    let score = |n: &str| {
        e.check(&npm(n))
            .iter()
            .find(|m| m.target == "d3-array" && m.class == MatchClass::Omission)
            .map(|m| m.score)
            .unwrap_or_else(|| panic!("{n}: no omission of d3-array"))
    };
    assert!(score("d-array") < score("d3-aray") * 0.7);
}

/// Two-character names: every look-alike is some other short name.
#[test]
fn two_character_targets_do_not_flag() {
    let e = Engine::builtin();
    ok(e, &npm("0s"));
    ok(e, &pypi("1p"));
    // Still reported, below the suspicious line.
    assert!(e.check(&npm("0s")).iter().any(|m| m.target == "os"));
}

/// npm: one established word or short qualifier swapped for another, seen
/// through either name's word boundaries, names a sibling package; a swap
/// to a non-word is still a typo.
#[test]
fn npm_sibling_qualifier_swap() {
    let e = Engine::builtin();
    // `ip-` for `is-`, `os-` for the glued `es` of `esutils`, `uri` for
    // the `url` of `isurl`.
    ok(e, &npm("ip-bigint"));
    ok(e, &npm("os-utils"));
    ok(e, &npm("is-uri"));
    // The same through a split of a glued name into words: `js`+`url`.
    ok(e, &npm("jsurl"));
    // Glued typos do not split into words.
    flags(
        e,
        &npm("jsknstream"),
        "jsonstream",
        MatchClass::KeyboardSubstitution,
    );
    // Non-word qualifiers are typos of the same family.
    flags(e, &npm("zs-sha3"), "js-sha3", MatchClass::Substitution);
    flags(
        e,
        &npm("buffer-xop"),
        "buffer-xor",
        MatchClass::Substitution,
    );
    flags(e, &npm("bs-bigint"), "is-bigint", MatchClass::Substitution);
    // A 4-letter dictionary word is too easily a typo of a short name.
    assert_ne!(e.verdict(&npm("gull")), NameVerdict::Ok);
    // PyPI keeps its weights (its list covers the registry densely).
    let m = e.check(&pypi("os-utils"));
    assert!(
        m.iter()
            .all(|x| !x.note.contains("established word swapped")),
        "{m:?}"
    );
}

/// npm: a language marker swapped for another (`ts-` for `js-`) is a port;
/// a marker added to a popular name still flags.
#[test]
fn npm_language_marker_swap() {
    let e = Engine::builtin();
    ok(e, &npm("ts-levenshtein"));
    flags(
        e,
        &npm("commander-js"),
        "commander",
        MatchClass::LanguageAffix,
    );
    flags(e, &npm("winston-js"), "winston", MatchClass::LanguageAffix);
}

/// npm: names derived from the target the way projects name themselves —
/// a glued successor digit, the bare name of the target's scope, the
/// target without its last word, `<host>-plugin` — weigh less; release-line
/// numbers and letter slips keep their weight.
#[test]
fn npm_derived_names() {
    let e = Engine::builtin();
    let best = |n: &str, t: &str| {
        e.check(&npm(n))
            .into_iter()
            .find(|m| m.target == t)
            .map_or(0.0, |m| m.score)
    };
    // Successor digit vs a multi-digit or separated release number.
    assert!(best("punycode2", "punycode") < SUSPICIOUS_AT);
    assert!(best("react-is-17", "react-is") >= SUSPICIOUS_AT);
    assert!(best("debug11", "debug") >= SUSPICIOUS_AT);
    // `1` is no successor: `requests1`-style names keep their weight.
    assert!(best("punycode1", "punycode") > best("punycode2", "punycode"));
    // The organisation's bare name vs an unscoped copy of its package.
    assert!(best("storyblok", "@storyblok/js") < SUSPICIOUS_AT);
    flags(
        e,
        &npm("solana-web3"),
        "@solana/web3.js",
        MatchClass::LanguageAffix,
    );
    // The base name without the last word vs a letter dropped from it.
    assert!(best("eslint-plugin", "eslint-plugin-n") < SUSPICIOUS_AT);
    flags(
        e,
        &npm("good-listene"),
        "good-listener",
        MatchClass::Omission,
    );
    // `<host>-plugin` vs another generic word.
    assert!(best("eslint-plugin", "eslint") < SUSPICIOUS_AT);
    flags(e, &npm("eslint-tools"), "eslint", MatchClass::Combosquat);
}

/// Digits written for look-alike letters are homoglyphs; a digit for a
/// digit is not.
#[test]
fn digit_lookalikes() {
    let e = Engine::builtin();
    flags(e, &npm("mo8x"), "mobx", MatchClass::Homoglyph);
    flags(e, &pypi("r3quests"), "requests", MatchClass::Homoglyph);
    let m = e.check(&npm("bip30"));
    assert!(
        m.iter()
            .filter(|x| x.target == "bip39")
            .all(|x| x.class != MatchClass::Homoglyph),
        "{m:?}"
    );
}

/// Names of 25–40 characters are searched at distance 2 too (long plugin
/// names are common targets); three edits are not.
#[test]
fn long_names_two_edits() {
    let e = Engine::builtin();
    flags(
        e,
        &npm("babel-lugin-dynamic-i9port-node"),
        "babel-plugin-dynamic-import-node",
        MatchClass::EditDistance2,
    );
    let m = e.check(&npm("babel-lugin-dynamic-i9port-nodx"));
    assert!(
        m.iter()
            .all(|x| x.target != "babel-plugin-dynamic-import-node"),
        "{m:?}"
    );
}
