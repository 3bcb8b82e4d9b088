"""Incident markers on the wall display and the overview framing, rendered off-screen at 1920x1080."""

from __future__ import annotations

import numpy as np
import pytest
import pyvista as pv

from twin_app.render.scene import INCIDENT_STYLE, DistrictScene, IncidentMarker

WIDTH, HEIGHT = 1920, 1080




@pytest.fixture(scope="module")
def district_19(tmp_path_factory: pytest.TempPathFactory):
    """The full 19-tower layout with few storeys (fast to build and load)."""
    from twin_app.bim.generate import generate_district
    from twin_app.bim.loader import load_model

    generated = generate_district(tmp_path_factory.mktemp("district19"), towers=19, storeys=3)
    return load_model(generated.ifc_path).model


def _frame(plotter: pv.Plotter) -> np.ndarray:
    plotter.render()
    return plotter.screenshot(return_img=True)[:, :, :3].astype(int)


def _mask(image: np.ndarray, colour: str, tol: int = 8) -> np.ndarray:
    rgb = np.array([int(colour[i:i + 2], 16) for i in (1, 3, 5)])
    return (np.abs(image - rgb) <= tol).all(axis=2)


def _window(mask: np.ndarray, xy: tuple[float, float], half_w: float, half_h: float = 90) -> np.ndarray:
    """The part of an image mask around a display position (origin bottom left), rows top down."""
    x, y = xy
    row = HEIGHT - 1 - y
    return mask[int(max(row - half_h, 0)):int(row + half_h), int(max(x - half_w, 0)):int(x + half_w)]


def _marker_pixels(image: np.ndarray, scene: DistrictScene, marker: IncidentMarker) -> np.ndarray:
    """Pixels of the marker's colour over its own width (its label, beside it, is left out)."""
    half_w = INCIDENT_STYLE[marker.priority]["half"][0] + 2
    return _window(_mask(image, INCIDENT_STYLE[marker.priority]["rgb"]), scene.incident_positions()[marker.id], half_w)


def _rows(pixels: np.ndarray) -> int:
    return int(pixels.any(axis=1).sum())


def _named(model, ifc_class: str, name: str) -> int:
    return int(next(i for i in model.of_class(ifc_class) if model.name[i] == name))


def test_marker_on_a_hidden_element_is_drawn_on_top(plotter, small_model) -> None:
    scene = DistrictScene(plotter, small_model)
    scene.camera_overview()
    tower = _named(small_model, "IfcBuilding", small_model.name[small_model.of_class("IfcBuilding")[0]])
    storey = int(next(s for s in small_model.of_class("IfcBuildingStorey")
                      if small_model.building[s] == tower and small_model.name[s] == "2F"))
    room = int(next(r for r in small_model.of_class("IfcSpace") if small_model.storey[r] == storey))
    critical = IncidentMarker("room", room, "critical", True, "T01 2F · smoke")
    assert scene.show_incidents([critical])
    assert not scene.show_incidents([critical])  # same set: nothing to rebuild
    _frame(plotter)
    # the room's top is hidden inside the tower: what is under it on screen is the tower's structure
    inc = scene._incidents[0]
    assert inc.anchor is not None and scene.pick(*inc.anchor) != room
    pixels = _marker_pixels(_frame(plotter), scene, critical)
    assert pixels.sum() > 1500 and _rows(pixels) >= 60

    # on the tower itself, over the tower's name label: the label does not show through the marker
    on_tower = IncidentMarker("tower", tower, "critical", False, "T01 · fire alarm")
    assert scene.show_incidents([on_tower])
    with_labels = _marker_pixels(_frame(plotter), scene, on_tower)
    plotter.actors["building-labels-labels"].SetVisibility(False)
    without_labels = _marker_pixels(_frame(plotter), scene, on_tower)
    assert with_labels.sum() > 1500 and np.array_equal(with_labels, without_labels)


def _four_markers(model) -> list[IncidentMarker]:
    towers = [int(b) for b in model.of_class("IfcBuilding")]
    storeys = [int(s) for s in model.of_class("IfcBuildingStorey") if model.name[s] == "3F"]
    return [
        IncidentMarker("c", towers[0], "critical", True, "T01 · fire alarm"),
        IncidentMarker("h", towers[1], "high", False, "T02 · pump fault"),
        IncidentMarker("m", storeys[0], "medium", True, "T01 3F · door open"),
        IncidentMarker("l", storeys[1], "low", False, "T02 3F · sensor offline"),
    ]


def test_markers_keep_their_screen_size_at_any_zoom(plotter, small_model) -> None:
    scene = DistrictScene(plotter, small_model)
    markers = _four_markers(small_model)
    scene.camera_overview()
    scene.show_incidents(markers)
    for zoom in (1.0, 0.25):
        plotter.camera.zoom(zoom)
        image = _frame(plotter)
        for marker in markers:
            assert _rows(_marker_pixels(image, scene, marker)) >= 60, (marker.priority, zoom)


def test_priorities_differ_in_shape_and_colour(plotter, small_model) -> None:
    scene = DistrictScene(plotter, small_model)
    markers = _four_markers(small_model)
    scene.camera_overview()
    scene.show_incidents(markers)
    image = _frame(plotter)
    assert len({INCIDENT_STYLE[m.priority]["rgb"] for m in markers}) == 4
    descriptors = {}
    for marker in markers:
        pixels = _marker_pixels(image, scene, marker)
        rows = np.flatnonzero(pixels.any(axis=1))
        cols = np.flatnonzero(pixels.any(axis=0))
        box = pixels[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
        widths = box.sum(axis=1)
        fill = box.mean()  # diamond ~0.5, circle ~0.8, double diamond less (a white ring inside)
        widest = np.flatnonzero(widths >= widths.max() - 1).mean() / len(widths)  # triangle: at the bottom
        descriptors[marker.priority] = (fill, widest)
        for other in markers:  # no other priority's colour on this marker
            if other.priority != marker.priority:
                assert _window(_mask(image, INCIDENT_STYLE[other.priority]["rgb"], 4),
                               scene.incident_positions()[marker.id], 20, 20).sum() == 0
    names = list(descriptors)
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            (fa, wa), (fb, wb) = descriptors[a], descriptors[b]
            assert abs(fa - fb) > 0.08 or abs(wa - wb) > 0.25, (a, b, descriptors)


def test_blink_flashes_unacknowledged_markers_only(plotter, small_model) -> None:
    scene = DistrictScene(plotter, small_model)
    flashing, steady = _four_markers(small_model)[:2]
    scene.camera_overview()
    scene.show_incidents([flashing, steady])
    on = _frame(plotter)
    assert _marker_pixels(on, scene, flashing).sum() > 1000 and _marker_pixels(on, scene, steady).sum() > 1000
    assert scene.blink(False)
    assert not scene.blink(False)
    off = _frame(plotter)
    assert _marker_pixels(off, scene, flashing).sum() == 0
    assert _marker_pixels(off, scene, steady).sum() == _marker_pixels(on, scene, steady).sum()
    assert scene.blink(True)
    assert _marker_pixels(_frame(plotter), scene, flashing).sum() == _marker_pixels(on, scene, flashing).sum()


def test_unknown_hosts_are_skipped_and_off_screen_markers_stay_in_view(plotter, small_model) -> None:
    scene = DistrictScene(plotter, small_model)
    tower = int(small_model.of_class("IfcBuilding")[0])
    assert not scene.show_incidents([IncidentMarker("x", -1, "high", True, "unknown host")])
    assert scene.show_incidents([IncidentMarker("t", tower, "high", True, "T01")])
    bounds = small_model.element_bounds(tower)
    centre = (bounds[:3] + bounds[3:]) / 2
    camera = plotter.camera
    camera.focal_point = tuple(centre + np.array([400.0, 0.0, 0.0]))  # looking away, the tower behind on the left
    camera.position = tuple(centre + np.array([300.0, 0.0, 30.0]))
    camera.up = (0.0, 0.0, 1.0)
    image = _frame(plotter)
    x, y = scene.incident_positions()["t"]
    assert 0 < x < WIDTH and 0 < y < HEIGHT
    assert scene._incidents[0].anchor is None
    assert _rows(_marker_pixels(image, scene, scene._incidents[0].marker)) >= 60


def test_overview_frames_every_tower(plotter, district_19) -> None:
    model = district_19
    scene = DistrictScene(plotter, model)
    scene.camera_overview()
    plotter.render()
    renderer = plotter.renderer
    corners = []
    for building in model.of_class("IfcBuilding"):
        b = model.element_bounds(int(building))
        for x in (b[0], b[3]):
            for y in (b[1], b[4]):
                for z in (b[2], b[5]):
                    renderer.SetWorldPoint(x, y, z, 1.0)
                    renderer.WorldToDisplay()
                    corners.append(renderer.GetDisplayPoint()[:2])
    corners = np.array(corners)
    assert len(corners) == 19 * 8
    assert (corners[:, 0] > 0).all() and (corners[:, 0] < WIDTH).all()
    assert (corners[:, 1] > 0).all() and (corners[:, 1] < HEIGHT).all()
    # and it fills the view: tight along one axis at least
    extent = corners.max(axis=0) - corners.min(axis=0)
    assert extent[0] > 0.85 * WIDTH or extent[1] > 0.85 * HEIGHT
