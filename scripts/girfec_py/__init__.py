"""The Python side of girfec: reading its output folders and drawing figures.

Modules:
  schema     every output file's columns, declared once (checked against docs/ by scripts/tests)
  runfolder  reading output folders: manifest, CSV tables with typed, checked cells, errors naming the place
  style      the plot style shared by every figure: palette, fonts, legends, footers, file formats

The figure and data scripts beside this package (scripts/figures.py, ...) are
thin entry points; they find the package because Python puts a script's own
folder first on the import path. Standard library only, except `style`,
which needs matplotlib.
"""
