"""What ingest refuses once logins are on: retained actions, other gateways' devices; what it records of events."""

from __future__ import annotations

import json

from twin_app.core.inbox import Inbox
from twin_app.telemetry.ingest import Ingest

ROOT = "mumianling/v1"


def test_a_retained_action_is_refused_and_a_live_one_carries_its_account(small_index) -> None:
    inbox = Inbox()
    ingest = Ingest(small_index, inbox)
    body = json.dumps({"request": "r1", "incident_id": "I-1"}).encode()
    ingest.handle(f"{ROOT}/action/override/sv-wu", body, retained=True)
    ingest.handle(f"{ROOT}/action/ack/op-li", body)
    drained = inbox.drain()
    assert [(a.verb, a.user) for a in drained.actions] == [("ack", "op-li")]
    assert ingest.errors == {"retained_action": 1}


def test_with_logins_a_gateway_batch_keeps_only_its_own_devices(small_index) -> None:
    devices = small_index.devices
    mine = devices[devices["gateway"] == devices["gateway"].iloc[0]]
    other = devices[devices["gateway"] != devices["gateway"].iloc[0]].iloc[:3]
    gateway = str(mine["gateway"].iloc[0])
    ids = list(mine["device_id"].iloc[:4]) + list(other["device_id"])
    payload = json.dumps({"ts": 1_800_000_000.0, "ids": ids, "values": [1.0] * len(ids)}).encode()
    for strict, kept in ((False, 7), (True, 4)):
        inbox = Inbox()
        ingest = Ingest(small_index, inbox)
        ingest.strict = strict
        ingest.handle(f"{ROOT}/telemetry/{gateway}", payload, now=1_800_000_000.0)
        assert len(inbox.drain().rows) == kept
        assert ("foreign_device" in ingest.errors) is strict


def test_an_event_records_the_account_that_sent_it(small_index) -> None:
    inbox = Inbox()
    ingest = Ingest(small_index, inbox)
    event = {"id": "ev-1", "ts": 1_800_000_000.0, "type": "fall_detected", "device_id": "T01-1F-LOB-camera-1"}
    ingest.handle(f"{ROOT}/event/cam-lobby-1", json.dumps(event).encode(), now=1_800_000_000.0)
    (received,) = inbox.drain().events
    assert received["source"] == "cam-lobby-1"
