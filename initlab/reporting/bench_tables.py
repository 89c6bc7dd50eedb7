"""What the benchmarks print: ``bench-train``'s timings and ``bench-rng``'s two tables."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from initlab.reporting.format import pct, table


def bench_table(console: Console, bench: object) -> None:
    """A ``commands.bench_train.Bench``: one row per method, baseline first."""
    same = any(r.same_accuracy is not None for r in bench.rows)
    per_iteration = any(r.us_per_iteration is not None for r in bench.rows)
    target = any(r.target for r in bench.rows)
    t = Table(title=bench.title, title_justify="left")
    for col in ("method", *(["models"] if per_iteration else []), "time (s)",
                *(["µs / iteration"] if per_iteration else []), f"vs {bench.baseline}",
                *(["same train acc"] if same else []), *([bench.note] if target else [])):
        t.add_column(col, justify="left" if col in ("method", bench.note) else "right")
    for r in bench.rows:
        cells = [r.method, *([str(r.models)] if per_iteration else []), f"{r.seconds:.3f}",
                 *([f"{r.us_per_iteration:.1f}"] if per_iteration else []), f"{r.speedup:.2f}×"]
        if same:
            cells.append("—" if r.same_accuracy is None else f"{r.same_accuracy}/{r.models} models")
        if target:
            cells.append(r.target)
        t.add_row(*cells)
    console.print(t)


def config_bench_table(console: Console, bench: object) -> None:
    """A ``commands.bench_config.ConfigBench``: one row per batch size, then PyTorch's."""
    share = any(r.peak_share is not None for r in bench.rows)
    t = table(bench.title)
    for col in ("method", "models", "init s", "train s", "µs/model-it", "GFLOP/s",
                *(["of peak"] if share else []), "vs E=1", "final cost"):
        t.add_column(col, justify="left" if col == "method" else "right",
                     no_wrap=col == "method")
    for r in bench.rows:
        t.add_row(r.method, str(r.models), f"{r.init_s:.3f}", f"{r.train_s:.3f}",
                  f"{r.us_per_model_iteration:.2f}",
                  f"{r.gflops:.1f}", *([pct(r.peak_share) if r.peak_share is not None else "—"]
                                       if share else []),
                  f"{r.speedup:.2f}×", f"{r.final_cost:.5g}")
    console.print(t)
    for note in bench.notes:
        console.print(note, markup=False)


_MARKS = "¹²³⁴⁵⁶⁷⁸⁹"


def _rng_time(seconds: float) -> str:
    return f"{seconds:.2f} s" if seconds >= 1 else f"{1e3 * seconds:.1f} ms"


def _rng_cells(r: dict) -> list[str]:
    speedup = "" if r["speedup"] is None or r["distribution"] == "fill" else f"{r['speedup']:.2f}×"
    return [f"{r['ns_per_entry']:.2f}", f"{r['gb_per_s']:.2f}", pct(r["bandwidth_share"]),
            speedup]


def _rng_table(title: str, first: list[str]) -> Table:
    t = table(title)
    t.add_column("method", no_wrap=True)
    for name in (*first, "ns/entry", "GB/s", "of bw", "× base"):
        t.add_column(name, justify="right", no_wrap=True)
    return t


def _rng_marked(r: dict, notes: dict[str, str]) -> str:
    """The method name with a footnote mark for its note (marks numbered in order of use)."""
    if not r["note"]:
        return escape(r["method"])
    mark = notes.setdefault(r["note"], _MARKS[len(notes) % len(_MARKS)])
    return f"{escape(r['method'])} {mark}"


def _rng_footer(console: Console, notes: dict[str, str]) -> None:
    if notes:
        console.print("  ".join(f"{mark} {note}" for note, mark in notes.items()), markup=False,
                      style="dim")
    console.print("of bw: share of the device's write bandwidth (ndarray.fill, same run); "
                  "× base: default_rng() on one thread, same distribution and dtype", markup=False,
                  style="dim")


def rng_generator_table(console: Console, rows: list[dict], title: str) -> None:
    """bench-rng's first table: one section per device × distribution × dtype."""
    t, notes, group = _rng_table(title, []), {}, None
    for r in (r for r in rows if r["table"] == "generators"):
        key = (r["device"], r["distribution"], r["dtype"])
        if key != group:
            if group is not None:
                t.add_section()
            if r["distribution"] != "fill":
                t.add_row(f"[bold]{escape(' · '.join(key))}[/bold]", "", "", "", "")
            group = key
        t.add_row(_rng_marked(r, notes), *_rng_cells(r))
    console.print(t)
    _rng_footer(console, notes)
    console.print()


def rng_network_table(console: Console, rows: list[dict], title: str) -> None:
    """bench-rng's second table: the article's network initialized end to end by each method,
    then one line per device on the fast fill against the goals (< 150 ms, ≥ 4× default_rng)."""
    net = [r for r in rows if r["table"] == "network"]
    if not net:
        return
    t, notes = _rng_table(title, ["device", "time"]), {}
    for r in net:
        t.add_row(_rng_marked(r, notes), r["device"], _rng_time(r["seconds"]), *_rng_cells(r))
    console.print(t)
    _rng_footer(console, notes)
    fast = [r for r in net if r["method"].startswith("initlab fast fill") and r["device"] == "cpu"]
    if fast:
        best = min(fast, key=lambda r: r["seconds"])
        ratio = "" if best["speedup"] is None else (
            f", {best['speedup']:.2f}× default_rng on one thread (goal ≥ 4×: "
            f"{'met' if best['speedup'] >= 4 else 'not met'})")
        threads = f"{best['threads']} thread{'s' if best['threads'] != 1 else ''}"
        console.print(f"fast fill, {threads}: {_rng_time(best['seconds'])} "
                      f"(goal < 150 ms: {'met' if best['seconds'] < 0.150 else 'not met'}){ratio}; "
                      f"{pct(best['bandwidth_share'])} of the write bandwidth", markup=False)
    gpu = [r for r in net if r["device"] == "gpu" and r["distribution"] == "normal"]
    if gpu:
        best = min(gpu, key=lambda r: r["seconds"])
        console.print(f"GPU best: {best['method']}, {_rng_time(best['seconds'])}, "
                      f"{pct(best['bandwidth_share'])} of the card's write bandwidth (goal > 50%: "
                      f"{'met' if best['bandwidth_share'] > 0.5 else 'not met'})", markup=False)
