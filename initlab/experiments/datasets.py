"""Built-in data sets and user files, as ``Dataset`` objects with samples in COLUMNS.

Every set is a small generator registered in ``_REGISTRY`` (name -> function, parameters with
defaults and checkers, one-line summary). ``make`` checks the parameters, runs the generator and
lays the result out the Coursera way: ``X`` is (n_features, m), ``y`` is (n_outputs, m).
Randomness only comes from explicit ``RandomState`` objects or integer seeds; numpy's global RNG
is never touched. Nothing is downloaded: sklearn's bundled iris and digits tables are used.

circles, moons and blobs are drawn here with NumPy, value for value as scikit-learn's
make_circles, make_moons and make_blobs draw them from the same RandomState, so that making them
(and xor, iris_tiny, neanderthal_toy) never imports scikit-learn, whose import takes most of a
run's start-up; iris, digits, spiral's and file's splits import it when they are made.
"""

from __future__ import annotations

import csv
import io
import math
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import Field, StrictBool

from initlab.engine import memory
from initlab.errors import InitlabError, suggest
from initlab.params import NoParams, Params, Registry, integer, number

TASKS = ("binary", "multiclass", "regression")
MAX_CLASSES = 50  # integer labels with more distinct values than this are treated as regression


@dataclass(frozen=True)
class Dataset:
    """A train/test pair in the column layout (z = W @ X) plus its task and a one-line summary."""

    name: str
    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    task: str
    description: str

    @property
    def n_features(self) -> int:
        return int(self.X_train.shape[0])

    @property
    def n_outputs(self) -> int:
        return int(self.y_train.shape[0])

    @property
    def n_train(self) -> int:
        return int(self.X_train.shape[1])

    @property
    def n_test(self) -> int:
        return int(self.X_test.shape[1])


@dataclass
class _Raw:
    """What a generator returns: samples in ROWS, integer class labels (or (m, k) targets)."""

    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    task: str
    n_classes: int = 0


class _Bad(ValueError):
    """A generator's check failed; ``make`` turns it into an InitlabError naming the data set."""


# --- parameters: one pydantic model per data set (initlab.params) ---------------------------

Count, Size, Seed = integer(ge=1), integer(ge=0), integer(ge=0, le=2**32 - 1)
Noise, Fraction = number(ge=0.0), number(ge=0.0, lt=1.0)
Classes = integer(ge=2, le=MAX_CLASSES)
Text = Annotated[str, Field(min_length=1)]


class _TwoDraws(Params):
    """Train and test sets drawn apart, each from its own seed."""
    n_train: Count = 300
    n_test: Size = 100
    train_seed: Seed = 1
    test_seed: Seed = 2


class CirclesParams(_TwoDraws):
    """Two concentric rings (sklearn make_circles)."""
    noise: Noise = 0.05
    factor: number(ge=0.0, lt=1.0) = 0.8


class MoonsParams(_TwoDraws):
    """Two interleaving half moons (sklearn make_moons)."""
    noise: Noise = 0.2


class BlobsParams(_TwoDraws):
    """Gaussian blobs (sklearn make_blobs)."""
    centers: Classes = 3
    n_features: Count = 2
    cluster_std: number(ge=0.0) = 1.0


class DigitsParams(Params):
    """8x8 handwritten digits."""
    test_fraction: Fraction = 0.25
    seed: Seed = 0


class FileParams(Params):
    """A user CSV or NPZ file."""
    path: Text | None = None
    target: Text | None = None
    test_fraction: Fraction = 0.0
    seed: Seed = 0
    task: Literal[("auto", *TASKS)] = "auto"
    max_mb: number(gt=0.0) = 1024.0


class IrisParams(Params):
    """Fisher's iris."""
    test_fraction: Fraction = 0.3
    seed: Seed = 0
    standardize: StrictBool = True


class SpiralParams(Params):
    """The CS231n spiral."""
    n_per_class: Count = 100
    classes: Classes = 3
    noise: Noise = 0.2
    seed: Seed = 0
    test_fraction: Fraction = 0.25


class UniformParams(Params):
    """Uniform random inputs, one constant target (the Neanderthal article's big network)."""
    n_samples: Count = 10000
    n_features: Count = 10000
    n_outputs: Count = 10
    target: number() = 0.33
    seed: Seed = 0


# --- helpers -----------------------------------------------------------------------------------

def _sklearn() -> Any:
    """sklearn.datasets, imported on first use (it takes most of a second)."""
    import sklearn.datasets  # noqa: PLC0415

    return sklearn.datasets


def _rs(seed: int) -> np.random.RandomState:
    return np.random.RandomState(seed)


def _split(X: np.ndarray, y: np.ndarray, fraction: float, seed: int, stratify: bool) -> tuple:
    """Seeded (stratified for classes) train/test split; fraction 0 keeps everything as train."""
    if fraction == 0:
        return X, y, X[:0], y[:0]
    from sklearn.model_selection import train_test_split  # noqa: PLC0415 (slow import)

    try:
        Xtr, Xte, ytr, yte = train_test_split(
            X, y, test_size=fraction, random_state=seed, stratify=y if stratify else None)
    except ValueError as exc:
        raise _Bad(f"cannot split {len(y)} samples with test_fraction {fraction}: {exc}") from None
    return Xtr, ytr, Xte, yte


def _classes(X: np.ndarray, y: np.ndarray, fraction: float, seed: int, k: int,
             task: str | None = None) -> _Raw:
    Xtr, ytr, Xte, yte = _split(X, y, fraction, seed, stratify=True)
    return _Raw(Xtr, ytr, Xte, yte, task or ("binary" if k == 2 else "multiclass"), k)


def _two_draws(fn: Callable[..., tuple], n_train: int, n_test: int, seeds: tuple[int, int],
               **kw: Any) -> tuple:
    """Train and test sets drawn by ``fn`` from two independently seeded RandomStates."""
    X, y = fn(n_samples=n_train, random_state=_rs(seeds[0]), **kw)
    if n_test == 0:
        return X, y, X[:0], y[:0]
    Xt, yt = fn(n_samples=n_test, random_state=_rs(seeds[1]), **kw)
    return X, y, Xt, yt


# --- scikit-learn's sample generators, in NumPy ------------------------------------------------
# Each follows sklearn.datasets._samples_generator (scikit-learn 1.x) draw for draw: the same
# RandomState calls in the same order on arrays built the same way, so the values are identical.

def _shuffle(X: np.ndarray, y: np.ndarray, generator: np.random.RandomState) -> tuple:
    """sklearn.utils.shuffle(X, y, random_state=generator): one permutation of the rows."""
    indices = np.arange(X.shape[0])
    generator.shuffle(indices)
    return X[indices], y[indices]


def _two_rings(outer: tuple, inner: tuple) -> tuple[np.ndarray, np.ndarray]:
    """Rows (x, y) of the outer points (label 0) then the inner ones (label 1)."""
    X = np.vstack([np.append(outer[0], inner[0]), np.append(outer[1], inner[1])]).T
    y = np.hstack([np.zeros(len(outer[0]), dtype=np.intp), np.ones(len(inner[0]), dtype=np.intp)])
    return X, y


def make_circles(n_samples: int = 100, *, shuffle: bool = True, noise: float | None = None,
                 random_state: np.random.RandomState, factor: float = 0.8) -> tuple:
    """sklearn.datasets.make_circles: a large circle holding a small one (radius ``factor``)."""
    n_out = n_samples // 2
    n_in = n_samples - n_out
    linspace_out = np.linspace(0, 2 * np.pi, n_out, endpoint=False)
    linspace_in = np.linspace(0, 2 * np.pi, n_in, endpoint=False)
    X, y = _two_rings((np.cos(linspace_out), np.sin(linspace_out)),
                      (np.cos(linspace_in) * factor, np.sin(linspace_in) * factor))
    if shuffle:
        X, y = _shuffle(X, y, random_state)
    if noise is not None:
        X += random_state.normal(scale=noise, size=X.shape)
    return X, y


def make_moons(n_samples: int = 100, *, shuffle: bool = True, noise: float | None = None,
               random_state: np.random.RandomState) -> tuple:
    """sklearn.datasets.make_moons: two interleaving half circles."""
    n_out = n_samples // 2
    n_in = n_samples - n_out
    X, y = _two_rings((np.cos(np.linspace(0, np.pi, n_out)), np.sin(np.linspace(0, np.pi, n_out))),
                      (1 - np.cos(np.linspace(0, np.pi, n_in)),
                       1 - np.sin(np.linspace(0, np.pi, n_in)) - 0.5))
    if shuffle:
        X, y = _shuffle(X, y, random_state)
    if noise is not None:
        X += random_state.normal(scale=noise, size=X.shape)
    return X, y


def make_blobs(n_samples: int = 100, n_features: int = 2, *, centers: int | np.ndarray = 3,
               cluster_std: float = 1.0, center_box: tuple[float, float] = (-10.0, 10.0),
               shuffle: bool = True, random_state: np.random.RandomState) -> tuple:
    """sklearn.datasets.make_blobs(..., return_centers=True) for an integer ``n_samples``, a
    scalar ``cluster_std`` and ``centers`` a count (drawn uniformly in ``center_box``) or an
    (n_centers, n_features) array (then ``n_features`` is its width): (X, y, centers)."""
    if isinstance(centers, int | np.integer):
        n_centers = int(centers)
        centers = random_state.uniform(center_box[0], center_box[1], size=(n_centers, n_features))
    else:
        centers = np.asarray(centers, dtype=np.float64)
        n_centers, n_features = centers.shape
    stds = np.full(n_centers, cluster_std)
    per_center = [n_samples // n_centers] * n_centers
    for i in range(n_samples % n_centers):
        per_center[i] += 1
    ends = np.cumsum(per_center)
    X = np.empty(shape=(sum(per_center), n_features), dtype=np.float64)
    y = np.empty(shape=(sum(per_center),), dtype=int)
    for i, (n, std) in enumerate(zip(per_center, stds, strict=True)):
        start = ends[i - 1] if i > 0 else 0
        X[start:ends[i]] = random_state.normal(loc=centers[i], scale=std, size=(n, n_features))
        y[start:ends[i]] = i
    if shuffle:
        X, y = _shuffle(X, y, random_state)
    return X, y, centers


# --- generators --------------------------------------------------------------------------------

def _circles(n_train: int, n_test: int, noise: float, factor: float, train_seed: int,
             test_seed: int) -> _Raw:
    """Two concentric rings: the Coursera "Initialization" notebook's make_circles data."""
    parts = _two_draws(make_circles, n_train, n_test, (train_seed, test_seed), noise=noise,
                       factor=factor)
    return _Raw(*parts, "binary", 2)


def _moons(n_train: int, n_test: int, noise: float, train_seed: int, test_seed: int) -> _Raw:
    """Two interleaving half circles (sklearn make_moons)."""
    parts = _two_draws(make_moons, n_train, n_test, (train_seed, test_seed), noise=noise)
    return _Raw(*parts, "binary", 2)


def _blobs(n_train: int, n_test: int, centers: int, n_features: int, cluster_std: float,
           train_seed: int, test_seed: int) -> _Raw:
    """Gaussian blobs (sklearn make_blobs); the test draw reuses the train draw's centres."""
    X, y, where = make_blobs(n_samples=n_train, centers=centers, n_features=n_features,
                             cluster_std=cluster_std, random_state=_rs(train_seed))
    Xt, yt = X[:0], y[:0]
    if n_test:
        Xt, yt, _ = make_blobs(n_samples=n_test, centers=where, cluster_std=cluster_std,
                               random_state=_rs(test_seed))
    return _Raw(X, y, Xt, yt, "binary" if centers == 2 else "multiclass", centers)


def _spiral(n_per_class: int, classes: int, noise: float, seed: int,
            test_fraction: float) -> _Raw:
    """The CS231n spiral: ``classes`` arms of ``n_per_class`` points, split by a seeded shuffle."""
    rng = _rs(seed)
    X = np.zeros((n_per_class * classes, 2))
    y = np.zeros(n_per_class * classes, dtype=int)
    for j in range(classes):
        ix = slice(n_per_class * j, n_per_class * (j + 1))
        r = np.linspace(0.0, 1, n_per_class)
        t = np.linspace(j * 4, (j + 1) * 4, n_per_class) + rng.randn(n_per_class) * noise
        X[ix] = np.c_[r * np.sin(t), r * np.cos(t)]
        y[ix] = j
    return _classes(X, y, test_fraction, seed, classes)


def _xor() -> _Raw:
    """The four XOR points; no test set."""
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
    y = np.array([0, 1, 1, 0])
    return _Raw(X, y, X[:0], y[:0], "binary", 2)


def _iris(test_fraction: float, seed: int, standardize: bool) -> _Raw:
    """Fisher's iris (sklearn's bundled copy): 150 rows, 4 features, 3 classes."""
    data = _sklearn().load_iris()
    raw = _classes(data.data, data.target, test_fraction, seed, 3)
    if standardize:
        mean, std = raw.X_train.mean(axis=0), raw.X_train.std(axis=0)
        std = np.where(std > 0, std, 1.0)
        raw.X_train, raw.X_test = (raw.X_train - mean) / std, (raw.X_test - mean) / std
    return raw


def _iris_tiny() -> _Raw:
    """Iris rows 1, 2 (setosa -> 0) and 149, 150 (virginica -> 1), raw; the 10-line C++ post."""
    X = np.array([[5.1, 3.5, 1.4, 0.2], [4.9, 3.0, 1.4, 0.2],  # load_iris().data[[0, 1, 148, 149]]
                  [6.2, 3.4, 5.4, 2.3], [5.9, 3.0, 5.1, 1.8]])
    y = np.array([0, 0, 1, 1])
    return _Raw(X, y, X[:0], y[:0], "binary", 2)


def _neanderthal_toy() -> _Raw:
    """Input (0.3, 0.9) -> target 0.5, twice, as in the Neanderthal article; regression."""
    X = np.array([[0.3, 0.9], [0.3, 0.9]])
    y = np.array([[0.5], [0.5]])
    return _Raw(X, y, X[:0], y[:0], "regression")


def _uniform(n_samples: int, n_features: int, n_outputs: int, target: float,
             seed: int) -> _Raw:
    """X ~ U[0, 1) (n_samples, n_features) from RandomState(seed), every target ``target``:
    the article's 10000 × 10000 input of 0 … 1 values and its (entry! y 0.33); regression, no
    test split. (The article leaves x as allocated; uniform inputs keep the sigmoids and tanh
    in their working range, as its data would be.)"""
    X = _rs(seed).random_sample((n_samples, n_features))
    return _Raw(X, np.full((n_samples, n_outputs), float(target)), X[:0],
                np.zeros((0, n_outputs)), "regression")


def _digits(test_fraction: float, seed: int) -> _Raw:
    """sklearn's bundled 8x8 digits: 1797 images, 64 pixels scaled to [0, 1], 10 classes."""
    data = _sklearn().load_digits()
    return _classes(data.data / 16.0, data.target, test_fraction, seed, 10)


_MB = 10**6  # FileParams.max_mb is in these (megabytes)


def _limit(max_mb: float) -> str:
    return f"max_mb {max_mb:g} (megabytes); raise max_mb to read it"


def _file(path: Path, target: str | None, test_fraction: float, seed: int, task: str,
          max_mb: float) -> _Raw:
    """A user CSV (header row, ``target`` column) or NPZ (arrays ``X`` (m, n) and ``y`` (m,)),
    of at most ``max_mb`` MB (for an NPZ, its arrays too, uncompressed)."""
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".npz"):
        raise _Bad(f"unsupported extension '{path.suffix}' for '{path}'; use .csv or .npz")
    if path.is_dir():
        raise _Bad(f"'{path}' is a folder, not a {suffix} file")
    if not path.is_file():
        raise _Bad(f"no such file '{path}'")
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise _Bad(f"cannot read '{path}': {exc.strerror or exc}") from None
    if size > max_mb * _MB:
        raise _Bad(f"'{path}' is {size / _MB:.1f} MB ({size} bytes), more than {_limit(max_mb)}")
    limit = int(max_mb * _MB)
    X, y = _read_csv(path, target, limit) if suffix == ".csv" else _read_npz(path, target, limit)
    integral = bool(np.all(y == np.round(y)))
    values, labels = np.unique(y, return_inverse=True)
    if task == "auto":
        k = len(values)
        task = ("binary" if integral and k == 2 else
                "multiclass" if integral and 2 < k <= MAX_CLASSES else "regression")
    elif task == "binary" and len(values) != 2:
        raise _Bad(f"task binary needs exactly 2 distinct labels, '{path}' has {len(values)}")
    elif task == "multiclass" and not integral:
        raise _Bad(f"task multiclass needs integer labels; '{path}' has non-integer ones")
    if task == "regression":
        Xtr, ytr, Xte, yte = _split(X, y[:, None], test_fraction, seed, stratify=False)
        return _Raw(Xtr, ytr, Xte, yte, "regression")
    return _classes(X, labels, test_fraction, seed, len(values), task)


def _read_csv(path: Path, target: str | None, limit: int) -> tuple[np.ndarray, np.ndarray]:
    if target is None:
        raise _Bad(f"needs 'target' (the label column of '{path}')")
    try:
        with path.open("rb") as fh:
            raw = fh.read(limit + 1)  # at most ``limit`` bytes even if the file grew meanwhile
    except OSError as exc:
        raise _Bad(f"cannot read '{path}': {exc.strerror or exc}") from None
    if len(raw) > limit:
        raise _Bad(f"'{path}' is larger than {_limit(limit / _MB)}")
    try:
        text = raw.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        raise _Bad(f"'{path}' is not UTF-8 text (byte 0x{raw[exc.start]:02x} at offset "
                   f"{exc.start}); save the CSV as UTF-8") from None
    del raw
    try:
        rows = [(i, row) for i, row in enumerate(csv.reader(io.StringIO(text, newline="")),
                                                 start=1) if any(row)]
    except csv.Error as exc:  # a NUL byte, a cell over csv.field_size_limit()
        raise _Bad(f"cannot read '{path}' as CSV: {exc}") from None
    if not rows:
        raise _Bad(f"'{path}' is empty")
    header = [h.strip() for h in rows[0][1]]
    if target not in header:
        raise _Bad(f"'{path}' has no column '{target}'{suggest(target, header)}; "
                   f"columns: {', '.join(header)}")
    if len(header) < 2:
        raise _Bad(f"'{path}' has no feature columns besides '{target}'")
    if len(rows) < 2:
        raise _Bad(f"'{path}' has a header but no data rows")
    data = np.empty((len(rows) - 1, len(header)))
    for r, (line, row) in enumerate(rows[1:]):
        if len(row) != len(header):
            raise _Bad(f"'{path}' line {line} has {len(row)} cells, the header has {len(header)}")
        for c, cell in enumerate(row):
            try:
                data[r, c] = float(cell)
            except ValueError:
                data[r, c] = math.nan
            if not math.isfinite(data[r, c]):
                raise _Bad(f"'{path}' line {line}, column '{header[c]}': "
                           f"{cell.strip()!r} is not a finite number")
    t = header.index(target)
    return np.delete(data, t, axis=1), data[:, t]


def _npz_bytes(path: Path) -> int:
    """The uncompressed size of the members of a zip file (what reading its arrays takes)."""
    try:
        with zipfile.ZipFile(path) as zf:
            return sum(info.file_size for info in zf.infolist())
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise _Bad(f"cannot read '{path}' as NPZ: {exc}") from None


def _read_npz(path: Path, target: str | None, limit: int) -> tuple[np.ndarray, np.ndarray]:
    if target not in (None, "y"):
        raise _Bad(f"an NPZ file's labels are the array 'y'; target must be 'y' or left out, "
                   f"not '{target}'")
    unpacked = _npz_bytes(path)  # a zip's members are read no further than their stated size
    if unpacked > limit:
        raise _Bad(f"'{path}' holds {unpacked / _MB:.1f} MB of arrays uncompressed, more than "
                   f"{_limit(limit / _MB)}")
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {key: npz[key] for key in npz.files}
    except Exception as exc:  # zipfile, pickle and format errors all mean "not a usable NPZ"
        raise _Bad(f"cannot read '{path}' as NPZ: {exc}") from None
    for key in ("X", "y"):
        if key not in arrays:
            raise _Bad(f"'{path}' has no array '{key}' (arrays: {', '.join(arrays) or 'none'})")
        if arrays[key].dtype.kind not in "iuf":
            raise _Bad(f"'{path}' array '{key}' is not numeric (dtype {arrays[key].dtype})")
    X, y = arrays["X"].astype(float), arrays["y"].astype(float)
    y = y.reshape(-1) if y.ndim == 2 and y.shape[1] == 1 else y
    if X.ndim != 2 or y.ndim != 1 or len(X) != len(y):
        raise _Bad(f"'{path}' needs X of shape (m, n_features) and y of shape (m,); "
                   f"got X {X.shape} and y {y.shape}")
    if len(y) == 0 or X.shape[1] == 0:
        raise _Bad(f"'{path}' is empty (X {X.shape})")
    if not (np.isfinite(X).all() and np.isfinite(y).all()):
        raise _Bad(f"'{path}' holds NaN or infinite values")
    return X, y


# --- registry ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Entry:
    fn: Callable[..., _Raw]
    task: str
    params: type[Params]
    summary: str


_ENTRIES: dict[str, _Entry] = {
    "blobs": _Entry(_blobs, "multiclass", BlobsParams, "Gaussian blobs (sklearn make_blobs)"),
    "circles": _Entry(_circles, "binary", CirclesParams,
                      "2 concentric rings (Coursera init notebook)"),
    "digits": _Entry(_digits, "multiclass", DigitsParams,
                     "8x8 handwritten digits (sklearn load_digits), pixels /16, 10 classes"),
    "file": _Entry(_file, "auto", FileParams,
                   "a user CSV (header row, target column) or NPZ (arrays X, y)"),
    "iris": _Entry(_iris, "multiclass", IrisParams,
                   "Fisher's iris (sklearn load_iris), 4 features, 3 classes"),
    "iris_tiny": _Entry(_iris_tiny, "binary", NoParams,
                        "4 raw iris rows, setosa vs virginica (neural network in 10 lines of C++)"),
    "moons": _Entry(_moons, "binary", MoonsParams,
                    "2 interleaving half moons (sklearn make_moons)"),
    "neanderthal_toy": _Entry(_neanderthal_toy, "regression", NoParams,
                              "input (0.3, 0.9) -> 0.5, twice (Neanderthal article)"),
    "spiral": _Entry(_spiral, "multiclass", SpiralParams, "CS231n spiral arms"),
    "uniform": _Entry(_uniform, "regression", UniformParams,
                      "U[0, 1) inputs, one constant target (Neanderthal's big network)"),
    "xor": _Entry(_xor, "binary", NoParams, "the 4 XOR points"),
}
REGISTRY = Registry("dataset", {name: e.params for name, e in _ENTRIES.items()})
DATASET_NAMES: tuple[str, ...] = REGISTRY.names
_SPLIT_KEYS = ("n_train", "n_test")  # already in the summary's "m train / m test"
_UNLISTED = (*_SPLIT_KEYS, "max_mb")  # not in the description: a limit, not the data


def catalogue() -> list[dict]:
    """One entry per data set: name, task, parameters with defaults, description."""
    return [{"name": name, "task": e.task, "params": REGISTRY.resolve(name).params,
             "description": e.summary} for name, e in sorted(_ENTRIES.items())]


def _layout(name: str, raw: _Raw, description: str) -> Dataset:
    """Rows -> columns; labels -> (1, m) 0/1, one-hot (k, m) or (k, m) targets, all float64."""
    def labels(y: np.ndarray) -> np.ndarray:
        if raw.task == "regression":
            y = np.asarray(y, dtype=float)
            return np.ascontiguousarray((y if y.ndim == 2 else y[:, None]).T)
        y = np.asarray(y, dtype=int)
        if raw.task == "binary":
            return y.reshape(1, -1).astype(float)
        return np.eye(raw.n_classes)[:, y]

    def features(X: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray(np.asarray(X, dtype=float).T)

    return Dataset(name, features(raw.X_train), labels(raw.y_train), features(raw.X_test),
                   labels(raw.y_test), raw.task, description)


GENERATED_COPIES = 6  # arrays of the samples' size a generator and the layout hold at once


def generated_bytes(name: str, params: dict) -> int:
    """Memory a generated data set needs while it is made: samples × (features + labels) ×
    GENERATED_COPIES × 8 bytes (0 for the fixed and file data sets)."""
    if name in ("circles", "moons", "blobs"):
        samples, width = params["n_train"] + params["n_test"], params.get("n_features", 2)
        width += params.get("centers", 2)
    elif name == "spiral":
        samples, width = params["n_per_class"] * params["classes"], 2 + params["classes"]
    elif name == "uniform":
        samples, width = params["n_samples"], params["n_features"] + params["n_outputs"]
        return 3 * 8 * samples * width  # drawn, laid out in columns, cast (no shuffle, split)
    else:
        return 0
    return GENERATED_COPIES * 8 * samples * (width + 1)


def make(name: str, params: dict | None = None, base_dir: Path | None = None) -> Dataset:
    """Build data set ``name`` with ``params`` (its own keys); any problem is one InitlabError.
    A relative ``file`` path is read from ``base_dir`` (default: the current folder). A
    generated set too large for the memory budget is refused before it is made."""
    found = REGISTRY.resolve({**(params or {}), "name": name})
    kwargs = dict(found.params)
    memory.refuse_unless_fits(generated_bytes(found.name, kwargs), memory.host_budget(),
                              f"dataset '{found.name}'", "use fewer samples")
    try:
        if found.name == "file":
            if kwargs["path"] is None:
                raise _Bad("needs 'path' (a .csv or .npz file)")
            path = Path(kwargs["path"]).expanduser()
            kwargs["path"] = path if path.is_absolute() else Path(base_dir or Path.cwd()) / path
        entry = _ENTRIES[found.name]
        raw = entry.fn(**kwargs)
    except _Bad as exc:
        raise InitlabError(f"dataset '{found.name}': {exc}") from None
    listed = ", ".join(f"{k} {v}" for k, v in kwargs.items() if k not in _UNLISTED)
    description = (f"{found.name}: {entry.summary}, {len(raw.X_train)} train / "
                   f"{len(raw.X_test)} test")
    return _layout(found.name, raw, description + (f", {listed}" if listed else ""))
