"""Every table of `run`, `compare` and `probe` fits the console.

At 80 and 60 columns no line is wider than the console, no number or header is cut with '…' and
every number the table is given appears in full; at 120 columns the wide layouts print exactly as
they did before narrow layouts existed (the GOLDEN texts), and a wide layout that fits at 80 is
the one used at 80.
"""

from __future__ import annotations

import inspect
import io
import re
from types import SimpleNamespace

import numpy as np
import pytest
from rich.cells import cell_len
from rich.console import Console

from initlab.commands import compare, probe
from initlab.commands import run as run_command
from initlab.commands.probe import InitProbe, LayerProbe
from initlab.commands.seedstats import InitSummary
from initlab.engine.stats import LayerStats
from initlab.experiments import config, runner
from initlab.reporting import compare_tables, probe_tables, run_tables
from initlab.reporting.fit import break_label, break_labels
from initlab.reporting.format import fmt, pct

from conftest import CONFIGS, CPU, run_config

NARROW = (80, 60)
LONG = "normal(std=0.044721359549995794)"
LONG_NUMBER = "0.044721359549995794"
CUT = re.compile(r"[\d.%±–]…|…[\d.%±–]")
NAN = float("nan")


# ---------------------------------------------------------------------------- helpers


def render(width: int, draw, *args) -> str:
    console = Console(width=width, file=io.StringIO(), color_system=None, record=True,
                      force_terminal=False)
    draw(console, *args)
    return console.export_text()


def stripped(text: str) -> str:
    """The text with trailing blanks of every line removed (what the GOLDEN texts hold)."""
    return "\n".join(line.rstrip() for line in text.splitlines())


def assert_fits(text: str, width: int, allowed: tuple[str, ...] = ()) -> None:
    """No line wider than the console, no '…' at all (apart from the ``allowed`` texts that
    hold one on purpose), so nothing is cut."""
    for line in text.splitlines():
        assert cell_len(line) <= width, f"{cell_len(line)} > {width}: {line!r}\n{text}"
    rest = text
    for a in allowed:
        rest = rest.replace(a, "")
    assert not CUT.search(rest), f"a number cut by '…':\n{text}"
    assert "…" not in rest, f"something cut by '…':\n{text}"


def has_number(text: str, number: str) -> bool:
    """``number`` appears whole: not as a piece of a longer number."""
    return re.search(rf"(?<![\d.]){re.escape(number)}(?![\d.])", text) is not None


def assert_numbers(text: str, numbers: list[str]) -> None:
    missing = [n for n in numbers if not has_number(text, n)]
    assert not missing, f"numbers missing or cut: {missing}\n{text}"


def assert_headers(body: str, headers: list[str]) -> None:
    """Every word of every header appears as a whole word (a header may wrap onto two lines)."""
    missing = [h for h in headers
               if not all(re.search(rf"(?<!\S){re.escape(w)}(?!\S)", body) for w in h.split())]
    assert not missing, f"headers missing or cut: {missing}\n{body}"


def in_a_cell(text: str, words: str) -> bool:
    """``words`` on one line, or left-aligned over lines one below the other, as a cell wraps."""
    if words in text:
        return True
    lines = text.splitlines()
    for i, line in enumerate(lines):
        for start in (m.start() for m in re.finditer(re.escape(words.split()[0]), line)):
            rest, k = words, i
            while k < len(lines) and rest.startswith(lines[k][start:].split("  ")[0].strip()):
                head = lines[k][start:].split("  ")[0].strip()
                if not head:
                    break
                rest = rest[len(head):].strip()
                if not rest:
                    return True
                k += 1
    return False


def before(text: str, marker: str) -> str:
    """The text before the first line that starts with ``marker`` (a caption, a footer)."""
    lines = text.splitlines()
    end = next((i for i, line in enumerate(lines) if line.startswith(marker)), len(lines))
    return "\n".join(lines[:end])


# ---------------------------------------------------------------------------- inputs

def fake_layers(groups: int = 1, seeds: int = 2,
                acts: tuple[str, ...] = ("tanh", "leaky_relu(alpha=0.01)", "sigmoid"),
                ) -> LayerStats:
    """Three layers with awkward statistics, ``groups`` × ``seeds`` equal experiments."""
    per_layer = {
        "preactivation_mean": [-1.23e-30, 12345.678, -0.000123],
        "preactivation_std": [0.333, 1e-30, 5.5],
        "activation_mean": [-0.000123, -1.2e-7, 0.5],
        "activation_std": [12345.678, 0.0123, 1e-30],
        "saturated_fraction": [0.42, NAN, 1.0],
        "dead_fraction": [NAN, 0.003, NAN],
        "weight_std": [0.0447, 123.4, 0.000123],
        "grad_std": [1e-30, 12345.678, 0.000123],
        "distinct_units": [500.0, 10.0, 1.0],
    }
    E = groups * seeds
    values = {k: np.tile(np.asarray(v, dtype=np.float64), (E, 1)) for k, v in per_layer.items()}
    return LayerStats((500, 10, 1), acts, values)


def plain_layers(groups: int) -> LayerStats:
    """Three layers with everyday statistics (they fit side by side at 120 columns)."""
    layers = fake_layers(groups, acts=("relu", "relu", "sigmoid"))
    values = dict(layers.values)
    for key, row in (("preactivation_mean", [-3.7e-3, -0.0156, 0.584]),
                     ("preactivation_std", [0.853, 0.778, 0.548]),
                     ("activation_mean", [0.343, 0.304, 0.631]),
                     ("weight_std", [0.935, 0.451, 0.6]),
                     ("activation_std", [0.496, 0.52, 0.135]),
                     ("grad_std", [0.0267, 0.0447, 0.098]),
                     ("saturated_fraction", [NAN, NAN, 0.0]), ("dead_fraction", [0.0, 0.13, NAN]),
                     ("distinct_units", [10.0, 5.0, 1.0])):
        values[key] = np.tile(np.asarray(row), (groups * 2, 1))
    return LayerStats((10, 5, 1), layers.activations, values)


def layer_numbers(layers: LayerStats, keys: tuple[str, ...]) -> list[str]:
    mean = layers.mean()
    out = [fmt(mean[k][l]) for k in keys for l in range(layers.depth)]
    out += [run_tables.sat_or_dead(mean, l) for l in range(layers.depth)]
    return out


LAYER_KEYS = ("preactivation_mean", "preactivation_std", "activation_mean", "activation_std",
              "weight_std", "grad_std")


def fake_result(regression: bool = False) -> SimpleNamespace:
    """What ``run_tables.final_table`` reads of a RunResult: long labels, a divergence."""
    experiments = [SimpleNamespace(init=LONG, seed=3), SimpleNamespace(init="he", seed=4),
                   SimpleNamespace(init="he(mode=fan_out)", seed=12345)]
    history = SimpleNamespace(n_iterations=15000, interrupted=False,
                              diverged_at=np.array([-1, 12345, -1]))
    plan = SimpleNamespace(experiments=experiments, n_experiments=3)
    if regression:
        outs = np.array([[[0.1234, -0.5678, 12.3457, -0.0001, 9.0]], [[1.0, 2.0, 3.0, 4.0, 5.0]],
                         [[-1e-30, 0.0, 12345.678, 0.5, 0.5]]])
        return SimpleNamespace(plan=plan, history=history, train_outputs=outs,
                               train_accuracy=None, test_accuracy=None,
                               final_cost=np.array([0.073579, NAN, 1e-30]))
    return SimpleNamespace(plan=plan, history=history, train_outputs=None,
                           train_accuracy=np.array([0.99333, 0.5, 1.0]),
                           test_accuracy=np.array([0.96, 0.123456, 0.5]),
                           final_cost=np.array([0.073579, NAN, 12345.678]))


def summary(init: str, mean: float | None, half: float | None, span: tuple | None,
            test: float | None, test_half: float | None, success: float | None, cost: float,
            to: float | None, diverged: int, n: int = 20) -> InitSummary:
    ci = None if half is None else (max(0.0, mean - half), min(1.0, mean + half))
    test_ci = None if test_half is None else (test - test_half, test + test_half)
    return InitSummary(init, n, mean, ci, half, span, test, test_ci, test_half, None, success,
                       cost, to, 0 if to is None else n, diverged)


SUMMARIES = [
    summary("zeros", 0.5, 0.0, (0.5, 0.5), 0.5, 0.0, 0.0, 0.6931471805599453, None, 0),
    summary("he", 0.968, 0.033, (0.91, 0.99), 0.955, 0.0412, 0.95, 0.073579, 14000.0, 0),
    summary(LONG, 0.336, 0.0987, (0.0, 1.0), 0.3125, 0.125, 0.05, 12345.678, None, 20),
]
REGRESSION = [summary("zeros", None, None, None, None, None, None, 0.123, 200.0, 0),
              summary(LONG, None, None, None, None, None, None, 1e-30, None, 3)]
ONE_SEED = [summary("he", 0.968, None, (0.968, 0.968), 0.955, None, 1.0, 0.07, 300.0, 0, n=1),
            summary(LONG, 0.5, None, (0.5, 0.5), 0.5, None, 0.0, 0.69, None, 0, n=1)]


def summary_numbers(summaries: list[InitSummary]) -> list[str]:
    out = []
    for s in summaries:
        if s.train_accuracy_mean is not None:
            out += [f"{s.train_accuracy_mean:.3f}", f"{s.test_accuracy_mean:.3f}",
                    f"{s.train_accuracy_range[0]:.2f}–{s.train_accuracy_range[1]:.2f}",
                    pct(s.success_rate)]
        if s.train_accuracy_halfwidth is not None:
            out += [f"{s.train_accuracy_halfwidth:.3f}", f"{s.test_accuracy_halfwidth:.3f}"]
        out += [fmt(s.median_final_cost, 3), str(s.diverged)]
        if s.median_iterations_to_target is not None:
            out.append(f"{s.median_iterations_to_target:.0f}")
    return out


COMPARE_HEADERS = ["init", "train acc", "min–max", "test acc", "success", "cost", "to <0.3",
                   "diverged"]


def fake_curves() -> dict[str, np.ndarray]:
    steps = 101
    falling = np.geomspace(12345.678, 1e-30, steps)
    with_inf = np.linspace(0.7, 0.2, steps)
    with_inf[60:] = np.inf
    return {"zeros": np.full(steps, 0.6931471805599453), "he": falling, LONG: with_inf}


def fake_probe(with_loss: bool = True) -> InitProbe:
    edges = list(np.linspace(-12345.678, 12345.678, 31))
    counts = [0, 1, 3, 7, 20, 50, 120, 300, 700, 1500, 3000, 5000, 7000, 9000, 9999,
              9999, 9000, 7000, 5000, 3000, 1500, 700, 300, 120, 50, 20, 7, 3, 1, 0]

    def layer(i: int, **kw) -> LayerProbe:
        base = dict(init=LONG, layer=i, activation_mean=-1.23e-30, activation_std=12345.678,
                    predicted_std=1e-30, saturated_fraction=0.0042, dead_fraction=None,
                    grad_std=-0.000123, predicted_grad_std=1.5e-8,
                    loss_grad_std=123.456 if with_loss else None, vanished=False,
                    saturated=True, histogram=(counts, edges))
        base.update(kw)
        return LayerProbe(**base)

    layers = [layer(1), layer(2, saturated_fraction=None, dead_fraction=0.5, saturated=False,
                                vanished=True, activation_std=NAN),
              layer(100, activation_mean=0.5, predicted_grad_std=12345.678, saturated=False)]
    return InitProbe(LONG, f"N(μ, σ²), μ = 0, σ = {LONG_NUMBER}", layers, 1e-30, 12345.678,
                     None)


def probe_numbers(result: InitProbe) -> list[str]:
    out = []
    for r in result.layers:
        out += [fmt(r.activation_mean), fmt(r.activation_std), fmt(r.predicted_std),
                fmt(r.grad_std), fmt(r.predicted_grad_std), str(r.layer)]
        if r.loss_grad_std is not None:
            out.append(fmt(r.loss_grad_std))
        share = r.saturated_fraction if r.saturated_fraction is not None else r.dead_fraction
        out.append(pct(share))
    return out


PROBE_HEADERS = ["layer", "a mean", "a std", "theory", "sat/dead", "∇a std", "flag"]


# ---------------------------------------------------------------------------- run


@pytest.mark.parametrize("width", NARROW)
def test_layer_table_fits(width):
    layers = fake_layers()
    text = render(width, run_tables.layer_table, layers, "Per layer after training", True)
    assert_fits(text, width)
    body = before(text, "sat/dead: share")
    assert_headers(body, ["layer", "z mean", "z std", "a mean", "a std", "sat/dead", "W std",
                          "∇W std", "distinct"])
    assert_numbers(body, layer_numbers(layers, LAYER_KEYS) + ["500/500", "10/10", "1/1"])
    for name in ("1 tanh", "sigmoid", "leaky_relu(", "alpha=0.01)"):
        assert name in body, name


@pytest.mark.parametrize("width", NARROW)
def test_layer_table_of_a_real_run_fits(width, he_run):
    text = render(width, run_tables.layer_table, he_run.layers_final, "Per layer", True)
    assert_fits(text, width)
    assert_numbers(before(text, "sat/dead: share"),
                   layer_numbers(he_run.layers_final, LAYER_KEYS))


@pytest.mark.parametrize("regression", [False, True])
@pytest.mark.parametrize("width", NARROW)
def test_final_table_fits(width, regression):
    result = fake_result(regression)
    text = render(width, run_tables.final_table, result)
    assert_fits(text, width)
    body = before(text, "train accuracy over")
    headers = ["init", "seed", "final cost", "status"]
    headers += ["outputs"] if regression else ["train acc", "test acc"]
    assert_headers(body, headers)
    numbers = ["3", "4", "12345", "0.073579", "nan"]
    if regression:
        numbers += ["0.1234", "-0.5678", "12.3457", "-0.0001", "-0.0000", "12345.6780", "1e-30"]
    else:
        numbers += ["0.9933", "0.5000", "1.0000", "0.9600", "0.1235", "12345.7"]
    assert_numbers(body, numbers)
    assert LONG_NUMBER in body and "he(mode=fan_out)" in body
    assert in_a_cell(body, "diverged at iteration 12345"), body


@pytest.mark.parametrize("width", NARROW)
def test_final_table_of_a_real_run_fits(width, he_run):
    text = render(width, run_tables.final_table, he_run)
    assert_fits(text, width)
    assert_numbers(text, [f"{a:.4f}" for a in he_run.train_accuracy]
                   + [f"{c:.6g}" for c in he_run.final_cost])


@pytest.mark.parametrize("width", NARROW)
def test_header_wraps_but_cuts_nothing(width):
    name = "a_long_experiment_name_" * 3 + "end"
    plan, _ = run_command.prepare(CONFIGS / "he_circles.yaml",
                                  [f"init.weights={LONG}", f"name={name}"], 3)
    text = render(width, run_tables.header, plan, "cpu (NumPy)")
    assert_fits(text, width, allowed=("3…5",))
    flat = re.sub(r"\s+", "", text)
    for value in (name, LONG, "2→10→5→1", "3seeds(3…5)", "cpu(NumPy),float64"):
        assert value in flat, (value, text)


# ---------------------------------------------------------------------------- compare


@pytest.mark.parametrize("summaries", [SUMMARIES, REGRESSION, ONE_SEED],
                         ids=["classification", "regression", "one-seed"])
@pytest.mark.parametrize("width", NARROW)
def test_compare_table_fits(width, summaries):
    text = render(width, compare_tables.compare_table, summaries, 1, 0.9, 0.3, 2)
    assert_fits(text, width)
    body = before(text, "acc: mean")
    assert_headers(body, COMPARE_HEADERS)
    assert_numbers(body, summary_numbers(summaries))
    assert LONG_NUMBER in body


@pytest.mark.parametrize("width", NARROW)
def test_init_side_by_side_fits(width):
    groups = {"zeros": slice(0, 2), "he": slice(2, 4), LONG: slice(4, 6)}
    layers = fake_layers(groups=3)
    text = render(width, compare_tables.init_side_by_side, layers, groups)
    assert_fits(text, width)
    body = before(text, "a std: activation")
    assert_headers(body, ["layer", "a std", "sat/dead", "∇W std", "distinct"])
    assert_numbers(body, layer_numbers(layers, ("activation_std", "grad_std")))
    assert LONG_NUMBER in body and "zeros" in body


@pytest.mark.parametrize("width", NARROW)
def test_curve_lines_shrink_the_sparkline(width):
    curves = fake_curves()
    text = render(width, compare_tables.curve_lines, curves, list(range(0, 202, 2)))
    assert_fits(text, width)
    assert_headers(text, ["init", "curve", "start", "end"])
    assert_numbers(text, [fmt(c[i], 4) for c in curves.values() for i in (0, -1)])
    assert LONG_NUMBER in text
    bars = [len(m) for m in re.findall(r"[▁▂▃▄▅▆▇█×]+", text)]
    assert len(bars) == 3 and min(bars) >= 10


@pytest.mark.parametrize("width", NARROW)
def test_a_real_compare_renders_within_the_console(width, he_compare):
    text = render(width, compare_tables.render, he_compare)
    assert_fits(text, width)
    assert_numbers(before(text, "acc: mean"), summary_numbers(he_compare.summaries))
    assert LONG_NUMBER in text


# ---------------------------------------------------------------------------- probe


@pytest.mark.parametrize("with_loss", [True, False])
@pytest.mark.parametrize("width", NARROW)
def test_probe_table_fits(width, with_loss):
    result = fake_probe(with_loss)
    text = render(width, probe_tables.probe_table, result, True)
    assert_fits(text, width, allowed=(" … ",))
    body = before(text, f"{LONG}: activation std")
    assert_headers(body, PROBE_HEADERS + (["∇loss std"] if with_loss else []))
    assert_numbers(body, probe_numbers(result) + ["-1.23e+04", "1.23e+04"])
    assert "saturated" in body and "vanished" in body
    assert "▁▁▂" in body  # the histogram's bars


@pytest.mark.parametrize("width", NARROW)
def test_a_real_probe_fits(width):
    cfg = config.validate({"depth": 12, "width": 40, "batch": 64, "histograms": True,
                           "input": "circles", "inits": ["small", LONG]}, "probe",
                          config.ProbeConfig)
    for result in probe.run(cfg):
        text = render(width, probe_tables.probe_table, result, True)
        assert_fits(text, width, allowed=(" … ",))
        assert_numbers(text, probe_numbers(result))


# ---------------------------------------------------------------------------- wide layouts


def _wide_cases():
    groups = {"zeros": slice(0, 2), "random": slice(2, 4), "he": slice(4, 6)}
    return {
        "layer_table": (run_tables.layer_table, fake_layers(), "Per layer", True),
        "final_table": (run_tables.final_table, fake_result()),
        "final_table_regression": (run_tables.final_table, fake_result(regression=True)),
        "compare_table": (compare_tables.compare_table, SUMMARIES, 1, 0.9, 0.3, 2),
        "side_by_side": (compare_tables.init_side_by_side, plain_layers(3), groups),
        "curve_lines": (compare_tables.curve_lines, fake_curves(), list(range(0, 202, 2))),
        "probe_table": (probe_tables.probe_table, fake_probe(), True),
    }


@pytest.mark.parametrize("name", ["layer_table", "final_table", "final_table_regression",
                                  "compare_table", "side_by_side", "curve_lines", "probe_table"])
def test_wide_layouts_are_unchanged_at_120_columns(name):
    draw, *args = _wide_cases()[name]
    text = render(120, draw, *args)
    assert_fits(text, 120, allowed=(" … ",))
    assert stripped(text) == WIDE[name]


def test_a_wide_layout_that_fits_at_80_is_used_at_80():
    small = [SUMMARIES[0], SUMMARIES[1]]
    short_curves = {k: v for k, v in fake_curves().items() if k != LONG}
    for draw, *args in [(compare_tables.compare_table, small, 1, 0.9, 0.3, 2),
                        (run_tables.final_table, fake_result_short()),
                        (run_tables.layer_table, plain_layers(1), "Per layer", True),
                        (compare_tables.curve_lines, short_curves, list(range(0, 202, 2))),
                        (probe_tables.probe_table, fake_probe(with_loss=False), False)]:
        # the lines printed after the tables wrap to the console: left out
        at_80, at_200 = (before(stripped(render(w, draw, *args)), f"{LONG}: activation std")
                         for w in (80, 200))
        assert at_80 == at_200, f"{draw.__name__}:\n{at_80}\n{at_200}"


def test_side_by_side_falls_back_at_80_columns_as_before():
    groups = {"zeros": slice(0, 2), "random": slice(2, 4), "he": slice(4, 6)}
    text = render(80, compare_tables.init_side_by_side, plain_layers(3), groups)
    assert stripped(text) == ROWS_AT_80


ROWS_AT_80 = """\
Per layer at initialization (mean over seeds)

 init    layer      a std  sat/dead  ∇W std  distinct
 ────────────────────────────────────────────────────
 zeros   1 relu     0.496        0%  0.0267     10/10
         2 relu      0.52       13%  0.0447       5/5
         3 sigmoid  0.135        0%   0.098       1/1

 random  1 relu     0.496        0%  0.0267     10/10
         2 relu      0.52       13%  0.0447       5/5
         3 sigmoid  0.135        0%   0.098       1/1

 he      1 relu     0.496        0%  0.0267     10/10
         2 relu      0.52       13%  0.0447       5/5
         3 sigmoid  0.135        0%   0.098       1/1

a std: activation std; sat/dead: saturated share
(tanh/sigmoid/softmax) or dead share (ReLU); distinct:
units with different incoming weights"""


def test_break_label_keeps_numbers_whole():
    assert break_label(LONG) == f"normal(\nstd={LONG_NUMBER})"
    assert break_label("he(mode=fan_out, gain=1.5)") == "he(\nmode=fan_out,\ngain=1.5)"
    assert break_label("he(mode=fan_out, gain=1.5)", 16) == "he(mode=fan_out,\ngain=1.5)"
    assert break_label("he") == "he"
    assert break_labels(["zeros", LONG]) == ["zeros", f"normal(\nstd={LONG_NUMBER})"]


def fake_result_short() -> SimpleNamespace:
    result = fake_result()
    result.plan.experiments = [SimpleNamespace(init="he", seed=s) for s in (3, 4, 5)]
    result.history.diverged_at = np.array([-1, -1, -1])
    return result


# ---------------------------------------------------------------------------- real runs


@pytest.fixture(scope="module")
def he_run():
    return run_config("he_circles", "train.epochs=20", seeds=3)


@pytest.fixture(scope="module")
def he_compare():
    plan = compare.setup(compare.Options(CONFIGS / "he_circles.yaml", ["zeros", "he", LONG], 3,
                                         None, ["train.epochs=200"]))
    options = {"chunking": runner.chunks_for(plan, CPU)}
    if "success" in inspect.signature(compare.run).parameters:  # before they moved to the plan
        options.update(success=0.9, target_cost=0.3)
    return compare.run(plan, CPU, **options)


WIDE = {  # the wide layouts at 120 columns, as printed before narrow layouts existed (the
    # compare caption as the paired-statistics change made it)
    "layer_table": """\
Per layer (mean over 2 experiments)

 layer                       z mean    z std   a mean    a std  sat/dead   W std   ∇W std  distinct
 ──────────────────────────────────────────────────────────────────────────────────────────────────
 1 tanh                    -1.2e-30    0.333  -1.2e-4    1.2e4       42%  0.0447  1.0e-30   500/500
 2 leaky_relu(alpha=0.01)     1.2e4  1.0e-30  -1.2e-7   0.0123       <1%     123    1.2e4     10/10
 3 sigmoid                  -1.2e-4      5.5      0.5  1.0e-30      100%  1.2e-4   1.2e-4       1/1

sat/dead: share of tanh/sigmoid/softmax outputs within 0.01 of a bound, or of ReLU units zero on
every sample; distinct: units with different incoming weights""",  # noqa: E501
    "final_table": """\
Result after 15000 iterations

 init                               seed  train acc  test acc  final cost  status
 ─────────────────────────────────────────────────────────────────────────────────────────────────────
 normal(std=0.044721359549995794)      3     0.9933    0.9600    0.073579  ok
 he                                    4     0.5000    0.1235         nan  diverged at iteration 12345
 he(mode=fan_out)                  12345     1.0000    0.5000     12345.7  ok

train accuracy over 3 experiments: mean 0.8311, min 0.5000, max 1.0000""",  # noqa: E501
    "final_table_regression": """\
Result after 15000 iterations

 init                               seed                           outputs  final cost  status
 ──────────────────────────────────────────────────────────────────────────────────────────────────────────────────
 normal(std=0.044721359549995794)      3    0.1234 -0.5678 12.3457 -0.0001    0.073579  ok
 he                                    4       1.0000 2.0000 3.0000 4.0000         nan  diverged at iteration 12345
 he(mode=fan_out)                  12345  -0.0000 0.0000 12345.6780 0.5000       1e-30  ok
""",  # noqa: E501
    "compare_table": """\
Over 20 seed(s) per initializer

 init                                train acc    min–max     test acc  success    cost  to <0.3  diverged
 ─────────────────────────────────────────────────────────────────────────────────────────────────────────
 zeros                             0.500±0.000  0.50–0.50  0.500±0.000       0%   0.693    never         0
 he                                0.968±0.033  0.91–0.99  0.955±0.041      95%  0.0736    14000         0
 normal(std=0.044721359549995794)  0.336±0.099  0.00–1.00  0.312±0.125       5%   1.2e4    never        20

acc: mean ± 95% CI half-width (Student t) and min–max over the seeds that did not diverge; success: share
of seeds with train acc ≥ 0.9 [95% Wilson interval]; cost: median final cost; to <0.3: median first logged
iteration with cost < 0.3 (logged every 2; 'never' if half the seeds never get there); best row in bold""",  # noqa: E501
    "side_by_side": """\
Per layer at initialization (mean over seeds)

            zeros                              random                                 he
 layer      a std  sat/dead  ∇W std  distinct   a std  sat/dead  ∇W std  distinct  a std  sat/dead  ∇W std  distinct
 ───────────────────────────────────────────────────────────────────────────────────────────────────────────────────
 1 relu     0.496        0%  0.0267     10/10   0.496        0%  0.0267     10/10  0.496        0%  0.0267     10/10
 2 relu      0.52       13%  0.0447       5/5    0.52       13%  0.0447       5/5   0.52       13%  0.0447       5/5
 3 sigmoid  0.135        0%   0.098       1/1   0.135        0%   0.098       1/1  0.135        0%   0.098       1/1

a std: activation std; sat/dead: saturated share (tanh/sigmoid/softmax) or dead share (ReLU); distinct: units with
different incoming weights""",  # noqa: E501
    "curve_lines": """\
Median cost over seeds, iterations 0–200 (each line scaled to its own range)

 init                              curve                                      start      end
 ───────────────────────────────────────────────────────────────────────────────────────────
 zeros                             ▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁  0.6931   0.6931
 he                                █▂▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁   1.2e4  1.0e-30
 normal(std=0.044721359549995794)  ██▇▇▇▆▆▆▆▅▅▅▄▄▄▃▃▃▃▂▂▂▁▁××××××××××××××××     0.7      inf
""",  # noqa: E501
    "probe_table": """\
normal(std=0.044721359549995794): N(μ, σ²), μ = 0, σ = 0.044721359549995794

 layer    a mean  a std   theory  sat/dead   ∇a std  theory  ∇loss std  flag
 ────────────────────────────────────────────────────────────────────────────────
     1  -1.2e-30  1.2e4  1.0e-30       <1%  -1.2e-4  1.5e-8        123  saturated
     2  -1.2e-30    nan  1.0e-30       50%  -1.2e-4  1.5e-8        123  vanished
   100       0.5  1.2e4  1.0e-30       <1%  -1.2e-4   1.2e4        123

activation histograms

 layer                 range  distribution
 ───────────────────────────────────────────────────────────
     1  -1.23e+04 … 1.23e+04   ▁▁▁▁▁▁▁▁▁▂▄▆▇██▇▆▄▂▁▁▁▁▁▁▁▁▁
     2  -1.23e+04 … 1.23e+04   ▁▁▁▁▁▁▁▁▁▂▄▆▇██▇▆▄▂▁▁▁▁▁▁▁▁▁
   100  -1.23e+04 … 1.23e+04   ▁▁▁▁▁▁▁▁▁▂▄▆▇██▇▆▄▂▁▁▁▁▁▁▁▁▁

normal(std=0.044721359549995794): activation std last/first layer 1.0e-30, gradient std first/last layer 1.2e4
""",  # noqa: E501
}
