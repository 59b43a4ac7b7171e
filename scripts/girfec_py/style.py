"""The plot style every girfec figure shares: palette, fonts, bands, legends, footers, files.

Colours are the Okabe & Ito (2008) colour-blind-safe palette, most distinct
first (yellow last: it is hard to see on white); arms, areas and series take
them in order. Titles sit above the panels with the run's name, the legend
below them and the provenance footer (girfec version, seed, replications)
under the legend. Files are reproducible: the same figure gives the same
bytes (no creation date in PDF or SVG). Drawing needs matplotlib (imported
here, with the Agg backend; scripts/install-python-deps.sh installs it); the
constants, labels and `parse_formats` work without it (`plt` is then None).

Journal sizes: `configure(width="single" | "double", font_size=PT, dpi=N)`
before drawing makes every figure one journal column (85 mm) or two (175 mm)
wide, its text PT points (default 7 for one column, 8 for two, 9 otherwise:
journals ask for 6–8 pt at the printed size), and its PNG N dots per inch
(default 200). Titles, legends and footers are wrapped to the figure's width.
"""
import math
import os
import textwrap

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
WIDTHS_MM = {"single": 85.0, "double": 175.0}  # one and two journal columns: within Nature's 89 / 183 mm, Elsevier's 90 / 190
FONT_PT = {None: 9.0, "double": 8.0, "single": 7.0}  # default text size per width
MM_PER_INCH = 25.4
MAX_HEIGHT_INCHES = 7.5  # panels and titles at a journal width (190 mm): the legend and footer go below

BAND_OUTER_ALPHA = 0.15  # 2.5–97.5 % of replications
BAND_INNER_ALPHA = 0.32  # 25–75 % of replications
GRID = {"alpha": 0.25, "linewidth": 0.5}
NEUTRAL = "0.55"  # grey of legend patches that stand for every arm's band
FOOTER_GREY = "0.35"

BAND_OUTER = "95 % of replications (2.5–97.5 percentiles)"
BAND_INNER = "50 % of replications (25–75 percentiles)"

RC = {"pdf.fonttype": 42, "ps.fonttype": 42,  # TrueType fonts in PDF and PS: editable text
      "font.size": 9, "axes.titlesize": 10, "axes.labelsize": 9, "svg.hashsalt": "girfec"}


class Layout:
    """The size settings of every figure drawn: journal width (None: free), text size (points), PNG dpi."""

    def __init__(self, width=None, font_size=None, dpi=None):
        self.width = width
        self.font_size = float(font_size) if font_size else FONT_PT[width]
        self.dpi = int(dpi) if dpi else PNG_DPI

    @property
    def width_inches(self):
        """The journal width in inches (mm / 25.4), or None."""
        return WIDTHS_MM[self.width] / MM_PER_INCH if self.width else None


LAYOUT = Layout()


def configure(width=None, font_size=None, dpi=None):
    """Choose the journal width ("single", "double" or None), text size in points and PNG dpi of later figures."""
    global LAYOUT
    if width is not None and width not in WIDTHS_MM:
        raise ValueError(f"width {width!r}; expected one of {', '.join(WIDTHS_MM)}")
    LAYOUT = Layout(width, font_size, dpi)
    return LAYOUT


def pt(size):
    """A text size given for the 9-point default, scaled to the configured size (never below 5 pt)."""
    return max(5.0, size * LAYOUT.font_size / 9.0)


def apply():
    """Set the shared fonts and file settings (matplotlib's rcParams) for the configured text size."""
    plt.rcParams.update(RC)
    plt.rcParams.update({"font.size": LAYOUT.font_size, "axes.titlesize": pt(10), "axes.labelsize": LAYOUT.font_size,
                         "xtick.labelsize": pt(8.5), "ytick.labelsize": pt(8.5), "legend.fontsize": pt(8.5)})


def wrap(text, width_inches, size):
    """`text` broken into lines that fit `width_inches` at `size` points (a character taken as 0.6 em)."""
    chars = max(12, int(width_inches * 72 / (0.6 * size)))
    return "\n".join(textwrap.fill(line, chars, break_on_hyphens=False) if len(line) > chars else line for line in text.split("\n"))


def panel_title(ax, text, size=10, columns=None):
    """A panel's title in `size` points (9-point scale), wrapped to the panel's share of the figure's width."""
    fig = ax.get_figure()
    columns = columns or ax.get_gridspec().ncols
    room = fig.get_figwidth() / columns - (0.6 if LAYOUT.width else 0.2)  # the tick labels' share left of the panel
    fit_text(fig, ax.set_title("", fontsize=pt(size)), text, room)


def set_ylabel(ax, text):
    """The y-axis label, wrapped to the panel's share of the figure's height."""
    fig = ax.get_figure()
    room = fig.get_figheight() / ax.get_gridspec().nrows * 0.85
    ax.set_ylabel(wrap(text, room, plt.rcParams["axes.labelsize"] if isinstance(plt.rcParams["axes.labelsize"],
                                                                           (int, float)) else LAYOUT.font_size))


def journal_size(width, height, min_height=None):
    """(width, height) in inches: as given, or at the journal width with the height scaled alike (not below
    `min_height`)."""
    target = LAYOUT.width_inches
    if not target:
        return width, height
    return target, min(max(height * target / width, min_height or 0.0), MAX_HEIGHT_INCHES)


def colour(i):
    """The i-th colour of the palette (0: the first arm), cycling."""
    return OKABE_ITO[i % len(OKABE_ITO)]


def level_colours(n):
    """n colours for ordered levels, light (least intensive) to dark (most): viridis from 0.85 down to 0.1."""
    cmap = matplotlib.colormaps["viridis"]
    return [cmap(0.85 - 0.75 * i / max(1, n - 1)) for i in range(n)]


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
    width, height = journal_size(width, height, min_height=1.45 * nrows + 0.5)
    return plt.subplots(nrows, ncols, figsize=(width, height), sharex=sharex, squeeze=False, layout="constrained",
                        **kwargs)


def new_axes(width, height):
    """A figure with one panel (at the journal width when one is configured)."""
    return plt.subplots(figsize=journal_size(width, height, min_height=2.2), layout="constrained")


def finish(fig, title, subtitle=None, handles=None, footer=None, ncol=None, handlelength=None, fontsize=8.5):
    """Title (and subtitle) above, a legend below the panels, and the footer under the legend, right-aligned.

    Every text is wrapped to the figure's width (legend labels to their column's).
    """
    width = fig.get_figwidth()
    fit_text(fig, fig.suptitle("", fontsize=pt(11)), "\n".join(t for t in (title, subtitle) if t), width * 0.98)
    y = 0.0
    if handles:
        legend = fit_legend(fig, handles, ncol or min(len(handles), 3), pt(fontsize), handlelength)
        if footer is not None:  # the legend hangs from the figure's foot: its extent does not wait for the layout
            y = legend.get_window_extent(fig.canvas.get_renderer()).transformed(fig.transFigure.inverted()).y0
    if footer is not None:
        fit_text(fig, fig.text(0.995, y - 0.01, "", ha="right", va="top", fontsize=pt(7), color=FOOTER_GREY), footer,
                 width * 0.98)


def fit_text(fig, text, content, room):
    """Set `content` into the Text artist `text`, its lines wrapped at fewer characters until its measured width
    is at most `room` inches."""
    renderer = fig.canvas.get_renderer()
    limit = max(len(line) for line in content.split("\n"))
    while True:
        text.set_text("\n".join(textwrap.fill(line, limit, break_on_hyphens=False) if len(line) > limit else line
                                for line in content.split("\n")))
        if text.get_window_extent(renderer).width / fig.dpi <= room or limit <= 16:
            return text
        limit = max(16, int(limit * 0.9))


def fit_legend(fig, handles, ncol, size, handlelength=None):
    """A legend below the panels no wider than the figure: labels wrapped at fewer characters, then fewer
    columns, until its measured width fits (one column at one journal column's width)."""
    labels = [h.get_label() for h in handles]
    room = fig.get_figwidth() * 0.99
    ncol = 1 if LAYOUT.width == "single" else min(ncol, len(handles))
    longest = max(len(line) for label in labels for line in label.split("\n"))
    limit = longest
    while True:
        for h, label in zip(handles, labels):
            h.set_label("\n".join(textwrap.fill(line, limit, break_on_hyphens=False) if len(line) > limit else line
                                  for line in label.split("\n")))
        legend = fig.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, 0.0), ncol=ncol,
                            frameon=False, fontsize=size, handlelength=handlelength)
        if legend.get_window_extent(fig.canvas.get_renderer()).width / fig.dpi <= room or (limit <= 24 and ncol == 1):
            return legend
        legend.remove()
        if limit > 24:
            limit = max(24, int(limit * 0.85))
        else:
            ncol, limit = ncol - 1, longest


def save(fig, folder, name, formats=("png",)):
    """Write the figure as folder/name.FORMAT for each format (PNG at the configured dpi), close it, return the paths.

    The saved page is the drawing's extent plus a margin (0.08 inch; 0.02 at a journal width).
    """
    written = []
    pad = 0.02 if LAYOUT.width else 0.08
    if LAYOUT.width:  # a tick label overhanging a panel can widen the drawing: narrow the figure to make it fit
        screen_dpi = fig.dpi
        fig.set_dpi(LAYOUT.dpi)  # measured as savefig draws it: which tick labels show can depend on the dpi
        for _ in range(4):
            fig.canvas.draw()
            drawn = fig.get_tightbbox(fig.canvas.get_renderer(), bbox_extra_artists=fig.get_default_bbox_extra_artists())
            over = drawn.width + 2 * pad - LAYOUT.width_inches  # the extent savefig's "tight" measures
            if over <= 0.004:
                break
            fig.set_figwidth(fig.get_figwidth() - over - 0.01)
        fig.set_dpi(screen_dpi)
    for fmt in formats:
        path = os.path.join(folder, f"{name}.{fmt}")
        kwargs = {"bbox_inches": "tight", "pad_inches": pad}
        if fmt == "png":
            kwargs["dpi"] = LAYOUT.dpi
        if fmt == "pdf":
            kwargs["metadata"] = {"CreationDate": None}  # same bytes on every run
        if fmt == "svg":
            kwargs["metadata"] = {"Date": None}
        fig.savefig(path, format=fmt, **kwargs)
        written.append(path)
    plt.close(fig)
    return written


def write_caption(folder, name, text):
    """Write the caption beside the figure, as folder/name.caption.txt (UTF-8, one paragraph, spaces single);
    its path."""
    path = os.path.join(folder, f"{name}.caption.txt")
    with open(path, "w", encoding="utf-8") as f:
        f.write(" ".join(text.split()) + "\n")
    return path


def parse_formats(text):
    """(formats, None) from comma-separated lists (one, or several given as a list), or (None, error text)."""
    texts = [text] if isinstance(text, str) else list(text)
    formats = [f.strip().lower() for t in texts for f in t.split(",") if f.strip()]
    bad = [f for f in formats if f not in FORMATS]
    if bad or not formats:
        return None, f"--format: unknown format(s) {', '.join(bad) or '(none)'}; choose among {', '.join(FORMATS)}"
    return list(dict.fromkeys(formats)), None


def grid_shape(n):
    """(rows, columns) for n panels: one column for one panel or at one journal column's width, else two."""
    ncols = 1 if n == 1 or LAYOUT.width == "single" else 2
    return math.ceil(n / ncols), ncols


def hide_unused(axes, used):
    """Hide the panels after the first `used`, keeping x tick labels on the panels above them."""
    flat = list(axes.flat)
    for ax in flat[used:]:
        ax.set_visible(False)
    for ax in flat[:used]:
        ax.xaxis.set_tick_params(labelbottom=True)


def add_size_options(parser, default_formats):
    """--format, --width, --font-size and --dpi: the options every figure script takes."""
    parser.add_argument("--format", action="append", metavar="LIST",
                        help=f"file format(s) among {', '.join(FORMATS)}: comma-separated or the option repeated "
                             f"(default {default_formats})")
    parser.add_argument("--width", metavar="COLUMNS",
                        help="journal width: single (one column, 85 mm) or double (two columns, 175 mm); "
                             "default: a free size for the screen")
    parser.add_argument("--font-size", type=float, metavar="PT",
                        help="text size in points (default 7 for single, 8 for double, 9 otherwise)")
    parser.add_argument("--dpi", type=int, metavar="N", help=f"PNG resolution, dots per inch (default {PNG_DPI})")


def check_size_options(parser, args, default_formats):
    """Check the size options; set args.formats and configure the layout. parser.error (exit 2) names every problem."""
    problems = []
    args.formats, problem = parse_formats(args.format or [default_formats])
    if problem:
        problems.append(problem)
    if args.width is not None and args.width not in WIDTHS_MM:
        problems.append(f"--width: found {args.width!r}; expected single ({WIDTHS_MM['single']:g} mm) or double "
                        f"({WIDTHS_MM['double']:g} mm)")
    if args.font_size is not None and not (4 <= args.font_size <= 24):
        problems.append(f"--font-size: found {args.font_size:g}; expected a size in points from 4 to 24")
    if args.dpi is not None and not (50 <= args.dpi <= 2400):
        problems.append(f"--dpi: found {args.dpi}; expected dots per inch from 50 to 2400")
    if problems:
        parser.error("; ".join(problems))
    configure(args.width, args.font_size, args.dpi)
