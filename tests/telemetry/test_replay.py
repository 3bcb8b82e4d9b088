"""Replay: a recorded simulator run replays to the states and alarms seen live; seeking equals playing through."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from twin_app.core.engine import LoopbackPort, NullPort
from twin_app.core.errors import InputError
from twin_app.telemetry.recording import RecordingReader
from twin_app.telemetry.replay import ReplaySession

T0 = 1_800_000_000.0
STANDING = {"unack_active", "ack_active", "unack_rtn", "shelved", "suppressed", "out_of_service"}


@pytest.fixture(scope="module")
def recorded(small_recording):
    return small_recording


def test_as_recorded_seeks_to_what_was_seen_live(recorded, small_index) -> None:
    path, live = recorded
    session = ReplaySession(RecordingReader(path), small_index)
    assert session.reader.meta["model"] == {"district": {"towers": 2, "storeys": 6}}
    for t in sorted(live, reverse=True):  # backwards first
        result = session.seek(t)
        assert np.array_equal(result.device_state, live[t]["device_state"]), t
        shown = {name: p["state"] for name, p in session.retained.topics["alarm"].items() if p["state"] in STANDING}
        assert shown == live[t]["alarms"], t
        assert {k: v["cause"] for k, v in session.retained.topics["incident"].items()} == live[t]["incidents"]
    assert any(v["alarms"] for v in live.values())  # the check means something: alarms were standing


def test_playing_through_equals_seeking(recorded, small_index) -> None:
    path, live = recorded
    played = ReplaySession(RecordingReader(path), small_index)
    sought = ReplaySession(RecordingReader(path), small_index)
    for t in sorted(live):
        goal = min(t, played.end)
        while played.position < goal:  # uneven ticks, as a timer at varying speed gives
            result = played.advance(min(goal, played.position + 7.3))
        other = sought.seek(t)
        assert np.array_equal(result.device_state, other.device_state), t
        assert played.retained.topics == sought.retained.topics, t
        assert np.array_equal(played.engine.store.value, sought.engine.store.value, equal_nan=True)


def test_re_evaluate_runs_todays_rules_on_the_recording(recorded, small_index) -> None:
    path, live = recorded
    session = ReplaySession(RecordingReader(path), small_index, mode="re_evaluate")
    assert isinstance(session.port, LoopbackPort) and session.engine.rules
    session.advance(session.end)
    causes = {p["cause"] for p in session.retained.topics["incident"].values()}
    assert causes == set(live[max(live)]["incidents"].values()) == {"gas"}
    assert session.port.commands  # linked actions ran (fans on) and went nowhere
    again = ReplaySession(RecordingReader(path), small_index, mode="re_evaluate")
    again.seek(session.end)
    assert {p["cause"] for p in again.retained.topics["incident"].values()} == causes


def test_training_acts_on_the_engine_and_never_seeks_back(recorded, small_index) -> None:
    path, _ = recorded
    session = ReplaySession(RecordingReader(path), small_index, mode="training", trainee="trainee-7")
    assert session.engine.training and session.engine.database is None
    with pytest.raises(RuntimeError, match="no live publisher"):
        session.engine.port = NullPort.__new__(type("Live", (), {}))  # anything but a loopback is refused
    session.advance(session.start + 120.0)
    incident = next(iter(session.retained.topics["incident"].values()))
    answer = session.act("ack", {"incident_id": incident["id"]})
    assert answer["ok"], answer
    acked = session.retained.topics["incident"][incident["id"]]
    assert acked["ack_by"] == "trainee-7" and acked["ack_ts"] == pytest.approx(session.start + 120.0)
    session.seek(session.start)  # backwards: refused silently, the clock stays
    assert session.position == pytest.approx(session.start + 120.0)
    assert session.retained.topics["incident"][incident["id"]]["ack_by"] == "trainee-7"
    replay = ReplaySession(RecordingReader(path), small_index)
    with pytest.raises(InputError, match="only in training"):
        replay.act("ack", {"incident_id": incident["id"]})


def test_state_json_lists_states_alarms_and_orders(recorded, small_index) -> None:
    path, live = recorded
    session = ReplaySession(RecordingReader(path), small_index)
    session.seek(session.start + 150.0)
    state = session.state_json()
    assert sum(state["device_states"].values()) == small_index.n_devices
    assert state["device_states"]["alarm"] > 0 and state["offset_s"] == pytest.approx(150.0)
    assert {a["id"] for a in state["alarms"]} == set(live[T0 + 150.0]["alarms"])
    assert all("device_id" in a for a in state["alarms"])


def test_markers_name_alarms_commands_and_incidents(recorded, small_index) -> None:
    path, _ = recorded
    session = ReplaySession(RecordingReader(path), small_index)
    kinds = {m.kind for m in session.markers}
    assert {"alarm", "incident", "command"} <= kinds
    assert [m.ts for m in session.markers] == sorted(m.ts for m in session.markers)


def test_a_recording_of_another_registry_is_refused(recorded, small_index, tmp_path) -> None:
    from twin_app.core.devices import DeviceIndex

    path, _ = recorded
    other = DeviceIndex(small_index.devices.iloc[:-1].reset_index(drop=True), small_index.model)
    with pytest.raises(InputError, match="another device registry"):
        ReplaySession(RecordingReader(path), other)


def _replay_cli(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "twin_app", "replay", *args], capture_output=True, text=True,
                          timeout=timeout)


def test_replay_at_json_prints_the_state_at_that_instant(recorded, small_index, tmp_path) -> None:
    path, live = recorded
    run = _replay_cli(str(path), "--at", "150", "--json")
    assert run.returncode == 0, run.stderr
    state = json.loads(run.stdout)
    assert state["offset_s"] == pytest.approx(150.0)
    seen = live[T0 + 150.0]
    counts = np.bincount(seen["device_state"], minlength=6)
    assert state["device_states"]["alarm"] == counts[5] and state["device_states"]["normal"] == counts[1]
    assert {a["id"]: a["state"] for a in state["alarms"]} == seen["alarms"]
    assert {i["id"] for i in state["incidents"]} == set(seen["incidents"])
    # an engine's data folder works as well as its recordings folder; a unix time as well as an offset
    again = _replay_cli(str(path.parent), "--at", str(T0 + 150.0), "--json")
    assert again.returncode == 0 and json.loads(again.stdout)["alarms"] == state["alarms"]


def test_replay_bad_input_is_one_line_and_exit_2(recorded, tmp_path) -> None:
    path, _ = recorded
    (tmp_path / "text.mcap").write_text("minutes of the morning meeting")
    for args, said in (((str(path), "--at", "99999", "--json"), "outside the recording"),
                       ((str(path), "--at", "soon", "--json"), "ISO 8601"),
                       ((str(path), "--json"), "needs --at"),
                       ((str(tmp_path / "none.mcap"), "--at", "1", "--json"), "no such recording"),
                       ((str(tmp_path / "text.mcap"), "--at", "1", "--json"), "not an MCAP recording")):
        run = _replay_cli(*args, timeout=120)
        assert run.returncode == 2, (args, run.stderr)
        assert said in run.stderr and "Traceback" not in run.stderr and len(run.stderr.strip().splitlines()) == 1


def test_a_truncated_recording_replays_what_is_readable(recorded, small_index, tmp_path) -> None:
    path, _ = recorded
    assert len(list(path.glob("*.mcap"))) == 1  # one hour of the recording's clock: one file
    source = sorted(path.glob("*.mcap"))[0]
    cut = tmp_path / "cut.mcap"
    cut.write_bytes(source.read_bytes()[: int(source.stat().st_size * 0.6)])
    reader = RecordingReader(cut)
    assert reader.damaged and "cut.mcap" in str(reader.damaged[0])
    session = ReplaySession(reader, small_index)
    result = session.seek(session.end)
    assert session.end < T0 + 199.0 and result.device_state.sum() > 0
    run = _replay_cli(str(cut), "--at", "5", "--json")
    assert run.returncode == 0, run.stderr
    state = json.loads(run.stdout)
    assert state["damaged"] and "cut.mcap" in state["damaged"][0]
