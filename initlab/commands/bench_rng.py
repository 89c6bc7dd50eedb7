"""Measurements behind ``initlab bench-rng`` (nothing is printed here; see ``report``).

Two tables of rows, each row a dict with at least ``method``, ``device``, ``distribution``,
``dtype``, ``ns_per_entry``, ``gb_per_s`` and ``bandwidth_share``, plus ``table``
('generators' or 'network'), ``entries``, ``seconds``, ``threads``, ``note`` and ``speedup``
(the same-run baseline's time / this row's time, None where there is no baseline).

- Generators: every method fills ``size`` entries, best of ``repeat`` rounds, methods interleaved
  within a round. Methods write into one preallocated, already-touched array unless the note says
  "allocates". The first row of a device is its write bandwidth, measured in the same run by
  ``ndarray.fill`` on a preallocated array of the same size; ``bandwidth_share`` is a row's
  GB/s written over that figure. Baseline: ``default_rng()`` (PCG64), one thread, same
  distribution and dtype. The pure-Python loop is timed on ``PY_LOOP_ENTRIES`` entries only.
- Network: the article's 10000→5000→1000→10 network, weights only (5000×10000, 1000×5000 and
  10×1000 = 55,010,000 float32 entries, 220 MB; biases are not drawn), float32 Gaussian,
  allocated and filled end to end. The pure-Python row is extrapolated from its ns per entry; the
  article's 14.3 s (JVM per-element loop) and 209 ms (MKL) are reference rows, not measurements.
  Baseline: ``default_rng()`` on one thread.

GPU rows (CuPy) are timed with a device synchronize before and after each call; host + transfer
rows include the host fill and ``cupy.asarray``. CuPy is obtained only through
``initlab.backend.get_backend('gpu')``.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from initlab.engine import memory
from initlab.engine.backend import default_threads, get_backend
from initlab.errors import InitlabError
from initlab.inits.fastrng import FastStream

NETWORK = (10000, 5000, 1000, 10)
NETWORK_SHAPES = tuple((NETWORK[i + 1], NETWORK[i]) for i in range(len(NETWORK) - 1))
NETWORK_ENTRIES = sum(a * b for a, b in NETWORK_SHAPES)  # 55,010,000
ARTICLE_JVM_S = 14.3
ARTICLE_MKL_S = 0.209
PY_LOOP_ENTRIES = 50_000
MIN_SIZE = 100_000
MAX_SIZE = 200_000_000
DEFAULT_SIZE = 10_000_000
DEFAULT_REPEAT = 3
BIT_GENERATORS = ("PCG64", "Philox", "SFC64", "MT19937")
GPU_BIT_GENERATORS = ("XORWOW", "MRG32k3a", "Philox4x3210")
BASELINE = "default_rng() (PCG64), 1 thread"
KEYS = ("method", "device", "distribution", "dtype", "ns_per_entry", "gb_per_s",
        "bandwidth_share")


@dataclass(frozen=True)
class Method:
    """One timed thing: ``run()`` draws once and returns what it wrote (an array or a list)."""

    method: str
    device: str
    distribution: str  # 'normal', 'uniform', or 'fill' for the bandwidth row
    dtype: str
    run: Callable[[], Any]
    entries: int
    threads: int | None = 1
    note: str = ""
    sync: Callable[[], None] | None = None


def _time(m: Method) -> float:
    if m.sync is not None:
        m.sync()
    start = time.perf_counter()
    m.run()
    if m.sync is not None:
        m.sync()
    return time.perf_counter() - start


def measure(methods: list[Method], repeat: int,
            on_time: Callable[[], None] | None = None) -> list[float]:
    """Best wall time (s) of each method over ``repeat`` rounds, methods interleaved per round;
    ``on_time()`` after every timed call."""
    best = [math.inf] * len(methods)
    for _ in range(repeat):
        for i, m in enumerate(methods):
            best[i] = min(best[i], _time(m))
            if on_time is not None:
                on_time()
    return best


# bytes per entry of --size at the peak: float32 and float64 buffers (12), the naive
# Box–Muller's float64 temporaries (~40); the network's 220 MB times its temporaries
HOST_BYTES_PER_ENTRY, GPU_BYTES_PER_ENTRY = 52, 24
NETWORK_PEAK_BYTES = 6 * 4 * NETWORK_ENTRIES


def check_memory(device: str, size: int, network: bool) -> None:
    """Refuse (one line, before anything is allocated) a --size whose buffers and temporaries
    cannot fit the memory budget of the host or the GPU."""
    devices = ("cpu", "gpu") if device == "all" else (device,)
    if "gpu" in devices:
        _require_gpu(device)
    extra = NETWORK_PEAK_BYTES if network else 0
    memory.refuse_unless_fits(HOST_BYTES_PER_ENTRY * size + extra, memory.host_budget(),
                              f"bench-rng --size {size:.0e}", "give a smaller --size")
    if "gpu" in devices:
        room = memory.budget(get_backend("gpu"))
        memory.refuse_unless_fits(GPU_BYTES_PER_ENTRY * size + extra, room,
                                  f"bench-rng --size {size:.0e} on the GPU",
                                  "give a smaller --size")


# ------------------------------------------------------------------------------- CPU methods

def python_loop(n: int, distribution: str, dtype: Any, seed: int = 0) -> np.ndarray:
    """The article's baseline: one Python call per entry (``random.gauss`` / ``random.random``)."""
    out = np.empty(n, dtype)
    draw = random.Random(seed).gauss if distribution == "normal" else random.Random(seed).random
    if distribution == "normal":
        for i in range(n):
            out[i] = draw(0.0, 1.0)
    else:
        for i in range(n):
            out[i] = draw()
    return out


def naive_box_muller(rng: np.random.Generator, n: int, dtype: Any) -> np.ndarray:
    """Box–Muller as one would first write it: whole-array formula, a temporary per step."""
    m = (n + 1) // 2
    u1 = 1.0 - rng.random(m, dtype=dtype)
    u2 = rng.random(m, dtype=dtype)
    r = np.sqrt(-2.0 * np.log(u1))
    theta = 2.0 * np.pi * u2
    return np.concatenate([r * np.cos(theta), r * np.sin(theta)])[:n]


def _generator_call(gen: np.random.Generator, distribution: str, out: np.ndarray):
    if distribution == "normal":
        return lambda: gen.standard_normal(out=out, dtype=out.dtype.type)
    return lambda: gen.random(out=out, dtype=out.dtype.type)


def cpu_bandwidth_method(buf: np.ndarray) -> Method:
    """The write-bandwidth row: ``buf.fill`` on a preallocated, already-touched array."""
    return Method("write bandwidth: ndarray.fill", "cpu", "fill", str(buf.dtype),
                  lambda: buf.fill(1.0), buf.size, 1, "preallocated array, same size")


def cpu_methods(size: int, threads: int, seed: int = 0) -> list[Method]:
    """The generator table's CPU rows, bandwidth first."""
    bufs = {dt: np.ones(size, dt) for dt in ("float32", "float64")}  # preallocated and touched
    py_note = f"pure Python, timed on {PY_LOOP_ENTRIES:,} entries"
    rows = [cpu_bandwidth_method(bufs["float32"])]
    for dist in ("normal", "uniform"):
        for dt in ("float32", "float64"):
            out = bufs[dt]
            rows.append(Method(f"Python loop: random.{'gauss' if dist == 'normal' else 'random'}",
                               "cpu", dist, dt,
                               lambda d=dist, t=dt: python_loop(PY_LOOP_ENTRIES, d, t, seed),
                               PY_LOOP_ENTRIES, 1, py_note))
            if dist == "normal":
                rng = np.random.default_rng(seed)
                rows.append(Method("NumPy Box–Muller, naive", "cpu", dist, dt,
                                   lambda r=rng, t=dt: naive_box_muller(r, size, t), size, 1,
                                   "whole-array formula, allocates temporaries"))
            base = np.random.default_rng(seed)
            call = base.standard_normal if dist == "normal" else base.random
            rows.append(Method(BASELINE, "cpu", dist, dt, lambda c=call, t=dt: c(size, dtype=t),
                               size, 1, "allocates, as usually called (the baseline)"))
            for name in BIT_GENERATORS:
                gen = np.random.Generator(getattr(np.random, name)(seed))
                rows.append(Method(f"Generator({name})", "cpu", dist, dt,
                                   _generator_call(gen, dist, out), size, 1))
            for n_threads in sorted({1, threads}):
                stream = FastStream(seed, threads=n_threads)
                fill = stream.fill_normal if dist == "normal" else stream.fill_uniform
                rows.append(Method(f"initlab fast fill, {n_threads} thread"
                                   f"{'s' if n_threads > 1 else ''}", "cpu", dist, dt,
                                   lambda f=fill, o=out: f(o), size, n_threads))
    return rows


def _network_draw(draw: Callable[[tuple[int, int]], Any]) -> Callable[[], list[Any]]:
    return lambda: [draw(shape) for shape in NETWORK_SHAPES]


def cpu_network_methods(threads: int, seed: int = 0) -> list[Method]:
    """End-to-end float32 Gaussian init of the article's network on the CPU (allocating)."""
    f32, n = np.float32, NETWORK_ENTRIES
    rows = [Method("write only: np.ones (allocate + write)", "cpu", "fill", "float32",
                   _network_draw(lambda s: np.ones(s, f32)), n, 1, "the physical floor")]
    base = np.random.default_rng(seed)
    rows.append(Method(BASELINE, "cpu", "normal", "float32",
                       _network_draw(lambda s: base.standard_normal(s, dtype=f32)), n, 1))
    rng = np.random.default_rng(seed)
    rows.append(Method("NumPy Box–Muller, naive", "cpu", "normal", "float32",
                       _network_draw(lambda s: naive_box_muller(rng, math.prod(s), f32)
                                     .reshape(s)), n, 1))
    for name in BIT_GENERATORS:
        gen = np.random.Generator(getattr(np.random, name)(seed))
        rows.append(Method(f"Generator({name})", "cpu", "normal", "float32",
                           _network_draw(lambda s, g=gen: g.standard_normal(s, dtype=f32)), n, 1))
    for n_threads in sorted({1, threads}):
        stream = FastStream(seed, threads=n_threads)
        rows.append(Method(f"initlab fast fill, {n_threads} thread{'s' if n_threads > 1 else ''}",
                           "cpu", "normal", "float32",
                           _network_draw(lambda s, st=stream: st.standard_normal(s, dtype=f32)),
                           n, n_threads))
    return rows


# ------------------------------------------------------------------------------- GPU methods

def _require_gpu(device: str) -> None:
    """One line saying what is missing when --device gpu or all cannot reach a GPU."""
    try:
        _cupy()
    except InitlabError as exc:
        if device == "all":
            raise InitlabError(f"--device all needs the GPU too: {exc}") from None
        raise


def _cupy() -> Any:
    return get_backend("gpu").xp  # raises InitlabError saying what is missing


def _cupy_generators(cp: Any, seed: int) -> list[tuple[str, Any]]:
    """[(bit generator name, cupy.random.Generator)] for those this CuPy offers."""
    return [(name, cp.random.Generator(getattr(cp.random, name)(seed)))
            for name in GPU_BIT_GENERATORS if hasattr(cp.random, name)]


def gpu_methods(size: int, threads: int, seed: int = 0) -> list[Method]:
    """The generator table's GPU rows (CuPy), bandwidth first."""
    cp = _cupy()
    sync = cp.cuda.Device().synchronize
    buf = cp.ones(size, np.float32)
    host = {dt: np.ones(size, dt) for dt in ("float32", "float64")}
    rows = [Method("write bandwidth: cupy ndarray.fill", "gpu", "fill", "float32",
                   lambda: buf.fill(1.0), size, None, "preallocated array, same size",
                   sync)]
    cp.random.seed(seed)
    for dist in ("normal", "uniform"):
        for dt in ("float32", "float64"):
            if dist == "normal":
                name, legacy = "standard_normal", lambda t=dt: cp.random.standard_normal(size, t)
            else:
                name, legacy = "uniform", lambda t=dt: cp.random.uniform(0.0, 1.0, size, t)
            rows.append(Method(f"cupy.random.{name}", "gpu", dist, dt, legacy, size, None,
                               "legacy RandomState (cuRAND)", sync))
            for name, gen in _cupy_generators(cp, seed):
                call = gen.standard_normal if dist == "normal" else gen.random
                rows.append(Method(f"cupy Generator({name})", "gpu", dist, dt,
                                   lambda c=call, t=dt: c(size, dtype=t), size, None, "", sync))
            stream = FastStream(seed, threads=threads)
            fill = stream.fill_normal if dist == "normal" else stream.fill_uniform
            rows.append(Method(f"host fast fill ({threads} thr) + cupy.asarray", "gpu", dist, dt,
                               lambda f=fill, h=host[dt]: cp.asarray(f(h)), size, threads,
                               "generated on the host, copied to the GPU", sync))
    return rows


def gpu_network_methods(threads: int, seed: int = 0) -> list[Method]:
    """End-to-end float32 Gaussian init of the article's network on the GPU."""
    cp = _cupy()
    sync = cp.cuda.Device().synchronize
    f32, n = np.float32, NETWORK_ENTRIES
    rows = [Method("write only: cupy.ones (allocate + write)", "gpu", "fill", "float32",
                   _network_draw(lambda s: cp.ones(s, f32)), n, None, "the physical floor", sync)]
    cp.random.seed(seed)
    rows.append(Method("cupy.random.standard_normal", "gpu", "normal", "float32",
                       _network_draw(lambda s: cp.random.standard_normal(s, dtype=f32)), n, None,
                       "legacy RandomState (cuRAND)", sync))
    for name, gen in _cupy_generators(cp, seed):
        rows.append(Method(f"cupy Generator({name})", "gpu", "normal", "float32",
                           _network_draw(lambda s, g=gen: g.standard_normal(s, dtype=f32)), n,
                           None, "", sync))
    stream = FastStream(seed, threads=threads)
    rows.append(Method(f"host fast fill ({threads} thr) + cupy.asarray", "gpu", "normal", "float32",
                       _network_draw(lambda s: cp.asarray(stream.standard_normal(s, dtype=f32))),
                       n, threads, "generated on the host, copied to the GPU", sync))
    return rows


# ------------------------------------------------------------------------------- rows

def _row(table: str, m: Method, seconds: float, bandwidth: float, note: str = "") -> dict:
    written = m.entries * np.dtype(m.dtype).itemsize
    gb_per_s = written / seconds / 1e9
    return {"table": table, "method": m.method, "device": m.device,
            "distribution": m.distribution, "dtype": m.dtype,
            "ns_per_entry": seconds / m.entries * 1e9, "gb_per_s": gb_per_s,
            "bandwidth_share": gb_per_s / bandwidth, "entries": m.entries, "seconds": seconds,
            "threads": m.threads, "note": note or m.note, "speedup": None}


def _speedups(rows: list[dict]) -> None:
    """speedup = baseline ns per entry / the row's, for the same distribution and dtype; the
    baseline is the CPU's ``default_rng()`` row of the same table (None when it was not run)."""
    base = {(r["distribution"], r["dtype"]): r["ns_per_entry"] for r in rows
            if r["method"] == BASELINE and r["device"] == "cpu"}
    for r in rows:
        ref = base.get((r["distribution"], r["dtype"]))
        r["speedup"] = ref / r["ns_per_entry"] if ref is not None else None


def generator_rows(methods: list[Method], repeat: int,
                   on_time: Callable[[], None] | None = None) -> list[dict]:
    """Time the methods (each device's first one is its ``fill`` bandwidth row) into rows."""
    seconds = measure(methods, repeat, on_time)
    bandwidth = {m.device: m.entries * np.dtype(m.dtype).itemsize / s / 1e9
                 for m, s in zip(methods, seconds, strict=True) if m.distribution == "fill"}
    rows = [_row("generators", m, s, bandwidth[m.device])
            for m, s in zip(methods, seconds, strict=True)]
    _speedups(rows)
    return rows


def network_rows(methods: list[Method], repeat: int, bandwidth: dict[str, float],
                 python_ns: float | None, on_time: Callable[[], None] | None = None) -> list[dict]:
    """Time the end-to-end network methods; add the extrapolated Python loop and the article's
    two figures. ``bandwidth``: GB/s per device from the generator table (shares use it)."""
    seconds = measure(methods, repeat, on_time)
    rows = [_row("network", m, s, bandwidth[m.device]) for m, s in zip(methods, seconds,
                                                                        strict=True)]
    ref = [("article: JVM per-element loop", ARTICLE_JVM_S, "article figure, another machine"),
           ("article: MKL vectorized generator", ARTICLE_MKL_S, "article figure, another machine")]
    if python_ns is not None:
        ref.insert(0, ("Python loop: random.gauss", python_ns * NETWORK_ENTRIES * 1e-9,
                       f"extrapolated from {PY_LOOP_ENTRIES:,} timed entries"))
    for name, secs, note in ref:
        m = Method(name, "cpu", "normal", "float32", lambda: None, NETWORK_ENTRIES, 1)
        rows.append(_row("network", m, secs, bandwidth["cpu"], note))
    _speedups(rows)
    return rows


def run(device: str = "cpu", size: int = DEFAULT_SIZE, repeat: int = DEFAULT_REPEAT,
        threads: int | None = None, network: bool = True, seed: int = 0,
        on_step: Callable[[int, int], None] | None = None) -> list[dict]:
    """All rows for ``initlab bench-rng``: the generator table, then the network table;
    ``on_step(done, total)`` after every timed call."""
    threads = default_threads() if threads is None else threads
    devices = ("cpu", "gpu") if device == "all" else (device,)
    if "gpu" in devices:  # fail before any timing when CuPy or CUDA is missing
        _require_gpu(device)
    methods: list[Method] = []
    net: list[Method] = []
    if "cpu" in devices:
        methods += cpu_methods(size, threads, seed)
        net += cpu_network_methods(threads, seed) if network else []
    if "gpu" in devices:
        methods += gpu_methods(size, threads, seed)
        net += gpu_network_methods(threads, seed) if network else []
    done, total = [0], repeat * (len(methods) + len(net) + ("cpu" not in devices and network))

    def tick() -> None:
        done[0] += 1
        if on_step is not None:
            on_step(done[0], total)

    rows = generator_rows(methods, repeat, tick)
    if not network:
        return rows
    bandwidth = {r["device"]: r["gb_per_s"] for r in rows if r["distribution"] == "fill"}
    if "cpu" not in bandwidth:  # the article's rows are shares of the CPU's bandwidth
        fill = [cpu_bandwidth_method(np.ones(size, np.float32))]
        bandwidth["cpu"] = generator_rows(fill, repeat, tick)[0]["gb_per_s"]
    python_ns = next((r["ns_per_entry"] for r in rows if r["method"].startswith("Python loop")
                      and r["distribution"] == "normal" and r["dtype"] == "float32"), None)
    return rows + network_rows(net, repeat, bandwidth, python_ns, tick)
