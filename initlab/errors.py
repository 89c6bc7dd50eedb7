"""The one exception type that reaches the user as a single line and exit code 2, and the one
"did you mean" every message uses."""

from __future__ import annotations

import difflib
from collections.abc import Iterable

SHOWN_CHARS = 80  # a bad value is quoted up to this many characters


class InitlabError(Exception):
    """A user-facing error: bad input, a missing device, an unwritable folder.

    The CLI prints ``str(err)`` on one line and exits with code 2; no traceback.
    """


def suggest(word: object, choices: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` for the closest of ``choices`` to ``word``, or ''."""
    close = difflib.get_close_matches(str(word), list(choices), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def shown(value: object) -> str:
    """``repr(value)`` cut to SHOWN_CHARS characters (a message never embeds a huge value)."""
    text = repr(value)
    return text if len(text) <= SHOWN_CHARS else text[:SHOWN_CHARS - 1] + "…"
