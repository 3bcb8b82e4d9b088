"""The operators' language for the pure-Python core: a translation hook and locale-aware number formatting.

The core never imports Qt. The UI installs a hook (``install(lambda c, t: QCoreApplication.translate(c, t))``) when it
loads a language; until then :func:`translate` returns the English source text unchanged, so the headless engine,
the command line and the tests see English.

Call ``translate("Context", "literal text")`` with literal strings, so that ``pyside6-lupdate`` extracts them; put
variable parts in ``str.format`` placeholders (``translate("Texts", "{count} devices").format(count=n)``).
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

Hook = Callable[[str, str], str]

_hook: Hook | None = None
_locale = "en"
_lock = threading.Lock()
_local = threading.local()


def translate(context: str, text: str) -> str:
    """The text in the operator's language (the English source text when no hook is installed).

    Parameters
    ----------
    context : str
        The translation context (a class or module name, e.g. ``"Texts"``).
    text : str
        The English source text, a literal.

    Returns
    -------
    str
        The translation, or ``text`` itself when there is none.
    """
    hook = _hook
    if hook is None or getattr(_local, "off", 0):
        return text
    try:
        found = hook(context, text)
    except Exception:  # a broken translator must never break the console
        return text
    return found if found else text


def QT_TRANSLATE_NOOP(context: str, text: str) -> str:  # noqa: N802 - the name pyside6-lupdate looks for
    """Mark a text for extraction without translating it now (Qt's ``QT_TRANSLATE_NOOP``): returns ``text``.

    Use it for tables of labels; translate at the point of display with ``translate(context, label)``.
    """
    del context
    return text


@contextmanager
def source_language() -> Iterator[None]:
    """Within this block (on this thread) :func:`translate` returns the English source text.

    For texts that are published, recorded or audited rather than shown: they stay in the source language whatever
    the console shows.
    """
    before = getattr(_local, "off", 0)
    _local.off = before + 1
    try:
        yield
    finally:
        _local.off = before


def install(hook: Hook | None) -> None:
    """Install the translation hook (``None`` goes back to English).

    Parameters
    ----------
    hook : callable or None
        ``hook(context, text) -> str``; typically ``QCoreApplication.translate``.
    """
    global _hook
    with _lock:
        _hook = hook


def installed() -> bool:
    """Whether a translation hook is installed."""
    return _hook is not None


def set_locale(name: str | None) -> None:
    """Set the locale used by the formatting helpers (``"en"``, ``"zh_CN"``; ``None`` is ``"en"``)."""
    global _locale
    with _lock:
        _locale = (name or "en").replace("-", "_")


def locale() -> str:
    """The locale in force for the formatting helpers."""
    return _locale


def is_chinese() -> bool:
    """Whether the locale in force is a Chinese one."""
    return _locale.lower().startswith("zh")


def format_number(value: float | None, decimals: int = 0) -> str:
    """A number with thousands grouping: ``12,345.6``; ``—`` for no value.

    Both English and Simplified Chinese use ``,`` for grouping and ``.`` for the decimal mark.
    """
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "—"
    return f"{value:,.{decimals}f}"


def format_percent(value: float | None, decimals: int = 1) -> str:
    """A ratio (0..1) as a percentage: ``97.5%``; ``—`` for no value."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "—"
    return f"{value * 100:.{decimals}f}%"


def format_duration(seconds: float | None) -> str:
    """A duration in words: ``1 h 5 min``, ``4 min 10 s``, ``12 s`` (``1小时5分``, ``4分10秒``, ``12秒`` in Chinese).

    Returns ``—`` for no value.
    """
    if seconds is None or (isinstance(seconds, float) and not math.isfinite(seconds)):
        return "—"
    total = round(abs(seconds))
    sign = "-" if seconds < 0 and total else ""
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if is_chinese():
        if hours:
            return f"{sign}{hours}小时{minutes}分" if minutes else f"{sign}{hours}小时"
        if minutes:
            return f"{sign}{minutes}分{secs}秒" if secs else f"{sign}{minutes}分钟"
        return f"{sign}{secs}秒"
    if hours:
        return f"{sign}{hours} h {minutes} min" if minutes else f"{sign}{hours} h"
    if minutes:
        return f"{sign}{minutes} min {secs} s" if secs else f"{sign}{minutes} min"
    return f"{sign}{secs} s"
