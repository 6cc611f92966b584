//! Flood clustering (the seed's 354-package flood rebuilt among ordinary
//! uploads) and the evaluation targets on names-dev.tsv.

use sluice_model::Ecosystem;
use sluice_names::Engine;
use sluice_names::campaign::{UploadEvent, cluster, read_events};

/// Deterministic xorshift, so the test is reproducible.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// One keyboard-slip style mutation: drop or swap a character.
fn mutate(rng: &mut Rng, name: &str) -> String {
    let mut b: Vec<u8> = name.bytes().collect();
    let i = 1 + rng.below(b.len().saturating_sub(2).max(1));
    if rng.below(2) == 0 && i + 1 < b.len() {
        b.swap(i, i + 1);
    } else if b.len() > 4 {
        b.remove(i);
    }
    String::from_utf8(b).unwrap()
}

fn event(name: &str, version: &str, author: &str, email: &str, t: i64, ind: &[&str]) -> String {
    serde_json::to_string(&UploadEvent {
        name: name.to_owned(),
        version: Some(version.to_owned()),
        author: Some(author.to_owned()),
        email: Some(email.to_owned()),
        time: Some(serde_json::Value::from(t)),
        indicators: ind.iter().map(|s| (*s).to_owned()).collect(),
        ecosystem: Some("pypi".into()),
    })
    .unwrap()
}

#[test]
fn seed_flood_is_one_cluster() {
    let engine = Engine::builtin();
    let data = Engine::builtin_data().unwrap();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let start = 1_627_344_000; // 2021-07-27 00:00 UTC
    let mut lines = Vec::new();
    // The flood: 354 look-alikes of popular names over three days, one
    // author and e-mail, one C2 (a documentation address here), version 1.0.0.
    let mut flood_names = std::collections::HashSet::new();
    while flood_names.len() < 354 {
        let target = &data.pypi[rng.below(2000)].name;
        let n = mutate(&mut rng, target);
        if n != *target && !n.starts_with('-') && !n.ends_with('-') {
            flood_names.insert(n);
        }
    }
    let mut flood_names: Vec<String> = flood_names.into_iter().collect();
    flood_names.sort();
    for n in &flood_names {
        let t = start + rng.below(3 * 86_400) as i64;
        lines.push(event(
            n,
            "1.0.0",
            "jackson",
            "flood@example.com",
            t,
            &["192.0.2.10"],
        ));
    }
    // Ordinary uploads: 3000 events by 1200 authors over 30 days, real
    // names and ordinary versions; some authors upload several packages,
    // some share a common CDN-like indicator with nobody else.
    for i in 0..3000 {
        let author = rng.below(1200);
        let n = &data.pypi[2000 + rng.below(10_000)].name;
        let v = format!("{}.{}.{}", rng.below(5), rng.below(20), rng.below(10));
        let t = start - 15 * 86_400 + rng.below(30 * 86_400) as i64;
        let ind = format!("198.51.100.{}", i % 250);
        let inds: Vec<&str> = if i % 10 == 0 {
            vec![ind.as_str()]
        } else {
            vec![]
        };
        lines.push(event(
            n,
            &v,
            &format!("dev{author}"),
            &format!("dev{author}@example.org"),
            t,
            &inds,
        ));
    }
    // Shuffle so the flood is interleaved with ordinary traffic.
    for i in (1..lines.len()).rev() {
        let j = rng.below(i + 1);
        lines.swap(i, j);
    }
    // Two malformed lines: reported by number, the rest still processed.
    lines.insert(7, "{not json".into());
    lines.insert(100, r#"{"name":"","version":"1"}"#.into());
    let text = lines.join("\n");
    let (events, bad) = read_events(text.as_bytes()).unwrap();
    assert_eq!(bad.len(), 2, "{bad:?}");
    assert_eq!(bad[0].line, 8);
    assert_eq!(events.len(), 354 + 3000);

    let clusters = cluster(engine, &events, Ecosystem::PyPI, 5);
    let big: Vec<_> = clusters.iter().filter(|c| c.size >= 50).collect();
    assert_eq!(
        big.len(),
        1,
        "{:?}",
        clusters.iter().map(|c| c.size).collect::<Vec<_>>()
    );
    let flood = big[0];
    assert_eq!(flood.size, 354);
    assert_eq!(clusters[0].size, 354, "the flood ranks first");
    assert!(
        flood
            .shared
            .iter()
            .any(|s| s.starts_with("email:flood@example.com"))
    );
    assert!(
        flood
            .shared
            .iter()
            .any(|s| s.starts_with("indicator:192.0.2.10"))
    );
    assert_eq!(flood.common_version.as_ref().unwrap().0, "1.0.0");
    assert!(flood.imitating > 0.8, "imitating {}", flood.imitating);
    assert!(flood.peak_per_day > 100);
    assert!(!flood.targets.is_empty());
    // Ordinary authors' small clusters imitate little and score lower.
    for c in clusters.iter().skip(1) {
        assert!(c.size < 50);
        assert!(c.score < flood.score);
    }
}

#[test]
fn time_forms() {
    let text = [
        r#"{"name":"a1","author":"x","upload_time":"2021-07-27T10:00:00Z"}"#,
        r#"{"name":"a2","author":"x","time":"2021-07-27 11:00:00"}"#,
        r#"{"name":"a3","author":"x","time":1627383600}"#,
        r#"{"name":"a4","author":"x","time":"yesterday"}"#,
    ]
    .join("\n");
    let (ev, bad) = read_events(text.as_bytes()).unwrap();
    assert_eq!(ev.len(), 3);
    assert_eq!(bad[0].line, 4);
    let c = cluster(Engine::builtin(), &ev, Ecosystem::PyPI, 2);
    assert_eq!(c.len(), 1);
    assert_eq!(c[0].peak_per_day, 3);
    assert_eq!(c[0].last.unwrap() - c[0].first.unwrap(), 3600);
}

/// The evaluation targets on the development set, when it is present.
#[test]
fn names_dev_targets() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/data/names-dev.tsv"
    );
    let Ok(f) = std::fs::File::open(path) else {
        eprintln!("note: {path} not present; skipping the evaluation test");
        return;
    };
    let rep = sluice_names::eval::evaluate(Engine::builtin(), std::io::BufReader::new(f)).unwrap();
    assert!(rep.bad_lines.is_empty(), "{:?}", rep.bad_lines);
    let pypi = &rep.by_ecosystem["pypi"];
    let npm = &rep.by_ecosystem["npm"];
    eprintln!(
        "pypi recall {:.3} fp {:.3}; npm recall {:.3} fp {:.3}",
        pypi.recall(),
        pypi.fp_rate(),
        npm.recall(),
        npm.fp_rate()
    );
    // PyPI meets the issue's targets.
    assert!(pypi.recall() >= 0.90, "pypi recall {}", pypi.recall());
    assert!(pypi.fp_rate() <= 0.02, "pypi fp {}", pypi.fp_rate());
    // npm meets the recall target but NOT the false-positive one (see
    // docs/names.md, "Evaluation"): about 30% of the npm benign rows are
    // real packages outside the 20k popular list one edit from a popular
    // name. These bounds guard the measured 90.7% / 5.3% against
    // regressions.
    assert!(npm.recall() >= 0.90, "npm recall {}", npm.recall());
    assert!(npm.fp_rate() <= 0.06, "npm fp {}", npm.fp_rate());
}
