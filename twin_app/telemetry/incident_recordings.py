"""Four historic incidents recorded from the simulator into the MCAP recordings shipped in ``assets/recordings``.

Each recording is made the way a live engine records: the simulated gateways' MQTT payloads go through `Ingest`
into the inbox, the `Recorder` takes in what the engine is about to apply, and the engine publishes through a
`RecordingPort` (``/output``). A scripted historic operator response arrives as MQTT actions on
``action/{verb}/{user}`` at realistic delays after the incident opened; the engine's linked commands (``cmd/...``)
are fed back to the simulator so that the fans really run and the elevators really go to their recall floor.

Everything is deterministic: a fixed start time per recording, a simulated clock stepped every second, a fixed
simulator seed and, while recording, ids (commands, camera events) drawn from a seeded generator instead of
`uuid.uuid4`. Two runs give the same messages (compare messages, not bytes: another version of the MCAP library
may lay the same messages out differently).

The recordings are made on a small generated district variant (`DISTRICT`, named in each file's ``/meta``) so
that each file stays under 3 MB. The layer contract keeps `twin_app.bim` (IFC) out of `twin_app.telemetry`: the
caller loads the variant and passes its `DeviceIndex` (`main`'s `load`, `record_incident`'s `index`).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from twin_app.core.devices import DeviceIndex
from twin_app.core.engine import Engine
from twin_app.core.inbox import Inbox
from twin_app.telemetry.ingest import DEFAULT_ROOT, Ingest
from twin_app.telemetry.recording import SUFFIX, Recorder, RecordingPort
from twin_app.telemetry.runtime import Runtime
from twin_app.telemetry.simulator import Simulator

START = datetime(2026, 11, 20, 9, 0, 0, tzinfo=UTC).timestamp()  # the first recording's clock
TICK_S = 1.0  # the engine steps every simulated second
REPORT_TICKS = 10  # each gateway reports every 10 s, staggered (the simulator's default rate of 0.1/s)
LEAD_S = 60.0  # normal telemetry before the incident starts
TAIL_S = 60.0  # recorded after the incident is closed
MAX_S = 1200.0  # a recording whose incident is not closed by then is an error
MAX_BYTES = 3_000_000  # each file lives in git
SIM_SEED = 20261120
KEYFRAME_S = 120.0  # the full state every 2 min (for seeking; refreshes keep every device current)
OPERATOR, SUPERVISOR = "op-chen", "sup-wang"
CONSOLE, FIELD_APP = "cc-console-2", "field-app"


@dataclass(frozen=True)
class District:
    """A generated district variant: what the recording's ``/meta`` names so that a replay opens the same one."""

    towers: int = 6
    seed: int = 20261124
    storeys: int | None = 8

    def meta(self) -> dict:
        """The recording's ``model`` meta."""
        return {"district": {"towers": self.towers, "seed": self.seed, "storeys": self.storeys}}


DISTRICT = District()


@dataclass(frozen=True)
class Step:
    """One historic action, `at_s` seconds after the incident opened.

    `target` says what the console filled in: ``incident`` (its id), ``order`` (its latest order),
    ``recalled`` (one action per elevator the incident recalled). A ``dispatch`` naming no units sends the
    engine's proposal, as the console's Dispatch button does.
    """

    at_s: float
    verb: str
    body: dict = field(default_factory=dict)
    target: str = "incident"
    user: str = OPERATOR
    console: str = CONSOLE


@dataclass(frozen=True)
class Script:
    """A historic incident: the simulator scenario, where, when, what it is, and the operator's response."""

    name: str
    scenario: str
    tower: str
    offset_s: float  # after `START`
    cause: str  # the incident the scenario must open (its response is tied to it)
    steps: tuple[Step, ...]
    over_at_s: float | None = None  # the scenario ends (the fire is out), seconds after the incident opened
    summary: str = ""  # one line for the command's output


SCRIPTS: dict[str, Script] = {s.name: s for s in (
    Script(
        "garage_co", "garage_co", "T02", 0.0, "gas",
        (Step(45, "ack"),
         Step(52, "comment", {"text": "Exhaust fans of zone B1-A running, CO falling; sending the property duty "
                                      "team to find the source"}),
         Step(95, "dispatch"),
         Step(130, "unit_status", {"status": "en_route"}, "order", "PM-1", FIELD_APP),
         Step(290, "unit_status", {"status": "on_scene"}, "order", "PM-1", FIELD_APP),
         Step(450, "unit_status", {"status": "done", "result": (
             "A delivery van left idling by the ramp of zone B1-A for about 20 min; driver found and engine "
             "turned off. CO back to 6 ppm; fans left running 10 min")}, "order", "PM-1", FIELD_APP),
         Step(500, "close")),
        summary="CO build-up in garage zone T02 B1-A; the zone's exhaust fans clear it; the property duty team "
                "finds an idling van"),
    Script(
        "septic_h2s", "septic_h2s", "T04", 3600.0, "gas",
        (Step(38, "ack"),
         Step(80, "dispatch"),
         Step(88, "comment", {"text": "Septic tank room {tower} B2 closed to residents; fan and disinfection running"}),
         Step(110, "unit_status", {"status": "en_route"}, "order", "MT-3", FIELD_APP),
         Step(300, "unit_status", {"status": "on_scene"}, "order", "MT-3", FIELD_APP),
         Step(480, "unit_status", {"status": "done", "result": (
             "Septic tank outlet of {tower} B2 blocked and the tank gassing; blockage cleared, room ventilated and "
             "disinfected, H2S below 1 ppm. Entered with gas detectors and breathing apparatus")},
              "order", "MT-3", FIELD_APP),
         Step(525, "close")),
        summary="H2S and CH4 rising in the septic tank room T04 B2; fan and disinfection switched on; the "
                "drainage crew clears a blocked outlet"),
    Script(
        "smoke_tower", "smoke_tower", "T03", 7200.0, "fire",
        (Step(32, "ack"),
         Step(45, "comment", {"text": "Fire brigade dispatched by the system; lifts recalled; evacuation of 4F-8F "
                                      "announced over the PA"}),
         Step(70, "unit_status", {"status": "en_route"}, "order", "FB-1", FIELD_APP),
         Step(185, "unit_status", {"status": "on_scene"}, "order", "FB-1", FIELD_APP),
         Step(275, "unit_status", {"status": "done", "result": (
             "Kitchen fire in flat 4F-01 (a pan left on the stove) put out with a hose reel; smoke vented through "
             "the stair windows; nobody hurt, residents of 4F-8F back in their flats")}, "order", "FB-1", FIELD_APP),
         Step(312, "override", {"action": "on", "reason": "fire out, the brigade released the lifts"}, "recalled",
              SUPERVISOR),
         Step(330, "close")),
        over_at_s=250.0,
        summary="Smoke spreading up tower T03 from 4F; the lifts are recalled and the fire brigade dispatched by "
                "the system; the brigade puts out a kitchen fire"),
    Script(
        "object_thrown", "object_thrown", "T06", 10800.0, "object_thrown_from_height",
        (Step(40, "ack"),
         Step(58, "comment", {"text": "Snapshot checked: object fell along the facade by the entrance; property "
                                      "duty team sent to find the flat, police on standby"}),
         Step(90, "dispatch", {"units": ["PM-1"]}),
         Step(110, "unit_status", {"status": "en_route"}, "order", "PM-1", FIELD_APP),
         Step(240, "unit_status", {"status": "on_scene"}, "order", "PM-1", FIELD_APP),
         Step(420, "unit_status", {"status": "done", "result": (
             "A flower pot fell from a 6F balcony onto the lawn by the entrance; nobody hurt. Owner found and "
             "warned, debris cleared, the other pots moved indoors")}, "order", "PM-1", FIELD_APP),
         Step(460, "close")),
        summary="An AI camera sees an object thrown from height at T06; the operator sends the property duty team "
                "(the matrix proposes the police)"),
)}
NAMES = tuple(SCRIPTS)


@contextmanager
def fixed_ids(seed: int) -> Iterator[None]:
    """`uuid.uuid4` draws from a seeded generator meanwhile, so that command and event ids repeat run after run.

    The engine and the simulator draw their ids from `uuid.uuid4`; the recording runs on this one thread.
    """
    rng = random.Random(seed)
    original = uuid.uuid4

    def draw() -> uuid.UUID:
        return uuid.UUID(int=rng.getrandbits(128), version=4)

    uuid.uuid4 = draw
    try:
        yield
    finally:
        uuid.uuid4 = original


class Desk:
    """The historic operator's console (what the engine publishes) and the equipment obeying its commands.

    Parameters
    ----------
    sim
        The simulator whose actuators obey ``cmd/{device_id}``.
    clock
        The simulated clock (unix seconds), a one-element list shared with the loop.
    """

    def __init__(self, sim: Simulator, clock: list[float]) -> None:
        self.sim = sim
        self.clock = clock
        self.incidents: dict[str, dict] = {}  # incident id -> its latest payload
        self.opened: dict[str, float] = {}  # incident id -> when it was first published
        self.answers: dict[str, dict] = {}  # request id -> the engine's answer
        self._row = {d: i for i, d in enumerate(sim.devices["device_id"].astype(str))}
        self.sent = 0

    def publish(self, topic: str, payload: dict | None, retain: bool = False) -> object:
        channel, _, name = topic.partition("/")
        if channel == "incident" and payload is not None:
            self.incidents[name] = payload
            self.opened.setdefault(name, self.clock[0])
        elif channel == "action_result" and payload is not None and payload.get("request"):
            self.answers[str(payload["request"])] = payload
        elif channel == "cmd" and payload is not None and self.sim.command(name, str(payload.get("action"))):
            self.sim.override_ts[self._row[name]] = self.clock[0]  # the simulated clock, not the wall clock
        self.sent += 1
        return self.sent

    def delivered(self, token: object) -> bool:
        return True

    def settle(self, token: object) -> None:
        return None


def _bodies(step: Step, desk: Desk, incident_id: str, tower: str) -> list[dict]:
    """The action bodies of a step, filled in from what the console shows (``{tower}`` in texts: its tower)."""
    incident = desk.incidents[incident_id]
    body = {k: v.format(tower=tower) if isinstance(v, str) else v for k, v in step.body.items()}
    if step.target == "order":
        return [{**body, "order_id": incident["orders"][-1]}]
    if step.target == "recalled":
        devices = [c["device_id"] for c in incident["commands"] if c["action"] == "recall"]
        return [{**body, "device_id": d} for d in dict.fromkeys(devices)]
    return [{**body, "incident_id": incident_id}]


def record_incident(name: str, out: Path, index: DeviceIndex, district: District = DISTRICT,
                    tower: str | None = None, until_s: float | None = None) -> Path:
    """Record one historic incident into ``{out}/{name}.mcap`` (replaced when there).

    Parameters
    ----------
    name
        A key of `SCRIPTS`.
    out
        The folder the recording goes to (created when missing).
    index
        The registry of the generated district variant `district` joined to its model.
    district
        The variant `index` belongs to (named in the recording's meta, so that a replay opens the same one).
    tower
        Another tower than the script's (a small variant has fewer towers).
    until_s
        Stop this many seconds after the recording's start, whatever the response reached (a short test
        recording); None: run until the incident is closed, then `TAIL_S` more.

    Returns
    -------
    Path
        The recording.

    Raises
    ------
    ValueError
        An unknown name.
    RuntimeError
        A scripted action the engine refused, or an incident that did not open or close in time.
    """
    if name not in SCRIPTS:
        raise ValueError(f"unknown recording {name!r}; known: {', '.join(NAMES)}")
    script = SCRIPTS[name]
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    tower = tower or script.tower
    t0 = START + script.offset_s
    with fixed_ids(SIM_SEED + NAMES.index(name)), tempfile.TemporaryDirectory(dir=out) as work:
        clock = [t0]
        sim = Simulator(index.devices, seed=SIM_SEED)
        desk = Desk(sim, clock)
        recorder = Recorder(Path(work), index, keyframe_s=KEYFRAME_S, hour_files=False, model=district.meta())
        inbox = Inbox()
        ingest = Ingest(index, inbox)
        engine = Engine(index, port=RecordingPort(desk, recorder, clock=lambda: clock[0]), console="engine")
        runtime = Runtime(engine, inbox, ingest, None, recorder=recorder)
        try:
            _run(script, tower, sim, desk, ingest, runtime, clock, t0, until_s)
        finally:
            runtime.stop()
        errors = runtime.errors()
        if errors:
            raise RuntimeError(f"{name}: input dropped while recording: {errors}")
        target = out / f"{name}{SUFFIX}"
        os.replace(recorder.files[0], target)
    return target


def _run(script: Script, tower: str, sim: Simulator, desk: Desk, ingest: Ingest, runtime: Runtime,
         clock: list[float], t0: float, until_s: float | None) -> None:
    """Step the simulated clock: telemetry, events, the scenario and the historic response."""
    root = DEFAULT_ROOT
    for gateway in sim.gateway_names:  # the gateways' retained online status, as at a connect
        ingest.handle(f"{root}/status/{gateway}", b"online", t0)
    incident_id: str | None = None
    opened, done_steps = 0.0, 0
    injected = None  # the simulator's incident of the scenario (an event scenario has none)
    end = t0 + (until_s if until_s is not None else MAX_S)
    closed_at: float | None = None
    tick = 0
    while True:
        now = t0 + tick * TICK_S
        if now > end or (closed_at is not None and until_s is None and now > closed_at + TAIL_S):
            break
        clock[0] = now
        if tick == int(LEAD_S / TICK_S):
            sim.start_scenario(script.scenario, now, tower)
            injected = sim.incidents[-1] if sim.incidents else None
        for source, payload in sim.pop_events(now):
            ingest.handle(f"{root}/event/{source}", json.dumps(payload).encode(), now)
        due = np.flatnonzero((np.arange(len(sim.gateway_names)) + tick) % REPORT_TICKS == 0)
        for gateway, payload in sim.payloads(now, due):
            ingest.handle(f"{root}/telemetry/{gateway}", payload, now)
        if incident_id is not None:
            since = now - opened
            if script.over_at_s is not None and injected is not None and since >= script.over_at_s:
                sim.incidents.remove(injected)  # the scenario ends: the fire is out, the smoke clears
                injected = None
            while done_steps < len(script.steps) and since >= script.steps[done_steps].at_s:
                _act(script, done_steps, desk, ingest, incident_id, tower, now)
                done_steps += 1
        runtime.step(now)
        _check_answers(script, desk)
        if incident_id is None:
            incident_id = _opened(script, tower, desk, t0 + LEAD_S)
            if incident_id is not None:
                opened = desk.opened[incident_id]
        elif closed_at is None and desk.incidents[incident_id].get("state") == "closed":
            closed_at = now
        tick += 1
    if until_s is None and closed_at is None:
        state = desk.incidents[incident_id].get("state") if incident_id else "never opened"
        raise RuntimeError(f"{script.name}: the incident is not closed after {MAX_S:.0f} s ({state})")


def _opened(script: Script, tower: str, desk: Desk, after: float) -> str | None:
    """The scenario's incident once the engine published it: of its cause, in its tower, opened after `after`."""
    for incident_id, payload in desk.incidents.items():
        if payload.get("cause") == script.cause and payload.get("building") == tower and \
                desk.opened[incident_id] >= after:
            return incident_id
    return None


def _act(script: Script, k: int, desk: Desk, ingest: Ingest, incident_id: str, tower: str, now: float) -> None:
    """Publish step `k`'s actions on ``action/{verb}/{user}`` as the console (or the unit's app) does."""
    step = script.steps[k]
    for n, body in enumerate(_bodies(step, desk, incident_id, tower)):
        request = f"{script.name}-{k + 1:02d}{'abcdefghij'[n] if n else ''}-{step.verb}"
        payload = {**body, "operator": step.user, "console": step.console, "request": request}
        ingest.handle(f"{DEFAULT_ROOT}/action/{step.verb}/{step.user}", json.dumps(payload).encode(), now)


def _check_answers(script: Script, desk: Desk) -> None:
    """A scripted action the engine refused stops the recording (the script no longer fits the engine)."""
    refused = [a for request, a in desk.answers.items() if request.startswith(script.name) and not a.get("ok")]
    if refused:
        raise RuntimeError(f"{script.name}: the engine refused a scripted action: {refused[0]}")


def main(argv: list[str] | None = None, load: Callable[[District], DeviceIndex] | None = None,
         prog: str = "python -m twin_app.telemetry.incident_recordings") -> int:
    """Write the recordings into OUT_DIR (all four, or the one named by ``--only``).

    Parameters
    ----------
    argv
        ``OUT_DIR [--only NAME]`` (the command line when None).
    load
        Gives the `DeviceIndex` of a generated district variant (``ensure_district`` + ``load_model``). It comes
        from an upper layer: telemetry may not import `twin_app.bim`. Without it the command says so and fails.
    prog
        The command's name in its help.
    """
    parser = argparse.ArgumentParser(prog=prog, description="Record the historic incidents shipped in "
                                                            "assets/recordings (deterministic).")
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--only", choices=NAMES, help="record this incident only")
    args = parser.parse_args(argv)
    if load is None:
        print(f"{prog}: error: the district loader is missing (twin_app.telemetry may not import twin_app.bim): "
              "call main(argv, load=...) from the command line layer (see assets/recordings/README.md)",
              file=sys.stderr)
        return 2
    index = load(DISTRICT)
    for name in [args.only] if args.only else NAMES:
        path = record_incident(name, args.out_dir, index)
        size = path.stat().st_size
        over = " (over the 3 MB a file in git should hold)" if size > MAX_BYTES else ""
        print(f"{path}: {size / 1e6:.2f} MB{over} — {SCRIPTS[name].summary}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
