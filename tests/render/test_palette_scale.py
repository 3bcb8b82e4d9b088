"""Palettes (light, ISA-101 dark) applied without reloading, screen scale for the wall, facade level of detail."""

from __future__ import annotations

import numpy as np
import pytest
import pyvista as pv

from twin_app.core.model import Category
from twin_app.core.palette import PALETTE_NAMES, PRIORITY_NAMES, STATE_NAMES, Palette, palette, saturation
from twin_app.render.scene import (
    INCIDENT_STYLE,
    N_SHADES,
    STATE_SLOT_RGB,
    DistrictScene,
    IncidentMarker,
)

WIDTH, HEIGHT = 1000, 700




def _frame(plotter: pv.Plotter) -> np.ndarray:
    plotter.render()
    return plotter.screenshot(return_img=True)[:, :, :3].astype(int)


def test_palettes_are_plain_uint8_data() -> None:
    assert PALETTE_NAMES == ("light", "dark")
    for name in PALETTE_NAMES:
        p = palette(name)
        assert p.name == name and palette(name) is p
        assert p.states.shape == (len(STATE_NAMES), 3) and p.priorities.shape == (len(PRIORITY_NAMES), 3)
        assert p.category_base.shape == p.category_alt.shape == (len(Category), 3)
        for array in (p.states, p.priorities, p.category_base, p.highlight, p.background_top, p.ground):
            assert array.dtype == np.uint8
    with pytest.raises(ValueError):
        palette("neon")


def test_light_palette_keeps_todays_look() -> None:
    light = palette("light")
    assert STATE_SLOT_RGB[4] == pytest.approx(Palette.float_rgb(light.state("alarm")))
    assert STATE_SLOT_RGB[2] == pytest.approx((0.0, 0.62, 0.45), abs=0.005)  # normal stays bluish green
    assert INCIDENT_STYLE["critical"]["rgb"] == "#b2182b" and INCIDENT_STYLE["low"]["rgb"] == "#0072b2"


def test_dark_palette_is_calm_grey_with_colour_only_for_abnormal_states() -> None:
    dark = palette("dark")
    normal = np.vstack([dark.category_base[1:], dark.category_alt[1:], dark.state("normal"), dark.state("dimmed"),
                        dark.background_top, dark.background_bottom, dark.ground])
    assert (saturation(normal) < 0.15).all()
    abnormal = np.vstack([dark.state("alarm"), dark.state("warning"), dark.priorities[:3]])
    assert (saturation(abnormal) > 0.85).all()
    # alarm red, warning yellow: hue order red < orange < yellow among the priorities
    red, orange, yellow = (dark.priority(p).astype(int) for p in ("critical", "high", "medium"))
    assert red[0] > 200 and red[1] < 60 and orange[1] > red[1] and yellow[1] > orange[1]
    # the light palette's normal state is coloured, the dark one's is not
    assert saturation(palette("light").state("normal")) > 0.5


def test_set_palette_recolours_everything_without_reloading(plotter, small_model) -> None:
    scene = DistrictScene(plotter, small_model)
    scene.camera_overview()
    light_image = _frame(plotter)
    layer = scene.layers[Category.STRUCTURE]
    polydata = layer.polydata
    scene.set_palette(palette("dark"))
    assert scene.layers[Category.STRUCTURE].polydata is polydata  # same meshes: nothing reloaded
    dark_image = _frame(plotter)
    lut = scene._luts[Category.STRUCTURE]
    base = np.array(lut.GetTableValue(N_SHADES - 1)[:3]) * 255
    assert saturation(base) < 0.15
    # background and towers are grey: the picture has hardly any saturated pixel
    assert (saturation(dark_image) > 0.4).mean() < 0.01
    assert (saturation(light_image) > 0.25).mean() > 0.05  # the light look has its coloured sky and ground
    top = dark_image[2, WIDTH // 2]
    assert np.abs(top - palette("dark").background_top.astype(int)).max() <= 12
    # labels follow the palette
    label = plotter.actors["building-labels-labels"]
    prop = label.GetMapper().GetInputConnection(0, 0).GetProducer().GetTextProperty()
    assert np.allclose(np.array(prop.GetColor()) * 255, palette("dark").label_text, atol=1)
    # an alarm on a storey's facade is saturated red in the dark palette
    rolled = np.zeros(small_model.n_elements, dtype=np.uint8)
    state = np.zeros(small_model.n_elements, dtype=np.uint8)
    storey = int(next(s for s in small_model.of_class("IfcBuildingStorey") if small_model.name[s] == "5F"))
    rolled[storey] = 5  # DeviceState.ALARM
    scene.show_states(state, rolled)
    alarm_image = _frame(plotter)
    red = (alarm_image[:, :, 0] > 150) & (alarm_image[:, :, 1] < 60) & (alarm_image[:, :, 2] < 60)
    assert red.sum() > 100
    scene.set_palette(palette("light"))
    back = _frame(plotter)
    assert np.abs(back[2, WIDTH // 2] - light_image[2, WIDTH // 2]).max() <= 2


def _marker_width(image: np.ndarray, colour: np.ndarray) -> int:
    mask = (np.abs(image - colour.astype(int)) <= 8).all(axis=2)
    cols = np.flatnonzero(mask.any(axis=0))
    return int(cols[-1] - cols[0] + 1) if len(cols) else 0


def test_scale_doubles_markers_labels_and_lines(plotter, small_model) -> None:
    scene = DistrictScene(plotter, small_model)
    scene.camera_overview()
    room = int(small_model.of_class("IfcSpace")[3])
    marker = IncidentMarker("fire", room, "critical", False, "T01 3F")
    scene.show_incidents([marker])
    colour = palette("light").priority("critical")
    one = _marker_width(_frame(plotter), colour)
    assert one >= 60  # a critical marker is at least 60 px across on an ordinary screen
    label_one = scene._incidents[0].label_size
    scene.select(room)
    scene.set_scale(2.0)
    two = _marker_width(_frame(plotter), colour)
    assert 1.85 <= two / one <= 2.15
    assert scene._incidents[0].label_size[1] == pytest.approx(2 * label_one[1], rel=0.15)
    assert scene._incidents[0].text.GetTextProperty().GetFontSize() == 44
    label = plotter.actors["building-labels-labels"]
    assert label.GetMapper().GetInputConnection(0, 0).GetProducer().GetTextProperty().GetFontSize() == 28
    assert scene._highlight_edges.GetProperty().GetLineWidth() == pytest.approx(10.0)
    with pytest.raises(ValueError):
        scene.set_scale(0.0)


def test_facade_storey_lines_only_up_close(plotter, small_model) -> None:
    scene = DistrictScene(plotter, small_model)
    structure = scene.layers[Category.STRUCTURE]
    slabs = np.isin(small_model.ifc_class, ("IfcSlab",))
    building = int(small_model.of_class("IfcBuilding")[0])
    # close: a tower from the side fills the view, storeys far apart on screen, slabs drawn
    scene.camera_side(building)
    plotter.render_window.Render()
    assert scene.storey_spacing_px() > 20 and scene.facade_detail
    assert slabs[structure.mesh.cell_element[structure.visible]].any()
    # far: storeys a few pixels apart, floor slabs (their thin edges) dropped except the roofs
    camera = plotter.camera
    focal = np.array(camera.focal_point)
    camera.position = tuple(focal + (np.array(camera.position) - focal) * 12.0)
    plotter.renderer.ResetCameraClippingRange()
    plotter.render_window.Render()
    assert scene.storey_spacing_px() < 8 and not scene.facade_detail
    shown = structure.mesh.cell_element[structure.visible]
    roofs = {str(small_model.name[e]) for e in np.unique(shown[slabs[shown]])}
    assert roofs and all(name.endswith("ROOF") for name in roofs), roofs
    # a storey cut open shows its slabs whatever the distance
    storey = int(next(s for s in small_model.of_class("IfcBuildingStorey") if small_model.name[s] == "3F"))
    scene.show_storey(storey)
    shown = structure.mesh.cell_element[structure.visible]
    assert (slabs[shown] & (small_model.storey[shown] == storey)).any()
    # back close: the lines come back
    scene.show_district()
    scene.camera_side(building)
    plotter.render_window.Render()
    assert scene.facade_detail and slabs[structure.mesh.cell_element[structure.visible]].sum() > len(roofs)


def test_a_new_scene_in_the_same_view_detaches_the_old_one(plotter, small_model) -> None:
    old = DistrictScene(plotter, small_model)
    old.show_incidents([IncidentMarker("a", int(small_model.of_class("IfcSpace")[0]), "low", False, "x")])
    renderers = plotter.render_window.GetRenderers().GetNumberOfItems()
    plotter.clear_actors()
    new = DistrictScene(plotter, small_model)
    assert old._lod_observer is None and old._render_observer is None and new._lod_observer is not None
    assert plotter.render_window.GetRenderers().GetNumberOfItems() == renderers - 1  # the old overlay is gone
    assert not plotter.renderer.HasObserver("StartEvent") or new._lod_observer is not None
