"""The console's own settings on this machine: language, theme, wall screen, window layouts per mode.

Stored with QSettings (the platform's place: ``~/.config/Mumianling/twin-app.conf`` on Linux, the registry on
Windows); ``$TWIN_APP_SETTINGS`` names an INI file instead (tests, kiosks). Layouts carry a version: a layout
saved by an older build (other docks) is ignored rather than restored wrong.
"""

from __future__ import annotations

import os

from PySide6.QtCore import QByteArray, QSettings

LAYOUT_VERSION = 3  # raise when docks or toolbars change: older saved layouts are then ignored
MODES = ("normal", "wall")


def settings() -> QSettings:
    """The settings store ($TWIN_APP_SETTINGS as an INI file, else the platform's place)."""
    path = os.environ.get("TWIN_APP_SETTINGS")
    if path:
        return QSettings(path, QSettings.Format.IniFormat)
    return QSettings(QSettings.Format.NativeFormat, QSettings.Scope.UserScope, "Mumianling", "twin-app")


def value(key: str, default: str | None = None) -> str | None:
    """A text setting (None or `default` when unset)."""
    raw = settings().value(key, default)
    return None if raw is None else str(raw)


def set_value(key: str, text: str | None) -> None:
    """Store a text setting (None removes it)."""
    store = settings()
    if text is None:
        store.remove(key)
    else:
        store.setValue(key, text)
    store.sync()


def save_layout(mode: str, geometry: QByteArray, state: QByteArray) -> None:
    """Store a mode's window geometry and dock layout."""
    store = settings()
    store.beginGroup(f"layout/{mode}")
    store.setValue("version", LAYOUT_VERSION)
    store.setValue("geometry", geometry)
    store.setValue("state", state)
    store.endGroup()
    store.sync()


def load_layout(mode: str) -> tuple[QByteArray, QByteArray] | None:
    """A mode's saved geometry and dock layout; None when none was saved by this layout version."""
    store = settings()
    store.beginGroup(f"layout/{mode}")
    try:
        if str(store.value("version", "")) != str(LAYOUT_VERSION):
            return None
        geometry, state = store.value("geometry"), store.value("state")
    finally:
        store.endGroup()
    if not isinstance(geometry, QByteArray) or not isinstance(state, QByteArray):
        return None
    return geometry, state


def forget_layouts() -> None:
    """Remove every saved layout (Reset layout)."""
    store = settings()
    store.remove("layout")
    store.sync()
