"""How many experiments fit in memory at once: the chunk size of a batched run.

Device memory grows as E × (largest activations): every experiment holds its z, a and δ per layer
for a training batch, the same again for the evaluation passes over the whole training and test
sets, and a few copies of its parameters (values, gradients, optimizer state, host copies). When
E experiments would not fit in the budget they are trained in consecutive chunks of ``size``,
each an ordinary batched training; results do not depend on the chunking.
"""

from __future__ import annotations

import contextlib
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from initlab.errors import InitlabError

BUDGET_SHARE = 0.25  # of the memory available when the run starts
PARAM_COPIES = 8  # values, grads, optimizer tmp + 2 states, shard copy, host init/final (float64)
HOST_BYTES_PER_VALUE = 100  # a number kept for the records: array slot, Python float, JSON text
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


@dataclass(frozen=True)
class Budget:
    """``bytes`` a run may use, and where the figure comes from (for messages)."""

    bytes: int
    source: str


def budget(backend: Any, limit: int | None = None) -> Budget:
    """``limit`` (--max-memory), or BUDGET_SHARE of the free memory of the backend's device."""
    if limit is not None:
        return Budget(limit, "--max-memory")
    free = available_bytes(backend)
    where = "GPU memory" if backend.name == "gpu" else "memory"
    return Budget(int(BUDGET_SHARE * free), f"a quarter of the {human_bytes(free)} of free {where};"
                                            " --max-memory sets it")


def budget_bytes(backend: Any, limit: int | None = None) -> int:
    """``limit``, or BUDGET_SHARE of the free memory of the backend's device."""
    return budget(backend, limit).bytes


def host_budget() -> Budget:
    """BUDGET_SHARE of the host's free memory: what results may hold until they are saved."""
    free = host_available_bytes()
    return Budget(int(BUDGET_SHARE * free), f"a quarter of the {human_bytes(free)} of free memory")


def refuse_unless_fits(need: int, room: Budget, what: str, advice: str) -> None:
    """One-line InitlabError when ``need`` bytes exceed the budget: the estimate, the budget and
    what to change. Called before anything is allocated."""
    if need > room.bytes:
        raise InitlabError(f"{what} needs ~{human_bytes(need)}, more than the memory budget of "
                           f"{human_bytes(room.bytes)} ({room.source}); {advice}")


def available_bytes(backend: Any) -> int:
    """Free memory on the backend's device: CUDA free memory, or the host's."""
    if backend.name == "gpu":
        free, _ = backend.xp.cuda.runtime.memGetInfo()
        return int(free)
    return host_available_bytes()


def host_available_bytes() -> int:
    """Memory this process can still get: the least of what the system has free (psutil), what
    its cgroup (container) still allows, and what its address-space limit (ulimit -v) leaves."""
    import psutil  # noqa: PLC0415 (only where memory is checked)

    free = [int(psutil.virtual_memory().available)]
    for limit_file, usage_file in _CGROUP_FILES:
        try:
            limit = Path(limit_file).read_text().strip()
            usage = int(Path(usage_file).read_text().strip())
        except (OSError, ValueError):
            continue
        if limit.isdigit() and int(limit) < 1 << 60:
            free.append(max(0, int(limit) - usage))
        break
    with contextlib.suppress(ImportError, OSError, ValueError):
        import resource  # noqa: PLC0415 (not on Windows)

        soft, _ = resource.getrlimit(resource.RLIMIT_AS)
        if soft != resource.RLIM_INFINITY:
            free.append(max(0, soft - psutil.Process().memory_info().vms))
    return min(free)


_CGROUP_FILES = (("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current"),  # v2
                 ("/sys/fs/cgroup/memory/memory.limit_in_bytes",  # v1
                  "/sys/fs/cgroup/memory/memory.usage_in_bytes"))


def host_bytes_per_experiment(depth: int, log_points: int) -> int:
    """What an experiment keeps on the host until its run is saved, ~HOST_BYTES_PER_VALUE per
    number: the cost curve (log_points), two per-layer tables (2·9·depth) and a few scalars."""
    return HOST_BYTES_PER_VALUE * (log_points + 2 * 9 * depth + 16)


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
    k = min(6, int(math.log(n, 1024)))
    return f"{n / 1024**k:.1f} {('KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB')[k - 1]}"
