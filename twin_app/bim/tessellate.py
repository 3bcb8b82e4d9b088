"""Turn an IFC file into a `DistrictModel`: element table, hierarchy and merged meshes.

Shared representations are tessellated once: the iterator runs in local
coordinates, so every product that maps the same representation yields the same
geometry id, and its instances are placed with one batched matrix product.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

import ifcopenshell
import ifcopenshell.geom
import ifcopenshell.util.unit
import numpy as np

from twin_app.core.errors import InputError
from twin_app.core.model import CATEGORY_OF_CLASS, Category, CategoryMesh, DistrictModel, closed_outward

ProgressFn = Callable[[float, str], None]
_ENTITY_REF = re.compile(r"#(\d+)")
_OFFSET = re.compile(r"at offset (\d+)")


def check_ifc_path(path: str | Path) -> None:
    """Cheap checks before parsing: the file exists and looks like a complete STEP file.

    Raises
    ------
    InputError
        Naming the file and what is wrong with it.
    """
    path = Path(path)
    if not path.exists():
        raise InputError(str(path), "file not found")
    if not path.is_file():
        raise InputError(str(path), "not a file")
    try:
        with open(path, "rb") as fh:
            head = fh.read(64)
            fh.seek(max(0, path.stat().st_size - 512))
            tail = fh.read()
    except OSError as exc:
        raise InputError(str(path), f"cannot be read ({exc.strerror})") from None
    if not head.lstrip().startswith(b"ISO-10303-21"):
        raise InputError(str(path), "not an IFC (STEP ISO-10303-21) file: the header line is missing")
    if b"END-ISO-10303-21" not in tail:
        raise InputError(str(path), "the file is truncated: it does not end with END-ISO-10303-21;")


def _line_of_offset(path: Path, offset: int) -> int:
    with open(path, "rb") as fh:
        return fh.read(offset).count(b"\n") + 1


def _where(path: Path, message: str) -> str:
    """``path:line`` when the parser's message names a byte offset, else the path."""
    found = _OFFSET.search(message)
    return f"{path}:{_line_of_offset(path, int(found.group(1)))}" if found else str(path)


def _parser_messages() -> list[dict]:
    messages = []
    for line in (ifcopenshell.get_log() or "").splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            entry = {"level": "error", "message": line}
        if isinstance(entry, dict) and entry.get("level") in ("error", "warning"):
            messages.append(entry)
    return messages


def open_ifc(path: str | Path) -> tuple[ifcopenshell.file, list[str]]:
    """Open an IFC file.

    Returns
    -------
    (file, warnings)
        The parsed file and the parser's non-fatal messages.

    Raises
    ------
    InputError
        Naming the file (and line) and the problem, for unreadable or syntactically broken files.
    """
    path = Path(path)
    check_ifc_path(path)
    ifcopenshell.ifcopenshell_wrapper.set_log_format_json()
    ifcopenshell.get_log()  # drop earlier messages
    try:
        f = ifcopenshell.open(str(path))
    except Exception as exc:  # ifcopenshell raises several types for malformed files
        detail = "; ".join(m.get("message", "") for m in _parser_messages()[:1])
        raise InputError(_where(path, detail), f"cannot be parsed as IFC ({type(exc).__name__}: {exc}"
                                               f"{'; ' + detail if detail else ''})") from None
    messages = _parser_messages()
    for entry in messages:
        message = str(entry.get("message", ""))
        if str(entry.get("code", "")).startswith("SYN") or "syntax" in message.lower():
            raise InputError(_where(path, message), f"syntax error, the file is damaged: {message}")
    return f, [str(m.get("message", ""))[:300] for m in messages[:50]]


def _category_resolver(schema: ifcopenshell.ifcopenshell_wrapper.schema_definition) -> Callable[[str], Category]:
    cache: dict[str, Category] = {}

    def resolve(ifc_class: str) -> Category:
        if ifc_class in cache:
            return cache[ifc_class]
        try:
            decl = schema.declaration_by_name(ifc_class)
        except Exception:  # unknown class name in this schema
            cache[ifc_class] = Category.OTHER
            return Category.OTHER
        lineage = []
        while decl is not None:
            lineage.append(decl.name())
            decl = decl.supertype()
        result = Category.NONE if "IfcSpatialStructureElement" in lineage and ifc_class != "IfcSpace" else None
        if result is None:
            ranked = [(i, cat) for i, (name, cat) in enumerate(CATEGORY_OF_CLASS) if name in lineage]
            result = min(ranked)[1] if ranked else (Category.OTHER if "IfcProduct" in lineage else Category.NONE)
        cache[ifc_class] = result
        return result

    return resolve


def _element_table(f: ifcopenshell.file) -> tuple[list[ifcopenshell.entity_instance], dict[int, int], np.ndarray]:
    """Elements (project first, then products) with their parent in the spatial tree."""
    elements = list(f.by_type("IfcProject")[:1]) + [
        e for e in f.by_type("IfcProduct") if not e.is_a("IfcOpeningElement") and not e.is_a("IfcAnnotation")
    ]
    index_of = {e.id(): i for i, e in enumerate(elements)}
    parent = np.full(len(elements), -1, dtype=np.int32)
    for rel in f.by_type("IfcRelAggregates"):
        p = index_of.get(rel.RelatingObject.id())
        if p is None:
            continue
        for child in rel.RelatedObjects or ():
            c = index_of.get(child.id())
            if c is not None:
                parent[c] = p
    for rel in f.by_type("IfcRelContainedInSpatialStructure"):
        p = index_of.get(rel.RelatingStructure.id())
        if p is None:
            continue
        for child in rel.RelatedElements or ():
            c = index_of.get(child.id())
            if c is not None and parent[c] < 0:
                parent[c] = p
    if elements and elements[0].is_a("IfcProject"):
        orphan = parent < 0
        orphan[0] = False
        parent[orphan] = 0
    return elements, index_of, parent


def _ancestor_of_class(parent: np.ndarray, is_target: np.ndarray) -> np.ndarray:
    """For each element, the index of its nearest ancestor-or-self where `is_target`, else -1."""
    idx = np.arange(len(parent), dtype=np.int32)
    found = np.where(is_target, idx, -1).astype(np.int32)
    hop = parent.copy()
    for _ in range(64):
        todo = (found < 0) & (hop >= 0)
        if not todo.any():
            break
        found[todo] = np.where(is_target[hop[todo]], hop[todo], -1)
        hop[todo] = parent[hop[todo]]
    return found


def tessellate(path: str | Path, threads: int | None = None, progress: ProgressFn | None = None) -> DistrictModel:
    """Read an IFC file into a `DistrictModel` in metres.

    Parameters
    ----------
    path
        The IFC file.
    threads
        Tessellation threads; all cores when None.
    progress
        Called with a fraction in [0, 1] and a message.

    Raises
    ------
    InputError
        When the file cannot be read as IFC.
    """
    started = time.perf_counter()
    report = progress or (lambda fraction, message: None)
    path = Path(path)
    report(0.0, f"Reading {path.name}")
    f, parser_warnings = open_ifc(path)
    schema = f.schema
    try:
        scale = float(ifcopenshell.util.unit.calculate_unit_scale(f))
        unit_entity = ifcopenshell.util.unit.get_project_unit(f, "LENGTHUNIT")
        length_unit = ifcopenshell.util.unit.get_full_unit_name(unit_entity) if unit_entity else "METRE"
    except Exception as exc:  # a broken unit assignment must not stop the load
        scale, length_unit = 1.0, f"unknown ({type(exc).__name__})"
    elements, index_of, parent = _element_table(f)
    n = len(elements)
    resolve = _category_resolver(ifcopenshell.ifcopenshell_wrapper.schema_by_name(schema))
    classes = [e.is_a() for e in elements]
    category = np.array([resolve(c) for c in classes], dtype=np.int8)

    def text(e: ifcopenshell.entity_instance, attr: str) -> str:
        try:
            value = getattr(e, attr, None)
        except Exception:  # a broken attribute value
            return ""
        return "" if value is None else str(value)

    global_id = np.array([text(e, "GlobalId") for e in elements], dtype=str)
    name = np.array([text(e, "Name") for e in elements], dtype=str)
    long_name = np.array([text(e, "LongName") for e in elements], dtype=str)
    cls = np.array(classes, dtype=str)
    building = _ancestor_of_class(parent, cls == "IfcBuilding")
    storey = _ancestor_of_class(parent, cls == "IfcBuildingStorey")

    report(0.1, "Tessellating")
    settings = ifcopenshell.geom.settings()
    settings.set("use-world-coords", False)
    settings.set("weld-vertices", False)
    geometries: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    placed: list[tuple[int, str, np.ndarray]] = []
    ifcopenshell.get_log()  # clear earlier messages
    thread_count = threads or os.cpu_count() or 1
    include = [e for e in elements[1:] if getattr(e, "Representation", None) is not None]
    yielded: set[int] = set()
    if include:
        iterator = ifcopenshell.geom.iterator(settings, f, thread_count)
        if iterator.initialize():
            count = 0
            while True:
                shape = iterator.get()
                idx = index_of.get(shape.id)
                if idx is not None:
                    gid = shape.geometry.id
                    if gid not in geometries:
                        verts = np.asarray(shape.geometry.verts, dtype=np.float64).reshape(-1, 3)
                        faces = np.asarray(shape.geometry.faces, dtype=np.int32).reshape(-1, 3)
                        geometries[gid] = (verts, faces)
                    matrix = np.asarray(shape.transformation.matrix, dtype=np.float64).reshape(4, 4).T
                    placed.append((idx, gid, matrix))
                    yielded.add(idx)
                count += 1
                if count % 2000 == 0:
                    report(0.1 + 0.7 * count / max(len(include), 1), f"Tessellating {count:,}/{len(include):,}")
                if not iterator.next():
                    break
    log = ifcopenshell.get_log()
    skipped = _skipped(elements, index_of, include, yielded, log)
    report(0.85, "Merging meshes")
    cell_start = np.zeros(n, dtype=np.int64)
    cell_count = np.zeros(n, dtype=np.int64)
    meshes: dict[Category, CategoryMesh] = {}
    by_category: dict[int, list[tuple[int, str, np.ndarray]]] = defaultdict(list)
    for item in placed:
        cat = int(category[item[0]])
        if cat == Category.NONE:  # geometry on a spatial element (a site terrain, say)
            cat = int(Category.OTHER)
            category[item[0]] = cat
        by_category[cat].append(item)
    for cat, items in sorted(by_category.items()):
        meshes[Category(cat)] = _merge(Category(cat), items, geometries, cell_start, cell_count)
    counts: dict[str, int] = defaultdict(int)
    for c in classes:
        counts[c] += 1
    model = DistrictModel(
        global_id=global_id, ifc_class=cls, name=name, long_name=long_name, parent=parent, building=building,
        storey=storey, category=category, cell_start=cell_start, cell_count=cell_count, meshes=meshes,
    )
    bbox = model.bbox()
    model.meta = {
        "source": str(path), "schema": schema, "length_unit": length_unit, "scale_to_metre": scale,
        "counts": dict(sorted(counts.items())), "elements_with_geometry": len(yielded), "skipped": skipped,
        "bbox_m": [round(float(v), 4) for v in bbox] if bbox is not None else None,
        "shared_geometries": len(geometries), "seconds": round(time.perf_counter() - started, 4),
        "warnings": parser_warnings,
        "closed_categories": [c.name for c, m in meshes.items() if closed_outward(m, model.element_boxes())],
    }
    model.validate()
    report(1.0, "Model ready")
    return model


def _merge(cat: Category, items: list[tuple[int, str, np.ndarray]],
           geometries: dict[str, tuple[np.ndarray, np.ndarray]], cell_start: np.ndarray,
           cell_count: np.ndarray) -> CategoryMesh:
    """Place every instance of each shared geometry with one batched transform and concatenate."""
    groups: dict[str, list[tuple[int, np.ndarray]]] = defaultdict(list)
    for idx, gid, matrix in items:
        groups[gid].append((idx, matrix))
    points, triangles, cell_element = [], [], []
    n_points = n_cells = 0
    for gid, members in groups.items():
        verts, faces = geometries[gid]
        if len(faces) == 0:
            continue
        idx = np.array([m[0] for m in members], dtype=np.int32)
        mats = np.stack([m[1] for m in members])  # (k, 4, 4)
        world = np.einsum("kij,nj->kni", mats[:, :3, :3], verts) + mats[:, None, :3, 3]
        k, nv, nf = len(members), len(verts), len(faces)
        offsets = (n_points + np.arange(k, dtype=np.int64) * nv)[:, None, None]
        triangles.append((faces[None, :, :] + offsets).reshape(-1, 3))
        points.append(world.reshape(-1, 3))
        cell_element.append(np.repeat(idx, nf))
        cell_start[idx] = n_cells + np.arange(k) * nf
        cell_count[idx] = nf
        n_points += k * nv
        n_cells += k * nf
    if not points:
        empty = np.zeros((0, 3))
        return CategoryMesh(cat, empty.astype(np.float32), empty.astype(np.int32), np.zeros(0, dtype=np.int32))
    return CategoryMesh(
        cat,
        np.concatenate(points).astype(np.float32),
        np.concatenate(triangles).astype(np.int32),
        np.concatenate(cell_element).astype(np.int32),
    )


def _log_reasons(log: str) -> dict[int, str]:
    """Entity id -> the library's error message about it (errors win over warnings)."""
    reasons: dict[int, tuple[int, str]] = {}
    for line in (log or "").splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        level = {"error": 2, "warning": 1}.get(entry.get("level", ""), 0)
        if not level:
            continue
        subject = str(entry.get("instance") or entry.get("product") or "")
        text = f"{entry.get('code', '')} {entry.get('message', '')} {subject[:160]}".strip()
        for ref in _ENTITY_REF.findall(subject):
            known = reasons.get(int(ref))
            if known is None or level > known[0]:
                reasons[int(ref)] = (level, text)
    return {k: v for k, (_, v) in reasons.items()}


def _representation_ids(element: ifcopenshell.entity_instance) -> list[int]:
    """Ids of an element's representations and their items, mapped sources included."""
    ids = [element.id()]
    shape = getattr(element, "Representation", None)
    for rep in (shape.Representations if shape is not None else ()) or ():
        ids.append(rep.id())
        for item in rep.Items or ():
            ids.append(item.id())
            if item.is_a("IfcMappedItem"):
                source = item.MappingSource.MappedRepresentation
                ids.append(source.id())
                ids.extend(i.id() for i in source.Items or ())
    return ids


def _skipped(elements: list[ifcopenshell.entity_instance], index_of: dict[int, int],
             include: list[ifcopenshell.entity_instance], yielded: set[int], log: str) -> list[dict[str, str]]:
    """Elements with a representation that produced no geometry, with the library's reason when it gave one."""
    reasons = _log_reasons(log)
    skipped = []
    for e in include:
        if index_of[e.id()] in yielded:
            continue
        try:
            candidates = _representation_ids(e)
        except Exception:  # a broken representation chain is itself the reason
            candidates = [e.id()]
        reason = next((reasons[i] for i in reversed(candidates) if i in reasons),  # the innermost item first
                      "no geometry could be built from its representation")
        skipped.append({"global_id": str(getattr(e, "GlobalId", "")), "ifc_class": e.is_a(), "reason": reason})
    return skipped
