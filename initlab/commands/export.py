"""``initlab export``: one experiment's starting (or final) weights, from a saved run folder, in
another framework's naming and layout, with a snippet that loads them there.

initlab's layer l holds ``W_l`` (n_out, n_in) and ``b_l`` (n_out,), experiment axis first in
``weights_init.npz`` / ``weights_final.npz``, whose ``init`` and ``seed`` arrays label the axis
(folders written before those labels existed follow the order of metrics.json's
``experiments``). The targets:

- ``safetensors`` and ``torch``: the state_dict of an ``nn.Sequential`` with a Linear module at
  indices 0, 2, 4, … and an activation module after each: ``0.weight`` (n_out, n_in),
  ``0.bias``, ``2.weight``, … (no bias keys without biases). safetensors is written with
  ``safetensors.numpy`` in the run's dtype (PyTorch reads it with
  ``safetensors.torch.load_file``); ``torch`` is a ``torch.save`` of tensors, and the only
  format that needs PyTorch installed.
- ``keras``: ``Dense`` layers in order, kernel Wᵀ (n_in, n_out) and bias, as an ``.npz`` whose
  keys (``dense/kernel``, ``dense/bias``, ``dense_1/kernel``, …) follow
  ``model.get_weights()`` order, for ``model.set_weights``.
- ``flax``: the params tree ``{"params": {"Dense_0": {"kernel": Wᵀ, "bias": b}, …}}`` flattened
  into an ``.npz`` with keys ``params/Dense_0/kernel`` … (``unflatten_dict(…, sep="/")``).
- ``npz``: ``W1, b1, …`` of the one experiment, initlab's own layout.

Nothing here imports TensorFlow, Keras, Flax or JAX; PyTorch only for ``--format torch``.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from initlab.commands import report
from initlab.engine import activations
from initlab.engine.activations import Activation
from initlab.errors import InitlabError, reason, suggest
from initlab.experiments import config

FORMATS = ("safetensors", "torch", "keras", "flax", "npz")
EXTENSIONS = {"safetensors": "safetensors", "torch": "pt", "keras": "keras.npz",
              "flax": "flax.npz", "npz": "npz"}
EXPORT_DIR = "export"  # default place of exported files, inside the run folder
SHOW_SEEDS = 12  # an error lists at most this many seed ranges

# the activation modules of each target: (torch nn module, Keras activation, Flax function)
_TORCH = {"linear": "nn.Identity()", "relu": "nn.ReLU()", "tanh": "nn.Tanh()",
          "sigmoid": "nn.Sigmoid()", "selu": "nn.SELU()", "gelu": "nn.GELU()",
          "gelu_tanh": 'nn.GELU(approximate="tanh")', "softmax": "nn.Softmax(dim=-1)"}
_KERAS = {"linear": None, "relu": '"relu"', "tanh": '"tanh"', "sigmoid": '"sigmoid"',
          "selu": '"selu"', "gelu": "lambda x: keras.activations.gelu(x, approximate=False)",
          "gelu_tanh": "lambda x: keras.activations.gelu(x, approximate=True)",
          "softmax": '"softmax"'}
_FLAX = {"linear": None, "relu": "nn.relu", "tanh": "nn.tanh", "sigmoid": "nn.sigmoid",
         "selu": "nn.selu", "gelu": "(lambda v: nn.gelu(v, approximate=False))",
         "gelu_tanh": "nn.gelu", "softmax": "nn.softmax"}  # flax's nn.gelu: approximate=True


@dataclass(frozen=True)
class Architecture:
    """The run's network, from its config.yaml: layer sizes, one activation per weight layer,
    biases on or off, and the dtype it trained in."""

    layers: tuple[int, ...]
    activations: tuple[Activation, ...]
    bias: bool
    dtype: str

    @property
    def depth(self) -> int:
        return len(self.layers) - 1

    def describe(self) -> str:
        acts = ", ".join(a.label for a in self.activations)
        return (f"layers {list(self.layers)}, activations [{acts}], "
                f"bias {'true' if self.bias else 'false'}, {self.dtype}")


def export(folder: Path, init: str, seed: int, fmt: str, final: bool = False,
           out: Path | None = None) -> tuple[Path, str]:
    """Write the starting (or final) weights of experiment (init, seed) of a saved run folder
    in the target's own naming and layout; return (the file written, a short Python snippet
    that loads it into that framework). One-line InitlabError for anything wrong (no such
    folder, no weights saved (metrics.json weights_saved false), unknown init or seed — list the
    ones there are, unknown format, torch format without torch installed, an existing out file)."""
    folder = Path(folder)
    if fmt not in FORMATS:
        raise InitlabError(f"unknown export format {fmt!r}{suggest(fmt, FORMATS)}; choose one "
                           f"of {', '.join(FORMATS)}")
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer):
        raise InitlabError(f"the seed must be a whole number, got {seed!r}")
    metrics = _metrics(folder)
    arch = architecture(folder)
    phase = "final" if final else "init"
    weights_file = folder / f"weights_{phase}.npz"
    if metrics.get("weights_saved") is False:
        raise InitlabError(f"{folder} holds no weights (metrics.json: weights_saved false, the "
                           "run was too large to keep them); run it again with fewer seeds to "
                           "export one")
    if not weights_file.is_file():
        raise InitlabError(f"{folder} has no {weights_file.name}; nothing to export")
    torch = _torch() if fmt == "torch" else None
    labels, arrays = _read_weights(weights_file, metrics)
    e = _select(labels, init, int(seed), folder)
    label, chosen_seed = labels[e]
    mine = _one_experiment(arrays, e, arch, weights_file)
    if out is None:
        out = folder / EXPORT_DIR / f"{_file_label(label)}-seed{chosen_seed}-{phase}." \
                                    f"{EXTENSIONS[fmt]}"
    out = Path(out)
    if out.exists() or out.is_symlink():
        raise InitlabError(f"{out} exists; remove it or give another --out")
    what = f"{label}, seed {chosen_seed}, {'final' if final else 'starting'} weights"
    metadata = {"format": "pt", "initlab_init": label, "initlab_seed": str(chosen_seed),
                "initlab_phase": phase, "initlab_architecture": arch.describe()}
    if fmt in ("safetensors", "torch"):
        tensors = torch_state_dict(mine, arch)
        if fmt == "safetensors":
            _write(out, lambda path: _save_safetensors(tensors, path, metadata))
        else:
            _write(out, lambda path: torch.save(
                {k: torch.from_numpy(v) for k, v in tensors.items()}, path))
    elif fmt == "keras":
        _write(out, lambda path: _save_npz(keras_weights(mine, arch), path))
    elif fmt == "flax":
        _write(out, lambda path: _save_npz(flax_params(mine, arch), path))
    else:
        _write(out, lambda path: _save_npz(mine, path))
    return out, snippet(fmt, out, arch, what)


# ------------------------------------------------------------------------------ the layouts

def torch_state_dict(w: dict[str, np.ndarray], arch: Architecture) -> dict[str, np.ndarray]:
    """``nn.Sequential`` keys: Linear l at index 2(l−1): ``{i}.weight`` (n_out, n_in),
    ``{i}.bias`` (n_out,)."""
    out = {}
    for l in range(1, arch.depth + 1):
        i = 2 * (l - 1)
        out[f"{i}.weight"] = np.ascontiguousarray(w[f"W{l}"])
        if arch.bias:
            out[f"{i}.bias"] = np.ascontiguousarray(w[f"b{l}"])
    return out


def _keras_name(l: int) -> str:
    return "dense" if l == 1 else f"dense_{l - 1}"


def _dense(w: dict[str, np.ndarray], arch: Architecture,
           key: Callable[[int, str], str]) -> dict[str, np.ndarray]:
    """Dense layers in order, under ``key(l, 'kernel' | 'bias')``: kernel Wᵀ (n_in, n_out),
    then bias."""
    out = {}
    for l in range(1, arch.depth + 1):
        out[key(l, "kernel")] = np.ascontiguousarray(w[f"W{l}"].T)
        if arch.bias:
            out[key(l, "bias")] = np.ascontiguousarray(w[f"b{l}"])
    return out


def keras_weights(w: dict[str, np.ndarray], arch: Architecture) -> dict[str, np.ndarray]:
    """``model.get_weights()`` order of Dense layers: ``dense/kernel``, ``dense/bias``,
    ``dense_1/kernel``, …"""
    return _dense(w, arch, lambda l, part: f"{_keras_name(l)}/{part}")


def flax_params(w: dict[str, np.ndarray], arch: Architecture) -> dict[str, np.ndarray]:
    """The flattened params tree: ``params/Dense_{l−1}/kernel`` Wᵀ (n_in, n_out), ``…/bias``."""
    return _dense(w, arch, lambda l, part: f"params/Dense_{l - 1}/{part}")


# ------------------------------------------------------------------------------- the snippets

def _torch_model(arch: Architecture) -> str:
    parts = []
    for l in range(1, arch.depth + 1):
        n_in, n_out = arch.layers[l - 1], arch.layers[l]
        parts.append(f"nn.Linear({n_in}, {n_out}" + ("" if arch.bias else ", bias=False") + ")")
        act = arch.activations[l - 1]
        if act.name == "leaky_relu":
            parts.append(f"nn.LeakyReLU({act.params['slope']!r})")
        else:
            parts.append(_TORCH[act.name])
    double = ".double()" if arch.dtype == "float64" else ""
    return f"model = nn.Sequential({', '.join(parts)}){double}"


def _keras_activation(act: Activation) -> str | None:
    if act.name == "leaky_relu":
        return f"lambda x: keras.activations.leaky_relu(x, negative_slope={act.params['slope']!r})"
    return _KERAS[act.name]


def _flax_call(act: Activation, inner: str) -> str:
    if act.name == "leaky_relu":
        return f"nn.leaky_relu({inner}, negative_slope={act.params['slope']!r})"
    fn = _FLAX[act.name]
    return inner if fn is None else f"{fn}({inner})"


def snippet(fmt: str, path: Path, arch: Architecture, what: str) -> str:
    """Python that builds the run's network in the target framework and loads ``path``."""
    where = repr(str(path))
    head = f"# {what}; the run's network: {arch.describe()}"
    if fmt in ("safetensors", "torch"):
        load = (f"load_file({where})" if fmt == "safetensors"
                else f"torch.load({where}, weights_only=True)")
        imports = ("from safetensors.torch import load_file\nfrom torch import nn" if
                   fmt == "safetensors" else "import torch\nfrom torch import nn")
        return (f"{head}\n{imports}\n\n{_torch_model(arch)}\nmodel.load_state_dict({load})\n"
                f"# inputs as rows: model(x) with x of shape (batch, {arch.layers[0]})")
    if fmt == "keras":
        lines = [head, "import keras", "import numpy as np", ""]
        if arch.dtype == "float64":
            lines.append('keras.config.set_floatx("float64")  # the run trained in float64')
        lines.append(f"model = keras.Sequential([keras.Input(shape=({arch.layers[0]},)),")
        for l in range(1, arch.depth + 1):
            act = _keras_activation(arch.activations[l - 1])
            args = [str(arch.layers[l])] + ([] if act is None else [f"activation={act}"])
            args += [] if arch.bias else ["use_bias=False"]
            end = "])" if l == arch.depth else ","
            lines.append(f"    keras.layers.Dense({', '.join(args)}){end}")
        lines += [f"with np.load({where}) as w:",
                  "    model.set_weights([w[k] for k in w.files])  # get_weights() order"]
        return "\n".join(lines)
    if fmt == "flax":
        lines = [head]
        if arch.dtype == "float64":
            lines += ["import jax", 'jax.config.update("jax_enable_x64", True)  # float64 weights']
        lines += ["import flax.linen as nn", "import numpy as np",
                  "from flax.traverse_util import unflatten_dict", "", "",
                  "class MLP(nn.Module):", "    @nn.compact", "    def __call__(self, x):"]
        for l in range(1, arch.depth + 1):
            dense = f"nn.Dense({arch.layers[l]}" + ("" if arch.bias else ", use_bias=False") + ")"
            lines.append(f"        x = {_flax_call(arch.activations[l - 1], dense + '(x)')}")
        lines += ["        return x", "", "",
                  f"with np.load({where}) as w:",
                  '    variables = unflatten_dict({k: w[k] for k in w.files}, sep="/")',
                  f"y = MLP().apply(variables, x)  # x of shape (batch, {arch.layers[0]})"]
        return "\n".join(lines)
    names = [n for l in range(1, arch.depth + 1) for n in ((f"W{l}", f"b{l}") if arch.bias
                                                          else (f"W{l}",))]
    keys = ", ".join(f'"{n}"' for n in names) + ("," if len(names) == 1 else "")
    return (f"{head}\nimport numpy as np\n\nwith np.load({where}) as w:\n"
            f"    {', '.join(names)}{',' if len(names) == 1 else ''} = "
            f"(w[k] for k in ({keys}))\n"
            "# W_l is (n_out, n_in), samples are columns: a_l = φ_l(W_l @ a_(l-1) + b_l[:, None])")


# -------------------------------------------------------------------------- reading the folder

def _metrics(folder: Path) -> dict[str, Any]:
    if not folder.is_dir():
        what = "is not a folder" if folder.exists() else "does not exist"
        raise InitlabError(f"no run folder {folder}: it {what}")
    path = folder / "metrics.json"
    if not path.is_file():
        if (folder / "probe.json").is_file():
            raise InitlabError(f"{folder} is a probe folder (probe.json); a probe saves no "
                               "weights to export")
        raise InitlabError(f"{folder} is not an initlab run folder: it has no metrics.json")
    data = report.read_json(path)
    if not isinstance(data, dict) or not isinstance(data.get("experiments"), list):
        raise InitlabError(f"{path} is not an initlab metrics.json (no experiments list)")
    return data


def architecture(folder: Path) -> Architecture:
    """The network of a run folder, from its config.yaml."""
    cfg = config.load(Path(folder) / "config.yaml")
    return Architecture(tuple(cfg.model.layers),
                        tuple(activations.get(spec) for spec in cfg.model.activations),
                        cfg.model.bias, cfg.dtype)



def _read_weights(path: Path, metrics: dict[str, Any]
                  ) -> tuple[list[tuple[str, int]], dict[str, np.ndarray]]:
    """[(init, seed)] of the experiment axis and the arrays W1, b1, … of ``path``."""
    found, arrays = report.read_weights(path)
    if found is not None:
        labels = found
    else:  # written before the labels: the order of metrics.json's experiments
        labels = [(str(x.get("init")), int(x.get("seed", -1))) for x in metrics["experiments"]]
    n = {v.shape[0] for v in arrays.values() if v.ndim >= 1}
    if len(n) != 1 or n.pop() != len(labels):
        raise InitlabError(f"{path} does not match its folder: its arrays do not have one slice "
                           f"per experiment ({len(labels)})")
    return labels, arrays


def _ranges(values: list[int]) -> str:
    """Sorted whole numbers as 'a-b' ranges: 3-7, 9, 12-13 (at most SHOW_SEEDS ranges)."""
    runs: list[list[int]] = []
    for v in sorted(set(values)):
        if runs and v == runs[-1][1] + 1:
            runs[-1][1] = v
        else:
            runs.append([v, v])
    shown = [f"{a}" if a == b else f"{a}-{b}" for a, b in runs]
    if len(shown) > SHOW_SEEDS:
        shown = [*shown[:SHOW_SEEDS], f"… ({len(set(values))} seeds in all)"]
    return ", ".join(shown)


def _normalized(init: str) -> str | None:
    from initlab.inits import laws  # noqa: PLC0415 (only when the label is not found as given)

    try:
        return laws.label(init)
    except InitlabError:
        return None


def _select(labels: list[tuple[str, int]], init: str, seed: int, folder: Path) -> int:
    """The index of experiment (init, seed) on the axis (the first one, were it there twice)."""
    inits = list(dict.fromkeys(i for i, _ in labels))
    if init not in inits:
        again = _normalized(init)
        if again not in inits:
            raise InitlabError(f"no experiment with init {init!r} in {folder}"
                               f"{suggest(init, inits)}; its inits: {', '.join(inits)}")
        init = again
    for e, (i, s) in enumerate(labels):
        if i == init and s == seed:
            return e
    seeds = [s for i, s in labels if i == init]
    raise InitlabError(f"no experiment with init {init} and seed {seed} in {folder}; the seeds "
                       f"of {init} there: {_ranges(seeds)}")


def _one_experiment(arrays: dict[str, np.ndarray], e: int, arch: Architecture,
                    path: Path) -> dict[str, np.ndarray]:
    """W1, b1, … of experiment e, in the run's dtype, checked against the architecture."""
    out = {}
    for l in range(1, arch.depth + 1):
        n_in, n_out = arch.layers[l - 1], arch.layers[l]
        names = [(f"W{l}", (n_out, n_in))] + ([(f"b{l}", (n_out,))] if arch.bias else [])
        for name, shape in names:
            if name not in arrays or arrays[name].shape[1:] != shape:
                raise InitlabError(f"{path} does not match config.yaml's network "
                                   f"({arch.describe()}): {name} should be {shape}")
            out[name] = np.ascontiguousarray(arrays[name][e], dtype=arch.dtype)
    return out


# ------------------------------------------------------------------------------------ writing

def _torch() -> Any:
    try:
        import torch  # noqa: PLC0415 (optional: only this format needs it)
    except ImportError:
        raise InitlabError("--format torch needs PyTorch, which is not installed; use --format "
                           "safetensors, which PyTorch reads with "
                           "safetensors.torch.load_file") from None
    return torch


def _save_safetensors(tensors: dict[str, np.ndarray], path: Path,
                      metadata: dict[str, str]) -> None:
    from safetensors.numpy import save_file  # noqa: PLC0415

    save_file(tensors, str(path), metadata=metadata)


def _save_npz(arrays: dict[str, np.ndarray], path: Path) -> None:
    with path.open("wb") as fh:  # a file object: np.savez keeps the name and the key order
        np.savez(fh, **arrays)


def _write(out: Path, save: Any) -> None:
    """``save(path)`` into a temporary file beside ``out``, then linked to ``out`` only if it
    is still absent (an existing file is never replaced)."""
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".tmp")
    except OSError as exc:
        raise InitlabError(f"cannot write {out}: {reason(exc)}") from None
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        save(tmp_path)
        tmp_path.chmod(0o666 & ~_umask())
        try:
            os.link(tmp_path, out)
        except FileExistsError:
            raise InitlabError(f"{out} exists; remove it or give another --out") from None
        except OSError:  # no hard links here: replace, having checked it is absent
            if out.exists():
                raise InitlabError(f"{out} exists; remove it or give another --out") from None
            os.replace(tmp_path, out)
    except OSError as exc:
        raise InitlabError(f"cannot write {out}: {reason(exc)}") from None
    finally:
        with contextlib.suppress(OSError):
            tmp_path.unlink()


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _file_label(label: str) -> str:
    """An init label as a file name part: 'normal(std=0.5)' → 'normal-std=0.5'."""
    safe = re.sub(r"[^A-Za-z0-9._=+-]+", "-", label).strip("-.")
    return safe[:80] or "init"
