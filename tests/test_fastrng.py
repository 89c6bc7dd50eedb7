"""initlab.fastrng: statistics, determinism across thread counts, layout, tail limit, API.

Every statistical check uses a fixed seed (so it is deterministic) and a threshold that a correct
generator would miss with probability about 1e-4 or less (p-values > 1e-4, or 4.5-5 standard
errors); ``test_the_checks_catch_a_one_percent_variance_error`` shows the checks are tight.
Expected values come from closed forms (erfc, 1/12) or SciPy, never from initlab.
"""

from __future__ import annotations

import copy
import math
import os

import numpy as np
import pytest
from scipy import stats

from initlab.inits import fastrng
from initlab.inits import laws as initializers
from initlab.inits import streams as rngs
from initlab.inits.fastrng import BLOCK, CHUNK, FastStream

DTYPES = (np.float32, np.float64)
N = 1_000_000


def normal_problems(x: np.ndarray) -> list[str]:
    """What is wrong with ``x`` as iid N(0, 1) draws (empty when nothing is detected)."""
    x = np.asarray(x, np.float64)
    n = x.size
    problems = []
    if abs(x.mean()) > 5 / math.sqrt(n):
        problems.append(f"mean {x.mean():.5f}")
    if abs(x.var() - 1) > 5 * math.sqrt(2 / n):  # sd of the sample variance: √(2/n)
        problems.append(f"variance {x.var():.5f}")
    for k in (1, 2, 3, 4):
        p = math.erfc(k / math.sqrt(2))  # P(|Z| > k)
        frac = float(np.mean(np.abs(x) > k))
        if abs(frac - p) > 5 * math.sqrt(p * (1 - p) / n):
            problems.append(f"P(|z| > {k}) = {frac:.6f}, expected {p:.6f}")
    ks = stats.kstest(x, "norm").pvalue
    if ks < 1e-4:
        problems.append(f"KS p = {ks:.2e}")
    edges = stats.norm.ppf(np.linspace(0, 1, 61))  # 60 equiprobable bins
    counts = np.histogram(x, edges)[0]
    chi2 = stats.chisquare(counts).pvalue
    if chi2 < 1e-4:
        problems.append(f"chi-square p = {chi2:.2e}")
    return problems


# ------------------------------------------------------------------------------ statistics

@pytest.mark.parametrize("dtype", DTYPES)
def test_normals_pass_ks_chi_square_moments_and_tails(dtype):
    x = FastStream(20240611).standard_normal(2 * N, dtype=dtype)
    assert x.dtype == dtype
    assert normal_problems(x) == []


def test_the_checks_catch_a_one_percent_variance_error():
    x = FastStream(7).standard_normal(2 * N, dtype=np.float32)
    assert normal_problems(x) == []
    assert any("variance" in p for p in normal_problems(x * math.sqrt(1.01)))
    assert normal_problems(x + 0.005) != []


@pytest.mark.parametrize("dtype", DTYPES)
def test_uniforms_are_uniform_on_the_half_open_range(dtype):
    low, high = -0.3, 0.7
    u = FastStream(11).uniform(low, high, 2 * N, dtype=dtype)
    assert u.dtype == dtype
    assert u.min() >= dtype(low) and u.max() < dtype(high)
    n = u.size
    assert abs(u.mean() - 0.2) < 5 * math.sqrt(1 / 12 / n)
    assert abs(u.var() - 1 / 12) < 5 * math.sqrt(1 / 180 / n)  # Var of (U−μ)²: 1/80 − 1/144
    counts = np.histogram(u, np.linspace(float(dtype(low)), float(dtype(high)), 101))[0]
    assert counts.sum() == n
    assert stats.chisquare(counts).pvalue > 1e-4
    v = FastStream(12).uniform(size=N, dtype=dtype)
    assert v.min() >= 0 and v.max() < 1
    assert stats.kstest(v, "uniform").pvalue > 1e-4


def test_uniform_never_returns_high_even_when_rounding_would():
    low = np.float32(1.0)
    high = np.nextafter(low, np.float32(2), dtype=np.float32)
    for _ in range(15):  # a few ulps above low: low + (high − low)·u rounds up often
        high = np.nextafter(high, np.float32(2), dtype=np.float32)
    u = FastStream(3).uniform(float(low), float(high), N, dtype=np.float32)
    assert u.min() >= low and u.max() < high
    assert np.mean(u == u.max()) > 0.01  # the top value below high is actually reached


def test_adjacent_blocks_and_thread_boundaries_are_uncorrelated():
    x = FastStream(5, threads=2).standard_normal(6 * BLOCK + 77, dtype=np.float32)
    for i in range(5):
        a, b = x[i * BLOCK:(i + 1) * BLOCK], x[(i + 1) * BLOCK:(i + 2) * BLOCK]
        assert abs(np.corrcoef(a, b)[0, 1]) < 4 / math.sqrt(BLOCK)
        assert abs(np.corrcoef(a * a, b * b)[0, 1]) < 4 / math.sqrt(BLOCK)
    assert abs(np.corrcoef(x[:-1], x[1:])[0, 1]) < 4 / math.sqrt(x.size)


def test_box_muller_partners_are_independent():
    # float32 pairs (cos, sin) land CHUNK/2 apart inside each sub-chunk: z1 = r·cos θ and
    # z2 = r·sin θ are independent for a correct transform, so even their squares are uncorrelated
    x = FastStream(9).standard_normal(8 * CHUNK, dtype=np.float32).reshape(-1, 2, CHUNK // 2)
    z1, z2 = x[:, 0].ravel().astype(np.float64), x[:, 1].ravel().astype(np.float64)
    bound = 4 / math.sqrt(z1.size)
    assert abs(np.corrcoef(z1, z2)[0, 1]) < bound
    assert abs(np.corrcoef(z1 * z1, z2 * z2)[0, 1]) < bound
    assert abs(np.corrcoef(np.abs(z1), np.abs(z2))[0, 1]) < bound


def test_successive_calls_and_sibling_streams_are_uncorrelated():
    s = FastStream(13)
    a, b = s.standard_normal(N, np.float32), s.standard_normal(N, np.float32)
    (w0, b0), (w1, _) = rngs.layer_streams(13, "numpy", 2)
    c, d = w0.standard_normal(N, np.float32), w1.standard_normal(N, np.float32)
    e = b0.standard_normal(N, np.float32)
    for x, y in ((a, b), (c, d), (c, e)):
        assert abs(np.corrcoef(x, y)[0, 1]) < 4 / math.sqrt(N)


# ----------------------------------------------------------------------- tail limit

def test_tail_limit_is_the_documented_bound_and_is_never_exceeded():
    bound = math.sqrt(58 * math.log(2))  # √(−2 ln 2⁻²⁹)
    assert abs(fastrng.TAIL_LIMIT_FLOAT32 - bound) < 1e-12
    assert bound == pytest.approx(6.3405, abs=1e-4)
    x = FastStream(17).standard_normal(20 * N, dtype=np.float32)
    assert np.all(np.isfinite(x))
    assert np.abs(x).max() <= bound * (1 + 1e-6)


class _FixedUniforms:
    """A stand-in for numpy's Generator whose ``random(out=)`` writes one given float64."""

    def __init__(self, value: float) -> None:
        self.value = value

    def random(self, out: np.ndarray, dtype=np.float64) -> np.ndarray:
        out[...] = self.value
        return out


def test_the_extreme_uniforms_give_the_bound_and_zero_never_nan():
    out = np.empty(6, np.float32)
    fastrng._normal32(_FixedUniforms(1 - 2.0 ** -53), out)  # h = 2²⁴−1, u₁ = 2⁻²⁹: r = r_max
    r_max = math.sqrt(58 * math.log(2))
    np.testing.assert_allclose(out[:3], r_max, rtol=1e-6)  # θ = 2π(1 − 2⁻²⁴): cos θ ≈ 1
    assert np.all(np.abs(out) <= r_max * (1 + 1e-6))
    fastrng._normal32(_FixedUniforms(0.0), out)  # u₁ = 1: r = 0, never log(0)
    assert np.all(out == 0)


# --------------------------------------------------------------------- determinism

SIZES = (1, 2, 3, 1001, BLOCK - 1, BLOCK, BLOCK + 1, 2 * BLOCK + CHUNK + 3)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kind", ["normal", "uniform"])
def test_values_do_not_depend_on_the_thread_count(kind, dtype):
    def draw(threads: int) -> list[np.ndarray]:
        s = FastStream(42, threads=threads)
        if kind == "normal":
            return [s.standard_normal(n, dtype=dtype) for n in SIZES]
        return [s.uniform(-1.0, 2.0, n, dtype=dtype) for n in SIZES]

    ref = draw(1)
    for threads in (2, 3, 4):
        for n, a, b in zip(SIZES, ref, draw(threads), strict=True):
            assert np.array_equal(a, b), (threads, n)


def test_same_seed_same_values_other_seed_other_values():
    a = FastStream(1).standard_normal(BLOCK + 5, np.float32)
    assert np.array_equal(a, FastStream(1).standard_normal(BLOCK + 5, np.float32))
    other = FastStream(2).standard_normal(BLOCK + 5, np.float32)
    assert np.count_nonzero(a == other) < 10
    seq = np.random.SeedSequence(1)
    assert np.array_equal(a, FastStream(seq).standard_normal(BLOCK + 5, np.float32))


def test_calls_continue_the_stream_and_depend_only_on_the_call_count():
    s = FastStream(8)
    first, second = s.standard_normal(1000), s.standard_normal(1000)
    assert not np.any(first == second)
    t = FastStream(8)
    t.uniform(size=BLOCK + 3, dtype=np.float32)  # a different first call, same count
    assert np.array_equal(t.standard_normal(1000), second)


def test_deepcopy_continues_identically_and_independently():
    s = FastStream(21)
    s.standard_normal(10)
    snap = copy.deepcopy(s)
    a = s.standard_normal(BLOCK + 9, np.float32)
    b = snap.standard_normal(BLOCK + 9, np.float32)
    assert np.array_equal(a, b)
    snap.standard_normal(5)  # only the copy moves on: the two streams now differ
    assert not np.array_equal(s.uniform(size=100), snap.uniform(size=100))


# ---------------------------------------------------------------------- API details

def test_shapes_scalars_and_dtypes():
    s = FastStream(0)
    assert s.standard_normal((3, 4)).shape == (3, 4)
    assert s.standard_normal(np.int64(5), np.float32).shape == (5,)
    assert s.standard_normal((0, 3)).shape == (0, 3)
    z = s.standard_normal()
    assert isinstance(z, np.float64) and np.isfinite(z)
    u = s.uniform(2.0, 3.0, dtype=np.float32)
    assert isinstance(u, np.float32) and 2.0 <= u < 3.0
    assert s.uniform(size=(2, 2)).dtype == np.float64
    with pytest.raises(TypeError):
        s.standard_normal(3, dtype=np.int32)
    with pytest.raises(TypeError):
        s.fill_normal(np.empty(3, np.float16))
    with pytest.raises(ValueError):
        s.standard_normal(-1)
    with pytest.raises(ValueError):
        s.uniform(1.0, 1.0, 3)
    with pytest.raises(ValueError):
        s.uniform(0.0, math.inf, 3)
    with pytest.raises(ValueError):  # distinct in float64, equal once rounded to float32
        s.uniform(1.0, 1.0 + 1e-12, 3, dtype=np.float32)
    with pytest.raises(ValueError):  # high − low overflows float32
        s.uniform(-3e38, 3e38, 3, dtype=np.float32)
    with pytest.raises(ValueError):
        FastStream(0, threads=0)


def test_fill_writes_in_place_also_into_non_contiguous_views():
    base = np.zeros((6, 10), np.float32)
    view = base[:, ::2]
    assert FastStream(4).fill_normal(view) is view
    assert np.array_equal(view, FastStream(4).standard_normal((6, 5), np.float32))
    assert np.all(base[:, 1::2] == 0)
    out = np.empty((3, BLOCK), np.float64)
    FastStream(4).fill_uniform(out, 5.0, 6.0)
    assert np.array_equal(out, FastStream(4).uniform(5.0, 6.0, (3, BLOCK)))


def test_default_threads_is_the_cpus_this_process_may_use():
    expected = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") \
        else os.cpu_count()
    assert FastStream(0).threads == expected == fastrng.default_threads()


# ---------------------------------------------------------------------- integration

def test_numpy_layer_streams_are_fast_streams_seeded_by_position():
    streams = rngs.layer_streams(5, "numpy", 3)
    assert all(isinstance(r, FastStream) for pair in streams for r in pair)
    children = np.random.SeedSequence(5).spawn(6)
    w1 = streams[1][0].standard_normal((40, 30))
    assert np.array_equal(w1, FastStream(children[2]).standard_normal((40, 30)))
    deeper = rngs.layer_streams(5, "numpy", 7)  # the other layers do not change layer 1
    assert np.array_equal(w1, deeper[1][0].standard_normal((40, 30)))
    assert not np.array_equal(w1, streams[1][1].standard_normal((40, 30)))


def test_legacy_streams_stay_one_random_state():
    streams = rngs.layer_streams(3, "legacy", 2)
    assert all(isinstance(r, np.random.RandomState) for pair in streams for r in pair)
    w = initializers.sample("normal", {"std": 1.0}, (4, 3), streams[0][0])
    np.testing.assert_array_equal(w, np.random.RandomState(3).randn(4, 3))


@pytest.mark.parametrize(("spec", "std"), [("he_normal", math.sqrt(2 / 500)),
                                           ("xavier_uniform", math.sqrt(2 / 1500)),
                                           ("truncated_normal(std=0.1, cut=2)", None)])
def test_initializers_sample_from_fast_streams(spec, std):
    name, params = initializers.resolve(spec)
    w = initializers.sample(name, params, (1000, 500), FastStream(31))
    assert w.dtype == np.float64 and w.shape == (1000, 500)
    if std is None:  # truncated at 2σ: sd = 0.1·√(1 − 2·2φ(2)/(2Φ(2) − 1))
        assert np.abs(w).max() <= 0.2
        phi2 = math.exp(-2) / math.sqrt(2 * math.pi)
        std = 0.1 * math.sqrt(1 - 4 * phi2 / math.erf(2 / math.sqrt(2)))
    assert w.std() == pytest.approx(std, rel=5 / math.sqrt(2 * w.size))  # 5 sd of a sample sd
