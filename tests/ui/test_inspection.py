"""Inspection tools in a real window: property panel, isolate, section, X-ray, measure, other files, bad files."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt

from tests.conftest import DATA, SAMPLES
from tests.ui.conftest import load_into as _load
from twin_app.core.model import Category
from twin_app.ui.main_window import MainWindow


def _display_xy(window: MainWindow, world) -> tuple[float, float]:
    renderer = window.plotter.renderer
    renderer.SetWorldPoint(*world, 1.0)
    renderer.WorldToDisplay()
    x, y, _ = renderer.GetDisplayPoint()
    return x, y


def _click(qtbot, window: MainWindow, x: float, y: float) -> None:
    widget = window.plotter
    ratio = widget.devicePixelRatioF()
    pos = QPoint(round(x / ratio), round(widget.height() - y / ratio))
    qtbot.mousePress(widget, Qt.MouseButton.LeftButton, pos=pos)
    qtbot.mouseRelease(widget, Qt.MouseButton.LeftButton, pos=pos)


def test_pick_fills_the_property_panel(qtbot, window, small_district) -> None:
    _load(qtbot, window, small_district.ifc_path)
    model = window.model
    co = int(next(i for i in model.of_class("IfcSensor") if str(model.name[i]).endswith("B1-GZB-CO2")))
    storey = int(model.storey[co])
    window.select_element(storey, fly=True)
    window.scene.camera_plan(storey)
    window.render_now()
    x, y = _display_xy(window, model.element_bounds(co)[:3] * 0.5 + model.element_bounds(co)[3:] * 0.5)
    with qtbot.waitSignal(window.selection_changed, timeout=5000) as blocker:
        _click(qtbot, window, x, y)
    assert blocker.args == [co]
    panel = window.property_panel
    assert panel.value("Element", "IFC class") == "IfcSensor"
    assert panel.value("Element", "GlobalId") == model.global_id[co]
    assert panel.value("Element", "Storey").startswith("B1")
    assert panel.value("Element", "Building").startswith("T01")
    assert panel.value("Attributes", "PredefinedType") == "COSENSOR"
    assert panel.value("Mumianling_Thresholds", "AlarmHigh") == "50"
    assert panel.value("Pset_SensorTypeCommon", "Reference") == "Co sensor"
    devices = panel.sections["Devices (1)"]
    assert devices.child(0).text(0).endswith("GZB-CO2-co-1") and "ppm" in devices.child(0).text(1)


def test_property_panel_of_a_real_revit_wall(qtbot, window) -> None:
    _load(qtbot, window, DATA / "Duplex_A_20110907.ifc")
    wall = int(window.model.of_class("IfcWallStandardCase")[0])
    window.select_element(wall, fly=True)
    panel = window.property_panel
    assert panel.value("Pset_WallCommon", "LoadBearing") in ("True", "False")
    assert "PSet_Revit_Dimensions" in panel.sections
    assert panel.value("Element", "Building") is not None


def test_search_by_property_value(qtbot, window, small_district) -> None:
    _load(qtbot, window, small_district.ifc_path)
    # values that appear only in property sets (through the element's type or its own set)
    window.search_box.setText("REI 120")  # Pset_WallCommon / Pset_SlabCommon FireRating
    qtbot.keyClick(window.search_box, Qt.Key.Key_Return)
    assert window.selected >= 0 and window.model.ifc_class[window.selected] in ("IfcWall", "IfcSlab")
    window.search_box.setText("Residential")  # Pset_BuildingCommon OccupancyType
    qtbot.keyClick(window.search_box, Qt.Key.Key_Return)
    assert window.model.ifc_class[window.selected] == "IfcBuilding"


def test_isolate_a_storey_and_section_plane(qtbot, window, small_district) -> None:
    _load(qtbot, window, small_district.ifc_path)
    model = window.model
    storey = int(next(i for i in model.of_class("IfcBuildingStorey") if model.name[i] == "2F"))
    window.select_element(storey, fly=True)
    window.isolate_action.setChecked(True)
    scene = window.scene
    for layer in scene.layers.values():
        shown = layer.mesh.cell_element[layer.visible]
        assert (model.storey[shown] == storey).all()
    assert len(scene.layers[Category.STRUCTURE].visible) > 0
    window.isolate_action.setChecked(False)
    assert len(scene.layers[Category.SPACES].visible) == 0  # back to the district
    window.section_height.setValue(7.5)
    window.section_action.setChecked(True)
    for layer in scene.layers.values():
        planes = layer.actor.GetMapper().GetClippingPlanes()
        assert planes is not None and planes.GetNumberOfItems() == 1
        assert planes.GetItem(0).GetOrigin()[2] == pytest.approx(7.5)
    window.render_now()
    image = window.plotter.screenshot(return_img=True)
    assert image.std() > 5
    window.section_action.setChecked(False)
    assert scene.layers[Category.STRUCTURE].actor.GetMapper().GetClippingPlanes().GetNumberOfItems() == 0


def test_xray_keeps_the_selection_opaque(qtbot, window, small_district) -> None:
    _load(qtbot, window, small_district.ifc_path)
    room = int(window.model.of_class("IfcSpace")[30])
    window.select_element(room, fly=True)
    window.xray_action.setChecked(True)
    scene = window.scene
    assert all(layer.actor.GetProperty().GetOpacity() < 0.2 for layer in scene.layers.values())
    focus = window.plotter.actors["xray-focus"]
    assert focus.GetProperty().GetOpacity() == 1.0
    assert focus.mapper.dataset.n_cells == window.model.cell_count[room]
    window.xray_action.setChecked(False)
    assert "xray-focus" not in window.plotter.actors
    assert scene.layers[Category.STRUCTURE].actor.GetProperty().GetOpacity() == 1.0


def test_measure_the_width_of_a_slab(qtbot, window, small_district) -> None:
    _load(qtbot, window, small_district.ifc_path)
    model = window.model
    storey = int(next(i for i in model.of_class("IfcBuildingStorey") if model.name[i] == "3F"
                      and model.name[model.building[i]] == "T01"))
    window.select_element(storey)
    window.scene.camera_plan(storey)
    window.render_now()
    window.measure_action.setChecked(True)
    rooms = [i for i in np.flatnonzero(model.storey == storey) if model.ifc_class[i] == "IfcSpace"]
    a, b = model.element_bounds(int(rooms[0])), model.element_bounds(int(rooms[1]))
    top_a = [(a[0] + a[3]) / 2, (a[1] + a[4]) / 2, a[5]]
    top_b = [(b[0] + b[3]) / 2, (b[1] + b[4]) / 2, b[5]]
    _click(qtbot, window, *_display_xy(window, top_a))
    assert "second point" in window.statusBar().currentMessage()
    _click(qtbot, window, *_display_xy(window, top_b))
    expected = float(np.linalg.norm(np.subtract(top_b, top_a)))
    message = window.statusBar().currentMessage()
    assert message.startswith("Distance")
    measured = float(message.split()[1])
    assert measured == pytest.approx(expected, abs=0.3)
    assert window.selected == storey  # measuring does not change the selection
    window.measure_action.setChecked(False)
    assert "measure-line" not in window.plotter.actors


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_every_sample_opens_in_the_window(qtbot, window, name: str) -> None:
    _load(qtbot, window, DATA / name)
    model = window.model
    assert model.meta["length_unit"] == SAMPLES[name][1]
    assert window.scene.layers
    drawn = sum(len(layer.visible) for layer in window.scene.layers.values())
    assert drawn > 0
    image = window.plotter.screenshot(return_img=True)
    assert image.reshape(-1, image.shape[2]).std(axis=0).max() > 10


@pytest.mark.parametrize(("content", "message"), [
    (b"not a model at all", "not an IFC"),
    ((DATA / "Building-Hvac.ifc").read_bytes()[:50_000], "truncated"),
    ((DATA / "Building-Architecture.ifc").read_bytes().replace(b"IFCWALL(", b"IFCWALL(#@@@,", 1), "cannot be parsed"),
])
def test_bad_file_keeps_the_model_on_screen(qtbot, window, small_district, tmp_path, content, message) -> None:
    _load(qtbot, window, small_district.ifc_path)
    before = window.model
    bad = tmp_path / "bad.ifc"
    bad.write_bytes(content)
    with qtbot.waitSignal(window.load_failed, timeout=60_000) as blocker:
        window.start_loading(bad, {})
    assert message in blocker.args[0] and "bad.ifc" in blocker.args[0]
    assert window.model is before and window.scene is not None
    assert window.error_dialog is not None and window.error_dialog.isVisible()
    assert "kept" in window.error_dialog.text()
    window.error_dialog.close()
