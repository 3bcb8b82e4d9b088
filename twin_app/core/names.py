"""Names that become MQTT topic levels, alarm ids or database keys.

A string from outside (an event id, a console name, a device id in a registry) becomes a topic level only when it
matches `SAFE_NAME`: letters, digits and ``_ . : -``, at most 128 characters. Everything else (``#``, ``+``,
``/``, NUL, lone surrogates, 70 kB strings) is refused with a message, never passed on.
"""

from __future__ import annotations

import re

from twin_app.core.errors import InputError

SAFE_NAME = re.compile(r"[A-Za-z0-9_.:\-]{1,128}")
SAFE_REFERENCE = re.compile(r"[A-Za-z0-9_.:$\-]{1,128}")  # a name, or an IFC GlobalId (which also uses $)
MAX_TEXT = 2000


def is_safe_name(text: object) -> bool:
    """True when `text` is a string that may be used as a topic level or id."""
    return isinstance(text, str) and SAFE_NAME.fullmatch(text) is not None


def safe_name(text: object, where: str) -> str:
    """`text` when it is a safe name, else `InputError` saying what is allowed."""
    if not is_safe_name(text):
        shown = repr(text)[:60] if isinstance(text, str) else type(text).__name__
        raise InputError(where, f"{shown} is not a valid name (1 to 128 letters, digits, '_', '.', ':' or '-')")
    return text  # type: ignore[return-value]


def short_text(text: object, where: str, limit: int = MAX_TEXT, required: bool = False) -> str:
    """A free text from outside: a string of at most `limit` characters, without lone surrogates."""
    if text is None and not required:
        return ""
    if not isinstance(text, str):
        raise InputError(where, f"must be text, got {type(text).__name__}")
    if len(text) > limit:
        raise InputError(where, f"text of {len(text):,} characters exceeds {limit:,}")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise InputError(where, "text holds characters that are not valid Unicode") from None
    if required and not text.strip():
        raise InputError(where, "must not be empty")
    return text.strip()
