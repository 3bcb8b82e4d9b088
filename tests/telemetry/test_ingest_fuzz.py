"""Malformed payloads of every kind are counted and dropped while good data keeps flowing (hypothesis)."""

from __future__ import annotations

import json
import math

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from twin_app.core.inbox import Inbox
from twin_app.telemetry.ingest import Ingest

ROOT = "mumianling/v1"
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=8),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4),
    max_leaves=12,
)
topics = st.sampled_from(["telemetry/T01-3F", "point/{id}", "status/T01-3F", "event/cam", "nonsense", "telemetry",
                          "telemetry/a/b", "alarm/x"])


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(topic=topics, body=st.one_of(json_values.map(lambda v: json.dumps(v, allow_nan=True).encode()),
                                    st.binary(max_size=64)))
def test_any_payload_is_handled_without_raising(small_index, topic: str, body: bytes) -> None:
    ingest = Ingest(small_index, Inbox())
    device_id = str(small_index.devices["device_id"].iat[0])
    ingest.handle(f"{ROOT}/{topic.format(id=device_id)}", body, now=1_700_000_000.0)
    drained = ingest.inbox.drain()
    assert len(drained.rows) == len(drained.values) == len(drained.ts)
    assert np.isfinite(drained.values).all()
    assert (drained.rows >= 0).all() and (drained.rows < small_index.n_devices).all()


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(values=st.lists(st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-10**6, 10**6),
                                 st.text(max_size=3), st.none()), min_size=1, max_size=30),
       unknown=st.lists(st.text(min_size=1, max_size=10), max_size=5))
def test_a_batch_keeps_its_good_readings(small_index, values, unknown) -> None:
    ids = list(small_index.devices["device_id"].iloc[:len(values)].astype(str))
    ingest = Ingest(small_index, Inbox())
    payload = {"ts": 1_700_000_000.0, "ids": ids + [f"?{u}" for u in unknown],
               "values": values + [1.0] * len(unknown)}
    ingest.handle(f"{ROOT}/telemetry/T01-3F", json.dumps(payload, allow_nan=True).encode(), now=1.0)
    drained = ingest.inbox.drain()
    good = [i for i, v in enumerate(values)
            if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)]
    assert sorted(drained.rows.tolist()) == sorted(small_index.rows_of_ids([ids[i] for i in good]).tolist())
    dropped = len(values) - len(good) + len(unknown)
    assert ingest.dropped_readings == dropped or (dropped and ingest.error_count() >= 1)


def test_mixed_stream_counts_each_kind_and_applies_the_rest(small_index) -> None:
    ingest = Ingest(small_index, Inbox())
    ids = list(small_index.devices["device_id"].iloc[:3].astype(str))
    messages = [
        ("telemetry/T01-3F", b"\xff\xfe not utf8"),
        ("telemetry/T01-3F", json.dumps({"ts": 5, "ids": ids, "values": [1, 2]}).encode()),
        ("telemetry/T01-3F", json.dumps({"ts": 5, "ids": ids, "values": [1.0, 2.0, 3.0]}).encode()),
        ("point/" + ids[0], b"true"),
        ("point/" + ids[0], b"Infinity"),
        ("nothing/here/at/all", b"1"),
        ("status/T01-3F", b'"offline"'),
    ]
    for topic, body in messages:
        ingest.handle(f"{ROOT}/{topic}", body, now=10.0)
    ingest.handle("other/root/telemetry/x", b"{}")
    drained = ingest.inbox.drain()
    assert drained.rows.tolist() == small_index.rows_of_ids(ids).tolist()
    assert drained.status == [("T01-3F", False)]
    assert ingest.errors["bad_json"] == 1 and ingest.errors["length_mismatch"] == 1
    assert ingest.errors["bad_values"] == 1 and ingest.errors["non_finite"] >= 1
    assert ingest.errors["unknown_topic"] == 2


def test_control_channels_share_the_payload_checks(small_index) -> None:
    from twin_app.telemetry.payloads import MAX_PAYLOAD_BYTES

    ingest = Ingest(small_index, Inbox())
    huge = b'{"operator": "op", "pad": "' + b"x" * MAX_PAYLOAD_BYTES + b'"}'
    ingest.handle(f"{ROOT}/action/ack", huge)
    ingest.handle(f"{ROOT}/alarm/A1", huge)
    ingest.handle(f"{ROOT}/kpi/summary", b"[1, 2]")
    ingest.handle(f"{ROOT}/action_result/wall", b"{broken")
    ingest.handle(f"{ROOT}/action/ack", b'"just a string"')
    ingest.handle(f"{ROOT}/alarm/A2", b"")  # an empty retained payload: the alarm was removed
    ingest.handle(f"{ROOT}/kpi/summary", b'{"mtta_s": 4.0}')
    drained = ingest.inbox.drain()
    assert ingest.errors == {"too_large": 2, "bad_shape": 1, "bad_json": 1, "bad_action": 1}
    assert drained.alarms == [("A2", None)] and drained.kpis == {"mtta_s": 4.0}
