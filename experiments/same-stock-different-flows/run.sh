#!/usr/bin/env bash
# Same stock, different flows (the seed's Figure 6), end to end.
#
#   bash experiments/same-stock-different-flows/run.sh [REPLICATIONS] [OUT]
#
# 1. checks that scenario.yaml and targets.csv are what solve_rates.py writes
#    (a warning if not);
# 2. builds girfec (release, scratch path .build-fig6) unless GIRFEC names a binary;
# 3. runs the four arms with the agent engine: REPLICATIONS (default 200),
#    seed 20231129, into OUT (default runs/same-stock-different-flows); the
#    run also writes the aggregate model's expected values (aggregate.csv);
# 4. checks girfec's aggregate model against the solver's targets;
# 5. reruns each replication alone (`girfec run --replication I`, the same
#    numbers bit for bit) and keeps its Intensive inflow/outflow rows, because
#    bands of yearly flows need each replication's monthly series (percentiles
#    of months do not add up to percentiles of years); OUT-replication-flows/;
# 6. draws flow_patterns.png and writes summary.csv into this folder.
#
# Needs numpy and matplotlib (scripts/install-python-deps.sh).
set -euo pipefail
cd "$(dirname "$0")/../.."
here=experiments/same-stock-different-flows
reps="${1:-200}"
out="${2:-runs/same-stock-different-flows}"
seed=20231129
py="$(bash scripts/python.sh)"
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f s", b - a }'; }

t_all=$(now)
"$py" "$here/solve_rates.py" --check >/dev/null || {
  # numpy's least squares may differ in the last digits between machines: warn, run the file as committed
  echo "run.sh: warning: scenario.yaml or targets.csv differ from what solve_rates.py writes here;" \
       "running scenario.yaml as it is (python3 $here/solve_rates.py rewrites both)" >&2
}
if [ -z "${GIRFEC:-}" ]; then
  swift build -c release --scratch-path .build-fig6 --product girfec
  GIRFEC=.build-fig6/release/girfec
fi
"$GIRFEC" validate "$here/scenario.yaml" >/dev/null
echo "girfec: $GIRFEC ($("$GIRFEC" --version))"

t=$(now)
"$GIRFEC" run "$here/scenario.yaml" --replications "$reps" --seed "$seed" --out "$out" --overwrite --quiet
echo "agent run, $reps replications x 4 arms: $(since "$t")"
"$py" "$here/solve_rates.py" --verify "$out/aggregate.csv"

t=$(now)
flows="$out-replication-flows"
rm -rf "$flows"
mkdir -p "$flows"
export GIRFEC here reps seed flows
seq 0 $((reps - 1)) | xargs -P 2 -I{} bash -c '
  set -euo pipefail
  d="$flows/.rep-{}"
  "$GIRFEC" run "$here/scenario.yaml" --replications "$reps" --replication {} --seed "$seed" \
    --threads 1 --out "$d" --overwrite --quiet
  { head -n 1 "$d/bands.csv"; grep -E "^[^,]*,[0-9]+,[^,]*,(inflow|outflow),Intensive," "$d/bands.csv"; } \
    > "$flows/rep-$(printf %04d {}).csv"
  rm -rf "$d"'
echo "single-replication reruns for yearly flow bands: $(since "$t")"

"$py" scripts/flow_patterns.py "$out" --replication-flows "$flows" --out "$here/flow_patterns.png" \
  --summary "$here/summary.csv"
echo "whole experiment (without the build): $(since "$t_all")"
