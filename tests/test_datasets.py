"""Tests for initlab.datasets: reference reproductions, layout, splits, seeds, files, errors."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import zipfile

import numpy as np
import pytest
import sklearn.datasets as skd

from initlab.errors import InitlabError
from initlab.experiments import datasets
from initlab.experiments.datasets import DATASET_NAMES, Dataset, catalogue, make

from conftest import capped_message

BUILTIN = [n for n in DATASET_NAMES if n != "file"]
SEEDED = {  # data set -> the params that seed it
    "circles": ("train_seed", "test_seed"), "moons": ("train_seed", "test_seed"),
    "blobs": ("train_seed", "test_seed"), "spiral": ("seed",), "iris": ("seed",),
    "digits": ("seed",),
}


def _rows(X: np.ndarray) -> np.ndarray:
    """Samples as rows, sorted lexicographically (a multiset of samples)."""
    return X[np.lexsort(X.T[::-1])]


def _notebook_circles() -> tuple[np.ndarray, ...]:
    """The Coursera "Initialization" notebook's data, run its own way (global RNG, restored)."""
    saved = np.random.get_state()
    try:
        np.random.seed(1)
        train_X, train_Y = skd.make_circles(n_samples=300, noise=.05)
        np.random.seed(2)
        test_X, test_Y = skd.make_circles(n_samples=100, noise=.05)
    finally:
        np.random.set_state(saved)
    return (train_X.T, train_Y.reshape((1, train_Y.shape[0])),
            test_X.T, test_Y.reshape((1, test_Y.shape[0])))


def _errmsg(name: str, params: dict | None = None, **kw) -> str:
    with pytest.raises(InitlabError) as info:
        make(name, params, **kw)
    msg = str(info.value)
    assert msg and "\n" not in msg
    return msg


# --- circles: the Coursera notebook, bit for bit --------------------------------------------

def test_circles_reproduces_coursera_notebook_exactly():
    train_X, train_Y, test_X, test_Y = _notebook_circles()
    ds = make("circles")
    assert np.array_equal(ds.X_train, train_X)
    assert np.array_equal(ds.y_train, train_Y)
    assert np.array_equal(ds.X_test, test_X)
    assert np.array_equal(ds.y_test, test_Y)


def test_circles_known_facts():
    ds = make("circles")
    assert (ds.n_train, ds.n_test, ds.n_features, ds.n_outputs) == (300, 100, 2, 1)
    assert ds.y_train.sum() == 150 and (ds.y_train == 0).sum() == 150
    radius = np.linalg.norm(ds.X_train, axis=0)
    outer, inner = radius[ds.y_train[0] == 0], radius[ds.y_train[0] == 1]
    assert abs(outer.mean() - 1.0) < 0.02
    assert abs(inner.mean() - 0.8) < 0.02
    assert "300 train / 100 test" in ds.description and "noise 0.05" in ds.description


def test_make_leaves_global_rng_alone():
    saved = np.random.get_state()
    try:
        np.random.seed(123)
        expected = np.random.rand(3)
        np.random.seed(123)
        for name in BUILTIN:
            make(name)
        after = np.random.rand(3)
    finally:
        np.random.set_state(saved)
    assert np.array_equal(after, expected)


# --- layout, labels, catalogue ----------------------------------------------------------------

@pytest.mark.parametrize("name", BUILTIN)
def test_layout_and_labels(name):
    ds = make(name)
    assert isinstance(ds, Dataset) and ds.name == name
    m, mt = ds.X_train.shape[1], ds.X_test.shape[1]
    assert ds.X_train.ndim == ds.X_test.ndim == ds.y_train.ndim == ds.y_test.ndim == 2
    assert ds.X_test.shape[0] == ds.n_features == ds.X_train.shape[0]
    assert ds.y_train.shape == (ds.n_outputs, m) and ds.y_test.shape == (ds.n_outputs, mt)
    assert (ds.n_train, ds.n_test) == (m, mt) and m >= 1
    for a in (ds.X_train, ds.y_train, ds.X_test, ds.y_test):
        assert a.dtype == np.float64
    assert ds.description.startswith(f"{name}: ") and "\n" not in ds.description
    assert f"{m} train / {mt} test" in ds.description
    y = np.hstack([ds.y_train, ds.y_test])
    if ds.task == "binary":
        assert ds.n_outputs == 1 and set(np.unique(y)) == {0.0, 1.0}
    elif ds.task == "multiclass":
        assert ds.n_outputs >= 3
        assert set(np.unique(y)) == {0.0, 1.0} and np.array_equal(y.sum(axis=0), np.ones(m + mt))
    else:
        assert ds.task == "regression"


def test_catalogue_matches_registry_and_defaults():
    cat = catalogue()
    assert [c["name"] for c in cat] == list(DATASET_NAMES)
    assert set(DATASET_NAMES) >= {"blobs", "circles", "digits", "file", "iris", "iris_tiny",
                                  "moons", "neanderthal_toy", "spiral", "xor"}
    for entry in cat:
        assert set(entry) == {"name", "task", "params", "description"}
        assert entry["description"] and "\n" not in entry["description"]
        if entry["name"] == "file":
            assert {"path", "target", "test_fraction", "seed", "task",
                    "max_mb"} == set(entry["params"])
            continue
        default, explicit = make(entry["name"]), make(entry["name"], dict(entry["params"]))
        assert entry["task"] == default.task
        assert np.array_equal(default.X_train, explicit.X_train)
    by_name = {c["name"]: c for c in cat}
    assert by_name["circles"]["params"] == {"n_train": 300, "n_test": 100, "noise": 0.05,
                                            "factor": 0.8, "train_seed": 1, "test_seed": 2}
    assert by_name["xor"]["params"] == {} and by_name["neanderthal_toy"]["params"] == {}


# --- literal data sets -----------------------------------------------------------------------

def test_xor_literal():
    ds = make("xor")
    assert np.array_equal(ds.X_train, [[0, 0, 1, 1], [0, 1, 0, 1]])
    assert np.array_equal(ds.y_train, [[0, 1, 1, 0]]) and ds.n_test == 0
    assert ds.task == "binary"


def test_iris_tiny_literal_values():
    ds = make("iris_tiny")
    rows = [[5.1, 3.5, 1.4, 0.2], [4.9, 3.0, 1.4, 0.2], [6.2, 3.4, 5.4, 2.3], [5.9, 3.0, 5.1, 1.8]]
    assert np.array_equal(ds.X_train, np.array(rows).T)
    assert np.array_equal(ds.y_train, [[0, 0, 1, 1]])
    assert ds.task == "binary" and ds.n_test == 0


def test_neanderthal_toy_literal():
    ds = make("neanderthal_toy")
    assert np.array_equal(ds.X_train, [[0.3, 0.3], [0.9, 0.9]])
    assert np.array_equal(ds.y_train, [[0.5, 0.5]])
    assert ds.task == "regression" and ds.n_test == 0 and ds.X_test.shape == (2, 0)


def test_digits_facts():
    ds = make("digits")
    X = np.hstack([ds.X_train, ds.X_test])
    assert X.shape == (64, 1797) and ds.n_outputs == 10 and ds.task == "multiclass"
    assert X.min() == 0.0 and X.max() == 1.0
    assert np.array_equal(_rows(X.T), _rows(skd.load_digits().data / 16.0))
    counts = np.hstack([ds.y_train, ds.y_test]).sum(axis=1)
    assert np.array_equal(counts, np.bincount(skd.load_digits().target))


# --- splits ----------------------------------------------------------------------------------

def _cs231n_spiral(N: int = 100, K: int = 3) -> np.ndarray:
    """CS231n's spiral loop, with np.random.randn swapped for a RandomState(0)."""
    rng = np.random.RandomState(0)
    X = np.zeros((N * K, 2))
    for j in range(K):
        ix = range(N * j, N * (j + 1))
        r = np.linspace(0.0, 1, N)
        t = np.linspace(j * 4, (j + 1) * 4, N) + rng.randn(N) * 0.2
        X[ix] = np.c_[r * np.sin(t), r * np.cos(t)]
    return X


@pytest.mark.parametrize("name, params, full, fraction", [
    ("iris", {"standardize": False}, lambda: skd.load_iris().data, 0.3),
    ("digits", {}, lambda: skd.load_digits().data / 16.0, 0.25),
    ("spiral", {}, _cs231n_spiral, 0.25),
    ("iris", {"standardize": False, "test_fraction": 0.5, "seed": 3},
     lambda: skd.load_iris().data, 0.5),
])
def test_splits_partition_the_data_and_are_stratified(name, params, full, fraction):
    ds = make(name, params)
    both = np.hstack([ds.X_train, ds.X_test]).T  # each source row lands in exactly one split
    assert np.array_equal(_rows(both), _rows(full()))
    assert ds.n_test == int(np.ceil(len(both) * fraction))
    test_counts = ds.y_test.sum(axis=1)
    total = ds.y_train.sum(axis=1) + test_counts
    assert np.all(np.abs(test_counts - total * fraction) <= 1)


def test_spiral_is_the_cs231n_spiral():
    ds = make("spiral")
    assert np.array_equal(_rows(np.hstack([ds.X_train, ds.X_test]).T), _rows(_cs231n_spiral()))
    assert (ds.n_train, ds.n_test) == (225, 75) and ds.n_outputs == 3
    assert np.array_equal(ds.y_train.sum(axis=1) + ds.y_test.sum(axis=1), [100, 100, 100])
    five = make("spiral", {"classes": 5, "n_per_class": 20})
    assert five.n_outputs == 5 and five.n_train + five.n_test == 100


def test_iris_standardized_with_train_statistics():
    raw, std = make("iris", {"standardize": False}), make("iris")
    mean = raw.X_train.mean(axis=1, keepdims=True)
    sd = raw.X_train.std(axis=1, keepdims=True)
    assert np.allclose(std.X_train, (raw.X_train - mean) / sd)
    assert np.allclose(std.X_test, (raw.X_test - mean) / sd)
    assert np.allclose(std.X_train.mean(axis=1), 0) and np.allclose(std.X_train.std(axis=1), 1)
    assert not np.allclose(std.X_test.mean(axis=1), 0)
    assert (raw.n_train, raw.n_test) == (105, 45)


def test_test_fraction_zero_keeps_everything():
    ds = make("iris", {"test_fraction": 0})
    assert (ds.n_train, ds.n_test) == (150, 0) and ds.y_test.shape == (3, 0)


def test_blobs_test_set_shares_train_centres_and_two_centres_is_binary():
    ds = make("blobs", {"n_test": 300})
    for k in range(3):
        a = ds.X_train[:, ds.y_train[k] == 1].mean(axis=1)
        b = ds.X_test[:, ds.y_test[k] == 1].mean(axis=1)
        assert np.linalg.norm(a - b) < 0.5
    two = make("blobs", {"centers": 2, "n_features": 5})
    assert two.task == "binary" and two.n_outputs == 1 and two.n_features == 5


# --- seeds -----------------------------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(SEEDED))
def test_seeds_reproducible_and_distinct(name):
    a, b = make(name), make(name)
    for x, y in [(a.X_train, b.X_train), (a.y_train, b.y_train), (a.X_test, b.X_test)]:
        assert np.array_equal(x, y)
    for key in SEEDED[name]:
        c = make(name, {key: 7})
        part = c.X_test if key == "test_seed" else c.X_train
        ref = a.X_test if key == "test_seed" else a.X_train
        assert not np.array_equal(part, ref)


def test_moons_matches_sklearn():
    X, y = skd.make_moons(n_samples=50, noise=0.1, random_state=np.random.RandomState(4))
    ds = make("moons", {"n_train": 50, "n_test": 0, "noise": 0.1, "train_seed": 4})
    assert np.array_equal(ds.X_train, X.T) and np.array_equal(ds.y_train, y[None, :])
    assert ds.X_test.shape == (2, 0)


# --- user files ------------------------------------------------------------------------------

def _write_csv(path, header, rows):
    path.write_text("\n".join([",".join(header)] + [",".join(map(str, r)) for r in rows]) + "\n")
    return path


def test_csv_round_trip_binary_and_base_dir(tmp_path):
    rows = [[0.5, -1.0, 7], [1.5, 2.0, 3], [2.5, 3.5, 7], [4.0, 0.25, 3]]
    _write_csv(tmp_path / "d.csv", ["a", "label", "b"], [[r[0], r[2], r[1]] for r in rows])
    ds = make("file", {"path": "d.csv", "target": "label"}, base_dir=tmp_path)
    assert ds.task == "binary" and ds.n_test == 0
    assert np.array_equal(ds.X_train, np.array(rows)[:, :2].T)
    assert np.array_equal(ds.y_train, [[1, 0, 1, 0]])  # 3 -> 0, 7 -> 1 (sorted order)


def test_csv_multiclass_regression_and_split(tmp_path):
    rng = np.random.RandomState(0)
    X = rng.rand(40, 3)
    labels = np.repeat([2, 5, 9, 11], 10)
    _write_csv(tmp_path / "m.csv", ["x0", "x1", "x2", "y"], np.c_[X, labels].tolist())
    ds = make("file", {"path": str(tmp_path / "m.csv"), "target": "y", "test_fraction": 0.25})
    assert ds.task == "multiclass" and ds.n_outputs == 4 and (ds.n_train, ds.n_test) == (30, 10)
    assert np.all(np.abs(ds.y_test.sum(axis=1) - 2.5) <= 1)
    both = np.hstack([ds.X_train, ds.X_test]).T
    assert np.allclose(_rows(both), _rows(X))
    target = rng.rand(40)
    _write_csv(tmp_path / "r.csv", ["x0", "x1", "x2", "t"], np.c_[X, target].tolist())
    reg = make("file", {"path": str(tmp_path / "r.csv"), "target": "t"})
    assert reg.task == "regression" and np.allclose(reg.y_train, target[None, :])
    forced = make("file", {"path": str(tmp_path / "m.csv"), "target": "y", "task": "regression"})
    assert forced.task == "regression" and np.array_equal(forced.y_train, labels[None, :])


def test_npz_round_trip(tmp_path):
    X = np.arange(12, dtype=float).reshape(6, 2)
    y = np.array([0, 1, 2, 0, 1, 2])
    np.savez(tmp_path / "d.npz", X=X, y=y)
    ds = make("file", {"path": str(tmp_path / "d.npz")})
    assert ds.task == "multiclass" and np.array_equal(ds.X_train, X.T)
    assert np.array_equal(ds.y_train, np.eye(3)[:, y])
    assert make("file", {"path": str(tmp_path / "d.npz"), "target": "y"}).n_train == 6


def test_file_errors(tmp_path):
    def err(**params):
        return _errmsg("file", params, base_dir=tmp_path)

    assert "no such file" in err(path="missing.csv", target="y")
    (tmp_path / "d.txt").write_text("a,b\n1,2\n")
    assert "unsupported extension '.txt'" in err(path="d.txt", target="b")
    _write_csv(tmp_path / "d.csv", ["a", "b", "label"], [[1, 2, 0], [3, "x", 1]])
    msg = err(path="d.csv", target="lable")
    assert "no column 'lable'" in msg and "a, b, label" in msg and "did you mean 'label'" in msg
    msg = err(path="d.csv", target="label")
    assert "line 3" in msg and "column 'b'" in msg and "'x'" in msg
    (tmp_path / "empty.csv").write_text("")
    assert "empty" in err(path="empty.csv", target="y")
    (tmp_path / "head.csv").write_text("a,y\n")
    assert "no data rows" in err(path="head.csv", target="y")
    assert "target" in err(path="d.csv")
    assert "path" in err(target="y")
    np.savez(tmp_path / "bad.npz", X=np.ones((3, 2)), labels=np.zeros(3))
    assert "no array 'y'" in err(path="bad.npz")
    np.savez(tmp_path / "ok.npz", X=np.ones((3, 2)), y=np.zeros(3))
    assert "target must be 'y'" in err(path="ok.npz", target="label")
    np.savez(tmp_path / "shape.npz", X=np.ones((3, 2)), y=np.zeros(4))
    assert "shape" in err(path="shape.npz")
    (tmp_path / "junk.npz").write_text("not a zip")
    assert "cannot read" in err(path="junk.npz")
    _write_csv(tmp_path / "three.csv", ["a", "y"], [[1, 0], [2, 1], [3, 2]])
    assert "exactly 2" in err(path="three.csv", target="y", task="binary")


# --- names and parameter errors --------------------------------------------------------------

def test_unknown_dataset_suggests():
    msg = _errmsg("circle")
    assert "unknown dataset 'circle'" in msg and "did you mean 'circles'" in msg
    assert all(n in msg for n in DATASET_NAMES)


def test_unknown_param_names_key_dataset_and_allowed():
    msg = _errmsg("circles", {"nosie": 0.1})
    assert "'nosie'" in msg and "'circles'" in msg and "did you mean 'noise'" in msg
    assert "n_train" in msg and "factor" in msg
    assert "'seed'" in _errmsg("xor", {"seed": 1})


@pytest.mark.parametrize("name, params, word", [
    ("circles", {"n_train": 0}, "n_train"),
    ("circles", {"n_train": 2.5}, "n_train"),
    ("circles", {"noise": -0.1}, "noise"),
    ("circles", {"factor": 1.0}, "factor"),
    ("moons", {"test_seed": -1}, "test_seed"),
    ("moons", {"n_test": -1}, "n_test"),
    ("blobs", {"centers": 1}, "centers"),
    ("iris", {"test_fraction": 1.0}, "test_fraction"),
    ("iris", {"standardize": "yes"}, "standardize"),
    ("iris", {"test_fraction": 0.995}, "split"),
    ("spiral", {"classes": True}, "classes"),
    ("digits", {"seed": "abc"}, "seed"),
    ("file", {"path": "x.csv", "task": "bianry"}, "did you mean 'binary'"),
])
def test_bad_values(name, params, word):
    assert word in _errmsg(name, params)


def test_numeric_strings_from_yaml_accepted():
    assert np.array_equal(make("circles", {"noise": "5e-2"}).X_train, make("circles").X_train)


def test_module_never_seeds_global_rng():
    source = datasets.__file__
    with open(source, encoding="utf-8") as fh:
        text = fh.read()
    assert "np.random.seed" not in text


# --- native circles, moons, blobs: scikit-learn's values bit for bit ---------------------------

SEEDS = (0, 1, 2, 7, 42, 12345, 2**32 - 1)
SIZES = (1, 2, 3, 4, 5, 10, 11, 99, 100, 300, 301)


def _same(ours: tuple, theirs: tuple, rs_ours, rs_theirs) -> None:
    """Same values, dtypes and shapes, and the two RandomStates left in the same state (the same
    number of draws consumed)."""
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs, strict=True):
        assert a.dtype == b.dtype and a.shape == b.shape
        assert np.array_equal(a, b)
        assert a.tobytes() == b.tobytes()  # bit for bit, -0.0 and all
    state_a, state_b = rs_ours.get_state(), rs_theirs.get_state()
    assert np.array_equal(state_a[1], state_b[1]) and state_a[2:] == state_b[2:]


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("noise, factor", [(0.05, 0.8), (0.0, 0.8), (0.3, 0.0), (1.5, 0.5),
                                           (None, 0.99)])
def test_native_make_circles_is_sklearns(seed, noise, factor):
    for n in SIZES:
        ours_rs, their_rs = np.random.RandomState(seed), np.random.RandomState(seed)
        ours = datasets.make_circles(n_samples=n, noise=noise, factor=factor, random_state=ours_rs)
        theirs = skd.make_circles(n_samples=n, noise=noise, factor=factor, random_state=their_rs)
        _same(ours, theirs, ours_rs, their_rs)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("noise", [0.2, 0.0, 0.05, 2.0, None])
def test_native_make_moons_is_sklearns(seed, noise):
    for n in SIZES:
        ours_rs, their_rs = np.random.RandomState(seed), np.random.RandomState(seed)
        ours = datasets.make_moons(n_samples=n, noise=noise, random_state=ours_rs)
        theirs = skd.make_moons(n_samples=n, noise=noise, random_state=their_rs)
        _same(ours, theirs, ours_rs, their_rs)


@pytest.mark.parametrize("centers", (2, 3, 4, 5))
@pytest.mark.parametrize("n_features", (1, 2, 3, 4))
def test_native_make_blobs_is_sklearns(centers, n_features):
    """Every seed, size and spread; then a second draw around the first draw's centres (how the
    blobs data set draws its test set)."""
    for seed in (0, 1, 7, 2**32 - 1):
        for n in (1, 2, 3, 4, 5, 7, 100, 101, 300):
            for cluster_std in (1.0, 0.0, 0.3, 2.5):
                ours_rs, their_rs = np.random.RandomState(seed), np.random.RandomState(seed)
                ours = datasets.make_blobs(n_samples=n, centers=centers, n_features=n_features,
                                           cluster_std=cluster_std, random_state=ours_rs)
                theirs = skd.make_blobs(n_samples=n, centers=centers, n_features=n_features,
                                        cluster_std=cluster_std, random_state=their_rs,
                                        return_centers=True)
                _same(ours, theirs, ours_rs, their_rs)
                again, their_again = (np.random.RandomState(seed ^ 1) for _ in range(2))
                ours = datasets.make_blobs(n_samples=n + 3, centers=ours[2],
                                           cluster_std=cluster_std, random_state=again)
                theirs = skd.make_blobs(n_samples=n + 3, centers=theirs[2],
                                        cluster_std=cluster_std, random_state=their_again)
                _same(ours[:2], theirs, again, their_again)


CIRCLES_MOONS = [  # data-set parameters compared with scikit-learn's draws
    {}, {"n_train": 1, "n_test": 0}, {"n_train": 2, "n_test": 1}, {"n_train": 301, "n_test": 7},
    {"noise": 0.0, "train_seed": 9, "test_seed": 9}, {"factor": 0.1, "noise": 0.5},
    {"n_train": 1000, "n_test": 0, "train_seed": 2**32 - 1},
]
BLOBS = [
    {}, {"centers": 2, "n_features": 1}, {"centers": 5, "n_features": 4, "cluster_std": 0.0},
    {"n_train": 1, "n_test": 1, "centers": 4}, {"n_train": 2, "n_test": 0, "centers": 5},
    {"n_train": 101, "n_test": 33, "cluster_std": 2.5, "train_seed": 3, "test_seed": 3},
]
SKLEARN_FREE = [("circles", p) for p in CIRCLES_MOONS] + [
    ("moons", {k: v for k, v in p.items() if k != "factor"}) for p in CIRCLES_MOONS] + [
    ("blobs", p) for p in BLOBS] + [(name, {}) for name in ("xor", "iris_tiny", "neanderthal_toy")]


def _sklearn_made(name: str, params: dict) -> list[np.ndarray]:
    """What make(name, params) gave when it called scikit-learn: X_train, y_train, X_test,
    y_test in the column layout."""
    def draws(fn, n_train, n_test, train_seed, test_seed, **kw):
        X, y = fn(n_samples=n_train, random_state=np.random.RandomState(train_seed), **kw)
        Xt, yt = (fn(n_samples=n_test, random_state=np.random.RandomState(test_seed), **kw)
                  if n_test else (X[:0], y[:0]))
        return X, y, Xt, yt

    two = {"n_train": 300, "n_test": 100, "train_seed": 1, "test_seed": 2}
    binary = lambda v: v[None, :].astype(float)  # noqa: E731
    if name == "circles":
        X, y, Xt, yt = draws(skd.make_circles, **(two | {"noise": 0.05, "factor": 0.8} | params))
    elif name == "moons":
        X, y, Xt, yt = draws(skd.make_moons, **(two | {"noise": 0.2} | params))
    elif name == "blobs":
        full = two | {"centers": 3, "n_features": 2, "cluster_std": 1.0} | params
        X, y, where = skd.make_blobs(n_samples=full["n_train"], centers=full["centers"],
                                     n_features=full["n_features"],
                                     cluster_std=full["cluster_std"], return_centers=True,
                                     random_state=np.random.RandomState(full["train_seed"]))
        Xt, yt = (skd.make_blobs(n_samples=full["n_test"], centers=where,
                                 cluster_std=full["cluster_std"],
                                 random_state=np.random.RandomState(full["test_seed"]))
                  if full["n_test"] else (X[:0], y[:0]))
        if full["centers"] > 2:
            binary = lambda v: np.eye(full["centers"])[:, v]  # noqa: E731
    elif name == "iris_tiny":
        X, y = skd.load_iris().data[[0, 1, 148, 149]], np.array([0, 0, 1, 1])
        Xt, yt = X[:0], y[:0]
    else:
        ds = make(name)
        return [ds.X_train, ds.y_train, ds.X_test, ds.y_test]
    return [X.T, binary(y), Xt.T, binary(yt)]


def test_generated_data_sets_are_sklearns_without_importing_it(tmp_path):
    """circles, moons, blobs (and the literal sets) made in a fresh interpreter import neither
    scikit-learn nor SciPy, and equal, bit for bit, what scikit-learn draws."""
    out_file = tmp_path / "made.npz"
    code = textwrap.dedent(f"""
        import sys
        import numpy as np
        from initlab.experiments import datasets
        arrays = {{}}
        for i, (name, params) in enumerate({SKLEARN_FREE!r}):
            ds = datasets.make(name, params)
            for key in ("X_train", "y_train", "X_test", "y_test"):
                arrays[f"{{i}}_{{key}}"] = getattr(ds, key)
        np.savez({str(out_file)!r}, **arrays)
        loaded = sorted(m for m in sys.modules if m.split(".")[0] in ("sklearn", "scipy"))
        print(loaded[:5])
        sys.exit(1 if loaded else 0)
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr[-2000:]
    with np.load(out_file) as made:
        for i, (name, params) in enumerate(SKLEARN_FREE):
            theirs = _sklearn_made(name, params)
            for key, b in zip(("X_train", "y_train", "X_test", "y_test"), theirs, strict=True):
                a = made[f"{i}_{key}"]
                assert a.shape == b.shape and a.tobytes() == b.astype(float).tobytes(), \
                    (name, params, key)


# --- user files: size limit, encoding, folders -----------------------------------------------

def test_file_larger_than_max_mb_is_refused_before_reading(tmp_path):
    big = tmp_path / "big.csv"
    with big.open("wb") as fh:
        fh.truncate(10**6 + 1)  # sparse: nothing is written
    msg = _errmsg("file", {"path": str(big), "target": "y", "max_mb": 1})
    assert "big.csv" in msg and "max_mb 1" in msg and "1000001 bytes" in msg
    small = _write_csv(tmp_path / "small.csv", ["a", "y"], [[1, 0], [2, 1]])
    assert make("file", {"path": str(small), "target": "y", "max_mb": 1}).n_train == 2
    assert "max_mb" in _errmsg("file", {"path": str(small), "target": "y", "max_mb": 0})


def test_file_default_limit_is_1024_mb(tmp_path):
    huge = tmp_path / "huge.npz"
    with huge.open("wb") as fh:
        fh.truncate(1024 * 10**6 + 1)  # sparse
    msg = _errmsg("file", {"path": str(huge)})
    assert "huge.npz" in msg and "max_mb 1024" in msg and "raise max_mb" in msg
    assert datasets.FileParams().max_mb == 1024.0


def test_npz_whose_arrays_unpack_past_max_mb_is_refused(tmp_path):
    bomb = tmp_path / "bomb.npz"
    np.savez_compressed(bomb, X=np.zeros((2000, 1000)), y=np.zeros(2000))  # 16 MB unpacked
    assert bomb.stat().st_size < 10**6
    msg = _errmsg("file", {"path": str(bomb), "max_mb": 1})
    assert "uncompressed" in msg and "max_mb 1" in msg
    assert make("file", {"path": str(bomb), "max_mb": 20}).n_train == 2000
    with zipfile.ZipFile(bomb) as zf:
        assert sum(i.file_size for i in zf.infolist()) > 16 * 10**6


def test_csv_not_utf8_is_one_line(tmp_path):
    latin = tmp_path / "latin.csv"
    latin.write_bytes("caf\xe9,y\n1,0\n2,1\n".encode("latin-1"))
    msg = _errmsg("file", {"path": str(latin), "target": "y"})
    assert "not UTF-8" in msg and "offset 3" in msg and "latin.csv" in msg
    png = tmp_path / "image.csv"
    png.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    assert "not UTF-8" in _errmsg("file", {"path": str(png), "target": "y"})
    bom = tmp_path / "bom.csv"
    bom.write_bytes("a,y\r\n1,0\r\n2,1\r\n".encode("utf-8-sig"))
    assert np.array_equal(make("file", {"path": str(bom), "target": "y"}).X_train, [[1, 2]])


def test_file_that_is_a_folder(tmp_path):
    (tmp_path / "d.csv").mkdir()
    msg = _errmsg("file", {"path": str(tmp_path / "d.csv"), "target": "y"})
    assert msg.endswith("d.csv' is a folder, not a .csv file")


def test_file_description_leaves_out_the_size_limit(tmp_path):
    _write_csv(tmp_path / "d.csv", ["a", "y"], [[1, 0], [2, 1]])
    ds = make("file", {"path": "d.csv", "target": "y", "max_mb": 5}, base_dir=tmp_path)
    assert "max_mb" not in ds.description and "target y" in ds.description


def test_bounded_memory_for_a_big_sparse_file_in_a_subprocess(tmp_path):
    """The default limit holds under a 1 GiB address-space cap: nothing of the file is read."""
    big = tmp_path / "big.csv"
    with big.open("wb") as fh:
        fh.truncate(1024 * 10**6 + 1)
    message = capped_message(f"datasets.make('file', {{'path': {str(big)!r}, 'target': 'y'}})")
    assert "max_mb 1024" in message
