"""The console as a control-room product: one view state, wall mode, layouts, language, shortcuts, DPI picking,
and the command line's --select and --screenshot that never wait for what cannot come."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication, QPushButton

from tests.conftest import DATA
from tests.ui.conftest import load_into
from twin_app.core.model import Category
from twin_app.ui import settings
from twin_app.ui.main_window import MainWindow

ROOT = Path(__file__).resolve().parents[2]


def _has_cjk(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


def test_the_view_state_drives_the_scene_the_tree_and_the_docks(qtbot, window, small_district) -> None:
    load_into(qtbot, window, small_district.ifc_path)
    model = window.model
    room = int(model.of_class("IfcSpace")[0])
    with qtbot.waitSignal(window.selection_changed, timeout=5000):
        window.view.selected = room  # set in the state, not through the window
    assert window.scene.selected == room
    assert int(window.tree.currentIndex().internalId()) == room  # the tree follows
    assert window.property_panel.value("Element", "GlobalId") == model.global_id[room]  # the properties follow
    assert str(model.global_id[room]) in window.selection_label.text()
    window.view.xray = True
    assert window.xray_action.isChecked()
    window.view.set_category_shown(Category.SPACES.name, False)
    assert not window.category_actions[Category.SPACES].isChecked()
    spaces = window.scene.layers[Category.SPACES] if hasattr(window.scene, "layers") else None
    if spaces is not None:
        assert not spaces.actor.GetVisibility()
    window.category_actions[Category.SPACES].setChecked(True)  # the menu writes the state back
    assert Category.SPACES.name not in window.view.hidden_categories
    storey = int(model.storey[room])
    window.view.focus_storey = storey
    assert window.scene.focus_storey == storey
    window.view.section_height = 3.0
    assert window.section_action.isChecked() and window.section_height.value() == pytest.approx(3.0)
    window.view.section_height = None
    assert not window.section_action.isChecked()
    window.view.selected = -1
    assert window.scene.selected == -1 and not window.tree.currentIndex().isValid()


def test_the_board_counts_come_from_the_view_state(qtbot, window) -> None:
    from twin_app.core.wall import WallFigures

    window.view.board = WallFigures(critical=2, high=1, medium=0, low=3, open_orders=4, overdue_orders=1)
    assert "◆◆ 2" in window.alarm_label.text() and "● 3" in window.alarm_label.text()
    assert window.kpi_overlay.tile_text("overdue_orders")[1] == "1"


def test_layouts_are_saved_per_mode_and_reset(qtbot, small_district) -> None:
    first = MainWindow(size=(1400, 850))
    qtbot.addWidget(first)
    first.show()
    qtbot.waitExposed(first)
    first.property_panel.hide()
    first.legend.hide()
    first.close()
    second = MainWindow(size=(1400, 850))
    qtbot.addWidget(second)
    second.show()
    qtbot.waitExposed(second)
    assert not second.property_panel.isVisible() and not second.legend.isVisible()  # restored
    assert not second.timeline.isVisible()  # the replay's dock shows only in a replay, whatever a layout says
    assert second.incident_dock.isVisible()
    second.reset_layout()
    assert second.property_panel.isVisible() or second.incident_detail.isVisible()  # tabbed together
    assert second.legend.isVisible()
    assert settings.load_layout("normal") is None  # forgotten
    second.close()
    # a layout of another version is ignored, never restored wrong
    store = settings.settings()
    store.setValue("layout/normal/version", settings.LAYOUT_VERSION + 1)
    store.setValue("layout/normal/state", b"garbage")
    store.sync()
    assert settings.load_layout("normal") is None


def test_wall_mode_on_the_chosen_screen_and_its_fallback(qtbot, window) -> None:
    name = QGuiApplication.primaryScreen().name()
    window.set_wall(True, screen=name)
    qtbot.waitUntil(window.isFullScreen, timeout=5000)
    assert window.view.wall and window.wall_action.isChecked()
    assert window.wall_screen_used == name
    assert window.kpi_overlay.isVisible()
    assert not window.tree_dock.isVisible() and window.incident_dock.isVisible()
    assert settings.value("wall/screen") == name  # remembered by name
    window.property_panel.show()  # the operator's own wall layout ...
    window.set_wall(False)
    qtbot.waitUntil(lambda: not window.isFullScreen(), timeout=5000)
    assert window.tree_dock.isVisible() and not window.kpi_overlay.isVisible()
    window.set_wall(True)  # ... comes back with the wall
    assert window.property_panel.isVisible()
    window.set_wall(False)
    window.set_wall(True, screen="HDMI-9-not-here")  # the wall's screen is gone: the primary, with a message
    assert window.wall_screen_used == name
    message = window.statusBar().currentMessage()
    assert "HDMI-9-not-here" in message and name in message
    window.set_wall(False)


def test_wall_scale_follows_the_screen(qtbot, window) -> None:
    from twin_app.ui.screens import ui_scale

    window.set_wall(True)
    assert window.view.scale == pytest.approx(ui_scale(QGuiApplication.primaryScreen()))
    window.view.scale = 2.0  # a 3840×2160 wall: the same layout at twice the pixels
    assert window.kpi_overlay.scale == pytest.approx(2.0)
    assert QApplication.instance().font().pointSizeF() > 14
    window.view.scale = 1.0
    window.set_wall(False)


def test_language_switches_at_run_time(qtbot, window) -> None:
    assert window.file_menu.title() == "&File"
    window.view.language = "zh_CN"
    qtbot.waitUntil(lambda: _has_cjk(window.file_menu.title()), timeout=5000)
    assert _has_cjk(window.wall_action.text()) and _has_cjk(window.xray_action.toolTip())
    assert _has_cjk(window.windowTitle())
    assert settings.value("language") == "zh_CN"
    window.view.language = "en"
    qtbot.waitUntil(lambda: window.file_menu.title() == "&File", timeout=5000)
    assert window.wall_action.text() == "&Wall mode"


def test_keyboard_shortcuts_act_and_are_listed(qtbot, window, small_district) -> None:
    load_into(qtbot, window, small_district.ifc_path)
    window.activateWindow()
    QApplication.setActiveWindow(window)
    qtbot.waitUntil(window.isActiveWindow, timeout=5000)
    window.select_element(int(window.model.of_class("IfcSpace")[0]))
    qtbot.keyClick(window, Qt.Key.Key_X)
    assert window.view.xray
    qtbot.keyClick(window, Qt.Key.Key_X)
    assert not window.view.xray
    window.show_shortcuts()
    rows = window.shortcuts_dialog.rows()
    texts = {text: key for _group, text, key in rows} if rows and len(rows[0]) == 3 else dict(rows)
    assert texts.get("X-ray") == "X" and texts.get("Wall mode") == "F11"
    assert len(texts) >= 12
    window.shortcuts_dialog.close()
    qtbot.keyClick(window, Qt.Key.Key_F11)
    assert window.view.wall
    qtbot.keyClick(window, Qt.Key.Key_F11)
    assert not window.view.wall


PICK_SCRIPT = textwrap.dedent("""
    import sys
    from pathlib import Path
    from PySide6.QtCore import QPoint, Qt, QTimer
    from PySide6.QtWidgets import QApplication, QPushButton
    from PySide6.QtTest import QTest
    from twin_app.ui.app import configure_rendering
    from twin_app.ui.main_window import MainWindow

    def pick() -> None:
        model = window.model
        storey = int(model.of_class("IfcBuildingStorey")[2])
        window.select_element(storey)
        window.scene.camera_plan(storey)
        window.render_now()
        app.processEvents()
        hits = 0
        rooms = [int(i) for i in model.of_class("IfcSpace") if int(model.storey[i]) == storey][:3]
        for room in rooms:
            b = model.element_bounds(room)
            centre = (b[:3] + b[3:]) / 2
            r = window.plotter.renderer
            r.SetWorldPoint(*centre, 1.0)
            r.WorldToDisplay()
            x, y, _ = r.GetDisplayPoint()
            ratio = window.plotter.devicePixelRatioF()
            pos = QPoint(round(x / ratio), round(window.plotter.height() - y / ratio))
            QTest.mousePress(window.plotter, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, pos)
            QTest.mouseRelease(window.plotter, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, pos)
            app.processEvents()
            hits += window.selected == room
        print("RATIO", window.plotter.devicePixelRatioF(), "HITS", hits, "OF", len(rooms), flush=True)
        app.quit()

    if __name__ == "__main__":  # the loader's child process imports this file again: nothing to run there
        configure_rendering()
        app = QApplication(sys.argv[:1])
        window = MainWindow(size=(1200, 800))
        window.show()
        window.model_ready.connect(lambda: QTimer.singleShot(200, pick))
        window.load_failed.connect(lambda message: (print("FAILED", message, flush=True), app.exit(1)))
        QTimer.singleShot(120_000, lambda: app.exit(3))
        window.start_loading(Path(__IFC__), {})
        code = app.exec()
        window.close()
        sys.exit(code)
""")



@pytest.mark.parametrize("factor", ["1", "1.25", "1.5", "2"])
def test_picking_lands_under_the_cursor_at_every_display_scaling(small_district, tmp_path, factor) -> None:
    script = tmp_path / "pick.py"
    script.write_text(PICK_SCRIPT.replace("__IFC__", repr(str(small_district.ifc_path))))
    env = {**os.environ, "QT_SCALE_FACTOR": factor, "PYTHONPATH": str(ROOT)}
    run = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=300, env=env,
                         cwd=ROOT)
    assert run.returncode == 0, run.stderr[-3000:]
    line = next(x for x in run.stdout.splitlines() if x.startswith("RATIO"))
    _, ratio, _, hits, _, total = line.split()
    assert float(ratio) == pytest.approx(float(factor), rel=0.01)
    assert int(total) >= 2 and int(hits) == int(total), line


def _twin_app(*args: str, timeout: float = 300) -> tuple[subprocess.CompletedProcess, float]:
    start = time.monotonic()
    run = subprocess.run([sys.executable, "-m", "twin_app", *args], capture_output=True, text=True,
                         timeout=timeout, cwd=ROOT)
    return run, time.monotonic() - start


def test_a_wrong_select_exits_2_naming_close_matches(small_district, tmp_path) -> None:
    run, _ = _twin_app("--ifc", str(small_district.ifc_path), "--no-telemetry", "--select", "T01-02F-A01",
                       "--screenshot", str(tmp_path / "never.png"))
    assert run.returncode == 2, run.stderr
    assert "no such element" in run.stderr and "close matches:" in run.stderr
    assert "T01-2F-A01" in run.stderr.split("close matches:")[1]
    assert "Traceback" not in run.stderr


def test_a_screenshot_without_a_registry_never_waits_for_telemetry(tmp_path) -> None:
    ifc = tmp_path / "model.ifc"
    ifc.write_bytes((DATA / "Duplex_A_20110907.ifc").read_bytes())  # no devices.parquet beside it
    png = tmp_path / "shot.png"
    run, seconds = _twin_app("--ifc", str(ifc), "--screenshot", str(png))
    assert run.returncode == 0, run.stderr
    assert png.is_file() and png.stat().st_size > 10_000
    assert "without live telemetry" in run.stderr
    assert seconds < 60


def test_a_screenshot_with_a_damaged_registry_shows_the_model_and_says_why(tmp_path) -> None:
    ifc = tmp_path / "model.ifc"
    ifc.write_bytes((DATA / "Duplex_A_20110907.ifc").read_bytes())
    (tmp_path / "devices.parquet").write_bytes(b"PAR1 this is not a parquet file")
    png = tmp_path / "shot.png"
    run, seconds = _twin_app("--ifc", str(ifc), "--screenshot", str(png))
    assert run.returncode == 0, run.stderr
    assert png.is_file()
    assert "devices.parquet" in run.stderr and "without live telemetry" in run.stderr
    assert "Traceback" not in run.stderr and seconds < 60


def test_an_empty_registry_shows_the_model_and_says_why(tmp_path) -> None:
    import pandas as pd

    ifc = tmp_path / "model.ifc"
    ifc.write_bytes((DATA / "Duplex_A_20110907.ifc").read_bytes())
    pd.DataFrame({"device_id": pd.Series([], dtype=str)}).to_parquet(tmp_path / "devices.parquet")
    png = tmp_path / "shot.png"
    run, seconds = _twin_app("--ifc", str(ifc), "--screenshot", str(png))
    assert run.returncode == 0, run.stderr
    assert png.is_file() and "without live telemetry" in run.stderr and seconds < 60


def test_fly_to_an_element_frames_it(qtbot, window) -> None:
    load_into(qtbot, window, DATA / "Duplex_A_20110907.ifc")
    scene = window.scene
    door = int(window.model.of_class("IfcDoor")[0])
    window.select_element(door, fly=True)
    window.render_now()
    assert scene.projected_extent(door) >= 0.25
    assert np.isfinite(scene.projected_extent(door))


def test_a_long_load_shows_progress_and_can_be_cancelled(qtbot, window, tmp_path) -> None:
    import multiprocessing

    ifc = tmp_path / "fresh.ifc"  # a path not in the cache: it is tessellated in a worker process
    ifc.write_bytes((DATA / "Duplex_A_20110907.ifc").read_bytes() + b"\n")
    window.start_loading(ifc, {})
    qtbot.waitUntil(lambda: window.progress_bar.value() > 0, timeout=60_000)  # tessellating, with progress
    with qtbot.waitSignal(window.load_cancelled, timeout=60_000):
        window.progress_dialog.findChild(QPushButton).click()  # the dialog's Cancel button
    assert window.model is None and window.progress_dialog is None
    assert "cancelled" in window.progress_label.text().lower()
    qtbot.waitUntil(lambda: not multiprocessing.active_children(), timeout=10_000)  # the worker is gone
    load_into(qtbot, window, DATA / "Duplex_A_20110907.ifc")  # and the next load works
    assert window.model is not None


def test_chinese_names_are_drawn_in_the_tree_not_boxes(qtbot, window) -> None:
    from PySide6.QtGui import QImage, QPainter

    from twin_app.ui.app import register_fonts

    assert register_fonts() is not None  # Noto Sans CJK (fonts-noto-cjk) is there and Qt has it
    load_into(qtbot, window, DATA / "mumianling_zh.ifc")
    names = {str(n) for n in window.model.name}
    assert "木棉岭社区 1栋" in names
    building = int(window.model.of_class("IfcBuilding")[0])
    window.select_element(building)
    assert window.tree.currentIndex().data().startswith("木棉岭社区 1栋")  # the tree shows the name as it is
    font = window.tree.font()

    def ink(text: str) -> bytes:
        image = QImage(64, 64, QImage.Format.Format_Grayscale8)
        image.fill(0)
        painter = QPainter(image)
        painter.setFont(font)
        painter.setPen(Qt.GlobalColor.white)
        painter.drawText(image.rect(), Qt.AlignmentFlag.AlignCenter, text)
        painter.end()
        return bytes(image.constBits())

    glyphs = [ink(ch) for ch in "木棉岭栋"]
    assert all(any(g) for g in glyphs)  # each character leaves ink
    assert len(set(glyphs)) == len(glyphs)  # and no two look alike (missing glyphs are identical boxes)
