"""The district model: an element table, its hierarchy and merged meshes per category.

Everything is held in flat numpy arrays so that the scene, the tree and the
state store index the same elements by one integer, the element index.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum

import numpy as np


class Category(IntEnum):
    """Render category of an element: one merged mesh each."""

    NONE = 0
    STRUCTURE = 1
    SPACES = 2
    EQUIPMENT = 3
    SENSORS = 4
    OTHER = 5


SPATIAL_CLASSES = ("IfcProject", "IfcSite", "IfcBuilding", "IfcBuildingStorey")

# Resolved through the IFC class hierarchy by the loader; the first match wins.
CATEGORY_OF_CLASS: tuple[tuple[str, Category], ...] = (
    ("IfcSpace", Category.SPACES),
    ("IfcSpatialZone", Category.SPACES),
    ("IfcSensor", Category.SENSORS),
    ("IfcAlarm", Category.SENSORS),
    ("IfcActuator", Category.SENSORS),
    ("IfcController", Category.SENSORS),
    ("IfcFlowInstrument", Category.SENSORS),
    ("IfcUnitaryControlElement", Category.SENSORS),
    ("IfcDistributionControlElement", Category.SENSORS),
    ("IfcDistributionElement", Category.EQUIPMENT),
    ("IfcTransportElement", Category.EQUIPMENT),
    ("IfcBuildingElementProxy", Category.OTHER),
    ("IfcFurnishingElement", Category.OTHER),
    ("IfcBuildingElement", Category.STRUCTURE),
    ("IfcBuiltElement", Category.STRUCTURE),
    ("IfcElement", Category.OTHER),
)


@dataclass
class CategoryMesh:
    """One merged triangle mesh of a category.

    Attributes
    ----------
    points
        (n, 3) float32 vertex coordinates in metres.
    triangles
        (m, 3) int32 vertex indices.
    cell_element
        (m,) int32 element index of each triangle.
    """

    category: Category
    points: np.ndarray
    triangles: np.ndarray
    cell_element: np.ndarray

    @property
    def n_cells(self) -> int:
        return int(self.triangles.shape[0])

    def validate(self, n_elements: int) -> None:
        """Raise ValueError when the arrays do not fit together."""
        if self.points.ndim != 2 or self.points.shape[1] != 3:
            raise ValueError(f"{self.category.name}: points must be (n, 3)")
        if self.triangles.ndim != 2 or self.triangles.shape[1] != 3:
            raise ValueError(f"{self.category.name}: triangles must be (m, 3)")
        if self.cell_element.shape != (self.n_cells,):
            raise ValueError(f"{self.category.name}: one element index per triangle expected")
        if self.n_cells and (self.triangles.min() < 0 or self.triangles.max() >= len(self.points)):
            raise ValueError(f"{self.category.name}: triangle index out of range")
        if self.n_cells and (self.cell_element.min() < 0 or self.cell_element.max() >= n_elements):
            raise ValueError(f"{self.category.name}: element index out of range")
        if not np.isfinite(self.points).all():
            raise ValueError(f"{self.category.name}: non-finite coordinates")


@dataclass
class DistrictModel:
    """Elements of one IFC model with their hierarchy and meshes.

    Attributes
    ----------
    global_id, ifc_class, name, long_name
        Per element strings (numpy unicode arrays).
    parent
        Index of the parent element in the spatial tree, -1 for the root.
    building, storey
        Index of the containing building and storey, -1 when there is none.
    category
        `Category` of each element (NONE for spatial elements without mesh).
    cell_start, cell_count
        The element's triangles in the mesh of its category (contiguous).
    meshes
        One `CategoryMesh` per category that has geometry.
    meta
        Source file facts: schema, length unit, scale, counts, skipped, seconds.
    """

    global_id: np.ndarray
    ifc_class: np.ndarray
    name: np.ndarray
    long_name: np.ndarray
    parent: np.ndarray
    building: np.ndarray
    storey: np.ndarray
    category: np.ndarray
    cell_start: np.ndarray
    cell_count: np.ndarray
    meshes: dict[Category, CategoryMesh]
    meta: dict = field(default_factory=dict)
    _index_by_guid: dict[str, int] | None = field(default=None, repr=False)
    _children: list[np.ndarray] | None = field(default=None, repr=False)
    _boxes: np.ndarray | None = field(default=None, repr=False)

    @property
    def n_elements(self) -> int:
        return int(self.global_id.shape[0])

    def validate(self) -> None:
        """Raise ValueError when the table and meshes are inconsistent."""
        n = self.n_elements
        for name in ("ifc_class", "name", "long_name", "parent", "building", "storey", "category", "cell_start",
                     "cell_count"):
            if getattr(self, name).shape != (n,):
                raise ValueError(f"column {name} has {getattr(self, name).shape[0]} rows, expected {n}")
        for name in ("parent", "building", "storey"):
            col = getattr(self, name)
            if n and (col.min() < -1 or col.max() >= n):
                raise ValueError(f"column {name} points outside the element table")
        for mesh in self.meshes.values():
            mesh.validate(n)
            sel = self.category == mesh.category
            if int(self.cell_count[sel].sum()) != mesh.n_cells:
                raise ValueError(f"{mesh.category.name}: cell counts do not add up to the mesh")

    def index_of(self, global_id: str) -> int:
        """Element index of a GlobalId, -1 when unknown."""
        if self._index_by_guid is None:
            self._index_by_guid = {g: i for i, g in enumerate(self.global_id.tolist())}
        return self._index_by_guid.get(global_id, -1)

    def children(self, index: int) -> np.ndarray:
        """Indices of the direct children of `index` (-1 for the roots), in table order."""
        if self._children is None:
            order = np.argsort(self.parent, kind="stable")
            keys = self.parent[order]
            bounds = np.searchsorted(keys, np.arange(-1, self.n_elements + 1))
            self._children = [order[bounds[i]:bounds[i + 1]] for i in range(self.n_elements + 1)]
        return self._children[index + 1]

    def of_class(self, ifc_class: str) -> np.ndarray:
        """Indices of the elements of exactly this IFC class."""
        return np.flatnonzero(self.ifc_class == ifc_class)

    def descendants_mask(self, index: int) -> np.ndarray:
        """Boolean mask of `index` and everything below it in the tree."""
        mask = np.zeros(self.n_elements, dtype=bool)
        mask[index] = True
        # parents come before children in most files, but iterate to a fixed point to be safe
        while True:
            grown = mask | ((self.parent >= 0) & mask[np.maximum(self.parent, 0)])
            if (grown == mask).all():
                return mask
            mask = grown

    def element_boxes(self) -> np.ndarray:
        """(n, 6) bounding box of each element's own triangles; NaN rows for elements without geometry.

        Computed once, vectorised: an element's triangles are contiguous in its category mesh.
        """
        if self._boxes is None:
            boxes = np.full((self.n_elements, 6), np.nan)
            for mesh in self.meshes.values():
                if not mesh.n_cells:
                    continue
                corners = mesh.points[mesh.triangles]  # (m, 3, 3)
                lo, hi = corners.min(axis=1), corners.max(axis=1)
                starts = np.flatnonzero(np.r_[True, mesh.cell_element[1:] != mesh.cell_element[:-1]])
                owners = mesh.cell_element[starts]
                boxes[owners, :3] = np.minimum.reduceat(lo, starts, axis=0)
                boxes[owners, 3:] = np.maximum.reduceat(hi, starts, axis=0)
            self._boxes = boxes
        return self._boxes

    def element_bounds(self, index: int) -> np.ndarray | None:
        """[xmin, ymin, zmin, xmax, ymax, zmax] of an element and its descendants, None without geometry."""
        boxes = self.element_boxes()
        own = boxes[self.descendants_mask(index)]
        own = own[~np.isnan(own[:, 0])]
        if not len(own):
            return None
        return np.concatenate([own[:, :3].min(axis=0), own[:, 3:].max(axis=0)])

    def bbox(self) -> np.ndarray | None:
        """Bounding box of all meshes, None when there is no geometry."""
        boxes = self.element_boxes()
        boxes = boxes[~np.isnan(boxes[:, 0])]
        if not len(boxes):
            return None
        return np.concatenate([boxes[:, :3].min(axis=0), boxes[:, 3:].max(axis=0)])

    def label(self, index: int) -> str:
        """A short human label: name, long name or class."""
        name = str(self.name[index])
        long_name = str(self.long_name[index])
        if name and long_name and long_name != name:
            return f"{name} ({long_name})"
        return name or long_name or f"{self.ifc_class[index]} {self.global_id[index]}"


def closed_outward(mesh: CategoryMesh, boxes: np.ndarray) -> bool:
    """True when every element's triangles enclose a clearly positive signed volume (outward-facing solids).

    Only then may a renderer cull back faces: an open shell or an inverted solid from some exporter would lose faces.
    `boxes` are the model's per-element bounding boxes; a solid must fill at least 1 % of its box.
    """
    points, triangles, cell_element = mesh.points, mesh.triangles, mesh.cell_element
    if not len(triangles):
        return False
    p = points.astype(np.float64)
    a, b, c = p[triangles[:, 0]], p[triangles[:, 1]], p[triangles[:, 2]]
    origin = p.min(axis=0)
    tetra = np.einsum("ij,ij->i", a - origin, np.cross(b - origin, c - origin)) / 6.0
    elements, which = np.unique(cell_element, return_inverse=True)
    volume = np.bincount(which, weights=tetra, minlength=len(elements))
    box = boxes[elements]
    box_volume = np.prod(np.maximum(box[:, 3:] - box[:, :3], 1e-3), axis=1)
    return bool((volume > 0.01 * box_volume).all())
