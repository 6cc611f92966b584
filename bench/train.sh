#!/bin/sh
# Train the learned scorer again (after rule changes) and write the model file
# that `sluice` embeds. Offline and deterministic: every archive is read as bytes
# by sluice's own reader; nothing is installed or run.
#
#   bench/train.sh            # then: cargo build --release -p sluice-cli
#
# MALICIOUS and CORPUS may be overridden from the environment; extra arguments
# go to `sluice train` (e.g. --label "rules at abc1234", --dump /tmp/features.tsv).
set -eu
cd "$(dirname "$0")/.."
MALICIOUS=${MALICIOUS:-../shared/data/malicious-dev}
CORPUS=${CORPUS:-/work/cache/corpus}
cargo build --release -p sluice-cli
"${CARGO_TARGET_DIR:-target}/release/sluice" train \
    --malicious "$MALICIOUS" \
    --benign "$CORPUS/top300/pypi" "$CORPUS/top300/npm" \
    --holdout-benign "$CORPUS/r2001-3000/pypi" "$CORPUS/r2001-3000/npm" \
    --out crates/sluice-analyze/model/scorer.json "$@"
