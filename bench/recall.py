#!/usr/bin/env python3
"""Recall on real malware and false positives on popular packages, from sluice's own reports.

    python3 bench/recall.py --sluice target/release/sluice \
        --malicious ../shared/data/malicious-dev \
        --benign ~/.cache/sluice-corpus/top300/pypi ~/.cache/sluice-corpus/top300/npm \
        --benign2 ~/.cache/sluice-corpus/r2001-3000/pypi ~/.cache/sluice-corpus/r2001-3000/npm

Every archive is read by `sluice scan --format json` only (as bytes; nothing is
installed or run). The malicious set is split by `cluster` into a tuning half and
a held-out half with a fixed hash (`split_of`), the same split `sluice train`
uses; figures are printed for each half, per MANIFEST tag, and for each benign
set. `--scorer` is passed through to compare the rule score and the model.

Tags are the collection's regular-expression hints, used here only to break the
recall down; they are never features.
"""

from __future__ import annotations

import argparse
import collections
import csv
import hashlib
import json
import pathlib
import subprocess
import sys


def split_of(cluster: str) -> str:
    """'tune' or 'holdout', fixed by the cluster id (the same rule as sluice-analyze's learn::split_of)."""
    h = hashlib.sha256(b"sluice-split-v1:" + cluster.encode()).digest()
    return "tune" if h[0] % 2 == 0 else "holdout"


def scan(sluice: str, paths: list[str], extra: list[str]) -> dict[str, dict]:
    out: dict[str, dict] = {}
    step = 400
    for i in range(0, len(paths), step):
        chunk = paths[i:i + step]
        res = subprocess.run([sluice, "scan", "--format", "json", "--fail-on", "malicious", *extra, *chunk],
                             capture_output=True, text=True, check=False)
        if res.returncode == 2 and not res.stdout.strip():
            sys.exit(f"sluice failed: {res.stderr[-2000:]}")
        doc = json.loads(res.stdout)
        for r in doc["reports"]:
            out[r["target"]] = r
        for e in doc.get("errors", []):
            t = e.get("target") if isinstance(e, dict) else str(e)
            out[t] = {"error": e}
    return out


def level(r: dict) -> str:
    return r.get("verdict", {}).get("level", "error") if "error" not in r else "error"


def pct(a: int, b: int) -> str:
    return f"{100.0 * a / b:.1f} %" if b else "-"


def artifacts(dirs: list[str]) -> list[str]:
    exts = (".tar.gz", ".tgz", ".zip", ".whl", ".tar.bz2", ".tar")
    out = []
    for d in dirs:
        for p in sorted(pathlib.Path(d).iterdir()):
            if p.is_file() and p.name.endswith(exts):
                out.append(str(p))
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sluice", default="target/release/sluice")
    ap.add_argument("--malicious", type=pathlib.Path)
    ap.add_argument("--benign", nargs="*", default=[])
    ap.add_argument("--benign2", nargs="*", default=[])
    ap.add_argument("--extra", default="", help="extra scan flags, space-separated (e.g. '--scorer rules')")
    ap.add_argument("--misses", type=pathlib.Path, help="write held-out and tuning misses here (TSV)")
    ap.add_argument("--json", type=pathlib.Path, help="write the summary figures here")
    ap.add_argument("--half", choices=["tune", "holdout", "both"], default="both",
                    help="scan only one half of the malicious set (tune while developing rules)")
    args = ap.parse_args()
    extra = args.extra.split()
    summary: dict = {}

    if args.malicious:
        with (args.malicious / "MANIFEST.tsv").open(newline="") as f:
            rows = list(csv.DictReader(f, delimiter="\t"))
        if args.half != "both":
            rows = [r for r in rows if split_of(r["cluster"]) == args.half]
        paths = [str(args.malicious / r["path"]) for r in rows]
        reports = scan(args.sluice, paths, extra)
        per = {h: collections.Counter() for h in ("tune", "holdout")}
        tags = {h: collections.defaultdict(collections.Counter) for h in ("tune", "holdout")}
        misses = []
        for r, p in zip(rows, paths):
            h = split_of(r["cluster"])
            rep = reports.get(p, {"error": "no report"})
            lv = level(rep)
            per[h]["n"] += 1
            per[h][lv] += 1
            for t in [t for t in r["tags"].split(",") if t] or ["(none)"]:
                tags[h][t]["n"] += 1
                tags[h][t][lv] += 1
            if lv in ("clean", "error"):
                misses.append((h, r["sample_id"], str(rep.get("verdict", {}).get("score", "")), r["tags"], p))
        print("malicious-dev (split by cluster):")
        print(f"  {'half':8} {'n':>5} {'susp+':>8} {'malicious':>10} {'errors':>6}")
        for h in ("tune", "holdout"):
            c = per[h]
            if not c["n"]:
                continue
            print(f"  {h:8} {c['n']:5} {pct(c['suspicious'] + c['malicious'], c['n']):>8} "
                  f"{pct(c['malicious'], c['n']):>10} {c['error']:6}")
            summary[h] = {"n": c["n"], "suspicious_or_worse": c["suspicious"] + c["malicious"],
                          "malicious": c["malicious"], "errors": c["error"]}
        print("\n  per tag, held-out half:")
        print(f"  {'tag':22} {'n':>5} {'susp+':>8} {'malicious':>10}")
        for t, c in sorted(tags["holdout"].items(), key=lambda kv: -kv[1]["n"]):
            print(f"  {t:22} {c['n']:5} {pct(c['suspicious'] + c['malicious'], c['n']):>8} "
                  f"{pct(c['malicious'], c['n']):>10}")
        summary["holdout_tags"] = {t: dict(c) for t, c in tags["holdout"].items()}
        if args.misses:
            with args.misses.open("w") as f:
                f.write("half\tsample\tscore\ttags\tpath\n")
                for m in sorted(misses):
                    f.write("\t".join(m) + "\n")

    for label, dirs in (("benign", args.benign), ("benign2", args.benign2)):
        if not dirs:
            continue
        paths = artifacts(dirs)
        if label == "benign2" and args.half != "both":
            # the second benign set is split by file name the same way, so
            # precision work looks at one half and reports the other
            paths = [p for p in paths if split_of(pathlib.Path(p).name) == args.half]
        reports = scan(args.sluice, paths, extra)
        c = collections.Counter(level(reports.get(p, {"error": 1})) for p in paths)
        flagged = sorted((reports[p]["verdict"]["score"], pathlib.Path(p).name, level(reports[p]))
                         for p in paths if level(reports.get(p, {"error": 1})) in ("suspicious", "malicious"))
        print(f"\n{label} ({', '.join(dirs)}): {len(paths)} packages, "
              f"suspicious+ {pct(c['suspicious'] + c['malicious'], len(paths))} "
              f"({c['suspicious'] + c['malicious']}), malicious {c['malicious']}, errors {c['error']}")
        for s, n, lv in flagged:
            print(f"    {lv:10} {s:3} {n}")
        summary[label] = {"n": len(paths), "suspicious_or_worse": c["suspicious"] + c["malicious"],
                          "malicious": c["malicious"], "errors": c["error"],
                          "flagged": [n for _, n, _ in flagged]}
    if args.json:
        args.json.write_text(json.dumps(summary, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
