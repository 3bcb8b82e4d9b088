"""Benchmark frame figures: ``frame_ms`` (the district overview), ``frame_all_spaces_ms`` (the whole district with
every space, piece of equipment and sensor drawn) and ``frame_storey_cut_ms`` (a storey cut open), each beside one
actor per visible element drawing exactly the same cells with the same colours, lighting, opacity and back-face
culling, under the same camera, at 1920x1080 off screen.
"""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

FRAME_FIGURES = ("frame_ms", "frame_all_spaces_ms", "frame_storey_cut_ms")
FRAME_SIZE = (1920, 1080)
OURS_FRAMES = 7
BASELINE_FRAMES = 4


@dataclass
class _LayerView:
    """What one of the scene's category layers draws in a view: its cells (with colours) and its actor's look."""

    points: np.ndarray
    faces: np.ndarray  # (k, 3) into points
    rgb: np.ndarray  # (k, 3) uint8
    element: np.ndarray  # (k,) element of each cell
    opacity: float
    lighting: bool
    culling: bool


@dataclass
class _View:
    camera: dict
    layers: list[_LayerView]
    triangles: int


def frames(plotter, n: int) -> float:
    """Median render time in ms while the camera turns 3 degrees a frame (the first frame left out)."""
    times = []
    for _ in range(n):
        plotter.camera.azimuth += 3.0
        t = time.perf_counter()
        plotter.ren_win.Render()
        times.append((time.perf_counter() - t) * 1000.0)
    return statistics.median(times[1:])


def _camera_state(plotter) -> dict:
    camera = plotter.renderer.GetActiveCamera()
    return {"position": camera.GetPosition(), "focal_point": camera.GetFocalPoint(), "view_up": camera.GetViewUp(),
            "view_angle": camera.GetViewAngle(), "parallel": camera.GetParallelProjection(),
            "parallel_scale": camera.GetParallelScale()}


def _set_camera(plotter, state: dict) -> None:
    camera = plotter.renderer.GetActiveCamera()
    camera.SetPosition(*state["position"])
    camera.SetFocalPoint(*state["focal_point"])
    camera.SetViewUp(*state["view_up"])
    camera.SetViewAngle(state["view_angle"])
    camera.SetParallelProjection(state["parallel"])
    camera.SetParallelScale(state["parallel_scale"])
    plotter.renderer.ResetCameraClippingRange()


def _capture(scene) -> _View:
    """The cells each visible layer draws now, with their colours (from the scene's own colour tables)."""
    from twin_app.core.model import Category

    model = scene.model
    layers: list[_LayerView] = []
    triangles = 0
    for cat, layer in scene.layers.items():
        if not layer.actor.GetVisibility() or not len(layer.visible):
            continue
        part = scene.cells_polydata(model.category == int(cat))  # this layer's visible cells, in `visible` order
        prop = layer.actor.GetProperty()
        faces = part.faces.reshape(-1, 4)[:, 1:]
        layers.append(_LayerView(np.asarray(part.points), faces, np.asarray(part.cell_data["rgb"]),
                                 layer.mesh.cell_element[layer.visible], float(prop.GetOpacity()),
                                 bool(prop.GetLighting()), bool(prop.GetBackfaceCulling())))
        triangles += len(layer.visible)
        assert len(faces) == len(layer.visible), Category(int(cat)).name
    return _View(_camera_state(scene.plotter), layers, triangles)


def _naive_plotter(view: _View, background: tuple) -> tuple[object, int, int]:
    """One actor per element of the view, exactly its cells; returns the plotter, actors and triangles."""
    import pyvista as pv
    import vtk

    plotter = pv.Plotter(off_screen=True, window_size=FRAME_SIZE)
    plotter.set_background(background[0], top=background[1])
    renderer = plotter.renderer
    actors = triangles = 0
    for layer in view.layers:
        order = np.argsort(layer.element, kind="stable")
        elements, starts = np.unique(layer.element[order], return_index=True)
        bounds = np.append(starts, len(order))
        for k in range(len(elements)):
            cells = order[bounds[k]:bounds[k + 1]]
            tris = layer.faces[cells]
            used, inverse = np.unique(tris, return_inverse=True)
            part = pv.PolyData.from_regular_faces(layer.points[used], inverse.reshape(-1, 3))
            part.cell_data["rgb"] = layer.rgb[cells]
            mapper = vtk.vtkPolyDataMapper()
            mapper.SetInputData(part)
            mapper.SetColorModeToDirectScalars()
            mapper.SetScalarModeToUseCellData()
            mapper.ScalarVisibilityOn()
            actor = vtk.vtkActor()
            actor.SetMapper(mapper)
            prop = actor.GetProperty()
            prop.SetOpacity(layer.opacity)
            prop.SetLighting(layer.lighting)
            prop.SetBackfaceCulling(layer.culling)
            renderer.AddActor(actor)
            actors += 1
            triangles += len(cells)
    return plotter, actors, triangles


def _hide_extras(scene) -> list:
    """Hide every prop of the scene's renderer but the category layers; returns those hidden."""
    layers = {id(layer.actor) for layer in scene.layers.values()}
    props = scene.plotter.renderer.GetViewProps()
    hidden = []
    for k in range(props.GetNumberOfItems()):
        prop = props.GetItemAsObject(k)
        if id(prop) not in layers and prop.GetVisibility():
            prop.SetVisibility(False)
            hidden.append(prop)
    return hidden


def _storey_to_cut(model) -> int:
    """A storey halfway up the building in the middle of the list (the one with the most elements there)."""
    storeys = model.of_class("IfcBuildingStorey")
    if not len(storeys):
        return -1
    buildings = model.of_class("IfcBuilding")
    building = int(buildings[len(buildings) // 2]) if len(buildings) else -1
    own = [int(s) for s in storeys if building < 0 or int(model.building[s]) == building] or [int(s) for s in storeys]
    counts = np.bincount(np.maximum(model.storey, 0), minlength=model.n_elements)
    own.sort(key=lambda s: float(model.element_bounds(s)[2]) if model.element_bounds(s) is not None else 0.0)
    middle = own[len(own) // 2]
    return middle if counts[middle] else max(own, key=lambda s: counts[s])


def run_frame_figures(model, wanted: set[str], log: Callable[[str], None]) -> dict[str, dict]:
    """Ours first (one scene, three views), then each view's one-actor-per-element baseline."""
    import pyvista as pv

    from twin_app.render.scene import BACKGROUND_BOTTOM, BACKGROUND_TOP, DistrictScene

    views: dict[str, tuple[float, _View, str, float]] = {}
    plotter = pv.Plotter(off_screen=True, window_size=FRAME_SIZE)
    scene = DistrictScene(plotter, model)
    plotter.show(auto_close=False)
    roots = np.flatnonzero(model.parent < 0)
    storey = _storey_to_cut(model)
    for name in FRAME_FIGURES:
        if name not in wanted:
            continue
        if name == "frame_ms":
            scene.show_district()
            scene.camera_overview()
            what = "district overview (structure and other elements; rooms and equipment stay inside)"
        elif name == "frame_all_spaces_ms":
            scene.isolate(int(roots[0]) if len(roots) else -1)
            scene.camera_overview()
            what = "the whole district with every space, piece of equipment and sensor drawn (isolate the root)"
        else:
            if storey < 0:
                continue
            scene.isolate(-1)
            scene.show_storey(storey)
            scene.camera_to(storey)
            what = (f"storey {model.name[storey]} of {model.name[model.building[storey]]} cut open (structure above "
                    "hidden, rooms translucent, equipment and sensors shown)")
        plotter.ren_win.Render()
        view = _capture(scene)
        camera = _camera_state(plotter)
        full_ms = frames(plotter, OURS_FRAMES)  # as the console draws it: ground, labels, sensor dots too
        _set_camera(plotter, camera)
        hidden = _hide_extras(scene)  # the model's layers alone: exactly what the baseline draws
        ms = frames(plotter, OURS_FRAMES)
        for prop in hidden:
            prop.SetVisibility(True)
        views[name] = (ms, view, what, full_ms)
        log(f"bench: {name} ours {ms:.1f} ms ({full_ms:.1f} ms with ground and labels), {view.triangles:,} triangles")
    plotter.close()
    del scene
    gc.collect()
    out: dict[str, dict] = {}
    from twin_app.bench import _figure

    for name, (ms, view, what, full_ms) in views.items():
        log(f"bench: {name} baseline, one actor per element")
        naive, actors, triangles = _naive_plotter(view, (BACKGROUND_BOTTOM, BACKGROUND_TOP))
        naive.show(auto_close=False)
        _set_camera(naive, view.camera)
        base_ms = frames(naive, BASELINE_FRAMES)
        naive.close()
        del naive
        gc.collect()
        out[name] = _figure(ms, "ms", base_ms, size=f"{FRAME_SIZE[0]}x{FRAME_SIZE[1]}", triangles=view.triangles,
                            baseline_triangles=triangles, actors=len(view.layers), baseline_actors=actors,
                            with_overlays_ms=round(full_ms, 2),
                            note=f"{what}; median frame while the camera turns, the model's layers alone "
                                 "(with_overlays_ms: as the console draws it, with ground, building labels and sensor "
                                 "dots); baseline: one actor per visible element, the same cells, colours, lighting, "
                                 "opacity and back-face culling under the same camera")
    return out
