"""The CuPy backend. These tests skip only where CuPy or a CUDA device is absent, and run for
real where one is."""

from __future__ import annotations

import numpy as np
import pytest

from initlab.engine import backend
from initlab.experiments import runner

from conftest import CONFIGS
from conftest import run_config as run

gpu = pytest.mark.skipif(not backend.gpu_available(), reason="needs CuPy and a CUDA device")


@gpu
def test_gpu_backend_is_cupy_and_auto_picks_it():
    be = backend.get_backend("gpu")
    assert be.xp.__name__ == "cupy"
    assert backend.get_backend("auto").name == "gpu"


@gpu
@pytest.mark.parametrize("config", ["he_circles", "digits_tanh", "neanderthal_toy"])
def test_gpu_training_matches_cpu(config):
    short = ["train.epochs=200", "train.log_every=50"] if config != "digits_tanh" \
        else ["train.epochs=2"]
    cpu = run(config, *short, "device=cpu", seeds=4)
    gpu_run = run(config, *short, "device=gpu", seeds=4)
    assert gpu_run.backend.name == "gpu"
    np.testing.assert_array_equal(gpu_run.weights_init["W1"], cpu.weights_init["W1"])
    for name, arr in cpu.weights_final.items():
        np.testing.assert_allclose(gpu_run.weights_final[name], arr, rtol=1e-7, atol=1e-9,
                                   err_msg=name)
    np.testing.assert_allclose(gpu_run.final_cost, cpu.final_cost, rtol=1e-8)
    np.testing.assert_array_equal(gpu_run.layers_final["distinct_units"],
                                  cpu.layers_final["distinct_units"])
    np.testing.assert_allclose(gpu_run.layers_final["activation_std"],
                               cpu.layers_final["activation_std"], rtol=1e-6)


@gpu
def test_gpu_reproduces_the_he_circles_numbers():
    res = run("he_circles", "device=gpu")
    curve = dict(res.history.cost_curve(0))
    assert abs(curve[0] - 0.8830537463419761) <= 1e-12
    assert curve[14000] == pytest.approx(0.07357895962677369, abs=1e-6)
    assert res.train_accuracy[0] == pytest.approx(298 / 300)
    assert res.test_accuracy[0] == pytest.approx(0.96)


@gpu
def test_gpu_runs_are_reproducible():
    a = run("he_circles", "device=gpu", "train.epochs=300", seeds=3)
    b = run("he_circles", "device=gpu", "train.epochs=300", seeds=3)
    for name in a.weights_final:
        np.testing.assert_array_equal(a.weights_final[name], b.weights_final[name])


@gpu
def test_gpu_compare_matches_cpu_and_ignores_chunking():
    from initlab.commands import compare  # noqa: PLC0415
    from initlab.engine import memory  # noqa: PLC0415

    def plan(device):
        return compare.setup(compare.Options(
            CONFIGS / "he_circles.yaml", ["zeros", "he", "xavier_normal"], 4, None,  # no random×10
            ["train.epochs=300", f"device={device}"]))

    cpu = runner.execute(plan("cpu"), backend.get_backend("cpu"), n_workers=2)
    gpu_plan = plan("gpu")
    whole = runner.execute(gpu_plan, backend.get_backend("gpu"))
    chunked = runner.execute(gpu_plan, backend.get_backend("gpu"),
                             chunks=memory.plan_chunks(12, 1000, 5000))
    assert runner.chunks_for(gpu_plan, backend.get_backend("gpu")).budget > 0  # memGetInfo
    for name, arr in cpu.weights_final.items():
        np.testing.assert_allclose(whole.weights_final[name], arr, rtol=1e-7, atol=1e-9)
        np.testing.assert_array_equal(chunked.weights_final[name], whole.weights_final[name])
    np.testing.assert_array_equal(chunked.train_accuracy, whole.train_accuracy)
    summaries = compare.summarize(whole, 0.9, 0.3)
    assert summaries[0].train_accuracy_mean == 0.5 and summaries[0].n_seeds == 4


@gpu
def test_gpu_rng_bench_rows_and_their_normals():
    from initlab.commands import bench_rng as rngbench  # noqa: PLC0415

    n = 1_000_000
    methods = rngbench.gpu_methods(n, threads=2)
    rows = rngbench.generator_rows(methods, repeat=1)
    (fill,) = [r for r in rows if r["distribution"] == "fill"]
    names = {r["method"] for r in rows}
    assert {"cupy.random.standard_normal", "cupy.random.uniform"} <= names
    assert any(name.startswith("cupy Generator(") for name in names)
    assert any(name.startswith("host fast fill") for name in names)
    for r in rows:
        assert set(rngbench.KEYS) <= set(r)
        assert r["device"] == "gpu"
        assert r["ns_per_entry"] > 0 and r["gb_per_s"] > 0 and r["bandwidth_share"] > 0
        assert r["bandwidth_share"] == pytest.approx(r["gb_per_s"] / fill["gb_per_s"])
    for m in methods:
        if m.distribution == "fill":
            continue
        x = backend.to_numpy(m.run())
        assert x.shape == (n,) and x.dtype == np.dtype(m.dtype), m.method
        x = x.astype(np.float64)
        if m.distribution == "normal":  # 5 standard errors of the mean and of the sd
            assert abs(x.mean()) < 5 / np.sqrt(n), m.method
            assert abs(x.std() - 1) < 5 / np.sqrt(2 * n), m.method
        else:
            assert x.min() >= 0 and x.max() < 1, m.method
            assert abs(x.mean() - 0.5) < 5 * np.sqrt(1 / 12 / n), m.method


@gpu
def test_gpu_rng_bench_network_rows():
    from initlab.commands import bench_rng as rngbench  # noqa: PLC0415

    for m in rngbench.gpu_network_methods(threads=2):
        arrays = m.run()
        assert [tuple(a.shape) for a in arrays] == list(rngbench.NETWORK_SHAPES), m.method
        assert all(a.dtype == np.float32 for a in arrays), m.method
    rows = rngbench.run("gpu", size=1_000_000, repeat=1, threads=2)
    net = [r for r in rows if r["table"] == "network" and r["device"] == "gpu"]
    assert any(r["method"].startswith("cupy Generator(") for r in net)
    assert all(r["entries"] == rngbench.NETWORK_ENTRIES and r["seconds"] > 0 for r in net)


@gpu
def test_gpu_and_cpu_costs_of_he_circles_agree_after_1000_iterations():
    # the same host-drawn starting weights; float64 on both devices
    short = ["train.epochs=1000", "train.log_every=1000"]
    cpu = run("he_circles", *short, "device=cpu", seeds=3)
    gpu_run = run("he_circles", *short, "device=gpu", seeds=3)
    np.testing.assert_allclose(gpu_run.final_cost, cpu.final_cost, rtol=1e-9)


@gpu
def test_gpu_bench_train_config_rows_match_the_cpu_cost():
    from initlab.commands import bench_config

    on_gpu = bench_config.config_benchmark("he_circles", "gpu", [1, 100], 1, iterations=200)
    on_cpu = bench_config.config_benchmark("he_circles", "cpu", [1], 1, iterations=200)
    assert "gpu" in on_gpu.title
    assert on_gpu.rows[0].final_cost == pytest.approx(on_cpu.rows[0].final_cost, rel=1e-9)
    assert all(r.train_s > 0 and r.gflops > 0 for r in on_gpu.rows)
