#!/usr/bin/env bash
# The default experiment end to end: install the system libraries and
# matplotlib if missing, build girfec in release mode, validate the
# scenario, run it, draw the figures.
#   bash scripts/run-default.sh [REPLICATIONS] [OUT]
# Results go to runs/default (bands.csv, comparison.csv, summary.csv, ...)
# and the figures to runs/default/figures.
set -euo pipefail
cd "$(dirname "$0")/.."
replications="${1:-1000}"
out="${2:-runs/default}"
bash scripts/install-dependencies.sh
bash scripts/install-python-deps.sh
swift build -c release --product girfec
bin="$(swift build -c release --show-bin-path)/girfec"
"$bin" validate experiments/default/scenario.yaml
"$bin" run experiments/default/scenario.yaml --replications "$replications" --seed 20231129 --out "$out" --overwrite
"$(bash scripts/python.sh)" scripts/figures.py "$out"
echo "Outputs are described in docs/outputs.md; figures are in $out/figures."
