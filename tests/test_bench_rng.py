"""`initlab bench-rng` as a real subprocess: JSON rows, their arithmetic, the tables, bad input.

The subprocess calls start together (one module fixture); bad input goes through the same
``main()`` in-process, which saves the 2 s interpreter start-up per case. The CLI runs skip the
network table (55 M entries per method, several seconds); its rows are checked in-process on a
scaled-down network instead.
"""

from __future__ import annotations

import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from initlab import cli
from initlab.commands import bench_rng as rngbench

INITLAB = str(Path(sys.executable).parent / "initlab")
NO_CUPY = "import sys; sys.modules['cupy'] = None; from initlab.cli import main; main()"
KEYS = {"method": str, "device": str, "distribution": str, "dtype": str, "ns_per_entry": float,
        "gb_per_s": float, "bandwidth_share": float}
NETWORK_ENTRIES = 10000 * 5000 + 5000 * 1000 + 1000 * 10
SMALL = ["--size", "1e5", "--repeat", "1", "--threads", "2"]
JOBS = {
    "json": [INITLAB, "bench-rng", *SMALL, "--no-network", "--json"],
    "table": [INITLAB, "bench-rng", *SMALL, "--no-network"],
    "gpu": [sys.executable, "-c", NO_CUPY, "bench-rng", "--device", "gpu"],
}


@pytest.fixture(scope="module")
def ran(tmp_path_factory):
    cwd = tmp_path_factory.mktemp("bench_rng")

    def call(argv: list[str]) -> subprocess.CompletedProcess:
        return subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=300,
                              env={"PATH": "/usr/bin:/bin", "COLUMNS": "100", "NO_COLOR": "1"})

    with ThreadPoolExecutor(len(JOBS)) as pool:
        futures = {name: pool.submit(call, argv) for name, argv in JOBS.items()}
        return {name: f.result() for name, f in futures.items()}


@pytest.fixture(scope="module")
def rows(ran):
    out = ran["json"]
    assert out.returncode == 0, out.stderr
    assert out.stderr == ""
    return [json.loads(line) for line in out.stdout.splitlines()]


def _by(rows, table):
    return [r for r in rows if r["table"] == table]


def test_every_row_has_the_seven_keys_with_sane_values(rows):
    assert len(rows) == 1 + 2 * 9 + 2 * 8  # bandwidth; normal: 9 methods; uniform: 8
    for r in rows:
        for key, kind in KEYS.items():
            assert isinstance(r[key], kind), (key, r)
        assert r["device"] == "cpu"
        assert r["distribution"] in ("normal", "uniform", "fill")
        assert r["dtype"] in ("float32", "float64")
        assert r["ns_per_entry"] > 0 and r["gb_per_s"] > 0 and r["bandwidth_share"] > 0


def test_ns_gb_and_share_follow_from_time_size_and_the_bandwidth_row(rows):
    (fill,) = [r for r in _by(rows, "generators") if r["distribution"] == "fill"]
    assert fill["method"].startswith("write bandwidth") and fill["entries"] == 100_000
    assert fill["bandwidth_share"] == pytest.approx(1.0)
    for r in rows:
        itemsize = 4 if r["dtype"] == "float32" else 8
        assert r["ns_per_entry"] == pytest.approx(r["seconds"] / r["entries"] * 1e9, rel=1e-9)
        assert r["gb_per_s"] == pytest.approx(r["entries"] * itemsize / r["seconds"] / 1e9,
                                              rel=1e-9)
        assert r["bandwidth_share"] == pytest.approx(r["gb_per_s"] / fill["gb_per_s"], rel=1e-9)


def test_generator_table_has_every_method_for_each_distribution_and_dtype(rows):
    gen = _by(rows, "generators")
    for dist in ("normal", "uniform"):
        for dtype in ("float32", "float64"):
            methods = {r["method"] for r in gen if (r["distribution"], r["dtype"]) == (dist, dtype)}
            expected = {"default_rng() (PCG64), 1 thread", "Generator(PCG64)", "Generator(Philox)",
                        "Generator(SFC64)", "Generator(MT19937)", "initlab fast fill, 1 thread",
                        "initlab fast fill, 2 threads",
                        f"Python loop: random.{'gauss' if dist == 'normal' else 'random'}"}
            if dist == "normal":
                expected.add("NumPy Box–Muller, naive")
            assert methods == expected, (dist, dtype)
    for r in gen:
        if r["method"].startswith("Python loop"):
            assert r["entries"] == 50_000 and "50,000" in r["note"]
        elif r["distribution"] != "fill":
            assert r["entries"] == 100_000
        if r["method"].startswith("initlab fast fill"):
            assert r["threads"] == int(r["method"].split(", ")[1][0])


def test_speedups_are_against_default_rng_of_the_same_distribution_and_dtype(rows):
    for table in ("generators", "network"):
        t = _by(rows, table)
        base = {(r["distribution"], r["dtype"]): r["ns_per_entry"] for r in t
                if r["method"] == "default_rng() (PCG64), 1 thread"}
        for r in t:
            ref = base.get((r["distribution"], r["dtype"]))
            if ref is None:
                assert r["speedup"] is None
            else:
                assert r["speedup"] == pytest.approx(ref / r["ns_per_entry"], rel=1e-9)


@pytest.fixture(scope="module")
def network_rows():
    """rngbench.run with the network scaled down to 300→200→100→10 (in-process, fast)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(rngbench, "NETWORK_SHAPES", ((200, 300), (100, 200), (10, 100)))
        mp.setattr(rngbench, "NETWORK_ENTRIES", 200 * 300 + 100 * 200 + 10 * 100)
        return rngbench.run("cpu", size=100_000, repeat=1, threads=2, network=True)


def test_network_table_times_the_network_beside_the_articles_figures(network_rows):
    net = _by(network_rows, "network")
    entries = 200 * 300 + 100 * 200 + 10 * 100
    assert all(r["entries"] == entries and r["dtype"] == "float32" for r in net)
    seconds = {r["method"]: r["seconds"] for r in net}
    assert seconds["article: JVM per-element loop"] == 14.3
    assert seconds["article: MKL vectorized generator"] == 0.209
    for method in ("default_rng() (PCG64), 1 thread", "NumPy Box–Muller, naive",
                   "Generator(PCG64)", "Generator(Philox)", "Generator(SFC64)",
                   "Generator(MT19937)", "initlab fast fill, 1 thread",
                   "initlab fast fill, 2 threads", "write only: np.ones (allocate + write)"):
        assert 0 < seconds[method] < 5, method
    (py,) = [r for r in _by(network_rows, "generators")
             if r["method"] == "Python loop: random.gauss" and r["dtype"] == "float32"]
    assert seconds["Python loop: random.gauss"] == pytest.approx(py["ns_per_entry"] * entries
                                                                 * 1e-9, rel=1e-9)
    assert "extrapolated" in next(r["note"] for r in net if r["method"].startswith("Python"))
    (fill,) = [r for r in _by(network_rows, "generators") if r["distribution"] == "fill"]
    for r in net:
        for key, kind in KEYS.items():
            assert isinstance(r[key], kind), (key, r)
        assert r["gb_per_s"] == pytest.approx(r["entries"] * 4 / r["seconds"] / 1e9, rel=1e-9)
        assert r["bandwidth_share"] == pytest.approx(r["gb_per_s"] / fill["gb_per_s"], rel=1e-9)


def test_network_methods_draw_the_network_as_normal_float32(monkeypatch):
    shapes = ((1000, 2000), (100, 1000), (10, 100))
    monkeypatch.setattr(rngbench, "NETWORK_SHAPES", shapes)
    for m in rngbench.cpu_network_methods(threads=2):
        arrays = m.run()
        assert [a.shape for a in arrays] == list(shapes), m.method
        assert all(a.dtype == np.float32 for a in arrays), m.method
        if m.distribution == "normal":
            w = arrays[0].ravel().astype(np.float64)  # 2 M entries: 5 standard errors below
            assert abs(w.mean()) < 5 / np.sqrt(w.size), m.method
            assert abs(w.std() - 1) < 5 / np.sqrt(2 * w.size), m.method
        else:
            assert all(np.all(a == 1) for a in arrays)


def test_the_articles_network_is_55_million_weights():
    assert rngbench.NETWORK_SHAPES == ((5000, 10000), (1000, 5000), (10, 1000))
    assert rngbench.NETWORK_ENTRIES == 55_010_000


def test_tables_print_sections_ratios_and_the_bandwidth(ran):
    out = ran["table"]
    assert out.returncode == 0, out.stderr
    for needle in ("Generators: 100,000 entries each, best of 1", "write bandwidth cpu",
                   "cpu · normal · float32", "cpu · uniform · float64", "ns/entry", "× base",
                   "initlab fast fill, 2 threads", "1.00×", "pure Python, timed on 50,000"):
        assert needle in out.stdout, needle
    assert "network" not in out.stdout


def test_help_explains_what_is_measured(monkeypatch, capsys):
    monkeypatch.setattr(sys, "argv", ["initlab", "bench-rng", "--help"])
    with pytest.raises(SystemExit) as stop:
        cli.main()
    assert stop.value.code == 0
    text = " ".join(capsys.readouterr().out.split())
    for needle in ("ns per entry", "write bandwidth", "10000→5000→1000→10", "150 ms",
                   "JSON Lines", "bandwidth_share", "--device"):
        assert needle in text, needle


def test_gpu_without_cupy_is_one_line_and_exit_2(ran):
    out = ran["gpu"]
    assert out.returncode == 2, out.stdout + out.stderr
    assert out.stdout == "" and "Traceback" not in out.stderr
    assert out.stderr.strip().splitlines() == [
        "error: --device gpu: CuPy is not installed (pip install 'initlab[gpu]' (CUDA 12), or "
        "cupy-cuda13x for CUDA 13)"]


@pytest.mark.parametrize(("args", "needles"), [
    (["--device", "all", "--size", "1e5"], ["--device all", "CuPy is not installed"]),
    (["--size", "10"], ["--size", "'10'", "1e+05"]),
    (["--size", "lots"], ["--size", "'lots'"]),
    (["--size", "123456.5"], ["--size", "123456.5"]),
    (["--size", "1e12"], ["--size", "2e+08"]),
    (["--device", "tpu"], ["--device", "tpu", "cpu, gpu, all"]),
    (["--repeat", "0"], ["--repeat"]),
])
def test_bad_input_is_one_line_and_exit_2(monkeypatch, capsys, args, needles):
    monkeypatch.setitem(sys.modules, "cupy", None)  # as if CuPy were not installed
    monkeypatch.setattr(sys, "argv", ["initlab", "bench-rng", *args])
    with pytest.raises(SystemExit) as stop:
        cli.main()
    assert stop.value.code == 2
    out = capsys.readouterr()
    assert out.out == ""
    lines = out.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), out.err
    for needle in needles:
        assert needle in lines[0], needle
