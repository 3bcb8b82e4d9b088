"""The historic incident recordings shipped in assets/recordings: what each holds, and that they regenerate the same."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from twin_app.core.registry import read_registry
from twin_app.telemetry.incident_recordings import (
    DISTRICT,
    MAX_BYTES,
    NAMES,
    OPERATOR,
    SCRIPTS,
    District,
    main,
    record_incident,
)
from twin_app.telemetry.recording import FORMAT, FORMAT_VERSION, RecordingReader, registry_hash

SHIPPED = Path(__file__).resolve().parents[2] / "assets" / "recordings"
EXPECTED = {  # name -> (cause, priority, party, units, linked commands as (device id prefix, action, count))
    "garage_co": ("gas", "high", "property_management", ["PM-1"], [("T02-B1-GZA-FAN", "on", 2)]),
    "septic_h2s": ("gas", "critical", "maintenance", ["MT-3"],
                   [("T04-B2-SEP-FAN", "on", 1), ("T04-B2-SEP-DIS", "on", 1)]),
    "smoke_tower": ("fire", "critical", "fire_brigade", ["FB-1", "FB-2"], [("T03-1F-EL", "recall", 4)]),
    "object_thrown": ("object_thrown_from_height", "critical", "property_management", ["PM-1"], []),
}


def _outputs(reader: RecordingReader) -> list[tuple[float, dict]]:
    return [(t, m) for t, m in reader.messages("/output")]  # type: ignore[misc]


def _last(outputs: list[tuple[float, dict]], prefix: str) -> dict[str, dict]:
    """The last payload published on each topic under `prefix` (a removal of a retained topic skipped)."""
    held: dict[str, dict] = {}
    for _t, m in outputs:
        if m["topic"].startswith(prefix) and m["payload"] is not None:
            held[m["topic"][len(prefix):]] = m["payload"]
    return held


@pytest.fixture(scope="module")
def variant_hash(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The registry hash of the district variant the recordings name."""
    from twin_app.bim.generate import generate_district

    generated = generate_district(tmp_path_factory.mktemp("variant"), towers=DISTRICT.towers, seed=DISTRICT.seed,
                                  storeys=DISTRICT.storeys)
    return registry_hash(read_registry(generated.registry_path)["device_id"].astype(str).tolist())


@pytest.mark.parametrize("name", NAMES)
def test_shipped_recording_names_its_district_variant_and_fits_in_git(name: str, variant_hash: str) -> None:
    path = SHIPPED / f"{name}.mcap"
    assert path.is_file(), f"{path} is missing: regenerate it (assets/recordings/README.md)"
    assert path.stat().st_size < MAX_BYTES
    reader = RecordingReader(path, strict=True)
    meta = reader.meta
    assert (meta["format"], meta["version"]) == (FORMAT, FORMAT_VERSION)
    assert meta["model"] == {"district": {"towers": 6, "seed": 20261124, "storeys": 8}} == DISTRICT.meta()
    assert meta["registry_hash"] == variant_hash  # a replay of the named variant accepts it
    first, last = reader.span
    assert 7 * 60 <= last - first <= 12 * 60


@pytest.mark.parametrize("name", NAMES)
def test_shipped_recording_holds_the_incident_its_linked_commands_order_and_close(name: str) -> None:
    cause, priority, party, units, commands = EXPECTED[name]
    script = SCRIPTS[name]
    reader = RecordingReader(SHIPPED / f"{name}.mcap", strict=True)
    start = reader.span[0]
    outputs = _outputs(reader)
    incidents = _last(outputs, "incident/")
    assert len(incidents) == 1, [i["title"] for i in incidents.values()]
    incident = next(iter(incidents.values()))
    assert (incident["cause"], incident["priority"], incident["building"]) == (cause, priority, script.tower)
    created = incident["created_ts"]
    assert start + 55 <= created <= start + 90  # the scenario starts after a minute of normal telemetry
    # the linked commands, each sent once when the incident opened
    sent = [(t, m["topic"][len("cmd/"):], m["payload"]["action"]) for t, m in outputs if m["topic"].startswith("cmd/")]
    for prefix, action, count in commands:
        mine = [(t, device) for t, device, a in sent if device.startswith(prefix) and a == action]
        assert len(mine) == count and {t for t, _ in mine} == {created}, sent
        assert {c["state"] for c in incident["commands"] if c["action"] == action} == {"confirmed"}
    if not commands:
        assert sent == []
    # the order: its party and units, done with the unit's result, closed with the incident
    orders = _last(outputs, "dispatch/")
    assert len(orders) == 1
    order = next(iter(orders.values()))
    assert (order["party"], order["units"], order["status"]) == (party, units, "closed")
    assert order["incident_id"] == incident["id"] and incident["party"] == party
    done = [m for _t, m in reader.messages("/action") if m["body"].get("status") == "done"]  # type: ignore[union-attr]
    assert len(done) == 1 and done[0]["user"] == units[0]
    result = done[0]["body"]["result"]
    assert order["result"] == result
    assert incident["state"] == "closed" and incident["result"] == result and incident["closed_by"] == OPERATOR
    assert incident["on_scene_ts"] is not None and incident["closed_ts"] > incident["on_scene_ts"]
    # the last publications of the incident and its order clear their retained topics
    assert outputs[-1][1]["topic"] != f"incident/{incident['id']}" or outputs[-1][1]["payload"] is None
    retained = {m["topic"]: m["payload"] for _t, m in outputs if m["retain"]}
    assert retained[f"incident/{incident['id']}"] is None and retained[f"dispatch/{order['id']}"] is None


@pytest.mark.parametrize("name", NAMES)
def test_shipped_recording_holds_the_scripted_operator_response(name: str) -> None:
    script = SCRIPTS[name]
    reader = RecordingReader(SHIPPED / f"{name}.mcap", strict=True)
    outputs = _outputs(reader)
    incident = next(iter(_last(outputs, "incident/").values()))
    created = incident["created_ts"]
    actions = [(t - created, m) for t, m in reader.messages("/action")]  # type: ignore[operator]
    assert actions[0][1]["verb"] == "ack" and actions[-1][1]["verb"] == "close"
    assert sorted({t for t, _m in actions}) == [s.at_s for s in script.steps]  # at the scripted delays
    for _t, m in actions:
        body = m["body"]
        assert body["request"].startswith(f"{name}-") and body["console"] and body["operator"] == m["user"]
    by_verb = {m["verb"]: (t, m) for t, m in reversed(actions)}  # the first of each verb
    ack_at, ack = by_verb["ack"]
    assert 30 <= ack_at <= 60 and ack["user"] == OPERATOR and ack["body"]["incident_id"] == incident["id"]
    assert incident["ack_by"] == OPERATOR and incident["ack_ts"] == created + ack_at
    if name == "smoke_tower":  # the matrix dispatches the fire brigade at once; the operator dispatches nothing
        assert "dispatch" not in by_verb and incident["dispatched_ts"] == created
        assert [m["body"]["action"] for _t, m in actions if m["verb"] == "override"] == ["on"] * 4
    else:
        dispatch_at, dispatch = by_verb["dispatch"]
        assert 60 <= dispatch_at <= 120 and dispatch["user"] == OPERATOR
        assert incident["dispatched_ts"] == created + dispatch_at
    reports = [m["body"]["status"] for _t, m in actions if m["verb"] == "unit_status"]
    assert reports == ["en_route", "on_scene", "done"]
    close_at, close = by_verb["close"]
    assert close["user"] == OPERATOR and incident["closed_ts"] == created + close_at
    # every scripted action was answered and applied
    answers = {m["payload"]["request"]: m["payload"] for _t, m in outputs if m["topic"].startswith("action_result/")}
    assert {m["body"]["request"] for _t, m in actions} <= set(answers)
    assert all(a["ok"] for a in answers.values()), [a for a in answers.values() if not a["ok"]]


@pytest.mark.parametrize("name", ["garage_co", "septic_h2s", "smoke_tower"])
def test_the_commanded_actuators_really_ran(name: str) -> None:
    """Replayed state: the actuators report the commanded state; the readings return below their limits."""
    reader = RecordingReader(SHIPPED / f"{name}.mcap", strict=True)
    outputs = _outputs(reader)
    incident = next(iter(_last(outputs, "incident/").values()))
    ids = reader.device_ids.astype(str)
    rows = {c["device_id"]: int(np.flatnonzero(ids == c["device_id"])[0]) for c in incident["commands"]}
    values, _ts = reader.state_at(incident["created_ts"] + 15.0)
    expected = {"on": 1.0, "recall": 2.0}
    assert all(values[r] == expected[c["action"]] for c in incident["commands"] for r in [rows[c["device_id"]]])
    limits = {d["device_id"]: d["alarm_high"] for _t, m in outputs if m["topic"] == f"incident/{incident['id']}"
              and m["payload"] is not None for d in m["payload"]["devices"]}  # the devices it showed in alarm
    values, _ts = reader.state_at(incident["closed_ts"])
    assert limits and all(values[int(np.flatnonzero(ids == d)[0])] < limit for d, limit in limits.items())
    if name == "smoke_tower":  # the supervisor returned the lifts to service
        assert all(values[r] == 1.0 for r in rows.values())


def _messages(path: Path) -> dict[str, list]:
    """Every channel's decoded messages (arrays as lists)."""
    reader = RecordingReader(path, strict=True)
    out: dict[str, list] = {}
    for channel in ("/meta", "/status", "/event", "/action", "/output", "/telemetry", "/keyframe"):
        decoded = []
        for t, m in reader.messages(channel):
            if isinstance(m, tuple):  # telemetry and keyframes: arrays (NaN where nothing was reported yet)
                m = [np.asarray(a).tobytes() for a in m]
            decoded.append((t, m))
        out[channel] = decoded
    return out


def test_recording_twice_gives_the_same_messages(small_index, tmp_path) -> None:
    small = District(towers=2, seed=20261124, storeys=6)  # the small_district fixture's variant
    paths = [record_incident("garage_co", tmp_path / f"run{k}", small_index, small, tower="T02", until_s=200.0)
             for k in (1, 2)]
    first, second = (_messages(p) for p in paths)
    assert first == second
    verbs = [m["verb"] for _t, m in first["/action"]]
    assert verbs[:3] == ["ack", "comment", "dispatch"]  # the response up to the dispatch fits in 200 s
    topics = {m["topic"].split("/")[0] for _t, m in first["/output"]}
    assert {"incident", "alarm", "cmd", "dispatch", "action_result"} <= topics
    assert first["/meta"][0][1]["model"] == small.meta() and len(first["/keyframe"]) == 2


def test_the_command_needs_the_district_loader_from_an_upper_layer(tmp_path, capsys) -> None:
    assert main([str(tmp_path)]) == 2
    assert "district loader" in capsys.readouterr().err
    with pytest.raises(ValueError, match="unknown recording"):
        record_incident("no_such_incident", tmp_path, None)  # type: ignore[arg-type]
