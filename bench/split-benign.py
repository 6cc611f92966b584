#!/usr/bin/env python3
"""Split a benign set into a tuning half and a held-out half, by file name.

    python3 bench/split-benign.py /work/cache/corpus/r2001-3000

makes <set>-tune/{pypi,npm} and <set>-holdout/{pypi,npm} beside the set, as
symbolic links, with the same rule bench/recall.py uses for its --benign2 set
(`sha256("sluice-split-v1:" + file name)[0]` even → tune). `bench/train.sh`
trains on the tuning half and measures false positives on the held-out half.
"""

from __future__ import annotations

import hashlib
import pathlib
import sys


def split_of(name: str) -> str:
    h = hashlib.sha256(b"sluice-split-v1:" + name.encode()).digest()
    return "tune" if h[0] % 2 == 0 else "holdout"


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    src = pathlib.Path(sys.argv[1]).resolve()
    counts = {"tune": 0, "holdout": 0}
    for eco in ("pypi", "npm"):
        if not (src / eco).is_dir():
            continue
        for half in counts:
            (src.parent / f"{src.name}-{half}" / eco).mkdir(parents=True, exist_ok=True)
        for p in sorted((src / eco).iterdir()):
            if not p.is_file() or p.suffix == ".tsv":
                continue
            half = split_of(p.name)
            link = src.parent / f"{src.name}-{half}" / eco / p.name
            if not link.exists():
                link.symlink_to(p)
            counts[half] += 1
    print(f"{src.name}: {counts['tune']} tune, {counts['holdout']} held out")
    return 0


if __name__ == "__main__":
    sys.exit(main())
