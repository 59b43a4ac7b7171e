#!/usr/bin/env bash
# The default experiment end to end: install the system libraries and the
# Python packages if missing, build girfec in release mode, validate the
# scenario, run it, draw the figures, write the report (Markdown and LaTeX,
# and its PDF when pdflatex is installed) and the Excel workbook.
#   bash scripts/run-default.sh [REPLICATIONS] [OUT]
# Results go to runs/default (bands.csv, comparison.csv, summary.csv, ...),
# the figures with their captions to runs/default/figures, the report to
# runs/default/report.{md,tex,pdf} and the workbook to runs/default.xlsx.
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
python="$(bash scripts/python.sh)"
"$python" scripts/figures.py "$out"
"$bin" report "$out"
# The PDF of report.tex, compiled outside the folder (pdflatex's .aux and .log stay out of it).
if command -v pdflatex >/dev/null 2>&1 && kpsewhich lmodern.sty >/dev/null 2>&1; then
  latex_dir="$(mktemp -d)"
  for pass in 1 2; do
    (cd "$out" && pdflatex -interaction=nonstopmode -halt-on-error -output-directory "$latex_dir" report.tex >/dev/null) \
      || { echo "run-default: pdflatex failed; see $latex_dir/report.log" >&2; exit 1; }
  done
  mv "$latex_dir/report.pdf" "$out/report.pdf"
  rm -rf "$latex_dir"
  echo "wrote $out/report.pdf"
else
  echo "run-default: pdflatex not installed: no report.pdf (apt-get install texlive-latex-recommended lmodern; docs/outputs.md)"
fi
PYTHONPATH=scripts "$python" -m girfec_py.workbook "$out" --out "$out.xlsx"
echo "Outputs are described in docs/outputs.md; figures are in $out/figures, the report in $out/report.md, the workbook in $out.xlsx."
