#!/usr/bin/env bash
# Tools the gate's real-client tests use (crates/sluice-registry/tests/gate_clients.rs,
# crates/sluice-cli/tests/gate_serve.rs): pip (present with python3), npm (present
# with node), uv (installed here from PyPI), pnpm and yarn classic (each
# installed here with npm from the npm registry, only when missing; yarn is
# pinned to 1.x), sha256sum (coreutils).
# Idempotent: does nothing when everything is already there. Runs as root on a
# fresh Debian machine; tests that miss a tool skip with a note instead of failing.
set -euo pipefail

python3 -m pip --version >/dev/null 2>&1 || echo "gate deps: pip missing; pip tests will skip"
command -v npm >/dev/null 2>&1 || echo "gate deps: npm missing; npm tests will skip"
command -v sha256sum >/dev/null 2>&1 || echo "gate deps: sha256sum missing; the serve test will skip"

if ! command -v uv >/dev/null 2>&1; then
    # uv into its own venv (Debian marks the system Python as externally
    # managed), linked onto PATH.
    if python3 -m venv /opt/sluice-ci/uv >/dev/null 2>&1; then
        /opt/sluice-ci/uv/bin/pip install --quiet --disable-pip-version-check uv
        ln -sf /opt/sluice-ci/uv/bin/uv /usr/local/bin/uv
    else
        python3 -m pip install --quiet --disable-pip-version-check --break-system-packages uv \
            || python3 -m pip install --quiet --disable-pip-version-check uv \
            || echo "gate deps: could not install uv; uv tests will skip"
    fi
fi
command -v uv >/dev/null 2>&1 && uv --version || true

if ! command -v pnpm >/dev/null 2>&1 && command -v npm >/dev/null 2>&1; then
    npm install --global --no-fund --no-audit pnpm@10 >/dev/null \
        || echo "gate deps: could not install pnpm; pnpm tests will skip"
fi
command -v pnpm >/dev/null 2>&1 && pnpm --version || true

if ! command -v yarn >/dev/null 2>&1 && command -v npm >/dev/null 2>&1; then
    # yarn classic, pinned to 1.x: the registry's `latest` tag on `yarn` is
    # 2.4.3 (a berry build), which reads neither .yarnrc nor --registry.
    npm install --global --no-fund --no-audit yarn@1 >/dev/null \
        || echo "gate deps: could not install yarn; yarn tests will skip"
fi
command -v yarn >/dev/null 2>&1 && echo "yarn $(yarn --version)" || true
