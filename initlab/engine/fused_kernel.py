"""numba kernels of the fused engine (``engine.fused``): imported only when it trains.

Layout: the ParamStore's flat buffer, one block per layer of shape (E, n_l, n_(l−1) + bias),
the bias in the last column; experiment e's block l starts at off_l + e·n_l·cols_l. Per
experiment: z, a and d buffers (Σ n_l, m) and a gradient of its own parameter count.
Formulas are the NumPy engine's (``activations``, ``losses``, ``optimizers``), in loops.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

FLAGS = {"reassoc", "contract"}  # SIMD sums and FMA; NaN and inf keep their meaning
SELU_ALPHA, SELU_SCALE = 1.6732632423543772, 1.0507009873554805
GELU_C = math.sqrt(2.0 / math.pi)
SQRT_HALF, INV_SQRT_2PI = math.sqrt(0.5), 1.0 / math.sqrt(2.0 * math.pi)


@njit(cache=True, fastmath=FLAGS, inline="always")
def _phi(code: int, z: float, slope: float) -> float:
    if code == 0:
        return z
    if code == 1:
        return z if z > 0.0 else 0.0
    if code == 2:
        return z if z > 0.0 else slope * z
    if code == 3:
        return math.tanh(z)
    if code == 4:  # expit, as scipy: 1/(1 + e^(−z))
        return 1.0 / (1.0 + math.exp(-z))
    if code == 5:
        return SELU_SCALE * (z if z > 0.0 else SELU_ALPHA * math.expm1(z))
    if code == 6:
        return 0.5 * z * math.erfc(z * -SQRT_HALF)
    t = math.tanh(GELU_C * (z + 0.044715 * z * z * z))  # 7: gelu_tanh
    return 0.5 * z * (1.0 + t)


@njit(cache=True, fastmath=FLAGS, inline="always")
def _dphi(code: int, z: float, a: float, slope: float) -> float:
    if code == 0:
        return 1.0
    if code == 1:
        return 1.0 if z > 0.0 else 0.0
    if code == 2:
        return 1.0 if z > 0.0 else slope
    if code == 3:
        return 1.0 - a * a
    if code == 4:
        return a * (1.0 - a)
    if code == 5:
        return SELU_SCALE if z > 0.0 else a + SELU_SCALE * SELU_ALPHA
    if code == 6:
        return 0.5 * math.erfc(z * -SQRT_HALF) + z * math.exp(-0.5 * z * z) * INV_SQRT_2PI
    t = math.tanh(GELU_C * (z + 0.044715 * z * z * z))
    return 0.5 * (1.0 + t) + 0.5 * z * (1.0 - t * t) * GELU_C * (1.0 + 3 * 0.044715 * z * z)


@njit(cache=True, fastmath=FLAGS, inline="always")
def _logaddexp0(z: float) -> float:
    """numpy.logaddexp(0, z), case for case."""
    if z == 0.0:
        return math.log(2.0)
    if z < 0.0:
        return math.log1p(math.exp(z))
    if z > 0.0:
        return z + math.log1p(math.exp(-z))
    return z + 0.0  # NaN


@njit(cache=True, inline="always")
def _unit_max(z, r, n_out, s):
    """max over rows r … r + n_out − 1 of column s (softmax's shift)."""
    top = z[r, s]
    for i in range(1, n_out):
        top = max(top, z[r + i, s])
    return top


@njit(cache=True, fastmath=FLAGS)
def _forward(flat, X, sizes, acts, slopes, bias, e, offs, rows, z, a):
    """z_l, a_l of experiment e for every layer (rows[l]: layer l's first row in z and a)."""
    L, m = acts.shape[0], X.shape[1]
    for l in range(L):
        n_in, n_out = sizes[l], sizes[l + 1]
        cols = n_in + (1 if bias else 0)
        base = offs[l] + e * n_out * cols
        r = rows[l]
        for i in range(n_out):
            w = base + i * cols
            b = flat[w + n_in] if bias else 0.0
            for s in range(m):
                z[r + i, s] = b
            for k in range(n_in):
                wik = flat[w + k]
                if l == 0:
                    for s in range(m):
                        z[r + i, s] += wik * X[k, s]
                else:
                    q = rows[l - 1] + k
                    for s in range(m):
                        z[r + i, s] += wik * a[q, s]
        code = acts[l]
        if code == 8:  # softmax over the units, per sample, max-shifted
            for s in range(m):
                top = _unit_max(z, r, n_out, s)
                total = 0.0
                for i in range(n_out):
                    a[r + i, s] = math.exp(z[r + i, s] - top)
                    total += a[r + i, s]
                for i in range(n_out):
                    a[r + i, s] /= total
        else:
            slope = slopes[l]
            for i in range(n_out):
                for s in range(m):
                    a[r + i, s] = _phi(code, z[r + i, s], slope)


@njit(cache=True, inline="always")
def _add(total: float, carry: float, x: float) -> tuple[float, float]:
    """Neumaier's compensated sum: (total + x, the rounding carried)."""
    t = total + x
    if abs(total) >= abs(x):
        carry += (total - t) + x
    else:
        carry += (x - t) + total
    return t, carry


@njit(cache=True)  # no fastmath: the compensation must survive (a cost is a mean of m terms)
def _cost(loss, Y, z, a, r, n_out, m):
    """The loss of the last forward (rows r … r + n_out of z and a), summed with
    compensation (about as exact as NumPy's pairwise sum)."""
    total, carry = 0.0, 0.0
    if loss == 0:  # bce: softplus(z) − y·z
        for i in range(n_out):
            for s in range(m):
                total, carry = _add(total, carry,
                                    _logaddexp0(z[r + i, s]) - Y[i, s] * z[r + i, s])
    elif loss == 2:  # softmax_ce: logsumexp(z) − Σ y·z
        for s in range(m):
            top = _unit_max(z, r, n_out, s)
            acc = 0.0
            for i in range(n_out):
                acc += math.exp(z[r + i, s] - top)
            per = math.log(acc) + top
            for i in range(n_out):
                per -= Y[i, s] * z[r + i, s]
            total, carry = _add(total, carry, per)
    else:  # quadratic: ½‖a − y‖²
        for i in range(n_out):
            for s in range(m):
                d = a[r + i, s] - Y[i, s]
                total, carry = _add(total, carry, 0.5 * d * d)
    return (total + carry) / m


@njit(cache=True, fastmath=FLAGS)
def _witness(loss, Y, z, a, r, n_out, m):
    """Finite exactly when the cost is: the sum of the logits (bce, softmax_ce), or the cost."""
    if loss == 1:
        return _cost(loss, Y, z, a, r, n_out, m)
    total = 0.0
    for i in range(n_out):
        for s in range(m):
            total += z[r + i, s]
    return total


@njit(cache=True, fastmath=FLAGS)
def _backward(flat, X, Y, sizes, acts, slopes, loss, bias, e, offs, goffs, rows, z, a, d, g):
    """g ← ∂cost/∂[W_l | b_l] of experiment e after ``_forward`` (goffs: blocks within g)."""
    L, m = acts.shape[0], X.shape[1]
    last, r = L - 1, rows[L - 1]
    n_top = sizes[L]
    for i in range(n_top):  # (a − y)/m, times φ'(z) for the quadratic cost
        for s in range(m):
            v = (a[r + i, s] - Y[i, s]) * (1.0 / m)
            if loss == 1:
                v *= _dphi(acts[last], z[r + i, s], a[r + i, s], slopes[last])
            d[r + i, s] = v
    for l in range(last, -1, -1):
        n_in, n_out = sizes[l], sizes[l + 1]
        cols = n_in + (1 if bias else 0)
        r = rows[l]
        for i in range(n_out):
            gw = goffs[l] + i * cols
            for k in range(n_in):
                acc = 0.0
                if l == 0:
                    for s in range(m):
                        acc += d[r + i, s] * X[k, s]
                else:
                    q = rows[l - 1] + k
                    for s in range(m):
                        acc += d[r + i, s] * a[q, s]
                g[gw + k] = acc
            if bias:
                acc = 0.0
                for s in range(m):
                    acc += d[r + i, s]
                g[gw + n_in] = acc
        if l == 0:
            break
        q0 = rows[l - 1]
        base = offs[l] + e * n_out * cols
        for k in range(n_in):
            for s in range(m):
                d[q0 + k, s] = 0.0
        for i in range(n_out):
            w = base + i * cols
            for k in range(n_in):
                wik = flat[w + k]
                for s in range(m):
                    d[q0 + k, s] += wik * d[r + i, s]
        code, slope = acts[l - 1], slopes[l - 1]
        for k in range(n_in):
            for s in range(m):
                d[q0 + k, s] *= _dphi(code, z[q0 + k, s], a[q0 + k, s], slope)


@njit(cache=True, fastmath=FLAGS)
def _update(flat, m1, v1, g, e, offs, goffs, blocks, opt, lr, mu, b1, b2, eps, t):
    """θ ← the optimizer's step for experiment e's parameters (t: the step number, from 1)."""
    if opt == 2:
        step = lr * (1.0 - b2 ** t) ** 0.5 / (1.0 - b1 ** t)
        shift = eps * (1.0 - b2 ** t) ** 0.5
    for l in range(offs.shape[0]):
        base, n = offs[l] + e * blocks[l], blocks[l]
        for j in range(n):
            gj = g[goffs[l] + j]
            x = base + j
            if opt == 0:
                flat[x] -= gj * lr
            elif opt == 1:
                m1[x] = m1[x] * mu + gj
                flat[x] -= m1[x] * lr
            else:
                m1[x] = m1[x] * b1 + (1.0 - b1) * gj
                v1[x] = v1[x] * b2 + (1.0 - b2) * (gj * gj)
                flat[x] -= (m1[x] / (math.sqrt(v1[x]) + shift)) * step


@njit(cache=True, parallel=True, nogil=True, fastmath=FLAGS)
def segment(flat, m1, v1, X, Y, sizes, acts, slopes, loss, bias, opt, lr, mu, b1, b2, eps,
            start, stop, log_every, E, witness, costs):
    """Iterations start … stop − 1 of every experiment: witness[it − start, e] each iteration,
    costs[row, e] at each logged iteration (it % log_every == 0), before the update."""
    L, m = acts.shape[0], X.shape[1]
    cols = sizes[:-1] + (1 if bias else 0)
    blocks = sizes[1:] * cols
    offs = np.zeros(L, dtype=np.int64)
    goffs = np.zeros(L, dtype=np.int64)
    rows = np.zeros(L, dtype=np.int64)
    for l in range(1, L):
        offs[l] = offs[l - 1] + E * blocks[l - 1]
        goffs[l] = goffs[l - 1] + blocks[l - 1]
        rows[l] = rows[l - 1] + sizes[l]
    units, per_exp = rows[L - 1] + sizes[L], goffs[L - 1] + blocks[L - 1]
    r_top, n_top = rows[L - 1], sizes[L]
    for e in prange(E):
        z = np.empty((units, m), dtype=flat.dtype)
        a = np.empty((units, m), dtype=flat.dtype)
        d = np.empty((units, m), dtype=flat.dtype)
        g = np.empty(per_exp, dtype=flat.dtype)
        row = 0
        for it in range(start, stop):
            _forward(flat, X, sizes, acts, slopes, bias, e, offs, rows, z, a)
            witness[it - start, e] = _witness(loss, Y, z, a, r_top, n_top, m)
            if it % log_every == 0:
                costs[row, e] = _cost(loss, Y, z, a, r_top, n_top, m)
                row += 1
            _backward(flat, X, Y, sizes, acts, slopes, loss, bias, e, offs, goffs, rows, z, a,
                      d, g)
            _update(flat, m1, v1, g, e, offs, goffs, blocks, opt, lr, mu, b1, b2, eps, it + 1)
