"""How numbers and tables look: compact numbers, percentages, the table style, bar lines (tables
that fit the console are ``reporting.fit``'s)."""

from __future__ import annotations

from typing import Any

import numpy as np
from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table

SPARK = " ▁▂▃▄▅▆▇█"


def fmt(x: float | None, digits: int = 3) -> str:
    """Compact number: '—' for None, 3 significant digits, exponent for tiny/huge values."""
    if x is None:
        return "—"
    if not np.isfinite(x):
        return str(x)
    if x == 0:
        return "0"
    if 1e-2 <= abs(x) < 1e4:
        return f"{x:.{digits}g}"
    mantissa, exponent = f"{x:.1e}".split("e")
    return f"{mantissa}e{int(exponent)}"


def pct(x: float | None) -> str:
    """Percentage, whole numbers except '<1%' for small non-zero shares; '—' for None/NaN."""
    if x is None or np.isnan(x):
        return "—"
    return "<1%" if 0 < x < 0.005 else f"{100 * x:.0f}%"


def table(title: str) -> Table:
    """A table in initlab's style: a rule under the header, the title bold on the left."""
    return styled(title)


def styled(title: str | None) -> Table:
    """A table in initlab's style, with or without a title."""
    return Table(title=None if title is None else escape(title), box=box.SIMPLE_HEAD,
                 padding=(0, 0, 0, 1), pad_edge=False, title_justify="left", title_style="bold")


def sparkline(counts: list[int]) -> str:
    """Counts as a one-line bar chart, one character per bin, scaled to the largest bin."""
    top = max(counts) if counts and max(counts) > 0 else 1
    return "".join(SPARK[0 if c == 0 else max(1, round(8 * c / top))] for c in counts)


def curve_sparkline(values: np.ndarray, width: int = 40) -> str:
    """A curve as one line of bars from its minimum (▁) to its maximum (█), resampled to
    ``width`` points; non-finite points are drawn as '×'."""
    v = np.asarray(values, dtype=np.float64)
    v = v[np.linspace(0, v.size - 1, min(width, v.size)).round().astype(int)]
    finite = v[np.isfinite(v)]
    if finite.size == 0:
        return "×" * v.size
    lo, hi = finite.min(), finite.max()
    span = hi - lo if hi > lo else 1.0
    return "".join("×" if not np.isfinite(x) else SPARK[1 + round(7 * (x - lo) / span)]
                   for x in v)


def catalogue_table(console: Console, title: str, rows: list[dict], columns: list[str]) -> None:
    """A listing (initializers, data sets): one row per entry, the given keys as columns."""
    t = table(title)
    for c in columns:
        t.add_column(c, overflow="fold")
    for r in rows:
        t.add_row(*[escape(_cell(r.get(c))) for c in columns])
    console.print(t)


def describe_table(console: Console, title: str, lines: list[tuple[str, str]]) -> None:
    """One entry described: a bold title, then one 'what  value' row per line."""
    t = Table.grid(padding=(0, 2))
    t.add_column(style="bold cyan", no_wrap=True)
    t.add_column(overflow="fold")
    for what, value in lines:
        t.add_row(escape(what), escape(value))
    console.print(escape(title), style="bold", markup=False)
    console.print(t)


def _cell(v: Any) -> str:
    if isinstance(v, dict):
        return ", ".join(f"{k}={val}" for k, val in v.items()) or "—"
    return "" if v is None else str(v)
