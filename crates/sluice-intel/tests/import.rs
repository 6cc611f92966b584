//! Import and matching end to end: the real OSV sample (when present),
//! hostile files, ZIPs, incremental updates, withdrawal and rollback.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use sluice_intel::{ImportOptions, IntelIndex, import_bytes, import_path};
use sluice_model::{Ecosystem, PackageName};
use sluice_store::Store;

fn sample_dir() -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/osv-malicious-sample");
    if p.is_dir() {
        Some(p)
    } else {
        println!("note: {} is absent; sample test skipped", p.display());
        None
    }
}

fn ids(idx: &IntelIndex, eco: Ecosystem, name: &str, version: &str) -> Vec<String> {
    let n = PackageName::parse(eco, name).unwrap();
    idx.matches(&n, version).into_iter().map(|m| m.id).collect()
}

fn record(id: &str, modified: &str, eco: &str, name: &str, extra: &str) -> String {
    format!(
        r#"{{"id":"{id}","modified":"{modified}","summary":"Malicious code in {name}","affected":[{{"package":{{"ecosystem":"{eco}","name":"{name}"}}{extra}}}]}}"#
    )
}

fn write(dir: &Path, rel: &str, body: impl AsRef<[u8]>) {
    let p = dir.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, body).unwrap();
}

#[test]
fn real_sample_imports_and_matches_by_range_and_exact_version() {
    let Some(dir) = sample_dir() else { return };
    let data = tempfile::tempdir().unwrap();
    let store = Store::open(data.path()).unwrap();
    let r = import_path(&store, &dir, ImportOptions { batch: 400 }).unwrap();
    assert!(
        r.errors.is_empty(),
        "{:?}",
        &r.errors[..r.errors.len().min(5)]
    );
    assert_eq!(r.files, 1500);
    assert_eq!(r.records, 1500);
    assert_eq!(r.new, 1500);
    assert_eq!(r.batches, 4);
    let idx = IntelIndex::load(&store).unwrap();
    assert_eq!(idx.records(), 1500);

    // Exact versions only (MAL-2024-4922 lists 1.0.0), any spelling of the name.
    assert_eq!(
        ids(&idx, Ecosystem::PyPI, "coloramah", "1.0.0"),
        ["MAL-2024-4922"]
    );
    assert_eq!(
        ids(&idx, Ecosystem::PyPI, "Coloramah", "1.0"),
        ["MAL-2024-4922"]
    );
    assert!(ids(&idx, Ecosystem::PyPI, "coloramah", "1.0.1").is_empty());
    // introduced 0: every version.
    assert_eq!(
        ids(&idx, Ecosystem::Npm, "angieslist-styles", "3.2.1"),
        ["MAL-2022-1000"]
    );
    // introduced 0, last_affected 1.23.0 (scoped name).
    let scoped = "@personio-internal/split-sdk-provider";
    assert_eq!(
        ids(&idx, Ecosystem::Npm, scoped, "1.23.0"),
        ["MAL-2022-499"]
    );
    assert_eq!(ids(&idx, Ecosystem::Npm, scoped, "0.0.1"), ["MAL-2022-499"]);
    assert!(ids(&idx, Ecosystem::Npm, scoped, "1.23.1").is_empty());
    // introduced 99.0.0 only.
    assert!(ids(&idx, Ecosystem::Npm, "@hd-base/atoms", "98.9.9").is_empty());
    assert_eq!(
        ids(&idx, Ecosystem::Npm, "@hd-base/atoms", "99.0.0"),
        ["MAL-2025-4542"]
    );
    // An unknown package matches nothing.
    assert!(ids(&idx, Ecosystem::Npm, "left-pad", "1.3.0").is_empty());

    // Idempotent: the same import again changes nothing.
    let g = store.intel_generation().unwrap();
    let again = import_path(&store, &dir, ImportOptions::default()).unwrap();
    assert_eq!((again.new, again.updated, again.unchanged), (0, 0, 1500));
    assert_eq!(store.intel_generation().unwrap(), g);
}

#[test]
fn hostile_files_are_errors_naming_the_file_and_the_rest_is_imported() {
    let src = tempfile::tempdir().unwrap();
    let d = src.path();
    write(
        d,
        "pypi/good.json",
        record(
            "MAL-1",
            "2024-01-01T00:00:00Z",
            "PyPI",
            "good-evil",
            r#","versions":["1.0"]"#,
        ),
    );
    write(
        d,
        "npm/deep/good.JSON",
        record(
            "MAL-2",
            "2024-01-01T00:00:00Z",
            "npm",
            "evil-js",
            r#","ranges":[{"type":"SEMVER","events":[{"introduced":"0"}]}]"#,
        ),
    );
    write(d, "bad/truncated.json", r#"{"id":"MAL-3","modified":"#);
    write(
        d,
        "bad/range.json",
        record(
            "MAL-4",
            "2024-01-01T00:00:00Z",
            "npm",
            "x",
            r#","ranges":[{"type":"SEMVER","events":[{"fixed":"1.0.0"}]}]"#,
        ),
    );
    write(
        d,
        "bad/types.json",
        r#"{"id":"MAL-5","modified":"2024-01-01T00:00:00Z","affected":{"package":1}}"#,
    );
    write(
        d,
        "bad/huge.json",
        record(
            "MAL-6",
            "2024-01-01T00:00:00Z",
            "PyPI",
            &"a".repeat(500_000),
            "",
        ),
    );
    write(
        d,
        "bad/deep.json",
        format!(
            r#"{{"id":"MAL-7","modified":"2024-01-01T00:00:00Z","database_specific":{}{}}}"#,
            "{\"a\":".repeat(50_000),
            "}".repeat(50_000)
        ),
    );
    write(
        d,
        "bad/utf8.json",
        b"{\"id\":\"MAL-8\xff\",\"modified\":\"2024-01-01T00:00:00Z\"}",
    );
    write(
        d,
        "bad/dupkey.json",
        r#"{"id":"MAL-9","id":"MAL-10","modified":"2024-01-01T00:00:00Z"}"#,
    );
    write(
        d,
        "bad/too-big.json",
        vec![b' '; (sluice_intel::osv::MAX_RECORD_BYTES + 10) as usize],
    );
    write(d, ".git/ignored.json", "not even json");
    write(d, "README.md", "not json, not read");

    let data = tempfile::tempdir().unwrap();
    let store = Store::open(data.path()).unwrap();
    let r = import_path(&store, d, ImportOptions { batch: 3 }).unwrap();
    assert_eq!(r.new, 2, "{r:#?}");
    assert_eq!(r.files, 10);
    let mut bad: Vec<String> = r
        .errors
        .iter()
        .map(|e| {
            Path::new(&e.file)
                .file_name()
                .unwrap()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    bad.sort();
    assert_eq!(
        bad,
        [
            "deep.json",
            "dupkey.json",
            "huge.json",
            "range.json",
            "too-big.json",
            "truncated.json",
            "types.json",
            "utf8.json"
        ]
    );
    let reason = |f: &str| {
        r.errors
            .iter()
            .find(|e| e.file.ends_with(f))
            .unwrap()
            .reason
            .clone()
    };
    assert!(
        reason("truncated.json").contains("line 1"),
        "{}",
        reason("truncated.json")
    );
    assert!(reason("range.json").contains("no `introduced`"));
    assert!(reason("deep.json").contains("recursion limit"));
    assert!(reason("dupkey.json").contains("duplicate field"));
    assert!(reason("too-big.json").contains("larger than"));
    let idx = IntelIndex::load(&store).unwrap();
    assert_eq!(ids(&idx, Ecosystem::PyPI, "good_evil", "1.0"), ["MAL-1"]);
    assert_eq!(ids(&idx, Ecosystem::Npm, "evil-js", "0.1.0"), ["MAL-2"]);
}

#[test]
fn newer_records_replace_older_and_withdrawn_stop_matching() {
    let data = tempfile::tempdir().unwrap();
    let store = Store::open(data.path()).unwrap();
    let v1 = record(
        "MAL-1",
        "2024-01-01T00:00:00Z",
        "PyPI",
        "evil",
        r#","versions":["1.0"]"#,
    );
    let r = import_bytes(&store, "v1.json", v1.as_bytes(), ImportOptions::default()).unwrap();
    assert_eq!(r.new, 1);
    // Older copy: skipped.
    let old = record(
        "MAL-1",
        "2023-01-01T00:00:00Z",
        "PyPI",
        "evil",
        r#","versions":["0.1"]"#,
    );
    let r = import_bytes(&store, "old.json", old.as_bytes(), ImportOptions::default()).unwrap();
    assert_eq!(r.unchanged, 1);
    let idx = IntelIndex::load(&store).unwrap();
    assert_eq!(ids(&idx, Ecosystem::PyPI, "evil", "1.0"), ["MAL-1"]);
    assert!(ids(&idx, Ecosystem::PyPI, "evil", "0.1").is_empty());
    // Newer: replaces (2.0 now, not 1.0).
    let v2 = record(
        "MAL-1",
        "2024-02-01T00:00:00Z",
        "PyPI",
        "evil",
        r#","versions":["2.0"]"#,
    );
    let r = import_bytes(&store, "v2.json", v2.as_bytes(), ImportOptions::default()).unwrap();
    assert_eq!(r.updated, 1);
    let idx = IntelIndex::load(&store).unwrap();
    assert!(ids(&idx, Ecosystem::PyPI, "evil", "1.0").is_empty());
    assert_eq!(ids(&idx, Ecosystem::PyPI, "evil", "2.0"), ["MAL-1"]);
    // Withdrawn: no longer matches, still shown.
    let w = v2
        .replace("2024-02-01T00:00:00Z", "2024-03-01T00:00:00Z")
        .replacen('{', r#"{"withdrawn":"2024-03-01T00:00:00Z","#, 1);
    let r = import_bytes(&store, "w.json", w.as_bytes(), ImportOptions::default()).unwrap();
    assert_eq!((r.updated, r.withdrawn), (1, 1));
    let idx = IntelIndex::load(&store).unwrap();
    assert!(ids(&idx, Ecosystem::PyPI, "evil", "2.0").is_empty());
    assert!(
        store
            .intel_record("MAL-1")
            .unwrap()
            .unwrap()
            .0
            .withdrawn
            .is_some()
    );
}

#[test]
fn zip_and_json_array_sources() {
    let mut buf = std::io::Cursor::new(Vec::new());
    {
        let mut z = zip::ZipWriter::new(&mut buf);
        let opt = zip::write::SimpleFileOptions::default();
        z.add_directory("osv/", opt).unwrap();
        z.start_file("osv/a.json", opt).unwrap();
        z.write_all(
            record(
                "MAL-A",
                "2024-01-01T00:00:00Z",
                "npm",
                "zip-evil",
                r#","versions":["1.0.0"]"#,
            )
            .as_bytes(),
        )
        .unwrap();
        z.start_file("osv/b.json", opt).unwrap();
        z.write_all(b"{broken").unwrap();
        z.start_file("osv/notes.txt", opt).unwrap();
        z.write_all(b"skipped").unwrap();
        z.finish().unwrap();
    }
    let data = tempfile::tempdir().unwrap();
    let store = Store::open(data.path()).unwrap();
    let zpath = data.path().join("all.zip");
    std::fs::write(&zpath, buf.get_ref()).unwrap();
    let r = import_path(&store, &zpath, ImportOptions::default()).unwrap();
    assert_eq!((r.files, r.new), (2, 1));
    assert_eq!(r.errors.len(), 1);
    assert!(
        r.errors[0].file.ends_with("all.zip!osv/b.json"),
        "{:?}",
        r.errors
    );
    let r = import_bytes(
        &store,
        "http://127.0.0.1:1/all.zip",
        buf.get_ref(),
        ImportOptions::default(),
    )
    .unwrap();
    assert_eq!(r.unchanged, 1);

    let arr = format!(
        "[{},{}]",
        record(
            "MAL-B",
            "2024-01-01T00:00:00Z",
            "PyPI",
            "arr-evil",
            r#","versions":["1"]"#
        ),
        r#"{"id":"bad id"}"#
    );
    let r = import_bytes(
        &store,
        "list.json",
        arr.as_bytes(),
        ImportOptions::default(),
    )
    .unwrap();
    assert_eq!(r.new, 1);
    assert_eq!(r.errors[0].file, "list.json[1]");
    // A ZIP that is not one.
    let bad = data.path().join("bad.zip");
    std::fs::write(&bad, b"PK\x03\x04garbage").unwrap();
    assert!(import_path(&store, &bad, ImportOptions::default()).is_err());
}

#[test]
fn a_failing_batch_is_rolled_back_whole() {
    let src = tempfile::tempdir().unwrap();
    for (i, id) in ["MAL-A", "MAL-FAIL", "MAL-C"].iter().enumerate() {
        write(
            src.path(),
            &format!("{i}.json"),
            record(
                id,
                "2024-01-01T00:00:00Z",
                "npm",
                &format!("pkg{i}"),
                r#","versions":["1.0.0"]"#,
            ),
        );
    }
    let data = tempfile::tempdir().unwrap();
    let store = Store::open(data.path()).unwrap();
    // A database that refuses one record mid-batch.
    rusqlite::Connection::open(data.path().join("sluice.db"))
        .unwrap()
        .execute_batch(
            "CREATE TRIGGER fail BEFORE INSERT ON intel_records WHEN NEW.id = 'MAL-FAIL'
             BEGIN SELECT RAISE(ABORT, 'refused by test'); END;",
        )
        .unwrap();
    let g = store.intel_generation().unwrap();
    let e = import_path(&store, src.path(), ImportOptions { batch: 10 }).unwrap_err();
    assert!(e.to_string().contains("refused by test"), "{e}");
    assert_eq!(
        store.intel_counts().unwrap().records,
        0,
        "nothing half-imported"
    );
    assert_eq!(store.intel_generation().unwrap(), g);
}
