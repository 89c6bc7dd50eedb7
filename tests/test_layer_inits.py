"""One initializer per layer (a list, or a mapping {default, first, hidden, last, n}) and the
framework presets, weights and biases: what each layer is drawn from, and one-line refusals."""

from __future__ import annotations

import math

import numpy as np
import pytest

from initlab.errors import InitlabError
from initlab.experiments import config
from initlab.experiments import plan as plans
from initlab.inits import draw

from conftest import CONFIGS, run_cli

DEEP = ["model.layers=[40,300,300,300,1]", "model.activations=[tanh,tanh,tanh,sigmoid]",
        "dataset={name: blobs, n_features: 40, n_train: 50, n_test: 10, centers: 2}",
        "rng=numpy", "train.epochs=1"]


def starting(*overrides: str, seeds=(0,), inits=None) -> plans.Plan:
    cfg = config.load(CONFIGS / "he_circles.yaml", [*DEEP, *overrides])
    built = plans.build(cfg, seeds=list(seeds), inits=inits)
    return built, plans.initial_values(built)


def test_a_list_gives_each_layer_its_own_law_from_the_same_streams():
    _, mixed = starting("init.weights=[he, lecun_normal, zeros, constant(value=0.5)]")
    _, he = starting("init.weights=he")
    _, lecun = starting("init.weights=lecun_normal")
    assert np.array_equal(mixed["W1"], he["W1"])  # one stream per tensor: layer 1 as under he
    assert np.array_equal(mixed["W2"], lecun["W2"])
    assert not mixed["W3"].any()
    assert (mixed["W4"] == 0.5).all()


def test_a_mapping_picks_number_then_last_then_first_then_hidden_then_default():
    built, w = starting("init.weights={default: zeros, hidden: lecun_normal, first: he, "
                        "last: constant(value=2), 3: constant(value=3)}")
    _, he = starting("init.weights=he")
    _, lecun = starting("init.weights=lecun_normal")
    assert np.array_equal(w["W1"], he["W1"])
    assert np.array_equal(w["W2"], lecun["W2"])
    assert (w["W3"] == 3).all() and (w["W4"] == 2).all()
    only_default, v = starting("init.weights={default: lecun_normal, last: zeros}")
    assert np.array_equal(v["W3"], lecun["W3"]) and not v["W4"].any()
    assert [i.label for i in only_default.inits[only_default.experiments[0].init].weights] == [
        "lecun_normal", "lecun_normal", "lecun_normal", "zeros"]


def test_biases_follow_their_own_per_layer_spec():
    _, w = starting("init.bias=[zeros, constant(value=1), zeros, constant(value=-1)]")
    assert not w["b1"].any() and (w["b2"] == 1).all() and (w["b4"] == -1).all()


def test_per_layer_labels_read_like_the_file():
    built, _ = starting(inits=[["he", "he", "lecun_normal", "zeros"],
                               {"default": "he", "last": "zeros"}, "normal(std=0.5)"])
    assert list(built.inits) == ["[he, he, lecun_normal, zeros]", "{default: he, last: zeros}",
                                 "normal(std=0.5)"]
    formula = built.inits["{default: he, last: zeros}"].formula()
    assert formula.startswith("layers 1–3: he: N(0, σ²)") and "; layer 4: zeros" in formula


def test_a_saved_mapping_with_layer_numbers_loads_back_the_same(tmp_path):
    cfg = config.load(CONFIGS / "he_circles.yaml", ["init.weights={default: he, 3: zeros}"])
    path = tmp_path / "config.yaml"
    path.write_text(config.dump(cfg), encoding="utf-8")
    again = config.load(path)
    shapes = [(10, 2), (5, 10), (1, 5)]
    first = draw.resolve_layers(cfg.init.weights, None, shapes, True)
    second = draw.resolve_layers(again.init.weights, None, shapes, True)
    assert [i.label for i in first.weights] == [i.label for i in second.weights] == [
        "he", "he", "zeros"]


@pytest.mark.parametrize("weights, message", [
    ("[he, zeros]", "init.weights lists 2 initializer(s) for 4 layer(s)"),
    ("{last: zeros}", "no initializer for layer(s) 1, 2, 3 of 4; add a 'default' key"),
    ("{default: he, 7: zeros}", "layer 7 does not exist, the network has 4 weight layer(s)"),
    ("{defalt: he}", "unknown layer key 'defalt'"),
    ("[]", "an empty list"),
    ("[he, [he], he, he]", "a per-layer entry must be one initializer"),
    ("[he, nope, he, he]", "unknown initializer 'nope'"),
])
def test_bad_per_layer_specs_are_one_line(weights, message):
    with pytest.raises(InitlabError) as exc:
        starting(f"init.weights={weights}")
    assert message in str(exc.value) and "\n" not in str(exc.value)


def test_the_cli_refuses_a_list_of_the_wrong_length_in_one_line(tmp_path):
    ran = run_cli(tmp_path, "run", "he_circles", "--set", "init.weights=[he, zeros]",
                  "--dry-run")
    assert ran.returncode == 2, ran.explain()
    assert ran.stderr.strip() == ("error: init.weights lists 2 initializer(s) for 3 layer(s); "
                                  "give one per layer, or a mapping such as "
                                  "{default: he, last: zeros}")
    assert ran.after == ran.before


# ---------------------------------------------------------------------------- the presets

N_IN, N_OUT = 300, 300  # layer 2 of DEEP


def _bounds(values: np.ndarray) -> tuple[float, float]:
    return float(values.min()), float(values.max())


def test_torch_default_draws_weights_and_biases_as_nn_linear():
    _, w = starting("init.weights=torch_default")
    bound = 1 / math.sqrt(N_IN)
    lo, hi = _bounds(w["W2"])
    assert -bound <= lo < -0.999 * bound and 0.999 * bound < hi <= bound
    n = w["W2"].size  # U(±bound): mean 0, variance bound²/3
    assert abs(w["W2"].mean()) < 5 * bound / math.sqrt(3 * n)
    assert abs(w["W2"].var() / (bound * bound / 3) - 1) < 5 * math.sqrt(0.8 / n)
    b = w["b2"]  # the bias takes the fan_in of its layer's weight, not its own size
    assert -bound <= b.min() and b.max() <= bound and b.std() > 0.3 * bound
    b1 = w["b1"]
    assert -1 / math.sqrt(40) <= b1.min() and b1.max() <= 1 / math.sqrt(40)
    assert b1.max() > 1 / math.sqrt(300)  # wider than layer 2's bound: its own fan_in (40)


def test_keras_default_is_glorot_uniform_with_zero_biases():
    _, w = starting("init.weights=keras_default")
    bound = math.sqrt(6 / (N_IN + N_OUT))
    lo, hi = _bounds(w["W2"])
    assert -bound <= lo < -0.999 * bound and 0.999 * bound < hi <= bound
    assert not any(w[f"b{l}"].any() for l in range(1, 5))


@pytest.mark.parametrize("preset, parent_std", [("flax_default", 1 / (0.87962566103423978 *
                                                                      math.sqrt(N_IN))),
                                                ("haiku_default", 1 / math.sqrt(N_IN))])
def test_flax_and_haiku_draw_a_normal_cut_at_two_parent_stds(preset, parent_std):
    from scipy import stats  # noqa: PLC0415

    _, w = starting(f"init.weights={preset}")
    W = w["W2"].ravel()
    assert np.abs(W).max() <= 2 * parent_std
    assert np.abs(W).max() > 1.99 * parent_std
    realised = stats.truncnorm(-2, 2, scale=parent_std).std()
    assert abs(W.std() / realised - 1) < 5 / math.sqrt(2 * W.size)
    assert not w["b2"].any()


def test_a_preset_keeps_its_bias_law_and_its_weight_law_alone_takes_any_bias():
    _, w = starting("init.weights=torch_default", "init.bias=constant(value=0.25)")
    assert (np.abs(w["b2"]) <= 1 / math.sqrt(N_IN)).all() and w["b2"].std() > 0
    _, own = starting("init.weights=torch_linear", "init.bias=constant(value=0.25)")
    assert np.array_equal(own["W2"], w["W2"]) and (own["b2"] == 0.25).all()


def test_a_preset_can_be_one_entry_of_a_mapping():
    _, w = starting("init.weights={default: torch_default, last: zeros}")
    _, torch = starting("init.weights=torch_default")
    assert np.array_equal(w["W1"], torch["W1"]) and np.array_equal(w["b1"], torch["b1"])
    assert not w["W4"].any() and not w["b4"].any()


def test_compare_takes_the_presets_as_initializers(tmp_path):
    ran = run_cli(tmp_path, "compare", "--inits", "torch_default,keras_default,flax_default,he",
                  "--seeds", "2", "--set", "train.epochs=200", "--out", "OUT", columns=200)
    assert ran.returncode == 0, ran.explain()
    for name in ("torch_default", "keras_default", "flax_default"):
        assert f"weights     {name}: " in ran.stdout
    assert "torch_default: W ~ U(±1/√fan_in) (kaiming_uniform_ with a = √5), b ~ U(±1/√fan_in" \
        in ran.stdout.replace("\n            ", " ")


def test_an_unknown_preset_suggests_the_close_one():
    with pytest.raises(InitlabError) as exc:
        starting("init.weights=torch_defualt")
    assert "unknown initializer 'torch_defualt'" in str(exc.value)
    assert "did you mean 'torch_default'?" in str(exc.value)
