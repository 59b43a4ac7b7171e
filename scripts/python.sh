#!/usr/bin/env bash
# Print the Python interpreter that has matplotlib (after install-python-deps.sh):
# python3 when it imports matplotlib, else Debian's /usr/bin/python3.
if python3 -c "import matplotlib" >/dev/null 2>&1; then
  command -v python3
elif [ -x /usr/bin/python3 ] && /usr/bin/python3 -c "import matplotlib" >/dev/null 2>&1; then
  echo /usr/bin/python3
else
  echo "python.sh: no Python with matplotlib; run scripts/install-python-deps.sh" >&2
  exit 1
fi
