"""The IFC loader: real files from several tools, units, the disk cache, and bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import DATA, SAMPLES
from twin_app.bim.loader import LOADER_VERSION, cache_path_for, file_digest, load_model
from twin_app.core.errors import InputError
from twin_app.core.model import Category


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_real_samples_load_in_metres(name: str, tmp_path: Path) -> None:
    schema, unit, scale, min_geometry = SAMPLES[name]
    result = load_model(DATA / name, folder=tmp_path)
    model, meta = result.model, result.model.meta
    assert not result.from_cache
    assert meta["schema"] == schema
    assert meta["length_unit"] == unit
    assert meta["scale_to_metre"] == pytest.approx(scale)
    assert meta["elements_with_geometry"] >= min_geometry
    assert meta["skipped"] == []
    xmin, ymin, zmin, xmax, ymax, zmax = meta["bbox_m"]
    # a house-sized building in metres, whatever unit the file uses
    assert 5.0 < xmax - xmin < 60.0 and 5.0 < ymax - ymin < 60.0 and 2.0 < zmax - zmin < 20.0
    assert model.n_elements == sum(meta["counts"].values()) - meta["counts"].get("IfcOpeningElement", 0) \
        - meta["counts"].get("IfcAnnotation", 0)
    # every triangle knows its element, and every element's cells are where the table says
    for cat, mesh in model.meshes.items():
        assert (model.category[mesh.cell_element] == cat).all()
        for element in np.unique(mesh.cell_element)[:20]:
            start, count = model.cell_start[element], model.cell_count[element]
            assert (mesh.cell_element[start:start + count] == element).all()


def test_duplex_hierarchy_and_categories(tmp_path: Path) -> None:
    model = load_model(DATA / "Duplex_A_20110907.ifc", folder=tmp_path).model
    storeys = model.of_class("IfcBuildingStorey")
    assert len(storeys) == 4
    spaces = model.of_class("IfcSpace")
    assert len(spaces) == 21
    assert (model.storey[spaces] >= 0).all() and (model.building[spaces] >= 0).all()
    assert set(model.ifc_class[model.parent[storeys]]) == {"IfcBuilding"}
    assert Category.SPACES in model.meshes and Category.STRUCTURE in model.meshes


def test_electrical_model_has_equipment_in_feet_converted(tmp_path: Path) -> None:
    model = load_model(DATA / "Duplex_Electrical_20121207.ifc", folder=tmp_path).model
    assert model.meshes[Category.EQUIPMENT].n_cells > 0
    # the same building as Duplex_A: a few metres tall once feet are converted
    assert model.meta["bbox_m"][5] == pytest.approx(9.0, abs=0.5)


def test_second_open_reads_the_cache(small_district, tmp_path: Path) -> None:
    first = load_model(small_district.ifc_path, folder=tmp_path)
    second = load_model(small_district.ifc_path, folder=tmp_path)
    assert not first.from_cache and second.from_cache
    assert second.seconds < first.seconds
    assert (first.model.global_id == second.model.global_id).all()
    for cat in first.model.meshes:
        assert np.array_equal(first.model.meshes[cat].points, second.model.meshes[cat].points)
        assert np.array_equal(first.model.meshes[cat].cell_element, second.model.meshes[cat].cell_element)
    assert second.cache_file == cache_path_for(file_digest(small_district.ifc_path), tmp_path)
    assert f"-v{LOADER_VERSION}" in second.cache_file.name


def test_corrupt_cache_entry_is_rebuilt(small_district, tmp_path: Path) -> None:
    entry = load_model(small_district.ifc_path, folder=tmp_path).cache_file
    data = entry.read_bytes()
    entry.write_bytes(data[: len(data) // 2])  # truncated by a crash or a full disk
    again = load_model(small_district.ifc_path, folder=tmp_path)
    assert not again.from_cache and again.model.n_elements > 0
    flipped = bytearray(entry.read_bytes())
    flipped[len(flipped) // 3] ^= 0xFF  # one bad byte inside an array
    entry.write_bytes(bytes(flipped))
    third = load_model(small_district.ifc_path, folder=tmp_path)
    assert not third.from_cache
    assert load_model(small_district.ifc_path, folder=tmp_path).from_cache


def test_stale_cache_entry_of_another_file_is_not_trusted(small_district, tmp_path: Path) -> None:
    entry = load_model(small_district.ifc_path, folder=tmp_path).cache_file
    other = DATA / "Building-Hvac.ifc"
    # put the district's entry where the other file's entry belongs
    target = cache_path_for(file_digest(other), tmp_path)
    target.write_bytes(entry.read_bytes())
    result = load_model(other, folder=tmp_path)
    assert not result.from_cache
    assert result.model.meta["schema"] == "IFC4" and result.model.n_elements < 100


def _broken_copy(tmp_path: Path, marker: str, replacement: str) -> Path:
    lines = (DATA / "Building-Architecture.ifc").read_text().splitlines()
    for i, line in enumerate(lines):
        if marker in line:
            lines[i] = line.split("=")[0] + replacement
            break
    out = tmp_path / "broken.ifc"
    out.write_text("\n".join(lines) + "\n")
    return out


@pytest.mark.parametrize(("make", "message"), [
    (lambda d: d / "missing.ifc", "file not found"),
    (lambda d: (d / "notes.ifc").write_text("hello, I am not a model") and d / "notes.ifc", "not an IFC"),
    (lambda d: (d / "t.ifc").write_bytes((DATA / "Building-Hvac.ifc").read_bytes()[:60_000]) and d / "t.ifc",
     "truncated"),
    (lambda d: _broken_copy(d, "IFCTRIANGULATEDFACESET", "=IFCTRIANGULATEDFACESET(#9,$,$,(1.,2.,garbage"),
     "syntax error"),
    (lambda d: _broken_copy(d, "IFCWALL", "=IFCWALL(#@@@,,,);"), "cannot be parsed"),
])
def test_bad_files_give_a_clear_message(tmp_path: Path, make, message: str) -> None:
    path = make(tmp_path)
    with pytest.raises(InputError) as info:
        load_model(path, folder=tmp_path / "cache")
    assert message in info.value.what
    assert str(path) in info.value.where


def _inspect(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "twin_app", "inspect", *args], capture_output=True, text=True,
                          timeout=300)


def test_inspect_json_contract() -> None:
    run = _inspect(str(DATA / "Duplex_Electrical_20121207.ifc"), "--json")
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout)
    for key in ("schema", "length_unit", "scale_to_metre", "counts", "elements_with_geometry", "skipped", "bbox_m",
                "seconds", "from_cache"):
        assert key in report, key
    assert report["length_unit"] == "FOOT" and report["scale_to_metre"] == pytest.approx(0.3048)
    assert report["counts"]["IfcFlowTerminal"] == 82
    assert len(report["bbox_m"]) == 6
    assert _inspect(str(DATA / "Duplex_Electrical_20121207.ifc"), "--json").stdout.count('"from_cache": true') == 1


def test_inspect_bad_file_exits_2_with_one_line(tmp_path: Path) -> None:
    junk = tmp_path / "junk.ifc"
    junk.write_text("PK\x03\x04 a zip, not a model")
    run = _inspect(str(junk), "--json")
    assert run.returncode == 2
    assert run.stdout == ""
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and "junk.ifc" in lines[0] and "not an IFC" in lines[0]
    assert "Traceback" not in run.stderr


def test_a_crashing_worker_gives_a_message_not_a_crash(small_district, tmp_path: Path) -> None:
    """The IFC library dies mid-load (SIGKILL, as a segfault would): the caller gets a clear error."""
    import multiprocessing
    import os
    import signal

    def kill_the_worker(_fraction: float, _message: str) -> None:
        for child in multiprocessing.active_children():
            os.kill(child.pid, signal.SIGKILL)

    with pytest.raises(InputError) as info:
        load_model(small_district.ifc_path, progress=kill_the_worker, folder=tmp_path)
    assert "crashed" in info.value.what and str(small_district.ifc_path) in info.value.where
    assert load_model(small_district.ifc_path, folder=tmp_path).model.n_elements > 0  # and the next load works


def test_a_hanging_worker_is_stopped(small_district, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="took longer than"):
        load_model(small_district.ifc_path, folder=tmp_path, timeout_s=0.01)


def _file_with_a_broken_solid(path: Path) -> Path:
    """A valid file with two walls: one good, one whose extrusion has zero height."""
    import ifcopenshell
    import ifcopenshell.api.aggregate
    import ifcopenshell.api.context
    import ifcopenshell.api.geometry
    import ifcopenshell.api.root
    import ifcopenshell.api.spatial
    import ifcopenshell.api.unit

    f = ifcopenshell.file(schema="IFC4")
    project = ifcopenshell.api.root.create_entity(f, ifc_class="IfcProject", name="p")
    ifcopenshell.api.unit.assign_unit(f)
    model = ifcopenshell.api.context.add_context(f, context_type="Model")
    body = ifcopenshell.api.context.add_context(f, context_type="Model", context_identifier="Body",
                                                target_view="MODEL_VIEW", parent=model)
    site = ifcopenshell.api.root.create_entity(f, ifc_class="IfcSite", name="site")
    ifcopenshell.api.aggregate.assign_object(f, products=[site], relating_object=project)
    good = ifcopenshell.api.root.create_entity(f, ifc_class="IfcWall", name="good")
    rep = ifcopenshell.api.geometry.add_wall_representation(f, context=body, length=5, height=3, thickness=0.2)
    ifcopenshell.api.geometry.assign_representation(f, product=good, representation=rep)
    bad = ifcopenshell.api.root.create_entity(f, ifc_class="IfcWall", name="bad")
    profile = f.createIfcRectangleProfileDef("AREA", None, None, 1.0, 1.0)
    solid = f.createIfcExtrudedAreaSolid(profile, None, f.createIfcDirection((0.0, 0.0, 1.0)), 0.0)
    bad.Representation = f.createIfcProductDefinitionShape(
        None, None, [f.createIfcShapeRepresentation(body, "Body", "SweptSolid", [solid])])
    ifcopenshell.api.spatial.assign_container(f, products=[good, bad], relating_structure=site)
    for wall in (good, bad):
        wall.ObjectPlacement = f.createIfcLocalPlacement(
            None, f.createIfcAxis2Placement3D(f.createIfcCartesianPoint((0.0, 0.0, 0.0)), None, None))
    f.write(str(path))
    return path


def test_an_element_whose_geometry_fails_is_skipped_with_its_reason(tmp_path: Path) -> None:
    path = _file_with_a_broken_solid(tmp_path / "walls.ifc")
    model = load_model(path, folder=tmp_path).model
    assert model.meta["elements_with_geometry"] == 1  # the good wall still loads
    assert len(model.meta["skipped"]) == 1
    skipped = model.meta["skipped"][0]
    assert skipped["ifc_class"] == "IfcWall"
    assert "extrusion" in skipped["reason"].lower() and "IfcExtrudedAreaSolid" in skipped["reason"]
    good = model.index_of(next(g for g, n in zip(model.global_id, model.name, strict=True) if n == "good"))
    assert model.cell_count[good] > 0


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_inspect_json_on_every_sample(name: str) -> None:
    run = _inspect(str(DATA / name), "--json")
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout)
    schema, unit, scale, min_geometry = SAMPLES[name]
    assert (report["schema"], report["length_unit"]) == (schema, unit)
    assert report["scale_to_metre"] == pytest.approx(scale)
    assert report["elements_with_geometry"] >= min_geometry and report["skipped"] == []
