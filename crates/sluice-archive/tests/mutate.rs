//! A small deterministic fuzz loop: flip, truncate and splice the evil
//! archives and check that reading never panics or hangs (an error or a
//! tree are both fine). The `fuzz/` crate does the same with libFuzzer.

mod common;

use common::*;
use sluice_archive::{Limits, read_bytes};

fn seeds() -> Vec<(&'static str, Vec<u8>)> {
    let tar = raw_tar(&[
        file(
            b"pkg-1.0/setup.py",
            b"from setuptools import setup\nsetup()\n",
        ),
        file(b"../evil.py", b"x"),
        file(b"pkg-1.0/\xffbad", b"y"),
        Raw {
            name: b"pkg-1.0/l",
            typeflag: b'2',
            data: b"",
            link: b"../../etc/passwd",
        },
        Raw {
            name: b"pkg-1.0/p",
            typeflag: b'6',
            data: b"",
            link: b"",
        },
        file(b"pkg-1.0/setup.py", b"dup"),
    ]);
    let npm = built_tar(&[
        ("package/package.json", br#"{"name":"x"}"#),
        ("package/index.js", b"module.exports = 1"),
    ]);
    let mut z = zip_of(&[("pkg/a.py", b"print(1)\n"), ("pkg/b.py", &[b'b'; 700])]);
    set_zip_mode(&mut z, 1, 0o120_777);
    let mut big = raw_header(b"big", b'0', 2 << 30, b"").to_vec();
    big.extend_from_slice(b"abc");
    vec![
        ("x.tar.gz", gz(&tar)),
        ("x.tar", tar.clone()),
        ("x.tar.bz2", bz2(&tar)),
        ("x.tgz", gz(&npm)),
        ("x.whl", z),
        ("x.zip", zip_of(&[("pkg-1.0/PKG-INFO", b"Name: x\n")])),
        ("x.tar.gz", gz(&big)),
    ]
}

#[test]
fn mutated_archives_never_panic() {
    let limits = Limits {
        max_file_bytes: 4096,
        max_total_bytes: 1 << 20,
        max_entries: 200,
        ..Limits::default()
    };
    let names = [
        "x.tar.gz",
        "x.zip",
        "x.whl",
        "x.tgz",
        "x.tar.bz2",
        "x.tar",
        "x",
    ];
    let mut rng = Rng(0x5eed_1234_abcd_ef01);
    let mut runs = 0u32;
    let mut trees = 0u32;
    for (name, seed) in seeds() {
        for round in 0..120 {
            let mut m = seed.clone();
            match round % 4 {
                0 => {
                    for _ in 0..=rng.below(4) {
                        let i = rng.below(m.len());
                        if let Some(b) = m.get_mut(i) {
                            *b ^= 1 << rng.below(8);
                        }
                    }
                }
                1 => m.truncate(rng.below(m.len() + 1)),
                2 => {
                    let i = rng.below(m.len());
                    if let Some(b) = m.get_mut(i) {
                        *b = [0, 0xff, 0x7f, b'.', b'/'][rng.below(5)];
                    }
                }
                _ => {
                    let from = rng.below(m.len());
                    let len = rng.below(64);
                    let chunk: Vec<u8> = m.iter().skip(from).take(len).copied().collect();
                    let at = rng.below(m.len());
                    m.splice(at..at, chunk);
                }
            }
            // Mostly the seed's own name; sometimes a different format's.
            let as_name = if round % 5 == 0 {
                names[rng.below(names.len())]
            } else {
                name
            };
            runs += 1;
            if read_bytes(as_name, &m, &limits).is_ok() {
                trees += 1;
            }
        }
    }
    // Both outcomes must occur, or the loop is not exercising anything.
    assert!(trees > 0 && trees < runs, "{trees} of {runs}");
    println!("{runs} mutated inputs, {trees} read as trees");
}
