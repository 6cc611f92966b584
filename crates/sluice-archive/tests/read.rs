//! Honest and evil artifacts, built in memory, read back.

mod common;

use std::io::{Cursor, Write};

use common::*;
use sluice_archive::{
    AnomalyKind, ArchiveError, ArtifactKind, FileTree, Limits, read_bytes, read_path,
};
use zip::write::SimpleFileOptions;

fn kinds(t: &FileTree) -> Vec<AnomalyKind> {
    t.anomalies.iter().map(|a| a.kind).collect()
}

fn paths(t: &FileTree) -> Vec<&str> {
    t.files.iter().map(|f| f.path.as_str()).collect()
}

/// The error, or a short panic (never a dump of the file bytes).
fn err_of(r: Result<FileTree, ArchiveError>) -> ArchiveError {
    match r {
        Ok(t) => panic!(
            "expected an error, got a tree: files {:?}, anomalies {:?}",
            paths(&t),
            t.anomalies
        ),
        Err(e) => e,
    }
}

fn ok(name: &str, bytes: &[u8]) -> FileTree {
    read_bytes(name, bytes, &Limits::default()).unwrap_or_else(|e| panic!("{name}: {e}"))
}

const SETUP: &[u8] = b"from setuptools import setup\nsetup(name='pkg')\n";

// ---------------------------------------------------------------- honest

#[test]
fn sdist_tar_gz() {
    let tar = built_tar(&[
        ("pkg-1.0/PKG-INFO", b"Metadata-Version: 2.1\nName: pkg\n"),
        ("pkg-1.0/setup.py", SETUP),
        ("pkg-1.0/pkg/__init__.py", b""),
    ]);
    let bytes = gz(&tar);
    let t = ok("pkg-1.0.tar.gz", &bytes);
    assert_eq!(t.kind, ArtifactKind::Sdist);
    assert_eq!(
        paths(&t),
        [
            "pkg-1.0/PKG-INFO",
            "pkg-1.0/setup.py",
            "pkg-1.0/pkg/__init__.py"
        ]
    );
    assert_eq!(t.get("pkg-1.0/setup.py").unwrap().data, SETUP);
    assert_eq!(t.get("pkg-1.0/setup.py").unwrap().mode, Some(0o644));
    assert!(t.anomalies.is_empty(), "{:?}", t.anomalies);
    assert_eq!(t.size, bytes.len() as u64);
    assert_eq!(t.sha256, Some(sluice_model::Sha256::of(&bytes)));
    assert_eq!(t.filename, "pkg-1.0.tar.gz");
}

#[test]
fn sdist_tar_bz2_and_plain_tar_and_zip() {
    let tar = built_tar(&[("pkg-1.0/pyproject.toml", b"[project]\nname='pkg'\n")]);
    let t = ok("pkg-1.0.tar.bz2", &bz2(&tar));
    assert_eq!(t.kind, ArtifactKind::Sdist);
    assert_eq!(paths(&t), ["pkg-1.0/pyproject.toml"]);
    let t = ok("pkg-1.0.tar", &tar);
    assert_eq!(t.kind, ArtifactKind::Sdist);
    let z = zip_of(&[("pkg-1.0/setup.py", SETUP)]);
    let t = ok("pkg-1.0.zip", &z);
    assert_eq!(t.kind, ArtifactKind::Sdist);
    assert_eq!(t.get("pkg-1.0/setup.py").unwrap().data, SETUP);
}

#[test]
fn other_tar_and_zip_kinds() {
    let tar = built_tar(&[("docs/readme.txt", b"hi")]);
    assert_eq!(ok("x.tar.gz", &gz(&tar)).kind, ArtifactKind::Tar);
    let z = zip_of(&[("docs/readme.txt", b"hi")]);
    assert_eq!(ok("x.zip", &z).kind, ArtifactKind::Zip);
    // A setup.py deep inside is not an sdist marker.
    let tar = built_tar(&[("a/b/setup.py", SETUP)]);
    assert_eq!(ok("x.tar.gz", &gz(&tar)).kind, ArtifactKind::Tar);
}

#[test]
fn wheel() {
    let z = zip_of(&[
        ("pkg/__init__.py", b"x = 1\n"),
        (
            "pkg-1.0.dist-info/METADATA",
            b"Metadata-Version: 2.1\nName: pkg\n",
        ),
        ("pkg-1.0.dist-info/RECORD", b""),
    ]);
    let t = ok("pkg-1.0-py3-none-any.whl", &z);
    assert_eq!(t.kind, ArtifactKind::Wheel);
    assert_eq!(t.files.len(), 3);
    assert_eq!(t.get("pkg/__init__.py").unwrap().data, b"x = 1\n");
    assert!(t.anomalies.is_empty(), "{:?}", t.anomalies);
    assert_eq!(t.sha256, Some(sluice_model::Sha256::of(&z)));
}

#[test]
fn npm_tgz_and_package_folder_detection() {
    let tar = built_tar(&[
        ("package/package.json", br#"{"name":"x","version":"1.0.0"}"#),
        ("package/index.js", b"module.exports = 1;\n"),
    ]);
    let bytes = gz(&tar);
    let t = ok("x-1.0.0.tgz", &bytes);
    assert_eq!(t.kind, ArtifactKind::NpmTarball);
    assert_eq!(paths(&t), ["package/package.json", "package/index.js"]);
    // Same bytes under a neutral name: recognised by `package/`.
    assert_eq!(ok("download", &bytes).kind, ArtifactKind::NpmTarball);
    assert_eq!(ok("x.tar.gz", &bytes).kind, ArtifactKind::NpmTarball);
}

#[test]
fn magic_bytes_beat_a_wrong_extension() {
    let tar = built_tar(&[("pkg-1.0/setup.py", SETUP)]);
    assert_eq!(ok("mystery.bin", &gz(&tar)).kind, ArtifactKind::Sdist);
    assert_eq!(ok("mystery.bin", &bz2(&tar)).kind, ArtifactKind::Sdist);
    assert_eq!(ok("mystery", &tar).kind, ArtifactKind::Sdist);
    // A zip named .tar.gz is read as the zip it is.
    let z = zip_of(&[("pkg-1.0/setup.py", SETUP)]);
    assert_eq!(ok("pkg-1.0.tar.gz", &z).kind, ArtifactKind::Sdist);
    assert!(matches!(
        read_bytes("notes.txt", b"hello", &Limits::default()),
        Err(ArchiveError::UnknownFormat(_))
    ));
}

#[test]
fn folder_on_disk() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("pkg-1.0");
    std::fs::create_dir_all(root.join("pkg")).unwrap();
    std::fs::write(root.join("setup.py"), SETUP).unwrap();
    std::fs::write(root.join("pkg/__init__.py"), b"y = 2\n").unwrap();
    let t = read_path(&root, &Limits::default()).unwrap();
    assert_eq!(t.kind, ArtifactKind::Folder);
    assert_eq!(t.filename, "pkg-1.0");
    assert_eq!(t.sha256, None);
    assert_eq!(t.size, (SETUP.len() + 6) as u64);
    assert_eq!(paths(&t), ["pkg/__init__.py", "setup.py"]);
    assert!(t.anomalies.is_empty());
}

#[test]
fn read_path_reads_archive_files() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("pkg-1.0.tar.gz");
    let bytes = gz(&built_tar(&[("pkg-1.0/setup.py", SETUP)]));
    std::fs::write(&p, &bytes).unwrap();
    let t = read_path(&p, &Limits::default()).unwrap();
    assert_eq!(t.filename, "pkg-1.0.tar.gz");
    assert_eq!(t.kind, ArtifactKind::Sdist);
    assert_eq!(t.size, bytes.len() as u64);
    let err = err_of(read_path(
        &dir.path().join("missing.whl"),
        &Limits::default(),
    ));
    assert!(matches!(err, ArchiveError::Io { .. }));
    assert!(!err.is_malformed_input());
    let small = Limits {
        max_archive_bytes: 10,
        ..Limits::default()
    };
    assert!(matches!(
        read_path(&p, &small),
        Err(ArchiveError::Limit {
            what: "archive size",
            ..
        })
    ));
}

// ---------------------------------------------------------------- paths

#[test]
fn tar_traversal_and_absolute_paths_are_left_out() {
    let tar = raw_tar(&[
        file(b"pkg-1.0/setup.py", SETUP),
        file(b"../../evil.py", b"import os"),
        file(b"pkg-1.0/../../evil2.py", b"import os"),
        file(b"/etc/cron.d/evil", b"* * * * * root sh"),
        file(b"C:\\Windows\\evil.dll", b"MZ"),
        file(b"..\\..\\win.py", b"x"),
        file(b"./pkg-1.0/ok.py", b"ok"),
    ]);
    for (name, bytes) in [("e.tar", tar.clone()), ("e.tar.gz", gz(&tar))] {
        let t = ok(name, &bytes);
        assert_eq!(paths(&t), ["pkg-1.0/setup.py", "pkg-1.0/ok.py"], "{name}");
        assert_eq!(
            kinds(&t),
            [
                AnomalyKind::PathTraversal,
                AnomalyKind::PathTraversal,
                AnomalyKind::AbsolutePath,
                AnomalyKind::AbsolutePath,
                AnomalyKind::PathTraversal,
            ],
            "{name}"
        );
        assert_eq!(t.anomalies[0].entry, "../../evil.py");
    }
}

#[test]
fn zip_traversal_backslash_and_absolute() {
    let mut z = zip_of(&[
        ("pkg/ok.py", b"ok"),
        ("AA/BB/evil.py", b"evil"),
        ("AA\\BB\\win.py", b"evil"),
        ("XETC/passwd", b"root"),
        ("sub\\dir\\fine.py", b"fine"),
    ]);
    patch_all(&mut z, b"AA/BB/evil.py", b"../../evil.py");
    patch_all(&mut z, b"AA\\BB\\win.py", b"..\\..\\win.py");
    patch_all(&mut z, b"XETC/passwd", b"/etc/passwd");
    let t = ok("x.whl", &z);
    assert_eq!(paths(&t), ["pkg/ok.py", "sub/dir/fine.py"]);
    assert_eq!(
        kinds(&t),
        [
            AnomalyKind::PathTraversal,
            AnomalyKind::PathTraversal,
            AnomalyKind::AbsolutePath
        ]
    );
}

#[test]
fn deep_nesting_is_left_out() {
    let deep: String = (0..70).map(|i| format!("d{i}/")).collect::<String>() + "x.py";
    let tar = built_tar(&[("pkg/ok.py", b"ok"), (deep.as_str(), b"deep")]);
    let t = ok("x.tar.gz", &gz(&tar));
    assert_eq!(paths(&t), ["pkg/ok.py"]);
    assert_eq!(kinds(&t), [AnomalyKind::TooDeep]);
    let shallow = Limits {
        max_depth: 2,
        ..Limits::default()
    };
    let z = zip_of(&[("a/b.py", b"ok"), ("a/b/c.py", b"deep")]);
    let t = read_bytes("x.zip", &z, &shallow).unwrap();
    assert_eq!(paths(&t), ["a/b.py"]);
    assert_eq!(kinds(&t), [AnomalyKind::TooDeep]);
}

#[test]
fn deep_folder_is_left_out() {
    let dir = tempfile::tempdir().unwrap();
    let deep = dir.path().join("a/b/c/d");
    std::fs::create_dir_all(&deep).unwrap();
    std::fs::write(deep.join("x.py"), b"x").unwrap();
    std::fs::write(dir.path().join("a/top.py"), b"t").unwrap();
    let limits = Limits {
        max_depth: 3,
        ..Limits::default()
    };
    let t = read_path(dir.path(), &limits).unwrap();
    assert_eq!(paths(&t), ["a/top.py"]);
    assert_eq!(kinds(&t), [AnomalyKind::TooDeep]);
    assert_eq!(t.anomalies[0].entry, "a/b/c/d");
}

#[test]
fn bad_name_encoding() {
    let tar = raw_tar(&[
        file(b"pkg/\xff\xfeevil.py", b"import os"),
        file(b"pkg/ok.py", b"ok"),
    ]);
    let t = ok("x.tar.gz", &gz(&tar));
    assert_eq!(paths(&t), ["pkg/\u{fffd}\u{fffd}evil.py", "pkg/ok.py"]);
    assert_eq!(kinds(&t), [AnomalyKind::BadNameEncoding]);
    assert_eq!(t.files[0].data, b"import os");

    let mut z = zip_of(&[("pkg/ZZevil.py", b"import os")]);
    patch_all(&mut z, b"pkg/ZZevil.py", b"pkg/\xff\xfeevil.py");
    let t = ok("x.whl", &z);
    assert_eq!(paths(&t), ["pkg/\u{fffd}\u{fffd}evil.py"]);
    assert_eq!(kinds(&t), [AnomalyKind::BadNameEncoding]);

    // Unsafe even when decoded: left out, both anomalies reported.
    let tar = raw_tar(&[file(b"../\xff.py", b"x")]);
    let t = ok("x.tar", &tar);
    assert!(t.files.is_empty());
    assert_eq!(
        kinds(&t),
        [AnomalyKind::BadNameEncoding, AnomalyKind::PathTraversal]
    );
}

// ---------------------------------------------------------------- links, duplicates, specials

#[test]
fn tar_links_are_never_followed() {
    let tar = raw_tar(&[
        file(b"pkg/ok.py", b"ok"),
        Raw {
            name: b"pkg/passwd",
            typeflag: b'2',
            data: b"",
            link: b"../../etc/passwd",
        },
        Raw {
            name: b"pkg/inner",
            typeflag: b'2',
            data: b"",
            link: b"ok.py",
        },
        Raw {
            name: b"pkg/hard",
            typeflag: b'1',
            data: b"",
            link: b"pkg/ok.py",
        },
    ]);
    let t = ok("x.tar.gz", &gz(&tar));
    assert_eq!(paths(&t), ["pkg/ok.py"]);
    assert_eq!(kinds(&t), [AnomalyKind::Link; 3]);
    assert!(t.anomalies[0].detail.contains("../../etc/passwd"));
    assert!(t.anomalies[0].detail.contains("outside"));
    assert!(t.anomalies[1].detail.contains("stays inside"));
    assert!(t.anomalies[2].detail.starts_with("hard link"));
    assert!(t.anomalies[2].detail.contains("stays inside"));
}

#[test]
fn zip_symlink_is_a_link_anomaly() {
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let opts = SimpleFileOptions::default();
    w.start_file("pkg/ok.py", opts).unwrap();
    w.write_all(b"ok").unwrap();
    w.add_symlink("pkg/evil", "/etc/shadow", opts).unwrap();
    let z = w.finish().unwrap().into_inner();
    let t = ok("x.whl", &z);
    assert_eq!(paths(&t), ["pkg/ok.py"]);
    assert_eq!(kinds(&t), [AnomalyKind::Link]);
    assert!(t.anomalies[0].detail.contains("/etc/shadow"));
    assert!(t.anomalies[0].detail.contains("outside"));
}

#[cfg(unix)]
#[test]
fn folder_symlinks_and_sockets_are_not_followed() {
    let dir = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("secret"), b"secret").unwrap();
    let root = dir.path();
    std::fs::write(root.join("ok.py"), b"ok").unwrap();
    std::os::unix::fs::symlink(outside.path().join("secret"), root.join("link-file")).unwrap();
    std::os::unix::fs::symlink(outside.path(), root.join("link-dir")).unwrap();
    let _sock = std::os::unix::net::UnixListener::bind(root.join("sock")).unwrap();
    let t = read_path(root, &Limits::default()).unwrap();
    assert_eq!(paths(&t), ["ok.py"]);
    assert_eq!(
        kinds(&t),
        [
            AnomalyKind::Link,
            AnomalyKind::Link,
            AnomalyKind::SpecialFile
        ]
    );
    assert!(
        t.anomalies
            .iter()
            .take(2)
            .all(|a| a.detail.contains("outside"))
    );
    assert!(t.files.iter().all(|f| f.data != b"secret"));
}

#[test]
fn tar_duplicates_keep_the_copy_installers_keep() {
    let tar = raw_tar(&[
        file(b"pkg/setup.py", b"benign"),
        file(b"pkg/other.py", b"o"),
        file(b"./pkg/setup.py", b"malicious"),
    ]);
    let t = ok("x.tar.gz", &gz(&tar));
    assert_eq!(paths(&t), ["pkg/setup.py", "pkg/other.py"]);
    assert_eq!(t.get("pkg/setup.py").unwrap().data, b"malicious");
    assert_eq!(kinds(&t), [AnomalyKind::DuplicateEntry]);
    assert!(t.anomalies[0].detail.contains("last"));
    assert!(t.anomalies[0].detail.contains("copies DIFFER"));
    // Honest sdists sometimes repeat a file verbatim (seen: LICENSE.txt).
    let tar = raw_tar(&[file(b"pkg/LICENSE", b"MIT"), file(b"pkg/LICENSE", b"MIT")]);
    let t = ok("x.tar.gz", &gz(&tar));
    assert_eq!(kinds(&t), [AnomalyKind::DuplicateEntry]);
    assert!(t.anomalies[0].detail.contains("copies identical"));
}

#[test]
fn zip_duplicates_are_reported() {
    let mut z = zip_of(&[("pkg/a.py", b"benign"), ("pkg/b.py", b"malicious")]);
    assert_eq!(patch_all(&mut z, b"pkg/b.py", b"pkg/a.py"), 2);
    let t = ok("x.whl", &z);
    assert_eq!(paths(&t), ["pkg/a.py"]);
    assert_eq!(t.get("pkg/a.py").unwrap().data, b"malicious");
    assert_eq!(kinds(&t), [AnomalyKind::DuplicateEntry]);
    // Same path after normalisation, different raw names.
    let t = ok("x.zip", &zip_of(&[("pkg/a.py", b"1"), ("pkg\\a.py", b"2")]));
    assert_eq!(paths(&t), ["pkg/a.py"]);
    assert_eq!(kinds(&t), [AnomalyKind::DuplicateEntry]);
}

#[test]
fn zip_local_and_central_names_disagree() {
    let mut z = zip_of(&[("pkg/good.py", b"x = 1")]);
    let l = local_headers(&z)[0];
    z[l + 30..l + 30 + 11].copy_from_slice(b"pkg/evil.py");
    let t = ok("x.whl", &z);
    assert_eq!(paths(&t), ["pkg/good.py"]);
    assert_eq!(kinds(&t), [AnomalyKind::HeaderMismatch]);
    assert!(t.anomalies[0].detail.contains("pkg/evil.py"));
}

#[test]
fn tar_special_files() {
    let tar = raw_tar(&[
        Raw {
            name: b"pkg/null",
            typeflag: b'3',
            data: b"",
            link: b"",
        },
        Raw {
            name: b"pkg/sda",
            typeflag: b'4',
            data: b"",
            link: b"",
        },
        Raw {
            name: b"pkg/pipe",
            typeflag: b'6',
            data: b"",
            link: b"",
        },
        Raw {
            name: b"pkg/dir/",
            typeflag: b'5',
            data: b"",
            link: b"",
        },
        file(b"pkg/ok.py", b"ok"),
    ]);
    let t = ok("x.tar", &tar);
    assert_eq!(paths(&t), ["pkg/ok.py"]);
    assert_eq!(kinds(&t), [AnomalyKind::SpecialFile; 3]);
}

#[test]
fn zip_special_file_mode() {
    let mut z = zip_of(&[("pkg/fifo", b""), ("pkg/ok.py", b"ok")]);
    set_zip_mode(&mut z, 0, 0o010_644);
    let t = ok("x.zip", &z);
    assert_eq!(paths(&t), ["pkg/ok.py"]);
    assert_eq!(kinds(&t), [AnomalyKind::SpecialFile]);
}

// ---------------------------------------------------------------- limits

#[test]
fn zip_bomb_is_refused_by_ratio() {
    // One entry of 200 MiB of zeros, deflated to ~200 KiB.
    let deflate = deflate_zeros(b"", 200);
    assert!(deflate.len() < 400 << 10, "{}", deflate.len());
    let z = zip_raw_deflate("bomb.bin", &deflate, 200 << 20);
    let start = std::time::Instant::now();
    let err = err_of(read_bytes("bomb.zip", &z, &Limits::default()));
    assert!(
        matches!(
            err,
            ArchiveError::Limit {
                what: "compression ratio",
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("bomb"), "{err}");
    // It stops early: far less than 200 MiB is inflated.
    assert!(start.elapsed().as_secs() < 30);
    // A tar.gz bomb: the same zeros as one tar entry. (A lower ratio only
    // to keep this debug-build test quick: gzip's CRC is slow unoptimised.)
    let header = raw_header(b"bomb.bin", b'0', 200 << 20, b"");
    let g = gzip_raw(&deflate_zeros(&header, 200));
    let limits = Limits {
        max_ratio: 40,
        ..Limits::default()
    };
    let err = err_of(read_bytes("bomb.tar.gz", &g, &limits));
    assert!(
        matches!(
            err,
            ArchiveError::Limit {
                what: "compression ratio",
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn the_same_zeros_pass_with_a_looser_ratio() {
    // The bomb test's negative: with no ratio limit the file is merely
    // truncated at the per-file limit.
    let deflate = deflate_zeros(b"", 8);
    let z = zip_raw_deflate("zeros.bin", &deflate, 8 << 20);
    let limits = Limits {
        max_ratio: u64::MAX,
        max_file_bytes: 1 << 20,
        ..Limits::default()
    };
    let t = read_bytes("zeros.zip", &z, &limits).unwrap();
    assert_eq!(t.files[0].data.len(), 1 << 20);
    assert!(t.files[0].data.iter().all(|&b| b == 0));
    assert_eq!(kinds(&t), [AnomalyKind::TruncatedFile]);
}

#[test]
fn many_small_zeros_entries_trip_the_ratio_too() {
    // 100 entries of 1 MiB of zeros each: no single file is large.
    let one = deflate_zeros(b"", 1);
    let mut crc = flate2::Crc::new();
    crc.update(&vec![0u8; 1 << 20]);
    let entries: Vec<(String, &[u8], u32, u32)> = (0..100)
        .map(|i| (format!("f{i}"), &one[..], 1 << 20, crc.sum()))
        .collect();
    // One such entry (1 MiB, within the ratio floor) reads fine.
    let t = read_bytes("x.zip", &zip_raw_entries(&entries[..1]), &Limits::default()).unwrap();
    assert_eq!(t.files.len(), 1);
    assert!(t.anomalies.is_empty(), "{:?}", t.anomalies);
    let z = zip_raw_entries(&entries);
    let err = err_of(read_bytes("x.zip", &z, &Limits::default()));
    assert!(
        matches!(
            err,
            ArchiveError::Limit {
                what: "compression ratio",
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn honest_compressible_files_under_the_floor_pass() {
    // 512 KiB of zeros compresses > 200:1 but is under the 1 MiB floor.
    let zeros = vec![0u8; 512 << 10];
    let t = ok("x.zip", &zip_of(&[("data.bin", &zeros)]));
    assert_eq!(t.files[0].data.len(), 512 << 10);
}

#[test]
fn huge_declared_size_with_few_bytes() {
    // Tar: 2 GB declared, 10 bytes present.
    let mut tar = raw_header(b"pkg/big.bin", b'0', 2 << 30, b"").to_vec();
    tar.extend_from_slice(b"0123456789");
    for (name, bytes) in [("x.tar", tar.clone()), ("x.tar.gz", gz(&tar))] {
        let start = std::time::Instant::now();
        let err = err_of(read_bytes(name, &bytes, &Limits::default()));
        assert!(matches!(err, ArchiveError::Corrupt { .. }), "{name}: {err}");
        assert!(err.to_string().contains("declares"), "{err}");
        assert!(start.elapsed().as_secs() < 5);
    }
    // Zip: 2 GB declared in both headers, a few bytes present.
    let mut z = zip_of(&[("pkg/big.bin", b"0123456789")]);
    set_zip_size(&mut z, 0, 0x8000_0000);
    let t = ok("x.zip", &z);
    assert_eq!(kinds(&t), [AnomalyKind::SizeMismatch]);
    assert_eq!(t.files[0].data, b"0123456789");
    // Stored, with the compressed size also 2 GB: the reader runs into the
    // central directory and the CRC fails.
    let mut z = zip_of_stored(&[("a", b"0123456789")]);
    set_zip_size(&mut z, 0, 0x8000_0000);
    let c = central_headers(&z)[0];
    z[c + 20..c + 24].copy_from_slice(&0x8000_0000u32.to_le_bytes());
    let err = err_of(read_bytes("x.zip", &z, &Limits::default()));
    assert!(matches!(err, ArchiveError::Corrupt { .. }), "{err}");
}

#[test]
fn huge_file_is_kept_truncated() {
    let big = vec![b'a'; 5000];
    let limits = Limits {
        max_file_bytes: 1000,
        ..Limits::default()
    };
    let tar = built_tar(&[("pkg/big.js", &big), ("pkg/small.js", b"s")]);
    let z = zip_of(&[("pkg/big.js", &big), ("pkg/small.js", b"s")]);
    for (name, bytes) in [("x.tgz", gz(&tar)), ("x.zip", z)] {
        let t = read_bytes(name, &bytes, &limits).unwrap();
        let f = t.get("pkg/big.js").unwrap();
        assert_eq!(f.data.len(), 1000, "{name}");
        assert!(f.truncated);
        assert!(!t.get("pkg/small.js").unwrap().truncated);
        assert_eq!(kinds(&t), [AnomalyKind::TruncatedFile], "{name}");
    }
    // Exactly at the limit is not truncated.
    let exact = vec![b'a'; 1000];
    let t = read_bytes("x.zip", &zip_of(&[("a", &exact)]), &limits).unwrap();
    assert!(!t.files[0].truncated);
    assert!(t.anomalies.is_empty());
}

#[test]
fn total_size_limit() {
    let data = vec![b'x'; 3000];
    let limits = Limits {
        max_total_bytes: 5000,
        ..Limits::default()
    };
    let tar = built_tar(&[("a", &data), ("b", &data)]);
    let err = err_of(read_bytes("x.tar", &tar, &limits));
    assert!(
        matches!(
            err,
            ArchiveError::Limit {
                what: "total size",
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn too_many_entries() {
    let names: Vec<String> = (0..20).map(|i| format!("pkg/f{i}.py")).collect();
    let files: Vec<(&str, &[u8])> = names.iter().map(|n| (n.as_str(), &b"x"[..])).collect();
    let limits = Limits {
        max_entries: 10,
        ..Limits::default()
    };
    for (name, bytes) in [
        ("x.tar.gz", gz(&built_tar(&files))),
        ("x.zip", zip_of(&files)),
    ] {
        let err = err_of(read_bytes(name, &bytes, &limits));
        assert!(
            matches!(
                err,
                ArchiveError::Limit {
                    what: "entry count",
                    ..
                }
            ),
            "{name}: {err}"
        );
    }
    let t = read_bytes("x.zip", &zip_of(&files[..10]), &limits).unwrap();
    assert_eq!(t.files.len(), 10);
}

#[test]
fn archive_size_limit() {
    let limits = Limits {
        max_archive_bytes: 100,
        ..Limits::default()
    };
    let err = err_of(read_bytes("x.tar", &built_tar(&[("a", b"x")]), &limits));
    assert!(
        matches!(
            err,
            ArchiveError::Limit {
                what: "archive size",
                ..
            }
        ),
        "{err}"
    );
}

// ---------------------------------------------------------------- corrupt input

#[test]
fn truncated_gzip_is_corrupt() {
    let bytes = gz(&built_tar(&[
        ("pkg-1.0/setup.py", SETUP),
        ("pkg-1.0/b", &[7u8; 4000]),
    ]));
    for cut in [bytes.len() - 1, bytes.len() - 8, bytes.len() / 2, 12, 3] {
        let err = err_of(read_bytes("x.tar.gz", &bytes[..cut], &Limits::default()));
        assert!(
            matches!(err, ArchiveError::Corrupt { .. }),
            "cut {cut}: {err}"
        );
        assert!(err.is_malformed_input());
    }
}

#[test]
fn truncated_zip_is_corrupt() {
    let z = zip_of(&[("pkg/a.py", &[b'a'; 3000]), ("pkg/b.py", b"b")]);
    for cut in [z.len() - 1, z.len() - 30, z.len() / 2, 10] {
        let err = err_of(read_bytes("x.whl", &z[..cut], &Limits::default()));
        assert!(
            matches!(err, ArchiveError::Corrupt { .. }),
            "cut {cut}: {err}"
        );
    }
}

#[test]
fn truncated_bz2_and_tar_are_corrupt() {
    let tar = built_tar(&[("pkg/a.py", &[b'a'; 3000])]);
    let b = bz2(&tar);
    let err = err_of(read_bytes(
        "x.tar.bz2",
        &b[..b.len() / 2],
        &Limits::default(),
    ));
    assert!(matches!(err, ArchiveError::Corrupt { .. }), "{err}");
    let err = err_of(read_bytes("x.tar", &tar[..1000], &Limits::default()));
    assert!(matches!(err, ArchiveError::Corrupt { .. }), "{err}");
}

#[test]
fn garbage_and_empty_inputs() {
    for name in ["x.tar.gz", "x.tgz", "x.tar.bz2", "x.zip", "x.whl", "x.tar"] {
        let err = err_of(read_bytes(name, b"", &Limits::default()));
        assert!(matches!(err, ArchiveError::Corrupt { .. }), "{name}: {err}");
        let garbage: Vec<u8> = (0..2000u32).map(|i| (i * 7 + 3) as u8).collect();
        let err = err_of(read_bytes(name, &garbage, &Limits::default()));
        assert!(matches!(err, ArchiveError::Corrupt { .. }), "{name}: {err}");
    }
    // Magic alone is not an archive.
    for bytes in [&b"\x1f\x8b"[..], b"BZh", b"PK\x03\x04"] {
        let err = err_of(read_bytes("x", bytes, &Limits::default()));
        assert!(matches!(err, ArchiveError::Corrupt { .. }), "{err}");
    }
}

#[test]
fn empty_but_valid_archives() {
    let t = ok("x.tar.gz", &gz(&raw_tar(&[])));
    assert!(t.files.is_empty());
    assert_eq!(t.kind, ArtifactKind::Tar);
    let t = ok("x.zip", &zip_of(&[]));
    assert!(t.files.is_empty());
    let t = ok("x.tgz", &gz(&built_tar(&[("package/empty.js", b"")])));
    assert_eq!(t.files[0].data.len(), 0);
}

#[test]
fn concatenated_gzip_members_are_all_read() {
    // pip (via Python's gzip) reads every member; so must we, or a second
    // member could hide files.
    let tar = built_tar(&[("pkg/a.py", b"a"), ("pkg/b.py", b"b")]);
    let split = 1024; // after the first entry's header and data blocks
    let mut bytes = gz(&tar[..split]);
    bytes.extend(gz(&tar[split..]));
    let t = ok("x.tar.gz", &bytes);
    assert_eq!(paths(&t), ["pkg/a.py", "pkg/b.py"]);
}

#[test]
fn anomaly_kind_names() {
    assert_eq!(AnomalyKind::PathTraversal.as_str(), "path-traversal");
    assert_eq!(AnomalyKind::HeaderMismatch.as_str(), "header-mismatch");
}

#[test]
fn zero_padding_after_gzip_is_accepted_garbage_is_not() {
    let mut bytes = gz(&built_tar(&[("pkg/a.py", b"a")]));
    bytes.extend([0u8; 512]);
    assert_eq!(paths(&ok("x.tar.gz", &bytes)), ["pkg/a.py"]);
    bytes.extend(b"not gzip");
    let err = err_of(read_bytes("x.tar.gz", &bytes, &Limits::default()));
    assert!(matches!(err, ArchiveError::Corrupt { .. }), "{err}");
}

#[test]
fn encrypted_or_unknown_compression_is_corrupt_not_skipped() {
    // Content the analyser cannot read must not pass as an empty package.
    let mut z = zip_of(&[("pkg/a.py", b"import os")]);
    let (c, l) = (central_headers(&z)[0], local_headers(&z)[0]);
    z[c + 8] |= 1; // general purpose flag bit 0: encrypted
    z[l + 6] |= 1;
    let err = err_of(read_bytes("x.whl", &z, &Limits::default()));
    assert!(matches!(err, ArchiveError::Corrupt { .. }), "{err}");

    let mut z = zip_of(&[("pkg/a.py", b"import os")]);
    let (c, l) = (central_headers(&z)[0], local_headers(&z)[0]);
    z[c + 10..c + 12].copy_from_slice(&14u16.to_le_bytes()); // LZMA
    z[l + 8..l + 10].copy_from_slice(&14u16.to_le_bytes());
    let err = err_of(read_bytes("x.whl", &z, &Limits::default()));
    assert!(matches!(err, ArchiveError::Corrupt { .. }), "{err}");
}

#[test]
fn xz_tarballs_are_read_whatever_their_name() {
    let tar = built_tar(&[("pkg-1.0/setup.py", SETUP)]);
    let x = xz(&tar);
    for name in ["pkg-1.0.tar.xz", "pkg-1.0.tar.gz"] {
        let t = ok(name, &x);
        assert_eq!(t.kind, ArtifactKind::Sdist, "{name}");
        assert_eq!(t.get("pkg-1.0/setup.py").unwrap().data, SETUP, "{name}");
    }
    // truncated: a clear error, not a partial tree
    let err = err_of(read_bytes(
        "x.tar.gz",
        &x[..x.len() / 2],
        &Limits::default(),
    ));
    assert!(matches!(err, ArchiveError::Corrupt { .. }), "{err}");
}

#[test]
fn xz_stream_is_charged_to_the_budget_while_it_inflates() {
    // (lzma-rs compresses plainly, so the budget is tripped by size here,
    // not by ratio: the same counter stops a real bomb.)
    let zeros = vec![0u8; 8 << 20];
    let tar = built_tar(&[("pkg/zeros.bin", &zeros)]);
    let x = xz(&tar);
    let limits = Limits {
        max_total_bytes: 1 << 20,
        ..Limits::default()
    };
    let err = err_of(read_bytes("bomb.tar.xz", &x, &limits));
    assert!(matches!(err, ArchiveError::Limit { .. }), "{err}");
}
