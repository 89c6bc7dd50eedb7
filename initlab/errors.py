"""The one exception type that reaches the user as a single line and exit code 2."""


class InitlabError(Exception):
    """A user-facing error: bad input, a missing device, an unwritable folder.

    The CLI prints ``str(err)`` on one line and exits with code 2; no traceback.
    """
