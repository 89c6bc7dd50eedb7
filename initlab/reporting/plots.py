"""The pictures of ``--plot`` and ``initlab report``: PNG files, each with an SVG beside it.

Drawing only: the numbers come from ``initlab.commands.figures``. matplotlib is imported inside
the draw functions, never when this module is imported (``initlab --help`` does not load it),
and only its object-oriented API is used (a ``Figure`` on an Agg canvas, no pyplot): no global
state, and a figure is freed as soon as it is saved. Every file is written atomically.

- ``draw_run``: ``decision_boundary.png`` (2-D classification data sets), ``cost.png``,
  ``layers.png``;
- ``draw_probe``: ``depth.png``, and ``histograms.png`` when the probe computed histograms.
"""

from __future__ import annotations

import io
import textwrap
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from initlab.commands import figures
from initlab.errors import InitlabError
from initlab.reporting.folder import atomic_write

if TYPE_CHECKING:
    from initlab.commands.probe import InitProbe
    from initlab.experiments.runner import RunResult

INSTALL_HINT = "pictures need matplotlib: pip install 'initlab[plot]'"
DPI = 100
# one colour per initializer, in the order given (matplotlib's tab10)
COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
           "#7f7f7f", "#bcbd22", "#17becf")
# binary classes as the notebook shows them (Spectral: class 0 red, class 1 blue); regions in a
# light shade of the points' colour
CLASS_POINTS = ("#d7191c", "#2b83ba")
CLASS_REGIONS = ("#f9b9a7", "#a9cfe6")
NO_CLASS_REGION = "#d9d9d9"
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "<", ">", "*")  # one per initializer, too
MAX_PANEL_COLUMNS = 4
TITLE_CHAR_PX = 8.8  # mean width of a 12 pt title character at DPI (DejaVu Sans)
LEGEND_CHAR_PX = 5.8  # of a 9 pt legend character
LEGEND_HANDLE_PX = 45  # a legend entry's marker, padding and column gap
AT_INIT = {"linestyle": "--", "markerfacecolor": "white"}  # per-layer lines: hollow, dashed
AFTER = {"linestyle": "-"}  # after training: filled, solid


def missing() -> str | None:
    """None when matplotlib can be imported, else one line saying how to install it."""
    try:
        import matplotlib  # noqa: F401, PLC0415
    except ImportError:
        return INSTALL_HINT
    return None


def draw_run(folder: Path, result: RunResult) -> list[Path]:
    """The pictures of a run or compare into ``folder``: decision_boundary.png (2-D
    classification data sets only), cost.png, layers.png; the PNG paths, in that order.
    Without matplotlib: an InitlabError with ``missing()``'s line, and nothing written."""
    _require()
    folder = Path(folder)
    written = []
    found = figures.boundaries(result)
    if found is not None:
        written.append(_save(_boundary_figure(found), folder, "decision_boundary"))
    written.append(_save(_cost_figure(figures.cost_curves(result)), folder, "cost"))
    written.append(_save(_layers_figure(figures.layer_lines(result)), folder, "layers"))
    return written


def draw_probe(folder: Path, found: list[InitProbe]) -> list[Path]:
    """The pictures of a probe into ``folder``: depth.png, and histograms.png when the results
    carry histograms; the PNG paths. Without matplotlib: as ``draw_run``."""
    _require()
    folder = Path(folder)
    written = [_save(_depth_figure(figures.depth_lines(found)), folder, "depth")]
    hist = figures.histograms(found)
    if hist is not None:
        written.append(_save(_histogram_figure(hist), folder, "histograms"))
    return written


# ------------------------------------------------------------------------------ helpers

def _require() -> None:
    hint = missing()
    if hint is not None:
        raise InitlabError(hint)


def _new_figure(width: float, height: float) -> Any:
    """A figure of width × height inches on an Agg canvas, outside pyplot."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: PLC0415
    from matplotlib.figure import Figure  # noqa: PLC0415

    fig = Figure(figsize=(width, height), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _save(fig: Any, folder: Path, stem: str) -> Path:
    """``stem``.png and ``stem``.svg into ``folder``, each written atomically; the PNG path.

    The layout is computed once, for the PNG; the SVG keeps it."""
    rendered = {}
    try:
        for fmt, metadata in (("png", {"Software": None}), ("svg", {"Date": None})):
            buf = io.BytesIO()
            fig.savefig(buf, format=fmt, dpi=DPI, metadata=metadata)
            rendered[fmt] = buf.getvalue()
            fig.set_layout_engine("none")
    finally:
        fig.clear()
    for fmt, data in rendered.items():
        atomic_write(folder / f"{stem}.{fmt}", data)
    return folder / f"{stem}.png"


def _suptitle(fig: Any, text: str) -> None:
    """The figure's title, on as many lines as its width needs."""
    chars = max(20, int(fig.get_figwidth() * DPI / TITLE_CHAR_PX))
    fig.suptitle("\n".join(textwrap.wrap(text, chars, break_on_hyphens=False)))


def _legend(fig: Any, handles: list[Any], columns: int) -> None:
    """A legend below the panels: ``columns`` columns, fewer when they would not fit in the
    figure's width."""
    longest = max(len(h.get_label()) for h in handles)
    fit = int(fig.get_figwidth() * DPI // (longest * LEGEND_CHAR_PX + LEGEND_HANDLE_PX))
    fig.legend(handles=handles, loc="outside lower center", fontsize=9, frameon=False,
               ncols=max(1, min(columns, fit, len(handles))))


def _colour(i: int) -> str:
    return COLOURS[i % len(COLOURS)]


def _marker(i: int) -> dict[str, Any]:
    """Initializer i's marker; later ones smaller, so that equal points stay visible."""
    return {"marker": MARKERS[i % len(MARKERS)], "markersize": max(3.5, 7.5 - 0.6 * i)}


def _runs(kinds: list[str | None]) -> list[tuple[int, int]]:
    """[start, stop) of every run of equal, not-None kinds."""
    out, start = [], 0
    for l in range(1, len(kinds) + 1):
        if l == len(kinds) or kinds[l] != kinds[start]:
            if kinds[start] is not None:
                out.append((start, l))
            start = l
    return out


def _scale(ax: Any, scale: str, linthresh: float, axis: str = "y") -> None:
    setter = ax.set_yscale if axis == "y" else ax.set_xscale
    if scale == "symlog":
        setter("symlog", linthresh=linthresh)
    else:
        setter(scale)


def _scale_note(scale: str) -> str:
    return {"log": ", log scale", "symlog": ", log scale (0 at the bottom)"}.get(scale, "")


def _positive(values: np.ndarray, scale: str) -> np.ndarray:
    """The values a log axis can show (others NaN, so the line breaks there)."""
    return np.where(values > 0, values, np.nan) if scale == "log" else values


def _accuracy(value: float | None) -> str:
    return "—" if value is None else f"{value:.3f}"


# -------------------------------------------------------------------- decision boundary

def _boundary_figure(found: figures.Boundaries) -> Any:
    from matplotlib.colors import to_rgb  # noqa: PLC0415
    from matplotlib.lines import Line2D  # noqa: PLC0415
    from matplotlib.patches import Patch  # noqa: PLC0415

    n = len(found.panels)
    cols = min(n, MAX_PANEL_COLUMNS)
    rows = -(-n // cols)
    side = min(4.0, 15.0 / cols, 8.0 / rows)
    fig = _new_figure(side * cols + 0.4, side * rows + 1.6)
    axes = fig.subplots(rows, cols, squeeze=False, sharex=True, sharey=True)
    if found.n_classes == 2:
        points, regions = list(CLASS_POINTS), list(CLASS_REGIONS)
    else:
        points = [_colour(c) for c in range(found.n_classes)]
        regions = [tuple(0.55 + 0.45 * v for v in to_rgb(c)) for c in points]
    palette = np.array([to_rgb(NO_CLASS_REGION)] + [to_rgb(c) for c in regions])
    for i, panel in enumerate(found.panels):
        ax = axes[i // cols][i % cols]
        ax.imshow(palette[panel.classes + 1], origin="lower", extent=found.extent,
                  interpolation="nearest", aspect="auto")
        for c in range(found.n_classes):
            mine = found.labels == c
            ax.scatter(found.points[0, mine], found.points[1, mine], s=14, c=points[c],
                       edgecolors="black", linewidths=0.3)
        ax.set_xlim(found.extent[0], found.extent[1])
        ax.set_ylim(found.extent[2], found.extent[3])
        seed = (f"seed {panel.seed}, median of {panel.n_seeds} seeds" if panel.n_seeds > 1
                else f"seed {panel.seed}")
        scores = ("diverged" if panel.diverged else
                  f"train {_accuracy(panel.train_accuracy)}, "
                  f"test {_accuracy(panel.test_accuracy)}")
        ax.set_title(f"{panel.init}\n{seed}\naccuracy: {scores}", fontsize=10)
        ax.set_xlabel("$x_1$")
        ax.set_ylabel("$x_2$")
        ax.label_outer()
    for j in range(n, rows * cols):
        axes[j // cols][j % cols].set_visible(False)
    handles = []
    for c in range(found.n_classes):
        handles.append(Patch(facecolor=regions[c], edgecolor="none",
                             label=f"predicted class {c}"))
        handles.append(Line2D([], [], linestyle="none", marker="o", markersize=6,
                              markerfacecolor=points[c], markeredgecolor="black",
                              markeredgewidth=0.3, label=f"training point, class {c}"))
    columns = found.n_classes
    if any(p.diverged for p in found.panels):  # a last column: the grey of a diverged panel
        handles += [Patch(facecolor=NO_CLASS_REGION, edgecolor="none",
                          label="no prediction (output not finite)"),
                    Patch(alpha=0.0, label=" ")]
        columns += 1
    _legend(fig, handles, columns)  # filled column by column: regions above, points below
    _suptitle(fig, f"Decision boundary after training — {found.title}")
    return fig


# ----------------------------------------------------------------------------- cost

def _cost_figure(found: figures.CostFigure) -> Any:
    from matplotlib.lines import Line2D  # noqa: PLC0415

    fig = _new_figure(10.0, 5.6)
    ax = fig.subplots()
    handles = []
    lo, hi = found.band
    for i, curve in enumerate(found.curves):
        colour = _colour(i)
        several = curve.n_seeds > 1
        median = _positive(curve.median, found.scale)
        line = ax.plot(curve.iterations, median, color=colour, linewidth=1.8)[0]
        if several:
            band = ax.fill_between(curve.iterations, _positive(curve.low, found.scale),
                                   _positive(curve.high, found.scale), color=colour,
                                   alpha=0.18, linewidth=0)
            handles.append(((band, line), f"{curve.init}: median and {lo:.0%}–{hi:.0%} of "
                                          f"{curve.n_seeds} seeds"))
        else:
            handles.append((line, f"{curve.init} (seed {curve.seeds[0]})"))
        if curve.diverged:
            marks = [d for d in curve.diverged if d.cost is not None]
            ax.scatter([d.iteration for d in marks], [d.cost for d in marks], marker="x",
                       s=70, linewidths=2, color=colour, zorder=5)
            unplaced = [d for d in curve.diverged if d.cost is None]
            for d in unplaced:  # diverged before its first finite cost: mark on the top edge
                ax.plot(d.iteration, 1.0, marker="x", markersize=9, markeredgewidth=2,
                        color=colour, transform=ax.get_xaxis_transform(), clip_on=False,
                        zorder=5)
            cross = Line2D([], [], linestyle="none", marker="x", markersize=8,
                           markeredgewidth=2, color=colour)
            seeds = ", ".join(str(d.seed) for d in curve.diverged[:6])
            more = ", …" if len(curve.diverged) > 6 else ""
            handles.append((cross, f"{curve.init}: {len(curve.diverged)} diverged (seed "
                                   f"{seeds}{more}): last finite cost"))
    _scale(ax, found.scale, found.linthresh)
    ax.set_xlabel("iteration")
    ax.set_ylabel(f"training cost ({found.loss}){_scale_note(found.scale)}")
    ax.grid(True, which="major", alpha=0.3)
    ax.legend([h for h, _ in handles], [label for _, label in handles], loc="upper right",
              fontsize=9)
    band = (f"median and {lo:.0%}–{hi:.0%} band over seeds" if found.n_seeds > 1 else
            "one seed")
    ax.set_title(f"Training cost — {found.title}: {band}")
    return fig


# --------------------------------------------------------------------------- layers

def _style_handles() -> list[Any]:
    from matplotlib.lines import Line2D  # noqa: PLC0415

    return [Line2D([], [], color="black", marker="o", markersize=6, label="at initialization",
                   **AT_INIT),
            Line2D([], [], color="black", marker="o", markersize=6, label="after training",
                   **AFTER)]


def _layers_figure(found: figures.LayersFigure) -> Any:
    from matplotlib.lines import Line2D  # noqa: PLC0415

    panels = 2 if found.has_share else 1
    fig = _new_figure(6.0 * panels + 0.6, 5.6)
    axes = fig.subplots(1, panels, squeeze=False)[0]
    x = found.layers
    names = [f"{l}\n{a}\n{u} unit{'s' if u != 1 else ''}"
             for l, a, u in zip(x, found.activations, found.units, strict=True)]
    runs = _runs(found.share_kind)
    for i, line in enumerate(found.lines):
        style = {"color": _colour(i), **_marker(i)}
        for values, look in ((line.std_init, AT_INIT), (line.std_final, AFTER)):
            axes[0].plot(x, _positive(values, found.std_scale), **look, **style)
        if panels == 2:  # a dead share and a saturated share are not joined by a line
            for values, look in ((line.share_init, AT_INIT), (line.share_final, AFTER)):
                for a, b in runs:
                    axes[1].plot(x[a:b], 100 * values[a:b], **look, **style)
    _scale(axes[0], found.std_scale, found.std_linthresh)
    axes[0].set_ylabel(f"activation std{_scale_note(found.std_scale)}")
    axes[0].set_title("activation std")
    axes[0].set_xticks(x, names, fontsize=8)
    if panels == 2:
        what = {"saturated": "saturated", "dead": "dead", None: "n/a"}
        axes[1].set_xticks(x, [f"{n}\n({what[k]})" for n, k in zip(names, found.share_kind,
                                                                     strict=True)], fontsize=8)
        axes[1].set_ylabel("share of units, %\nsaturated: within 0.01 of a bound; "
                           "dead: 0 on every sample", fontsize=9)
        axes[1].set_ylim(-3, 103)
        axes[1].set_title("saturated (tanh, sigmoid) or dead (ReLU) units")
    for ax in axes:
        ax.set_xlabel("layer")
        ax.set_xlim(x[0] - 0.3, x[-1] + 0.3)
        ax.grid(True, alpha=0.3)
    seeds = max(line.n_seeds for line in found.lines)
    handles = [Line2D([], [], color=_colour(i), linewidth=2, label=line.init, **_marker(i))
               for i, line in enumerate(found.lines)] + _style_handles()
    _legend(fig, handles, 6)
    mean = f", mean over {seeds} seeds" if seeds > 1 else ""
    _suptitle(fig, f"Per-layer activations at initialization and after training — "
                   f"{found.title}{mean}")
    return fig


# ---------------------------------------------------------------------------- probe

def _depth_figure(found: figures.DepthFigure) -> Any:
    from matplotlib.lines import Line2D  # noqa: PLC0415

    fig = _new_figure(15.0, 5.0)
    mean_ax, std_ax, grad_ax = fig.subplots(1, 3)
    x = found.layers
    grad_values = np.concatenate([np.r_[line.grad_std, line.predicted_grad_std]
                                  for line in found.lines])
    grad_scale = "log" if (grad_values[np.isfinite(grad_values)] > 0).all() else "symlog"
    for i, line in enumerate(found.lines):
        colour, marker = _colour(i), _marker(i)
        mean_ax.plot(x, line.mean, color=colour, linestyle=":", linewidth=1, **marker)
        std_ax.plot(x, _positive(line.std, found.std_scale), color=colour, linestyle="none",
                    **marker)
        std_ax.plot(x, _positive(line.predicted_std, found.std_scale), color=colour)
        grad_ax.plot(x, _positive(line.grad_std, grad_scale), color=colour, linestyle="none",
                     **marker)
        grad_ax.plot(x, _positive(line.predicted_grad_std, grad_scale), color=colour)
    mean_ax.axhline(0.0, color="black", linewidth=0.6)
    mean_ax.set_ylabel("activation mean")
    mean_ax.set_title("activation mean (measured)")
    _scale(std_ax, found.std_scale, found.std_linthresh)
    std_ax.set_ylabel(f"activation std{_scale_note(found.std_scale)}")
    std_ax.set_title("activation std: measured vs mean-field")
    _scale(grad_ax, grad_scale, figures.smallest_positive(grad_values))
    grad_ax.set_ylabel(f"gradient std (dL/da){_scale_note(grad_scale)}")
    grad_ax.set_title("gradient std: measured vs predicted")
    for ax in (mean_ax, std_ax, grad_ax):
        ax.set_xlabel("layer (depth)")
        ax.set_xticks(x if len(x) <= 20 else x[::max(1, len(x) // 10)])
        ax.grid(True, alpha=0.3)
    inits = [Line2D([], [], color=_colour(i), linewidth=2, label=f"{line.init}: {line.formula}",
                    **_marker(i)) for i, line in enumerate(found.lines)]
    kinds = [Line2D([], [], color="black", marker="o", linestyle="none", label="measured"),
             Line2D([], [], color="black", label="mean-field prediction")]
    _legend(fig, inits + kinds, 5)
    _suptitle(fig, f"Signal propagation at initialization: {found.depth} layers")
    return fig


def _histogram_figure(found: figures.HistogramFigure) -> Any:
    from matplotlib.patches import Patch  # noqa: PLC0415

    rows, cols = len(found.rows), len(found.layers)
    height = min(1.5, 8.2 / rows)
    fig = _new_figure(min(16.0, 1.45 * cols + 1.2), height * rows + 1.4)
    axes = fig.subplots(rows, cols, squeeze=False, sharey="row")
    for r, (init, row) in enumerate(zip(found.inits, found.rows, strict=True)):
        for c, hist in enumerate(row):
            ax = axes[r][c]
            ax.stairs(100 * hist.shares, hist.edges, fill=True, color=_colour(r), alpha=0.85)
            ax.set_xlim(hist.edges[0], hist.edges[-1])
            ax.tick_params(labelsize=7)
            ax.locator_params(axis="x", nbins=3)
            ax.ticklabel_format(axis="x", style="sci", scilimits=(-2, 3))
            ax.xaxis.get_offset_text().set_fontsize(7)
            if r == 0:
                ax.set_title(f"layer {hist.layer}", fontsize=9)
            if r == rows - 1:
                ax.set_xlabel("activation", fontsize=8)
            if c == 0:
                ax.set_ylabel(f"{init}\n% of values", fontsize=8)
    handles = [Patch(facecolor=_colour(r), label=init) for r, init in enumerate(found.inits)]
    _legend(fig, handles, 6)
    shown = "" if len(found.layers) == found.depth else f" ({cols} of {found.depth} shown)"
    bins = len(found.rows[0][0].shares)
    _suptitle(fig, f"Activation histograms per layer{shown}, {bins} bins")
    return fig


def draw(saved: Any) -> list[Path]:
    """The pictures of a saved folder (``commands.report.Saved``) into that folder."""
    if saved.kind == "probe":
        return draw_probe(saved.folder, saved.probe)
    return draw_run(saved.folder, saved.run)
