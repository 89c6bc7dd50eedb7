"""The one exception type that reaches the user as a single line and exit code 2, and the one
"did you mean" every message uses."""

from __future__ import annotations

import difflib
import itertools
import math
import reprlib
from collections.abc import Iterable
from typing import Any

SHOWN_CHARS = 80  # a bad value is quoted up to this many characters


class InitlabError(Exception):
    """A user-facing error: bad input, a missing device, an unwritable folder.

    The CLI prints ``str(err)`` on one line and exits with code 2; no traceback.
    """


class RunFailed(Exception):
    """A run that could not finish as asked although its input was good: a worker process died,
    the results could not be written. The CLI prints ``str(err)`` on one line and exits with
    code 1; what could be saved was saved.
    """


def reason(exc: BaseException) -> str:
    """Why an operation failed, in one line: an OSError's strerror, else the first line of the
    message, else the exception's type."""
    text = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    return text.splitlines()[0] if text.splitlines() else text


def suggest(word: object, choices: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` for the closest of ``choices`` to ``word``, or ''."""
    close = difflib.get_close_matches(str(word), list(choices), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


class _Short(reprlib.Repr):
    """``reprlib.Repr`` with small limits, containers walked in their own order (never sorted,
    so a huge set or dict costs no more than a small one) and subclasses of the built-in types
    treated as those types; a huge integer is described, not converted."""

    def __init__(self) -> None:
        super().__init__()
        self.maxlevel = 3
        self.maxtuple = self.maxlist = self.maxarray = self.maxdeque = 8
        self.maxdict = 4
        self.maxset = self.maxfrozenset = 6
        self.maxstring = 40
        self.maxlong = 40
        self.maxother = SHOWN_CHARS
        self.fillvalue = "…"

    def repr1(self, x: object, level: int) -> str:
        for base in (bool, int, str, bytes, bytearray, list, tuple, dict, set, frozenset):
            if isinstance(x, base):
                return getattr(self, f"repr_{base.__name__}")(x, level)
        return self.repr_instance(x, level)

    def repr_bool(self, x: bool, level: int) -> str:
        return "True" if x else "False"

    def repr_int(self, x: int, level: int) -> str:
        if x.bit_length() > 128:  # str() of a huge int is slow, and refused past 4300 digits
            return f"<integer of about {int(x.bit_length() * math.log10(2)) + 1} digits>"
        return super().repr_int(int(x), level)

    def repr_bytes(self, x: bytes | bytearray, level: int) -> str:
        text = repr(bytes(x[: self.maxstring]))
        return text[:-1] + "…" + text[-1] if len(x) > self.maxstring else text

    repr_bytearray = repr_bytes

    def _items(self, x: Any, level: int, opening: str, closing: str, limit: int) -> str:
        if not x:
            return opening + closing
        if level <= 0:
            return opening + "…" + closing
        pieces = [self.repr1(item, level - 1) for item in itertools.islice(x, limit)]
        if len(x) > limit:
            pieces.append("…")
        return opening + ", ".join(pieces) + closing

    def repr_set(self, x: set, level: int) -> str:
        return self._items(x, level, "{", "}", self.maxset) if x else "set()"

    def repr_frozenset(self, x: frozenset, level: int) -> str:
        inner = self._items(x, level, "{", "}", self.maxfrozenset) if x else ""
        return f"frozenset({inner})"

    def repr_dict(self, x: dict, level: int) -> str:
        if not x:
            return "{}"
        if level <= 0:
            return "{…}"
        pieces = [f"{self.repr1(k, level - 1)}: {self.repr1(v, level - 1)}"
                  for k, v in itertools.islice(x.items(), self.maxdict)]
        if len(x) > self.maxdict:
            pieces.append("…")
        return "{" + ", ".join(pieces) + "}"


_SHORT = _Short()


def shown(value: object) -> str:
    """A short ``repr(value)``, at most SHOWN_CHARS characters, in bounded time for any value
    (a message never embeds a huge value): containers show their first few items and three
    levels, strings and bytes their start."""
    try:
        if isinstance(value, str):  # the start of a long text, cut below
            text = repr(str(value[: SHOWN_CHARS + 1]))
        elif isinstance(value, bytes | bytearray):
            text = repr(bytes(value[: SHOWN_CHARS + 1]))
        else:  # an object's own __repr__ may span lines (numpy arrays do)
            text = " ".join(_SHORT.repr(value).splitlines())
    except Exception:  # a broken __repr__
        text = f"<{type(value).__name__} object>"
    return text if len(text) <= SHOWN_CHARS else text[:SHOWN_CHARS - 1] + "…"
