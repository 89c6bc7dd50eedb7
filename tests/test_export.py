"""``initlab.commands.export``: one experiment of a saved run folder, picked by its init and seed
labels, in the layout of safetensors / PyTorch, Keras, Flax or NumPy; one-line errors; and, with
PyTorch installed, the exported state_dict gives initlab's outputs in an ``nn.Sequential``."""

from __future__ import annotations

import ast
import json
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import load_file

from initlab.commands import compare, export
from initlab.engine import nn
from initlab.errors import InitlabError
from initlab.experiments import config as config_mod
from initlab.experiments import runner
from initlab.reporting import folder

from conftest import CPU, HE, run_config

SHORT = ["train.epochs=300", "train.log_every=100"]
INITS = ["he", "normal(std=0.5)"]


def _save(path: Path, result: runner.RunResult, extra: dict | None = None) -> Path:
    path.mkdir(parents=True)
    folder.save_run(path, result, config_mod.dump(result.plan.config), {}, extra=extra)
    return path


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """A compare of he and normal(std=0.5) × seeds 3, 4 (four experiments), float64."""
    plan = compare.setup(compare.Options(HE, INITS, 2, None, SHORT))
    found = compare.run(plan, CPU, chunking=runner.chunks_for(plan, CPU))
    return _save(tmp_path_factory.mktemp("export") / "run", found.run), found.run


NO_BIAS = ["model.layers=[2, 8, 6, 5, 4, 3, 1]",
           "model.activations=[tanh, leaky_relu(slope=0.2), selu, gelu, gelu_tanh, sigmoid]",
           "model.bias=false", "dtype=float32", *SHORT]
SOFTMAX = ["dataset={name: iris}", "model.layers=[4, 12, 3]",
           "model.activations=[relu, softmax]", "train.loss=softmax_ce", *SHORT]


@pytest.fixture(scope="module")
def no_bias(tmp_path_factory):
    """Five layers, every other activation, no biases, float32."""
    result = run_config("he_circles", *NO_BIAS, seeds=2)
    return _save(tmp_path_factory.mktemp("nobias") / "run", result), result


@pytest.fixture(scope="module")
def softmax(tmp_path_factory):
    """Iris, relu then a softmax output."""
    result = run_config("he_circles", *SOFTMAX, seeds=2)
    return _save(tmp_path_factory.mktemp("softmax") / "run", result), result


def _npz(path: Path) -> dict[str, np.ndarray]:
    with np.load(path, allow_pickle=False) as w:
        return {k: w[k] for k in w.files}


def _slice(path: Path, init: str, seed: int) -> dict[str, np.ndarray]:
    """W1, b1, … of experiment (init, seed) of a weights_*.npz, found by its labels."""
    w = _npz(path)
    (e,) = np.flatnonzero((w.pop("init") == init) & (w.pop("seed") == seed))
    return {k: v[e] for k, v in w.items()}


def _one_line(exc: pytest.ExceptionInfo) -> str:
    text = str(exc.value)
    assert text and "\n" not in text, text
    return text


# ------------------------------------------------------------------------------ the layouts

@pytest.mark.parametrize("final", [False, True])
def test_safetensors_round_trips_to_the_labelled_experiment(saved, final):
    path, _ = saved
    out, _ = export.export(path, "normal(std=0.5)", 4, "safetensors", final=final)
    phase = "final" if final else "init"
    assert out == path / "export" / f"normal-std=0.5-seed4-{phase}.safetensors"
    got = load_file(str(out))
    assert sorted(got) == ["0.bias", "0.weight", "2.bias", "2.weight", "4.bias", "4.weight"]
    want = _slice(path / f"weights_{phase}.npz", "normal(std=0.5)", 4)
    for l, i in ((1, 0), (2, 2), (3, 4)):
        assert got[f"{i}.weight"].dtype == np.float64
        np.testing.assert_array_equal(got[f"{i}.weight"], want[f"W{l}"])
        np.testing.assert_array_equal(got[f"{i}.bias"], want[f"b{l}"])
    other = _slice(path / f"weights_{'init' if final else 'final'}.npz", "normal(std=0.5)", 4)
    assert not np.array_equal(got["0.weight"], other["W1"])  # --final picks the other file
    neighbour = _slice(path / f"weights_{phase}.npz", "normal(std=0.5)", 3)
    assert not np.array_equal(got["0.weight"], neighbour["W1"])


def test_the_labels_pick_the_experiment_from_any_place_on_the_axis(saved):
    path, result = saved
    for e, exp in enumerate(result.plan.experiments):
        out, _ = export.export(path, exp.init, exp.seed, "npz", out=path / "pick" / f"{e}.npz")
        got = _npz(out)
        assert list(got) == ["W1", "b1", "W2", "b2", "W3", "b3"]
        for key, value in result.weights_init.items():
            np.testing.assert_array_equal(got[key], value[e], err_msg=f"{exp} {key}")


def test_keras_kernels_are_the_transposed_weights_in_get_weights_order(saved):
    path, _ = saved
    out, code = export.export(path, "he", 3, "keras", final=True)
    assert out.name == "he-seed3-final.keras.npz"
    got = _npz(out)
    assert list(got) == ["dense/kernel", "dense/bias", "dense_1/kernel", "dense_1/bias",
                         "dense_2/kernel", "dense_2/bias"]
    want = _slice(path / "weights_final.npz", "he", 3)
    for l, name in enumerate(("dense", "dense_1", "dense_2"), start=1):
        assert got[f"{name}/kernel"].shape == want[f"W{l}"].shape[::-1]  # (n_in, n_out)
        np.testing.assert_array_equal(got[f"{name}/kernel"], want[f"W{l}"].T)
        np.testing.assert_array_equal(got[f"{name}/bias"], want[f"b{l}"])
    assert "set_weights" in code and "keras.layers.Dense(10, activation=\"relu\")" in code
    assert "keras.Input(shape=(2,))" in code and "Dense(1, activation=\"sigmoid\")" in code


def test_flax_params_tree_holds_transposed_kernels(saved):
    path, _ = saved
    out, code = export.export(path, "he", 4, "flax")
    assert out.name == "he-seed4-init.flax.npz"
    got = _npz(out)
    assert list(got) == ["params/Dense_0/kernel", "params/Dense_0/bias", "params/Dense_1/kernel",
                         "params/Dense_1/bias", "params/Dense_2/kernel", "params/Dense_2/bias"]
    tree: dict = {}
    for key, value in got.items():  # what flax.traverse_util.unflatten_dict(sep="/") builds
        node = tree
        *parents, leaf = key.split("/")
        for p in parents:
            node = node.setdefault(p, {})
        node[leaf] = value
    want = _slice(path / "weights_init.npz", "he", 4)
    assert list(tree) == ["params"] and list(tree["params"]) == ["Dense_0", "Dense_1", "Dense_2"]
    for l in (1, 2, 3):
        np.testing.assert_array_equal(tree["params"][f"Dense_{l - 1}"]["kernel"], want[f"W{l}"].T)
        np.testing.assert_array_equal(tree["params"][f"Dense_{l - 1}"]["bias"], want[f"b{l}"])
    assert 'unflatten_dict({k: w[k] for k in w.files}, sep="/")' in code
    assert "nn.relu(nn.Dense(10)(x))" in code and "nn.sigmoid(nn.Dense(1)(x))" in code


def test_no_bias_float32_run_has_weights_only_in_its_dtype(no_bias):
    path, _ = no_bias
    got = load_file(str(export.export(path, "he", 4, "safetensors")[0]))
    assert sorted(got, key=lambda k: int(k.split(".")[0])) == [
        "0.weight", "2.weight", "4.weight", "6.weight", "8.weight", "10.weight"]
    assert {v.dtype for v in got.values()} == {np.dtype(np.float32)}
    want = _slice(path / "weights_init.npz", "he", 4)
    for l in range(1, 7):
        np.testing.assert_array_equal(got[f"{2 * (l - 1)}.weight"], want[f"W{l}"])
    keras = _npz(export.export(path, "he", 4, "keras")[0])
    assert list(keras) == ["dense/kernel"] + [f"dense_{i}/kernel" for i in range(1, 6)]
    flax = _npz(export.export(path, "he", 4, "flax")[0])
    assert list(flax) == [f"params/Dense_{i}/kernel" for i in range(6)]
    assert list(_npz(export.export(path, "he", 4, "npz")[0])) == [f"W{l}" for l in range(1, 7)]


def test_every_snippet_is_python_that_names_the_architecture(saved, no_bias, tmp_path):
    path, _ = saved
    for fmt in export.FORMATS:
        if fmt == "torch" and not _has_torch():
            continue
        out, code = export.export(path, "he", 3, fmt, out=tmp_path / f"a.{fmt}")
        ast.parse(code)
        assert repr(str(out)) in code and "layers [2, 10, 5, 1]" in code, code
    _, code = export.export(path, "he", 3, "safetensors", out=tmp_path / "b.safetensors")
    assert ("model = nn.Sequential(nn.Linear(2, 10), nn.ReLU(), nn.Linear(10, 5), nn.ReLU(), "
            "nn.Linear(5, 1), nn.Sigmoid()).double()") in code
    assert "model.load_state_dict(load_file(" in code
    _, code = export.export(no_bias[0], "he", 3, "safetensors", out=tmp_path / "c.safetensors")
    assert ("nn.Sequential(nn.Linear(2, 8, bias=False), nn.Tanh(), nn.Linear(8, 6, bias=False), "
            "nn.LeakyReLU(0.2), nn.Linear(6, 5, bias=False), nn.SELU(), "
            "nn.Linear(5, 4, bias=False), nn.GELU(), nn.Linear(4, 3, bias=False), "
            "nn.GELU(approximate=\"tanh\"), "
            "nn.Linear(3, 1, bias=False), nn.Sigmoid())\n") in code  # float32: no .double()
    _, code = export.export(no_bias[0], "he", 3, "keras", out=tmp_path / "c.npz")
    assert "use_bias=False" in code and "negative_slope=0.2" in code and "set_floatx" not in code
    _, code = export.export(no_bias[0], "he", 3, "flax", out=tmp_path / "d.npz")
    assert "nn.leaky_relu(nn.Dense(6, use_bias=False)(x), negative_slope=0.2)" in code


def _has_torch() -> bool:
    try:
        import torch  # noqa: F401, PLC0415
    except ImportError:
        return False
    return True


def test_no_framework_is_imported_for_the_other_formats(saved, tmp_path, monkeypatch):
    path, _ = saved
    for name in ("torch", "tensorflow", "keras", "jax", "flax"):
        monkeypatch.setitem(sys.modules, name, None)  # importing it now raises ImportError
    for fmt in ("safetensors", "keras", "flax", "npz"):
        out, _ = export.export(path, "he", 3, fmt, out=tmp_path / f"x.{fmt}")
        assert out.is_file()


def test_a_folder_from_before_the_labels_follows_metrics_json_order(saved, tmp_path):
    path, result = saved
    old = tmp_path / "old"
    shutil.copytree(path, old, ignore=shutil.ignore_patterns("export", "pick"))
    for name in ("weights_init.npz", "weights_final.npz"):
        w = _npz(old / name)
        del w["init"], w["seed"]
        np.savez_compressed(old / name, **w)
    e = [(x.init, x.seed) for x in result.plan.experiments].index(("normal(std=0.5)", 3))
    got = load_file(str(export.export(old, "normal(std=0.5)", 3, "safetensors")[0]))
    np.testing.assert_array_equal(got["2.weight"], result.weights_init["W2"][e])


def test_an_init_written_another_way_finds_its_label(saved, tmp_path):
    path, result = saved
    out, _ = export.export(path, "normal(std=.5)", 3, "npz", out=tmp_path / "x.npz")
    e = [(x.init, x.seed) for x in result.plan.experiments].index(("normal(std=0.5)", 3))
    np.testing.assert_array_equal(_npz(out)["W1"], result.weights_init["W1"][e])


# ----------------------------------------------------------------------------------- errors

def test_an_unknown_init_lists_the_inits_there(saved):
    with pytest.raises(InitlabError) as exc:
        export.export(saved[0], "xavier", 3, "safetensors")
    msg = _one_line(exc)
    assert "no experiment with init 'xavier'" in msg and "its inits: he, normal(std=0.5)" in msg
    with pytest.raises(InitlabError) as exc:
        export.export(saved[0], "hee", 3, "safetensors")
    assert "did you mean 'he'?" in _one_line(exc)


def test_an_unknown_seed_lists_the_seeds_of_that_init(saved):
    with pytest.raises(InitlabError) as exc:
        export.export(saved[0], "he", 9, "npz")
    msg = _one_line(exc)
    assert "init he and seed 9" in msg and "the seeds of he there: 3-4" in msg


def test_an_unknown_format_lists_the_formats(saved):
    with pytest.raises(InitlabError) as exc:
        export.export(saved[0], "he", 3, "onnx")
    assert "unknown export format 'onnx'" in _one_line(exc)
    assert "safetensors, torch, keras, flax, npz" in str(exc.value)
    with pytest.raises(InitlabError) as exc:
        export.export(saved[0], "he", 3, "tourch")
    assert "did you mean 'torch'?" in _one_line(exc)


def test_an_existing_out_file_is_never_replaced(saved, tmp_path):
    target = tmp_path / "w.safetensors"
    export.export(saved[0], "he", 3, "safetensors", out=target)
    before = target.read_bytes()
    with pytest.raises(InitlabError) as exc:
        export.export(saved[0], "he", 4, "safetensors", out=target)
    assert f"{target} exists" in _one_line(exc)
    assert target.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["w.safetensors"]  # no temporaries


def test_a_folder_without_weights_says_so(saved, tmp_path):
    path = tmp_path / "big"
    shutil.copytree(saved[0], path, ignore=shutil.ignore_patterns("export", "pick", "*.npz"))
    m = json.loads((path / "metrics.json").read_text())
    m["weights_saved"] = False  # what a chunked run past 1 GiB of weights writes
    (path / "metrics.json").write_text(json.dumps(m))
    with pytest.raises(InitlabError) as exc:
        export.export(path, "he", 3, "safetensors")
    assert "weights_saved false" in _one_line(exc)


def test_a_missing_or_wrong_folder_is_one_line(saved, tmp_path):
    with pytest.raises(InitlabError) as exc:
        export.export(tmp_path / "nowhere", "he", 3, "npz")
    assert "no run folder" in _one_line(exc) and "does not exist" in str(exc.value)
    (tmp_path / "probe").mkdir()
    (tmp_path / "probe" / "probe.json").write_text("{}")
    with pytest.raises(InitlabError) as exc:
        export.export(tmp_path / "probe", "he", 3, "npz")
    assert "probe folder" in _one_line(exc)
    (tmp_path / "empty").mkdir()
    with pytest.raises(InitlabError) as exc:
        export.export(tmp_path / "empty", "he", 3, "npz")
    assert "no metrics.json" in _one_line(exc)


def test_the_torch_format_without_torch_points_to_safetensors(saved, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)
    with pytest.raises(InitlabError) as exc:
        export.export(saved[0], "he", 3, "torch", out=tmp_path / "w.pt")
    msg = _one_line(exc)
    assert "needs PyTorch" in msg and "--format safetensors" in msg
    assert "safetensors.torch.load_file" in msg
    assert not (tmp_path / "w.pt").exists()


# ------------------------------------------------------------------------- with PyTorch itself

def _initlab_outputs(result: runner.RunResult, e: int, final: bool) -> np.ndarray:
    """initlab's network outputs a_L (n_L, m) of experiment e on the training inputs."""
    plan = result.plan
    p = nn.ParamStore(np, plan.net, plan.n_experiments, np.dtype(plan.config.dtype))
    p.load(result.weights_final if final else result.weights_init)
    return runner.outputs(np, plan.net, p, plan.dataset.X_train)[e]


@pytest.mark.parametrize("run", ["saved", "no_bias", "softmax"])
@pytest.mark.parametrize("fmt", ["torch", "safetensors"])
@pytest.mark.parametrize("final", [False, True])
def test_the_state_dict_gives_initlabs_outputs_in_torch(run, fmt, final, request, tmp_path):
    torch = pytest.importorskip("torch")
    path, result = request.getfixturevalue(run)
    for e, exp in enumerate(result.plan.experiments):
        out, code = export.export(path, exp.init, exp.seed, fmt, final=final,
                                  out=tmp_path / f"{e}.{fmt}")
        space: dict = {}
        exec(code, space)  # the snippet itself builds the nn.Sequential and loads the file
        model = space["model"]
        assert isinstance(model, torch.nn.Sequential)
        assert len(model) == 2 * result.plan.net.depth
        x = torch.from_numpy(np.ascontiguousarray(result.plan.dataset.X_train.T))
        with torch.no_grad():
            got = model(x.to(next(model.parameters()).dtype)).numpy().T  # (n_L, m)
        want = _initlab_outputs(result, e, final)
        tol = 1e-12 if result.plan.config.dtype == "float64" else 2e-5
        np.testing.assert_allclose(got, want, rtol=tol, atol=tol, err_msg=f"{exp} {fmt}")
        state = torch.load(out, weights_only=True) if fmt == "torch" else None
        if state is not None:
            assert all(isinstance(v, torch.Tensor) for v in state.values())
