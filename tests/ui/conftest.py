"""A real console window for the UI tests, and loading a model into it."""

from __future__ import annotations

import gc
from pathlib import Path

import pytest

from twin_app.ui.app import configure_rendering
from twin_app.ui.main_window import MainWindow


@pytest.fixture
def window(qtbot):
    """An empty main window, shown (under Xvfb in CI)."""
    configure_rendering()
    win = MainWindow(size=(1400, 850))
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    yield win
    win.close()
    gc.collect()  # on this (the GUI) thread: nothing of this window is left for a worker thread to free


@pytest.fixture
def small_window(qtbot, small_district):
    """A shown main window with the small generated district loaded."""
    configure_rendering()
    win = MainWindow(size=(1400, 850))
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    with qtbot.waitSignal(win.model_ready, timeout=120_000):
        win.start_loading(small_district.ifc_path, {})
    yield win
    win.close()
    gc.collect()


def load_into(qtbot, window: MainWindow, path: Path | None, timeout: int = 120_000, **district) -> None:
    """Load a model (or the generated district when `path` is None) and wait until it is drawn."""
    with qtbot.waitSignal(window.model_ready, timeout=timeout):
        window.start_loading(path, district)
    window.render_now()
