"""`twin-app generate`: the Mumianling district as valid IFC4 plus its device registry."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import ifcopenshell
import ifcopenshell.util.element
import ifcopenshell.util.unit
import ifcopenshell.validate
import pandas as pd
import pytest

from twin_app.bim.generate import THRESHOLD_PSET, generate_district
from twin_app.core.registry import read_registry

EQUIPMENT = {
    "IfcTransportElement": {"ELEVATOR"},
    "IfcFan": {"VANEAXIAL", "CENTRIFUGALBACKWARDINCLINEDCURVED", "CENTRIFUGALAIRFOIL"},
    "IfcPump": {"VERTICALINLINE", "SPLITCASE", "SUMPPUMP"},
    "IfcTank": {"STORAGE", "USERDEFINED"},
    "IfcFireSuppressionTerminal": {"HOSEREEL"},
    "IfcAlarm": {"MANUALPULLBOX"},
    "IfcSensor": {"COSENSOR", "GASSENSOR", "SMOKESENSOR", "TEMPERATURESENSOR", "PRESSURESENSOR", "LEVELSENSOR"},
}


@pytest.fixture(scope="module")
def full_ifc(full_district) -> ifcopenshell.file:
    return ifcopenshell.open(str(full_district.ifc_path))


def test_full_district_structure(full_ifc: ifcopenshell.file) -> None:
    f = full_ifc
    assert f.schema == "IFC4"
    assert ifcopenshell.util.unit.calculate_unit_scale(f) == 1.0
    assert len(f.by_type("IfcSite")) == 1
    buildings = f.by_type("IfcBuilding")
    assert sorted(b.Name for b in buildings) == [f"T{i:02d}" for i in range(1, 20)]
    for b in buildings:
        storeys = [s for rel in b.IsDecomposedBy for s in rel.RelatedObjects]
        names = {s.Name for s in storeys}
        above = [s for s in storeys if s.Elevation >= 0]
        assert {"B1", "B2"} <= names
        assert 33 <= len(above) <= 56
        top = max(s.Elevation for s in above)
        assert 95.0 <= top + 3.0 <= 175.0
    assert len(f.by_type("IfcSpace")) >= 13_000
    assert len(f.by_type("IfcProduct")) >= 20_000
    garages = [s for s in f.by_type("IfcSpace") if s.PredefinedType == "PARKING"]
    assert {s.LongName.split()[-1].split("-")[0] for s in garages} == {"B1", "B2"}


def test_equipment_classes_and_containment(full_ifc: ifcopenshell.file) -> None:
    f = full_ifc
    for ifc_class, predefined in EQUIPMENT.items():
        elements = f.by_type(ifc_class)
        assert elements, ifc_class
        assert {e.PredefinedType for e in elements} >= predefined, ifc_class
        for e in elements[:50]:
            container = ifcopenshell.util.element.get_container(e)
            assert container is not None and container.is_a("IfcBuildingStorey"), e
            if e.PredefinedType == "USERDEFINED":
                assert e.ObjectType
    septic = [t for t in f.by_type("IfcTank") if t.ObjectType == "SEPTIC_TANK"]
    assert septic and all(ifcopenshell.util.element.get_container(t).Name == "B2" for t in septic[:10])
    elevators = f.by_type("IfcTransportElement")
    assert len(elevators) == 4 * 19


def test_types_share_representations_and_carry_psets(full_ifc: ifcopenshell.file) -> None:
    f = full_ifc
    # one representation map per distinct box, not per element
    assert len(f.by_type("IfcRepresentationMap")) < 100
    assert len(f.by_type("IfcExtrudedAreaSolid")) < 100
    co = next(s for s in f.by_type("IfcSensor") if s.PredefinedType == "COSENSOR")
    psets = ifcopenshell.util.element.get_psets(co)
    assert psets["Pset_SensorTypeCommon"]["Reference"]
    assert psets[THRESHOLD_PSET]["MeasuredKind"] == "co"
    assert psets[THRESHOLD_PSET]["AlarmHigh"] == 50.0
    space = f.by_type("IfcSpace")[100]
    assert "Pset_SpaceCommon" in ifcopenshell.util.element.get_psets(space)
    assert ifcopenshell.util.element.get_type(space) is not None
    building = f.by_type("IfcBuilding")[0]
    assert ifcopenshell.util.element.get_psets(building)["Pset_BuildingCommon"]["NumberOfStoreys"] >= 35


def test_registry_binds_every_device_to_an_ifc_host(full_district, full_ifc: ifcopenshell.file) -> None:
    devices = read_registry(full_district.registry_path)
    assert len(devices) >= 400_000
    assert devices["device_id"].is_unique
    assert devices["kind"].nunique() >= 100
    assert set(devices["building"]) == {f"T{i:02d}" for i in range(1, 20)}
    guids = {e.GlobalId for e in full_ifc.by_type("IfcProduct")}
    assert set(devices["host_global_id"]).issubset(guids)
    hosts = {full_ifc.by_guid(g).is_a() for g in devices["host_global_id"].drop_duplicates().head(3000)}
    assert "IfcSpace" in hosts
    co = devices[devices["kind"] == "co"]
    assert (co["unit"] == "ppm").all() and (co["alarm_high"] == 50).all()
    assert {"co", "ch4", "h2s", "smoke", "temperature", "humidity", "water_pressure", "water_level", "elevator",
            "fan", "pump", "door", "camera"} <= set(devices["kind"])
    assert pd.api.types.is_float_dtype(devices["warn_low"])


def test_full_district_validates_clean(full_district) -> None:
    log = ifcopenshell.validate.json_logger()
    ifcopenshell.validate.validate(str(full_district.ifc_path), log)
    assert log.statements == []


def test_small_district_validates_with_express_rules(small_district) -> None:
    log = ifcopenshell.validate.json_logger()
    ifcopenshell.validate.validate(str(small_district.ifc_path), log, express_rules=True)
    assert log.statements == []


def test_generation_is_deterministic(tmp_path, small_district) -> None:
    again = generate_district(tmp_path / "again", towers=2, storeys=6)
    other = generate_district(tmp_path / "other", towers=2, storeys=6, seed=1)

    def digest(p):
        return hashlib.sha256(p.read_bytes()).hexdigest()

    assert digest(again.ifc_path) == digest(small_district.ifc_path)
    assert digest(again.registry_path) == digest(small_district.registry_path)
    assert digest(other.ifc_path) != digest(small_district.ifc_path)


def test_generate_command_line(tmp_path) -> None:
    out = tmp_path / "cli"
    run = subprocess.run([sys.executable, "-m", "twin_app", "generate", str(out), "--towers", "1", "--storeys", "3",
                          "--quiet"], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    summary = json.loads(run.stdout)
    assert summary["towers"] == 1 and summary["devices"] > 0
    assert (out / "mumianling.ifc").is_file() and (out / "devices.parquet").is_file()
    bad = subprocess.run([sys.executable, "-m", "twin_app", "generate", str(out), "--towers", "40", "--quiet"],
                         capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2
    assert "towers must be between 1 and 20" in bad.stderr and "Traceback" not in bad.stderr


def test_committed_small_model_is_the_generated_one(small_district) -> None:
    committed = Path(__file__).resolve().parents[2] / "bim_models" / "mumianling-small"
    for name in ("mumianling.ifc", "devices.parquet"):
        assert (committed / name).read_bytes() == (small_district.ifc_path.parent / name).read_bytes(), name
