"""Training shards on several CPU cores: one worker process per shard, in lock-step.

Why processes and not threads: a shard makes about 40 NumPy calls per iteration, many on arrays
of a few thousand numbers, and every call takes and hands back the GIL; two threads measured only
1.2–1.5× one on the he_circles comparison, while two processes run the same work side by side.
Workers share nothing but a pipe each: the parent sends "run iterations [a, b)", every worker
answers with its logged costs, and at the end with its parameters and divergence record.

Start method: ``fork`` on Linux (instant), ``spawn`` elsewhere (macOS, Windows): a worker builds
its shard from a picklable ``spec`` with ``build(spec)``, so both work the same way.

Lifetime: workers ignore SIGINT and SIGTERM (the parent decides when to stop: see
``initlab.engine.interrupts``), write nothing to the terminal, and die with the parent: each
closes the parent's ends of every pipe it inherited, so a dead parent is an end-of-file, and on
Linux the kernel also kills it (PR_SET_PDEATHSIG). A worker that dies — the OOM killer's
SIGKILL, a crash — is reported as ``WorkerLost`` once the others have answered; their shards are
still brought back. ``Inline`` runs a single shard in this process behind the same interface.
"""

from __future__ import annotations

import contextlib
import ctypes
import multiprocessing
import os
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable
from typing import Any

_PR_SET_PDEATHSIG = 1
WATCH_PARENT_S = 0.5  # how often a worker without PR_SET_PDEATHSIG checks its parent is alive


def start_method() -> str:
    """'fork' on Linux, where it is safe and instant; 'spawn' elsewhere."""
    methods = multiprocessing.get_all_start_methods()
    return "fork" if sys.platform.startswith("linux") and "fork" in methods else "spawn"


def parallel_available() -> bool:
    """Whether shards can run in worker processes here (always, by fork or spawn)."""
    return start_method() in multiprocessing.get_all_start_methods()


class WorkerLost(RuntimeError):
    """Worker processes died; ``lost`` maps their index to the signal that killed them (None: an
    exit code or an error)."""

    def __init__(self, lost: dict[int, int | None], detail: str = "") -> None:
        self.lost = lost
        self.detail = detail
        super().__init__(self.describe())

    def describe(self) -> str:
        parts = []
        for i, signum in sorted(self.lost.items()):
            if signum == signal.SIGKILL:
                parts.append(f"worker {i} was killed (SIGKILL) — out of memory?")
            elif signum is not None:
                parts.append(f"worker {i} was killed ({signal.Signals(signum).name})")
            else:
                parts.append(f"worker {i} failed{': ' + self.detail if self.detail else ''}")
        return "; ".join(parts)


class Inline:
    """One shard, run in this process."""

    def __init__(self, shard: Any) -> None:
        self.shards = [shard]
        self.lost: dict[int, int | None] = {}

    def advance(self, start: int, stop: int) -> None:
        self.shards[0].run(start, stop)

    def finish(self, n_iterations: int) -> None:
        shard = self.shards[0]
        shard.last_finite = shard.divergence.last_finite(n_iterations)

    def close(self) -> None:
        """Nothing to release."""


class Forked:
    """Shard i runs in worker process i (built there by ``build(specs[i])``); the parent only
    coordinates. ``shards[i]`` is the parent's copy, updated with what worker i reports."""

    def __init__(self, shards: list[Any], build: Callable[[Any], Any], specs: list[Any]) -> None:
        method = start_method()
        ctx = multiprocessing.get_context(method)
        self.shards, self.conns, self.procs = shards, [], []
        self.lost: dict[int, int | None] = {}
        self.detail = ""
        for spec in specs:
            mine, theirs = ctx.Pipe()
            inherited = [*self.conns, mine] if method == "fork" else []
            proc = ctx.Process(target=_serve, args=(theirs, build, spec, os.getpid(), inherited),
                               daemon=True)
            proc.start()
            theirs.close()
            self.conns.append(mine)
            self.procs.append(proc)

    def _exchange(self, message: tuple) -> dict[int, tuple]:
        """Send ``message`` to every live worker and read every answer; workers that died are
        added to ``lost``."""
        for i, conn in enumerate(self.conns):
            if i not in self.lost:
                try:
                    conn.send(message)
                except (BrokenPipeError, ConnectionResetError):
                    self._lose(i)
        answers = {}
        for i, conn in enumerate(self.conns):
            if i in self.lost:
                continue
            try:
                answer = conn.recv()
            except (EOFError, ConnectionResetError):
                self._lose(i)
                continue
            if answer[0] == "error":
                self.lost[i], self.detail = None, answer[1].strip().splitlines()[-1]
                continue
            answers[i] = answer
        return answers

    def _lose(self, i: int) -> None:
        proc = self.procs[i]
        proc.join(timeout=5)
        code = proc.exitcode
        self.lost[i] = -code if code is not None and code < 0 else None

    def advance(self, start: int, stop: int) -> None:
        """Run iterations [start, stop) on every shard; return when all have answered. A lost
        worker raises WorkerLost after the others' answers are in."""
        before = len(self.lost)
        for i, (_, costs, done) in self._exchange(("run", start, stop)).items():
            self.shards[i].costs.update(costs)
            self.shards[i].done = done
        if len(self.lost) > before:
            raise WorkerLost(dict(self.lost), self.detail)

    def finish(self, n_iterations: int) -> None:
        """Bring every live shard's parameters and divergence record back into the parent."""
        for i, (_, flat, last_finite) in self._exchange(("finish", n_iterations)).items():
            self.shards[i].p.flat[...] = flat
            self.shards[i].last_finite = last_finite

    def close(self) -> None:
        for conn in self.conns:
            conn.close()
        for proc in self.procs:
            proc.join(timeout=5)
            if proc.is_alive():
                proc.kill()
                proc.join()


def _die_with_parent(parent: int) -> None:
    """Linux: the kernel sends SIGKILL when the parent dies; elsewhere a watchdog thread."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) == 0:
            if os.getppid() != parent:  # the parent died before prctl took effect
                os._exit(1)
            return
    except (AttributeError, OSError):
        pass

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(WATCH_PARENT_S)
        os._exit(1)

    threading.Thread(target=watch, daemon=True).start()


def _serve(conn: Any, build: Callable[[Any], Any], spec: Any, parent: int,
           inherited: list[Any]) -> None:
    """A worker's loop: build the shard, run segments until asked to finish; report failures as
    text. Ends quietly when the parent goes away."""
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, signal.SIG_IGN)
    for other in inherited:  # the parent's ends of the pipes: only the parent may hold them
        other.close()
    _die_with_parent(parent)
    with open(os.devnull, "w") as devnull, contextlib.suppress(OSError):
        os.dup2(devnull.fileno(), 1)  # a worker never writes to the terminal or a pipe
    try:
        shard = build(spec)
        while True:
            message = conn.recv()
            if message[0] == "run":
                shard.run(message[1], message[2])
                conn.send(("ran", shard.costs, shard.done))
                shard.costs = {}
            else:
                conn.send(("finished", shard.p.flat, shard.divergence.last_finite(message[1])))
                return
    except (EOFError, BrokenPipeError):  # the parent went away
        return
    except BaseException:
        with contextlib.suppress(OSError):
            conn.send(("error", traceback.format_exc()))
