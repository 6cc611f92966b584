#!/usr/bin/env bash
# Build the libFuzzer targets in fuzz/ and run each one briefly.
#
# This machine has only the stable toolchain, so cargo-fuzz (which wants
# nightly for -Zsanitizer) is not used: the same LLVM sanitizer-coverage
# flags cargo-fuzz passes are stable codegen options, so the targets are
# real coverage-guided libFuzzer binaries, just without ASan (the project
# forbids unsafe code, so ASan would add little). `--target <host>` keeps
# the flags off build scripts. With nightly and cargo-fuzz installed,
# `cd fuzz && cargo +nightly fuzz run read_archive` works as usual.
#
# Runs are deterministic (-seed, -runs), so a crash here is reproducible:
# the input is saved under $FUZZ_ARTIFACTS and the script fails.
#
# Knobs: FUZZ_RUNS (per target, default 20000; 0 = build only),
#        FUZZ_TARGET_DIR (default /work/targets/fuzz, else fuzz/target).
set -euo pipefail
cd "$(dirname "$0")/../fuzz"

host=$(rustc -vV | sed -n 's/^host: //p')
if [ -n "${FUZZ_TARGET_DIR:-}" ]; then
    export CARGO_TARGET_DIR="$FUZZ_TARGET_DIR"
elif mkdir -p /work/targets/fuzz 2>/dev/null && [ -w /work/targets/fuzz ]; then
    export CARGO_TARGET_DIR=/work/targets/fuzz
else
    export CARGO_TARGET_DIR="$PWD/target"
fi
export RUSTFLAGS="--cfg fuzzing -Cpasses=sancov-module \
-Cllvm-args=-sanitizer-coverage-level=4 \
-Cllvm-args=-sanitizer-coverage-inline-8bit-counters \
-Cllvm-args=-sanitizer-coverage-pc-table \
-Cllvm-args=-sanitizer-coverage-trace-compares"

# fuzz/Cargo.lock is not committed: it is seeded from the workspace's lock
# each time, so the fuzzed code is built with exactly the versions the main
# build uses (cargo only adds libfuzzer-sys and its few dependencies), and
# a dependency added to sluice-archive or sluice-analyze never leaves a
# stale fuzz lock behind.
cp ../Cargo.lock Cargo.lock

echo "fuzz: building targets for $host into $CARGO_TARGET_DIR"
cargo build --release --bins --target "$host"
bin="$CARGO_TARGET_DIR/$host/release"

runs="${FUZZ_RUNS:-20000}"
if [ "$runs" = 0 ]; then
    echo "fuzz: FUZZ_RUNS=0, build only"
    exit 0
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
artifacts="${FUZZ_ARTIFACTS:-$work/artifacts}"
mkdir -p "$work/seeds_read_archive" "$work/seeds_analyze_manifest" "$work/seeds_parse_lockfile" "$work/seeds_osv_record" "$artifacts"

# Seeds from Python's own tarfile/zipfile (first byte picks the name the
# target uses). Without python3 the fuzzer starts from nothing.
if command -v python3 >/dev/null; then
    python3 - "$work" <<'PY'
import bz2, gzip, io, sys, tarfile, zipfile
w = sys.argv[1]
def tar(files, prefix):
    b = io.BytesIO()
    with tarfile.open(fileobj=b, mode="w", format=tarfile.USTAR_FORMAT) as t:
        for n, d in files:
            ti = tarfile.TarInfo(prefix + n); ti.size = len(d); t.addfile(ti, io.BytesIO(d))
        ti = tarfile.TarInfo(prefix + "link"); ti.type = tarfile.SYMTYPE
        ti.linkname = "../../etc/passwd"; t.addfile(ti)
    return b.getvalue()
sd = tar([("setup.py", b"from setuptools import setup\nsetup()\n"), ("PKG-INFO", b"Name: x\n")], "pkg-1.0/")
npm = tar([("package.json", b'{"name":"x","version":"1.0.0"}')], "package/")
z = io.BytesIO()
with zipfile.ZipFile(z, "w", zipfile.ZIP_DEFLATED) as zf:
    zf.writestr("pkg/__init__.py", "x = 1\n")
    zf.writestr("pkg-1.0.dist-info/METADATA", "Name: pkg\n")
ra = {"targz": b"\0" + gzip.compress(sd), "zip": b"\1" + z.getvalue(),
      "whl": b"\2" + z.getvalue(), "tgz": b"\3" + gzip.compress(npm),
      "bz2": b"\4" + bz2.compress(sd)}
am = {"pkginfo": b"\0Metadata-Version: 2.1\nName: pkg\nVersion: 1.0\nRequires-Dist: requests\n",
      "setup": b"\1from setuptools import setup\nimport os\nos.system('echo hi')\nsetup(name='pkg')\n",
      "pyproject": b'\2[project]\nname = "pkg"\nversion = "1.0"\ndependencies = ["requests"]\n',
      "setupcfg": b"\3[metadata]\nname = pkg\n[options]\ninstall_requires = requests\n",
      "pkgjson": b'\4{"name":"x","version":"1.0.0","scripts":{"postinstall":"node i.js"}}'}
osv = {"versions": b'{"id":"MAL-1","modified":"2024-01-01T00:00:00Z","affected":[{"package":{"ecosystem":"PyPI","name":"x"},"versions":["1.0"]}]}',
       "range": b'{"id":"MAL-2","modified":"2024-01-01T00:00:00Z","affected":[{"package":{"ecosystem":"npm","name":"@a/b"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"1.0.0"},{"introduced":"2.0.0-rc.1"},{"last_affected":"2.1.0"},{"limit":"3.0.0"}]}]}]}',
       "withdrawn": b'{"id":"MAL-3","modified":"2024-01-01T00:00:00Z","withdrawn":"2024-02-01T00:00:00Z","affected":[]}'}
for d, seeds in (("seeds_read_archive", ra), ("seeds_analyze_manifest", am), ("seeds_osv_record", osv)):
    for k, v in seeds.items():
        open(f"{w}/{d}/{k}", "wb").write(v)
# parse_lockfile: the committed lockfile fixtures, first byte = reader.
fx = "../crates/sluice-lockfile/tests/fixtures/"
for i, rel in enumerate(["hand/req/requirements.txt", "hand/poetry-project/pyproject.toml",
        "hand/poetry/poetry.lock", "real/uv/uv.lock", "hand/pipenv/Pipfile.lock",
        "hand/pdm/pdm.lock", "real/uv/pylock.toml", "real/npm-v3/package-lock.json",
        "real/yarn-v1/yarn.lock", "real/pnpm/pnpm-lock.yaml", "hand/bun/bun.lock",
        "hand/sbom/python.cdx.json", "hand/sbom/python.spdx.json"]):
    try:
        open(f"{w}/seeds_parse_lockfile/{i}", "wb").write(bytes([i]) + open(fx + rel, "rb").read())
    except OSError:
        pass
PY
fi

for target in read_archive analyze_manifest parse_lockfile osv_record; do
    mkdir -p "$work/corpus_$target"
    echo "fuzz: $target, $runs runs"
    "$bin/$target" "$work/corpus_$target" "$work/seeds_$target" \
        -seed=1 -runs="$runs" -timeout=10 -rss_limit_mb=2048 \
        -artifact_prefix="$artifacts/$target-" -print_final_stats=1 2>"$work/$target.log" || {
        tail -40 "$work/$target.log"
        echo "fuzz: $target FAILED; crashing input under $artifacts" >&2
        exit 1
    }
    grep -E '^(Done|stat::number_of_executed_units|stat::new_units_added)' "$work/$target.log" || true
done
