"""Cyclic garbage collection on the GUI thread only.

Qt and VTK objects must be destroyed on the thread that owns them. Python's automatic collector runs on
whichever thread happens to allocate (the loader thread, paho's network thread) and can free a widget or a
render window there, which crashes the process. So automatic collection is switched off while a window
exists, and a timer collects on the GUI thread instead.
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QCoreApplication, QObject, QTimer

YOUNG_EVERY_MS = 500
FULL_EVERY = 40  # a full collection every 20 s


class GuiThreadCollector(QObject):
    """Owns the collection timer; one per application."""

    def __init__(self, parent: QObject) -> None:
        super().__init__(parent)
        self._ticks = 0
        self._timer = QTimer(self)
        self._timer.setInterval(YOUNG_EVERY_MS)
        self._timer.timeout.connect(self._collect)
        self._timer.start()

    def _collect(self) -> None:
        self._ticks += 1
        gc.collect(2 if self._ticks % FULL_EVERY == 0 else 0)


def collect_on_gui_thread() -> None:
    """Switch automatic collection off and collect on the GUI thread's timer (idempotent)."""
    app = QCoreApplication.instance()
    if app is None or getattr(app, "_twin_app_collector", None) is not None:
        return
    gc.collect()
    gc.disable()
    app._twin_app_collector = GuiThreadCollector(app)
