"""One place that picks the array module: NumPy for ``cpu``, CuPy for ``gpu``.

Everything numeric takes ``xp`` as an argument; nothing else in initlab imports cupy.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import numpy as np

from initlab.errors import InitlabError

DEVICES = ("cpu", "gpu", "auto")  # auto: the GPU when CuPy sees one, else the CPU
GPU_INSTALL_HINT = "pip install 'initlab[gpu]' (CUDA 12), or cupy-cuda13x for CUDA 13"


@dataclass(frozen=True)
class Backend:
    """The chosen device: ``name`` is 'cpu' or 'gpu', ``xp`` the array module."""

    name: str
    xp: ModuleType
    label: str

    def __reduce__(self) -> tuple[Any, tuple[str, str]]:
        """Sent to another process (a sweep's results), a Backend travels as its name and label
        (an array module cannot be pickled); see ``_arrived``."""
        return _arrived, (self.name, self.label)

    def asarray(self, a: Any, dtype: Any = None) -> Any:
        return self.xp.asarray(a, dtype=dtype)

    def synchronize(self) -> None:
        if self.name == "gpu":
            self.xp.cuda.Device().synchronize()


def _arrived(name: str, label: str) -> Backend:
    """A Backend unpickled: the same device where this process has it, else NumPy with the
    sender's label (the results that travel with it are host arrays)."""
    try:
        return get_backend(name)
    except InitlabError:
        return Backend(name, np, label)


def cupy_module() -> ModuleType | None:
    """CuPy when it imports, else None (the one place initlab imports it)."""
    try:
        import cupy  # noqa: PLC0415  (optional dependency, imported only here)
    except ImportError:
        return None
    return cupy


def _cupy_or_reason() -> tuple[ModuleType | None, str]:
    """(cupy, '') when CuPy imports and sees a CUDA device, else (None, why not)."""
    cupy = cupy_module()
    if cupy is None:
        return None, f"CuPy is not installed ({GPU_INSTALL_HINT})"
    try:
        count = cupy.cuda.runtime.getDeviceCount()
    except Exception as exc:  # CUDA driver missing or broken
        return None, f"CuPy is installed but no CUDA device is usable ({type(exc).__name__}: {exc})"
    if count < 1:
        return None, "CuPy is installed but sees no CUDA device"
    return cupy, ""


def gpu_available() -> bool:
    """True when CuPy imports and sees at least one CUDA device."""
    return _cupy_or_reason()[0] is not None


def get_backend(device: str) -> Backend:
    """'cpu' → NumPy; 'gpu' → CuPy or InitlabError saying what is missing; 'auto' → GPU if any."""
    if device == "cpu":
        return Backend("cpu", np, f"cpu (NumPy {np.__version__})")
    if device not in DEVICES:
        raise InitlabError(f"unknown device '{device}'; valid: {', '.join(DEVICES)}")
    cupy, why = _cupy_or_reason()
    if cupy is None:
        if device == "auto":
            return get_backend("cpu")
        raise InitlabError(f"--device gpu: {why}")
    props = cupy.cuda.runtime.getDeviceProperties(cupy.cuda.Device().id)
    name = props["name"].decode() if isinstance(props["name"], bytes) else str(props["name"])
    return Backend("gpu", cupy, f"gpu ({name}, CuPy {cupy.__version__})")


_SPECIAL: dict[str, ModuleType] = {}


def special(xp: ModuleType) -> ModuleType:
    """The special-function module for ``xp``: scipy.special (NumPy) or cupyx.scipy.special."""
    module = _SPECIAL.get(xp.__name__)
    if module is None:
        if xp is np:
            import scipy.special as module  # noqa: PLC0415
        else:
            import cupyx.scipy.special as module  # noqa: PLC0415
        _SPECIAL[xp.__name__] = module
    return module


def default_threads() -> int:
    """CPU cores this process may use (its affinity mask, else the machine's count)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def single_threaded_blas(xp: ModuleType) -> contextlib.AbstractContextManager:
    """NumPy: BLAS limited to one thread inside the block, so every product is computed the
    same way whatever the batch around it (multi-threaded OpenBLAS splits work by shape and
    can change the last bits); initlab parallelises over experiments itself. CuPy: no-op."""
    if xp is not np:
        return contextlib.nullcontext()
    from threadpoolctl import threadpool_limits  # noqa: PLC0415

    return threadpool_limits(limits=1, user_api="blas")


def to_numpy(a: Any) -> np.ndarray:
    """Host copy of a NumPy or CuPy array (the reporting edge)."""
    get = getattr(a, "get", None)
    return get() if callable(get) else np.asarray(a)
