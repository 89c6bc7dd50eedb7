"""How many experiments fit in memory at once: the chunk size of a batched run.

Device memory grows as E × (largest activations): every experiment holds its z, a and δ per layer
for a training batch, the same again for the evaluation passes over the whole training and test
sets, and a few copies of its parameters (values, gradients, optimizer state, host copies). When
E experiments would not fit in the budget they are trained in consecutive chunks of ``size``,
each an ordinary batched training; results do not depend on the chunking.
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass
from typing import Any

from initlab.errors import InitlabError

BUDGET_SHARE = 0.25  # of the memory available when the run starts
PARAM_COPIES = 8  # values, grads, optimizer tmp + 2 states, shard copy, host init/final (float64)
ACTIVATION_COPIES = 3  # z, a, δ per layer and sample
EVAL_TEMPORARIES = 2  # reductions in the statistics pass allocate about as much again


@dataclass(frozen=True)
class ChunkPlan:
    """``count`` chunks of at most ``size`` experiments, each needing about ``per_experiment``
    bytes, within ``budget`` bytes."""

    n_experiments: int
    size: int
    per_experiment: int
    budget: int

    @property
    def count(self) -> int:
        return -(-self.n_experiments // self.size)

    def bounds(self) -> list[tuple[int, int]]:
        """[(start, stop), …] of every chunk along the experiment axis."""
        return [(a, min(a + self.size, self.n_experiments))
                for a in range(0, self.n_experiments, self.size)]


def bytes_per_experiment(layers: tuple[int, ...], m_train: int, m_test: int, batch: int,
                         itemsize: int) -> int:
    """itemsize·Σn_l·(3·batch + 5·m_train + 3·m_test) + 8·8·P bytes, P = Σ n_l·(n_{l−1} + 1)."""
    units = sum(layers[1:])
    params = sum(o * (i + 1) for i, o in zip(layers[:-1], layers[1:], strict=True))
    samples = (ACTIVATION_COPIES * batch + (ACTIVATION_COPIES + EVAL_TEMPORARIES) * m_train
               + ACTIVATION_COPIES * m_test)
    return itemsize * units * samples + 8 * PARAM_COPIES * params


def budget_bytes(backend: Any, limit: int | None = None) -> int:
    """``limit``, or BUDGET_SHARE of the free memory of the backend's device."""
    return limit if limit is not None else int(BUDGET_SHARE * available_bytes(backend))


def available_bytes(backend: Any) -> int:
    """Free memory on the backend's device: CUDA free memory, or the host's MemAvailable."""
    if backend.name == "gpu":
        free, _ = backend.xp.cuda.runtime.memGetInfo()
        return int(free)
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_AVPHYS_PAGES")


def plan_chunks(n_experiments: int, per_experiment: int, budget: int) -> ChunkPlan:
    """The largest chunk size whose experiments fit in ``budget`` (at least one)."""
    size = max(1, min(n_experiments, budget // max(1, per_experiment)))
    return ChunkPlan(n_experiments, size, per_experiment, budget)


_UNITS = {"": 1, "b": 1, "k": 1e3, "kb": 1e3, "kib": 1024, "m": 1e6, "mb": 1e6, "mib": 1024**2,
          "g": 1e9, "gb": 1e9, "gib": 1024**3, "t": 1e12, "tb": 1e12, "tib": 1024**4}
_SIZE_RE = re.compile(r"^\s*([0-9]*\.?[0-9]+(?:e[0-9]+)?)\s*([a-z]*)\s*$", re.IGNORECASE)


def parse_bytes(text: str, what: str = "--max-memory") -> int:
    """'512MB', '2GiB', '1.5g', '1e9' → bytes; anything else is a one-line error."""
    match = _SIZE_RE.match(text)
    unit = match.group(2).lower() if match else None
    if match is None or unit not in _UNITS:
        raise InitlabError(f"{what}: cannot read {text!r} as a size; write e.g. 512MB, 2GB, 1GiB")
    value = int(float(match.group(1)) * _UNITS[unit])
    if value < 1024:
        raise InitlabError(f"{what}: {text!r} is less than 1 KiB; give at least 1KiB")
    return value


def human_bytes(n: float) -> str:
    """1536 → '1.5 KiB'; bytes below 1 KiB as whole numbers."""
    if n < 1024:
        return f"{n:.0f} B"
    k = min(4, int(math.log(n, 1024)))
    return f"{n / 1024**k:.1f} {('KiB', 'MiB', 'GiB', 'TiB')[k - 1]}"
