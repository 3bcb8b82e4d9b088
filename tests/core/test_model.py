"""The element table and its hierarchy (no display needed)."""

from __future__ import annotations

import numpy as np
import pytest

from twin_app.core.model import Category, CategoryMesh, DistrictModel


def _model() -> DistrictModel:
    # project > site > building > storey > (space, wall)
    classes = ["IfcProject", "IfcSite", "IfcBuilding", "IfcBuildingStorey", "IfcSpace", "IfcWall"]
    parent = np.array([-1, 0, 1, 2, 3, 3], dtype=np.int32)
    cube = np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1]], dtype=np.float32)
    tris = np.array([[0, 1, 2], [0, 1, 3]], dtype=np.int32)
    meshes = {
        Category.SPACES: CategoryMesh(Category.SPACES, cube, tris, np.array([4, 4], dtype=np.int32)),
        Category.STRUCTURE: CategoryMesh(Category.STRUCTURE, cube + 5, tris[:1], np.array([5], dtype=np.int32)),
    }
    n = len(classes)
    return DistrictModel(
        global_id=np.array([f"G{i}" for i in range(n)]), ifc_class=np.array(classes),
        name=np.array(["P", "Site", "T01", "3F", "A01", "W"]), long_name=np.array(["", "", "", "", "Flat 1", ""]),
        parent=parent, building=np.array([-1, -1, 2, 2, 2, 2], dtype=np.int32),
        storey=np.array([-1, -1, -1, 3, 3, 3], dtype=np.int32),
        category=np.array([0, 0, 0, 0, Category.SPACES, Category.STRUCTURE], dtype=np.int8),
        cell_start=np.array([0, 0, 0, 0, 0, 0]), cell_count=np.array([0, 0, 0, 0, 2, 1]), meshes=meshes,
    )


def test_hierarchy_queries() -> None:
    m = _model()
    m.validate()
    assert m.children(-1).tolist() == [0]
    assert m.children(3).tolist() == [4, 5]
    assert m.descendants_mask(2).tolist() == [False, False, True, True, True, True]
    assert m.index_of("G4") == 4 and m.index_of("nope") == -1
    assert m.label(4) == "A01 (Flat 1)"
    assert m.of_class("IfcWall").tolist() == [5]
    assert m.element_bounds(4).tolist() == [0, 0, 0, 1, 1, 1]
    assert m.element_bounds(3).tolist() == [0, 0, 0, 6, 6, 5]
    # only points used by triangles count: the unused corner (5, 5, 6) does not
    assert m.element_bounds(0) is not None and m.bbox().tolist() == [0, 0, 0, 6, 6, 5]
    assert np.isnan(m.element_boxes()[3]).all() and m.element_boxes()[5].tolist() == [5, 5, 5, 6, 6, 5]


def test_validate_catches_inconsistent_arrays() -> None:
    m = _model()
    m.parent = m.parent.copy()
    m.parent[5] = 99
    with pytest.raises(ValueError, match="parent"):
        m.validate()
    m = _model()
    m.cell_count = np.array([0, 0, 0, 0, 1, 1])
    with pytest.raises(ValueError, match="cell counts"):
        m.validate()
    m = _model()
    m.meshes[Category.SPACES].triangles = np.array([[0, 1, 9]], dtype=np.int32)
    with pytest.raises(ValueError, match="triangle"):
        m.validate()
