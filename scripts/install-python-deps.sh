#!/usr/bin/env bash
# Make the Python packages the scripts and their tests use import:
# matplotlib (scripts/figures.py and the other figure scripts), numpy,
# emcee (scripts/tests/test_peer_sampler.py: girfec's stock-only posterior
# against emcee's ensemble sampler; emcee needs only numpy), pandas and
# openpyxl (the girfec_py package's loader, PSA and workbook:
# docs/r-and-python.md). Optional: selenium, for the explorer's browser test
# (scripts/tests/test_explorer_browser.py, docs/workshop.md); tried the same
# way first, and its absence only noted (that test then skips).
#
#   1. every package already imports: do nothing.
#   2. Otherwise `python3 -m pip install --quiet` the missing ones (pip's own
#      environment: a pyenv or virtualenv Python, or a system Python that
#      allows it).
#   3. If pip is missing or refuses (PEP 668 "externally managed", as on
#      Debian 12), install Debian's python3-<name> packages with apt-get (sudo
#      when not root); those packages are for /usr/bin/python3.
#
# Prints what it did. Exit status 0 when every package imports at the end.
# Environment: PYTHON (default python3) chooses the interpreter to check.
set -uo pipefail

packages=(matplotlib numpy emcee pandas openpyxl)   # each a pip name, an import name and Debian's python3-NAME
python="${PYTHON:-python3}"
say() { echo "install-python-deps: $*"; }

missing_in() { local p; for p in "${packages[@]}"; do "$1" -c "import $p" >/dev/null 2>&1 || echo "$p"; done; }
versions_in() {
  "$1" -c "import importlib; print(', '.join(n + ' ' + importlib.import_module(n).__version__ for n in '${packages[*]}'.split()))" 2>/dev/null
}

# Optional packages: pip, else Debian's python3-NAME; never a failure.
optional=(selenium)
for p in "${optional[@]}"; do
  if command -v "$python" >/dev/null 2>&1 && "$python" -c "import $p" >/dev/null 2>&1; then continue; fi
  if command -v "$python" >/dev/null 2>&1 && "$python" -m pip install --quiet "$p" >/dev/null 2>&1 && "$python" -c "import $p" >/dev/null 2>&1; then
    say "installed optional $p with pip for $(command -v "$python")"
  elif command -v apt-get >/dev/null 2>&1 && { [ "$(id -u)" -eq 0 ] || command -v sudo >/dev/null 2>&1; }; then
    s=""; [ "$(id -u)" -ne 0 ] && s="sudo"
    if DEBIAN_FRONTEND=noninteractive $s apt-get install -y -qq --no-install-recommends "python3-$p" >/dev/null 2>&1; then
      say "installed optional Debian python3-$p (for /usr/bin/python3)"
    else
      say "note: optional $p could not be installed; the tests that need it skip"
    fi
  else
    say "note: optional $p is missing; the tests that need it skip"
  fi
done

if ! command -v "$python" >/dev/null 2>&1; then
  say "$python not found; will try Debian's packages (which bring /usr/bin/python3)"
  python=""
  missing=("${packages[@]}")
else
  mapfile -t missing < <(missing_in "$python")
  if [ "${#missing[@]}" -eq 0 ]; then
    say "$(versions_in "$python") already import in $(command -v "$python"); nothing to do"
    exit 0
  fi
fi

if [ -n "$python" ]; then
  if "$python" -m pip --version >/dev/null 2>&1; then
    say "installing ${missing[*]} with $python -m pip"
    log="$(mktemp)"
    if "$python" -m pip install --quiet "${missing[@]}" >"$log" 2>&1 && [ -z "$(missing_in "$python")" ]; then
      rm -f "$log"
      say "installed with pip for $(command -v "$python"): $(versions_in "$python")"
      exit 0
    fi
    if grep -q "externally-managed-environment" "$log"; then
      say "pip refused: this Python is externally managed (PEP 668)"
    else
      say "pip could not install ${missing[*]}:"
      sed 's/^/    /' "$log" | tail -n 15
    fi
    rm -f "$log"
  else
    say "$python has no pip"
  fi
fi

if ! command -v apt-get >/dev/null 2>&1; then
  say "no apt-get on this machine: install ${missing[*]} for $python by hand (e.g. in a virtual environment:"
  say "  python3 -m venv .venv && .venv/bin/pip install ${packages[*]} && .venv/bin/python scripts/figures.py ...)"
  exit 1
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    sudo="sudo"
  else
    say "need root (or sudo) to install Debian's python3 packages with apt-get"
    exit 1
  fi
fi

debian=("${packages[@]/#/python3-}")
say "installing Debian's ${debian[*]} with ${sudo:+sudo }apt-get"
export DEBIAN_FRONTEND=noninteractive
if ! $sudo apt-get update -qq || ! $sudo apt-get install -y -qq --no-install-recommends "${debian[@]}"; then
  say "apt-get could not install ${debian[*]}"
  exit 1
fi

if [ -x /usr/bin/python3 ] && [ -z "$(missing_in /usr/bin/python3)" ]; then
  say "installed for /usr/bin/python3: $(versions_in /usr/bin/python3)"
  if [ -z "$python" ] || [ "$(command -v "$python")" != "/usr/bin/python3" ]; then
    say "your python3 is ${python:+$(command -v "$python")}${python:-missing}, not /usr/bin/python3: run the figures with"
    say "  /usr/bin/python3 scripts/figures.py RUN_DIR"
  fi
  exit 0
fi
say "Debian's packages are installed but /usr/bin/python3 still cannot import: $(missing_in /usr/bin/python3 | tr '\n' ' ')"
exit 1
