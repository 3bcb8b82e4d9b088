"""Errors raised for bad input: each says what went wrong and where."""

from __future__ import annotations


class InputError(Exception):
    """Bad input from a file, a message or a user entry.

    Parameters
    ----------
    where
        The file, topic or field the input came from (with a line or entity when known).
    what
        What is wrong with it, in words an operator understands.
    """

    def __init__(self, where: str, what: str) -> None:
        super().__init__(f"{where}: {what}")
        self.where = where
        self.what = what


class CancelledError(Exception):
    """A long task stopped because the user cancelled it (raised from its progress callback)."""
