"""Incident drills in a real window: the simulator's scenarios through a real mosquitto, as an operator meets them.

`twin-app simulate` runs as a separate process (an outside MQTT client, as the gateways are); the console runs its
own engine. Each drill prints the rows in the list and the seconds from the first reading of the scenario to the
incident on screen (`packaging/dev.sh test tests/ui/test_incident_drills.py -s` shows them).
"""

from __future__ import annotations

import gc
import json
import subprocess
import sys
import time

import paho.mqtt.client as mqtt
import pytest
from PySide6.QtCore import Qt

from tests.ui.test_command_panel import _console, _wait
from twin_app.telemetry.mqtt import free_port
from twin_app.ui.command_panel import PRIORITY_ORDER

ROOT = "mumianling/v1"


class Simulate:
    """`twin-app simulate` with scenarios, as a separate process."""

    def __init__(self, url: str, ifc, scenario: str) -> None:
        self.started = time.monotonic()
        self.first: float | None = None
        self.poll = lambda: None
        self.process = subprocess.Popen(
            [sys.executable, "-m", "twin_app", "simulate", "--broker", url, "--ifc", str(ifc), "--scenario", scenario,
             "--rate", "0.5", "--events-per-hour", "0", "--duration", "150"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=20)


def _units(client_port: int, **body) -> None:
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"unit-{time.time_ns()}")
    client.connect("127.0.0.1", client_port)
    client.loop_start()
    body.setdefault("request", f"unit-{time.time_ns()}")
    client.publish(f"{ROOT}/action/unit_status", json.dumps(body), qos=1).wait_for_publish(5)
    client.loop_stop()
    client.disconnect()


@pytest.fixture
def drill(qtbot, small_district, mosquitto, tmp_path):
    """A console with its own engine on the broker, and a way to start the simulator's scenarios."""
    window = _console(qtbot, small_district, "wall")
    window.start_live(mosquitto.url, engine="local", operator="op-huang", console="wall",
                      data_dir=tmp_path / "engine")
    qtbot.waitUntil(lambda: window.live.connection == "connected", timeout=10_000)
    running: list[Simulate] = []

    def start(scenario: str) -> Simulate:
        sim = Simulate(mosquitto.url, small_district.ifc_path, scenario)
        running.append(sim)
        readings = window.live.engine.store.readings

        def first_reading() -> None:  # when the simulator's first reading reached the console
            if sim.first is None and window.live.engine.store.readings > readings:
                sim.first = time.monotonic()

        sim.poll = first_reading
        return sim

    yield window, start
    for sim in running:
        sim.stop()
    window.close()
    gc.collect()


def _shown(window, sim: Simulate) -> tuple[float, int, int]:
    """When the incident was on screen (seconds after the simulator's first reading), rows and alarms then."""
    first = sim.first if sim.first is not None else sim.started
    return time.monotonic() - first, window.incident_dock.tree.topLevelItemCount(), len(window.incident_dock.alarms)


def _incident(qtbot, window, sim: Simulate, cause: str) -> tuple[dict, tuple[float, int, int]]:
    """Wait for the scenario's incident of `cause`; returns it and when it was on screen."""
    dock = window.incident_dock
    assert _wait(qtbot, lambda: any(i["cause"] == cause for i in dock.incidents.values()), 60, sim.poll)
    shown = _shown(window, sim)
    return next(i for i in dock.incidents.values() if i["cause"] == cause), shown


def _report(name: str, shown: tuple[float, int, int]) -> None:
    seconds, rows, alarms = shown
    print(f"\n{name}: {rows} row(s) in the list for {alarms} alarm(s); incident on screen {seconds:.1f} s after the "
          "first reading")


def test_smoke_in_one_tower_and_garage_co_in_another(qtbot, drill, mosquitto) -> None:
    window, start = drill
    dock = window.incident_dock
    sim = start("smoke_tower@T02,garage_co@T01")
    assert _wait(qtbot, lambda: {i["cause"] for i in dock.incidents.values()} >= {"fire", "gas"}, 90, sim.poll)
    shown = _shown(window, sim)
    qtbot.wait(12_000)  # the smoke spreads up a storey every 8 s: still one incident
    causes = [i["cause"] for i in dock.standing(True)]
    assert sorted(causes) == ["fire", "gas"], [(i["cause"], i["title"]) for i in dock.standing(True)]
    fire, gas = (next(i for i in dock.incidents.values() if i["cause"] == c) for c in ("fire", "gas"))
    assert dock.standing(True)[0]["id"] == fire["id"] and fire["priority"] == "critical"  # the critical one on top
    assert dock.tree.topLevelItem(0).text(0).endswith("Critical")
    assert PRIORITY_ORDER[fire["priority"]] < PRIORITY_ORDER[gas["priority"]]
    assert fire["building"] == "T02" and len(fire["storeys"]) >= 2 and gas["building"] == "T01"
    # the right parties: the fire brigade went by itself (two engines for a fire several detectors confirm)
    assert fire["party"] == "fire_brigade" and sorted(fire["units"]) == ["FB-1", "FB-2"]
    assert gas["party"] == "property_management" and gas["proposal"]["units"] == ["PM-1"]
    window.incident_dock.select_incident(gas["id"])
    qtbot.mouseClick(dock.dispatch_button, Qt.MouseButton.LeftButton)
    assert _wait(qtbot, lambda: len(window.dispatch_dock.open_orders()) == 2, 10)
    booked = [u for o in window.dispatch_dock.open_orders() for u in o["units"]]
    assert len(booked) == len(set(booked)) == 3  # no unit on two orders
    assert window.critical_banner.isVisible() and "CRITICAL" in window.critical_banner.text()
    # both stand in 3D as markers for the wall
    assert set(window.scene.incident_positions()) >= {fire["id"], gas["id"]}
    _report("smoke T02 + garage CO T01", shown)


def test_elevator_stuck_goes_to_the_elevator_crew(qtbot, drill) -> None:
    window, start = drill
    dock = window.incident_dock
    sim = start("elevator_stuck@T01")
    incident, shown = _incident(qtbot, window, sim, "elevator")
    assert incident["proposal"]["units"] == ["MT-2"] and "elevator" in incident["proposal"]["why"]
    dock.select_incident(incident["id"])
    qtbot.mouseClick(dock.dispatch_button, Qt.MouseButton.LeftButton)
    assert _wait(qtbot, lambda: len(window.dispatch_dock.open_orders()) == 1, 10)
    assert window.dispatch_dock.open_orders()[0]["units"] == ["MT-2"]
    assert "Maintenance crew 2 (elevators)" in window.dispatch_dock.table.item(0, 2).text()
    _report("elevator stuck T01", shown)


def test_gateway_offline_is_a_communication_incident_naming_the_blind_detectors(qtbot, drill) -> None:
    window, start = drill
    dock = window.incident_dock
    sim = start("gateway_offline@T01")
    incident, shown = _incident(qtbot, window, sim, "communication")
    detail = incident["detail"]
    assert detail["blind_count"] > 0 and detail["blind"] and all(d.startswith("T01-") for d in detail["blind"])
    assert incident["title"].startswith("Gateway offline") and incident["priority"] == "critical"
    dock.select_incident(incident["id"])
    text = window.incident_detail.text.toPlainText()
    assert "Blind detectors" in text and detail["blind"][0] in text
    offline = window.legend.count_labels
    assert any(int(label.text().replace(",", "")) > 0 for state, label in offline.items() if state.name == "OFFLINE")
    _report("gateway offline T01", shown)


def test_a_residents_request_is_dispatched_to_community_staff_and_closed_with_its_result(qtbot, drill,
                                                                                          mosquitto) -> None:
    window, start = drill
    dock = window.incident_dock
    sim = start("resident_request@T01")
    incident, shown = _incident(qtbot, window, sim, "resident_request")
    assert incident["detail"]["text"] and incident["detail"]["contact"].startswith("resident:T01-")
    assert incident["title"].startswith("Resident request")
    dock.select_incident(incident["id"])
    assert incident["detail"]["text"] in window.incident_detail.text.toPlainText()
    qtbot.mouseClick(dock.ack_button, Qt.MouseButton.LeftButton)
    assert _wait(qtbot, lambda: dock.incidents[incident["id"]]["state"] == "acknowledged", 10)
    dock.select_incident(incident["id"])
    qtbot.mouseClick(dock.dispatch_button, Qt.MouseButton.LeftButton)
    assert _wait(qtbot, lambda: len(window.dispatch_dock.open_orders()) == 1, 10)
    order = window.dispatch_dock.open_orders()[0]
    assert order["party"] == "community_staff" and order["units"] == ["CS-1"]
    _units(mosquitto.port, operator="CS-1", order_id=order["id"], status="done",
           result="visited the flat; the neighbour's pipe was fixed")
    assert _wait(qtbot, lambda: dock.incidents[incident["id"]]["state"] == "resolved", 10)
    dock.select_incident(incident["id"])
    dock.close_selected("")
    assert _wait(qtbot, lambda: incident["id"] in dock.closed, 10)
    assert dock.closed[incident["id"]]["result"] == "visited the flat; the neighbour's pipe was fixed"
    assert "the neighbour's pipe was fixed" in window.incident_detail.text.toPlainText()
    dock.closed_box.setChecked(True)  # closed this shift: listed at the bottom, greyed
    assert dock.tree.topLevelItem(dock.tree.topLevelItemCount() - 1).text(1) == "Closed"
    _report("resident request T01", shown)


def test_an_unreachable_broker_shows_the_no_data_banner_within_10_s(qtbot, small_district) -> None:
    window = _console(qtbot, small_district, "wall")
    try:
        started = time.monotonic()
        window.start_live(f"mqtt://127.0.0.1:{free_port()}", engine="local", operator="op-huang", console="wall")
        qtbot.waitUntil(lambda: window.no_data_banner.isVisible(), timeout=11_000)
        seen = time.monotonic() - started
        assert seen <= 11.0 and "NO LIVE DATA" in window.no_data_banner.text()
        assert "NOT live" in window.no_data_banner.text()
        print(f"\nunreachable broker: banner after {seen:.1f} s")
    finally:
        window.close()
        gc.collect()
