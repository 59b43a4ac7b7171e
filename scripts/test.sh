#!/usr/bin/env bash
# Install the system libraries if missing, then run every test.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-dependencies.sh
swift test
