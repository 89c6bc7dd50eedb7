"""Pictures of --plot: the figure data of commands.figures (decision-boundary grids, the
median-accuracy seed, cost bands, divergence marks, per-layer lines, probe figures) and the
files reporting.plots writes (valid PNGs of a sensible size, an SVG beside each, written
atomically), matplotlib kept out of the import path."""

from __future__ import annotations

import ast
import struct
import subprocess
import sys
import textwrap
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from initlab.commands import compare, figures, probe
from initlab.experiments import config, runner
from initlab.reporting import plots

from conftest import CPU, HE, run_config

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
LEAKY_QUADRATIC = ["train.epochs=200", "train.lr=0.01", "train.loss=quadratic",
                   "model.activations=[leaky_relu,leaky_relu,linear]"]


def png_size(path: Path) -> tuple[int, int]:
    """(width, height) from the IHDR chunk of a PNG file (asserting the signature)."""
    head = path.read_bytes()[:24]
    assert head[:8] == PNG_SIGNATURE, f"{path} is not a PNG"
    assert head[12:16] == b"IHDR"
    return struct.unpack(">II", head[16:24])


def assert_pictures(folder: Path, paths: list[Path], names: list[str]) -> None:
    """``paths`` are folder/NAME.png for ``names``, each a PNG of a sensible size with an SVG
    beside it, and no temporary file is left."""
    assert paths == [folder / f"{name}.png" for name in names]
    for png in paths:
        width, height = png_size(png)
        assert 300 <= width <= 1600 and 200 <= height <= 1000, (png.name, width, height)
        svg = png.with_suffix(".svg")
        text = svg.read_text(encoding="utf-8")
        assert text.startswith("<?xml") and "<svg" in text and text.rstrip().endswith("</svg>")
    assert not [p.name for p in folder.iterdir() if p.name.startswith(".")]


def compare_result(inits, seeds, overrides=()):
    plan = compare.setup(compare.Options(HE, list(inits), seeds, None, list(overrides)))
    return runner.execute(plan, CPU)


@pytest.fixture(scope="module")
def coursera() -> runner.RunResult:
    """The notebook's three initializers, 3 seeds each, trained the notebook's 15 000
    iterations."""
    return compare_result(["zeros", "random", "he"], 3)


@pytest.fixture(scope="module")
def single() -> runner.RunResult:
    return run_config("he_circles", "train.epochs=300")


@pytest.fixture(scope="module")
def diverging() -> runner.RunResult:
    return compare_result(["he", "normal(std=100)"], 2, LEAKY_QUADRATIC)


def probe_results(histograms: bool) -> list[probe.InitProbe]:
    cfg = config.validate({"depth": 4, "width": 60, "activation": "tanh",
                           "inits": ["small", "big", "lecun_normal"], "batch": 200,
                           "histograms": histograms}, "probe", config.ProbeConfig)
    return probe.run(cfg)


def panel(found: figures.Boundaries, init: str) -> figures.Boundary:
    return next(p for p in found.panels if p.init == init)


# ------------------------------------------------------------------ matplotlib, optional

def python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                          text=True, timeout=120, cwd=Path(__file__).parent)


def test_missing_is_none_when_matplotlib_imports():
    assert plots.missing() is None


def test_missing_gives_a_one_line_hint_and_drawing_refuses_without_matplotlib(tmp_path):
    ran = python(f"""
        import sys
        sys.modules["matplotlib"] = None  # as if it were not installed
        from initlab.errors import InitlabError
        from initlab.reporting import plots
        print(repr(plots.missing()))
        from conftest import run_config
        try:
            plots.draw_run({str(tmp_path)!r}, run_config("iris_tiny"))
        except InitlabError as exc:
            print(exc)
    """)
    assert ran.returncode == 0, ran.stderr
    hint, refused = ran.stdout.splitlines()
    hint = ast.literal_eval(hint)
    assert isinstance(hint, str) and "\n" not in hint
    assert "pip install 'initlab[plot]'" in hint
    assert refused == hint
    assert list(tmp_path.iterdir()) == []


def test_importing_the_plot_modules_loads_no_matplotlib_and_drawing_no_pyplot(tmp_path):
    ran = python(f"""
        import sys
        import initlab.commands.figures, initlab.reporting.plots, initlab.reporting.html
        print("matplotlib" in sys.modules)
        from conftest import run_config
        from initlab.reporting import plots
        plots.draw_run({str(tmp_path)!r}, run_config("iris_tiny"))
        print("matplotlib" in sys.modules, "matplotlib.pyplot" in sys.modules)
    """)
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.split() == ["False", "True", "False"]


# ------------------------------------------------------------------------- the files

def test_a_run_draws_its_decision_boundary_cost_and_layers(tmp_path, single):
    paths = plots.draw_run(tmp_path, single)
    assert_pictures(tmp_path, paths, ["decision_boundary", "cost", "layers"])


def test_a_compare_draws_the_same_pictures_and_drawing_again_replaces_them(tmp_path, coursera):
    paths = plots.draw_run(tmp_path, coursera)
    assert_pictures(tmp_path, paths, ["decision_boundary", "cost", "layers"])
    before = {p.name for p in tmp_path.iterdir()}
    assert plots.draw_run(tmp_path, coursera) == paths
    assert {p.name for p in tmp_path.iterdir()} == before


def test_no_decision_boundary_for_data_that_is_not_2d_classification(tmp_path):
    iris = run_config("iris_tiny")  # 4 features
    toy = run_config("neanderthal_toy", "train.epochs=10")  # 2 features, regression
    assert toy.plan.dataset.n_features == 2 and toy.plan.dataset.task == "regression"
    for name, result in (("iris", iris), ("toy", toy)):
        assert not figures.has_boundary(result) and figures.boundaries(result) is None
        folder = tmp_path / name
        folder.mkdir()
        assert_pictures(folder, plots.draw_run(folder, result), ["cost", "layers"])
        assert not (folder / "decision_boundary.svg").exists()


def test_no_decision_boundary_without_the_final_weights(single):
    assert figures.boundaries(replace(single, weights_final=None)) is None


def test_probe_pictures_and_histograms_only_when_computed(tmp_path):
    with_hist, without = tmp_path / "with", tmp_path / "without"
    with_hist.mkdir()
    without.mkdir()
    assert_pictures(with_hist, plots.draw_probe(with_hist, probe_results(True)),
                    ["depth", "histograms"])
    assert_pictures(without, plots.draw_probe(without, probe_results(False)), ["depth"])
    assert not (without / "histograms.svg").exists()


# ------------------------------------------------------------------ decision boundaries

def test_zeros_predicts_one_class_everywhere_and_he_draws_a_ring(coursera):
    found = figures.boundaries(coursera)
    assert [p.init for p in found.panels] == ["zeros", "random", "he"]
    zeros, he = panel(found, "zeros"), panel(found, "he")
    assert len(np.unique(zeros.classes)) == 1  # one colour: the notebook's "predicts 0"
    assert he.predicted == {0, 1}
    ny, nx = he.classes.shape
    assert he.classes[ny // 2, nx // 2] == 1  # the inner circle (class 1) at the centre
    assert {he.classes[0, 0], he.classes[0, -1], he.classes[-1, 0], he.classes[-1, -1]} == {0}
    # the notebook's axes, the same for every panel; training points coloured by class
    assert found.extent == figures.NOTEBOOK_BOX
    assert found.points.shape == (2, 300) and set(np.unique(found.labels)) == {0, 1}
    assert all(p.classes.shape == (len(found.ys), len(found.xs)) for p in found.panels)


def test_each_panel_shows_the_median_accuracy_seed_and_names_it(coursera):
    found = figures.boundaries(coursera)
    fig = plots._boundary_figure(found)
    titles = [ax.get_title() for ax in fig.axes if ax.get_visible()]
    for p, title in zip(found.panels, titles, strict=True):
        rows = coursera.plan.groups[p.init]
        accuracies = coursera.train_accuracy[rows]
        assert p.train_accuracy == np.sort(accuracies)[(len(accuracies) - 1) // 2]
        assert coursera.train_accuracy[p.experiment] == p.train_accuracy
        assert coursera.plan.experiments[p.experiment].seed == p.seed
        assert p.init in title and f"seed {p.seed}, median of 3 seeds" in title
        assert f"train {p.train_accuracy:.3f}" in title
        assert f"test {coursera.test_accuracy[p.experiment]:.3f}" in title


def test_median_experiment_takes_the_lower_median_with_diverged_seeds_last():
    assert figures.median_experiment(np.array([0.9, 0.5, 0.7]), slice(0, 3)) == 2
    assert figures.median_experiment(np.array([0.1, 0.4, 0.2, 0.3]), slice(0, 4)) == 2
    assert figures.median_experiment(np.array([np.nan, 0.8, 0.6]), slice(0, 3)) == 2
    assert figures.median_experiment(np.array([1, 0.5, 0.5, 0.5]), slice(1, 4)) == 1
    assert figures.median_experiment(np.array([np.nan, np.nan]), slice(0, 2)) == 0


def test_predicted_classes_follow_the_runs_accuracy(single):
    data = single.plan.dataset
    classes = figures.predict_classes(single.plan.net, single.weights_final, data.X_train,
                                      data.task)
    labels = figures.class_labels(data.y_train, data.task)
    assert (classes[0] == labels).mean() == pytest.approx(single.train_accuracy[0])


def test_the_axes_are_the_data_padded_when_the_points_leave_the_notebook_box():
    inside = np.array([[-1.0, 1.2], [0.3, -1.4]])
    assert figures.grid_extent(inside) == figures.NOTEBOOK_BOX
    outside = np.array([[-1.0, 2.0, 0.5], [-0.5, 1.0, 0.0]])  # a moons-like range
    x0, x1, y0, y1 = figures.grid_extent(outside)
    assert x0 < -1.0 and x1 > 2.0 and y0 < -0.5 and y1 > 1.0
    assert (x0, x1) == pytest.approx((-1.3, 2.3)) and (y0, y1) == pytest.approx((-0.65, 1.15))


# ------------------------------------------------------------------------------ cost

def test_cost_bands_contain_the_median_and_log_scale_when_the_range_needs_it(coursera,
                                                                            single):
    found = figures.cost_curves(coursera)
    assert [c.init for c in found.curves] == ["zeros", "random", "he"]
    for curve in found.curves:
        assert curve.n_seeds == 3 and curve.curves.shape == (3, len(curve.iterations))
        ok = np.isfinite(curve.median)
        assert ok.all()
        assert (curve.low <= curve.median).all() and (curve.median <= curve.high).all()
        assert (curve.low < curve.high).any() or curve.init == "zeros"
    zeros = found.curves[0]
    np.testing.assert_allclose(zeros.median, np.log(2), rtol=1e-12)  # ln 2 at every log
    assert found.scale == "log"  # random starts near 1e3, he ends near 0.1
    one = figures.cost_curves(single)
    assert one.n_seeds == 1 and one.scale == "linear"
    np.testing.assert_array_equal(one.curves[0].median, one.curves[0].curves[0])


def test_diverged_seeds_are_marked_where_they_diverged(diverging):
    found = figures.cost_curves(diverging)
    he, big = found.curves
    assert he.diverged == [] and len(big.diverged) == 2 and found.n_diverged == 2
    rows = diverging.plan.groups["normal(std=100)"]
    at = diverging.history.diverged_at[rows]
    assert (at >= 0).all()
    costs = np.stack(diverging.history.log_costs)
    iterations = np.array(diverging.history.log_iterations)
    for mark, e in zip(big.diverged, range(rows.start, rows.stop), strict=True):
        assert mark.seed == diverging.plan.experiments[e].seed
        assert mark.iteration == diverging.history.diverged_at[e]
        finite = np.flatnonzero((iterations <= mark.iteration) & np.isfinite(costs[:, e]))
        assert mark.cost == (costs[finite[-1], e] if finite.size else None)
    fig = plots._cost_figure(found)
    legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert any("normal(std=100): 2 diverged" in t for t in legend)
    placed = [[m.iteration, m.cost] for m in big.diverged]
    assert all(cost is not None for _, cost in placed)  # finite costs were logged before
    drawn = [np.asarray(c.get_offsets()) for c in fig.axes[0].collections]
    assert any(d.shape == (2, 2) and np.allclose(d, placed) for d in drawn)


# ----------------------------------------------------------------------------- layers

def test_layer_lines_show_std_and_the_dead_or_saturated_share(coursera):
    found = figures.layer_lines(coursera)
    assert found.share_kind == ["dead", "dead", "saturated"]  # relu, relu, sigmoid
    assert [line.init for line in found.lines] == ["zeros", "random", "he"]
    zeros = found.lines[0]
    np.testing.assert_array_equal(zeros.share_init[:2], 1.0)  # every zero ReLU unit is dead
    np.testing.assert_array_equal(zeros.std_final, 0.0)
    he_rows = coursera.plan.groups["he"]
    np.testing.assert_allclose(found.lines[2].std_init,
                               coursera.layers_init.mean(he_rows)["activation_std"])
    assert found.std_scale == "symlog"  # random's std ~100, zeros' exactly 0


# ------------------------------------------------------------------------------ probe

def test_probe_figure_data_follow_the_probe():
    found = probe_results(True)
    depth = figures.depth_lines(found)
    assert [line.init for line in depth.lines] == ["small", "big", "lecun_normal"]
    np.testing.assert_array_equal(depth.layers, [1, 2, 3, 4])
    small = depth.lines[0]
    assert small.std.tolist() == [layer.activation_std for layer in found[0].layers]
    assert depth.std_scale == "log"  # small's std vanishes layer after layer
    hist = figures.histograms(found)
    assert hist.inits == depth_inits(depth) and hist.layers == [1, 2, 3, 4]
    for row in hist.rows:
        for h in row:
            assert len(h.shares) == 30 and h.edges[0] == -1.0 and h.edges[-1] == 1.0
            assert h.shares.sum() == pytest.approx(1.0)
    assert figures.histograms(probe_results(False)) is None


def depth_inits(depth: figures.DepthFigure) -> list[str]:
    return [line.init for line in depth.lines]


def test_deep_probes_show_ten_evenly_spaced_layers():
    assert figures.shown_layers(4) == [1, 2, 3, 4]
    shown = figures.shown_layers(50)
    assert len(shown) == 10 and shown[0] == 1 and shown[-1] == 50
    assert shown == sorted(set(shown))


def test_the_grid_is_evaluated_in_blocks_without_changing_a_class(coursera, monkeypatch):
    found = figures.boundaries(coursera, points=50)
    monkeypatch.setattr(figures, "GRID_BYTES", 4096)  # blocks of a few columns
    blocked = figures.boundaries(coursera, points=50)
    for a, b in zip(found.panels, blocked.panels, strict=True):
        np.testing.assert_array_equal(a.classes, b.classes)
