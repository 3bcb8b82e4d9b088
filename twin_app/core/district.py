"""Deterministic layout of the Mumianling district (pure Python, no IFC).

The layout says where each tower stands, how tall it is and how each storey is
divided into spaces; `twin_app.bim.generate` turns it into IFC and
`twin_app.core.registry` derives the device registry from what was written.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

SITE_SIZE_M = 500.0  # 0.25 km2
BASEMENT_HEIGHT_M = 4.0
STOREY_HEIGHT_M = 3.0
GROUND_STOREY_HEIGHT_M = 4.5
APARTMENT_WIDTH_M = 8.0
ROW_DEPTH_M = 12.0
CORRIDOR_DEPTH_M = 3.0
CORE_WIDTH_M = 16.0
BASEMENT_MARGIN_M = 12.0
SERVICE_STRIP_M = 10.0
GARAGE_ZONES_PER_LEVEL = 4
# storey plans: (apartments each side of the core on the north row, apartments on the south row)
PLAN_VARIANTS = ((2, 8), (3, 8), (3, 10))
PLAN_WEIGHTS = (0.15, 0.35, 0.5)


@dataclass(frozen=True)
class SpacePlan:
    """One space of a storey plan, in storey-local metres."""

    code: str
    role: str
    long_name: str
    x: float
    y: float
    width: float
    depth: float


@dataclass(frozen=True)
class EquipmentPlan:
    """One piece of equipment of a storey, in storey-local metres."""

    code: str
    ifc_class: str
    predefined_type: str
    object_type: str
    role: str
    host_space: str
    x: float
    y: float
    z: float
    size: tuple[float, float, float]


@dataclass(frozen=True)
class StoreyPlan:
    """A storey of a tower: name, elevation, height, spaces and equipment."""

    name: str
    elevation: float
    height: float
    spaces: tuple[SpacePlan, ...]
    equipment: tuple[EquipmentPlan, ...]

    @property
    def above_ground(self) -> bool:
        return self.elevation >= 0.0


@dataclass(frozen=True)
class TowerPlan:
    """A tower: name, placement on the site and its storeys (B2 first)."""

    name: str
    x: float
    y: float
    rotation_deg: float
    width: float
    depth: float
    apartments_per_storey: int
    storeys_above: int
    storeys: tuple[StoreyPlan, ...] = field(repr=False)

    @property
    def height_m(self) -> float:
        top = self.storeys[-1]
        return top.elevation + top.height


@dataclass(frozen=True)
class DistrictPlan:
    """The whole district: towers on a square site."""

    name: str
    seed: int
    site_size: float
    towers: tuple[TowerPlan, ...]

    def counts(self) -> dict[str, int]:
        """Numbers of storeys, spaces, apartments and equipment."""
        storeys = [s for t in self.towers for s in t.storeys]
        spaces = [sp for s in storeys for sp in s.spaces]
        return {
            "towers": len(self.towers),
            "storeys": len(storeys),
            "spaces": len(spaces),
            "apartments": sum(sp.role == "apartment" for sp in spaces),
            "equipment": sum(len(s.equipment) for s in storeys),
        }


def storey_name(index_above: int) -> str:
    """Name of the storey `index_above` (0 is the ground storey 1F; -1 is B1)."""
    return f"B{-index_above}" if index_above < 0 else f"{index_above + 1}F"


def _residential_spaces(width: float, n_south: int, ground: bool, level: str) -> list[SpacePlan]:
    spaces: list[SpacePlan] = []
    south_w = width / n_south
    y_corr = ROW_DEPTH_M
    y_north = ROW_DEPTH_M + CORRIDOR_DEPTH_M
    number = 0
    unit = "Shop" if ground else "Apartment"
    role = "shop" if ground else "apartment"
    for i in range(n_south):
        number += 1
        spaces.append(
            SpacePlan(f"A{number:02d}", role, f"{unit} {level}-{number:02d}", i * south_w, 0.0, south_w,
                      ROW_DEPTH_M)
        )
    spaces.append(SpacePlan("COR", "corridor", f"Corridor {level}", 0.0, y_corr, width, CORRIDOR_DEPTH_M))
    core_x = (width - CORE_WIDTH_M) / 2.0
    n_side = round(core_x / APARTMENT_WIDTH_M)
    for side_x0 in (0.0, core_x + CORE_WIDTH_M):
        for i in range(n_side):
            number += 1
            spaces.append(
                SpacePlan(f"A{number:02d}", role, f"{unit} {level}-{number:02d}", side_x0 + i * APARTMENT_WIDTH_M,
                          y_north, APARTMENT_WIDTH_M, ROW_DEPTH_M)
            )
    lobby = "Entrance lobby" if ground else "Elevator lobby"
    spaces += [
        SpacePlan("LOB", "lobby", f"{lobby} {level}", core_x, y_north, 8.0, ROW_DEPTH_M),
        SpacePlan("STR", "stair", f"Stair {level}", core_x + 8.0, y_north, 4.0, ROW_DEPTH_M),
        SpacePlan("SHF", "shaft", f"Service shaft {level}", core_x + 12.0, y_north, 4.0, ROW_DEPTH_M),
    ]
    return spaces


def _residential_equipment(width: float, level: str, ground: bool) -> list[EquipmentPlan]:
    y_corr = ROW_DEPTH_M + CORRIDOR_DEPTH_M / 2.0
    y_shaft = ROW_DEPTH_M + CORRIDOR_DEPTH_M + 2.0
    core_x = (width - CORE_WIDTH_M) / 2.0
    eq = [
        EquipmentPlan("SMK1", "IfcSensor", "SMOKESENSOR", "", "smoke_detector", "COR", width * 0.25, y_corr, 2.8,
                      (0.3, 0.3, 0.1)),
        EquipmentPlan("SMK2", "IfcSensor", "SMOKESENSOR", "", "smoke_detector", "COR", width * 0.75, y_corr, 2.8,
                      (0.3, 0.3, 0.1)),
        EquipmentPlan("TMP1", "IfcSensor", "TEMPERATURESENSOR", "", "temperature_sensor", "COR", width * 0.5, y_corr,
                      2.6, (0.15, 0.15, 0.1)),
        EquipmentPlan("PRS1", "IfcSensor", "PRESSURESENSOR", "", "riser_pressure_sensor", "SHF", core_x + 14.0,
                      y_shaft, 1.2, (0.2, 0.2, 0.2)),
        EquipmentPlan("HR1", "IfcFireSuppressionTerminal", "HOSEREEL", "", "hose_reel", "COR", 1.0, y_corr, 1.0,
                      (0.8, 0.3, 0.8)),
        EquipmentPlan("HR2", "IfcFireSuppressionTerminal", "HOSEREEL", "", "hose_reel", "COR", width - 1.8, y_corr, 1.0,
                      (0.8, 0.3, 0.8)),
        EquipmentPlan("MCP1", "IfcAlarm", "MANUALPULLBOX", "", "manual_call_point", "COR", core_x + 1.0, y_corr, 1.4,
                      (0.15, 0.1, 0.15)),
    ]
    if ground:
        for i in range(4):
            eq.append(
                EquipmentPlan(f"EL{i + 1}", "IfcTransportElement", "ELEVATOR", "", "elevator", "LOB",
                              core_x + 0.4 + i * 1.9, ROW_DEPTH_M + CORRIDOR_DEPTH_M + ROW_DEPTH_M - 2.4, 0.0,
                              (1.8, 2.0, 2.5))
            )
    return eq


def _basement(width: float, depth: float, level: str) -> tuple[list[SpacePlan], list[EquipmentPlan]]:
    x0 = -BASEMENT_MARGIN_M
    y0 = -BASEMENT_MARGIN_M
    full_w = width + 2 * BASEMENT_MARGIN_M
    full_d = depth + 2 * BASEMENT_MARGIN_M
    garage_d = full_d - SERVICE_STRIP_M
    zone_w = full_w / GARAGE_ZONES_PER_LEVEL
    spaces: list[SpacePlan] = []
    eq: list[EquipmentPlan] = []
    for z in range(GARAGE_ZONES_PER_LEVEL):
        code = f"GZ{chr(65 + z)}"
        zx = x0 + z * zone_w
        spaces.append(SpacePlan(code, "garage", f"Garage zone {level}-{chr(65 + z)}", zx, y0, zone_w, garage_d))
        for k in range(3):
            eq.append(EquipmentPlan(f"{code}-CO{k + 1}", "IfcSensor", "COSENSOR", "", "co_sensor", code,
                                    zx + zone_w * (k + 1) / 4.0, y0 + garage_d / 2.0, 1.6, (0.2, 0.2, 0.2)))
        for k in range(2):
            eq.append(EquipmentPlan(f"{code}-FAN{k + 1}", "IfcFan", "VANEAXIAL", "", "exhaust_fan", code,
                                    zx + zone_w * (k + 1) / 3.0, y0 + 1.0, 3.0, (1.0, 1.0, 0.8)))
        eq.append(EquipmentPlan(f"{code}-SMK1", "IfcSensor", "SMOKESENSOR", "", "smoke_detector", code,
                                zx + zone_w / 2.0, y0 + garage_d / 3.0, 3.7, (0.3, 0.3, 0.1)))
    sy = y0 + garage_d
    strip = [
        ("PMP", "pump_room", "Pump room", 14.0),
        ("WTR", "water_tank_room", "Water tank room", 14.0),
        ("SEP", "septic", "Septic tank room", 12.0),
        ("SEW", "sewage", "Sewage well room", 8.0),
        ("FAN", "fan_room", "Fan room", 8.0),
        ("ELE", "electrical_room", "Electrical room", 8.0),
    ]
    if level == "B1":
        strip = [("ELE", "electrical_room", "Electrical room", 12.0), ("FAN", "fan_room", "Fan room", 10.0),
                 ("STO", "storage", "Storage", 12.0)]
    sx = x0
    for code, role, name, w in strip:
        spaces.append(SpacePlan(code, role, f"{name} {level}", sx, sy, w, SERVICE_STRIP_M))
        cx, cy = sx + w / 2.0, sy + SERVICE_STRIP_M / 2.0
        if role == "pump_room":
            for k in range(3):
                eq.append(EquipmentPlan(f"PMP-P{k + 1}", "IfcPump", "VERTICALINLINE", "", "booster_pump", code,
                                        sx + 2.0 + 3.5 * k, cy, 0.0, (1.0, 1.0, 1.4)))
            eq.append(EquipmentPlan("PMP-FP1", "IfcPump", "SPLITCASE", "", "fire_pump", code, sx + 12.0, cy, 0.0,
                                    (1.4, 1.0, 1.2)))
            eq.append(EquipmentPlan("PMP-PRS1", "IfcSensor", "PRESSURESENSOR", "", "pressure_sensor", code, sx + 2.0,
                                    cy + 2.0, 1.5, (0.2, 0.2, 0.2)))
        elif role == "water_tank_room":
            for k in range(2):
                eq.append(EquipmentPlan(f"WTR-T{k + 1}", "IfcTank", "STORAGE", "", "water_tank", code,
                                        sx + 3.5 + 7.0 * k, cy, 0.0, (5.0, 6.0, 3.2)))
                eq.append(EquipmentPlan(f"WTR-LVL{k + 1}", "IfcSensor", "LEVELSENSOR", "", "level_sensor", code,
                                        sx + 3.5 + 7.0 * k, cy, 3.3, (0.2, 0.2, 0.3)))
        elif role == "septic":
            for k in range(2):
                eq.append(EquipmentPlan(f"SEP-T{k + 1}", "IfcTank", "USERDEFINED", "SEPTIC_TANK", "septic_tank",
                                        code, sx + 3.0 + 6.0 * k, cy, 0.0, (4.5, 6.0, 2.5)))
            eq += [
                EquipmentPlan("SEP-CH4", "IfcSensor", "GASSENSOR", "", "ch4_sensor", code, cx - 1.0, cy + 4.0, 2.8,
                              (0.2, 0.2, 0.2)),
                EquipmentPlan("SEP-H2S", "IfcSensor", "GASSENSOR", "", "h2s_sensor", code, cx + 1.0, cy + 4.0, 2.8,
                              (0.2, 0.2, 0.2)),
                EquipmentPlan("SEP-FAN", "IfcFan", "CENTRIFUGALBACKWARDINCLINEDCURVED", "", "exhaust_fan", code,
                              sx + 0.8, cy, 2.8, (1.0, 1.0, 0.8)),
                EquipmentPlan("SEP-DIS", "IfcUnitaryEquipment", "USERDEFINED", "DISINFECTION_UNIT", "disinfection",
                              code, sx + w - 1.0, cy, 0.0, (0.8, 0.6, 1.2)),
            ]
        elif role == "sewage":
            eq += [
                EquipmentPlan("SEW-W1", "IfcTank", "USERDEFINED", "SEWAGE_WELL", "sewage_well", code, cx, cy, 0.0,
                              (3.0, 3.0, 1.0)),
                EquipmentPlan("SEW-SP1", "IfcPump", "SUMPPUMP", "", "sump_pump", code, cx - 1.0, cy, 1.0,
                              (0.5, 0.5, 0.8)),
                EquipmentPlan("SEW-SP2", "IfcPump", "SUMPPUMP", "", "sump_pump", code, cx + 1.0, cy, 1.0,
                              (0.5, 0.5, 0.8)),
                EquipmentPlan("SEW-CH4", "IfcSensor", "GASSENSOR", "", "ch4_sensor", code, cx - 1.0, cy + 3.0, 2.8,
                              (0.2, 0.2, 0.2)),
                EquipmentPlan("SEW-H2S", "IfcSensor", "GASSENSOR", "", "h2s_sensor", code, cx + 1.0, cy + 3.0, 2.8,
                              (0.2, 0.2, 0.2)),
                EquipmentPlan("SEW-LVL", "IfcSensor", "LEVELSENSOR", "", "level_sensor", code, cx, cy + 1.8, 1.2,
                              (0.2, 0.2, 0.3)),
                EquipmentPlan("SEW-FAN", "IfcFan", "CENTRIFUGALBACKWARDINCLINEDCURVED", "", "exhaust_fan", code,
                              sx + 0.8, cy, 2.8, (1.0, 1.0, 0.8)),
                EquipmentPlan("SEW-DIS", "IfcUnitaryEquipment", "USERDEFINED", "DISINFECTION_UNIT", "disinfection",
                              code, sx + w - 1.0, cy - 3.0, 0.0, (0.8, 0.6, 1.2)),
            ]
        elif role == "fan_room":
            eq.append(EquipmentPlan(f"{level}-SAF1", "IfcFan", "CENTRIFUGALAIRFOIL", "", "supply_fan", code, cx, cy,
                                    0.0, (1.8, 1.4, 1.6)))
        sx += w
    core_x = (width - CORE_WIDTH_M) / 2.0
    spaces.append(SpacePlan("LOB", "lobby", f"Elevator lobby {level}", core_x, ROW_DEPTH_M + CORRIDOR_DEPTH_M, 8.0,
                            ROW_DEPTH_M))
    return spaces, eq


def plan_district(towers: int = 19, seed: int = 20261124, storeys: int | None = None) -> DistrictPlan:
    """Lay out the district deterministically.

    Parameters
    ----------
    towers
        Number of towers (1 to 20); Mumianling has 19.
    seed
        Seed of the layout; the same seed gives the same district.
    storeys
        Storeys above ground for every tower; ``None`` draws 33 to 56 per tower.

    Returns
    -------
    DistrictPlan
    """
    if not 1 <= towers <= 20:
        raise ValueError(f"towers must be between 1 and 20, got {towers}")
    if storeys is not None and not 1 <= storeys <= 80:
        raise ValueError(f"storeys must be between 1 and 80, got {storeys}")
    rng = np.random.default_rng(seed)
    cols, rows = 5, 4
    pitch_x, pitch_y = SITE_SIZE_M / cols, SITE_SIZE_M / rows
    slots = [(c, r) for r in range(rows) for c in range(cols)]
    order = rng.permutation(len(slots))[:towers]
    plans = []
    for n, slot in enumerate(sorted(int(i) for i in order)):
        c, r = slots[slot]
        n_side, n_south = PLAN_VARIANTS[int(rng.choice(len(PLAN_VARIANTS), p=PLAN_WEIGHTS))]
        width = 2 * n_side * APARTMENT_WIDTH_M + CORE_WIDTH_M
        depth = 2 * ROW_DEPTH_M + CORRIDOR_DEPTH_M
        rotation = float(rng.choice([0.0, 90.0]))
        extent = max(width, depth) + 2 * BASEMENT_MARGIN_M
        jitter = (min(pitch_x, pitch_y) - extent) / 2.0
        jx, jy = (rng.uniform(-1, 1, 2) * max(jitter, 0.0) * 0.5)
        cx, cy = (c + 0.5) * pitch_x + jx, (r + 0.5) * pitch_y + jy
        n_above = storeys if storeys is not None else 33 + round(23 * rng.beta(2.0, 1.2))
        storey_plans = []
        for level_index in (-2, -1):
            level = storey_name(level_index)
            spaces, eq = _basement(width, depth, level)
            storey_plans.append(StoreyPlan(level, level_index * BASEMENT_HEIGHT_M, BASEMENT_HEIGHT_M, tuple(spaces),
                                           tuple(eq)))
        for k in range(n_above):
            level = storey_name(k)
            ground = k == 0
            elevation = 0.0 if ground else GROUND_STOREY_HEIGHT_M + (k - 1) * STOREY_HEIGHT_M
            height = GROUND_STOREY_HEIGHT_M if ground else STOREY_HEIGHT_M
            spaces = _residential_spaces(width, n_south, ground, level)
            eq = _residential_equipment(width, level, ground)
            if k == n_above - 1:
                eq.append(EquipmentPlan("RWT1", "IfcTank", "STORAGE", "", "roof_water_tank", "SHF",
                                        (width - CORE_WIDTH_M) / 2.0 + 12.5, 16.0, 0.2, (3.0, 3.0, 2.0)))
            storey_plans.append(StoreyPlan(level, elevation, height, tuple(spaces), tuple(eq)))
        # the tower centre sits on (cx, cy): the local origin is its south-west corner
        ox, oy = (cx - width / 2.0, cy - depth / 2.0) if rotation == 0.0 else (cx + depth / 2.0, cy - width / 2.0)
        plans.append(TowerPlan(f"T{n + 1:02d}", ox, oy, rotation, width, depth, n_south + 2 * n_side, n_above,
                               tuple(storey_plans)))
    return DistrictPlan("Mumianling", seed, SITE_SIZE_M, tuple(plans))
