"""Chinese text in VTK: the CJK font is found and every text actor of the scene draws real hanzi glyphs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import pyvista as pv
import vtk
from vtk.util.numpy_support import vtk_to_numpy

from twin_app.render.fonts import apply_font, cjk_font_file
from twin_app.render.scene import DistrictScene, IncidentMarker

DATA = Path(__file__).parent.parent / "data"
FONT_PX = 40


def _text_image(text: str, cjk: bool) -> np.ndarray:
    """White `text` on black, one text actor in a 320x80 off-screen window: (rows, columns) luminance."""
    window = vtk.vtkRenderWindow()
    window.SetOffScreenRendering(1)
    window.SetSize(320, 80)
    renderer = vtk.vtkRenderer()
    renderer.SetBackground(0, 0, 0)
    window.AddRenderer(renderer)
    actor = vtk.vtkTextActor()
    actor.SetInput(text)
    prop = actor.GetTextProperty()
    prop.SetFontSize(FONT_PX)
    prop.SetColor(1, 1, 1)
    if cjk:
        apply_font(prop)
    actor.SetPosition(10, 20)
    renderer.AddActor(actor)
    window.Render()
    grab = vtk.vtkWindowToImageFilter()
    grab.SetInput(window)
    grab.Update()
    pixels = vtk_to_numpy(grab.GetOutput().GetPointData().GetScalars()).reshape(80, 320, -1)
    window.Finalize()
    return pixels[:, :, :3].mean(axis=2)


def _glyphs_are_real(chars: str, cjk: bool) -> bool:
    """Every character leaves ink, and no two look alike: missing glyphs are blank or identical tofu boxes."""
    images = [_text_image(c, cjk) > 100 for c in chars]
    if any(image.sum() < 40 for image in images):
        return False
    return all(np.logical_xor(a, b).sum() > 40 for i, a in enumerate(images) for b in images[i + 1:])


def test_a_cjk_font_is_installed_and_found() -> None:
    path = cjk_font_file()
    if path is None:
        pytest.fail("no CJK font: install fonts-noto-cjk (packaging/dev.sh setup)")
    assert path.is_file() and path.suffix.lower() in (".ttc", ".otf", ".ttf")
    assert cjk_font_file() is path  # cached


def test_hanzi_are_drawn_as_distinct_glyphs_only_with_the_cjk_font() -> None:
    assert _glyphs_are_real("木棉岭栋层", cjk=True)
    assert not _glyphs_are_real("木棉岭栋层", cjk=False)  # VTK's own Arial has no hanzi: the check can fail
    assert _glyphs_are_real("T01B2", cjk=True)  # Latin letters and digits still come out


def test_apply_font_sets_the_font_file() -> None:
    prop = vtk.vtkTextProperty()
    apply_font(prop)
    assert prop.GetFontFamily() == vtk.VTK_FONT_FILE
    assert Path(prop.GetFontFile()) == cjk_font_file()


def _zh_model():
    from twin_app.bim.loader import load_model

    return load_model(DATA / "mumianling_zh.ifc").model


def test_chinese_building_label_is_drawn_with_glyphs() -> None:
    model = _zh_model()
    building = int(model.of_class("IfcBuilding")[0])
    assert str(model.name[building]) == "木棉岭社区 1栋"
    pv.global_theme.multi_samples = 0
    plotter = pv.Plotter(off_screen=True, window_size=(1000, 700))
    try:
        scene = DistrictScene(plotter, model)
        scene.camera_overview()
        plotter.render()
        with_label = plotter.screenshot(return_img=True)[:, :, :3].astype(int)
        label = plotter.actors["building-labels-labels"]
        font_file = label.GetMapper().GetInputConnection(0, 0).GetProducer().GetTextProperty().GetFontFile()
        label.SetVisibility(False)
        plotter.render()
        without = plotter.screenshot(return_img=True)[:, :, :3].astype(int)
    finally:
        plotter.close()
    changed = np.abs(with_label - without).max(axis=2) > 40
    rows, cols = np.flatnonzero(changed.any(axis=1)), np.flatnonzero(changed.any(axis=0))
    assert len(cols), "the label draws nothing"
    # 7 hanzi, a space and a digit at 14 px: far wider than the "1" that a font without hanzi would draw
    width, height = cols[-1] - cols[0] + 1, rows[-1] - rows[0] + 1
    assert width >= 7 * 14 * 0.8 and 10 <= height <= 60
    # text pixels (near white) inside the box: real strokes, not just the label's background box
    box = with_label[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
    assert ((box.min(axis=2) > 170).sum()) > 150
    assert font_file and Path(font_file) == cjk_font_file()


def test_incident_label_uses_the_cjk_font(small_model) -> None:
    pv.global_theme.multi_samples = 0
    plotter = pv.Plotter(off_screen=True, window_size=(800, 600))
    try:
        scene = DistrictScene(plotter, small_model)
        scene.camera_overview()
        room = int(small_model.of_class("IfcSpace")[0])
        scene.show_incidents([IncidentMarker("a", room, "high", False, "1栋 二层 · 烟感报警")])
        prop = scene._incidents[0].text.GetTextProperty()
        assert Path(prop.GetFontFile()) == cjk_font_file()
        # the label box is sized from the real glyphs: 9 characters at 22 px, not a dozen pixels
        assert scene._incidents[0].label_size[0] > 8 * 22 * 0.8
        scene.show_measurement(np.array([0.0, 0, 0]), np.array([3.0, 4, 0]))
        measure = plotter.actors["measure-label-labels"]
        prop = measure.GetMapper().GetInputConnection(0, 0).GetProducer().GetTextProperty()
        assert Path(prop.GetFontFile()) == cjk_font_file()
    finally:
        plotter.close()
