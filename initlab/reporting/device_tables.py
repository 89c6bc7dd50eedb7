"""What ``initlab devices`` prints: one table of the machine, one of the GPUs, then a line per
problem found."""

from __future__ import annotations

from typing import Any

from rich.console import Console

from initlab.engine.memory import human_bytes
from initlab.reporting.format import table


def _blas_line(blas: list[dict[str, Any]]) -> str:
    if not blas:
        return "none found by threadpoolctl"
    return "; ".join(f"{b['internal_api']} {b['version'] or ''} ({b['num_threads']} threads"
                     f"{', ' + b['architecture'] if b.get('architecture') else ''})".replace(
                         "  ", " ") for b in blas)


def devices_tables(console: Console, found: Any) -> None:
    """A ``commands.devices.Devices``."""
    machine = table("This machine")
    machine.add_column("what")
    machine.add_column("found", overflow="fold")
    cores = f"{found.logical_cores} logical" + (
        f", {found.physical_cores} physical" if found.physical_cores else "") + (
        f", {found.usable_cores} usable by this process"
        if found.usable_cores != found.logical_cores else "")
    rows = [("CPU", found.cpu), ("cores", cores),
            ("memory", "—" if found.memory_total is None else
             f"{human_bytes(found.memory_total)} total, "
             f"{human_bytes(found.memory_available)} available"),
            ("Python", found.python), ("NumPy", found.numpy), ("BLAS", _blas_line(found.blas)),
            ("CuPy", found.cupy or "not installed"),
            ("CUDA runtime", found.cuda_runtime or "—"), ("CUDA driver", found.cuda_driver or "—")]
    for what, value in rows:
        machine.add_row(what, value)
    console.print(machine)
    if found.gpus:
        gpus = table("GPUs")
        for col in ("#", "name", "memory total", "free", "compute capability", "TF32", "SMs"):
            gpus.add_column(col, justify="left" if col == "name" else "right")
        for g in found.gpus:
            gpus.add_row(str(g.index), g.name, human_bytes(g.total_bytes),
                         "—" if g.free_bytes is None else human_bytes(g.free_bytes),
                         g.compute_capability, "yes" if g.tf32 else "no",
                         str(g.multiprocessors))
        console.print(gpus)
    for problem in found.problems:
        console.print(problem, markup=False)
