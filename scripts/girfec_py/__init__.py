"""The Python side of girfec: reading its output folders and drawing figures.

Modules:
  schema     every output file's columns, declared once (checked against docs/ by scripts/tests)
  runfolder  reading output folders: manifest, CSV tables with typed, checked cells, errors naming the place
  style      the plot style shared by every figure: palette, fonts, legends, footers, file formats
  frames     a run folder as typed pandas DataFrames: `girfec_py.load(RUN_DIR)` (pandas)
  psa        the PSA in the layout of R's dampack: `girfec_py.make_psa(RUN_DIR)` (pandas)
  workbook   one Excel workbook of a run's key tables: `python3 -m girfec_py.workbook RUN_DIR` (pandas, openpyxl)

The figure and data scripts beside this package (scripts/figures.py, ...) are
thin entry points; they find the package because Python puts a script's own
folder first on the import path. Standard library only, except `style`,
which needs matplotlib, and `frames`, `psa` and `workbook`, which need pandas
(imported only when used). `python3 -m pip install ./scripts` installs the
package (scripts/pyproject.toml; docs/r-and-python.md).
"""


def __getattr__(name):
    # girfec_py.load and girfec_py.make_psa, importing pandas only when asked for
    if name == "load":
        from .frames import load
        return load
    if name == "make_psa":
        from .psa import make_psa
        return make_psa
    raise AttributeError(f"module 'girfec_py' has no attribute {name!r}")
