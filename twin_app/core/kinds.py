"""Catalogue of measurement kinds: unit, default thresholds and report period.

Thresholds follow common Chinese and international practice (GBZ 2.1 and
GB/T 18883 for indoor air, typical BMS set-points for plant); sites override
them per device in the registry.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Kind:
    """One measurement kind."""

    name: str
    unit: str
    alarm_low: float
    warn_low: float
    warn_high: float
    alarm_high: float
    period_s: float
    discrete: bool = False


_NAN = math.nan

# name, unit, alarm_low, warn_low, warn_high, alarm_high, period_s ("-" = no limit); "*" marks discrete
_TABLE = """
co                     ppm   - - 30 50 10
co2                    ppm   - - 1000 1500 60
ch4                    %LEL  - - 10 25 10
h2s                    ppm   - - 5 10 10
nh3                    ppm   - - 20 35 30
o2                     %vol  18 19.5 23 23.5 30
smoke                  dB/m  - - 0.05 0.1 10
temperature            degC  5 10 30 40 60
humidity               %RH   10 20 75 90 60
pm25                   ug/m3 - - 75 150 60
pm10                   ug/m3 - - 150 250 60
tvoc                   mg/m3 - - 0.6 1.0 60
formaldehyde           mg/m3 - - 0.08 0.1 300
noise                  dBA   - - 55 70 60
illuminance            lx    - - - - 300
water_pressure         MPa   0.10 0.15 0.60 0.80 10
water_level            m     0.3 0.5 2.8 3.0 30
water_flow             m3/h  - - - - 60
water_meter            m3    - - - - 900
hot_water_temperature  degC  35 40 65 75 60
water_leak             *     - - - 1 30 *
gas_leak               %LEL  - - 10 20 10
gas_meter              m3    - - - - 900
power                  kW    - - 8 10 60
energy                 kWh   - - - - 900
voltage                V     198 207 233 242 60
current                A     - - 40 60 60
power_factor           -     0.7 0.85 - - 300
door_contact           *     - - - - 0 *
window_contact         *     - - - - 0 *
motion                 *     - - - - 0 *
occupancy              *     - - - - 60 *
panic_button           *     - - - 1 0 *
door                   *     - - - 1 30 *
door_forced            *     - - - 1 0 *
access_card            *     - - - - 0 *
glass_break            *     - - - 1 0 *
parking_occupancy      *     - - - - 60 *
ev_charger_power       kW    - - 7 8 60
ev_charger_state       *     - - - 3 60 *
elevator               *     - - - 3 5 *
elevator_floor         -     - - - - 5
elevator_door          *     - - - 2 5 *
elevator_load          %     - - 90 100 5
elevator_speed         m/s   - - 2.8 3.2 5
elevator_motor_temp    degC  - - 70 85 60
elevator_vibration     mm/s  - - 4.5 7.1 60
elevator_trips         -     - - - - 900
elevator_alarm_button  *     - - - 1 0 *
fan                    *     - - - 3 10 *
fan_current            A     - - 18 22 30
fan_vibration          mm/s  - - 4.5 7.1 60
fan_bearing_temp       degC  - - 70 85 60
fan_speed              rpm   - - 1500 1600 30
fan_runtime            h     - - - - 900
pump                   *     - - - 3 10 *
pump_current           A     - - 30 36 30
pump_vibration         mm/s  - - 4.5 7.1 60
pump_bearing_temp      degC  - - 70 85 60
pump_outlet_pressure   MPa   0.2 0.3 1.0 1.2 10
pump_inlet_pressure    MPa   0.02 0.05 0.4 0.5 10
pump_flow              m3/h  - - - - 30
pump_runtime           h     - - - - 900
valve_position         %     - - - - 60
damper_position        %     - - - - 60
tank_level             %     10 20 90 95 30
tank_temperature       degC  2 5 35 40 300
septic_level           %     - - 80 90 60
sewage_level           %     - - 70 85 30
disinfection           *     - - - 3 30 *
disinfectant_level     %     10 20 - - 300
camera                 *     - - - 2 60 *
camera_people_count    -     - - - - 60
camera_vehicle_count   -     - - - - 60
fire_panel             *     - - - 2 10 *
fire_sprinkler_flow    *     - - - 1 10 *
fire_hydrant_pressure  MPa   0.10 0.15 0.8 1.0 30
hose_reel_pressure     MPa   0.10 0.15 0.8 1.0 60
fire_door              *     - - - 1 10 *
emergency_light        *     - - - 2 300 *
exit_sign              *     - - - 2 300 *
manual_call_point      *     - - - 1 0 *
heat_detector          degC  - - 57 68 10
flame_detector         *     - - - 1 5 *
ups_battery            %     20 40 - - 60
ups_load               %     - - 80 95 60
transformer_temp       degC  - - 90 110 60
switchgear_temp        degC  - - 60 75 60
generator_state        *     - - - 3 30 *
generator_fuel         %     15 30 - - 300
lighting_circuit       *     - - - 2 60 *
socket_circuit         *     - - - 2 60 *
breaker_trip           *     - - - 1 0 *
earth_leakage          mA    - - 30 100 30
solar_power            kW    - - - - 60
rainwater_level        %     10 20 90 95 60
soil_moisture          %     10 20 - - 600
wind_speed             m/s   - - 13.8 17.2 30
rainfall               mm/h  - - 30 50 60
outdoor_temperature    degC  0 5 35 38 60
outdoor_humidity       %RH   - - - - 60
barometric_pressure    hPa   - - - - 300
uv_index               -     - - 8 11 300
structural_tilt        mrad  - - 1 2 600
structural_vibration   mm/s  - - 5 10 60
crack_width            mm    - - 0.2 0.3 3600
settlement             mm    - - 10 20 3600
garbage_bin_level      %     - - 80 95 300
garbage_bin_smoke      *     - - - 1 30 *
manhole_cover          *     - - - 1 30 *
air_handler            *     - - - 3 30 *
supply_air_temp        degC  10 14 26 30 60
duct_pressure          Pa    - - 600 800 60
filter_pressure_drop   Pa    - - 250 350 300
chiller_state          *     - - - 3 30 *
chilled_water_temp     degC  4 5 10 12 60
""".strip()


def _parse(table: str) -> dict[str, Kind]:
    kinds: dict[str, Kind] = {}
    for line in table.splitlines():
        parts = line.split()
        discrete = parts[-1] == "*"
        if discrete:
            parts = parts[:-1]
        name = parts[0]
        unit = "" if parts[1] in ("*", "-") else parts[1]
        lo2, lo1, hi1, hi2 = (_NAN if v == "-" else float(v) for v in parts[2:6])
        kinds[name] = Kind(name, unit, lo2, lo1, hi1, hi2, float(parts[6]), discrete)
    return kinds


KINDS: dict[str, Kind] = _parse(_TABLE)

# How many devices of each kind a host of each role carries.
ROLE_DEVICES: dict[str, tuple[tuple[str, int], ...]] = {
    "apartment": (
        ("temperature", 3), ("humidity", 2), ("smoke", 2), ("gas_leak", 1), ("co", 1), ("water_leak", 2),
        ("door_contact", 1), ("window_contact", 4), ("motion", 2), ("power", 1), ("energy", 1), ("voltage", 1),
        ("current", 1), ("water_meter", 1), ("hot_water_temperature", 1), ("gas_meter", 1), ("pm25", 1),
        ("co2", 1), ("tvoc", 1), ("formaldehyde", 1), ("noise", 1), ("illuminance", 1), ("panic_button", 1),
        ("breaker_trip", 1),
    ),
    "shop": (
        ("temperature", 2), ("humidity", 1), ("smoke", 2), ("gas_leak", 1), ("door_contact", 1), ("power", 1),
        ("energy", 1), ("water_meter", 1), ("glass_break", 2), ("motion", 2), ("camera", 1),
    ),
    "corridor": (
        ("emergency_light", 4), ("exit_sign", 2), ("fire_door", 2), ("motion", 2), ("camera", 1),
        ("lighting_circuit", 2), ("temperature", 1), ("heat_detector", 1),
    ),
    "lobby": (("camera", 1), ("access_card", 1), ("door_forced", 1), ("elevator_alarm_button", 1), ("occupancy", 1),
              ("camera_people_count", 1)),
    "stair": (("fire_door", 2), ("emergency_light", 2), ("camera", 1), ("smoke", 1), ("door", 1)),
    "shaft": (("water_leak", 1), ("socket_circuit", 1), ("earth_leakage", 1), ("switchgear_temp", 1),
              ("fire_hydrant_pressure", 1), ("water_meter", 1)),
    "garage": (
        ("co", 4), ("parking_occupancy", 60), ("ev_charger_power", 6), ("ev_charger_state", 6), ("camera", 4),
        ("camera_vehicle_count", 1), ("lighting_circuit", 4), ("emergency_light", 6), ("fire_sprinkler_flow", 2),
        ("temperature", 2), ("humidity", 1), ("o2", 1), ("water_leak", 2), ("fire_door", 2),
    ),
    "pump_room": (("water_leak", 2), ("temperature", 1), ("humidity", 1), ("camera", 1), ("door", 1),
                  ("water_flow", 2), ("valve_position", 4)),
    "water_tank_room": (("water_leak", 2), ("temperature", 1), ("door", 1), ("camera", 1), ("valve_position", 2)),
    "septic": (("ch4", 2), ("h2s", 2), ("nh3", 1), ("o2", 1), ("septic_level", 2), ("door", 1), ("camera", 1),
               ("manhole_cover", 2)),
    "sewage": (("ch4", 1), ("h2s", 1), ("nh3", 1), ("sewage_level", 2), ("manhole_cover", 1), ("camera", 1)),
    "fan_room": (("damper_position", 4), ("temperature", 1), ("air_handler", 1), ("duct_pressure", 2),
                 ("filter_pressure_drop", 2), ("supply_air_temp", 1)),
    "electrical_room": (("transformer_temp", 2), ("switchgear_temp", 4), ("ups_battery", 1), ("ups_load", 1),
                        ("generator_state", 1), ("generator_fuel", 1), ("breaker_trip", 4), ("smoke", 1),
                        ("temperature", 1), ("humidity", 1), ("water_leak", 1)),
    "storage": (("smoke", 1), ("door", 1), ("temperature", 1)),
    # equipment
    "elevator": (("elevator", 1), ("elevator_floor", 1), ("elevator_door", 1), ("elevator_load", 1),
                 ("elevator_speed", 1), ("elevator_motor_temp", 1), ("elevator_vibration", 1), ("elevator_trips", 1),
                 ("camera", 1)),
    "exhaust_fan": (("fan", 1), ("fan_current", 1), ("fan_vibration", 1), ("fan_bearing_temp", 1), ("fan_speed", 1),
                    ("fan_runtime", 1)),
    "supply_fan": (("fan", 1), ("fan_current", 1), ("fan_vibration", 1), ("fan_speed", 1), ("fan_runtime", 1)),
    "booster_pump": (("pump", 1), ("pump_current", 1), ("pump_vibration", 1), ("pump_bearing_temp", 1),
                     ("pump_outlet_pressure", 1), ("pump_inlet_pressure", 1), ("pump_flow", 1), ("pump_runtime", 1)),
    "fire_pump": (("pump", 1), ("pump_current", 1), ("pump_outlet_pressure", 1), ("pump_runtime", 1)),
    "sump_pump": (("pump", 1), ("pump_current", 1), ("pump_runtime", 1)),
    "water_tank": (("tank_level", 1), ("tank_temperature", 1)),
    "roof_water_tank": (("tank_level", 1), ("tank_temperature", 1), ("wind_speed", 1), ("rainfall", 1),
                        ("outdoor_temperature", 1), ("outdoor_humidity", 1), ("barometric_pressure", 1),
                        ("uv_index", 1), ("solar_power", 1), ("structural_tilt", 1), ("structural_vibration", 1)),
    "septic_tank": (("septic_level", 1), ("ch4", 1), ("h2s", 1)),
    "sewage_well": (("sewage_level", 1), ("h2s", 1)),
    "disinfection": (("disinfection", 1), ("disinfectant_level", 1)),
    "hose_reel": (("hose_reel_pressure", 1),),
    "manual_call_point": (("manual_call_point", 1),),
    # the fixed sensors modelled in IFC report one reading each
    "smoke_detector": (("smoke", 1),),
    "temperature_sensor": (("temperature", 1),),
    "riser_pressure_sensor": (("water_pressure", 1),),
    "pressure_sensor": (("water_pressure", 1),),
    "co_sensor": (("co", 1),),
    "ch4_sensor": (("ch4", 1),),
    "h2s_sensor": (("h2s", 1),),
    "level_sensor": (("water_level", 1),),
}
