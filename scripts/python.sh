#!/usr/bin/env bash
# Print the Python interpreter that has the packages of install-python-deps.sh
# (matplotlib, numpy, emcee, pandas, openpyxl): python3 when it imports them all, else Debian's
# /usr/bin/python3 when it does; failing both, the first of the two that imports
# matplotlib (the figure scripts need only that; the emcee, pandas and openpyxl tests then skip).
all="import matplotlib, numpy, emcee, pandas, openpyxl"
for python in "$(command -v python3)" /usr/bin/python3; do
  if [ -x "$python" ] && "$python" -c "$all" >/dev/null 2>&1; then echo "$python"; exit 0; fi
done
for python in "$(command -v python3)" /usr/bin/python3; do
  if [ -x "$python" ] && "$python" -c "import matplotlib" >/dev/null 2>&1; then echo "$python"; exit 0; fi
done
echo "python.sh: no Python with matplotlib; run scripts/install-python-deps.sh" >&2
exit 1
