"""Realistic telemetry for the whole district, published as the gateways would.

Values are computed for all devices at once (numpy): a normal level per kind, daily patterns (temperature,
water pressure, garage CO with rush-hour traffic), noise, rare faults, and scenarios that inject incidents.
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from twin_app.telemetry.ingest import DEFAULT_ROOT

SCENARIOS = ("none", "garage_co", "septic_h2s", "smoke_tower", "elevator_stuck", "gateway_offline")
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

    def start_scenario(self, name: str, now: float, building: str | None = None) -> str:
        """Inject an incident; returns a sentence saying what and where."""
        d = self.devices
        ids = d["device_id"].astype(str)
        towers = sorted(d["building"].astype(str).unique())
        tower = building or towers[min(4, len(towers) - 1)]
        if name == "none":
            return "no incident"
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
            rows = self._rows(smoke & (numbers >= 12))
            level = numbers[rows]

            def spread(t: float, v: np.ndarray, level: np.ndarray = level) -> np.ndarray:
                reached = level <= 12 + t / 8.0  # one storey every 8 s
                return np.where(reached, 0.12 + 0.002 * t, v)

            self.incidents.append(Incident(rows, now, spread))
            return f"smoke spreading up tower {tower} from 12F ({len(rows)} smoke detectors)"
        if name == "elevator_stuck":
            host = ids.str.startswith(f"{tower}-1F-EL2-").to_numpy()
            rows = self._rows(host & np.isin(self.kind, ["elevator", "elevator_speed"]))
            self.incidents.append(Incident(rows, now, lambda t, v: np.where(v > 0.5, 3.0, 0.0)))
            return f"elevator EL2 of tower {tower} stuck"
        if name == "gateway_offline":
            gateway = f"{tower}-15F" if f"{tower}-15F" in self.gateway_names else self.gateway_names[0]
            self.offline_gateways.add(gateway)
            return f"gateway {gateway} went offline"
        raise ValueError(f"unknown scenario {name!r}; known: {', '.join(SCENARIOS)}")

    # -- publishing --------------------------------------------------------------------------------
    def payloads(self, now: float, gateways: np.ndarray | None = None) -> list[tuple[str, bytes]]:
        """(gateway, payload) for the given gateways (all when None), in the contract's batch format."""
        values = self.values(now)
        out = []
        chosen = range(len(self.gateway_names)) if gateways is None else gateways
        for g in chosen:
            name = self.gateway_names[g]
            if name in self.offline_gateways:
                continue
            rows = self.gateway_rows[g]
            body = json.dumps(np.round(values[rows], 4).tolist())
            out.append((name, f'{{"ts":{now:.3f},"ids":{self.gateway_ids_json[g]},"values":{body}}}'.encode()))
        return out


class SimulatorRunner:
    """Publishes a simulator's telemetry through a paho client at `rate` reports per device per second."""

    def __init__(self, simulator: Simulator, client, root: str = DEFAULT_ROOT, rate: float = 0.1,
                 tick_s: float = 0.5) -> None:
        if not 0.0 < rate <= 10.0:
            raise ValueError(f"rate must be between 0 and 10 reports per device per second, got {rate}")
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
        """Publish the gateways due at this tick (each gateway reports every 1/rate s, staggered)."""
        n = len(self.sim.gateway_names)
        period_ticks = max(1, round(1.0 / (self.rate * self.tick_s)))
        due = np.flatnonzero((np.arange(n) + tick_number) % period_ticks == 0)
        for gateway, payload in self.sim.payloads(now, due):
            self.client.publish(f"{self.root}/telemetry/{gateway}", payload, qos=0)
            self.published += 1
        self.readings += int(sum(len(self.sim.gateway_rows[g]) for g in due))

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
