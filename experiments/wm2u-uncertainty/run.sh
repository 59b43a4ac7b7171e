#!/usr/bin/env bash
# Questions a, b and e of the seed as reproducible runs (README.md here):
# WM2U against baseline with parameter uncertainty, the break-even time,
# how wide the bands get and which parameters matter most; plus the
# one-way/two-way/sweep sensitivity analysis of ../wm2u-sensitivity.
#   bash experiments/wm2u-uncertainty/run.sh [REPLICATIONS]
# About 10 minutes on 2 cores with the default 500 replications.
set -euo pipefail
cd "$(dirname "$0")/../.."
n="${1:-500}"
bash scripts/install-dependencies.sh
bash scripts/install-python-deps.sh
swift build -c release --product girfec
bin="$(swift build -c release --show-bin-path)/girfec"
py="$(bash scripts/python.sh)"
scenario=experiments/wm2u-uncertainty/scenario.yaml
"$bin" validate "$scenario"
# Probabilistic sensitivity analysis: one parameter draw per replication.
"$bin" run "$scenario" --replications "$n" --seed 20231129 --out runs/wm2u-psa --overwrite
# The same replications with every parameter at its base value.
"$bin" run "$scenario" --replications "$n" --seed 20231129 --base-case --out runs/wm2u-base --overwrite
# Nested: n/5 draws × 5 replications, to split each outcome's variance.
"$bin" run "$scenario" --replications "$n" --replications-per-draw 5 --seed 20231129 --out runs/wm2u-nested --overwrite
"$bin" sensitivity experiments/wm2u-sensitivity/experiment.yaml --out runs/wm2u-sensitivity --overwrite
for d in runs/wm2u-psa runs/wm2u-base runs/wm2u-nested; do "$py" scripts/figures.py "$d"; done
for d in runs/wm2u-psa runs/wm2u-nested runs/wm2u-sensitivity; do "$py" scripts/uncertainty_figures.py "$d"; done
for d in runs/wm2u-psa runs/wm2u-nested; do "$bin" report "$d"; done
echo "Reports: runs/wm2u-psa/report.md, runs/wm2u-nested/report.md; tornado: runs/wm2u-sensitivity/figures/tornado.png"
