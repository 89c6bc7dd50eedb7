"""Training shards on several CPU cores: one forked worker process per shard, in lock-step.

Why processes and not threads: a shard makes about 40 NumPy calls per iteration, many on arrays
of a few thousand numbers, and every call takes and hands back the GIL; two threads measured only
1.2–1.5× one on the he_circles comparison, while two processes run the same work side by side.
Workers share nothing but a pipe each: the parent sends "run iterations [a, b)", every worker
answers with its logged costs, and at the end with its parameters and divergence record.

Workers ignore SIGINT, and the parent holds a Ctrl-C while it talks to them: every worker finishes
the segment in flight, so all experiments stop after the same iteration, and no pipe is left with
half a message. ``Inline`` runs a single shard in this process
(also on the GPU, and where ``fork`` is unavailable) behind the same interface.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import signal
import sys
import threading
import traceback
from collections.abc import Iterator
from typing import Any


def parallel_available() -> bool:
    """Forked workers are used on Linux only (fork is unsafe with some macOS libraries)."""
    return sys.platform.startswith("linux") and "fork" in multiprocessing.get_all_start_methods()


@contextlib.contextmanager
def deferred_sigint() -> Iterator[None]:
    """Hold a Ctrl-C until the block ends, then raise it: a KeyboardInterrupt in the middle of a
    pipe read or write would leave half a message in the pipe."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: caught.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if caught:
        raise KeyboardInterrupt


class Inline:
    """One shard, run in this process."""

    def __init__(self, shard: Any) -> None:
        self.shards = [shard]

    def advance(self, start: int, stop: int) -> None:
        self.shards[0].run(start, stop)

    def collect(self) -> None:
        """Nothing is ever owed by an inline shard."""

    def finish(self, n_iterations: int) -> None:
        shard = self.shards[0]
        shard.last_finite = shard.divergence.last_finite(n_iterations)

    def close(self) -> None:
        """Nothing to release."""


class Forked:
    """Shard i runs in forked worker i; the parent only coordinates."""

    def __init__(self, shards: list[Any]) -> None:
        ctx = multiprocessing.get_context("fork")
        self.shards, self.conns, self.procs = shards, [], []
        self.owed: list[int] = []  # workers whose answer to the last command is not read yet
        for shard in shards:
            mine, theirs = ctx.Pipe()
            proc = ctx.Process(target=_serve, args=(theirs, shard), daemon=True)
            proc.start()
            theirs.close()
            self.conns.append(mine)
            self.procs.append(proc)

    def _send_all(self, message: tuple) -> None:
        self.owed = []
        for i, conn in enumerate(self.conns):
            conn.send(message)
            self.owed.append(i)

    def _receive(self) -> list[tuple]:
        answers = {}
        while self.owed:
            i = self.owed[0]
            answer = self.conns[i].recv()
            self.owed.pop(0)
            if answer[0] == "error":
                raise RuntimeError(f"training worker {i} failed:\n{answer[1]}")
            answers[i] = answer
        return [answers[i] for i in sorted(answers)]

    def advance(self, start: int, stop: int) -> None:
        """Run iterations [start, stop) on every shard; return when all are done (a Ctrl-C
        meanwhile is raised once every worker has answered)."""
        with deferred_sigint():
            self._send_all(("run", start, stop))
            self.collect()

    def collect(self) -> None:
        """Read the answers still owed (none when a Ctrl-C came between segments)."""
        if not self.owed:
            return
        for shard, (_, costs, done) in zip(self.shards, self._receive(), strict=True):
            shard.costs.update(costs)
            shard.done = done

    def finish(self, n_iterations: int) -> None:
        """Bring every shard's parameters and divergence record back into the parent."""
        with deferred_sigint():
            self._send_all(("finish", n_iterations))
            answers = self._receive()
        for shard, (_, flat, last_finite) in zip(self.shards, answers, strict=True):
            shard.p.flat[...] = flat
            shard.last_finite = last_finite

    def close(self) -> None:
        for conn in self.conns:
            conn.close()
        for proc in self.procs:
            proc.join(timeout=5)
            if proc.is_alive():
                proc.terminate()
                proc.join()


def _serve(conn: Any, shard: Any) -> None:
    """A worker's loop: run segments until asked to finish; report failures as text."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        while True:
            message = conn.recv()
            if message[0] == "run":
                shard.run(message[1], message[2])
                conn.send(("ran", shard.costs, shard.done))
                shard.costs = {}
            else:
                conn.send(("finished", shard.p.flat,
                           shard.divergence.last_finite(message[1])))
                return
    except EOFError:  # the parent went away
        return
    except BaseException:
        conn.send(("error", traceback.format_exc()))
