#!/usr/bin/env bash
# Install what the tests need if missing (GSL, Random123, matplotlib, pandas,
# openpyxl, pytest, pdflatex and poppler for the report's PDF, R for the R
# reader (scripts/girfec.R); Slurm and munge are installed by
# scripts/slurm-local.sh), then check style and package imports
# (scripts/lint.sh, under a minute) and run every test: the Swift package,
# the figure scripts and a real single-node Slurm run of shards plus merge;
# then a bounded fuzz run on the release (statically linked) build
# (scripts/fuzz, fixed seed, 40 s per kind) and the replay of every saved
# crashing input against it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-dependencies.sh
bash scripts/install-python-deps.sh
bash scripts/lint.sh
swift test
python="$(bash scripts/python.sh)"
if ! "$python" -m pytest --version >/dev/null 2>&1; then
  "$python" -m pip install --quiet pytest 2>/dev/null || {
    sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y --no-install-recommends python3-pytest
  }
fi
# PySD for the XMILE export's test (scripts/tests/test_xmile_pysd.py): pip only (no Debian package)
if ! "$python" -c "import pysd" >/dev/null 2>&1; then
  "$python" -m pip install --quiet pysd || echo "test.sh: pip could not install pysd; test_xmile_pysd.py will fail (GIRFEC_REQUIRE_PYSD=1)"
fi
# pdflatex and poppler for the report's PDF test (scripts/tests/test_report_latex.py)
if ! command -v pdflatex >/dev/null 2>&1 || ! command -v pdftoppm >/dev/null 2>&1 || ! kpsewhich lmodern.sty >/dev/null 2>&1; then
  sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y --no-install-recommends \
    texlive-latex-base texlive-latex-recommended texlive-fonts-recommended lmodern poppler-utils
fi
# R (Debian's r-base-core) for the R reader's test (scripts/tests/test_r_and_python.py)
if ! command -v Rscript >/dev/null 2>&1; then
  sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y --no-install-recommends r-base-core
fi
# The release build the Python tests and the fuzzer run is the self-contained, statically
# linked one that scripts/package-binary.sh packs (.build/static), so they test what users of
# the archive get; test_package_binary.py packs it and runs it with nothing else visible.
static=(-c release --product girfec --scratch-path .build/static -Xswiftc -static-executable)
swift build "${static[@]}"
girfec_release="$(swift build "${static[@]}" --show-bin-path)/girfec"
# test_fuzz_regressions.py replays the saved crashing inputs against the release build
GIRFEC_BINARY="$girfec_release" GIRFEC_STATIC_BINARY="$girfec_release" GIRFEC_REQUIRE_LATEX=1 GIRFEC_REQUIRE_R=1 GIRFEC_REQUIRE_PYSD=1 \
  "$python" -m pytest scripts/tests -q
# findings of a class still "open" in scripts/fuzz/regressions/index.json are listed but do not fail
"$python" scripts/fuzz/fuzz.py --binary "$girfec_release" --seed 20261205 --seconds 40 --kind all \
  --known scripts/fuzz/regressions/index.json --save-crashes "${TMPDIR:-/tmp}/girfec-fuzz-findings"
