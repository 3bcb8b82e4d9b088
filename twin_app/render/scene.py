"""The district scene: one merged mesh and one actor per category, built from core arrays.

Cells carry their element index; colour comes from a per-cell scalar through a
lookup table, so recolouring is one array write. What is shown (the district
massing, or a storey cut open) is a subset of cells of the same mesh, and
picking goes through a static cell locator.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyvista as pv
import vtk

from twin_app.core.model import Category, CategoryMesh, DistrictModel, closed_outward
from twin_app.core.state import DeviceState

# Lookup-table slots shared by every category mesh. Shading is baked into the table: the
# scalar of a cell is slot * N_SHADES + shade level of its face, and actors draw unlit,
# which is several times faster than per-fragment lighting on software OpenGL.
SLOT_BASE = 0
SLOT_BASE_ALT = 1
N_SLOTS = 8
KEEP_SLOT = 255  # in `set_element_slots`: the element keeps its base colour
# state slots 2..7, shared by every category: colour-blind-safe hues (Okabe-Ito) that also differ in lightness
STATE_SLOT_RGB: dict[int, tuple[float, float, float]] = {
    2: (0.00, 0.62, 0.45),  # normal: bluish green
    3: (0.90, 0.62, 0.00),  # warning: orange
    4: (0.84, 0.15, 0.00),  # alarm: vermilion
    5: (0.35, 0.35, 0.38),  # offline: dark grey
    6: (0.80, 0.47, 0.65),  # stale: reddish purple
    7: (0.94, 0.94, 0.94),  # dimmed (filtered out)
}
N_SHADES = 8
SUN_DIRECTION = np.array([0.45, -0.65, 0.62])
ROOM_OPACITY_OPEN = 0.35  # rooms of a storey cut open: the equipment inside shows through

CATEGORY_STYLE: dict[Category, dict] = {
    Category.STRUCTURE: {"base": (0.86, 0.85, 0.81), "alt": (0.55, 0.57, 0.60), "opacity": 1.0},
    Category.SPACES: {"base": (0.62, 0.78, 0.90), "alt": (0.80, 0.80, 0.72), "opacity": 1.0},
    Category.EQUIPMENT: {"base": (0.95, 0.60, 0.20), "alt": (0.70, 0.45, 0.80), "opacity": 1.0},
    Category.SENSORS: {"base": (0.10, 0.75, 0.55), "alt": (0.95, 0.30, 0.30), "opacity": 1.0},
    Category.OTHER: {"base": (0.75, 0.72, 0.65), "alt": (0.60, 0.60, 0.60), "opacity": 1.0},
}
# device state -> slot: hosts (rooms, equipment, sensors) and the facade of a storey (its rolled-up state)
HOST_SLOT = np.array([KEEP_SLOT, 2, 6, 5, 3, 4], dtype=np.uint8)
FACADE_SLOT = np.array([KEEP_SLOT, KEEP_SLOT, 6, 5, 3, 4], dtype=np.uint8)
# marker shape per state, so that a state never depends on hue alone
MARKER_STATES = (DeviceState.STALE, DeviceState.OFFLINE, DeviceState.WARNING, DeviceState.ALARM)
MARKER_SHAPE = {DeviceState.STALE: "sphere", DeviceState.OFFLINE: "cross", DeviceState.WARNING: "cone",
                DeviceState.ALARM: "cube"}
HIGHLIGHT_RGB = (1.0, 0.85, 0.0)
BACKGROUND_TOP = (0.16, 0.20, 0.27)
BACKGROUND_BOTTOM = (0.05, 0.06, 0.09)
GROUND_RGB = (0.22, 0.27, 0.24)


@dataclass
class _Layer:
    """One category: its full mesh, the visible subset and the actor drawing it."""

    mesh: CategoryMesh
    base_slots: np.ndarray  # the category's own colour slot per cell (base or alternate)
    slots: np.ndarray  # lookup-table slot per cell of the full mesh
    shades: np.ndarray  # baked light level per cell of the full mesh
    centroid_z: np.ndarray
    visible: np.ndarray  # indices of the full mesh's cells that are drawn
    polydata: pv.PolyData
    actor: vtk.vtkActor
    locator: vtk.vtkStaticCellLocator
    shown: bool = True


def shade_levels(points: np.ndarray, triangles: np.ndarray) -> np.ndarray:
    """Quantised diffuse light level (0 .. N_SHADES-1) of each triangle under a fixed sun."""
    a = points[triangles[:, 0]]
    normal = np.cross(points[triangles[:, 1]] - a, points[triangles[:, 2]] - a)  # float32 is plenty here
    length = np.sqrt(np.einsum("ij,ij->i", normal, normal))
    length[length == 0] = 1.0
    sun = (SUN_DIRECTION / np.linalg.norm(SUN_DIRECTION)).astype(normal.dtype)
    # two-sided: a face lit from behind is as bright as from the front (shells of any orientation)
    lambert = np.abs(normal @ sun) / length
    return np.minimum((lambert * N_SHADES).astype(np.int64), N_SHADES - 1).astype(np.uint8)


def shade_factor(level: np.ndarray | int) -> np.ndarray | float:
    """Brightness of a shade level: ambient plus diffuse."""
    return 0.45 + 0.55 * (np.asarray(level) + 0.5) / N_SHADES


def _lookup_table(category: Category) -> vtk.vtkLookupTable:
    style = CATEGORY_STYLE[category]
    lut = vtk.vtkLookupTable()
    n = N_SLOTS * N_SHADES
    lut.SetNumberOfTableValues(n)
    lut.SetTableRange(0, n - 1)
    colours = np.tile(np.array(style["base"]), (N_SLOTS, 1))
    colours[SLOT_BASE_ALT] = style["alt"]
    for slot, rgb in STATE_SLOT_RGB.items():
        colours[slot] = rgb
    for slot in range(N_SLOTS):
        for level in range(N_SHADES):
            rgb = np.clip(colours[slot] * shade_factor(level), 0.0, 1.0)
            lut.SetTableValue(slot * N_SHADES + level, *rgb, 1.0)
    lut.Build()
    return lut


class DistrictScene:
    """Actors of a `DistrictModel` in a PyVista plotter.

    Parameters
    ----------
    plotter
        A `pyvista.Plotter` or a pyvistaqt interactor.
    model
        The model to draw.
    """

    def __init__(self, plotter: pv.Plotter, model: DistrictModel) -> None:
        self.plotter = plotter
        self.model = model
        self.layers: dict[Category, _Layer] = {}
        self.selected = -1
        self.focus_storey = -1
        self._highlight: vtk.vtkActor | None = None
        self._highlight_edges: vtk.vtkActor | None = None
        self.xray = False
        self.isolated = -1
        self.section_plane: vtk.vtkPlane | None = None
        self._xray_focus: vtk.vtkActor | None = None
        self._measure_actors: list[vtk.vtkActor] = []
        self._luts: dict[Category, vtk.vtkLookupTable] = {}
        self._glyphs: vtk.vtkActor | None = None
        self._glyph_points: pv.PolyData | None = None
        self._sensor_centres: np.ndarray | None = None
        self._sensor_elements: np.ndarray | None = None
        self._markers: dict[DeviceState, vtk.vtkActor] = {}
        self._marker_polys: dict[DeviceState, pv.PolyData] = {}
        self._marker_key: tuple | None = None
        self._box_cache: dict[int, np.ndarray | None] = {}
        self.element_state: np.ndarray | None = None
        self.rolled_state: np.ndarray | None = None
        self._is_structure = model.category == Category.STRUCTURE
        self._last_slots: np.ndarray | None = None
        self._ground: vtk.vtkActor | None = None
        self._picker = vtk.vtkCellPicker()
        self._picker.SetTolerance(0.0005)
        self._picker.PickFromListOn()
        # equipment and sensors sit inside rooms: they are tried first, with a little more tolerance
        self._device_picker = vtk.vtkCellPicker()
        self._device_picker.SetTolerance(0.002)
        self._device_picker.PickFromListOn()
        alt = np.isin(model.ifc_class, ("IfcSlab", "IfcRoof", "IfcCovering", "IfcStair", "IfcStairFlight"))
        alt |= model.ifc_class == "IfcFan"
        alt |= np.isin(model.ifc_class, ("IfcAlarm", "IfcFireSuppressionTerminal"))
        self._alt_element = alt
        plotter.set_background(BACKGROUND_BOTTOM, top=BACKGROUND_TOP)
        self._add_ground()
        self._add_building_labels()
        for cat, mesh in model.meshes.items():
            if mesh.n_cells:
                self._add_layer(cat, mesh)
        self._add_sensor_glyphs()
        self.show_district()

    # -- building ---------------------------------------------------------------------------------
    def _add_ground(self) -> None:
        bbox = self.model.bbox()
        if bbox is None:
            return
        size = max(bbox[3] - bbox[0], bbox[4] - bbox[1])
        margin = 0.08 * size + 5.0
        plane = pv.Plane(
            center=((bbox[0] + bbox[3]) / 2, (bbox[1] + bbox[4]) / 2, min(0.0, bbox[5]) - 0.02),
            i_size=bbox[3] - bbox[0] + 2 * margin, j_size=bbox[4] - bbox[1] + 2 * margin,
        )
        self._ground = self.plotter.add_mesh(plane, color=GROUND_RGB, pickable=False, name="ground",
                                             reset_camera=False, render=False, lighting=True)

    def _add_building_labels(self) -> None:
        """One label actor naming every building above its roof."""
        buildings = self.model.of_class("IfcBuilding")
        points, names = [], []
        for b in buildings:
            bounds = self.model.element_bounds(int(b))
            if bounds is not None:
                points.append([(bounds[0] + bounds[3]) / 2, (bounds[1] + bounds[4]) / 2, bounds[5] + 4.0])
                names.append(str(self.model.name[b]) or str(self.model.long_name[b]))
        if points:
            self.plotter.add_point_labels(
                np.array(points), names, font_size=14, point_size=1, shape_opacity=0.55, shape_color="#1b2433",
                text_color="white", always_visible=True, show_points=False, pickable=False, name="building-labels",
                reset_camera=False, render=False,
            )

    def _add_layer(self, cat: Category, mesh: CategoryMesh) -> None:
        slots = np.where(self._alt_element[mesh.cell_element], SLOT_BASE_ALT, SLOT_BASE).astype(np.uint8)
        shades = shade_levels(mesh.points, mesh.triangles)
        centroid_z = mesh.points[mesh.triangles, 2].mean(axis=1)
        visible = np.arange(mesh.n_cells)
        polydata = pv.PolyData.from_regular_faces(mesh.points, mesh.triangles)
        polydata.cell_data["element"] = mesh.cell_element
        polydata.cell_data["colour"] = (slots * N_SHADES + shades).astype(np.uint16)
        n = N_SLOTS * N_SHADES
        actor = self.plotter.add_mesh(
            polydata, scalars="colour", clim=(0, n - 1), show_scalar_bar=False, name=f"layer-{cat.name}",
            reset_camera=False, render=False, pickable=True, lighting=False, opacity=CATEGORY_STYLE[cat]["opacity"],
        )
        mapper = actor.GetMapper()
        # draw (and pick) exactly this dataset: the cell locator is only used for the mapper's own input
        mapper.SetInputData(polydata)
        self._luts[cat] = _lookup_table(cat)
        mapper.SetLookupTable(self._luts[cat])
        mapper.SetScalarModeToUseCellFieldData()
        mapper.SelectColorArray("colour")
        mapper.SetScalarRange(0, n - 1)
        mapper.UseLookupTableScalarRangeOn()
        mapper.SetColorModeToMapScalars()
        mapper.InterpolateScalarsBeforeMappingOff()
        closed = self.model.meta.get("closed_categories")
        if closed is None:  # a model from an older cache entry: decide here
            closed = [c.name for c, m in self.model.meshes.items() if closed_outward(m, self.model.element_boxes())]
        if cat.name in closed:
            actor.GetProperty().BackfaceCullingOn()  # half the fragments on software OpenGL
        locator = vtk.vtkStaticCellLocator()
        self._picker.AddPickList(actor)
        self._picker.AddLocator(locator)
        if cat in (Category.EQUIPMENT, Category.SENSORS):
            self._device_picker.AddPickList(actor)
            self._device_picker.AddLocator(locator)
        self.layers[cat] = _Layer(mesh, slots.copy(), slots, shades, centroid_z, visible, polydata, actor, locator)

    def _add_sensor_glyphs(self) -> None:
        """Sensors are small: a screen-sized point at each sensor's centre keeps them visible from afar."""
        layer = self.layers.get(Category.SENSORS)
        if layer is None:
            return
        mesh = layer.mesh
        elements, which = np.unique(mesh.cell_element, return_inverse=True)
        centres = np.zeros((len(elements), 3))
        pts = mesh.points[mesh.triangles].mean(axis=1)
        counts = np.bincount(which, minlength=len(elements))
        for axis in range(3):
            centres[:, axis] = np.bincount(which, weights=pts[:, axis], minlength=len(elements)) / np.maximum(counts, 1)
        self._sensor_elements = elements
        self._sensor_centres = centres
        self._glyph_points = pv.PolyData(centres.copy())
        self._glyphs = self.plotter.add_mesh(
            self._glyph_points, color=CATEGORY_STYLE[Category.SENSORS]["base"], point_size=9,
            render_points_as_spheres=True, pickable=False, name="sensor-glyphs", reset_camera=False, render=False,
            lighting=False,
        )

    def _update_glyphs(self, cells: np.ndarray) -> None:
        if self._glyphs is None or self._sensor_elements is None:
            return
        shown = np.unique(self.layers[Category.SENSORS].mesh.cell_element[cells])
        keep = np.isin(self._sensor_elements, shown)
        points = self._sensor_centres[keep]
        self._glyph_points.points = points if len(points) else np.zeros((0, 3))
        self._glyph_points.verts = pv.CellArray.from_regular_cells(np.arange(len(points)).reshape(-1, 1))
        self._glyph_points.Modified()
        self._glyphs.SetVisibility(bool(len(points)) and self.layers[Category.SENSORS].shown)

    def _show_cells(self, cat: Category, cells: np.ndarray) -> None:
        """Draw only `cells` (indices into the full mesh) of a category."""
        layer = self.layers.get(cat)
        if layer is None:
            return
        layer.visible = cells
        layer.polydata.SetPolys(pv.CellArray.from_regular_cells(layer.mesh.triangles[cells]))
        layer.polydata.cell_data["element"] = layer.mesh.cell_element[cells]
        layer.polydata.cell_data["colour"] = (layer.slots[cells] * N_SHADES + layer.shades[cells]).astype(np.uint16)
        layer.polydata.Modified()
        layer.locator.SetDataSet(layer.polydata)
        if len(cells):
            layer.locator.BuildLocator()
        layer.actor.SetVisibility(bool(layer.shown and len(cells)))
        if cat == Category.SENSORS:
            self._update_glyphs(cells)

    def set_element_slots(self, element_slots: np.ndarray) -> None:
        """Recolour every element at once: one lookup-table slot per element (`KEEP_SLOT`: base colour).

        Vectorised: a gather per category and one array write, no loop over elements.
        """
        for layer in self.layers.values():
            wanted = element_slots[layer.mesh.cell_element]
            layer.slots = np.where(wanted == KEEP_SLOT, layer.base_slots, wanted).astype(np.uint8)
            colour = layer.polydata.cell_data["colour"]
            np.multiply(layer.slots[layer.visible], N_SHADES, out=colour, casting="unsafe")
            colour += layer.shades[layer.visible]
            layer.polydata.GetCellData().GetArray("colour").Modified()

    def show_states(self, element_state: np.ndarray, rolled_state: np.ndarray,
                    dim: np.ndarray | None = None) -> bool:
        """Colour by live state: hosts by their own state, facades by their storey's rolled-up state.

        Returns True when a colour or marker changed (only then is a new frame needed).

        Parameters
        ----------
        element_state
            Worst device state of each element's own devices (`DeviceState` values).
        rolled_state
            The same pushed up to storeys and buildings.
        dim
            Optional mask of elements filtered out (drawn dimmed).
        """
        self.element_state = element_state
        self.rolled_state = rolled_state
        model = self.model
        slots = HOST_SLOT[element_state]
        facade = self._is_structure & (model.storey >= 0)
        slots[facade] = FACADE_SLOT[rolled_state[model.storey[facade]]]
        if dim is not None:
            slots[dim & ~facade] = 7
        if self._last_slots is not None and np.array_equal(slots, self._last_slots):
            return False
        self._last_slots = slots
        self.set_element_slots(slots)
        self._update_markers()
        return True

    def _marker_source(self, shape: str, size: float) -> pv.PolyData:
        if shape == "cube":
            return pv.Cube(x_length=size, y_length=size, z_length=size)
        if shape == "cone":
            return pv.Cone(direction=(0, 0, -1), height=size, radius=size * 0.6, resolution=3)
        if shape == "sphere":
            return pv.Sphere(radius=size / 2, theta_resolution=10, phi_resolution=10)
        bar = pv.Cube(x_length=size * 1.2, y_length=size * 0.25, z_length=size * 0.25)
        return bar.rotate_z(45, inplace=False).merge(bar.rotate_z(-45, inplace=False))

    def _update_markers(self) -> None:
        """Shape markers above troubled elements: towers in the district view, rooms and devices in a storey.

        The marker actors persist; only their geometry is replaced, and only when the marked set changed.
        """
        if self.rolled_state is None:
            return
        model = self.model
        if self.focus_storey >= 0:
            candidates = np.flatnonzero((model.storey == self.focus_storey) & (model.category != Category.STRUCTURE))
            states = self.element_state[candidates]
            size, lift = 1.2, 1.0
        else:
            candidates = model.of_class("IfcBuilding")
            states = self.rolled_state[candidates]
            size, lift = 16.0, 24.0
        troubled = states >= DeviceState.STALE
        key = (self.focus_storey, candidates[troubled].tobytes(), states[troubled].tobytes())
        if key == self._marker_key:
            return
        self._marker_key = key
        for state in MARKER_STATES:
            chosen = candidates[states == state]
            tops = self._tops(chosen)
            actor = self._markers.get(state)
            if not len(tops):
                if actor is not None:
                    actor.SetVisibility(False)
                continue
            centres = np.column_stack([(tops[:, 0] + tops[:, 3]) / 2, (tops[:, 1] + tops[:, 4]) / 2,
                                       tops[:, 5] + lift])
            glyphs = pv.PolyData(centres).glyph(geom=self._marker_source(MARKER_SHAPE[state], size), orient=False,
                                                scale=False)
            if actor is None:
                self._marker_polys[state] = pv.PolyData()
                self._marker_polys[state].shallow_copy(glyphs)
                actor = self.plotter.add_mesh(
                    self._marker_polys[state], color=STATE_SLOT_RGB[int(HOST_SLOT[state])], pickable=False,
                    lighting=False, name=f"marker-{state.name.lower()}", reset_camera=False, render=False,
                    show_edges=False)
                actor.GetMapper().SetInputData(self._marker_polys[state])
                self._markers[state] = actor
                self._apply_section(actor)
            else:
                self._marker_polys[state].shallow_copy(glyphs)
                self._marker_polys[state].Modified()
            actor.SetVisibility(True)

    def _tops(self, elements: np.ndarray) -> np.ndarray:
        """Bounding boxes of elements (a building's covers its subtree; computed once per building)."""
        if not len(elements):
            return np.zeros((0, 6))
        boxes = []
        for element in elements:
            element = int(element)
            box = self._box_cache.get(element)
            if box is None:
                box = (self.model.element_bounds(element) if self.model.category[element] == Category.NONE
                       else self.model.element_boxes()[element])
                self._box_cache[element] = box
            if box is not None and not np.isnan(box[0]):
                boxes.append(box)
        return np.array(boxes) if boxes else np.zeros((0, 6))

    # -- views ------------------------------------------------------------------------------------
    def show_district(self) -> None:
        """District massing: structure and other elements; rooms and equipment stay inside."""
        self.focus_storey = -1
        self._room_opacity(False)
        for cat, layer in self.layers.items():
            if cat in (Category.STRUCTURE, Category.OTHER):
                self._show_cells(cat, np.arange(layer.mesh.n_cells))
            else:
                self._show_cells(cat, np.zeros(0, dtype=np.int64))
        if self.model.meshes.get(Category.STRUCTURE) is None or not self.model.meshes[Category.STRUCTURE].n_cells:
            # a model without structure (an MEP file, say) shows everything it has
            for cat, layer in self.layers.items():
                self._show_cells(cat, np.arange(layer.mesh.n_cells))
        if self._ground is not None:
            self._ground.SetVisibility(True)
        self._update_markers()

    def show_storey(self, storey: int) -> None:
        """Cut a storey open: hide its building's structure from this storey up, show its rooms and equipment."""
        model = self.model
        self.focus_storey = storey
        self._room_opacity(True)
        building = int(model.building[storey])
        bounds = model.element_bounds(storey)
        floor_z = bounds[2] if bounds is not None else 0.0
        in_storey = model.storey == storey
        in_building = model.building == building if building >= 0 else np.ones(model.n_elements, dtype=bool)
        for cat, layer in self.layers.items():
            el = layer.mesh.cell_element
            if cat in (Category.STRUCTURE, Category.OTHER):
                hide = in_building[el] & (layer.centroid_z > floor_z + 0.5)
                cells = np.flatnonzero(~hide)
            else:
                cells = np.flatnonzero(in_storey[el])
            self._show_cells(cat, cells)
        if self._ground is not None:
            self._ground.SetVisibility(bool(floor_z >= -0.5))
        self._update_markers()

    def isolate(self, index: int) -> None:
        """Show only an element and everything below it (a tower, a storey); -1 shows the district again."""
        self.isolated = index
        if index < 0:
            self.show_district()
            return
        mask = self.model.descendants_mask(index)
        for cat, layer in self.layers.items():
            self._show_cells(cat, np.flatnonzero(mask[layer.mesh.cell_element]))
        if self._ground is not None:
            bounds = self.model.element_bounds(index)
            self._ground.SetVisibility(bool(bounds is None or bounds[2] >= -0.5))

    def set_xray(self, on: bool) -> None:
        """X-ray: everything translucent except the selection (or the storey in focus), drawn opaque."""
        self.xray = on
        for layer in self.layers.values():
            layer.actor.GetProperty().SetOpacity(0.12 if on else 1.0)
        if not on:
            self._room_opacity(self.focus_storey >= 0)
        self._update_xray_focus()

    def _update_xray_focus(self) -> None:
        if self._xray_focus is not None:
            self.plotter.remove_actor(self._xray_focus, render=False)
            self._xray_focus = None
        if not self.xray:
            return
        focus = self.selected if self.selected >= 0 else self.focus_storey
        if focus < 0:
            return
        part = self.cells_polydata(self.model.descendants_mask(focus))
        if part.n_cells:
            self._xray_focus = self.plotter.add_mesh(part, scalars="rgb", rgb=True, pickable=False,
                                                     name="xray-focus", reset_camera=False, render=False,
                                                     lighting=False)
            self._apply_section(self._xray_focus)

    def cells_polydata(self, element_mask: np.ndarray) -> pv.PolyData:
        """The visible cells of the elements in `element_mask`, merged, with their colours as RGB."""
        points, faces, colours = [], [], []
        offset = 0
        for cat, layer in self.layers.items():
            cells = layer.visible[element_mask[layer.mesh.cell_element[layer.visible]]]
            if not len(cells):
                continue
            tris = layer.mesh.triangles[cells]
            used, inverse = np.unique(tris, return_inverse=True)
            points.append(layer.mesh.points[used])
            faces.append(inverse.reshape(-1, 3) + offset)
            offset += len(used)
            table = np.array([self._luts[cat].GetTableValue(i)[:3] for i in range(N_SLOTS * N_SHADES)])
            colours.append((table[layer.slots[cells] * N_SHADES + layer.shades[cells]] * 255).astype(np.uint8))
        if not points:
            return pv.PolyData()
        part = pv.PolyData.from_regular_faces(np.concatenate(points), np.concatenate(faces))
        part.cell_data["rgb"] = np.concatenate(colours)
        return part

    def set_section(self, origin: tuple[float, float, float] | None,
                    normal: tuple[float, float, float] = (0.0, 0.0, -1.0)) -> None:
        """Cut the model with a plane, keeping the side the normal points to; None removes the cut."""
        if origin is None:
            self.section_plane = None
        else:
            plane = vtk.vtkPlane()
            plane.SetOrigin(*origin)
            plane.SetNormal(*normal)
            self.section_plane = plane
        for layer in self.layers.values():
            self._apply_section(layer.actor)
        for actor in (self._highlight, self._highlight_edges, self._xray_focus):
            if actor is not None:
                self._apply_section(actor)

    def _apply_section(self, actor: vtk.vtkActor) -> None:
        mapper = actor.GetMapper()
        mapper.RemoveAllClippingPlanes()
        if self.section_plane is not None:
            mapper.AddClippingPlane(self.section_plane)

    def pick_point(self, x: float, y: float) -> np.ndarray | None:
        """World position of the surface under display position (x, y), None on empty sky."""
        if not self._picker.Pick(x, y, 0, self.plotter.renderer):
            return None
        return np.array(self._picker.GetPickPosition(), dtype=float)

    def show_measurement(self, a: np.ndarray, b: np.ndarray | None = None) -> float | None:
        """Mark a measured point, or the line between two points with its length; returns the distance."""
        self.clear_measurement()
        marks = pv.PolyData(np.array([a] if b is None else [a, b], dtype=float))
        self._measure_actors.append(self.plotter.add_mesh(
            marks, color="#ff3d7f", point_size=12, render_points_as_spheres=True, pickable=False,
            name="measure-points", reset_camera=False, render=False))
        if b is None:
            return None
        distance = float(np.linalg.norm(b - a))
        self._measure_actors.append(self.plotter.add_mesh(
            pv.Line(a, b), color="#ff3d7f", line_width=4, pickable=False, name="measure-line",
            reset_camera=False, render=False))
        self._measure_actors.append(self.plotter.add_point_labels(
            np.array([(a + b) / 2.0]), [f"{distance:.2f} m"], font_size=18, text_color="white",
            shape_color="#ff3d7f", shape_opacity=0.85, always_visible=True, show_points=False, pickable=False,
            name="measure-label", reset_camera=False, render=False))
        return distance

    def clear_measurement(self) -> None:
        """Remove the measurement marks."""
        for actor in self._measure_actors:
            self.plotter.remove_actor(actor, render=False)
        self._measure_actors = []

    def set_category_visible(self, cat: Category, shown: bool) -> None:
        """Show or hide a whole category."""
        layer = self.layers.get(cat)
        if layer is not None:
            layer.shown = shown
            layer.actor.SetVisibility(bool(shown and len(layer.visible)))
            if cat == Category.SENSORS:
                self._update_glyphs(layer.visible)

    # -- selection --------------------------------------------------------------------------------
    def pick(self, x: float, y: float) -> int:
        """Element index under display position (x, y) (VTK's origin: bottom left), -1 when none."""
        renderer = self.plotter.renderer
        for picker in (self._device_picker, self._picker):
            if not picker.Pick(x, y, 0, renderer):
                continue
            actor = picker.GetActor()
            cell = picker.GetCellId()
            for layer in self.layers.values():
                if layer.actor is actor and layer.actor.GetVisibility() and 0 <= cell < len(layer.visible):
                    return int(layer.mesh.cell_element[layer.visible[cell]])
        return -1

    def _room_opacity(self, opened: bool) -> None:
        layer = self.layers.get(Category.SPACES)
        if layer is not None and not self.xray:
            layer.actor.GetProperty().SetOpacity(ROOM_OPACITY_OPEN if opened else 1.0)

    def select(self, index: int) -> None:
        """Highlight one element (and its parts); -1 clears the highlight."""
        self.selected = index
        if self._highlight is not None:
            self.plotter.remove_actor(self._highlight, render=False)
            self.plotter.remove_actor(self._highlight_edges, render=False)
            self._highlight = None
            self._highlight_edges = None
        self._update_xray_focus()
        if index < 0:
            return
        model = self.model
        if model.category[index] == Category.NONE:
            return  # a storey or building is shown by the view, not by a highlight
        cat = Category(int(model.category[index]))
        layer = self.layers.get(cat)
        if layer is None or model.cell_count[index] == 0:
            return
        start, count = int(model.cell_start[index]), int(model.cell_count[index])
        tris = layer.mesh.triangles[start:start + count]
        used, inverse = np.unique(tris, return_inverse=True)
        pts = layer.mesh.points[used].astype(np.float64)
        centre = (pts.min(axis=0) + pts.max(axis=0)) / 2.0
        half = np.maximum((pts.max(axis=0) - pts.min(axis=0)) / 2.0, 1e-3)
        # a little larger: drawn on top without z-fighting, and small devices at least 0.6 m across
        grow = np.maximum(0.06, 0.3 - half)
        pts = centre + (pts - centre) * ((half + grow) / half)
        part = pv.PolyData.from_regular_faces(pts, inverse.reshape(-1, 3))
        # a faint fill and a bold outline: the element's own (state) colour stays readable through it
        self._highlight = self.plotter.add_mesh(
            part, color=HIGHLIGHT_RGB, opacity=0.3, pickable=False, name="highlight", reset_camera=False, render=False,
            lighting=False,
        )
        edges = part.extract_feature_edges(boundary_edges=True, feature_edges=True, manifold_edges=False,
                                           non_manifold_edges=False, feature_angle=30)
        self._highlight_edges = self.plotter.add_mesh(
            edges, color=HIGHLIGHT_RGB, line_width=5, pickable=False, name="highlight-edges", reset_camera=False,
            render=False, lighting=False,
        )
        self._apply_section(self._highlight)
        self._apply_section(self._highlight_edges)

    # -- camera -----------------------------------------------------------------------------------
    def camera_overview(self) -> None:
        """The whole district from the south-east, a little above."""
        bbox = self.model.bbox()
        if bbox is None:
            return
        self._look_at(bbox, elevation_factor=0.75, distance_factor=1.5)

    def camera_to(self, index: int) -> None:
        """Fly the camera to an element (its whole subtree for a building or storey)."""
        bounds = self.model.element_bounds(index)
        if bounds is None:
            return
        if self.model.category[index] != Category.NONE:
            # a room or a device is shown in its surroundings: at least 40 m across
            centre = (bounds[:3] + bounds[3:]) / 2.0
            half = np.maximum((bounds[3:] - bounds[:3]) / 2.0, [20.0, 20.0, 3.0])
            bounds = np.concatenate([centre - half, centre + half])
        self._look_at(bounds, elevation_factor=1.0 if self.model.category[index] != Category.NONE else 0.9,
                      distance_factor=2.6)

    def camera_plan(self, index: int) -> None:
        """Straight down on an element (a storey plan), north up."""
        bounds = self.model.element_bounds(index)
        if bounds is None:
            return
        centre = (bounds[:3] + bounds[3:]) / 2.0
        camera = self.plotter.camera
        camera.focal_point = tuple(centre)
        camera.position = (centre[0], centre[1], centre[2] + 10.0)
        camera.up = (0.0, 1.0, 0.0)
        renderer = self.plotter.renderer
        renderer.ResetCamera(*np.column_stack([bounds[:3], bounds[3:]]).ravel())
        camera.zoom(1.3)
        renderer.ResetCameraClippingRange()

    def camera_side(self, index: int) -> None:
        """An element (a tower) from the south, slightly above, filling the view."""
        bounds = self.model.element_bounds(index)
        if bounds is not None:
            self._look_at(bounds, elevation_factor=0.25, distance_factor=2.0, direction_xy=(0.25, -1.0))

    def _look_at(self, bounds: np.ndarray, elevation_factor: float, distance_factor: float,
                 direction_xy: tuple[float, float] = (0.55, -0.75)) -> None:
        centre = (bounds[:3] + bounds[3:]) / 2.0
        direction = np.array([*direction_xy, elevation_factor])
        direction /= np.linalg.norm(direction)
        camera = self.plotter.camera
        camera.focal_point = tuple(centre)
        camera.position = tuple(centre + direction)
        camera.up = (0.0, 0.0, 1.0)
        renderer = self.plotter.renderer
        renderer.ResetCamera(*np.column_stack([bounds[:3], bounds[3:]]).ravel())  # fit, keeping the direction
        camera.zoom(2.0 / distance_factor)
        renderer.ResetCameraClippingRange()
