"""The district scene, rendered off-screen: merged meshes, picking, storey cut-away, highlight."""

from __future__ import annotations

import numpy as np
import pytest
import pyvista as pv

from twin_app.core.model import Category
from twin_app.render.scene import N_SHADES, DistrictScene, shade_levels


@pytest.fixture
def plotter():
    pv.global_theme.multi_samples = 0
    p = pv.Plotter(off_screen=True, window_size=(1000, 700))
    yield p
    p.close()


def _display_xy(plotter: pv.Plotter, world: np.ndarray) -> tuple[float, float]:
    renderer = plotter.renderer
    renderer.SetWorldPoint(*world, 1.0)
    renderer.WorldToDisplay()
    x, y, _ = renderer.GetDisplayPoint()
    return x, y


def test_one_actor_per_category_with_element_ids(plotter, small_model) -> None:
    scene = DistrictScene(plotter, small_model)
    assert set(scene.layers) == {c for c, m in small_model.meshes.items() if m.n_cells}
    for cat, layer in scene.layers.items():
        assert layer.mesh.n_cells == small_model.meshes[cat].n_cells
        ids = layer.mesh.cell_element
        assert (small_model.category[ids] == cat).all()
    # one actor for all elements of a category: far fewer actors than elements
    assert len(plotter.renderer.actors) < 12 < small_model.n_elements


def test_district_view_draws_the_towers(plotter, small_model) -> None:
    scene = DistrictScene(plotter, small_model)
    scene.camera_overview()
    image = plotter.screenshot(return_img=True)
    structure_visible = scene.layers[Category.STRUCTURE].actor.GetVisibility()
    assert structure_visible and len(scene.layers[Category.STRUCTURE].visible) > 0
    assert len(scene.layers[Category.SPACES].visible) == 0  # rooms stay inside the massing
    # façade colour (light grey) covers a fair part of the picture, the background another part
    light = (image[:, :, :3].min(axis=2) > 120).mean()
    assert 0.02 < light < 0.8
    assert image.reshape(-1, image.shape[2]).std(axis=0).max() > 20


def test_pick_returns_the_element_under_the_cursor(plotter, small_model) -> None:
    scene = DistrictScene(plotter, small_model)
    storey = int(next(i for i in small_model.of_class("IfcBuildingStorey") if small_model.name[i] == "3F"))
    scene.show_storey(storey)
    scene.camera_to(storey)
    plotter.screenshot(return_img=True)
    rooms = [i for i in np.flatnonzero(small_model.storey == storey) if small_model.ifc_class[i] == "IfcSpace"]
    hits = 0
    for room in rooms[:6]:
        bounds = small_model.element_bounds(int(room))
        top_centre = np.array([(bounds[0] + bounds[3]) / 2, (bounds[1] + bounds[4]) / 2, bounds[5]])
        x, y = _display_xy(plotter, top_centre)
        picked = scene.pick(x, y)
        hits += picked == room
    assert hits >= 5
    assert scene.pick(2, 698) == -1  # the sky


def test_storey_cut_away_shows_rooms_of_that_storey_only(plotter, small_model) -> None:
    scene = DistrictScene(plotter, small_model)
    storey = int(next(i for i in small_model.of_class("IfcBuildingStorey") if small_model.name[i] == "4F"))
    building = small_model.building[storey]
    scene.show_storey(storey)
    spaces = scene.layers[Category.SPACES]
    shown = spaces.mesh.cell_element[spaces.visible]
    assert len(shown) and (small_model.storey[shown] == storey).all()
    structure = scene.layers[Category.STRUCTURE]
    shown_structure = structure.mesh.cell_element[structure.visible]
    above = small_model.storey[shown_structure]
    names = {str(small_model.name[s]) for s in above[small_model.building[shown_structure] == building]}
    assert "5F" not in names and "6F" not in names and "3F" in names
    other = {str(small_model.name[s]) for s in above[small_model.building[shown_structure] != building]}
    assert "6F" in other  # the other tower stays whole
    scene.show_district()
    assert len(scene.layers[Category.SPACES].visible) == 0


def test_highlight_follows_selection(plotter, small_model) -> None:
    scene = DistrictScene(plotter, small_model)
    room = int(small_model.of_class("IfcSpace")[10])
    scene.select(room)
    assert scene.selected == room and "highlight" in plotter.actors
    highlight = plotter.actors["highlight"].GetMapper().GetInput()
    assert highlight.n_cells == small_model.cell_count[room]
    scene.select(-1)
    assert "highlight" not in plotter.actors


def test_shading_is_baked_per_face() -> None:
    box = pv.Box().triangulate()
    faces = box.faces.reshape(-1, 4)[:, 1:]
    levels = shade_levels(np.asarray(box.points, dtype=np.float32), faces)
    assert levels.min() >= 0 and levels.max() < N_SHADES
    assert len(np.unique(levels)) >= 3  # top and two visible sides differ


def test_recolour_every_element_in_one_call(plotter, small_model) -> None:
    from twin_app.render.scene import KEEP_SLOT

    scene = DistrictScene(plotter, small_model)
    storey = int(small_model.of_class("IfcBuildingStorey")[4])
    scene.show_storey(storey)
    slots = np.full(small_model.n_elements, KEEP_SLOT, dtype=np.uint8)
    rooms = small_model.of_class("IfcSpace")
    slots[rooms] = 4  # alarm
    scene.set_element_slots(slots)
    layer = scene.layers[Category.SPACES]
    colour = np.asarray(layer.polydata.cell_data["colour"])
    assert (colour // N_SHADES == 4).all()
    structure = scene.layers[Category.STRUCTURE]
    assert ((np.asarray(structure.polydata.cell_data["colour"]) // N_SHADES) < 2).all()  # kept their base
    # the state survives a change of view
    scene.show_district()
    scene.show_storey(storey)
    assert (np.asarray(scene.layers[Category.SPACES].polydata.cell_data["colour"]) // N_SHADES == 4).all()


def test_devices_inside_rooms_are_picked_first(plotter, small_model) -> None:
    scene = DistrictScene(plotter, small_model)
    fan = int(small_model.of_class("IfcFan")[0])
    storey = int(small_model.storey[fan])
    scene.show_storey(storey)
    scene.camera_plan(storey)
    plotter.screenshot(return_img=True)
    bounds = small_model.element_bounds(fan)
    x, y = _display_xy(plotter, (bounds[:3] + bounds[3:]) / 2)
    assert scene.pick(x, y) == fan  # not the garage room around it


def test_section_plane_and_measurement(plotter, small_model) -> None:
    scene = DistrictScene(plotter, small_model)
    scene.set_section((0.0, 0.0, 6.0))
    assert scene.layers[Category.STRUCTURE].actor.GetMapper().GetClippingPlanes().GetNumberOfItems() == 1
    scene.set_section(None)
    assert scene.layers[Category.STRUCTURE].actor.GetMapper().GetClippingPlanes().GetNumberOfItems() == 0
    assert scene.show_measurement(np.array([0.0, 0, 0]), np.array([3.0, 4, 0])) == pytest.approx(5.0)
    assert any(name.startswith("measure-label") for name in plotter.actors)
    scene.clear_measurement()
    assert not any(name.startswith("measure") for name in plotter.actors)
