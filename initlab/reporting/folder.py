"""The run folder: resolved config, metrics, history, weights, environment — written atomically.

Layout of ``results/<YYYYmmdd-HHMMSS-mmm>-<name>/`` (or ``--out DIR``):
``config.yaml``, ``metrics.json``, ``history.csv``, ``weights_init.npz``, ``weights_final.npz``,
``environment.json`` (``probe.json`` instead of metrics, history and weights for a probe). Every
file is written to a temporary name in the same folder and renamed, so a reader never sees half
a file. What the files hold is ``records``.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import platform
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

import initlab
from initlab.errors import InitlabError
from initlab.reporting import records


def _nearest_existing(path: Path) -> Path:
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def check_writable(path: Path, flag: str) -> None:
    """InitlabError unless ``path`` is (or can be created as) a writable folder."""
    existing = _nearest_existing(path.resolve())
    if existing.exists() and not existing.is_dir():
        raise InitlabError(f"cannot write results to {flag} {path}: {existing} is a file")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise InitlabError(f"cannot write results to {flag} {path}: {existing} is not writable")


RESULTS = Path("results")  # where run folders go without --out


def check_target(out: Path | None, root: Path = RESULTS) -> None:
    """InitlabError unless the run folder (``out``, or a new one under ``root``) can be written;
    called before anything runs."""
    check_writable(out if out is not None else root, "--out" if out is not None else
                   "results folder")


def create(out: Path | None, name: str, root: Path = RESULTS) -> Path:
    """The run folder, created: ``out`` as given (--out), else a new ``root/<stamp>-<name>``."""
    if out is None:
        return new_run_dir(root, name)
    out.mkdir(parents=True, exist_ok=True)
    return out


def new_run_dir(root: Path, name: str) -> Path:
    """A fresh folder ``root/<timestamp to the millisecond>-<name>[-k]`` that never collides."""
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S-%f")[:-3]
    base = root / f"{stamp}-{name}"
    for k in range(1000):
        candidate = base if k == 0 else base.with_name(f"{base.name}-{k}")
        try:
            candidate.mkdir(parents=True, exist_ok=False)
            return candidate
        except FileExistsError:
            continue
    raise InitlabError(f"could not create a fresh run folder under {root}")


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` via a temporary file in the same folder and os.replace
    (with the permissions a plain ``open`` would give: 0o666 less the umask)."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, 0o666 & ~_umask())
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _finite_or_null(obj: Any) -> Any:
    """Standard JSON has no NaN/Infinity: non-finite numbers become null."""
    if isinstance(obj, float):
        return obj if np.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: _finite_or_null(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_finite_or_null(v) for v in obj]
    return obj


def write_json(path: Path, obj: Any) -> None:
    """Strict JSON (NaN/inf written as null), atomically."""
    text = json.dumps(_finite_or_null(obj), indent=1, allow_nan=False)
    atomic_write(path, (text + "\n").encode())


def write_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays)
    atomic_write(path, buf.getvalue())


def write_csv(path: Path, header: list[str], rows: list[list[Any]]) -> None:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    atomic_write(path, buf.getvalue().encode())


def _git_state() -> dict[str, Any]:
    def git(*args: str) -> str | None:
        try:
            out = subprocess.run(["git", *args], capture_output=True, text=True, timeout=5,
                                 cwd=Path(initlab.__file__).parent)
        except (OSError, subprocess.SubprocessError):
            return None
        return out.stdout.strip() if out.returncode == 0 else None

    commit = git("rev-parse", "HEAD")
    dirty = git("status", "--porcelain")
    return {"git_commit": commit, "git_dirty": None if dirty is None else bool(dirty)}


def environment(device_label: str, overrides: list[str]) -> dict[str, Any]:
    """Versions, device, command line, overrides and git state, for ``environment.json``."""
    env: dict[str, Any] = {
        "initlab": initlab.__version__, "python": platform.python_version(),
        "numpy": np.__version__, "platform": platform.platform(), "device": device_label,
        "command": sys.argv, "overrides": overrides,
        "time": dt.datetime.now().astimezone().isoformat(timespec="milliseconds"),
    }
    if "cupy" in sys.modules:
        env["cupy"] = sys.modules["cupy"].__version__
    env.update(_git_state())
    return env


def save_run(folder: Path, result: Any, config_yaml: str, env: dict[str, Any],
             extra: dict[str, Any] | None = None) -> None:
    """Write every file of a run folder (each atomically); ``extra`` keys join metrics.json."""
    atomic_write(folder / "config.yaml", config_yaml.encode())
    if result.weights_init is not None:
        write_npz(folder / "weights_init.npz", result.weights_init)
        write_npz(folder / "weights_final.npz", result.weights_final)
    write_csv(folder / "history.csv", records.HISTORY_HEADER, records.history_rows(result))
    write_json(folder / "environment.json", env)
    write_json(folder / "metrics.json", records.metrics(result) | (extra or {}))


def save_probe(folder: Path, found: list[Any], config_yaml: str, env: dict[str, Any]) -> None:
    """Write ``config.yaml``, ``probe.json`` and ``environment.json`` (each atomically)."""
    atomic_write(folder / "config.yaml", config_yaml.encode())
    write_json(folder / "environment.json", env)
    write_json(folder / "probe.json", records.probe_record(found))
