#!/usr/bin/env python3
"""Download real popular packages, as bytes only, for measuring false positives.

    python3 bench/fetch-popular.py --out ~/.cache/sluice-corpus            # top 300 of each
    python3 bench/fetch-popular.py --out DIR --ranks 2001-3000             # the second set

Reads the ranked name lists in ../shared/data (popular-pypi.tsv, popular-npm.tsv)
and writes, for each name in the rank range, the newest release's source archive
into OUT/<set>/pypi/ or OUT/<set>/npm/ (set = "top300" or "r2001-3000").

Nothing is installed, built or run: PyPI files are read from the PEP 691 JSON
simple index and checked against its sha256 (an sdist where there is one, else a
pure-Python wheel); npm tarballs come from the abbreviated packument and are
checked against their sha512 integrity. Upstream addresses are never written
here: the PyPI index is pip's configured index (PIP_INDEX_URL, `pip config`, or
pip's own default) and the npm registry is `npm config get registry`.

Already present files are kept, so the script can be re-run to fill gaps. A
name that has no usable file is listed in OUT/<set>/missing.tsv with the reason.
"""

from __future__ import annotations

import argparse
import base64
import concurrent.futures as cf
import csv
import hashlib
import json
import os
import pathlib
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request

HERE = pathlib.Path(__file__).resolve().parent
SHARED = HERE.parent.parent / "shared" / "data"
MAX_BYTES = 256 * 1024 * 1024
UA = "sluice-corpus-fetch/1 (bytes only)"


def pip_index() -> str:
    env = os.environ.get("PIP_INDEX_URL")
    if env:
        return env.rstrip("/")
    try:
        out = subprocess.run(
            [sys.executable, "-m", "pip", "config", "get", "global.index-url"],
            capture_output=True, text=True, check=False,
        ).stdout.strip()
        if out:
            return out.rstrip("/")
    except OSError:
        pass
    from pip._internal.models.index import PyPI  # pip's own default index

    return PyPI.simple_url.rstrip("/")


def npm_registry() -> str:
    env = os.environ.get("NPM_CONFIG_REGISTRY")
    if env:
        return env.rstrip("/")
    out = subprocess.run(["npm", "config", "get", "registry"], capture_output=True,
                         text=True, check=True).stdout.strip()
    return out.rstrip("/")


def get(url: str, accept: str | None = None, limit: int = MAX_BYTES) -> bytes:
    req = urllib.request.Request(url, headers={"User-Agent": UA, **({"Accept": accept} if accept else {})})
    with urllib.request.urlopen(req, timeout=120) as resp:
        data = resp.read(limit + 1)
    if len(data) > limit:
        raise ValueError(f"over {limit} bytes")
    return data


def ranked(path: pathlib.Path, lo: int, hi: int) -> list[str]:
    with path.open(newline="") as f:
        rows = list(csv.reader(f, delimiter="\t"))[1:]
    # popular-pypi.tsv carries a rank column; popular-npm.tsv is ordered by downloads.
    return [r[0] for r in rows[lo - 1:hi] if r and r[0]]


def pick_pypi_file(files: list[dict]) -> dict | None:
    def version_key(f):
        return f.get("upload-time") or ""

    files = [f for f in files if not f.get("yanked")]
    sdists = [f for f in files if f["filename"].endswith((".tar.gz", ".zip", ".tar.bz2"))]
    if sdists:
        return max(sdists, key=version_key)
    wheels = [f for f in files if f["filename"].endswith("-none-any.whl")]
    if wheels:
        return max(wheels, key=version_key)
    wheels = [f for f in files if f["filename"].endswith(".whl")]
    return max(wheels, key=version_key) if wheels else None


def fetch_pypi(name: str, index: str, dest: pathlib.Path) -> str:
    page = json.loads(get(f"{index}/{urllib.parse.quote(name)}/",
                          accept="application/vnd.pypi.simple.v1+json"))
    files = page.get("files", [])
    if not files:
        raise LookupError("no files")
    # newest release first: take the files of the newest upload, then prefer an sdist
    newest = max(f.get("upload-time") or "" for f in files)
    day = newest[:10]
    recent = [f for f in files if (f.get("upload-time") or "")[:10] == day] or files
    chosen = pick_pypi_file(recent) or pick_pypi_file(files)
    if chosen is None:
        raise LookupError("no sdist or wheel")
    fname = pathlib.Path(chosen["filename"]).name
    out = dest / fname
    if out.exists():
        return fname
    url = urllib.parse.urljoin(f"{index}/{name}/", chosen["url"])
    data = get(url)
    want = chosen.get("hashes", {}).get("sha256")
    if want and hashlib.sha256(data).hexdigest() != want:
        raise ValueError("sha256 mismatch")
    tmp = out.with_suffix(out.suffix + ".part")
    tmp.write_bytes(data)
    tmp.rename(out)
    return fname


def fetch_npm(name: str, registry: str, dest: pathlib.Path) -> str:
    doc = json.loads(get(f"{registry}/{name.replace('/', '%2f')}",
                         accept="application/vnd.npm.install-v1+json"))
    latest = doc.get("dist-tags", {}).get("latest")
    ver = doc.get("versions", {}).get(latest)
    if not ver:
        raise LookupError("no latest version")
    dist = ver["dist"]
    fname = name.replace("/", "__").lstrip("@") + f"-{latest}.tgz"
    out = dest / fname
    if out.exists():
        return fname
    data = get(dist["tarball"])
    integ = dist.get("integrity", "")
    if integ.startswith("sha512-"):
        if base64.b64encode(hashlib.sha512(data).digest()).decode() != integ[7:]:
            raise ValueError("sha512 mismatch")
    tmp = out.with_suffix(".part")
    tmp.write_bytes(data)
    tmp.rename(out)
    return fname


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", required=True, type=pathlib.Path,
                    help="cache folder outside the repository")
    ap.add_argument("--ranks", default="1-300", help="rank range, e.g. 1-300 or 2001-3000")
    ap.add_argument("--ecosystem", choices=["pypi", "npm", "both"], default="both")
    ap.add_argument("--jobs", type=int, default=8)
    ap.add_argument("--shared", type=pathlib.Path, default=SHARED)
    args = ap.parse_args()

    repo = HERE.parent.resolve()
    if repo in args.out.resolve().parents or args.out.resolve() == repo:
        print("error: --out must be outside the repository", file=sys.stderr)
        return 2
    lo, hi = (int(x) for x in args.ranks.split("-"))
    set_name = "top300" if (lo, hi) == (1, 300) else f"r{lo}-{hi}"
    base = args.out / set_name
    jobs = []
    if args.ecosystem in ("pypi", "both"):
        index = pip_index()
        d = base / "pypi"
        d.mkdir(parents=True, exist_ok=True)
        jobs += [("pypi", n, lambda n=n, d=d: fetch_pypi(n, index, d)) for n in
                 ranked(args.shared / "popular-pypi.tsv", lo, hi)]
    if args.ecosystem in ("npm", "both"):
        reg = npm_registry()
        d = base / "npm"
        d.mkdir(parents=True, exist_ok=True)
        jobs += [("npm", n, lambda n=n, d=d: fetch_npm(n, reg, d)) for n in
                 ranked(args.shared / "popular-npm.tsv", lo, hi)]

    missing = []
    ok = 0
    with cf.ThreadPoolExecutor(max_workers=args.jobs) as pool:
        futs = {pool.submit(fn): (eco, n) for eco, n, fn in jobs}
        for fut in cf.as_completed(futs):
            eco, n = futs[fut]
            try:
                fut.result()
                ok += 1
            except (urllib.error.URLError, LookupError, ValueError, OSError, KeyError) as e:
                missing.append((eco, n, str(e)[:200]))
    base.mkdir(parents=True, exist_ok=True)
    with (base / "missing.tsv").open("w") as f:
        f.write("ecosystem\tname\treason\n")
        for row in sorted(missing):
            f.write("\t".join(row) + "\n")
    print(f"{set_name}: {ok} fetched or present, {len(missing)} missing (see {base}/missing.tsv)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
