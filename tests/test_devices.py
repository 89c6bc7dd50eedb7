"""``initlab devices``: the machine table everywhere, and the one-line messages for a missing
CuPy, a CuPy that sees no device, and a driver older than the runtime — checked here by standing
a fake CuPy in for the real one (and for real on a machine with a GPU)."""

from __future__ import annotations

import json
import types

import numpy as np
import pytest
from threadpoolctl import threadpool_info

from initlab.commands import devices
from initlab.engine import backend

from conftest import run_cli


def fake_cupy(runtime: int = 12040, driver: int = 12080, count: int = 1,
              count_error: Exception | None = None, major: int = 9) -> types.SimpleNamespace:
    """A stand-in with the calls ``devices.query`` makes, for a machine with ``count`` H100s."""
    def device_count() -> int:
        if count_error is not None:
            raise count_error
        return count

    class Device:
        def __init__(self, i: int) -> None:
            self.i = i

        def __enter__(self) -> Device:
            return self

        def __exit__(self, *exc: object) -> None:
            return None

    props = {"name": b"NVIDIA H100 80GB HBM3", "totalGlobalMem": 85 << 30, "major": major,
             "minor": 0, "multiProcessorCount": 132}
    runtime_ns = types.SimpleNamespace(
        runtimeGetVersion=lambda: runtime, driverGetVersion=lambda: driver,
        getDeviceCount=device_count, getDeviceProperties=lambda i: props,
        memGetInfo=lambda: (80 << 30, 85 << 30))
    return types.SimpleNamespace(__version__="13.6.0",
                                 cuda=types.SimpleNamespace(runtime=runtime_ns, Device=Device))


def test_the_machine_table_names_cpu_numpy_and_blas_as_threadpoolctl_sees_them():
    found = devices.query(cupy=fake_cupy())
    assert found.numpy == np.__version__ and found.logical_cores >= found.usable_cores >= 1
    apis = [b["internal_api"] for b in threadpool_info() if b["user_api"] == "blas"]
    assert [b["internal_api"] for b in found.blas] == apis
    assert found.memory_total > found.memory_available > 0


def test_a_gpu_is_listed_with_its_memory_capability_and_tf32():
    found = devices.query(cupy=fake_cupy())
    assert (found.cupy, found.cuda_runtime, found.cuda_driver) == ("13.6.0", "12.4", "12.8")
    assert found.problems == []
    [gpu] = found.gpus
    assert (gpu.name, gpu.total_bytes, gpu.free_bytes) == ("NVIDIA H100 80GB HBM3", 85 << 30,
                                                           80 << 30)
    assert gpu.compute_capability == "9.0" and gpu.tf32 and gpu.multiprocessors == 132
    assert not devices.query(cupy=fake_cupy(major=7)).gpus[0].tf32  # Volta: no TF32


@pytest.mark.parametrize(("cupy", "words"), [
    (fake_cupy(count=0), "CuPy 13.6.0 is installed but sees no CUDA device"),
    (fake_cupy(count_error=RuntimeError("cudaErrorNoDevice")),
     "CuPy 13.6.0 is installed but no CUDA device is usable (RuntimeError: cudaErrorNoDevice)"),
    (fake_cupy(driver=0), "no CUDA driver is loaded"),
    (fake_cupy(runtime=12080, driver=12020),
     "the CUDA driver (12.2) is older than CuPy's runtime (12.8) needs"),
])
def test_each_problem_is_one_plain_line(cupy, words):
    found = devices.query(cupy=cupy)
    assert len(found.problems) == 1 and words in found.problems[0]


def test_cuda_versions_read_as_major_minor():
    assert [devices.cuda_version(v) for v in (12040, 13000, 11080)] == ["12.4", "13.0", "11.8"]


def test_the_command_prints_the_table_and_json(tmp_path):
    ran = run_cli(tmp_path, "devices", columns=120)
    assert ran.returncode == 0, ran.explain()
    assert "NumPy" in ran.stdout and np.__version__ in ran.stdout
    as_json = run_cli(tmp_path, "devices", "--json")
    document = json.loads(as_json.stdout)
    assert document["numpy"] == np.__version__
    if backend.cupy_module() is None:  # CI: the one line, in the table and in the document
        assert "CuPy is not installed: no GPU (pip install 'initlab[gpu]'" in \
            " ".join(ran.stdout.split())
        assert document["cupy"] is None and document["gpus"] == []
    else:  # a GPU machine: the real CuPy and its devices
        import cupy

        assert document["cupy"] == cupy.__version__
        assert len(document["gpus"]) == cupy.cuda.runtime.getDeviceCount()


def test_without_cupy_the_gpu_device_is_refused_in_one_line(tmp_path, monkeypatch):
    monkeypatch.setattr(backend, "cupy_module", lambda: None)
    with pytest.raises(backend.InitlabError, match=r"--device gpu: CuPy is not installed"):
        backend.get_backend("gpu")
    assert backend.get_backend("auto").name == "cpu"
