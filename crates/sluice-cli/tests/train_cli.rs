//! `sluice train` end to end on inert fixtures: it writes a model file that
//! parses, records what it was trained on and its figures, and writes the
//! same bytes when run twice.

use std::path::{Path, PathBuf};
use std::process::Command;

use sluice_analyze::learn::{ScorerModel, Split, split_of};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn fixture(name: &str) -> PathBuf {
    repo()
        .join("crates/sluice-analyze/tests/fixtures/pypi")
        .join(name)
}

/// A `.tar.gz` sdist of a fixture folder in `dir`, under `name-1.0/`.
fn sdist(dir: &Path, src: &Path, name: &str, n: usize) {
    let file = std::fs::File::create(dir.join(format!("{name}{n}-1.0.tar.gz"))).unwrap();
    let gz = flate2::write::GzEncoder::new(file, flate2::Compression::fast());
    let mut tar = tar::Builder::new(gz);
    tar.mode(tar::HeaderMode::Deterministic);
    tar.append_dir_all(format!("{name}{n}-1.0"), src).unwrap();
    tar.into_inner().unwrap().finish().unwrap();
}

/// Cluster names in the tuning half (and one held out).
fn clusters(n: usize) -> (Vec<String>, String) {
    let mut tune = Vec::new();
    let mut hold = None;
    for i in 0.. {
        let c = format!("c{i}");
        match split_of(&c) {
            Split::Tune if tune.len() < n => tune.push(c),
            Split::Holdout if hold.is_none() => hold = Some(c),
            _ => {}
        }
        if tune.len() == n && hold.is_some() {
            break;
        }
    }
    (tune, hold.unwrap())
}

#[test]
fn train_writes_a_deterministic_model() {
    let tmp = tempfile::tempdir().unwrap();
    let mal = tmp.path().join("mal");
    let benign = tmp.path().join("benign");
    std::fs::create_dir_all(&mal).unwrap();
    std::fs::create_dir_all(&benign).unwrap();
    let bad = [
        "mysl-python",
        "pyscrapy",
        "libpeshnx",
        "jeilyfish",
        "python3-dateutil",
    ];
    let (tune, hold) = clusters(bad.len() * 2);
    let mut manifest = String::from("ecosystem\tsample_id\tpath\tcluster\ttags\n");
    for (i, c) in tune.iter().enumerate() {
        let name = bad[i % bad.len()];
        manifest.push_str(&format!(
            "pypi\t{name}\t{}\t{c}\tignored\n",
            fixture(name).display()
        ));
    }
    manifest.push_str(&format!(
        "pypi\tmysl\t{}\t{hold}\t\n",
        fixture("mysl-python").display()
    ));
    std::fs::write(mal.join("MANIFEST.tsv"), manifest).unwrap();
    for n in 0..4 {
        for name in ["cext-pkg", "gitfetch", "iconpkg"] {
            sdist(&benign, &fixture(name), name, n);
        }
    }
    let run = |out: &Path| {
        let o = Command::new(env!("CARGO_BIN_EXE_sluice"))
            .args(["train", "--malicious"])
            .arg(&mal)
            .arg("--benign")
            .arg(&benign)
            .arg("--out")
            .arg(out)
            .args(["-j", "2"])
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
        std::fs::read_to_string(out).unwrap()
    };
    let a = run(&tmp.path().join("a.json"));
    let b = run(&tmp.path().join("b.json"));
    assert_eq!(a, b, "training is not deterministic");
    let m = ScorerModel::parse(&a).unwrap();
    assert!(!m.weights.is_empty());
    assert!(m.suspicious_at <= m.malicious_at);
    assert_eq!(m.trained_on["malicious_tune_rows"], tune.len());
    assert_eq!(m.trained_on["malicious_holdout_rows"], 1);
    assert_eq!(m.trained_on["benign"]["benign_train"]["artifacts"], 12);
    assert_eq!(m.figures["malicious_holdout"]["n"], 1);
    // The held-out sample is found by the rules already; the model keeps it.
    assert_eq!(m.figures["malicious_holdout"]["model"]["malicious"], 1);
    assert_eq!(m.figures["benign_train"]["model"]["suspicious_or_worse"], 0);
}
