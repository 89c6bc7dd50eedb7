"""``python -m initlab`` and the ``initlab`` console script. A Ctrl-C or SIGTERM while the
command line is still loading ends with one line and exit 130, as one later does."""

from __future__ import annotations

import signal
import sys


def _interrupted(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main() -> None:
    signal.signal(signal.SIGTERM, _interrupted)
    try:
        from initlab.cli import main as cli_main  # noqa: PLC0415 (the slow part)
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        sys.exit(130)
    cli_main()


if __name__ == "__main__":
    main()
