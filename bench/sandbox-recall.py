#!/usr/bin/env python3
"""How often the sandbox sees real install-time malware act.

    python3 bench/sandbox-recall.py --sluice target/release/sluice \
        --malicious ../shared/data/malicious-dev --half holdout --limit 120 \
        --out /tmp/sbx-holdout.jsonl

Picks the packages of the malicious set whose MANIFEST tags include an
install-time hint (`install-hook`), in one half of the cluster split that
`bench/recall.py` and `sluice train` use, in a fixed order (sha256 of the
sample id), and runs each **only** through `sluice sandbox` inside a fresh
network namespace with no route out (`unshare -n`; the sandbox then builds
its own namespace inside that one). Nothing here reads the archives other
than the sandbox.

A package counts as *seen* when the sandbox verdict is suspicious or worse
and at least one finding of that level names a file of the package itself
(not pip's, setuptools' or the sandbox's own). Prints the share seen, the
verdict levels, the rules that fired, the phases that failed, and the median
sandbox wall time. One JSON line per package goes to `--out` (resumable:
packages already in the file are not run again).
"""

from __future__ import annotations

import argparse
import collections
import csv
import hashlib
import json
import pathlib
import statistics
import subprocess
import sys
import time

TOOLING = ("pip/", "setuptools/", "pkg_resources/", "_distutils_hack/", "wheel/",
           "distutils/", "sluice_hook", "_virtualenv", "<", "npm/", "node:")
LEVELS = {"clean": 0, "low": 1, "suspicious": 2, "malicious": 3}


def split_of(cluster: str) -> str:
    h = hashlib.sha256(b"sluice-split-v1:" + cluster.encode()).digest()
    return "tune" if h[0] % 2 == 0 else "holdout"


def own_file(f: str | None) -> bool:
    if not f:
        return False
    f = f.replace("\\", "/")
    for marker in ("site-packages/", "dist-packages/"):
        if marker in f:
            f = f.split(marker, 1)[1]
    return not any(f.startswith(t) or f"/{t}" in f for t in TOOLING)


def judge(doc: dict) -> dict:
    level = doc.get("verdict", {}).get("level", "clean")
    own = [f for f in doc.get("findings", [])
           if f.get("severity") in ("high", "critical", "medium")
           and own_file((f.get("location") or {}).get("file") or f.get("file"))]
    seen = LEVELS.get(level, 0) >= 2 and bool(own)
    return {
        "level": level,
        "seen": seen,
        "rules": sorted({f["rule"] for f in doc.get("findings", [])}),
        "own_rules": sorted({f["rule"] for f in own}),
        "phases": {p["phase"]: p["status"] for p in doc.get("phases", [])},
        "ms": doc.get("install_import_ms"),
        "stderr": " | ".join(p.get("stderr_tail", "")[-300:] for p in doc.get("phases", [])
                             if p.get("status") != "completed"),
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sluice", required=True)
    ap.add_argument("--malicious", required=True)
    ap.add_argument("--half", choices=["tune", "holdout"], default="holdout")
    ap.add_argument("--tag", default="install-hook")
    ap.add_argument("--limit", type=int, default=100)
    ap.add_argument("--skip", type=int, default=0,
                    help="leave out the first SKIP packages of the fixed order (a disjoint slice)")
    ap.add_argument("--timeout", type=int, default=30, help="per phase, seconds")
    ap.add_argument("--out", required=True)
    ap.add_argument("--extra", default="", help="more sluice sandbox flags")
    ap.add_argument("--benign", nargs="*", default=[],
                    help="instead of the malicious set: popular sdists in these folders; "
                         "prints how many the sandbox flags (false positives)")
    a = ap.parse_args()

    root = pathlib.Path(a.malicious)
    if a.benign:
        root = pathlib.Path("/")
        rows = [{"sample_id": p.name, "path": str(p.resolve()).lstrip("/"), "tags": "benign", "cluster": p.name}
                for d in a.benign for p in sorted(pathlib.Path(d).iterdir())
                if p.name.endswith((".tar.gz", ".zip", ".tgz")) and "-" in p.name]
    else:
        rows = list(csv.DictReader(open(root / "MANIFEST.tsv"), delimiter="\t"))
        rows = [r for r in rows if a.tag in r["tags"].split(",") and split_of(r["cluster"]) == a.half]
    rows.sort(key=lambda r: hashlib.sha256(r["sample_id"].encode()).hexdigest())
    rows = rows[a.skip:a.skip + a.limit]
    out = pathlib.Path(a.out)
    done: dict[str, dict] = {}
    if out.exists():
        for line in out.read_text().splitlines():
            d = json.loads(line)
            done[d["id"]] = d
    with out.open("a") as fh:
        for i, r in enumerate(rows):
            if r["sample_id"] in done:
                continue
            path = str(root / r["path"])
            t0 = time.time()
            res = subprocess.run(["unshare", "-n", "--", a.sluice, "sandbox", "--format", "json",
                                  "--timeout", str(a.timeout), *a.extra.split(), path],
                                 capture_output=True, text=True, check=False)
            wall = time.time() - t0
            try:
                doc = json.loads(res.stdout)
                d = judge(doc)
            except json.JSONDecodeError:
                d = {"level": "error", "seen": False, "rules": [], "own_rules": [], "phases": {},
                     "ms": None, "stderr": res.stderr[-400:]}
            d.update(id=r["sample_id"], tags=r["tags"], wall=round(wall, 2))
            done[r["sample_id"]] = d
            fh.write(json.dumps(d) + "\n")
            fh.flush()
            print(f"[{i + 1}/{len(rows)}] {r['sample_id']}: {d['level']} seen={d['seen']} "
                  f"{','.join(d['own_rules'])} {wall:.1f}s", file=sys.stderr)
    res = [done[r["sample_id"]] for r in rows if r["sample_id"] in done]
    n = len(res)
    seen = sum(d["seen"] for d in res)
    if a.benign:
        flagged = [d for d in res if d["level"] in ("suspicious", "malicious")]
        print(f"benign sdists={n} flagged suspicious+: {len(flagged)} "
              f"({100.0 * len(flagged) / max(n, 1):.1f} %), malicious: "
              f"{sum(d['level'] == 'malicious' for d in res)}")
        for d in flagged:
            print(f"  {d['id']}: {d['level']} {','.join(d['rules'])}")
    print(f"half={a.half} tag={a.tag} packages={n}")
    print(f"seen (suspicious+ with a finding on the package's own file): {seen}/{n} = "
          f"{100.0 * seen / max(n, 1):.1f} %")
    print("levels:", dict(collections.Counter(d["level"] for d in res)))
    rc = collections.Counter(x for d in res for x in d["own_rules"])
    print("own-file rules:", dict(rc.most_common()))
    ph = collections.Counter(f"{k}:{v}" for d in res for k, v in d["phases"].items() if v != "completed")
    print("phases not completed:", dict(ph.most_common()))
    walls = [d["wall"] for d in res]
    if walls:
        print(f"sandbox wall time: median {statistics.median(walls):.1f} s, "
              f"p90 {sorted(walls)[int(0.9 * (len(walls) - 1))]:.1f} s, max {max(walls):.1f} s")


if __name__ == "__main__":
    main()
