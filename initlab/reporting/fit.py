"""Tables that fit the console with no number cut: ``needed_width``, ``fits``, ``prints_whole``,
``break_label`` and ``fit_tables``, which lays columns out as the fewest tables stacked one above
the other."""

from __future__ import annotations

import itertools
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from rich.cells import cell_len
from rich.console import Console, JustifyMethod, RenderableType
from rich.markup import escape
from rich.measure import Measurement
from rich.table import Table

from initlab.reporting.format import styled

UNLIMITED = 100_000  # a console width no table reaches: measures what a table needs



def needed_width(console: Console, renderable: RenderableType) -> int:
    """Columns ``renderable`` needs to print with nothing wrapped, shrunk or cut: Rich's maximum
    measurement taken at an unlimited width. A table's title and caption wrap to the table's
    width and do not count."""
    options = console.options.update_width(UNLIMITED)
    return Measurement.get(console, options, renderable).maximum


def fits(console: Console, *renderables: RenderableType) -> bool:
    """Whether every renderable prints within the console's width without wrapping or cuts."""
    return all(needed_width(console, r) <= console.width for r in renderables)


def prints_whole(console: Console, renderable: RenderableType) -> bool:
    """Whether ``renderable`` prints within the console's width with nothing cut: it fits
    unwrapped, or Rich's wrapping of it at this width keeps every character (no cell cut with
    '…', no column squeezed away, no line cropped)."""
    if fits(console, renderable):
        return True
    return _ink(console, renderable, console.width) == _ink(console, renderable, UNLIMITED)


def _ink(console: Console, renderable: RenderableType, width: int) -> Counter[str]:
    """The characters a renderable prints at ``width``, less blanks and box drawing (rules
    stretch with the width)."""
    lines = console.render_lines(renderable, console.options.update_width(width), pad=False)
    return Counter(ch for line in lines for segment in line for ch in segment.text
                   if not ch.isspace() and not "\u2500" <= ch <= "\u257f")


def _pieces(label: str) -> list[str]:
    """The label cut after each '(', ',' and space: the pieces no line break may split."""
    return [p for p in re.findall(r"[^(, ]*(?:\(|, ?| |$)", label) if p]


def break_label(label: str, width: int | None = None) -> str:
    """A label over several lines no wider than ``width`` (default: its widest unbreakable
    piece), broken only after '(', ',' or a space: 'normal(std=0.5)' → 'normal(' above
    'std=0.5)'. Numbers in it stay whole; a label that fits comes back as it is."""
    pieces = _pieces(label)
    if width is None:
        width = max((cell_len(p.rstrip()) for p in pieces), default=0)
    if cell_len(label) <= width or len(pieces) < 2:
        return label
    lines = [""]
    for p in pieces:
        if lines[-1] and cell_len((lines[-1] + p).rstrip()) > width:
            lines.append("")
        lines[-1] += p
    return "\n".join(line.rstrip() for line in lines)


def break_labels(labels: Sequence[str]) -> list[str]:
    """A column of labels broken as narrow as its widest unbreakable piece allows."""
    width = max((cell_len(p.rstrip()) for label in labels for p in _pieces(label)), default=0)
    return [break_label(label, width) for label in labels]


def stack_header(header: str, cells: Sequence[str]) -> str:
    """A header wider than all its cells, its words put on lines of their own where that makes
    it narrower ('train acc' above 0.9933: 'train' above 'acc'); otherwise (or when it already
    has its lines) the header as it is."""
    cell_width = max((cell_len(line) for c in cells for line in c.split("\n")), default=0)
    words = header.split(" ")
    if "\n" in header or len(words) < 2 or cell_len(header) <= cell_width:
        return header
    width = max(cell_width, *(cell_len(w) for w in words))
    lines = [words[0]]
    for w in words[1:]:
        if cell_len(f"{lines[-1]} {w}") <= width:
            lines[-1] += f" {w}"
        else:
            lines.append(w)
    return "\n".join(lines)


@dataclass(frozen=True)
class Col:
    """One column of a table that ``fit_tables`` lays out: the header (a newline starts its
    next line), the cells (plain text, one per row, a newline for a second line), the
    justification, a group (neighbouring columns of one group stay in one table), and whether
    a header wider than the cells may be stacked (``stack_header``)."""

    header: str
    cells: Sequence[str]
    justify: JustifyMethod = "right"
    group: str | None = None
    stack: bool = True


def column_table(title: str | None, cols: Sequence[Col], caption: str | None = None,
                 row_styles: Sequence[str | None] | None = None,
                 end_sections: Sequence[bool] | None = None) -> Table:
    """A table in initlab's style from columns, none of which wraps or shrinks: a header
    wider than its cells is stacked (``stack_header``) unless the column says not to."""
    t = styled(title)
    if caption is not None:
        t.caption = caption
        t.caption_justify = "left"
    for c in cols:
        head = stack_header(c.header, c.cells) if c.stack else c.header
        t.add_column(escape(head), justify=c.justify, no_wrap=True)
    for i in range(len(cols[0].cells) if cols else 0):
        t.add_row(*[escape(c.cells[i]) for c in cols],
                  style=None if row_styles is None else row_styles[i],
                  end_section=bool(end_sections is not None and end_sections[i]))
    return t


def _groups(cols: Sequence[Col]) -> list[tuple[int, ...]]:
    """Indices of the columns, neighbours of one (non-None) group together."""
    out: list[list[int]] = []
    for i, c in enumerate(cols):
        if out and c.group is not None and cols[out[-1][-1]].group == c.group:
            out[-1].append(i)
        else:
            out.append([i])
    return [tuple(g) for g in out]


def fit_tables(console: Console, title: str, variants: Sequence[tuple[Sequence[Col],
               Sequence[Col]]], caption: str | None = None,
               row_styles: Sequence[str | None] | None = None,
               end_sections: Sequence[bool] | None = None) -> list[Table]:
    """The fewest tables, stacked one above the other, that show the columns within the console:
    each variant is (key columns, columns), e.g. the init label whole then broken onto two
    lines; a split repeats the key columns in every table and cuts between groups where the
    widest part is narrowest. Tried in order: one table of each variant, then two, … The first
    table carries the title, the last the caption. When nothing fits, the most split layout of
    the last variant. Each variant is tried with its headers as given before stacking those
    wider than their cells."""
    variants = _with_stacking(variants)

    def build(v: int, parts: list[tuple[int, ...]]) -> list[Table]:
        keys, cols = variants[v]
        return [column_table(title if n == 0 else None, [*keys, *(cols[i] for i in part)],
                             caption if n == len(parts) - 1 else None, row_styles, end_sections)
                for n, part in enumerate(parts)]

    # A table of these columns is as wide as its columns measured one per table (edge and
    # padding of a lone column = separator and padding between two), and a lone column of
    # plain text as its widest line plus that edge: a part's width adds up from its columns'
    # widest lines. The choice is checked on the real tables, and searched again measuring whole
    # tables if that ever disagrees.
    edge = needed_width(console, column_table(None, [Col("x", ["x"])])) - 1

    def lone_width(col: Col) -> int:
        head = stack_header(col.header, col.cells) if col.stack else col.header
        return edge + max(cell_len(line) for text in (head, *col.cells)
                          for line in text.split("\n"))

    lone = [([lone_width(c) for c in keys], [lone_width(c) for c in cols])
            for keys, cols in variants]

    def added(v: int, part: tuple[int, ...]) -> int:
        return sum(lone[v][0]) + sum(lone[v][1][i] for i in part)

    def measured(v: int, part: tuple[int, ...]) -> int:
        keys, cols = variants[v]
        return needed_width(console, column_table(None, [*keys, *(cols[i] for i in part)],
                                                  row_styles=row_styles))

    choice = _fewest_parts(variants, console.width, added)
    if choice is not None and not fits(console, *build(*choice)):
        choice = _fewest_parts(variants, console.width, measured)
    if choice is None:
        return build(len(variants) - 1, _groups(variants[-1][1]))
    return build(*choice)


def _with_stacking(variants: Sequence[tuple[Sequence[Col], Sequence[Col]]],
                   ) -> list[tuple[list[Col], list[Col]]]:
    """Every variant first with no header stacked, then (where that changes a header) as given."""
    def flat(cols: Sequence[Col]) -> list[Col]:
        return [replace(c, stack=False) for c in cols]

    out = []
    for keys, cols in variants:
        out.append((flat(keys), flat(cols)))
        if any(c.stack and stack_header(c.header, c.cells) != c.header for c in (*keys, *cols)):
            out.append((list(keys), list(cols)))
    return out


def _fewest_parts(variants: Sequence[tuple[Sequence[Col], Sequence[Col]]], width: int,
                  part_width: Any) -> tuple[int, list[tuple[int, ...]]] | None:
    """(variant, parts) of ``fit_tables``' search, ``part_width(variant, part)`` telling how
    wide a part is; None when no split fits ``width``."""
    widths: dict[tuple[int, tuple[int, ...]], int] = {}

    def cached(v: int, part: tuple[int, ...]) -> int:
        if (v, part) not in widths:
            widths[v, part] = part_width(v, part)
        return widths[v, part]

    grouped = [_groups(cols) for _, cols in variants]
    for k in range(1, max(len(g) for g in grouped) + 1):
        for v, groups in enumerate(grouped):
            if k > len(groups):
                continue
            best: tuple[int, list[tuple[int, ...]]] | None = None
            for cuts in itertools.combinations(range(1, len(groups)), k - 1):
                bounds = (0, *cuts, len(groups))
                parts = [sum(groups[a:b], ()) for a, b in itertools.pairwise(bounds)]
                widest = max(cached(v, p) for p in parts)
                if widest <= width and (best is None or widest < best[0]):
                    best = (widest, parts)
            if best is not None:
                return v, best[1]
    return None


def print_all(console: Console, renderables: Sequence[RenderableType]) -> None:
    """Print each renderable (the stacked tables of ``fit_tables``) in turn."""
    for r in renderables:
        console.print(r)
