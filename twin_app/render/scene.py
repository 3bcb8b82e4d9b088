"""The district scene: one merged mesh and one actor per category, built from core arrays.

Cells carry their element index; colour comes from a per-cell scalar through a
lookup table, so recolouring is one array write. What is shown (the district
massing, or a storey cut open) is a subset of cells of the same mesh, and
picking goes through a static cell locator.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass

import numpy as np
import pyvista as pv
import vtk

from twin_app.core.model import Category, CategoryMesh, DistrictModel, closed_outward
from twin_app.core.palette import Palette
from twin_app.core.palette import palette as get_palette
from twin_app.core.state import DeviceState
from twin_app.render.fonts import apply_font

# Lookup-table slots shared by every category mesh. Shading is baked into the table: the
# scalar of a cell is slot * N_SHADES + shade level of its face, and actors draw unlit,
# which is several times faster than per-fragment lighting on software OpenGL.
SLOT_BASE = 0
SLOT_BASE_ALT = 1
N_SLOTS = 8
KEEP_SLOT = 255  # in `set_element_slots`: the element keeps its base colour
# state slots 2..7, shared by every category -> row of `Palette.states`
STATE_SLOT_ROW: dict[int, int] = {2: 0, 3: 1, 4: 2, 5: 3, 6: 4, 7: 5}  # normal, warning, alarm, offline, stale, dimmed
LIGHT = get_palette("light")
# the light palette's state colours as floats (the legend of the console uses them)
STATE_SLOT_RGB: dict[int, tuple[float, float, float]] = {
    slot: Palette.float_rgb(LIGHT.states[row]) for slot, row in STATE_SLOT_ROW.items()}
N_SHADES = 8
SUN_DIRECTION = np.array([0.45, -0.65, 0.62])
ROOM_OPACITY_OPEN = 0.35  # rooms of a storey cut open: the equipment inside shows through
DEVICE_CATEGORIES = (Category.EQUIPMENT, Category.SENSORS)

# device state -> slot: hosts (rooms, equipment, sensors) and the facade of a storey (its rolled-up state)
HOST_SLOT = np.array([KEEP_SLOT, 2, 6, 5, 3, 4], dtype=np.uint8)
FACADE_SLOT = np.array([KEEP_SLOT, KEEP_SLOT, 6, 5, 3, 4], dtype=np.uint8)
# marker shape per state, so that a state never depends on hue alone
MARKER_STATES = (DeviceState.STALE, DeviceState.OFFLINE, DeviceState.WARNING, DeviceState.ALARM)
MARKER_SHAPE = {DeviceState.STALE: "sphere", DeviceState.OFFLINE: "cross", DeviceState.WARNING: "cone",
                DeviceState.ALARM: "cube"}
HIGHLIGHT_RGB = Palette.float_rgb(LIGHT.highlight)
BACKGROUND_TOP = Palette.float_rgb(LIGHT.background_top)
BACKGROUND_BOTTOM = Palette.float_rgb(LIGHT.background_bottom)
GROUND_RGB = Palette.float_rgb(LIGHT.ground)
LABEL_LIFT_M = 4.0  # building labels stand this high above their roofs
LABEL_FONT_PX = 14  # building labels
MEASURE_FONT_PX = 18
HIGHLIGHT_LINE_PX = 5.0
SENSOR_POINT_PX = 9.0

# Framing: margins as fractions of the viewport (left, right, bottom, top)
OVERVIEW_MARGINS = (0.04, 0.04, 0.04, 0.07)  # labels stand above their anchors: more room at the top
ELEMENT_MARGINS = (0.22, 0.22, 0.22, 0.22)  # an element flown to fills about the middle half of the view
ELEMENT_MIN_HALF_M = (1.0, 1.0, 0.6)  # a tiny device is framed with at least this much around it
VIEW_DIRECTION = (0.55, -0.75, 0.75)  # from the scene towards the camera: south-east, above

# Level of detail of facades: floor slabs (their edges are storey lines) are drawn only when storeys are at
# least this many pixels apart on screen; further away their thin edges alias into moire.
STOREY_LINE_MIN_PX = 10.0
STOREY_LINE_HYSTERESIS_PX = 2.0
LOD_CLASSES = ("IfcSlab", "IfcCovering")


# Incident markers (wall display): screen-sized 2D shapes drawn in an overlay renderer above the whole scene.
# Shape and colour both carry the priority; a white halo and a dark outline keep them readable on any background.
INCIDENT_PRIORITIES = ("critical", "high", "medium", "low")
INCIDENT_STYLE: dict[str, dict] = {
    "critical": {"shape": "double-diamond", "rgb": Palette.hex(LIGHT.priority("critical")), "half": (40.0, 44.0)},
    "high": {"shape": "diamond", "rgb": Palette.hex(LIGHT.priority("high")), "half": (33.0, 37.0)},
    "medium": {"shape": "triangle", "rgb": Palette.hex(LIGHT.priority("medium")), "half": (40.0, 34.0)},
    "low": {"shape": "circle", "rgb": Palette.hex(LIGHT.priority("low")), "half": (32.0, 32.0)},
}
INCIDENT_OUTLINE_PX = 4.0  # dark outline around every marker
INCIDENT_HALO_PX = 2.0  # white halo outside the outline
INCIDENT_STEM_PX = 16.0  # leader from the element's top to the marker's lower edge
INCIDENT_FONT_PX = 22
INCIDENT_LABEL_PAD = (10, 7)  # label box padding, x and y, in pixels
INCIDENT_GAP_PX = 10.0  # between a marker and its label, and between stacked markers
INCIDENT_EDGE_PX = 6.0  # markers clamped to the viewport keep this distance from its edge
INCIDENT_DARK = tuple(int(c) for c in LIGHT.outline)
INCIDENT_LABEL_BOX = tuple(int(c) for c in LIGHT.incident_label_box)
INCIDENT_OVERLAY_LAYER_MIN = 4  # render window layer of the overlay renderer (pyvista uses up to 3)


@dataclass(frozen=True)
class IncidentMarker:
    """A standing incident to mark on the wall display.

    Attributes
    ----------
    id
        Stable identifier of the incident.
    element
        Index of the host element in the model; -1 when unknown (the incident is not drawn).
    priority
        "critical", "high", "medium" or "low" (anything else is drawn as "medium").
    unacknowledged
        Unacknowledged incidents flash (see `DistrictScene.blink`).
    label
        Short text drawn beside the marker, e.g. "T05 B1 · CO high".
    """

    id: str
    element: int
    priority: str
    unacknowledged: bool
    label: str


@dataclass
class _IncidentActors:
    """The overlay actors of one incident marker and its last layout (viewport pixels)."""

    marker: IncidentMarker
    rank: int  # 0 for critical .. 3 for low: placed first, drawn last (on top)
    shape: vtk.vtkActor2D
    box: vtk.vtkActor2D
    text: vtk.vtkTextActor
    half: tuple[float, float]  # outer half width and height of the marker
    label_size: tuple[float, float]  # width and height of the label box
    anchor_world: np.ndarray  # top centre of the host element
    centre: tuple[float, float] = (0.0, 0.0)
    anchor: tuple[float, float] | None = None  # the element's top on screen; None when off-screen
    direction: tuple[float, float] | None = None  # towards an off-screen element


def _label_text_property(actor: vtk.vtkActor2D) -> vtk.vtkTextProperty:
    """The text property of a pyvista point-label actor (its label hierarchy's)."""
    hierarchy = actor.GetMapper().GetInputConnection(0, 0).GetProducer()
    return hierarchy.GetTextProperty()


def _box_corners(box: np.ndarray) -> np.ndarray:
    """The 8 corners of [xmin, ymin, zmin, xmax, ymax, zmax]."""
    return np.array([[box[0 + 3 * i], box[1 + 3 * j], box[2 + 3 * k]] for i in (0, 1) for j in (0, 1) for k in (0, 1)],
                    dtype=float)


def _offset_polygon(points: np.ndarray, distance: float) -> np.ndarray:
    """Grow a convex counter-clockwise polygon by `distance` pixels (shrink when negative)."""
    edges = np.roll(points, -1, axis=0) - points
    normals = np.column_stack([edges[:, 1], -edges[:, 0]])
    normals /= np.linalg.norm(normals, axis=1, keepdims=True)
    before = np.roll(normals, 1, axis=0)  # the edge ending at each vertex
    bisector = before + normals
    scale = distance / (1.0 + np.einsum("ij,ij->i", before, normals))
    return points + bisector * scale[:, None]


def _marker_outline(shape: str, half: tuple[float, float]) -> np.ndarray:
    """Counter-clockwise outline of a marker's fill, centred on (0, 0), in pixels."""
    w, h = half
    if shape in ("diamond", "double-diamond"):
        return np.array([[0.0, -h], [w, 0.0], [0.0, h], [-w, 0.0]])
    if shape == "triangle":
        return np.array([[-w, -h], [w, -h], [0.0, h]])
    angles = np.linspace(0.0, 2 * np.pi, 48, endpoint=False)
    return np.column_stack([w * np.cos(angles), h * np.sin(angles)])


def _polygons(rings: list[tuple[np.ndarray, tuple[int, int, int]]]) -> vtk.vtkPolyData:
    """2D polygons (drawn in order, later on top) with one RGB colour each."""
    points = vtk.vtkPoints()
    cells = vtk.vtkCellArray()
    colours = vtk.vtkUnsignedCharArray()
    colours.SetNumberOfComponents(3)
    for ring, rgb in rings:
        ids = [points.InsertNextPoint(float(x), float(y), 0.0) for x, y in ring]
        cells.InsertNextCell(len(ids), ids)
        colours.InsertNextTuple3(*rgb)
    poly = vtk.vtkPolyData()
    poly.SetPoints(points)
    poly.SetPolys(cells)
    poly.GetCellData().SetScalars(colours)
    return poly




def _rgb(colour: np.ndarray) -> tuple[int, int, int]:
    r, g, b = (int(c) for c in colour[:3])
    return r, g, b


def _free_shift(box: tuple[float, float, float, float], placed: list[tuple[float, float, float, float]],
                height: float, edge: float = INCIDENT_EDGE_PX, gap: float = INCIDENT_GAP_PX) -> float:
    """The vertical shift that stacks `box` clear of every `placed` box: upwards, else downwards, else none."""
    x0, y0, x1, y1 = box
    for sign in (1.0, -1.0):
        dy = 0.0
        for _ in range(len(placed) + 1):
            hit = next((b for b in placed if x0 < b[2] and b[0] < x1 and y0 + dy < b[3] and b[1] < y1 + dy), None)
            if hit is None:
                if y0 + dy >= edge and y1 + dy <= height - edge:
                    return dy
                break
            dy = hit[3] + gap / 2 - y0 if sign > 0 else hit[1] - gap / 2 - y1
    return 0.0

def _leader(anchor: np.ndarray, end: np.ndarray, scale: float = 1.0,
            colours: Palette = LIGHT) -> list[tuple[np.ndarray, tuple[int, int, int]]]:
    """A dark line with a white halo from an element's top to its marker, and a pin at the element."""
    rings = []
    halo, dark = _rgb(colours.halo), _rgb(colours.outline)
    along = end - anchor
    length = float(np.linalg.norm(along))
    if length > 1e-6:
        along /= length
        across = np.array([-along[1], along[0]])
        for width, rgb in ((3.0 * scale, halo), (1.5 * scale, dark)):
            rings.append((np.array([anchor - across * width, end - across * width, end + across * width,
                                    anchor + across * width]), rgb))
    for half, rgb in ((6.0 * scale, halo), (4.0 * scale, dark)):
        rings.append((anchor + np.array([[-half, -half], [half, -half], [half, half], [-half, half]]), rgb))
    return rings


def _arrow(centre: np.ndarray, direction: np.ndarray, radius: float, rgb: tuple[int, int, int], scale: float = 1.0,
           colours: Palette = LIGHT) -> list[tuple[np.ndarray, tuple[int, int, int]]]:
    """An arrow beside a marker clamped to the viewport's edge, pointing towards its off-screen element."""
    across = np.array([-direction[1], direction[0]])
    base = centre + direction * (radius + 4.0 * scale)
    tip = centre + direction * (radius + 20.0 * scale)
    fill = np.array([base - across * 12.0 * scale, tip, base + across * 12.0 * scale])
    return [(_offset_polygon(fill, 4.0 * scale), _rgb(colours.halo)),
            (_offset_polygon(fill, 2.5 * scale), _rgb(colours.outline)), (fill, rgb)]

def incident_marker_polydata(priority: str, scale: float = 1.0,
                             colours: Palette = LIGHT) -> tuple[vtk.vtkPolyData, tuple[float, float]]:
    """The marker of a priority in pixels around (0, 0), and its outer half width and height.

    Parameters
    ----------
    priority
        One of `INCIDENT_PRIORITIES`.
    scale
        Screen scale (high-DPI screens, video walls): every size is multiplied by it.
    colours
        The palette (fill, outline and halo colours).

    Returns
    -------
    polydata, (half_width, half_height)
    """
    style = INCIDENT_STYLE.get(priority, INCIDENT_STYLE["medium"])
    fill = _marker_outline(style["shape"], (style["half"][0] * scale, style["half"][1] * scale))
    rgb = _rgb(colours.priority(priority))
    white = _rgb(colours.halo)
    dark = _offset_polygon(fill, INCIDENT_OUTLINE_PX * scale)
    halo = _offset_polygon(fill, (INCIDENT_OUTLINE_PX + INCIDENT_HALO_PX) * scale)
    rings = [(halo, white), (dark, _rgb(colours.outline)), (fill, rgb)]
    if style["shape"] == "double-diamond":  # a white ring inside: a diamond within a diamond
        rings += [(_offset_polygon(fill, -10.0 * scale), white), (_offset_polygon(fill, -15.0 * scale), rgb)]
    extent = np.abs(halo).max(axis=0)
    return _polygons(rings), (float(extent[0]), float(extent[1]))


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


def _lookup_table(category: Category, colours_of: Palette = LIGHT,
                  lut: vtk.vtkLookupTable | None = None) -> vtk.vtkLookupTable:
    """The lookup table of a category (slots x shades), filled from a palette; `lut` is refilled when given."""
    lut = lut if lut is not None else vtk.vtkLookupTable()
    n = N_SLOTS * N_SHADES
    lut.SetNumberOfTableValues(n)
    lut.SetTableRange(0, n - 1)
    colours = np.tile(colours_of.category_base[int(category)] / 255.0, (N_SLOTS, 1))
    colours[SLOT_BASE_ALT] = colours_of.category_alt[int(category)] / 255.0
    for slot, row in STATE_SLOT_ROW.items():
        colours[slot] = colours_of.states[row] / 255.0
    for slot in range(N_SLOTS):
        for level in range(N_SHADES):
            rgb = np.clip(colours[slot] * shade_factor(level), 0.0, 1.0)
            lut.SetTableValue(slot * N_SHADES + level, *rgb, 1.0)
    lut.Build()
    lut.Modified()
    return lut


class DistrictScene:
    """Actors of a `DistrictModel` in a PyVista plotter.

    Parameters
    ----------
    plotter
        A `pyvista.Plotter` or a pyvistaqt interactor.
    model
        The model to draw.
    colours
        The palette (default: the light one); `set_palette` changes it later.
    scale
        Screen scale of markers, labels and lines (high-DPI screens, video walls); `set_scale` changes it.
    """

    def __init__(self, plotter: pv.Plotter, model: DistrictModel, colours: Palette | None = None,
                 scale: float = 1.0) -> None:
        self.plotter = plotter
        self.model = model
        self.palette = colours if colours is not None else LIGHT
        self.scale = float(scale)
        self._measure_points: tuple[np.ndarray, np.ndarray | None] | None = None
        self._lod_far = False
        self._lod_cells: np.ndarray = np.zeros(0, dtype=np.int64)
        self._storey_height_m = 3.0
        self._building_boxes = np.zeros((0, 6))
        self._lod_observer: int | None = None
        self._district_view = True
        self._label_names: list[str] = []
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
        self._incidents: list[_IncidentActors] = []
        self._incident_key: tuple[IncidentMarker, ...] = ()
        self._blink_on = True
        self._overlay: vtk.vtkRenderer | None = None
        self._hints = vtk.vtkPolyData()
        self._render_observer: int | None = None
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
        # rooms never hide the equipment inside them: translucent whenever the model has devices
        self._devices_in_rooms = any(model.meshes.get(c) is not None and model.meshes[c].n_cells
                                     for c in DEVICE_CATEGORIES)
        plotter.set_background(Palette.float_rgb(self.palette.background_bottom),
                               top=Palette.float_rgb(self.palette.background_top))
        self._add_ground()
        self._add_building_labels()
        for cat, mesh in model.meshes.items():
            if mesh.n_cells:
                self._add_layer(cat, mesh)
        self._add_sensor_glyphs()
        self._prepare_lod()
        self.show_district()
        self._lod_observer = plotter.renderer.AddObserver("StartEvent", lambda *_: self._update_lod())
        previous = getattr(plotter, "_district_scene", None)
        if previous is not None and previous() is not None and previous() is not self:
            previous().detach()  # a model opened again in the same view: the old scene stops listening
        plotter._district_scene = weakref.ref(self)

    def detach(self) -> None:
        """Stop following the renderer's frames (the scene's actors are left to the plotter to clear)."""
        renderer = self.plotter.renderer
        for tag in (self._lod_observer, self._render_observer):
            if tag is not None:
                renderer.RemoveObserver(tag)
        self._lod_observer = self._render_observer = None
        if self._overlay is not None:
            self.plotter.render_window.RemoveRenderer(self._overlay)
            self._overlay = None
            self._incidents = []
            self._incident_key = ()

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
        self._ground = self.plotter.add_mesh(plane, color=Palette.float_rgb(self.palette.ground), pickable=False,
                                             name="ground",
                                             reset_camera=False, render=False, lighting=True)

    def _add_building_labels(self) -> None:
        """One label actor naming every building above its roof."""
        buildings = self.model.of_class("IfcBuilding")
        points, names = [], []
        for b in buildings:
            bounds = self.model.element_bounds(int(b))
            if bounds is not None:
                points.append([(bounds[0] + bounds[3]) / 2, (bounds[1] + bounds[4]) / 2, bounds[5] + LABEL_LIFT_M])
                names.append(str(self.model.name[b]) or str(self.model.long_name[b]))
        self._label_names = names
        if points:
            actor = self.plotter.add_point_labels(
                np.array(points), names, font_size=round(LABEL_FONT_PX * self.scale), point_size=1, shape_opacity=0.55,
                shape_color=Palette.hex(self.palette.label_box), text_color=Palette.hex(self.palette.label_text),
                always_visible=True, show_points=False, pickable=False, name="building-labels", reset_camera=False,
                render=False,
            )
            apply_font(_label_text_property(actor))

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
            reset_camera=False, render=False, pickable=True, lighting=False,
        )
        mapper = actor.GetMapper()
        # draw (and pick) exactly this dataset: the cell locator is only used for the mapper's own input
        mapper.SetInputData(polydata)
        self._luts[cat] = _lookup_table(cat, self.palette)
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
            self._glyph_points, color=Palette.float_rgb(self.palette.category_base[int(Category.SENSORS)]),
            point_size=SENSOR_POINT_PX * self.scale,
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
                    self._marker_polys[state], color=self._state_rgb(state), pickable=False,
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
        boxes = [box for box in (self._element_box(int(e)) for e in elements) if box is not None]
        return np.array(boxes) if boxes else np.zeros((0, 6))

    def _element_box(self, element: int) -> np.ndarray | None:
        """Bounding box of an element (a building's or storey's covers its subtree), None without geometry."""
        if not 0 <= element < self.model.n_elements:
            return None
        if element not in self._box_cache:
            box = (self.model.element_bounds(element) if self.model.category[element] == Category.NONE
                   else self.model.element_boxes()[element])
            self._box_cache[element] = None if box is None or np.isnan(box[0]) else np.asarray(box, dtype=float)
        return self._box_cache[element]

    # -- incident markers -------------------------------------------------------------------------
    def show_incidents(self, markers: list[IncidentMarker]) -> bool:
        """Mark standing incidents with screen-sized shapes and labels drawn above the whole scene.

        Geometry is rebuilt only when the set of markers changed; their screen positions follow the
        camera on every render.

        Parameters
        ----------
        markers
            The incidents to show; those without a host element (-1) or without geometry are skipped.

        Returns
        -------
        bool
            True when the markers changed (a new frame is needed).
        """
        drawable = tuple(m for m in markers if self._element_box(int(m.element)) is not None)
        if drawable == self._incident_key:
            return False
        self._incident_key = drawable
        overlay = self._ensure_overlay()
        for incident in self._incidents:
            for actor in (incident.shape, incident.box, incident.text):
                overlay.RemoveViewProp(actor)
        self._incidents = []
        order = sorted(range(len(drawable)), key=lambda i: (-self._incident_rank(drawable[i].priority), i))
        for i in order:  # low priorities first, so that critical markers are drawn on top
            self._incidents.append(self._make_incident(drawable[i], overlay))
        self._apply_blink()
        self._layout_incidents()
        return True

    def blink(self, phase: bool) -> bool:
        """Flash unacknowledged incidents: their markers show in the on phase and hide in the off phase.

        Acknowledged incidents stay steady, and labels stay readable in both phases.

        Parameters
        ----------
        phase
            True for the on phase.

        Returns
        -------
        bool
            True when a marker appeared or disappeared.
        """
        if phase == self._blink_on:
            return False
        self._blink_on = phase
        return self._apply_blink()

    def incident_positions(self) -> dict[str, tuple[float, float]]:
        """Display position (pixels, origin bottom left) of each drawn marker's centre for the current camera."""
        self._layout_incidents()
        if not self._incidents:
            return {}
        ox, oy = self.plotter.renderer.GetOrigin()
        return {inc.marker.id: (inc.centre[0] + ox, inc.centre[1] + oy) for inc in self._incidents}

    @staticmethod
    def _incident_rank(priority: str) -> int:
        return INCIDENT_PRIORITIES.index(priority) if priority in INCIDENT_PRIORITIES else 2

    def _apply_blink(self) -> bool:
        changed = False
        for incident in self._incidents:
            shown = self._blink_on or not incident.marker.unacknowledged
            if bool(incident.shape.GetVisibility()) != shown:
                incident.shape.SetVisibility(shown)
                changed = True
        return changed

    def _ensure_overlay(self) -> vtk.vtkRenderer:
        """A renderer on a layer above the scene's, for 2D overlays that nothing in the scene may hide."""
        if self._overlay is not None:
            return self._overlay
        window = self.plotter.render_window
        main = self.plotter.renderer
        layer = max(window.GetNumberOfLayers(), INCIDENT_OVERLAY_LAYER_MIN)
        window.SetNumberOfLayers(layer + 1)
        overlay = vtk.vtkRenderer()
        overlay.SetLayer(layer)
        overlay.SetInteractive(False)
        overlay.SetViewport(*main.GetViewport())
        window.AddRenderer(overlay)
        hints = vtk.vtkActor2D()  # leaders and off-screen arrows, under the markers
        mapper = vtk.vtkPolyDataMapper2D()
        mapper.SetInputData(self._hints)
        mapper.SetColorModeToDirectScalars()
        mapper.SetScalarModeToUseCellData()
        hints.SetMapper(mapper)
        overlay.AddViewProp(hints)
        self._overlay = overlay
        self._render_observer = main.AddObserver("StartEvent", lambda *_: self._layout_incidents())
        return overlay

    def _make_incident(self, marker: IncidentMarker, overlay: vtk.vtkRenderer) -> _IncidentActors:
        rank = self._incident_rank(marker.priority)
        priority = INCIDENT_PRIORITIES[rank]
        rgb = _rgb(self.palette.priority(priority))
        scale = self.scale
        poly, half = incident_marker_polydata(priority, scale, self.palette)
        shape = vtk.vtkActor2D()
        mapper = vtk.vtkPolyDataMapper2D()
        mapper.SetInputData(poly)
        mapper.SetColorModeToDirectScalars()
        mapper.SetScalarModeToUseCellData()
        shape.SetMapper(mapper)
        text = vtk.vtkTextActor()
        text.SetInput(marker.label)
        prop = text.GetTextProperty()
        font_px = round(INCIDENT_FONT_PX * scale)
        prop.SetFontSize(font_px)
        prop.BoldOn()
        prop.SetColor(*Palette.float_rgb(self.palette.label_text))
        apply_font(prop)
        prop.SetJustificationToLeft()
        prop.SetVerticalJustificationToCentered()
        extent = [0, 0, 0, 0]
        dpi = self.plotter.render_window.GetDPI()
        if not marker.label or not vtk.vtkTextRenderer().GetBoundingBox(prop, marker.label, extent, dpi):
            extent = [0, 0, 0, font_px]
        pad_x, pad_y = INCIDENT_LABEL_PAD[0] * scale, INCIDENT_LABEL_PAD[1] * scale
        size = (extent[1] - extent[0] + 2.0 * pad_x, max(extent[3] - extent[2], font_px) + 2.0 * pad_y)
        border = 3.0 * scale
        outer = np.array([[0.0, -size[1] / 2], [size[0], -size[1] / 2], [size[0], size[1] / 2], [0.0, size[1] / 2]])
        inner = outer + np.array([[border, border], [-border, border], [-border, -border], [border, -border]])
        box = vtk.vtkActor2D()
        box_mapper = vtk.vtkPolyDataMapper2D()
        box_mapper.SetInputData(_polygons([(outer, rgb), (inner, _rgb(self.palette.incident_label_box))]))
        box_mapper.SetColorModeToDirectScalars()
        box_mapper.SetScalarModeToUseCellData()
        box.SetMapper(box_mapper)
        box.SetVisibility(bool(marker.label))
        text.SetVisibility(bool(marker.label))
        for actor in (shape, box, text):
            overlay.AddViewProp(actor)
        bounds = self._element_box(int(marker.element))
        top = np.array([(bounds[0] + bounds[3]) / 2, (bounds[1] + bounds[4]) / 2, bounds[5]])
        return _IncidentActors(marker, rank, shape, box, text, half, size, top)

    def _layout_incidents(self) -> None:
        """Project every marker's element onto the screen and place markers, labels and leaders (per render)."""
        if not self._incidents:
            self._hints.Initialize()
            return
        renderer = self.plotter.renderer
        width, height = renderer.GetSize()
        if width <= 0 or height <= 0:
            return
        self._overlay.SetViewport(*renderer.GetViewport())
        matrix = renderer.GetActiveCamera().GetCompositeProjectionTransformMatrix(
            renderer.GetTiledAspectRatio(), -1, 1)
        m = np.array([[matrix.GetElement(i, j) for j in range(4)] for i in range(4)])
        world = np.array([incident.anchor_world for incident in self._incidents])
        clip = np.column_stack([world, np.ones(len(world))]) @ m.T
        w = clip[:, 3]
        front = w > 1e-9
        ndc = clip[:, :2] / np.where(front, w, 1.0)[:, None]
        screen = np.array([width, height], dtype=float)
        display = (ndc + 1.0) / 2.0 * screen
        on_screen = front & (np.abs(ndc) <= 1.0).all(axis=1)
        placed: list[tuple[float, float, float, float]] = []
        rings: list[tuple[np.ndarray, tuple[int, int, int]]] = []
        scale = self.scale
        stem, edge, gap = INCIDENT_STEM_PX * scale, INCIDENT_EDGE_PX * scale, INCIDENT_GAP_PX * scale
        for k in sorted(range(len(self._incidents)), key=lambda i: self._incidents[i].rank):
            incident = self._incidents[k]
            hw, hh = incident.half
            if on_screen[k]:
                incident.anchor = (float(display[k, 0]), float(display[k, 1]))
                incident.direction = None
                cx, cy = incident.anchor[0], incident.anchor[1] + stem + hh
                margin = (hw + edge, hh + edge)
            else:
                direction = (display[k] - screen / 2.0) if front[k] else clip[k, :2]
                length = float(np.linalg.norm(direction))
                direction = direction / length if length > 1e-9 else np.array([0.0, -1.0])
                incident.anchor = None
                incident.direction = (float(direction[0]), float(direction[1]))
                reach = 24.0 * scale  # room for the arrow between the marker and the edge
                margin = (hw + edge + reach, hh + edge + reach)
                room = np.maximum(screen / 2.0 - np.array(margin), 0.0)
                with np.errstate(divide="ignore"):
                    t = np.min(np.where(np.abs(direction) > 1e-9, room / np.abs(direction), np.inf))
                cx, cy = screen / 2.0 + direction * t
            cx = float(np.clip(cx, margin[0], max(margin[0], width - margin[0])))
            cy = float(np.clip(cy, margin[1], max(margin[1], height - margin[1])))
            lw, lh = incident.label_size
            right = cx + hw + gap + lw <= width - edge
            label_x = cx + hw + gap if right else cx - hw - gap - lw
            x0, x1 = min(cx - hw, label_x), max(cx + hw, label_x + lw)
            half_h = max(hh, lh / 2.0)
            shift = _free_shift((x0, cy - half_h, x1, cy + half_h), placed, height, edge, gap)
            cy += shift
            placed.append((x0, cy - half_h, x1, cy + half_h))
            incident.centre = (cx, cy)
            incident.shape.SetPosition(cx, cy)
            incident.box.SetPosition(label_x, cy)
            incident.text.SetPosition(label_x + INCIDENT_LABEL_PAD[0] * scale, cy)
            rgb = _rgb(self.palette.priority(INCIDENT_PRIORITIES[incident.rank]))
            if incident.anchor is not None:
                rings += _leader(np.array(incident.anchor), np.array([cx, cy]), scale, self.palette)
            else:
                rings += _arrow(np.array([cx, cy]), np.array(incident.direction), max(hw, hh) + 2.0 * scale, rgb,
                                scale, self.palette)
        hints = _polygons(rings)
        self._hints.ShallowCopy(hints)
        self._hints.Modified()

    # -- level of detail of facades ---------------------------------------------------------------
    def _prepare_lod(self) -> None:
        """Find the floor slabs below each building's roof (storey lines on the facade) and the storey height."""
        layer = self.layers.get(Category.STRUCTURE)
        model = self.model
        buildings = model.of_class("IfcBuilding")
        boxes = [(int(b), self._element_box(int(b))) for b in buildings]
        boxes = [(b, box) for b, box in boxes if box is not None]
        if layer is None or not boxes:
            return
        self._building_boxes = np.array([box for _, box in boxes])
        building_top = np.full(model.n_elements, np.inf)
        for b, box in boxes:
            building_top[b] = box[5]
        own = model.element_boxes()
        top_of = np.where(model.building >= 0, building_top[np.maximum(model.building, 0)], np.inf)
        with np.errstate(invalid="ignore"):
            lod = (np.isin(model.ifc_class, LOD_CLASSES) & (model.category == Category.STRUCTURE)
                   & (own[:, 5] < top_of - 0.5))
        gaps = []
        for b, _ in boxes:
            levels = np.unique(np.round(own[lod & (model.building == b), 2], 1))
            gaps.append(np.diff(levels))
        gaps = np.concatenate(gaps) if gaps else np.zeros(0)
        gaps = gaps[gaps > 1.0]
        if not len(gaps):
            return
        self._storey_height_m = float(np.median(gaps))
        self._lod_cells = np.flatnonzero(lod[layer.mesh.cell_element])

    def storey_spacing_px(self) -> float:
        """How far apart storey lines are on screen (pixels) on the building nearest the camera."""
        renderer = self.plotter.renderer
        camera = renderer.GetActiveCamera()
        height = renderer.GetSize()[1]
        if camera.GetParallelProjection():
            return self._storey_height_m * height / (2.0 * max(camera.GetParallelScale(), 1e-6))
        if not len(self._building_boxes):
            return float("inf")
        position = np.array(camera.GetPosition())
        nearest = np.clip(position, self._building_boxes[:, :3], self._building_boxes[:, 3:])
        distance = max(float(np.linalg.norm(nearest - position, axis=1).min()), 1e-3)
        return self._storey_height_m * height / (2.0 * distance * np.tan(np.radians(camera.GetViewAngle()) / 2.0))

    @property
    def facade_detail(self) -> bool:
        """True when floor slabs (storey lines) are drawn in the district view, False when far away."""
        return not self._lod_far

    def _district_structure_cells(self) -> np.ndarray:
        layer = self.layers[Category.STRUCTURE]
        cells = np.arange(layer.mesh.n_cells)
        if self._lod_far and len(self._lod_cells):
            keep = np.ones(layer.mesh.n_cells, dtype=bool)
            keep[self._lod_cells] = False
            cells = cells[keep]
        return cells

    def _update_lod(self) -> None:
        """Before each frame: drop or restore the floor slabs when storeys come closer or move apart on screen."""
        if not len(self._lod_cells) or not self._district_view or Category.STRUCTURE not in self.layers:
            return
        spacing = self.storey_spacing_px()
        if self._lod_far:
            far = spacing < STOREY_LINE_MIN_PX + STOREY_LINE_HYSTERESIS_PX
        else:
            far = spacing < STOREY_LINE_MIN_PX - STOREY_LINE_HYSTERESIS_PX
        if far != self._lod_far:
            self._lod_far = far
            self._show_cells(Category.STRUCTURE, self._district_structure_cells())

    # -- palette and scale ------------------------------------------------------------------------
    def _state_rgb(self, state: DeviceState) -> tuple[float, float, float]:
        return Palette.float_rgb(self.palette.states[STATE_SLOT_ROW[int(HOST_SLOT[state])]])

    def set_palette(self, colours: Palette) -> None:
        """Recolour everything (lookup tables, background, ground, labels, markers) without reloading.

        Parameters
        ----------
        colours
            E.g. `twin_app.core.palette.palette("dark")`.
        """
        self.palette = colours
        self.plotter.set_background(Palette.float_rgb(colours.background_bottom),
                                    top=Palette.float_rgb(colours.background_top))
        for cat, lut in self._luts.items():
            _lookup_table(cat, colours, lut)
        for layer in self.layers.values():
            layer.actor.GetMapper().Modified()
        if self._ground is not None:
            self._ground.GetProperty().SetColor(*Palette.float_rgb(colours.ground))
        if self._glyphs is not None:
            self._glyphs.GetProperty().SetColor(*Palette.float_rgb(colours.category_base[int(Category.SENSORS)]))
        for state, actor in self._markers.items():
            actor.GetProperty().SetColor(*self._state_rgb(state))
        self._add_building_labels()
        self.select(self.selected)  # the highlight and the x-ray focus in the new colours
        self._redo_overlays()

    def set_scale(self, factor: float) -> None:
        """Scale on-screen sizes: incident markers, label fonts, line widths and point sizes.

        Parameters
        ----------
        factor
            1 on an ordinary screen; the UI derives it from the screen (device pixel ratio, video wall).
        """
        if not factor > 0:
            raise ValueError(f"scale factor must be positive, not {factor}")
        self.scale = float(factor)
        self._add_building_labels()
        if self._glyphs is not None:
            self._glyphs.GetProperty().SetPointSize(SENSOR_POINT_PX * self.scale)
        if self._highlight_edges is not None:
            self._highlight_edges.GetProperty().SetLineWidth(HIGHLIGHT_LINE_PX * self.scale)
        self._redo_overlays()

    def _redo_overlays(self) -> None:
        """Build the measurement and the incident markers again (new colours or sizes)."""
        if self._measure_points is not None:
            self.show_measurement(*self._measure_points)
        markers = list(self._incident_key)
        self._incident_key = ()
        if markers:
            self.show_incidents(markers)

    # -- views ------------------------------------------------------------------------------------
    def show_district(self) -> None:
        """District massing: structure and other elements; rooms and equipment stay inside."""
        self.focus_storey = -1
        self._district_view = True
        self._room_opacity(False)
        for cat, layer in self.layers.items():
            if cat == Category.STRUCTURE:
                self._show_cells(cat, self._district_structure_cells())
            elif cat == Category.OTHER:
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
        self._district_view = False
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
        self._district_view = False
        self._room_opacity(self.focus_storey >= 0)
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
        self._measure_points = (a, b)
        colour = Palette.hex(self.palette.measure)
        marks = pv.PolyData(np.array([a] if b is None else [a, b], dtype=float))
        self._measure_actors.append(self.plotter.add_mesh(
            marks, color=colour, point_size=12 * self.scale, render_points_as_spheres=True, pickable=False,
            name="measure-points", reset_camera=False, render=False))
        if b is None:
            return None
        distance = float(np.linalg.norm(b - a))
        self._measure_actors.append(self.plotter.add_mesh(
            pv.Line(a, b), color=colour, line_width=4 * self.scale, pickable=False, name="measure-line",
            reset_camera=False, render=False))
        label = self.plotter.add_point_labels(
            np.array([(a + b) / 2.0]), [f"{distance:.2f} m"], font_size=round(MEASURE_FONT_PX * self.scale),
            text_color=Palette.hex(self.palette.label_text), shape_color=colour, shape_opacity=0.85,
            always_visible=True, show_points=False, pickable=False, name="measure-label", reset_camera=False,
            render=False)
        apply_font(_label_text_property(label))
        self._measure_actors.append(label)
        return distance

    def clear_measurement(self) -> None:
        """Remove the measurement marks."""
        for actor in self._measure_actors:
            self.plotter.remove_actor(actor, render=False)
        self._measure_actors = []
        self._measure_points = None

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
        """Rooms translucent in a storey cut open, and always in a model with equipment or sensors."""
        layer = self.layers.get(Category.SPACES)
        if layer is not None and not self.xray:
            layer.actor.GetProperty().SetOpacity(ROOM_OPACITY_OPEN if opened or self._devices_in_rooms else 1.0)

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
        highlight = Palette.float_rgb(self.palette.highlight)
        self._highlight = self.plotter.add_mesh(
            part, color=highlight, opacity=0.3, pickable=False, name="highlight", reset_camera=False, render=False,
            lighting=False,
        )
        edges = part.extract_feature_edges(boundary_edges=True, feature_edges=True, manifold_edges=False,
                                           non_manifold_edges=False, feature_angle=30)
        self._highlight_edges = self.plotter.add_mesh(
            edges, color=highlight, line_width=HIGHLIGHT_LINE_PX * self.scale, pickable=False, name="highlight-edges",
            reset_camera=False,
            render=False, lighting=False,
        )
        self._apply_section(self._highlight)
        self._apply_section(self._highlight_edges)

    # -- camera -----------------------------------------------------------------------------------
    def camera_overview(self) -> None:
        """The whole district from the south-east, a little above, every building and its label in view.

        The camera keeps its 3/4 direction and is moved so that the corners of every building's box and
        the building labels fit the viewport at the renderer's aspect ratio, with a margin (wider by half
        the widest label, so that no label is clipped at the left or right edge).
        """
        buildings = [b for b in (self._element_box(int(i)) for i in self.model.of_class("IfcBuilding"))
                     if b is not None]
        bbox = self.model.bbox()
        boxes = np.array(buildings) if buildings else (None if bbox is None else bbox[None, :])
        if boxes is None:
            return
        corners = np.vstack([_box_corners(box) for box in boxes])
        labels = np.column_stack([(boxes[:, 0] + boxes[:, 3]) / 2, (boxes[:, 1] + boxes[:, 4]) / 2,
                                  boxes[:, 5] + LABEL_LIFT_M])
        side = self._label_half_width()
        left, right, bottom, top = OVERVIEW_MARGINS
        self._fit_points(np.vstack([corners, labels]), direction=VIEW_DIRECTION,
                         margins=(left + side, right + side, bottom, top))

    def _label_half_width(self) -> float:
        """Half the widest building label, as a fraction of the viewport's width."""
        width = self.plotter.renderer.GetSize()[0]
        if width <= 0 or not self._label_names:
            return 0.0
        prop = vtk.vtkTextProperty()
        prop.SetFontSize(round(LABEL_FONT_PX * self.scale))
        apply_font(prop)
        renderer = vtk.vtkTextRenderer()
        dpi = self.plotter.render_window.GetDPI()
        widest = 0
        for name in set(self._label_names):
            extent = [0, 0, 0, 0]
            if name and renderer.GetBoundingBox(prop, name, extent, dpi):
                widest = max(widest, extent[1] - extent[0])
        return min((widest / 2.0 + 8.0 * self.scale) / width, 0.3)

    def _fit_points(self, points: np.ndarray, direction: tuple[float, float, float],
                    margins: tuple[float, float, float, float],
                    up_hint: tuple[float, float, float] = (0.0, 0.0, 1.0)) -> None:
        """Look along -`direction` from as close as possible with every point inside the viewport.

        Parameters
        ----------
        points
            (n, 3) world points to keep in view.
        direction
            From the scene towards the camera.
        up_hint
            The world direction shown upwards (+z; north for a plan).
        margins
            Left, right, bottom and top margins as fractions of the viewport's width or height.
        """
        renderer = self.plotter.renderer
        camera = renderer.GetActiveCamera()
        back = np.asarray(direction, dtype=float)
        back /= np.linalg.norm(back)
        forward = -back
        right = np.cross(forward, up_hint)
        if np.linalg.norm(right) < 1e-9:
            right = np.cross(forward, (0.0, 1.0, 0.0))
        right /= np.linalg.norm(right)
        up = np.cross(right, forward)
        centre = (points.min(axis=0) + points.max(axis=0)) / 2.0
        if camera.GetParallelProjection():
            bounds = np.column_stack([points.min(axis=0), points.max(axis=0)]).ravel()
            self.plotter.camera.focal_point = tuple(centre)
            self.plotter.camera.position = tuple(centre + back)
            self.plotter.camera.up = tuple(up)
            renderer.ResetCamera(*bounds)
            return
        tan_v = np.tan(np.radians(camera.GetViewAngle()) / 2.0)
        tan_h = tan_v * renderer.GetTiledAspectRatio()
        left_m, right_m, bottom_m, top_m = margins
        # a point p is in view when |(p - C)·right| <= tan_h * (p - C)·forward, and likewise vertically;
        # with the orientation fixed this is linear in the camera position C: solve for the farthest bound
        x, y, z = points @ right, points @ up, points @ forward
        placement = []
        for coord, t_lo, t_hi in ((x, tan_h * (1 - 2 * left_m), tan_h * (1 - 2 * right_m)),
                                  (y, tan_v * (1 - 2 * bottom_m), tan_v * (1 - 2 * top_m))):
            hi = float(np.max(coord - t_hi * z))  # c - t_hi * depth_c >= hi
            lo = float(np.max(-coord - t_lo * z))  # -c - t_lo * depth_c >= lo
            placement.append((hi, lo, t_hi, t_lo))
        depth = min(-(hi + lo) / (t_hi + t_lo) for hi, lo, t_hi, t_lo in placement)
        c_right, c_up = ((hi + t_hi * depth + (-lo - t_lo * depth)) / 2.0 for hi, lo, t_hi, t_lo in placement)
        position = c_right * right + c_up * up + depth * forward
        distance = float(centre @ forward - depth)
        view = self.plotter.camera  # through pyvista: marks the camera as set (no automatic reset on first render)
        view.position = tuple(position)
        view.focal_point = tuple(position + forward * max(distance, 1e-3))
        view.up = tuple(up)
        renderer.ResetCameraClippingRange()

    def camera_to(self, index: int) -> None:
        """Fly the camera to an element: it fills about the middle half of the view (a building or storey whole).

        A room or device is framed by its own box (at least `ELEMENT_MIN_HALF_M` around its centre), from
        the south-east and above; a spatial element (building, storey) by its whole subtree's box.
        """
        bounds = self.model.element_bounds(index)
        if bounds is None:
            return
        if self.model.category[index] != Category.NONE:
            centre = (bounds[:3] + bounds[3:]) / 2.0
            half = np.maximum((bounds[3:] - bounds[:3]) / 2.0, ELEMENT_MIN_HALF_M)
            self._fit_points(_box_corners(np.concatenate([centre - half, centre + half])), VIEW_DIRECTION,
                             ELEMENT_MARGINS)
            return
        points = _box_corners(bounds)
        if self.model.ifc_class[index] == "IfcBuilding":
            points = np.vstack([points, self._label_anchor(bounds)])
        self._fit_points(points, VIEW_DIRECTION, OVERVIEW_MARGINS)

    @staticmethod
    def _label_anchor(bounds: np.ndarray) -> np.ndarray:
        return np.array([(bounds[0] + bounds[3]) / 2, (bounds[1] + bounds[4]) / 2, bounds[5] + LABEL_LIFT_M])

    def camera_plan(self, index: int) -> None:
        """Straight down on an element (a storey plan), north up, the whole element in view."""
        bounds = self.model.element_bounds(index)
        if bounds is None:
            return
        self._fit_points(_box_corners(bounds), direction=(0.0, 0.0, 1.0), margins=(0.04, 0.04, 0.04, 0.04),
                         up_hint=(0.0, 1.0, 0.0))

    def camera_side(self, index: int) -> None:
        """An element (a tower) from the south, slightly above, the whole of it (and its label) in view."""
        bounds = self.model.element_bounds(index)
        if bounds is None:
            return
        points = _box_corners(bounds)
        if self.model.ifc_class[index] == "IfcBuilding":
            points = np.vstack([points, self._label_anchor(bounds)])
        self._fit_points(points, direction=(0.25, -1.0, 0.25), margins=(0.05, 0.05, 0.04, 0.07))

    # -- projection (tests, overlays) -------------------------------------------------------------
    def project(self, points: np.ndarray) -> np.ndarray:
        """Display positions of world points: (n, 2) pixels in the renderer's viewport, origin bottom left.

        Points behind the camera come out as NaN.
        """
        renderer = self.plotter.renderer
        width, height = renderer.GetSize()
        matrix = renderer.GetActiveCamera().GetCompositeProjectionTransformMatrix(
            renderer.GetTiledAspectRatio(), -1, 1)
        m = np.array([[matrix.GetElement(i, j) for j in range(4)] for i in range(4)])
        points = np.atleast_2d(np.asarray(points, dtype=float))
        clip = np.column_stack([points, np.ones(len(points))]) @ m.T
        w = clip[:, 3:4]
        ndc = np.where(w > 1e-9, clip[:, :2] / np.where(w > 1e-9, w, 1.0), np.nan)
        return (ndc + 1.0) / 2.0 * np.array([width, height], dtype=float)

    def projected_box(self, index: int) -> np.ndarray | None:
        """[x0, y0, x1, y1] on screen (renderer pixels) of an element's bounding box (a subtree's for spatial ones).

        None without geometry, or when a corner is behind the camera.
        """
        bounds = self.model.element_bounds(index)
        if bounds is None:
            return None
        xy = self.project(_box_corners(bounds))
        if np.isnan(xy).any():
            return None
        return np.concatenate([xy.min(axis=0), xy.max(axis=0)])

    def projected_extent(self, index: int) -> float:
        """Fraction of the viewport covered by an element's projected bounding box (the larger of width, height).

        The box is clipped to the viewport first; 0 when the element is out of view or has no geometry.
        """
        box = self.projected_box(index)
        width, height = self.plotter.renderer.GetSize()
        if box is None or width <= 0 or height <= 0:
            return 0.0
        x0, x1 = np.clip([box[0], box[2]], 0, width)
        y0, y1 = np.clip([box[1], box[3]], 0, height)
        return float(max((x1 - x0) / width, (y1 - y0) / height))
