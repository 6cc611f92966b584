#!/bin/sh
# Train the learned scorer again (after rule changes) and write the model file
# that `sluice` embeds. Offline and deterministic: every archive is read as bytes
# by sluice's own reader; nothing is installed or run.
#
#   bench/train.sh            # then: cargo build --release -p sluice-cli
#
# The benign training set is the top 300 of each registry and the tuning half
# of ranks 2,001-3,000 (bench/split-benign.py makes the halves); false
# positives are measured on the other half, never trained on. The suspicious
# threshold lets 0.2 % of the benign training packages (3 of 1,610) through
# out of fold, the issue's false-positive budget less a margin.
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
        "$CORPUS/r2001-3000-tune/pypi" "$CORPUS/r2001-3000-tune/npm" \
    --holdout-benign "$CORPUS/r2001-3000-holdout/pypi" "$CORPUS/r2001-3000-holdout/npm" \
    --max-benign-suspicious 0.002 \
    --out crates/sluice-analyze/model/scorer.json "$@"
