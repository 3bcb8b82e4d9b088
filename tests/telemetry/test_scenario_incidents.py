"""Every simulator scenario is one incident of the right cause, priority and party (in-process, simulated time)."""

from __future__ import annotations

import numpy as np
import pytest

from twin_app.core.engine import Engine
from twin_app.core.inbox import Event, GatewayStatus, Inbox, Readings
from twin_app.telemetry.simulator import Simulator

EXPECTED = {  # scenario -> (cause, priority, party)
    "garage_co": ("gas", "high", "property_management"),
    "septic_h2s": ("gas", "critical", "maintenance"),
    "smoke_tower": ("fire", "critical", "fire_brigade"),
    "elevator_stuck": ("elevator", "high", "maintenance"),
    "gateway_offline": ("communication", "critical", "maintenance"),
    "gateway_silent": ("communication", "critical", "maintenance"),
    "object_thrown": ("object_thrown_from_height", "critical", "police"),
    "fall": ("fall_detected", "high", "community_staff"),
    "garbage_exposed": ("garbage_exposed", "low", "community_staff"),
    "fire_lane_blocked": ("fire_lane_blocked", "high", "property_management"),
    "resident_request": ("resident_request", "medium", "community_staff"),
    "grid_report": ("grid_report", "medium", "community_staff"),
}
T0 = 1_800_000_000.0
TICK_S = 0.5
PERIOD_TICKS = 10  # each gateway reports every 5 s


def _run(index, scenario: str, seconds: float) -> tuple[Engine, float | None]:
    """Normal telemetry for 30 s, then the scenario; returns the engine and when its first incident opened."""
    sim = Simulator(index.devices)
    engine = Engine(index)
    start = T0 + 30.0
    first = None
    for k in range(int((30.0 + seconds) / TICK_S)):
        now = T0 + k * TICK_S
        if k == int(30.0 / TICK_S):
            sim.start_scenarios(f"{scenario}@T02", now)
        inbox = Inbox()
        for gateway in sim.gateway_names:
            inbox.put(GatewayStatus(gateway, gateway not in sim.offline_gateways))
        for _source, payload in sim.pop_events(now):
            inbox.put(Event(payload))
        values = sim.values(now)
        for g, gateway in enumerate(sim.gateway_names):
            if (g + k) % PERIOD_TICKS or gateway in sim.offline_gateways or gateway in sim.silent_gateways:
                continue
            rows = sim.gateway_rows[g]
            inbox.put(Readings(rows, values[rows], np.full(len(rows), now), 0.0))
        engine.step(inbox.drain(), now)
        if engine.incidents.incidents and first is None:
            first = now - start
    return engine, first


@pytest.mark.parametrize("scenario", sorted(EXPECTED))
def test_each_scenario_is_one_incident_of_the_right_cause_and_party(small_index, scenario: str) -> None:
    engine, first = _run(small_index, scenario, 75.0)
    incidents = list(engine.incidents.incidents.values())
    assert len(incidents) == 1, [(i.cause, i.title) for i in incidents]
    incident = incidents[0]
    assert (incident.cause, incident.priority.name.lower(), incident.party) == EXPECTED[scenario], incident.title
    assert incident.building == "T02" and first is not None and first <= 45.0
    assert len(incident.alarms) >= 1 and incident.title
