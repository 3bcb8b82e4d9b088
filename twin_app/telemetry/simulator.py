"""Realistic telemetry and events for the whole district, published as the gateways and other systems would.

Values are computed for all devices at once (numpy): a normal level per kind, daily patterns (temperature,
water pressure, garage CO with rush-hour traffic), noise, rare faults, and scenarios that inject incidents.
Scenarios can be placed in a tower and combined (``garage_co@T12,smoke_tower@T03``); event scenarios publish
one contract event (an AI camera's detection, a resident's request, a grid staff report) on ``event/{source}``.
"""

from __future__ import annotations

import json
import math
import re
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
import pandas as pd

from twin_app.telemetry.ingest import DEFAULT_ROOT

INCIDENT_SCENARIOS = ("garage_co", "septic_h2s", "smoke_tower", "elevator_stuck", "gateway_offline",
                      "gateway_silent")
# event scenario -> the contract's event type
EVENT_SCENARIOS = {
    "object_thrown": "object_thrown_from_height",
    "fall": "fall_detected",
    "garbage_exposed": "garbage_exposed",
    "fire_lane_blocked": "fire_lane_blocked",
    "resident_request": "resident_request",
    "grid_report": "grid_report",
}
SCENARIOS = ("none", *INCIDENT_SCENARIOS, *EVENT_SCENARIOS)
CAMERA_SOURCE, RESIDENT_SOURCE, GRID_SOURCE = "ai_camera", "resident_app", "grid_staff"
# the mix of the simulated day's random events (scenario name -> share)
DAY_EVENTS = {"resident_request": 0.45, "grid_report": 0.3, "garbage_exposed": 0.15, "fire_lane_blocked": 0.1}
LOCAL_UTC_OFFSET_H = 8.0  # Shenzhen

# normal level per kind where the limits alone do not say it well
NORMAL_LEVEL = {
    "temperature": 24.0, "humidity": 58.0, "co": 6.0, "co2": 620.0, "ch4": 1.0, "h2s": 0.6, "nh3": 4.0, "o2": 20.9,
    "smoke": 0.004, "water_pressure": 0.38, "water_level": 1.6, "hot_water_temperature": 55.0, "pm25": 28.0,
    "pm10": 50.0, "voltage": 220.0, "power_factor": 0.93, "elevator": 1.0, "fan": 0.0, "pump": 1.0,
    "tank_level": 70.0, "septic_level": 45.0, "sewage_level": 35.0, "disinfectant_level": 70.0,
    "elevator_floor": 10.0, "outdoor_temperature": 26.0, "supply_air_temp": 18.0, "chilled_water_temp": 7.0,
    "pump_outlet_pressure": 0.6, "pump_inlet_pressure": 0.2, "fire_hydrant_pressure": 0.35,
    "hose_reel_pressure": 0.35, "ups_battery": 95.0, "generator_fuel": 85.0, "rainwater_level": 50.0,
}

RESIDENT_TEXTS = (
    "Water leaking from the ceiling of the bathroom",
    "Corridor light on {storey} out",
    "Neighbour's dog barking all night",
    "Smell of gas near the kitchen, please check",
    "No hot water since this morning",
    "Front door lock jammed, cannot lock the door",
    "Very low water pressure at the kitchen tap",
    "Loud renovation noise after 10 pm from the flat above",
    "Smoke detector in the living room keeps beeping",
    "Bulky rubbish left outside the flats on {storey}",
    "Lift stops between floors and makes a grinding noise",
    "Cockroaches in the stairwell on {storey}",
    "Parcel missing from the lobby lockers",
)
GRID_TEXTS = {
    "corridor": ("Fire door on {storey} propped open with a chair", "Exit sign not lit on {storey}",
                 "Bicycles blocking the corridor on {storey}", "E-scooter charging in the corridor on {storey}"),
    "lobby": ("Lobby floor wet and slippery, no warning sign", "Lobby door closer broken, door stays open",
              "Stranger handing out flyers in the lobby on {storey}"),
    "garage": ("Car parked across the fire lane in garage zone {code}", "Oil leak under a parked car in zone {code}",
               "Lighting flickering near the ramp of zone {code}", "Water ponding by the drain in zone {code}"),
}
CAMERA_DETAILS = {
    "object_thrown_from_height": "object seen falling along the facade, landed near the entrance",
    "fall_detected": "person on the floor, not moving for 30 s",
    "garbage_exposed": "uncovered garbage bags left outside the bins",
    "fire_lane_blocked": "vehicle stopped in the fire lane for more than 5 min",
}
_APARTMENT_CODE = re.compile(r"A\d+")


@dataclass
class Incident:
    """Rows of the devices an incident drives, and how."""

    rows: np.ndarray
    start: float
    shape: Callable[[float, np.ndarray], np.ndarray]  # (seconds since start, normal values) -> values


class Simulator:
    """Telemetry of every device in a registry.

    Parameters
    ----------
    devices
        The registry.
    seed
        Noise seed (values are reproducible for a seed and a clock).
    """

    def __init__(self, devices: pd.DataFrame, seed: int = 1) -> None:
        self.devices = devices.reset_index(drop=True)
        self.rng = np.random.default_rng(seed)
        kind = self.devices["kind"].astype(str).to_numpy()
        self.kind = kind
        lows = self.devices["warn_low"].to_numpy(np.float64)
        highs = self.devices["warn_high"].to_numpy(np.float64)
        alarm_low = self.devices["alarm_low"].to_numpy(np.float64)
        base = np.where(np.isfinite(lows) & np.isfinite(highs), (lows + highs) / 2.0,
                        np.where(np.isfinite(highs), 0.35 * highs, np.where(np.isfinite(alarm_low), alarm_low * 1.6,
                                                                              10.0)))
        for name, level in NORMAL_LEVEL.items():
            base[kind == name] = level
        self.discrete = self.devices["unit"].astype(str).to_numpy() == ""
        base[self.discrete & ~np.isin(kind, list(NORMAL_LEVEL))] = 0.0
        self.base = base
        self.noise = np.where(self.discrete, 0.0, np.maximum(np.abs(base) * 0.005, 0.005))
        self.in_garage = self.devices["device_id"].str.contains("-GZ", regex=False).to_numpy() & (kind == "co")
        self.incidents: list[Incident] = []
        self.overrides: dict[int, float] = {}  # actuator states set by commands
        self.override_ts: dict[int, float] = {}
        self._row_of = {d: i for i, d in enumerate(self.devices["device_id"].astype(str))}
        self.offline_gateways: set[str] = set()
        self.silent_gateways: set[str] = set()  # dark: no telemetry, yet no offline status
        self.event_rng = np.random.default_rng([seed, 7])  # apart from the noise: values stay reproducible
        self._events: list[tuple[float, str, dict]] = []  # (due, source, payload), guarded by _events_lock
        self._events_lock = threading.Lock()
        self._places: dict[str, pd.DataFrame] | None = None
        self.towers = sorted(self.devices["building"].astype(str).unique())
        codes, names = pd.factorize(self.devices["gateway"].astype(str))
        self.gateway_names = list(names)
        order = np.argsort(codes, kind="stable")
        bounds = np.searchsorted(codes[order], np.arange(len(names) + 1))
        self.gateway_rows = [order[bounds[g]:bounds[g + 1]] for g in range(len(names))]
        ids = self.devices["device_id"].astype(str).to_numpy()
        self.gateway_ids_json = [json.dumps(ids[r].tolist()) for r in self.gateway_rows]

    # -- values ------------------------------------------------------------------------------------
    def values(self, now: float) -> np.ndarray:
        """Every device's value at time `now` (unix seconds)."""
        hour = ((now / 3600.0) + LOCAL_UTC_OFFSET_H) % 24.0
        v = self.base.copy()
        v[self.kind == "temperature"] += 3.0 * math.sin(2 * math.pi * (hour - 9.0) / 24.0)
        v[self.kind == "outdoor_temperature"] += 5.0 * math.sin(2 * math.pi * (hour - 9.0) / 24.0)
        peak_use = math.exp(-((hour - 8.0) ** 2) / 2.0) + math.exp(-((hour - 20.0) ** 2) / 3.0)
        v[self.kind == "water_pressure"] -= 0.06 * peak_use
        rush = math.exp(-((hour - 8.0) ** 2) / 0.8) + math.exp(-((hour - 18.5) ** 2) / 0.8)
        v[self.in_garage] += 14.0 * rush
        v += self.rng.normal(0.0, 1.0, len(v)) * self.noise
        # rare faults: a sensor reads out of range for one report
        faults = self.rng.random(len(v)) < 2e-6
        if faults.any():
            highs = self.devices["warn_high"].to_numpy(np.float64)
            v[faults] = np.where(np.isfinite(highs[faults]), highs[faults] * 1.05, v[faults])
        for incident in self.incidents:
            since = now - incident.start
            if since >= 0:
                v[incident.rows] = incident.shape(since, v[incident.rows])
        if self.overrides:
            rows = np.fromiter(self.overrides.keys(), dtype=np.int64)
            v[rows] = np.fromiter(self.overrides.values(), dtype=np.float64)
            # running exhaust fans clear their room: the incident fades out over about 30 s
            for incident in self.incidents:
                since = self._ventilated_since(incident)
                if incident.rows.size and since is not None:
                    fade = max(0.0, 1.0 - (now - since) / 30.0)
                    base = self.base[incident.rows]
                    v[incident.rows] = base + (v[incident.rows] - base) * fade
        return v

    def _ventilated_since(self, incident: Incident) -> float | None:
        parts = self.devices["device_id"].iat[int(incident.rows[0])].split("-")
        prefix = f"{parts[0]}-{parts[1]}-{parts[2][:3]}"
        times = [self.override_ts[r] for r, value in self.overrides.items()
                 if value == 1.0 and self.kind[r] == "fan" and self.devices["device_id"].iat[r].startswith(prefix)]
        return min(times) if times else None

    def command(self, device_id: str, action: str) -> bool:
        """An actuator obeys a command (``on``, ``off``, ``recall``); False for an unknown device or action."""
        row = self._row_of.get(device_id)
        value = {"on": 1.0, "off": 0.0, "recall": 2.0}.get(action)
        if row is None or value is None:
            return False
        self.overrides[row] = value
        self.override_ts[row] = time.time()
        return True

    # -- scenarios ---------------------------------------------------------------------------------
    def _rows(self, mask: np.ndarray) -> np.ndarray:
        return np.flatnonzero(mask)

    def default_tower(self) -> str:
        """The tower a scenario goes to when none is named (T05 in the full district)."""
        return self.towers[min(4, len(self.towers) - 1)]

    def start_scenarios(self, text: str, now: float) -> str:
        """Start every scenario of `text` (see `parse_scenarios`); returns one sentence per scenario."""
        chosen = parse_scenarios(text, self.towers)
        if not chosen:
            return "no incident"
        return "; ".join(self.start_scenario(name, now, tower) for name, tower in chosen)

    def start_scenario(self, name: str, now: float, building: str | None = None) -> str:
        """Inject an incident or queue an event in `building` (default `default_tower`).

        Returns
        -------
        str
            A sentence saying what and where.

        Raises
        ------
        ValueError
            For an unknown scenario or tower.
        """
        d = self.devices
        ids = d["device_id"].astype(str)
        if name not in SCENARIOS:
            raise ValueError(f"unknown scenario {name!r}; known: {', '.join(SCENARIOS)}")
        if building is not None and building not in self.towers:
            raise ValueError(f"unknown tower {building!r} for scenario {name!r}; known: {', '.join(self.towers)}")
        tower = building or self.default_tower()
        if name == "none":
            return "no incident"
        if name in EVENT_SCENARIOS:
            source, payload = self.make_event(name, tower, now)
            self.queue_event(source, payload, due=now)
            where = payload.get("device_id") or payload.get("detail") or payload["host_global_id"]
            return f"{payload['type']} in tower {tower} ({source}: {where})"
        if name == "garage_co":
            rows = self._rows(ids.str.startswith(f"{tower}-B1-GZA").to_numpy() & (self.kind == "co"))
            self.incidents.append(Incident(rows, now, lambda t, v: v + np.minimum(4.0 * t, 110.0)))
            return f"CO build-up in garage zone {tower} B1-A ({len(rows)} CO devices rising 4 ppm/s)"
        if name == "septic_h2s":
            mask = ids.str.startswith(f"{tower}-B2-SEP").to_numpy() & np.isin(self.kind, ["h2s", "ch4"])
            rows = self._rows(mask)
            self.incidents.append(Incident(rows, now, lambda t, v: v + np.minimum(0.8 * t, 30.0)))
            return f"H2S and CH4 rising in the septic tank room {tower} B2 ({len(rows)} devices)"
        if name == "smoke_tower":
            storeys = d["storey"].astype(str)
            numbers = pd.to_numeric(storeys.str.rstrip("F"), errors="coerce").to_numpy()
            smoke = (self.kind == "smoke") & (d["building"].astype(str).to_numpy() == tower)
            top = np.nanmax(numbers[smoke], initial=0.0)
            first = 12 if top >= 12 else max(1, int(top) // 2)  # a low tower burns from its middle
            rows = self._rows(smoke & (numbers >= first))
            level = numbers[rows]

            def spread(t: float, v: np.ndarray, level: np.ndarray = level, first: int = first) -> np.ndarray:
                reached = level <= first + t / 8.0  # one storey every 8 s
                return np.where(reached, 0.12 + 0.002 * t, v)

            self.incidents.append(Incident(rows, now, spread))
            return f"smoke spreading up tower {tower} from {first}F ({len(rows)} smoke detectors)"
        if name == "elevator_stuck":
            host = ids.str.startswith(f"{tower}-1F-EL2-").to_numpy()
            rows = self._rows(host & np.isin(self.kind, ["elevator", "elevator_speed"]))
            self.incidents.append(Incident(rows, now, lambda t, v: np.where(v > 0.5, 3.0, 0.0)))
            return f"elevator EL2 of tower {tower} stuck"
        if name == "gateway_offline":
            gateway = self._tower_gateway(tower, ("15F",), avoid=self.silent_gateways)
            self.offline_gateways.add(gateway)
            return f"gateway {gateway} went offline"
        # gateway_silent
        gateway = self._tower_gateway(tower, ("10F", "9F", "11F"), avoid=self.offline_gateways)
        self.silent_gateways.add(gateway)
        count = len(self.gateway_rows[self.gateway_names.index(gateway)])
        return f"gateway {gateway} went silent without going offline ({count} devices going stale)"

    def _tower_gateway(self, tower: str, preferred: tuple[str, ...], avoid: set[str] | None = None) -> str:
        """The tower's gateway of a preferred storey, else its middle above-ground one, else the first one."""
        avoid = avoid or set()
        for storey in preferred:
            if f"{tower}-{storey}" in self.gateway_names and f"{tower}-{storey}" not in avoid:
                return f"{tower}-{storey}"
        own = [g for g in self.gateway_names if g.startswith(f"{tower}-") and g not in avoid]
        above = sorted((g for g in own if g.endswith("F")), key=lambda g: _storey_number(g.rsplit("-", 1)[-1]))
        if above:
            return above[len(above) // 2]
        return own[0] if own else self.gateway_names[0]

    # -- events ------------------------------------------------------------------------------------
    def queue_event(self, source: str, payload: dict, due: float = 0.0) -> None:
        """Queue an event to publish on ``event/{source}`` at the first tick at or after `due` (thread-safe)."""
        if not _SAFE_SOURCE.fullmatch(source):
            raise ValueError(f"event source {source!r} is not a safe name ([A-Za-z0-9_.:-])")
        with self._events_lock:
            self._events.append((due, source, payload))

    def pop_events(self, now: float) -> list[tuple[str, dict]]:
        """Remove and return the queued (source, payload) due at `now`, in the order they were queued."""
        with self._events_lock:
            due = [(source, payload) for at, source, payload in self._events if at <= now]
            if due:
                self._events = [e for e in self._events if e[0] > now]
        return due

    def pending_events(self) -> int:
        """How many events wait in the queue."""
        with self._events_lock:
            return len(self._events)

    def make_event(self, name: str, tower: str, now: float,
                   rng: np.random.Generator | None = None) -> tuple[str, dict]:
        """A contract event of event scenario `name` in `tower`, at time `now`.

        Parameters
        ----------
        name
            A key of `EVENT_SCENARIOS`.
        tower
            The building, e.g. ``T08``.
        now
            The event's ``ts`` (unix seconds).
        rng
            Chooses the camera, place and text (default the simulator's own event generator).

        Returns
        -------
        tuple[str, dict]
            The source (the topic's last level) and the JSON-ready payload.
        """
        rng = rng or self.event_rng
        if name not in EVENT_SCENARIOS:
            raise ValueError(f"{name!r} is not an event scenario; known: {', '.join(EVENT_SCENARIOS)}")
        event_type = EVENT_SCENARIOS[name]
        places = self._event_places()
        base = {"id": f"ev-{uuid.uuid4().hex}", "ts": round(float(now), 3), "type": event_type}
        if name == "resident_request":
            flat = _pick(places["apartment"], tower, rng, name)
            text = str(rng.choice(RESIDENT_TEXTS)).format(storey=flat.storey)
            label = f"{tower}-{flat.storey}-{flat.code}"
            return RESIDENT_SOURCE, {**base, "host_global_id": flat.host_global_id, "text": text,
                                     "contact": f"resident:{label}", "detail": f"flat {label}"}
        if name == "grid_report":
            place = _pick(places["public"], tower, rng, name)
            text = str(rng.choice(GRID_TEXTS[place.place])).format(storey=place.storey, code=place.code)
            reporter = f"grid-{'ABCDEF'[int(rng.integers(6))]}"
            return GRID_SOURCE, {**base, "host_global_id": place.host_global_id, "text": text, "reporter": reporter,
                                 "detail": f"{place.place} {tower}-{place.storey}-{place.code}"}
        pool = {"object_thrown": "ground_camera", "fall": "indoor_camera"}.get(name, "outdoor_camera")
        camera = _pick(places[pool], tower, rng, name)
        stamp = datetime.fromtimestamp(now, UTC).strftime("%Y%m%dT%H%M%SZ")
        return CAMERA_SOURCE, {**base, "device_id": camera.device_id,
                               "confidence": round(float(rng.uniform(0.8, 0.99)), 2),
                               "snapshot": f"snapshot://{tower}/{camera.device_id}/{stamp}.jpg",
                               "detail": CAMERA_DETAILS[event_type]}

    def _event_places(self) -> dict[str, pd.DataFrame]:
        """Cameras and host spaces by the role they play in events (built once, on first use)."""
        if self._places is not None:
            return self._places
        d = self.devices
        cams = d.loc[self.kind == "camera", ["device_id", "building", "storey"]].astype(str)
        cams["code"] = cams["device_id"].str.split("-").str[2]
        hosts = d.drop_duplicates("host_global_id")[["device_id", "host_global_id", "building", "storey"]].astype(str)
        hosts["code"] = hosts["device_id"].str.split("-").str[2]
        hosts["level"] = hosts["storey"].map(_storey_number)
        ground = cams["storey"] == "1F"
        garage = cams["code"].str.startswith("GZ")
        common = cams["code"].isin(["LOB", "STR", "COR"])
        apartment = hosts["code"].str.fullmatch(_APARTMENT_CODE.pattern) & (hosts["level"] >= 2)
        kind = np.select([hosts["code"] == "COR", hosts["code"] == "LOB", hosts["code"].str.startswith("GZ")],
                         ["corridor", "lobby", "garage"], "")
        public = hosts.assign(place=kind)[kind != ""]
        self._places = {
            "ground_camera": cams[ground & common],  # object thrown: seen from the ground floor's lobby or stairs
            "indoor_camera": cams[cams["code"].isin(["LOB", "COR"])],  # falls: lobbies and corridors
            "outdoor_camera": cams[(ground & ~cams["code"].str.startswith("EL")) | garage],
            "apartment": hosts[apartment],
            "public": public,
        }
        return self._places

    # -- publishing --------------------------------------------------------------------------------
    def payloads(self, now: float, gateways: np.ndarray | None = None) -> list[tuple[str, bytes]]:
        """(gateway, payload) for the given gateways (all when None), in the contract's batch format."""
        values = self.values(now)
        out = []
        chosen = range(len(self.gateway_names)) if gateways is None else gateways
        for g in chosen:
            name = self.gateway_names[g]
            if name in self.offline_gateways or name in self.silent_gateways:
                continue
            rows = self.gateway_rows[g]
            body = json.dumps(np.round(values[rows], 4).tolist())
            out.append((name, f'{{"ts":{now:.3f},"ids":{self.gateway_ids_json[g]},"values":{body}}}'.encode()))
        return out


_SAFE_SOURCE = re.compile(r"[A-Za-z0-9_.:\-]{1,128}")


def _storey_number(storey: str) -> int:
    """``12F`` -> 12, ``B2`` -> -2 (0 for anything else)."""
    if storey.endswith("F") and storey[:-1].isdigit():
        return int(storey[:-1])
    if storey.startswith("B") and storey[1:].isdigit():
        return -int(storey[1:])
    return 0


def _pick(table: pd.DataFrame, tower: str, rng: np.random.Generator, name: str):
    """A random row of `table` in `tower` (any tower's when it has none)."""
    own = table[table["building"] == tower]
    if own.empty:
        own = table
    if own.empty:
        raise ValueError(f"the registry has no place for scenario {name!r}")
    return next(own.iloc[[int(rng.integers(len(own)))]].itertuples(index=False))


def parse_scenarios(text: str, towers: list[str]) -> list[tuple[str, str | None]]:
    """Scenarios placed in towers: ``garage_co@T12,smoke_tower@T03,object_thrown@T08``.

    Parameters
    ----------
    text
        Comma-separated ``name`` or ``name@TOWER``; ``none`` (or nothing) means no scenario.
    towers
        The known towers.

    Returns
    -------
    list[tuple[str, str | None]]
        (name, tower or None for the default tower), in order; empty for ``none``.

    Raises
    ------
    ValueError
        Naming the bad part and the known names or towers.
    """
    out: list[tuple[str, str | None]] = []
    known_towers = {t.upper(): t for t in towers}
    for part in (p.strip() for p in str(text).split(",")):
        if not part:
            continue
        name, at, tower = part.partition("@")
        name = name.strip().lower()
        if name not in SCENARIOS:
            raise ValueError(f"unknown scenario {name!r} in {part!r}; known: {', '.join(SCENARIOS)}")
        if at:
            tower = tower.strip()
            if tower.upper() not in known_towers:
                raise ValueError(f"unknown tower {tower!r} in {part!r}; known towers: {', '.join(towers)}")
            if name == "none":
                raise ValueError(f"{part!r}: 'none' cannot be placed in a tower")
        if name != "none":
            out.append((name, known_towers[tower.upper()] if at else None))
    return out


class SimulatorRunner:
    """Publishes a simulator's telemetry and events through a paho client.

    Parameters
    ----------
    simulator
        The values and the event queue.
    client
        A connected paho client.
    root
        The topic root.
    rate
        Reports per device per second.
    tick_s
        Seconds between ticks.
    events_per_hour
        Mean rate of the simulated day's random events (resident requests, grid reports, camera events);
        0 for none.
    seed
        Seed of those random events.
    """

    def __init__(self, simulator: Simulator, client, root: str = DEFAULT_ROOT, rate: float = 0.1,
                 tick_s: float = 0.5, events_per_hour: float = 0.0, seed: int = 1) -> None:
        if not 0.0 < rate <= 10.0:
            raise ValueError(f"rate must be between 0 and 10 reports per device per second, got {rate}")
        if not (math.isfinite(events_per_hour) and 0.0 <= events_per_hour <= 1e6):
            raise ValueError(f"events_per_hour must be between 0 and 1e6, got {events_per_hour}")
        self.events_per_hour = float(events_per_hour)
        self.event_rng = np.random.default_rng([seed, 11])
        self.events_published = 0
        self.sim = simulator
        self.client = client
        self.root = root
        self.rate = rate
        self.tick_s = tick_s
        self.published = 0
        self.readings = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def listen_for_commands(self) -> None:
        """Subscribe to ``cmd/+`` now and on every reconnect: the simulated actuators do what they are told.

        A command is applied once per id (a redelivered command changes nothing), as a real actuator would.
        """
        applied: set[str] = set()
        order: list[str] = []

        def on_message(_client, _userdata, message) -> None:
            try:
                body = json.loads(message.payload)
                command_id = body.get("id")
                if isinstance(command_id, str):
                    if command_id in applied:
                        return
                    applied.add(command_id)
                    order.append(command_id)
                    if len(order) > 10_000:
                        applied.discard(order.pop(0))
                self.sim.command(message.topic.rsplit("/", 1)[-1], str(body.get("action")))
            except (ValueError, AttributeError, TypeError):
                pass  # a malformed command is ignored, as a real actuator would

        def on_connect(client, _userdata, _flags, reason_code, _properties) -> None:
            if not reason_code.is_failure:
                client.subscribe(f"{self.root}/cmd/+", qos=1)
                self.announce()

        self.client.on_message = on_message
        self.client.on_connect = on_connect
        if self.client.is_connected():
            self.client.subscribe(f"{self.root}/cmd/+", qos=1)

    def announce(self) -> None:
        """Retained online/offline status of every gateway."""
        for name in self.sim.gateway_names:
            state = "offline" if name in self.sim.offline_gateways else "online"
            self.client.publish(f"{self.root}/status/{name}", state, qos=1, retain=True)

    def tick(self, tick_number: int, now: float) -> None:
        """Publish the gateways due at this tick (each gateway reports every 1/rate s, staggered) and the events."""
        self._day_events(now)
        for source, payload in self.sim.pop_events(now):
            self.client.publish(f"{self.root}/event/{source}", json.dumps(payload), qos=1, retain=False)
            self.events_published += 1
        n = len(self.sim.gateway_names)
        period_ticks = max(1, round(1.0 / (self.rate * self.tick_s)))
        due = np.flatnonzero((np.arange(n) + tick_number) % period_ticks == 0)
        for gateway, payload in self.sim.payloads(now, due):
            self.client.publish(f"{self.root}/telemetry/{gateway}", payload, qos=0)
            self.published += 1
        self.readings += int(sum(len(self.sim.gateway_rows[g]) for g in due))

    def _day_events(self, now: float) -> None:
        """Queue this tick's random events: a Poisson number at `events_per_hour`."""
        if self.events_per_hour <= 0.0:
            return
        count = int(self.event_rng.poisson(self.events_per_hour * self.tick_s / 3600.0))
        names = list(DAY_EVENTS)
        shares = np.array(list(DAY_EVENTS.values()))
        for _ in range(count):
            name = names[int(self.event_rng.choice(len(names), p=shares / shares.sum()))]
            tower = self.sim.towers[int(self.event_rng.integers(len(self.sim.towers)))]
            source, payload = self.sim.make_event(name, tower, now, self.event_rng)
            self.sim.queue_event(source, payload, due=now)

    def run(self, duration_s: float | None = None) -> None:
        """Publish until stopped (or for `duration_s`)."""
        self.listen_for_commands()
        self.announce()
        started = time.monotonic()
        tick = 0
        while not self._stop.is_set():
            if duration_s is not None and time.monotonic() - started >= duration_s:
                break
            offline_before = set(self.sim.offline_gateways)
            self.tick(tick, time.time())
            if self.sim.offline_gateways != offline_before:
                self.announce()
            tick += 1
            next_at = started + tick * self.tick_s
            self._stop.wait(max(0.0, next_at - time.monotonic()))

    def start(self) -> None:
        self._thread = threading.Thread(target=self.run, name="simulator", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5.0)
