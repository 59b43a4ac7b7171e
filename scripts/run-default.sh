#!/usr/bin/env bash
# The default experiment end to end: install the system libraries if
# missing, build girfec in release mode, validate the scenario, run it.
#   bash scripts/run-default.sh [REPLICATIONS] [OUT]
# Results go to runs/default (bands.csv, replications.csv, manifest.json, ...).
set -euo pipefail
cd "$(dirname "$0")/.."
replications="${1:-1000}"
out="${2:-runs/default}"
bash scripts/install-dependencies.sh
swift build -c release --product girfec
bin="$(swift build -c release --show-bin-path)/girfec"
"$bin" validate experiments/default/scenario.yaml
"$bin" run experiments/default/scenario.yaml --replications "$replications" --seed 20231129 --out "$out" --overwrite
echo "Outputs are described in docs/outputs.md."
