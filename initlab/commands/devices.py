"""`initlab devices`: what this machine offers initlab — the CPU and its cores, NumPy and the
BLAS it calls (threadpoolctl), CuPy and the CUDA runtime and driver it sees, and every GPU with
its memory, compute capability and TF32 — with one plain line for each problem: CuPy missing,
CuPy installed but no device usable, a driver older than the runtime needs."""

from __future__ import annotations

import os
import platform
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from initlab.engine import backend

TF32_CAPABILITY = (8, 0)  # Ampere and later: TF32 tensor-core matmuls


@dataclass
class Gpu:
    """One CUDA device as CuPy reports it."""

    index: int
    name: str
    total_bytes: int
    free_bytes: int | None
    compute_capability: str  # "9.0"
    tf32: bool
    multiprocessors: int


@dataclass
class Devices:
    """The machine: CPU, NumPy/BLAS, CuPy/CUDA, the GPUs and the problems found."""

    cpu: str
    physical_cores: int | None
    logical_cores: int
    usable_cores: int
    memory_total: int | None
    memory_available: int | None
    python: str
    numpy: str
    blas: list[dict[str, Any]]
    cupy: str | None
    cuda_runtime: str | None
    cuda_driver: str | None
    gpus: list[Gpu] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def record(self) -> dict[str, Any]:
        """The ``--json`` document."""
        return asdict(self)


def cuda_version(code: int) -> str:
    """CUDA's integer version as text: 12040 → '12.4'."""
    return f"{code // 1000}.{code % 1000 // 10}"


def cpu_model() -> str:
    """The CPU's marketing name (/proc/cpuinfo on Linux, else the platform's word)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def _blas() -> list[dict[str, Any]]:
    from threadpoolctl import threadpool_info  # noqa: PLC0415

    keep = ("internal_api", "version", "num_threads", "architecture", "threading_layer")
    return [{k: info.get(k) for k in keep} for info in threadpool_info()
            if info.get("user_api") == "blas"]


def query(cupy: Any = None) -> Devices:
    """Everything ``initlab devices`` prints; ``cupy`` (tests) stands in for the module."""
    import psutil  # noqa: PLC0415

    memory = psutil.virtual_memory()
    found = Devices(cpu_model(), psutil.cpu_count(logical=False), os.cpu_count() or 1,
                    backend.default_threads(), memory.total, memory.available,
                    platform.python_version(), np.__version__, _blas(), None, None, None)
    cupy = backend.cupy_module() if cupy is None else cupy
    if cupy is None:
        found.problems.append(f"CuPy is not installed: no GPU ({backend.GPU_INSTALL_HINT})")
        return found
    found.cupy = cupy.__version__
    runtime = cupy.cuda.runtime
    try:
        found.cuda_runtime = cuda_version(runtime.runtimeGetVersion())
        driver = runtime.driverGetVersion()
        found.cuda_driver = cuda_version(driver) if driver else None
    except Exception as exc:  # noqa: BLE001 - a broken CUDA install, reported in one line
        found.problems.append(f"CuPy {cupy.__version__} is installed but CUDA does not answer "
                              f"({type(exc).__name__}: {exc})")
        return found
    if found.cuda_driver is None:
        found.problems.append(f"CuPy {cupy.__version__} is installed but no CUDA driver is "
                              f"loaded: install the NVIDIA driver")
        return found
    if driver < runtime.runtimeGetVersion():
        found.problems.append(
            f"the CUDA driver ({found.cuda_driver}) is older than CuPy's runtime "
            f"({found.cuda_runtime}) needs: update the NVIDIA driver, or install the CuPy "
            f"package for CUDA {found.cuda_driver.split('.')[0]}")
    try:
        count = runtime.getDeviceCount()
    except Exception as exc:  # noqa: BLE001
        found.problems.append(f"CuPy {cupy.__version__} is installed but no CUDA device is "
                              f"usable ({type(exc).__name__}: {exc})")
        return found
    if count < 1:
        found.problems.append(f"CuPy {cupy.__version__} is installed but sees no CUDA device")
    found.gpus = [_gpu(cupy, i) for i in range(count)]
    return found


def _gpu(cupy: Any, i: int) -> Gpu:
    props = cupy.cuda.runtime.getDeviceProperties(i)
    name = props["name"].decode() if isinstance(props["name"], bytes) else str(props["name"])
    major, minor = int(props["major"]), int(props["minor"])
    try:
        with cupy.cuda.Device(i):
            free, _ = cupy.cuda.runtime.memGetInfo()
    except Exception:  # noqa: BLE001 - a device that cannot take a context: no free figure
        free = None
    return Gpu(i, name, int(props["totalGlobalMem"]), None if free is None else int(free),
               f"{major}.{minor}", (major, minor) >= TF32_CAPABILITY,
               int(props.get("multiProcessorCount", 0)))
