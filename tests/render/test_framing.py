"""Camera framing: an element flown to fills the view, plans and towers are whole, a model opens with margins."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import pyvista as pv
import vtk

from twin_app.core.model import Category
from twin_app.render.scene import DistrictScene, _box_corners

DATA = Path(__file__).parent.parent / "data"
WIDTH, HEIGHT = 1000, 700




@pytest.fixture(scope="module")
def duplex():
    from twin_app.bim.loader import load_model

    return load_model(DATA / "Duplex_A_20110907.ifc").model


def _world_to_display(plotter: pv.Plotter, points: np.ndarray) -> np.ndarray:
    """VTK's own world-to-display transform, point by point."""
    renderer = plotter.renderer
    out = []
    for p in points:
        renderer.SetWorldPoint(*p, 1.0)
        renderer.WorldToDisplay()
        out.append(renderer.GetDisplayPoint()[:2])
    return np.array(out)


def _inside(xy: np.ndarray, margin: float = 0.0) -> bool:
    """All display points inside the viewport, `margin` (fraction) away from every edge."""
    mx, my = margin * WIDTH, margin * HEIGHT
    return bool(((xy[:, 0] >= mx) & (xy[:, 0] <= WIDTH - mx) & (xy[:, 1] >= my) & (xy[:, 1] <= HEIGHT - my)).all())


def _storey(model, building: int, name: str) -> int:
    return int(next(s for s in model.of_class("IfcBuildingStorey")
                    if model.building[s] == building and model.name[s] == name))


def test_flying_to_a_door_fills_a_good_part_of_the_view(plotter, duplex) -> None:
    scene = DistrictScene(plotter, duplex)
    scene.camera_overview()
    doors = duplex.of_class("IfcDoor")
    assert len(doors)
    for door in doors[:4]:
        door = int(door)
        scene.camera_to(door)
        plotter.render()
        assert scene.projected_extent(door) >= 0.25
        corners = _box_corners(duplex.element_bounds(door))
        xy = _world_to_display(plotter, corners)
        assert _inside(xy)
        assert np.allclose(scene.project(corners), xy, atol=1.0)  # the helper agrees with VTK's transform
        near, far = plotter.renderer.GetActiveCamera().GetClippingRange()
        distance = np.linalg.norm(np.array(plotter.camera.position) - corners.mean(axis=0))
        assert near < distance < far  # not clipped away


def test_flying_to_a_room_frames_the_room_not_the_district(plotter, small_model) -> None:
    scene = DistrictScene(plotter, small_model)
    room = int(small_model.of_class("IfcSpace")[12])
    scene.show_storey(int(small_model.storey[room]))
    scene.camera_to(room)
    plotter.render()
    assert 0.25 <= scene.projected_extent(room) <= 1.0
    assert _inside(scene.project(_box_corners(small_model.element_bounds(room))))
    sensor = int(small_model.of_class("IfcSensor")[0]) if len(small_model.of_class("IfcSensor")) else room
    scene.camera_to(sensor)  # a tiny device: framed with some room around it, still large on screen
    assert scene.projected_extent(sensor) > 0.05


def test_plan_view_fits_every_element_of_the_storey(plotter, small_model) -> None:
    scene = DistrictScene(plotter, small_model)
    for building in small_model.of_class("IfcBuilding"):
        for name in ("B2", "1F", "6F"):
            storey = _storey(small_model, int(building), name)
            scene.show_storey(storey)
            scene.camera_plan(storey)
            plotter.render()
            members = np.flatnonzero(small_model.storey == storey)
            boxes = small_model.element_boxes()[members]
            boxes = boxes[~np.isnan(boxes[:, 0])]
            corners = np.vstack([_box_corners(b) for b in boxes])
            xy = _world_to_display(plotter, corners)
            assert _inside(xy), name
            # and it is a plan, not a speck: the storey spans most of the view one way
            span = np.ptp(xy, axis=0) / (WIDTH, HEIGHT)
            assert span.max() > 0.6
            camera = plotter.camera
            assert np.allclose(np.array(camera.up)[:2] / np.linalg.norm(camera.up), (0, 1), atol=1e-6)  # north up


def test_tower_view_after_selecting_a_storey_shows_the_whole_tower(plotter, small_model) -> None:
    scene = DistrictScene(plotter, small_model)
    building = int(small_model.of_class("IfcBuilding")[1])
    storey = _storey(small_model, building, "3F")
    scene.show_storey(storey)
    scene.camera_to(storey)
    scene.camera_side(building)
    plotter.render()
    corners = _box_corners(small_model.element_bounds(building))
    xy = _world_to_display(plotter, corners)
    assert _inside(xy, margin=0.02)
    assert np.ptp(xy[:, 1]) / HEIGHT > 0.6  # the tower fills the height


def test_a_model_opens_framed_with_margins(plotter, small_model, duplex) -> None:
    for model in (small_model, duplex):
        scene = DistrictScene(plotter, model)
        scene.camera_overview()
        plotter.render()
        bbox = model.bbox()
        buildings = [model.element_bounds(int(b)) for b in model.of_class("IfcBuilding")]
        corners = np.vstack([_box_corners(b) for b in buildings])
        xy = _world_to_display(plotter, corners)
        assert _inside(xy, margin=0.03)
        assert max(np.ptp(xy[:, 0]) / WIDTH, np.ptp(xy[:, 1]) / HEIGHT) > 0.6  # and not lost in the middle
        # every building label (and its box, about 20 px high) is inside too
        anchors = np.array([[(b[0] + b[3]) / 2, (b[1] + b[4]) / 2, b[5] + 4.0] for b in buildings])
        label_xy = scene.project(anchors)
        assert (label_xy[:, 1] <= HEIGHT - 25).all() and _inside(label_xy)
        assert bbox is not None
        plotter.clear_actors()


def _devices_behind_rooms(scene: DistrictScene, plotter: pv.Plotter) -> list[tuple[int, float, float]]:
    """Devices whose centre lies behind a drawn room as seen from the camera: (element, x, y) on screen."""
    model = scene.model
    rooms = vtk.vtkCellPicker()
    rooms.SetTolerance(0.0)
    rooms.PickFromListOn()
    rooms.AddPickList(scene.layers[Category.SPACES].actor)
    camera = np.array(plotter.camera.position)
    boxes = model.element_boxes()
    found = []
    for device in np.flatnonzero(np.isin(model.category, (Category.EQUIPMENT, Category.SENSORS))):
        if not model.cell_count[device]:
            continue
        centre = (boxes[device, :3] + boxes[device, 3:]) / 2.0
        x, y = scene.project(centre[None, :])[0]
        if not (5 <= x < WIDTH - 5 and 5 <= y < HEIGHT - 5) or not rooms.Pick(x, y, 0, plotter.renderer):
            continue
        if np.linalg.norm(np.array(rooms.GetPickPosition()) - camera) < np.linalg.norm(centre - camera) - 0.05:
            found.append((int(device), float(x), float(y)))
    return found


def _shown_through_rooms(scene: DistrictScene, plotter: pv.Plotter) -> tuple[int, int, int]:
    """(devices behind rooms, how many of them change the picture, how many are picked) in the current view."""
    behind = _devices_behind_rooms(scene, plotter)
    plotter.render()
    image = plotter.screenshot(return_img=True)[:, :, :3].astype(int)
    devices = [scene.layers[c] for c in (Category.EQUIPMENT, Category.SENSORS) if c in scene.layers]
    glyphs = scene._glyphs  # sensors are also drawn as dots
    glyphs_shown = bool(glyphs is not None and glyphs.GetVisibility())
    for actor in [layer.actor for layer in devices] + ([glyphs] if glyphs is not None else []):
        actor.SetVisibility(False)
    plotter.render()
    without = plotter.screenshot(return_img=True)[:, :, :3].astype(int)
    for layer in devices:
        layer.actor.SetVisibility(bool(len(layer.visible)))
    if glyphs is not None:
        glyphs.SetVisibility(glyphs_shown)
    plotter.render()
    seen = picked = 0
    for device, x, y in behind:
        row, col = int(HEIGHT - 1 - y), int(x)
        window = np.abs(image[row - 1:row + 2, col - 1:col + 2] - without[row - 1:row + 2, col - 1:col + 2])
        seen += window.max() > 20
        picked += scene.pick(x, y) == device
    return len(behind), seen, picked


def test_spaces_never_hide_the_equipment_of_an_mep_model(plotter) -> None:
    from twin_app.bim.loader import load_model

    model = load_model(DATA / "Duplex_Electrical_20121207.ifc").model
    assert model.meshes[Category.SPACES].n_cells and model.meshes[Category.EQUIPMENT].n_cells
    scene = DistrictScene(plotter, model)
    spaces = scene.layers[Category.SPACES]
    assert len(spaces.visible) and spaces.actor.GetVisibility()
    assert spaces.actor.GetProperty().GetOpacity() < 1.0
    for view in (scene.camera_overview, lambda: scene.camera_plan(int(model.of_class("IfcBuilding")[0]))):
        view()
        behind, seen, picked = _shown_through_rooms(scene, plotter)
        assert behind >= 2
        assert seen >= 0.8 * behind and picked >= 0.8 * behind


def test_rooms_of_an_isolated_storey_do_not_hide_its_equipment(plotter, small_model) -> None:
    scene = DistrictScene(plotter, small_model)
    fan = int(small_model.of_class("IfcFan")[0])
    storey = int(small_model.storey[fan])
    scene.isolate(storey)  # straight from the district view: no storey cut open before
    scene.camera_plan(storey)
    assert scene.layers[Category.SPACES].actor.GetProperty().GetOpacity() < 1.0
    behind, seen, picked = _shown_through_rooms(scene, plotter)
    assert behind >= 3
    assert seen >= 0.8 * behind and picked >= 0.8 * behind
