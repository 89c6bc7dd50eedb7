"""Memory is checked before anything is allocated: every command estimates its peak and refuses,
in one line with the estimate, the budget and what to change, what cannot fit (a quarter of the
free memory, or --max-memory)."""

from __future__ import annotations

import resource
import subprocess
import sys

import psutil
import pytest

from initlab.engine import memory
from initlab.engine.backend import get_backend

from conftest import INITLAB, cli_env

ADDRESS_SPACE = 3 << 30  # the CLI runs under this ulimit -v: a real allocation of more would fail


def _limited() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE, ADDRESS_SPACE))


def refused(tmp_path, *args):
    ran = subprocess.run([INITLAB, *args], cwd=tmp_path, env=cli_env(), capture_output=True,
                         text=True, timeout=120, preexec_fn=_limited)
    lines = [ln for ln in (ran.stdout + ran.stderr).splitlines() if ln.strip()]
    assert ran.returncode == 2, ran.stdout + ran.stderr
    assert len(lines) == 1 and lines[0].startswith("error: "), ran.stdout + ran.stderr
    assert "Traceback" not in ran.stderr and "MemoryError" not in ran.stderr
    assert list(tmp_path.iterdir()) == []
    return lines[0]


@pytest.mark.parametrize(("args", "words"), [
    (["run", "he_circles", "--set", "model.layers=[2,100000,100000,1]"],
     ["one experiment", "600.1 GiB", "budget", "fewer or narrower layers"]),
    (["compare", "--set", "model.layers=[2,1000000,1000000,1]", "--dry-run"],
     ["one experiment", "budget"]),
    (["run", "he_circles", "--seeds", "100000000000000000000"],
     ["100,000,000,000,000,000,000 experiments", "fewer seeds"]),
    (["compare", "--seeds", "1000000000"], ["3,000,000,000 experiments", "budget"]),
    (["run", "he_circles", "--set", "train.epochs=1000000000000", "--set", "train.log_every=1"],
     ["log less often"]),
    (["compare", "--max-memory", "10KB"], ["one experiment", "KiB (--max-memory)"]),
    (["probe", "--width", "100000", "--batch", "100000"], ["this probe", "smaller --width"]),
    (["probe", "--width", "5000", "--depth", "3", "--max-memory", "1MB", "--dry-run"],
     ["this probe", "(--max-memory)"]),
    (["bench-rng", "--size", "2e8"], ["bench-rng --size 2e+08", "smaller --size"]),
    (["run", "he_circles", "--set", "dataset.n_train=1000000000000"],
     ["dataset 'circles' needs", "fewer samples"]),
])
def test_what_cannot_fit_is_refused_before_allocating(tmp_path, args, words):
    line = refused(tmp_path, *args)
    assert all(w in line for w in words), line


def test_the_budget_is_the_least_of_free_memory_cgroup_and_address_space_limit():
    free = memory.host_available_bytes()
    assert 0 < free <= psutil.virtual_memory().available
    assert memory.budget(get_backend("cpu")).bytes == int(memory.BUDGET_SHARE * free) or \
        abs(memory.budget(get_backend("cpu")).bytes - memory.BUDGET_SHARE * free) < 2**26
    code = ("import resource; resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30)); "
            "from initlab.engine import memory; print(memory.host_available_bytes())")
    limited = int(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                 check=True).stdout)
    assert limited < 2 << 30


def test_refusal_names_estimate_budget_and_advice():
    room = memory.Budget(1 << 20, "--max-memory")
    memory.refuse_unless_fits(1 << 20, room, "x", "y")  # exactly fits
    with pytest.raises(Exception, match=r"x needs ~1.0 MiB, more than the memory budget of "
                                        r"1.0 MiB \(--max-memory\); y"):
        memory.refuse_unless_fits((1 << 20) + 1, room, "x", "y")
