"""The plot style every girfec figure shares: palette, fonts, bands, legends, footers, files.

Colours are the Okabe & Ito (2008) colour-blind-safe palette, most distinct
first (yellow last: it is hard to see on white); arms, areas and series take
them in order. Titles sit above the panels with the run's name, the legend
below them and the provenance footer (girfec version, seed, replications)
under the legend. Files are reproducible: the same figure gives the same
bytes (no creation date in PDF or SVG). Drawing needs matplotlib (imported
here, with the Agg backend; scripts/install-python-deps.sh installs it); the
constants, labels and `parse_formats` work without it (`plt` is then None).
"""
import math
import os

try:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
except ImportError:  # the scripts say so in main(); see MISSING
    matplotlib = plt = None

MISSING = "matplotlib is not installed; run scripts/install-python-deps.sh"

OKABE_ITO = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442"]
AGGREGATE_STYLES = [(0, (5, 2)), (0, (1, 1.5)), (0, (6, 2, 1, 2))]  # dashes of the aggregate model's lines, by mode
LINE_STYLES = [(0, ()), (0, (6, 2)), (0, (2, 1.5)), (0, (6, 2, 1.5, 2))]  # to tell arms apart without colour
FORMATS = ("png", "pdf", "svg")
PNG_DPI = 200

BAND_OUTER_ALPHA = 0.15  # 2.5–97.5 % of replications
BAND_INNER_ALPHA = 0.32  # 25–75 % of replications
GRID = {"alpha": 0.25, "linewidth": 0.5}
NEUTRAL = "0.55"  # grey of legend patches that stand for every arm's band
FOOTER_GREY = "0.35"

BAND_OUTER = "95 % of replications (2.5–97.5 percentiles)"
BAND_INNER = "50 % of replications (25–75 percentiles)"

RC = {"pdf.fonttype": 42, "ps.fonttype": 42,  # TrueType fonts in PDF and PS: editable text
      "font.size": 9, "axes.titlesize": 10, "axes.labelsize": 9, "svg.hashsalt": "girfec"}


def apply():
    """Set the shared fonts and file settings (matplotlib's rcParams)."""
    plt.rcParams.update(RC)


def colour(i):
    """The i-th colour of the palette (0: the first arm), cycling."""
    return OKABE_ITO[i % len(OKABE_ITO)]


def aggregate_style(i):
    """The dash pattern of the i-th aggregate-model mode."""
    return AGGREGATE_STYLES[i % len(AGGREGATE_STYLES)]


def thousands(x, _pos=None, digits=6):
    """Tick label with thousands separators and a true minus sign: 12,500, −17.5, 0.25 (`digits` significant)."""
    text = f"{x:,.0f}" if abs(x) >= 1000 else f"{x:.{digits}g}"
    return "0" if text in ("-0", "0") else text.replace("-", "−")


def pounds(x, _pos=None):
    """£12,000 or −£12,000."""
    return ("−£" if x < 0 else "£") + f"{abs(x):,.0f}"


def new_figure(nrows, ncols, width=None, height=None, sharex=True, **kwargs):
    """A figure of nrows × ncols panels (axes always 2-D), 4.4 × 2.9 inches a panel unless given."""
    width = width or (4.4 * ncols + 0.6)
    height = height or (2.9 * nrows + 0.9)
    return plt.subplots(nrows, ncols, figsize=(width, height), sharex=sharex, squeeze=False, layout="constrained",
                        **kwargs)


def new_axes(width, height):
    """A figure with one panel."""
    return plt.subplots(figsize=(width, height), layout="constrained")


def finish(fig, title, subtitle=None, handles=None, footer=None, ncol=None, handlelength=None, fontsize=8.5):
    """Title (and subtitle) above, a legend below the panels, and the footer under the legend, right-aligned."""
    fig.suptitle("\n".join(t for t in (title, subtitle) if t), fontsize=11)
    y = 0.0
    if handles:
        legend = fig.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, 0.0),
                            ncol=ncol or min(len(handles), 3), frameon=False, fontsize=fontsize,
                            handlelength=handlelength)
        if footer is not None:
            fig.canvas.draw()  # lay out, so the legend's extent is known
            y = legend.get_window_extent().transformed(fig.transFigure.inverted()).y0
    if footer is not None:
        fig.text(0.995, y - 0.01, footer, ha="right", va="top", fontsize=7, color=FOOTER_GREY)


def save(fig, folder, name, formats=("png",)):
    """Write the figure as folder/name.FORMAT for each format (PNG at 200 dpi), close it, return the paths."""
    written = []
    for fmt in formats:
        path = os.path.join(folder, f"{name}.{fmt}")
        kwargs = {"bbox_inches": "tight", "pad_inches": 0.08}
        if fmt == "png":
            kwargs["dpi"] = PNG_DPI
        if fmt == "pdf":
            kwargs["metadata"] = {"CreationDate": None}  # same bytes on every run
        if fmt == "svg":
            kwargs["metadata"] = {"Date": None}
        fig.savefig(path, format=fmt, **kwargs)
        written.append(path)
    plt.close(fig)
    return written


def parse_formats(text):
    """(formats, None) from a comma-separated list, or (None, error text) when a format is unknown."""
    formats = [f.strip().lower() for f in text.split(",") if f.strip()]
    bad = [f for f in formats if f not in FORMATS]
    if bad or not formats:
        return None, f"--format: unknown format(s) {', '.join(bad) or '(none)'}; choose among {', '.join(FORMATS)}"
    return list(dict.fromkeys(formats)), None


def grid_shape(n):
    """(rows, columns) for n panels: one column for one panel, else two."""
    ncols = 1 if n == 1 else 2
    return math.ceil(n / ncols), ncols


def hide_unused(axes, used):
    """Hide the panels after the first `used`, keeping x tick labels on the panels above them."""
    flat = list(axes.flat)
    for ax in flat[used:]:
        ax.set_visible(False)
    for ax in flat[:used]:
        ax.xaxis.set_tick_params(labelbottom=True)
