"""Write the Mumianling district as IFC4 and its device registry as Parquet.

Every box-shaped product reuses one `IfcRepresentationMap` per size through an
`IfcMappedItem`, and one type object per role carries the shared property sets,
so the file stays small and tessellates fast. GlobalIds come from the seed, so
the same arguments give the same bytes.
"""

from __future__ import annotations

import math
import time
import uuid
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import ifcopenshell
import ifcopenshell.api.context
import ifcopenshell.api.pset
import ifcopenshell.api.root
import ifcopenshell.api.unit
import ifcopenshell.guid
import numpy as np
import pandas as pd

from twin_app.core.district import DistrictPlan, EquipmentPlan, StoreyPlan, TowerPlan, plan_district
from twin_app.core.kinds import KINDS
from twin_app.core.registry import build_registry

IFC_NAME = "mumianling.ifc"
REGISTRY_NAME = "devices.parquet"
WALL_THICKNESS_M = 0.3
SLAB_THICKNESS_M = 0.2
SLAB_OVERHANG_M = 0.25  # floor slabs stand out of the facade: the storey lines read from afar
SPACE_INSET_M = 0.1  # half the thickness of the partitions between spaces
FIXED_TIMESTAMP = "2026-01-01T00:00:00"
THRESHOLD_PSET = "Mumianling_Thresholds"

ProgressFn = Callable[[float, str], None]

# role of a fixed sensor -> (measured kind, specific standard property set or None)
SENSOR_KIND = {
    "smoke_detector": ("smoke", None),
    "temperature_sensor": ("temperature", "Pset_SensorTypeTemperatureSensor"),
    "riser_pressure_sensor": ("water_pressure", "Pset_SensorTypePressureSensor"),
    "pressure_sensor": ("water_pressure", "Pset_SensorTypePressureSensor"),
    "co_sensor": ("co", None),
    "ch4_sensor": ("ch4", "Pset_SensorTypeGasSensor"),
    "h2s_sensor": ("h2s", "Pset_SensorTypeGasSensor"),
    "level_sensor": ("water_level", None),
}
SPACE_ROLE_TYPE = {"garage": "PARKING"}


@dataclass
class GeneratedDistrict:
    """What `generate_district` wrote."""

    ifc_path: Path
    registry_path: Path
    counts: dict[str, int]
    devices: int
    seconds: float


class _Writer:
    """Creates the entities of one IFC4 file; holds the shared geometry and types."""

    def __init__(self, plan: DistrictPlan) -> None:
        self.plan = plan
        self.f = ifcopenshell.file(schema="IFC4")
        f = self.f
        self.project = ifcopenshell.api.root.create_entity(f, ifc_class="IfcProject", name="Mumianling")
        self.project.LongName = "Mumianling community, Luohu, Shenzhen"
        length = f.createIfcSIUnit(None, "LENGTHUNIT", None, "METRE")
        area = f.createIfcSIUnit(None, "AREAUNIT", None, "SQUARE_METRE")
        volume = f.createIfcSIUnit(None, "VOLUMEUNIT", None, "CUBIC_METRE")
        angle = f.createIfcSIUnit(None, "PLANEANGLEUNIT", None, "RADIAN")
        ifcopenshell.api.unit.assign_unit(f, units=[length, area, volume, angle])
        model = ifcopenshell.api.context.add_context(f, context_type="Model")
        self.body = ifcopenshell.api.context.add_context(
            f, context_type="Model", context_identifier="Body", target_view="MODEL_VIEW", parent=model
        )
        self.origin = f.createIfcCartesianPoint((0.0, 0.0, 0.0))
        self.z_axis = f.createIfcDirection((0.0, 0.0, 1.0))
        self.x_axis = f.createIfcDirection((1.0, 0.0, 0.0))
        self.y_axis = f.createIfcDirection((0.0, 1.0, 0.0))
        self.identity_3d = f.createIfcAxis2Placement3D(self.origin, None, None)
        self.identity_op = f.createIfcCartesianTransformationOperator3D(None, None, self.origin, None, None)
        self._maps: dict[tuple[float, float, float, bool], ifcopenshell.entity_instance] = {}
        self._shapes: dict[tuple[float, float, float, bool], ifcopenshell.entity_instance] = {}
        self._types: dict[tuple[str, str], ifcopenshell.entity_instance] = {}
        self._typed: dict[ifcopenshell.entity_instance, list[ifcopenshell.entity_instance]] = defaultdict(list)
        self.hosts: list[tuple[ifcopenshell.entity_instance, str, str, str, str]] = []

    # -- geometry ---------------------------------------------------------------------------------
    def box_shape(self, w: float, d: float, h: float, centred: bool) -> ifcopenshell.entity_instance:
        """Product shape of a w x d x h box through a shared representation map."""
        key = (round(w, 3), round(d, 3), round(h, 3), centred)
        shape = self._shapes.get(key)
        if shape is not None:
            return shape
        f = self.f
        centre = (0.0, 0.0) if centred else (w / 2.0, d / 2.0)
        profile = f.createIfcRectangleProfileDef(
            "AREA", None, f.createIfcAxis2Placement2D(f.createIfcCartesianPoint(centre), None), w, d
        )
        solid = f.createIfcExtrudedAreaSolid(profile, self.identity_3d, self.z_axis, h)
        rep = f.createIfcShapeRepresentation(self.body, "Body", "SweptSolid", [solid])
        rmap = f.createIfcRepresentationMap(self.identity_3d, rep)
        self._maps[key] = rmap
        item = f.createIfcMappedItem(rmap, self.identity_op)
        shape = f.createIfcProductDefinitionShape(
            None, None, [f.createIfcShapeRepresentation(self.body, "Body", "MappedRepresentation", [item])]
        )
        self._shapes[key] = shape
        return shape

    def placement(self, parent: ifcopenshell.entity_instance | None, x: float, y: float, z: float,
                  rotation_deg: float = 0.0) -> ifcopenshell.entity_instance:
        f = self.f
        point = f.createIfcCartesianPoint((float(x), float(y), float(z)))
        if rotation_deg:
            a = math.radians(rotation_deg)
            ref = f.createIfcDirection((round(math.cos(a), 12), round(math.sin(a), 12), 0.0))
            axes = f.createIfcAxis2Placement3D(point, self.z_axis, ref)
        else:
            axes = f.createIfcAxis2Placement3D(point, None, None)
        return f.createIfcLocalPlacement(parent, axes)

    # -- types ------------------------------------------------------------------------------------
    def type_for(self, occurrence_class: str, predefined: str, object_type: str, role: str,
                 shape_key: tuple[float, float, float, bool]) -> ifcopenshell.entity_instance:
        """The type object of one role, created on first use with its property sets."""
        key = (occurrence_class, role)
        rtype = self._types.get(key)
        rmap = self._maps[shape_key]
        if rtype is None:
            label = role.replace("_", " ").capitalize()
            rtype = self.f.create_entity(
                f"{occurrence_class}Type", GlobalId=ifcopenshell.guid.new(), Name=label,
                ElementType=object_type or label, PredefinedType=predefined, RepresentationMaps=[rmap],
            )
            self._types[key] = rtype
            self._type_psets(rtype, occurrence_class, role, label)
        elif rmap not in rtype.RepresentationMaps:
            rtype.RepresentationMaps = [*list(rtype.RepresentationMaps), rmap]
        return rtype

    def _type_psets(self, rtype: ifcopenshell.entity_instance, occurrence_class: str, role: str, label: str) -> None:
        f = self.f
        if occurrence_class == "IfcSpace":
            pset = ifcopenshell.api.pset.add_pset(f, product=rtype, name="Pset_SpaceCommon")
            ifcopenshell.api.pset.edit_pset(f, pset=pset, properties={
                "Reference": label, "IsExternal": False, "PubliclyAccessible": role not in ("apartment", "shaft"),
                "HandicapAccessible": role in ("apartment", "corridor", "lobby", "garage", "shop"),
            })
            return
        if occurrence_class == "IfcSensor":
            kind_name, specific = SENSOR_KIND[role]
            kind = KINDS[kind_name]
            pset = ifcopenshell.api.pset.add_pset(f, product=rtype, name="Pset_SensorTypeCommon")
            ifcopenshell.api.pset.edit_pset(f, pset=pset, properties={"Reference": label, "Status": "NEW"})
            # standard set-points are in SI project units: kelvin and pascal
            props: dict[str, object] = {
                "Pset_SensorTypeTemperatureSensor": {"SetPointTemperature": kind.alarm_high + 273.15},
                "Pset_SensorTypePressureSensor": {"SetPointPressure": kind.alarm_low * 1e6, "IsSwitch": False},
                "Pset_SensorTypeGasSensor": {"GasDetected": kind_name.upper()},
            }.get(specific or "", {})
            if props:
                pset = ifcopenshell.api.pset.add_pset(f, product=rtype, name=str(specific))
                ifcopenshell.api.pset.edit_pset(f, pset=pset, properties=props)
            limits = {"MeasuredKind": kind_name, "Unit": kind.unit, "ReportPeriod": kind.period_s}
            for prop, value in (("AlarmHigh", kind.alarm_high), ("WarnHigh", kind.warn_high),
                                ("WarnLow", kind.warn_low), ("AlarmLow", kind.alarm_low)):
                if not math.isnan(value):
                    limits[prop] = value
            pset = ifcopenshell.api.pset.add_pset(f, product=rtype, name=THRESHOLD_PSET)
            ifcopenshell.api.pset.edit_pset(f, pset=pset, properties=limits)
            return
        common = {
            "IfcFan": "Pset_FanTypeCommon", "IfcPump": "Pset_PumpTypeCommon", "IfcTank": "Pset_TankTypeCommon",
            "IfcFireSuppressionTerminal": "Pset_FireSuppressionTerminalTypeCommon",
            "IfcAlarm": "Pset_AlarmTypeCommon", "IfcUnitaryEquipment": "Pset_UnitaryEquipmentTypeCommon",
            "IfcTransportElement": "Pset_TransportElementElevator", "IfcWall": "Pset_WallCommon",
            "IfcSlab": "Pset_SlabCommon",
        }[occurrence_class]
        props: dict[str, object] = {"Reference": label, "Status": "NEW"}
        if occurrence_class in ("IfcWall", "IfcSlab"):
            props = {"Reference": label, "IsExternal": role in ("facade_wall", "roof_slab"), "LoadBearing": True,
                     "FireRating": "REI 120"}
        if common == "Pset_TransportElementElevator":
            props = {"FireFightingLift": role == "elevator", "ClearWidth": 1.6, "ClearDepth": 1.8,
                     "ClearHeight": 2.4}
        pset = ifcopenshell.api.pset.add_pset(f, product=rtype, name=common)
        ifcopenshell.api.pset.edit_pset(f, pset=pset, properties=props)

    # -- products ---------------------------------------------------------------------------------
    def product(self, ifc_class: str, name: str, placement: ifcopenshell.entity_instance,
                shape: ifcopenshell.entity_instance, **attributes: object) -> ifcopenshell.entity_instance:
        return self.f.create_entity(ifc_class, GlobalId=ifcopenshell.guid.new(), Name=name,
                                    ObjectPlacement=placement, Representation=shape, **attributes)

    def shared_pset(self, objects: list[ifcopenshell.entity_instance], name: str,
                    properties: dict[str, object]) -> None:
        """One property set related to many objects by a single relationship."""
        if not objects:
            return
        pset = ifcopenshell.api.pset.add_pset(self.f, product=objects[0], name=name)
        ifcopenshell.api.pset.edit_pset(self.f, pset=pset, properties=properties)
        rel = pset.DefinesOccurrence[0]
        rel.RelatedObjects = list(objects)

    def write_tower(self, tower: TowerPlan, site: ifcopenshell.entity_instance) -> ifcopenshell.entity_instance:
        f = self.f
        placement = self.placement(site.ObjectPlacement, tower.x, tower.y, 0.0, tower.rotation_deg)
        building = f.create_entity(
            "IfcBuilding", GlobalId=ifcopenshell.guid.new(), Name=tower.name, ObjectPlacement=placement,
            LongName=f"Mumianling Tower {tower.name[1:]}", CompositionType="ELEMENT",
        )
        self.shared_pset([building], "Pset_BuildingCommon", {
            "BuildingID": tower.name, "NumberOfStoreys": tower.storeys_above + 2, "SprinklerProtection": True,
            "OccupancyType": "Residential", "YearOfConstruction": "2023",
        })
        storeys = []
        for storey in tower.storeys:
            storeys.append(self.write_storey(tower, storey, placement))
        f.createIfcRelAggregates(ifcopenshell.guid.new(), None, None, None, building, storeys)
        return building

    def write_storey(self, tower: TowerPlan, storey: StoreyPlan,
                     building_placement: ifcopenshell.entity_instance) -> ifcopenshell.entity_instance:
        f = self.f
        placement = self.placement(building_placement, 0.0, 0.0, storey.elevation)
        ent = f.create_entity(
            "IfcBuildingStorey", GlobalId=ifcopenshell.guid.new(), Name=storey.name, ObjectPlacement=placement,
            LongName=f"{tower.name} {storey.name}", CompositionType="ELEMENT", Elevation=storey.elevation,
        )
        prefix = f"{tower.name}-{storey.name}"
        spaces = []
        for sp in storey.spaces:
            key = (sp.width - 2 * SPACE_INSET_M, sp.depth - 2 * SPACE_INSET_M, storey.height - SLAB_THICKNESS_M,
                   False)
            shape = self.box_shape(*key)
            predefined = SPACE_ROLE_TYPE.get(sp.role, "SPACE")
            origin = self.placement(placement, sp.x + SPACE_INSET_M, sp.y + SPACE_INSET_M, SLAB_THICKNESS_M)
            space = self.product(
                "IfcSpace", f"{prefix}-{sp.code}", origin, shape, ObjectType=sp.role.replace("_", " ").capitalize(),
                LongName=sp.long_name, CompositionType="ELEMENT", PredefinedType=predefined,
                ElevationWithFlooring=storey.elevation + SLAB_THICKNESS_M,
            )
            self._typed[self.type_for("IfcSpace", predefined, "", sp.role, self._key(key))].append(space)
            self.hosts.append((space, sp.role, tower.name, storey.name, sp.code))
            spaces.append(space)
        f.createIfcRelAggregates(ifcopenshell.guid.new(), None, None, None, ent, spaces)
        contained = self.write_shell(tower, storey, placement, prefix)
        for eq in storey.equipment:
            contained.append(self.write_equipment(eq, placement, prefix, tower, storey))
        f.createIfcRelContainedInSpatialStructure(ifcopenshell.guid.new(), None, None, None, contained, ent)
        return ent

    @staticmethod
    def _key(key: tuple[float, float, float, bool]) -> tuple[float, float, float, bool]:
        return (round(key[0], 3), round(key[1], 3), round(key[2], 3), key[3])

    def write_shell(self, tower: TowerPlan, storey: StoreyPlan, placement: ifcopenshell.entity_instance,
                    prefix: str) -> list[ifcopenshell.entity_instance]:
        w, d, t = tower.width, tower.depth, WALL_THICKNESS_M
        elements = []
        if storey.above_ground:
            o = SLAB_OVERHANG_M
            slab_box = (w + 2 * o, d + 2 * o, SLAB_THICKNESS_M, False)
            slab_origin = (-o, -o)
            walls = (("S", 0.0, 0.0, (w, t)), ("N", 0.0, d - t, (w, t)), ("W", 0.0, 0.0, (t, d)),
                     ("E", w - t, 0.0, (t, d)))
            for side, x, y, (ww, dd) in walls:
                key = (ww, dd, storey.height, False)
                wall = self.product("IfcWall", f"{prefix}-FW{side}", self.placement(placement, x, y, 0.0),
                                    self.box_shape(*key), PredefinedType="SOLIDWALL", ObjectType="Facade wall")
                self._typed[self.type_for("IfcWall", "SOLIDWALL", "Facade wall", "facade_wall",
                                          self._key(key))].append(wall)
                elements.append(wall)
        else:
            m = -12.0
            slab_box = (w - 2 * m, d - 2 * m, SLAB_THICKNESS_M, False)
            slab_origin = (m, m)
        slab = self.product("IfcSlab", f"{prefix}-SLAB", self.placement(placement, *slab_origin, 0.0),
                            self.box_shape(*slab_box), PredefinedType="FLOOR")
        self._typed[self.type_for("IfcSlab", "FLOOR", "", "floor_slab", self._key(slab_box))].append(slab)
        elements.append(slab)
        if storey is tower.storeys[-1]:
            roof = self.product("IfcSlab", f"{prefix}-ROOF", self.placement(placement, *slab_origin, storey.height),
                                self.box_shape(*slab_box), PredefinedType="ROOF")
            self._typed[self.type_for("IfcSlab", "ROOF", "", "roof_slab", self._key(slab_box))].append(roof)
            elements.append(roof)
        return elements

    def write_equipment(self, eq: EquipmentPlan, placement: ifcopenshell.entity_instance, prefix: str,
                        tower: TowerPlan, storey: StoreyPlan) -> ifcopenshell.entity_instance:
        key = (*eq.size, True)
        attrs: dict[str, object] = {"PredefinedType": eq.predefined_type, "Tag": eq.code}
        if eq.object_type:
            attrs["ObjectType"] = eq.object_type
        ent = self.product(eq.ifc_class, f"{prefix}-{eq.code}", self.placement(placement, eq.x, eq.y, eq.z),
                           self.box_shape(*key), **attrs)
        rtype = self.type_for(eq.ifc_class, eq.predefined_type, eq.object_type, eq.role, self._key(key))
        self._typed[rtype].append(ent)
        self.hosts.append((ent, eq.role, tower.name, storey.name, eq.code))
        return ent

    def finish(self, seed: int) -> None:
        f = self.f
        for rtype, objects in self._typed.items():
            f.createIfcRelDefinesByType(ifcopenshell.guid.new(), None, None, None, objects, rtype)
        # deterministic GlobalIds: one per rooted entity, in creation order, from the seed
        rooted = sorted(f.by_type("IfcRoot"), key=lambda e: e.id())
        raw = np.random.default_rng(seed).bytes(16 * len(rooted))
        for i, ent in enumerate(rooted):
            ent.GlobalId = ifcopenshell.guid.compress(uuid.UUID(bytes=raw[16 * i:16 * i + 16]).hex)
        f.header.file_name.name = IFC_NAME
        f.header.file_name.time_stamp = FIXED_TIMESTAMP
        f.header.file_name.author = ("twin_app",)
        f.header.file_name.organization = ("Mumianling command center",)
        f.header.file_description.description = ("ViewDefinition [ReferenceView_V1.2]",)


def generate_district(out_dir: str | Path, towers: int = 19, seed: int = 20261124, storeys: int | None = None,
                      progress: ProgressFn | None = None) -> GeneratedDistrict:
    """Write ``mumianling.ifc`` and ``devices.parquet`` into `out_dir`.

    Parameters
    ----------
    out_dir
        Folder to write into (created when missing).
    towers, seed, storeys
        Passed to `twin_app.core.district.plan_district`.
    progress
        Called with a fraction in [0, 1] and a message as work proceeds.

    Returns
    -------
    GeneratedDistrict
    """
    started = time.perf_counter()
    report = progress or (lambda fraction, message: None)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    plan = plan_district(towers=towers, seed=seed, storeys=storeys)
    writer = _Writer(plan)
    site = writer.f.create_entity(
        "IfcSite", GlobalId=ifcopenshell.guid.new(), Name="Mumianling", LongName="Mumianling community site",
        ObjectPlacement=writer.placement(None, 0.0, 0.0, 0.0), CompositionType="ELEMENT",
        RefLatitude=(22, 33, 36, 0), RefLongitude=(114, 7, 48, 0), RefElevation=12.0,
    )
    writer.f.createIfcRelAggregates(ifcopenshell.guid.new(), None, None, None, writer.project, [site])
    buildings = []
    for i, tower in enumerate(plan.towers):
        report(0.8 * i / len(plan.towers), f"Building tower {tower.name}")
        buildings.append(writer.write_tower(tower, site))
    writer.f.createIfcRelAggregates(ifcopenshell.guid.new(), None, None, None, site, buildings)
    writer.finish(seed)
    report(0.8, "Writing the device registry")
    hosts = pd.DataFrame(
        [(e.GlobalId, role, b, s, code) for e, role, b, s, code in writer.hosts],
        columns=["host_global_id", "role", "building", "storey", "host_code"],
    )
    devices = build_registry(hosts)
    ifc_path = out / IFC_NAME
    registry_path = out / REGISTRY_NAME
    # write to temporary names first so that an interrupted run never leaves a half file behind
    tmp_ifc = ifc_path.with_suffix(".ifc.part")
    tmp_reg = registry_path.with_suffix(".parquet.part")
    devices.to_parquet(tmp_reg, index=False)
    report(0.85, "Writing the IFC file")
    writer.f.write(str(tmp_ifc))
    tmp_reg.replace(registry_path)
    tmp_ifc.replace(ifc_path)
    report(1.0, "District written")
    counts = plan.counts()
    return GeneratedDistrict(ifc_path, registry_path, counts, len(devices), time.perf_counter() - started)
