#!/usr/bin/env bash
# Make `python3 -c "import matplotlib"` work, for scripts/figures.py.
#
#   1. matplotlib already imports: do nothing.
#   2. Otherwise `python3 -m pip install --quiet matplotlib` (pip's own
#      environment: a pyenv or virtualenv Python, or a system Python that
#      allows it).
#   3. If pip is missing or refuses (PEP 668 "externally managed", as on
#      Debian 12), install Debian's python3-matplotlib with apt-get (sudo when
#      not root); that package is for /usr/bin/python3.
#
# Prints what it did. Exit status 0 when matplotlib imports at the end.
# Environment: PYTHON (default python3) chooses the interpreter to check.
set -uo pipefail

python="${PYTHON:-python3}"
say() { echo "install-python-deps: $*"; }

imports() { "$1" -c "import matplotlib" >/dev/null 2>&1; }
version_of() { "$1" -c "import matplotlib; print(matplotlib.__version__)" 2>/dev/null; }

if ! command -v "$python" >/dev/null 2>&1; then
  say "$python not found; will try Debian's python3-matplotlib (which brings /usr/bin/python3)"
  python=""
elif imports "$python"; then
  say "matplotlib $(version_of "$python") already imports in $(command -v "$python"); nothing to do"
  exit 0
fi

if [ -n "$python" ]; then
  if "$python" -m pip --version >/dev/null 2>&1; then
    say "installing matplotlib with $python -m pip"
    log="$(mktemp)"
    if "$python" -m pip install --quiet matplotlib >"$log" 2>&1 && imports "$python"; then
      rm -f "$log"
      say "installed matplotlib $(version_of "$python") for $(command -v "$python") with pip"
      exit 0
    fi
    if grep -q "externally-managed-environment" "$log"; then
      say "pip refused: this Python is externally managed (PEP 668)"
    else
      say "pip could not install matplotlib:"
      sed 's/^/    /' "$log" | tail -n 15
    fi
    rm -f "$log"
  else
    say "$python has no pip"
  fi
fi

if ! command -v apt-get >/dev/null 2>&1; then
  say "no apt-get on this machine: install matplotlib for $python by hand (e.g. in a virtual environment:"
  say "  python3 -m venv .venv && .venv/bin/pip install matplotlib && .venv/bin/python scripts/figures.py ...)"
  exit 1
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    sudo="sudo"
  else
    say "need root (or sudo) to install python3-matplotlib with apt-get"
    exit 1
  fi
fi

say "installing Debian's python3-matplotlib with ${sudo:+sudo }apt-get"
export DEBIAN_FRONTEND=noninteractive
if ! $sudo apt-get update -qq || ! $sudo apt-get install -y -qq --no-install-recommends python3-matplotlib; then
  say "apt-get could not install python3-matplotlib"
  exit 1
fi

if [ -x /usr/bin/python3 ] && imports /usr/bin/python3; then
  say "installed python3-matplotlib $(version_of /usr/bin/python3) for /usr/bin/python3"
  if [ -z "$python" ] || [ "$(command -v "$python")" != "/usr/bin/python3" ]; then
    say "your python3 is ${python:+$(command -v "$python")}${python:-missing}, not /usr/bin/python3: run the figures with"
    say "  /usr/bin/python3 scripts/figures.py RUN_DIR"
  fi
  exit 0
fi
say "python3-matplotlib is installed but /usr/bin/python3 still cannot import matplotlib"
exit 1
