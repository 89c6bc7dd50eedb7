"""The run folder: resolved config, metrics, history, weights, environment — written atomically.

Layout of ``results/<YYYYmmdd-HHMMSS-mmm>-<name>/`` (or ``--out DIR``):
``config.yaml``, ``metrics.json``, ``history.csv``, ``experiments.csv``, ``layers.csv``,
``weights_init.npz``, ``weights_final.npz``, ``environment.json`` (and ``summary.csv``,
``pairs.csv`` for a compare; ``probe.json`` and ``probe_layers.csv`` instead of metrics, the
CSVs and weights for a probe). Every file is written to a temporary name in the same folder and
renamed, so a reader never sees half a file. What the files hold is ``records``.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import io
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

import initlab
from initlab.errors import InitlabError, RunFailed
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


def check_target(out: Path | None, overwrite: bool = False, root: Path = RESULTS) -> None:
    """InitlabError unless the run folder (``out``, or a new one under ``root``) can be written:
    a writable place, and an ``out`` that is absent or empty unless ``overwrite``; called
    before anything runs."""
    check_writable(out if out is not None else root, "--out" if out is not None else
                   "results folder")
    if out is not None:
        _check_out(out, overwrite)


class RunFolder:
    """Where a run's files are written: a hidden temporary folder beside the final one, renamed
    into place by ``commit``, so a folder under its final name is always complete; a run that
    fails, or is killed, leaves at most the hidden folder (``discard`` removes it).

    Without ``out`` the final folder is a fresh ``root/<timestamp>-<name>[-k]``. With ``out``
    (--out) it is that folder, which must be absent or empty unless ``overwrite`` — then the old
    one is replaced as a whole at commit; a lock file ``.<name>.lock`` beside it admits one run
    at a time (the second fails at once). Errors before the run are InitlabError (exit 2); errors
    while writing are RunFailed naming the path (exit 1)."""

    def __init__(self, out: Path | None, name: str, *, overwrite: bool = False,
                 root: Path = RESULTS) -> None:
        self.out, self.overwrite, self._lock = out, overwrite, None
        self._made_root = out is None and not root.exists()
        check_target(out, overwrite, root)
        if out is not None:
            self._lock = _lock(out)
            self.final = out
        else:
            stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S-%f")[:-3]
            self.final = root / f"{stamp}-{name}"
        try:
            self.final.parent.mkdir(parents=True, exist_ok=True)
            self.path = Path(tempfile.mkdtemp(prefix=f".{self.final.name}.tmp-",
                                              dir=self.final.parent))
            self.path.chmod(0o777 & ~_umask())  # as a plain mkdir would make it
        except OSError as exc:
            self._release()
            raise RunFailed(f"cannot write results to {self.final.parent}: {_why(exc)}") from None

    def __enter__(self) -> RunFolder:
        return self

    def __exit__(self, kind: Any, exc: Any, tb: Any) -> None:
        if kind is not None:
            self.discard()

    def commit(self) -> Path:
        """Rename the written folder into place; returns its final path."""
        try:
            final = self._rename_into_place()
        except OSError as exc:
            self.discard()
            raise RunFailed(f"cannot write results to {self.final}: {_why(exc)}") from None
        self._release()
        return final

    def _rename_into_place(self) -> Path:
        if self.out is not None:
            old = None
            if self.final.exists() and any(self.final.iterdir()):  # --overwrite, checked before
                old = self.final.with_name(f".{self.final.name}.old-{os.getpid()}")
                os.replace(self.final, old)
            elif self.final.exists():
                self.final.rmdir()
            os.replace(self.path, self.final)
            if old is not None:
                shutil.rmtree(old, ignore_errors=True)
            return self.final
        for k in range(1000):  # a run that started in the same millisecond took the name
            candidate = self.final if k == 0 else self.final.with_name(f"{self.final.name}-{k}")
            if candidate.exists():
                continue
            try:
                os.rename(self.path, candidate)
            except FileExistsError:
                continue
            return candidate
        raise OSError(f"no free name for {self.final}")

    def discard(self) -> None:
        """Remove the temporary folder (and a results folder this run created empty)."""
        shutil.rmtree(self.path, ignore_errors=True)
        if self._made_root:
            with contextlib.suppress(OSError):
                self.final.parent.rmdir()
        self._release()

    def _release(self) -> None:
        if self._lock is not None:
            with contextlib.suppress(OSError):
                os.close(self._lock)
            self._lock = None


def _why(exc: OSError) -> str:
    return exc.strerror or str(exc)


def _check_out(out: Path, overwrite: bool) -> None:
    if out.exists() and not out.is_dir():
        raise InitlabError(f"--out {out} is a file, not a folder")
    if out.exists() and any(out.iterdir()) and not overwrite:
        raise InitlabError(f"--out {out} exists and is not empty; give --overwrite to replace "
                           "it as a whole, or another folder")


def _lock(out: Path) -> int | None:
    """Hold ``.<name>.lock`` beside ``out`` for this run; InitlabError when another run holds
    it. None where the platform has no advisory locks."""
    try:
        import fcntl  # noqa: PLC0415 (POSIX)
    except ImportError:  # pragma: no cover - Windows
        return None
    path = out.parent / f".{out.name}.lock"
    out.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        raise InitlabError(f"--out {out}: another initlab run is writing there (it holds "
                           f"{path}); wait for it or choose another folder") from None
    return fd


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
        if hasattr(os, "fchmod"):  # POSIX; elsewhere mkstemp's mode stands
            os.fchmod(fd, 0o666 & ~_umask())
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise OSError(exc.errno, exc.strerror, str(path)) from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def finite_or_null(obj: Any) -> Any:
    """Standard JSON has no NaN/Infinity: non-finite numbers become null."""
    if isinstance(obj, float):
        return obj if np.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: finite_or_null(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [finite_or_null(v) for v in obj]
    return obj


def write_json(path: Path, obj: Any) -> None:
    """Strict JSON (NaN/inf written as null), atomically."""
    text = json.dumps(finite_or_null(obj), indent=1, allow_nan=False)
    atomic_write(path, (text + "\n").encode())


def write_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """Arrays as a compressed ``.npz``, in the given key order, atomically."""
    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays)
    atomic_write(path, buf.getvalue())


def labelled(weights: dict[str, np.ndarray], experiments: list[Any]) -> dict[str, np.ndarray]:
    """The weights ``W1, b1, …`` (experiment axis first) followed by ``init`` (E,) unicode and
    ``seed`` (E,) int64 labels of the axis, so a slice is found by its labels and the file
    loads with ``allow_pickle=False``."""
    return {**weights, "init": np.array([exp.init for exp in experiments], dtype=np.str_),
            "seed": np.array([exp.seed for exp in experiments], dtype=np.int64)}


def write_csv(path: Path, header: list[str], rows: list[list[Any]]) -> None:
    """A CSV file (header, then rows), atomically; None and non-finite numbers as empty cells."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    writer.writerows([records.cell(v) for v in row] for row in rows)
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


@contextlib.contextmanager
def _writing(folder: Path) -> Any:
    """OS errors while writing (a full disk, permissions, a name too long) → RunFailed naming
    the file."""
    try:
        yield
    except OSError as exc:
        where = exc.filename or folder
        raise RunFailed(f"cannot write {where}: {_why(exc)}") from None


def save_run(folder: Path, result: Any, config_yaml: str, env: dict[str, Any],
             extra: dict[str, Any] | None = None,
             interrupted: Callable[[], bool] = lambda: False) -> None:
    """Write every file of a run folder (each atomically); ``extra`` keys join metrics.json,
    whose status — and experiments.csv's, written just before it — comes from ``interrupted()``
    (whether a stop request came before them); its ``summary`` and ``pairs`` lists are also
    written as summary.csv and pairs.csv. layers.csv, which holds no status, comes last."""
    with _writing(folder):
        for key in ("summary", "pairs"):
            if extra and key in extra:
                write_csv(folder / f"{key}.csv", *records.rows(extra[key], key))
        atomic_write(folder / "config.yaml", config_yaml.encode())
        if result.weights_init is not None:
            experiments = result.plan.experiments
            write_npz(folder / "weights_init.npz", labelled(result.weights_init, experiments))
            write_npz(folder / "weights_final.npz", labelled(result.weights_final, experiments))
        write_csv(folder / "history.csv", records.HISTORY_HEADER, records.history_rows(result))
        write_json(folder / "environment.json", env)
        stopped = interrupted()
        record = records.metrics(result, stopped)
        write_csv(folder / "experiments.csv", records.EXPERIMENTS_HEADER,
                  records.experiment_rows(record))
        if not stopped and interrupted():  # the request came while experiments.csv was written
            record = records.metrics(result, True)
            write_csv(folder / "experiments.csv", records.EXPERIMENTS_HEADER,
                      records.experiment_rows(record))
        write_json(folder / "metrics.json", record | (extra or {}))
        write_csv(folder / "layers.csv", records.LAYERS_HEADER, records.layer_rows(record))


def save_probe(folder: Path, found: list[Any], config_yaml: str, env: dict[str, Any]) -> None:
    """Write ``config.yaml``, ``environment.json``, ``probe_layers.csv`` and ``probe.json`` (each
    atomically)."""
    with _writing(folder):
        atomic_write(folder / "config.yaml", config_yaml.encode())
        write_json(folder / "environment.json", env)
        record = records.probe_record(found)
        write_csv(folder / "probe_layers.csv", *records.probe_layer_rows(record))
        write_json(folder / "probe.json", record)
