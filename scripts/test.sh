#!/usr/bin/env bash
# Install what the tests need if missing (GSL, Random123, matplotlib,
# pytest; Slurm and munge are installed by scripts/slurm-local.sh), then run
# every test: the Swift package, the figure scripts and a real single-node
# Slurm run of shards plus merge.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-dependencies.sh
swift test
bash scripts/install-python-deps.sh
python="$(bash scripts/python.sh)"
if ! "$python" -m pytest --version >/dev/null 2>&1; then
  "$python" -m pip install --quiet pytest 2>/dev/null || {
    sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y --no-install-recommends python3-pytest
  }
fi
"$python" -m pytest scripts/tests -q
