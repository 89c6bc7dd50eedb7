"""What the tests share: paths, the ``initlab`` console script and the environment it runs in, and
running an experiment file through the runner in process.

Test modules import the helpers (``from conftest import HE, run_cli``); pytest puts this folder on
``sys.path``.
"""

from __future__ import annotations

import math
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from initlab.commands import run as run_command
from initlab.engine.backend import get_backend
from initlab.experiments import runner

REPO = Path(__file__).resolve().parents[1]
CONFIGS = REPO / "configs"
HE = CONFIGS / "he_circles.yaml"
CPU = get_backend("cpu")
TIMEOUT = 120
# ``python -c`` code that runs the CLI as if CuPy were not installed
NO_CUPY = "import sys; sys.modules['cupy'] = None; from initlab.cli import main; main()"


def _initlab_script() -> str | None:
    beside = Path(sys.executable).parent / "initlab"
    return str(beside) if beside.is_file() else shutil.which("initlab")


INITLAB = _initlab_script()


def cli_env(columns: int = 80) -> dict[str, str]:
    """The caller's environment without anything that forces colour or a terminal width."""
    drop = {"FORCE_COLOR", "CLICOLOR_FORCE", "TTY_COMPATIBLE", "TTY_INTERACTIVE", "COLUMNS",
            "LINES"}
    env = {k: v for k, v in os.environ.items() if k not in drop}
    env.update(COLUMNS=str(columns), NO_COLOR="1")
    return env


def tree(root: Path) -> set[str]:
    """Every path below ``root``, relative, as text."""
    return {p.relative_to(root).as_posix() for p in root.rglob("*")}


@dataclass
class Ran:
    """One finished CLI call and the working folder's contents before and after it."""

    argv: list[str]
    cwd: Path
    returncode: int
    stdout: str
    stderr: str
    before: set[str]
    after: set[str]

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    def explain(self) -> str:
        return (f"argv: {self.argv}\nexit: {self.returncode}\n--- stdout\n{self.stdout}"
                f"--- stderr\n{self.stderr}")


def run_cli(cwd: Path, *args: str, columns: int = 80, python_code: str | None = None,
            timeout: float = TIMEOUT) -> Ran:
    """``initlab ARGS`` (or ``python -c CODE ARGS``) in ``cwd``, as a user's shell would run it."""
    if python_code is None:
        assert INITLAB, "the initlab console script was not found next to sys.executable or on PATH"
        argv = [INITLAB, *args]
    else:
        argv = [sys.executable, "-c", python_code, *args]
    before = tree(cwd)
    proc = subprocess.run(argv, cwd=cwd, env=cli_env(columns), capture_output=True, text=True,
                          timeout=timeout, stdin=subprocess.DEVNULL)
    return Ran(argv, cwd, proc.returncode, proc.stdout, proc.stderr, before, tree(cwd))


def run_config(name: str | Path, *overrides: str, seeds: int | None = None,
               **execute) -> runner.RunResult:
    """Train ``configs/<name>.yaml`` (or a path) with ``--set`` overrides, in process."""
    path = name if isinstance(name, Path) else CONFIGS / f"{name}.yaml"
    plan, backend = run_command.prepare(path, list(overrides), seeds)
    return runner.execute(plan, backend, **execute)


def hooked_cli(target: str, action: str, nth: int = 1, when: str = "before") -> str:
    """``python -c`` code that runs the ``initlab`` entry point with ``target`` ('module:name' or
    'module:Class.method') wrapped to run the statement ``action`` (e.g.
    ``os.kill(os.getpid(), signal.SIGINT)``) on its nth call in this process, before or after
    the call: a synchronisation point inside the real program, not a sleep."""
    return f"""
import functools, importlib, os, signal, sys
module, _, attr = {target!r}.partition(":")
owner_name, _, method = attr.partition(".")
owner = importlib.import_module(module)
if method:
    owner = getattr(owner, owner_name)
name = method or owner_name
real = getattr(owner, name)
calls = [0]

@functools.wraps(real)
def hooked(*args, **kwargs):
    calls[0] += 1
    if calls[0] == {nth} and {when!r} == "before":
        {action}
    out = real(*args, **kwargs)
    if calls[0] == {nth} and {when!r} == "after":
        {action}
    return out

setattr(owner, name, hooked)
sys.argv[0] = "initlab"
from initlab.__main__ import main
main()
"""


def load_metrics(folder: Path) -> dict:
    """The metrics.json of a results folder."""
    import json  # noqa: PLC0415

    return json.loads((folder / "metrics.json").read_text(encoding="utf-8"))


RUN_FILES = {"config.yaml", "metrics.json", "history.csv", "weights_init.npz",
             "weights_final.npz", "environment.json", "experiments.csv", "layers.csv"}
COMPARE_FILES = RUN_FILES | {"summary.csv", "pairs.csv"}


def capped_message(call: str) -> str:
    """Run the Python statement ``call`` in a fresh interpreter under a 1 GiB address-space cap
    (a hang guard as timeout); the one line of the InitlabError it raised."""
    import textwrap  # noqa: PLC0415

    code = textwrap.dedent(f"""
        import resource
        resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))
        from initlab.errors import InitlabError
        from initlab.experiments import config, datasets
        try:
            {call}
        except InitlabError as exc:
            print(exc)
    """)
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120, env=env)
    assert out.returncode == 0, out.stderr[-2000:]
    lines = out.stdout.splitlines()
    assert len(lines) == 1, out.stdout[:2000]
    return lines[0]


def gauss(f, q: float) -> float:
    """E[f(h)], h ~ N(0, q), by scipy's adaptive quadrature (split at ±1 where tanh bends): the
    tests' reference, independent of initlab's fixed-node rule."""
    from scipy import integrate

    s = math.sqrt(q)
    pieces = ((-12 * s, -1), (-1, 1), (1, 12 * s)) if s > 1 / 12 else ((-12 * s, 12 * s),)
    return sum(integrate.quad(lambda h: f(h) * math.exp(-h * h / (2 * q))
                              / math.sqrt(2 * math.pi * q), lo, hi, limit=400, epsabs=0)[0]
               for lo, hi in pieces)
