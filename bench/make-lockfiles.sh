#!/usr/bin/env bash
# Make real-format lockfiles, SBOMs and installed environments with the
# real tools (npm, pnpm, yarn classic, uv, pip) against the local fake
# registry (bench/fake-registry.py on 127.0.0.1), and write them to
# crates/sluice-lockfile/tests/fixtures/real/, with counts.json holding how
# many packages each tool itself lists for each file.
#
# Never talks to a public registry: every tool gets the local registry,
# an empty cache and a throw-away HOME.
#
# Usage: bench/make-lockfiles.sh [PORT]   (default 18765; the port is part
# of the URLs written into the fixtures, so keep it to regenerate the same
# files)
set -euo pipefail

PORT="${1:-18765}"
REG="http://127.0.0.1:${PORT}/"
SIMPLE="http://127.0.0.1:${PORT}/simple"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
OUT="$ROOT/crates/sluice-lockfile/tests/fixtures/real"
WORK="$(mktemp -d)"
export HOME="$WORK/home"
mkdir -p "$HOME"
export npm_config_registry="$REG" npm_config_cache="$WORK/npm-cache" \
  npm_config_audit=false npm_config_fund=false npm_config_update_notifier=false \
  npm_config_ignore_scripts=true
export UV_CACHE_DIR="$WORK/uv-cache" UV_PYTHON_DOWNLOADS=never UV_INDEX_URL="$SIMPLE" \
  UV_DEFAULT_INDEX="$SIMPLE" PIP_INDEX_URL="$SIMPLE" PIP_NO_CACHE_DIR=1 \
  PIP_DISABLE_PIP_VERSION_CHECK=1

python3 "$ROOT/bench/fake-registry.py" "$PORT" >"$WORK/registry.log" 2>&1 &
REG_PID=$!
trap 'kill $REG_PID 2>/dev/null || true; rm -rf "$WORK"' EXIT
for _ in $(seq 50); do
  grep -q ready "$WORK/registry.log" 2>/dev/null && break
  sleep 0.1
done

rm -rf "$OUT"
mkdir -p "$OUT"
COUNTS="$WORK/counts.tsv"
: >"$COUNTS"
count() { printf '%s\t%s\t%s\n' "$1" "$2" "$3" >>"$COUNTS"; }

# --- npm ----------------------------------------------------------------
NPM_PKG='{
  "name": "app-npm",
  "version": "1.0.0",
  "private": true,
  "dependencies": {
    "@acme/util": "^1.0.0",
    "ansi-stylez": "^2.0.0",
    "chalkish": "^2.0.0",
    "expresss": "^4.18.2",
    "host-y": "^1.0.0",
    "plugin-x": "^1.0.0"
  },
  "devDependencies": {
    "test-thing": "^0.1.0"
  }
}'
# Installed folders npm itself lists for a lockfile (one line per folder,
# the root first).
npm_count() { (cd "$1" && npm ls --all --parseable --package-lock-only 2>/dev/null | tail -n +2 | sort -u | wc -l); }

for v in 1 2 3; do
  d="$OUT/npm-v$v"
  mkdir -p "$d"
  echo "$NPM_PKG" >"$d/package.json"
  (cd "$d" && npm install --package-lock-only --lockfile-version "$v" >/dev/null 2>&1)
  count "npm-v$v/package-lock.json" "$(npm_count "$d")" "npm ls --all --parseable --package-lock-only"
done

d="$OUT/npm-shrinkwrap"
mkdir -p "$d"
echo "$NPM_PKG" >"$d/package.json"
(cd "$d" && npm install --package-lock-only >/dev/null 2>&1 && npm shrinkwrap >/dev/null 2>&1)
count "npm-shrinkwrap/npm-shrinkwrap.json" "$(npm_count "$d")" "npm ls --all --parseable --package-lock-only"

# An installed tree, and npm's own SBOMs of it.
d="$WORK/npm-env"
mkdir -p "$d"
echo "$NPM_PKG" >"$d/package.json"
(cd "$d" && npm install >/dev/null 2>&1)
mkdir -p "$OUT/npm-env" "$OUT/sbom"
cp -r "$d/node_modules" "$OUT/npm-env/"
rm -f "$OUT/npm-env/node_modules/.package-lock.json"
count "npm-env/node_modules" "$(cd "$d" && npm ls --all --parseable 2>/dev/null | tail -n +2 | sort -u | wc -l)" "npm ls --all --parseable"
(cd "$d" && npm sbom --sbom-format cyclonedx >"$OUT/sbom/npm.cdx.json" 2>/dev/null)
(cd "$d" && npm sbom --sbom-format spdx >"$OUT/sbom/npm.spdx.json" 2>/dev/null)
count "sbom/npm.cdx.json" "$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(sum(1 for c in d.get("components",[]) if c.get("purl","").startswith("pkg:npm/")))' "$OUT/sbom/npm.cdx.json")" "components with a pkg:npm purl"
count "sbom/npm.spdx.json" "$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(sum(1 for p in d.get("packages",[]) for r in p.get("externalRefs",[]) if r.get("referenceType")=="purl" and r["referenceLocator"].startswith("pkg:npm/")))' "$OUT/sbom/npm.spdx.json")" "packages with a pkg:npm purl"

# --- pnpm ---------------------------------------------------------------
if command -v pnpm >/dev/null; then
  d="$WORK/pnpm"
  mkdir -p "$d"
  echo "$NPM_PKG" >"$d/package.json"
  (cd "$d" && pnpm install --registry "$REG" --store-dir "$WORK/pnpm-store" \
    --config.strict-peer-dependencies=false >/dev/null 2>&1)
  mkdir -p "$OUT/pnpm" "$OUT/pnpm-env"
  cp "$d/package.json" "$d/pnpm-lock.yaml" "$OUT/pnpm/"
  cp -a "$d/node_modules" "$OUT/pnpm-env/"
  rm -rf "$OUT/pnpm-env/node_modules/.modules.yaml" "$OUT/pnpm-env/node_modules/.pnpm/lock.yaml" \
    "$OUT/pnpm-env/node_modules/.pnpm-workspace-state"*.json "$OUT/pnpm-env/node_modules/.bin"
  # Unique name@version pnpm itself lists, down the whole tree.
  n=$(cd "$d" && pnpm list --depth Infinity --json 2>/dev/null | python3 -c '
import json, sys
seen = set()
def walk(deps):
    for name, d in (deps or {}).items():
        seen.add((d.get("from", name), d.get("version")))
        walk(d.get("dependencies"))
for proj in json.load(sys.stdin):
    for k in ("dependencies", "devDependencies", "optionalDependencies"):
        walk(proj.get(k))
print(len(seen))')
  count "pnpm/pnpm-lock.yaml" "$n" "pnpm list --depth Infinity (unique name@version)"
  count "pnpm-env/node_modules" "$n" "pnpm list --depth Infinity (unique name@version)"
fi

# --- yarn classic -------------------------------------------------------
if command -v yarn >/dev/null && yarn --version | grep -q '^1\.'; then
  d="$WORK/yarn"
  mkdir -p "$d"
  echo "$NPM_PKG" >"$d/package.json"
  (cd "$d" && yarn install --registry "$REG" --cache-folder "$WORK/yarn-cache" \
    --non-interactive --ignore-scripts --no-progress >/dev/null 2>&1)
  mkdir -p "$OUT/yarn-v1"
  cp "$d/package.json" "$d/yarn.lock" "$OUT/yarn-v1/"
  n=$(cd "$d" && yarn list --json --no-progress 2>/dev/null | python3 -c '
import json, sys
seen = set()
def walk(trees):
    for t in trees or []:
        if not t.get("shadow"):
            seen.add(t["name"])
        walk(t.get("children"))
for line in sys.stdin:
    doc = json.loads(line)
    if doc.get("type") == "tree":
        walk(doc["data"]["trees"])
print(len(seen))')
  count "yarn-v1/yarn.lock" "$n" "yarn list (unique name@version)"
fi

# --- uv and pip ---------------------------------------------------------
PY="$(python3 -c 'import sys; print(sys.executable)')"
d="$OUT/uv"
mkdir -p "$d"
cat >"$d/pyproject.toml" <<'TOML'
[project]
name = "app-py"
version = "0.1.0"
requires-python = ">=3.8"
dependencies = [
    "alpha>=1.0",
    "six==1.16.0",
    "reqeusts",
    "acme-internal-auth",
]

[dependency-groups]
dev = ["gamma-lib"]
TOML
(cd "$d" && uv lock --python "$PY" --index-url "$SIMPLE" >/dev/null 2>&1)
(cd "$d" && uv export --frozen --no-emit-project --format requirements.txt -o requirements.txt >/dev/null 2>&1)
(cd "$d" && uv export --frozen --no-emit-project --format pylock.toml -o pylock.toml >/dev/null 2>&1)
n=$(grep -cE '^[a-z0-9]' "$d/requirements.txt")
count "uv/uv.lock" "$n" "uv export --no-emit-project (requirements lines)"
count "uv/requirements.txt" "$n" "uv export --no-emit-project (requirements lines)"
count "uv/pylock.toml" "$n" "uv export --no-emit-project (requirements lines)"

# An installed environment, as pip leaves it.
venv="$WORK/venv"
uv venv --python "$PY" "$venv" >/dev/null 2>&1
uv pip install --python "$venv/bin/python" --index-url "$SIMPLE" -r "$d/requirements.txt" >/dev/null 2>&1
sp=$(ls -d "$venv"/lib/python*/site-packages)
mkdir -p "$OUT/venv"
cp -r "$sp" "$OUT/venv/site-packages"
rm -rf "$OUT/venv/site-packages/__pycache__"
count "venv/site-packages" "$(uv pip list --python "$venv/bin/python" --format json 2>/dev/null | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" "uv pip list"
if python3 -m pip --version >/dev/null 2>&1; then
  pipn=$(python3 -m pip list --path "$sp" --format json 2>/dev/null | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
  count "venv/site-packages (pip)" "$pipn" "pip list --path"
fi

# counts.json: file -> {"tool": N, "how": "..."}
python3 - "$COUNTS" "$OUT/counts.json" <<'PY'
import json, sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if l.strip()]
json.dump({f: {"tool": int(n), "how": how} for f, n, how in rows}, open(sys.argv[2], "w"), indent=2, sort_keys=True)
PY
cat "$OUT/counts.json"

# Nothing generated may name a public registry (the pattern is written in
# pieces so that this script names none either).
PUBLIC="registry[.]npmjs|pypi[.]org|python""hosted[.]|yarnpkg[.]com"
if grep -rIlE "$PUBLIC" "$OUT"; then
  echo "error: a fixture names a public registry" >&2
  exit 1
fi
