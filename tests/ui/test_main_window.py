"""The console window (pytest-qt, a real window under Xvfb): loading, tree and 3D selection in sync."""

from __future__ import annotations

import subprocess
import sys
import time

import numpy as np
from PySide6.QtCore import QPoint, Qt, QTimer

from tests.ui.conftest import load_into as _load
from twin_app.core.model import Category
from twin_app.ui.main_window import MainWindow


def _display_xy(window: MainWindow, world: np.ndarray) -> tuple[float, float]:
    renderer = window.plotter.renderer
    renderer.SetWorldPoint(*world, 1.0)
    renderer.WorldToDisplay()
    x, y, _ = renderer.GetDisplayPoint()
    return x, y


def test_window_shows_the_model_tree_and_status(qtbot, window, small_district) -> None:
    _load(qtbot, window, small_district.ifc_path)
    model = window.model
    assert model is not None and window.scene is not None
    tree = window.tree_model
    assert tree.rowCount() == 1  # the site
    site = tree.index(0, 0)
    assert "Mumianling" in tree.data(site)
    assert [tree.data(tree.index(r, 0, site)) for r in range(tree.rowCount(site))] == [
        "T01 (Mumianling Tower 01)", "T02 (Mumianling Tower 02)"]
    building = tree.index(0, 0, site)
    storeys = [tree.data(tree.index(r, 0, building)) for r in range(tree.rowCount(building))]
    assert storeys[:3] == ["B2 (T01 B2)", "B1 (T01 B1)", "1F (T01 1F)"]
    assert "2 buildings" in window.model_label.text() and "devices" in window.model_label.text()
    assert not window.progress_bar.isVisible()


def test_click_a_room_in_3d_selects_it_in_the_tree(qtbot, window, small_district) -> None:
    _load(qtbot, window, small_district.ifc_path)
    model = window.model
    storey = int(next(i for i in model.of_class("IfcBuildingStorey")
                      if model.name[i] == "3F" and model.name[model.building[i]] == "T02"))
    window.tree.setCurrentIndex(window.tree_model.index_of_element(storey))  # the operator picks 3F in the tree
    assert window.scene.focus_storey == storey
    window.render_now()
    room = int(next(i for i in np.flatnonzero(model.storey == storey)
                    if model.ifc_class[i] == "IfcSpace" and model.name[i].endswith("-A03")))
    bounds = model.element_bounds(room)
    x, y = _display_xy(window, np.array([(bounds[0] + bounds[3]) / 2, (bounds[1] + bounds[4]) / 2, bounds[5]]))
    widget = window.plotter
    ratio = widget.devicePixelRatioF()
    pos = QPoint(round(x / ratio), round(widget.height() - y / ratio))
    with qtbot.waitSignal(window.selection_changed, timeout=5000) as blocker:
        qtbot.mousePress(widget, Qt.MouseButton.LeftButton, pos=pos)
        qtbot.mouseRelease(widget, Qt.MouseButton.LeftButton, pos=pos)
    assert blocker.args == [room]
    current = window.tree.currentIndex()
    assert current.isValid() and int(current.internalId()) == room
    assert window.tree.isExpanded(current.parent())
    assert room_name_in(window.selection_label.text(), model.name[room])
    assert "devices" in window.selection_label.text()


def room_name_in(text: str, name: str) -> bool:
    return str(name) in text


def test_select_in_tree_highlights_in_3d(qtbot, window, small_district) -> None:
    _load(qtbot, window, small_district.ifc_path)
    model = window.model
    fan = int(model.of_class("IfcFan")[0])
    window.tree.setCurrentIndex(window.tree_model.index_of_element(fan))
    assert window.scene.selected == fan
    assert "highlight" in window.plotter.actors
    assert window.scene.focus_storey == model.storey[fan]
    equipment = window.scene.layers[Category.EQUIPMENT]
    assert fan in set(equipment.mesh.cell_element[equipment.visible].tolist())
    # the camera flew to it: the fan projects inside the view
    x, y = _display_xy(window, model.element_bounds(fan)[:3])
    ratio = window.plotter.devicePixelRatioF()
    assert 0 <= x <= window.plotter.width() * ratio and 0 <= y <= window.plotter.height() * ratio
    # Xvfb has no window manager to activate the window, so trigger the Esc action itself
    assert window.clear_action.shortcut().toString() == "Esc"
    window.clear_action.trigger()
    assert window.scene.selected == -1 and not window.tree.currentIndex().isValid()


def test_search_by_global_id_flies_to_the_element(qtbot, window, small_district) -> None:
    _load(qtbot, window, small_district.ifc_path)
    model = window.model
    pump = int(model.of_class("IfcPump")[1])
    window.search_box.setText(str(model.global_id[pump]))
    qtbot.keyClick(window.search_box, Qt.Key.Key_Return)
    assert window.selected == pump
    assert int(window.tree.currentIndex().internalId()) == pump
    window.search_box.setText("no such thing anywhere")
    qtbot.keyClick(window.search_box, Qt.Key.Key_Return)
    assert window.selected == pump
    assert "Nothing matches" in window.statusBar().currentMessage()


def test_category_toggle_hides_a_layer(qtbot, window, small_district) -> None:
    _load(qtbot, window, small_district.ifc_path)
    window.category_actions[Category.STRUCTURE].setChecked(False)
    assert not window.scene.layers[Category.STRUCTURE].actor.GetVisibility()
    window.category_actions[Category.STRUCTURE].setChecked(True)
    assert window.scene.layers[Category.STRUCTURE].actor.GetVisibility()


def test_bad_file_reports_and_keeps_the_window(qtbot, window, tmp_path) -> None:
    junk = tmp_path / "junk.ifc"
    junk.write_text("definitely not IFC")
    with qtbot.waitSignal(window.load_failed, timeout=30_000) as blocker:
        window.start_loading(junk, {})
    assert "junk.ifc" in blocker.args[0] and "not an IFC" in blocker.args[0]
    assert window.isVisible() and window.model is None


def test_full_district_loads_with_progress_and_a_live_window(qtbot, window) -> None:
    """The default district is generated and loaded in the background; the GUI thread keeps ticking."""
    progress: list[float] = []
    ticks: list[float] = []
    timer = QTimer(window)
    timer.setInterval(10)
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    timer.start()
    with qtbot.waitSignal(window.model_ready, timeout=240_000):
        window.start_loading(None, {"towers": 19, "seed": 20261124, "storeys": None})
        window._loader.progress.connect(lambda f, _m: progress.append(f))
    timer.stop()
    assert window.model is not None and (window.model.ifc_class == "IfcBuilding").sum() == 19
    assert len(progress) >= 5 and progress == sorted(progress)
    gaps = np.diff(ticks)
    # no freeze while loading: the longest gap between 10 ms ticks, scene building included
    assert gaps.max() < 2.0, f"GUI thread stalled {gaps.max():.2f} s"


def test_command_line_bad_ifc_path_exits_2(tmp_path) -> None:
    for path, message in ((tmp_path / "missing.ifc", "file not found"),
                          (tmp_path / "notes.txt", "not an IFC")):
        if path.suffix == ".txt":
            path.write_text("hello")
        run = subprocess.run([sys.executable, "-m", "twin_app", "--ifc", str(path)], capture_output=True, text=True,
                             timeout=60)
        assert run.returncode == 2
        assert message in run.stderr and str(path) in run.stderr
        assert "Traceback" not in run.stderr


def test_command_line_screenshot_of_the_default_district(tmp_path) -> None:
    from PySide6.QtGui import QImage

    png = tmp_path / "shot.png"
    run = subprocess.run([sys.executable, "-m", "twin_app", "--screenshot", str(png), "--size", "1600x900"],
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr
    image = QImage(str(png))
    assert image.width() >= 1600 and image.height() >= 850
    # the 3D view is drawn (not black): sample its pixels
    colours = {image.pixelColor(x, y).name() for x in range(500, 1500, 50) for y in range(100, 800, 50)}
    assert len(colours) > 10


def test_registry_devices_without_a_host_in_the_model_are_reported(qtbot, window, small_district, tmp_path) -> None:
    import pandas as pd

    devices = pd.read_parquet(small_district.registry_path)
    devices.loc[:4, "host_global_id"] = "0000000000000000000000"  # five devices of another model
    registry = tmp_path / "devices.parquet"
    devices.to_parquet(registry)
    with qtbot.waitSignal(window.model_ready, timeout=120_000):
        window.start_loading(small_district.ifc_path, {}, registry=registry)
    assert window.devices is not None and window.devices.n_devices == len(devices)  # nothing is dropped
    assert window.devices.unknown_hosts == 5
    assert "5 registry devices name a host_global_id that is not in this model" in window.statusBar().currentMessage()
