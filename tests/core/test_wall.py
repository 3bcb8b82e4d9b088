"""The wall's figures from the engine's real payloads: incidents by priority, orders, KPIs, devices, data age."""

from __future__ import annotations

import numpy as np

from twin_app.core.engine import Engine
from twin_app.core.inbox import GatewayStatus, Readings
from twin_app.core.state import DeviceState
from twin_app.core.wall import (
    DATA_AGE_WARNING_S,
    HANDLING_WARNING_S,
    LEVELS,
    TILES,
    WallFigures,
    tile_levels,
    wall_figures,
)

from .test_engine import Port
from .test_incidents import T0, _act, _drain, _engine, _garage_co, _reading, _retained, _rows


def _figures(engine: Engine, port: Port, now: float) -> WallFigures:
    """What a console holding the engine's retained topics would put on the wall."""
    return wall_figures(list(_retained(port, "incident/").values()), list(_retained(port, "dispatch/").values()),
                        engine.kpis(now), engine.store.states(now), engine.data_age_s(now), now)


def test_engine_incidents_orders_and_kpis_reach_the_wall(small_index, tmp_path) -> None:
    port = Port()
    engine = _engine(small_index, tmp_path, port)
    assert wall_figures([], [], None, engine.store.states(T0), engine.data_age_s(T0), T0) == WallFigures(
        devices_online=0.0, devices_total=engine.store.n_devices)  # nothing reported yet: nobody online
    t = _garage_co(engine, small_index, T0)
    fans = _rows(small_index, "T01-B1-GZA-FAN", "fan")
    engine.step(_drain(_reading(fans, 1.0, t)), t)  # the fans obey the linked command
    figures = _figures(engine, port, t)
    assert (figures.critical, figures.high, figures.medium, figures.low) == (0, 1, 0, 0)  # garage CO is high
    assert figures.incidents == 1 and figures.open_orders == 0 and figures.overdue_orders == 0
    assert figures.data_age_s == 0.0 and figures.mean_handling_s is None and figures.within_deadline is None
    reporting = len(_rows(small_index, "T01-B1-GZA", "co")) + len(fans)
    assert figures.devices_total == engine.store.n_devices
    assert figures.devices_online == reporting / engine.store.n_devices
    levels = tile_levels(figures)
    assert levels["high"] == "high" and levels["critical"] == "normal" and levels["overdue_orders"] == "normal"

    incident_id = next(iter(engine.incidents.incidents))
    assert _act(engine, "ack", t + 1, incident_id=incident_id)["ok"]
    assert _act(engine, "dispatch", t + 2, incident_id=incident_id)["ok"]
    (order,) = _retained(port, "dispatch/").values()
    assert _figures(engine, port, t + 3).open_orders == 1 and _figures(engine, port, t + 3).overdue_orders == 0
    late = order["deadline_ts"] + 1
    figures = _figures(engine, port, late)  # the unit has not reported done: past its deadline
    assert figures.open_orders == 1 and figures.overdue_orders == 1
    assert figures.data_age_s == late - t  # no reading since the CO rose
    levels = tile_levels(figures)
    assert levels["overdue_orders"] == "alarm" and levels["data_age"] == "alarm"

    # the unit finishes, the CO falls, the incident is closed: it leaves the wall, the KPIs arrive
    _act(engine, "unit_status", t + 300, order_id=order["id"], status="done", result="car left running")
    rows = _rows(small_index, "T01-B1-GZA", "co")
    engine.step(_drain(_reading(rows, 8.0, t + 310)), t + 310)
    engine.step(_drain(_reading(rows, 8.0, t + 350)), t + 350)
    _act(engine, "ack", t + 351, incident_id=incident_id)
    assert _act(engine, "close", t + 352, incident_id=incident_id)["ok"]
    closed = [p for topic, p, _ in port.sent if topic == f"incident/{incident_id}" and p is not None][-1]
    figures = wall_figures([closed], list(_retained(port, "dispatch/").values()), engine.kpis(t + 360),
                           engine.store.states(t + 360), engine.data_age_s(t + 360), t + 360)
    assert figures.incidents == 0 and figures.open_orders == 0 and figures.overdue_orders == 0
    assert figures.within_deadline == 1.0
    assert figures.mean_handling_s is not None and 300 < figures.mean_handling_s < HANDLING_WARNING_S
    assert figures.data_age_s == 10.0
    assert tile_levels(figures)["mean_handling"] == "normal" and tile_levels(figures)["within_deadline"] == "normal"


def _calm_readings(engine: Engine, t: float) -> Readings:
    """A reading of every device in the middle of its limits (half the high one, 0 where it has none)."""
    alarm_low, warn_low, warn_high, alarm_high = engine.store.limits
    low = np.where(np.isfinite(warn_low), warn_low, alarm_low)
    high = np.where(np.isfinite(warn_high), warn_high, alarm_high)
    value = np.where(np.isfinite(low) & np.isfinite(high), (low + high) / 2,
                     np.where(np.isfinite(high), high / 2,
                              np.where(np.isfinite(low), low + 1.0, 0.0)))
    rows = np.arange(engine.store.n_devices)
    return Readings(rows, value, np.full(len(rows), t), 0.0)


def test_gateway_offline_is_critical_and_takes_its_devices_offline(small_index, tmp_path) -> None:
    port = Port()
    engine = _engine(small_index, tmp_path, port)
    engine.step(_drain(_calm_readings(engine, T0)), T0)  # every device reports, within its limits
    before = _figures(engine, port, T0 + 1)
    assert before.incidents == 0 and before.open_orders == 0 and before.devices_online == 1.0
    gateway = str(small_index.devices["gateway"][small_index.devices["device_id"].str.startswith("T01-3F")].iloc[0])
    engine.step(_drain(GatewayStatus(gateway, False)), T0 + 2)
    figures = _figures(engine, port, T0 + 2)
    behind = int((small_index.devices["gateway"] == gateway).sum())
    held = [i.priority.name.lower() for i in engine.incidents.incidents.values()]
    assert held == ["critical"] and figures.critical == figures.incidents == 1  # lost data: critical
    assert figures.devices_online == 1.0 - behind / engine.store.n_devices
    assert tile_levels(figures)["critical"] == "critical"


def test_device_states_count_offline_stale_and_no_data_as_not_online() -> None:
    states = np.array([DeviceState.NORMAL, DeviceState.WARNING, DeviceState.ALARM, DeviceState.STALE,
                       DeviceState.OFFLINE, DeviceState.NO_DATA, DeviceState.NORMAL, DeviceState.NORMAL],
                      dtype=np.uint8)
    figures = wall_figures([], [], {}, states, 3.0, T0)
    assert figures.devices_online == 5 / 8 and figures.devices_total == 8
    assert tile_levels(figures)["devices_online"] == "alarm"  # 62 % of the devices
    assert wall_figures([], [], {}, np.zeros(0, np.uint8), None, T0).devices_online is None


def test_malformed_payloads_are_skipped_never_raised() -> None:
    incidents = [{"priority": "critical", "state": "new"}, {"priority": "critical", "state": "closed"},
                 {"priority": "medium", "state": "resolved"}, {"priority": 1, "state": "new"}, {"state": "new"},
                 "not a dict", {"priority": "low", "state": "new", "open": False}]
    orders = [{"status": "dispatched", "deadline_ts": T0 - 1}, {"status": "escalated", "deadline_ts": T0 - 99},
              {"status": "en_route", "deadline_ts": T0 + 60}, {"status": "done", "deadline_ts": T0 - 5},
              {"status": "on_scene", "deadline_ts": "soon"}, {"status": "closed"}, None]
    kpis = {"mttc_s": float("nan"), "within_deadline": 1.7}
    figures = wall_figures(incidents, orders, kpis, np.array([1, 1], np.uint8), float("inf"), T0)
    assert (figures.critical, figures.high, figures.medium, figures.low) == (1, 0, 1, 0)
    assert figures.open_orders == 4 and figures.overdue_orders == 2
    assert figures.mean_handling_s is None and figures.within_deadline == 1.0 and figures.data_age_s is None


def test_tile_levels_follow_the_thresholds() -> None:
    calm = WallFigures(open_orders=3, mean_handling_s=600.0, within_deadline=0.95, devices_online=0.99,
                       devices_total=10, data_age_s=1.0)
    assert set(tile_levels(calm)) == set(TILES) and set(tile_levels(calm).values()) == {"normal"}
    busy = WallFigures(critical=1, high=2, medium=3, low=4, overdue_orders=1, mean_handling_s=HANDLING_WARNING_S + 1,
                       within_deadline=0.5, devices_online=0.9, devices_total=10,
                       data_age_s=DATA_AGE_WARNING_S + 0.5)
    levels = tile_levels(busy)
    assert set(levels.values()) <= set(LEVELS)
    assert [levels[p] for p in ("critical", "high", "medium", "low")] == ["critical", "high", "medium", "low"]
    assert levels["overdue_orders"] == "alarm" and levels["data_age"] == "warning"
    assert levels["mean_handling"] == levels["within_deadline"] == levels["devices_online"] == "warning"
    assert tile_levels(WallFigures())["data_age"] == "normal"  # no devices: nothing to be late
    assert tile_levels(WallFigures(devices_total=5))["data_age"] == "alarm"  # devices and never a reading


def test_unacknowledged_standing_incidents_are_counted() -> None:
    incidents = [{"id": "a", "priority": "critical", "state": "new", "unacknowledged": True},
                 {"id": "b", "priority": "high", "state": "acknowledged", "unacknowledged": False},
                 {"id": "c", "priority": "low", "state": "closed", "unacknowledged": True}]
    figures = wall_figures(incidents, [], None, np.zeros(0, dtype=np.uint8), None, 0.0)
    assert (figures.critical, figures.high, figures.low, figures.unacknowledged) == (1, 1, 0, 1)
