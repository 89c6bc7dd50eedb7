"""One interrupt policy: SIGINT and SIGTERM alike, and once training has started, a request to
stop rather than an exception.

Outside ``stop_requests()`` both signals raise ``KeyboardInterrupt`` (``raise_on_signals``
makes SIGTERM do what Ctrl-C does): nothing has finished, so nothing is kept. Inside it — from the
start of training to the end of the save — a signal only sets a flag. The training loop reads it
between segments (``requested``), so every experiment stops after the same iteration, and the
statistics, accuracies and the save that follow run to completion; further signals change
nothing. Signals can be caught only in the main thread; elsewhere the context is a no-op.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator

SIGNALS = (signal.SIGINT, signal.SIGTERM)
_received: list[int] = []  # signals received inside stop_requests(), in order
_depth = [0]  # nesting of stop_requests()


def requested() -> bool:
    """True once a SIGINT or SIGTERM arrived inside ``stop_requests()``."""
    return bool(_received)


def received() -> int | None:
    """The first signal received inside ``stop_requests()``, or None."""
    return _received[0] if _received else None


def _note(signum: int, frame: object) -> None:
    _received.append(signum)


def _raise(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def raise_on_signals() -> None:
    """SIGTERM (how schedulers stop jobs) raises KeyboardInterrupt, as Ctrl-C does."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _raise)


@contextlib.contextmanager
def stop_requests() -> Iterator[None]:
    """Inside the block, SIGINT and SIGTERM set ``requested()`` instead of raising; the flag is
    cleared when the outermost block is entered. Nesting is allowed."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    if _depth[0] == 0:
        _received.clear()
    _depth[0] += 1
    previous = {s: signal.signal(s, _note) for s in SIGNALS}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
        _depth[0] -= 1
