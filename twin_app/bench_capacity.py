"""Benchmark figure ``ingest_capacity_per_s``: the highest offered load the engine's ingest holds for 20 s with
nothing lost and a p99 latency under 1 s, beside a per-reading Python loop consuming the same stream.

The stream: every device of the registry in its gateway's batched ``telemetry/{gateway}`` message (the simulator's
payloads, encoded once before the run), published through a real mosquitto on a free loopback port by several
publisher processes (``python -m twin_app.bench_capacity publish``), each stamping the publish time on its messages.
The offered load steps up (a short probe per step) until a step loses readings, passes 1 s at p99 or the publishers
cannot offer it; the highest probe that passed is then held for `hold_s` (half a step lower when the hold fails). The
baseline consumer reads the same messages from the same publishers, through the same ladder.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

CAPACITY_FIGURES = ("ingest_capacity_per_s",)
P99_LIMIT_MS = 1000.0
LADDER_FACTOR = 1.5
PRE_ENCODED_SWEEPS = 4  # distinct value sets, cycled
HOLD_TRIES = 3  # holds tried, from the best probe down
OFFERED_SHORTFALL = 0.95  # a step whose publishers offered less than this share of its target is not a valid step


# -- publisher process ---------------------------------------------------------------------------------------------
def _publisher_main(argv: list[str]) -> int:
    """One publisher: pre-encodes its share of the gateways, then publishes at the rates it is told on stdin."""
    import paho.mqtt.client as mqtt

    from twin_app.core.registry import read_registry
    from twin_app.telemetry.mqtt import parse_broker_url
    from twin_app.telemetry.simulator import Simulator

    parser = argparse.ArgumentParser(prog="python -m twin_app.bench_capacity publish")
    parser.add_argument("--broker", required=True)
    parser.add_argument("--registry", required=True)
    parser.add_argument("--part", type=int, default=0)
    parser.add_argument("--parts", type=int, default=1)
    args = parser.parse_args(argv)
    url = parse_broker_url(args.broker)
    devices = read_registry(args.registry)
    sim = Simulator(devices)
    chosen = np.arange(args.part, len(sim.gateway_names), args.parts)
    sweeps: list[list[tuple[str, bytes, int]]] = []
    base = time.time()
    for k in range(PRE_ENCODED_SWEEPS):
        sweep = []
        for gateway, payload in sim.payloads(base + 60.0 * k, chosen):
            rest = payload[payload.index(b","):]  # everything after the time stamp
            count = len(sim.gateway_rows[sim.gateway_names.index(gateway)])
            sweep.append((f"{url.root}/telemetry/{gateway}", rest, count))
        sweeps.append(sweep)
    per_sweep = sum(c for _, _, c in sweeps[0])
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"bench-capacity-pub-{os.getpid()}")
    client.max_queued_messages_set(0)
    client.connect(url.host, url.port, keepalive=3600)
    while not client.is_connected():
        client.loop(timeout=0.05)
    print(json.dumps({"ready": True, "readings_per_sweep": per_sweep, "messages_per_sweep": len(sweeps[0])}),
          flush=True)
    flat = [m for sweep in sweeps for m in sweep]
    cursor = 0  # the stream goes on from step to step
    for line in sys.stdin:
        order = json.loads(line)
        if order.get("quit"):
            break
        rate, seconds = float(order["sweeps_per_s"]), float(order["seconds"])
        msg_rate = rate * len(sweeps[0])
        total = max(1, round(msg_rate * seconds))
        sent = readings = 0
        cpu = time.process_time()
        started = time.monotonic()
        while sent < total:
            due = min(total, int((time.monotonic() - started) * msg_rate) + 1)
            if sent >= due:
                client.loop_write()
                time.sleep(0.0005)
                continue
            while sent < due:
                topic, rest, count = flat[cursor]
                cursor = (cursor + 1) % len(flat)
                client.publish(topic, b'{"ts":%.3f' % time.time() + rest, qos=0)
                sent += 1
                readings += count
            client.loop_write()
        while client.want_write():
            client.loop_write()
        took = time.monotonic() - started
        client.loop(timeout=0.0)  # keep the connection serviced between steps
        print(json.dumps({"readings": readings, "messages": sent, "target_messages": total, "seconds": took,
                          "cpu_s": time.process_time() - cpu}), flush=True)
    client.disconnect()
    return 0


class _Publishers:
    """Several publisher processes sharing the gateways between them."""

    def __init__(self, url_text: str, registry: Path, parts: int) -> None:
        self.procs = [subprocess.Popen([sys.executable, "-m", "twin_app.bench_capacity", "publish", "--broker",
                                        url_text, "--registry", str(registry), "--part", str(k), "--parts",
                                        str(parts)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
                      for k in range(parts)]
        ready = [json.loads(self._line(p)) for p in self.procs]
        self.readings_per_sweep = sum(r["readings_per_sweep"] for r in ready)
        self.messages_per_sweep = sum(r["messages_per_sweep"] for r in ready)

    @staticmethod
    def _line(proc: subprocess.Popen) -> str:
        line = proc.stdout.readline()
        if not line:
            raise RuntimeError(f"a capacity publisher stopped (exit status {proc.poll()})")
        return line

    def start(self, sweeps_per_s: float, seconds: float) -> None:
        for proc in self.procs:
            proc.stdin.write(json.dumps({"sweeps_per_s": sweeps_per_s, "seconds": seconds}) + "\n")
            proc.stdin.flush()

    def finish(self) -> dict:
        reports = [json.loads(self._line(p)) for p in self.procs]
        return {"readings": sum(r["readings"] for r in reports), "messages": sum(r["messages"] for r in reports),
                "target_messages": sum(r["target_messages"] for r in reports),
                "seconds": max(r["seconds"] for r in reports), "cpu_s": sum(r["cpu_s"] for r in reports)}

    def close(self) -> None:
        for proc in self.procs:
            try:
                proc.stdin.write(json.dumps({"quit": True}) + "\n")
                proc.stdin.close()
                proc.wait(timeout=10)
            except (OSError, subprocess.TimeoutExpired):
                proc.kill()
                proc.wait()


# -- consumers -----------------------------------------------------------------------------------------------------
@dataclass
class StepOutcome:
    """One step of the ladder."""

    target_per_s: float
    offered_per_s: float
    published: int
    received: int
    p99_ms: float
    seconds: float
    hold: bool = False
    messages_per_s: float = 0.0
    target_messages_per_s: float = 0.0
    cpu: dict = field(default_factory=dict)  # cores used (CPU seconds per second) by publishers, broker, consumer

    @property
    def lost(self) -> int:
        return self.published - self.received

    def passed(self) -> bool:
        return self.lost == 0 and self.p99_ms <= P99_LIMIT_MS and not self.publisher_limited()

    def publisher_limited(self) -> bool:
        """The publishers could not offer the step's message rate (the step says nothing of the consumer)."""
        return self.messages_per_s < OFFERED_SHORTFALL * self.target_messages_per_s

    def as_dict(self) -> dict:
        return {"target_per_s": round(self.target_per_s), "offered_per_s": round(self.offered_per_s),
                "published": self.published, "received": self.received, "p99_ms": round(self.p99_ms, 1),
                "seconds": round(self.seconds, 1), "hold": self.hold, "passed": self.passed(),
                "cores_used": self.cpu}


class _Ours:
    """The app's ingest: MQTT link, decoder, inbox and engine step (state store, states, roll-up), then the
    element colours gathered from the roll-up, stepped on this thread every 50 ms as the console and serve do."""

    name = "ours"

    def __init__(self, index, url) -> None:
        from twin_app.telemetry.runtime import build_runtime

        self.runtime = build_runtime(index, url, rules=False, record=False)
        self.palette = np.array([[160, 160, 160], [60, 200, 90], [250, 200, 40], [230, 50, 40], [90, 90, 90],
                                 [120, 120, 255], [200, 200, 200], [255, 255, 255]], dtype=np.uint8)
        self.received = 0
        self.latencies: list[np.ndarray] = []

    def start(self) -> None:
        self.runtime.start()
        deadline = time.monotonic() + 10
        while self.runtime.link.state != "connected" and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.3)  # the subscription is in place

    def pump(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        while True:
            t0 = time.monotonic()
            result = self.runtime.step()
            if result.readings:
                self.palette[np.minimum(result.rolled_state, len(self.palette) - 1)]  # the colours drawn
                self.received += result.readings
                self.latencies.append(time.time() * 1000.0 - result.sent_ts * 1000.0)
            if t0 >= end:
                return
            time.sleep(max(0.0, 0.05 - (time.monotonic() - t0)))

    def reset(self) -> None:
        self.received = 0
        self.latencies = []

    def stop(self) -> None:
        self.runtime.stop()


class _Naive:
    """The same messages, consumed by a per-reading Python loop in the MQTT callback: decode the message, then for
    each reading look up its row, store value and time stamp, compare with its limits, colour its host element."""

    name = "baseline"

    def __init__(self, index, port: int) -> None:
        import paho.mqtt.client as mqtt

        devices = index.devices
        self.rows = {d: i for i, d in enumerate(devices["device_id"].astype(str))}
        self.alarm_low, self.warn_low, self.warn_high, self.alarm_high = (
            devices[c].astype(float).fillna(math.nan).tolist() for c in ("alarm_low", "warn_low", "warn_high",
                                                                         "alarm_high"))
        self.host = [int(h) for h in index.host_element]  # -1 (no host): the last entry, never drawn
        n = len(devices)
        self.value = [math.nan] * n
        self.stamp = [0.0] * n
        self.state = [0] * n
        self.colour: list[tuple[int, int, int]] = [(160, 160, 160)] * (index.model.n_elements + 1)
        self.palette = [(160, 160, 160), (60, 200, 90), (250, 200, 40), (230, 50, 40)]
        self.received = 0
        self.latencies: list[float] = []
        self._lock = threading.Lock()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"bench-capacity-naive-{os.getpid()}")
        self.client.on_message = self._on_message
        self.port = port

    def _on_message(self, _client, _userdata, message) -> None:
        data = json.loads(message.payload)
        ts = data["ts"]
        rows, value, stamp, state, colour, host, palette = (self.rows, self.value, self.stamp, self.state,
                                                             self.colour, self.host, self.palette)
        alo, wlo, whi, ahi = self.alarm_low, self.warn_low, self.warn_high, self.alarm_high
        count = 0
        for device_id, v in zip(data["ids"], data["values"], strict=True):
            row = rows.get(device_id)
            if row is None:
                continue
            value[row] = v
            stamp[row] = ts
            if v >= ahi[row] or v <= alo[row]:
                s = 3
            elif v >= whi[row] or v <= wlo[row]:
                s = 2
            else:
                s = 1
            state[row] = s
            colour[host[row]] = palette[s]
            count += 1
        latency = time.time() * 1000.0 - ts * 1000.0
        with self._lock:
            self.received += count
            self.latencies.append(latency)

    def start(self) -> None:
        self.client.connect("127.0.0.1", self.port, keepalive=600)
        self.client.subscribe("mumianling/v1/telemetry/+")
        self.client.loop_start()
        time.sleep(0.5)

    def pump(self, seconds: float) -> None:
        time.sleep(seconds)

    def reset(self) -> None:
        with self._lock:
            self.received = 0
            self.latencies = []

    def stop(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


def _p99(latencies: list) -> float:
    if not latencies:
        return 0.0
    arr = np.concatenate([np.atleast_1d(np.asarray(x, dtype=np.float64)) for x in latencies])
    return float(np.percentile(arr, 99)) if arr.size else 0.0


def _cpu_s(pid: int) -> float:
    """CPU seconds (user + system) a process has used so far, from /proc (0 where there is none)."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def _quiesce(consumer, quiet_s: float = 1.0, limit_s: float = 60.0) -> None:
    """Let the consumer take in what is still coming until nothing arrives for `quiet_s`."""
    deadline = time.monotonic() + limit_s
    last, still = consumer.received, time.monotonic()
    while time.monotonic() < deadline:
        consumer.pump(0.1)
        if consumer.received != last:
            last, still = consumer.received, time.monotonic()
        elif time.monotonic() - still >= quiet_s:
            return


def _run_step(consumer, publishers: _Publishers, target_per_s: float, seconds: float, hold: bool,
              broker_pid: int = 0) -> StepOutcome:
    """Publish at `target_per_s` readings/s for `seconds`, let the consumer catch up (up to 5 s), count.

    Whatever a previous step left behind (a backlog in the broker or the inbox) is consumed first and not counted.
    """
    _quiesce(consumer)
    consumer.reset()
    broker_cpu, own_cpu = _cpu_s(broker_pid), _cpu_s(os.getpid())
    publishers.start(target_per_s / publishers.readings_per_sweep, seconds)
    consumer.pump(seconds)
    report = publishers.finish()
    deadline = time.monotonic() + 5.0
    last, still = consumer.received, time.monotonic()
    while consumer.received < report["readings"] and time.monotonic() < deadline:
        consumer.pump(0.1)
        if consumer.received != last:
            last, still = consumer.received, time.monotonic()
        elif time.monotonic() - still > 2.0:
            break  # nothing more is coming
    span = max(report["seconds"], 1e-6)
    cpu = {"publishers": round(report["cpu_s"] / span, 2),
           "broker": round((_cpu_s(broker_pid) - broker_cpu) / span, 2),
           "consumer": round((_cpu_s(os.getpid()) - own_cpu) / span, 2)}
    return StepOutcome(target_per_s, report["readings"] / span, report["readings"], consumer.received,
                       _p99(consumer.latencies), report["seconds"], hold, report["messages"] / span,
                       report["target_messages"] / seconds, cpu)


def ladder(consumer, publishers: _Publishers, start_per_s: float, probe_s: float, hold_s: float,
           max_steps: int, log: Callable[[str], None], broker_pid: int = 0,
           refine: int = 2) -> tuple[StepOutcome | None, list[StepOutcome]]:
    """Step the offered load up from `start_per_s` (x1.5 a step) until a probe fails, narrow the gap between the
    last pass and the first failure `refine` times, then hold the best passing rate for `hold_s` (half a step
    lower each time a hold fails, `HOLD_TRIES` holds at most)."""
    steps: list[StepOutcome] = []
    passing: list[float] = []

    def probe(rate: float) -> StepOutcome:
        outcome = _run_step(consumer, publishers, rate, probe_s, False, broker_pid)
        steps.append(outcome)
        log(f"bench: capacity {consumer.name}: {rate:,.0f}/s offered {outcome.offered_per_s:,.0f}/s, "
            f"{outcome.received:,}/{outcome.published:,} in, p99 {outcome.p99_ms:.0f} ms, cores {outcome.cpu}")
        return outcome

    rate, failed = start_per_s, None
    for _ in range(max_steps):
        outcome = probe(rate)
        if not outcome.passed():
            failed = rate
            break
        passing.append(rate)
        rate *= LADDER_FACTOR
    if failed is not None and passing and not steps[-1].publisher_limited():
        low, high = passing[-1], failed
        for _ in range(refine):
            middle = math.sqrt(low * high)
            if probe(middle).passed():
                passing.append(middle)
                low = middle
            else:
                high = middle
    held = None
    rate = max(passing) if passing else 0.0
    for _ in range(HOLD_TRIES if passing else 0):  # the best probe, then a half step (x1/1.22) lower each time
        outcome = _run_step(consumer, publishers, rate, hold_s, True, broker_pid)
        steps.append(outcome)
        log(f"bench: capacity {consumer.name} hold {hold_s:g} s: {rate:,.0f}/s offered {outcome.offered_per_s:,.0f}/s,"
            f" {outcome.received:,}/{outcome.published:,} in, p99 {outcome.p99_ms:.0f} ms, cores {outcome.cpu}")
        if outcome.passed():
            held = outcome
            break
        rate /= math.sqrt(LADDER_FACTOR)
    return held, steps


def run_capacity_bench(ifc: Path, registry: Path, log: Callable[[str], None], hold_s: float = 20.0,
                       probe_s: float = 5.0, start_per_s: float | None = None,
                       baseline_start_per_s: float | None = None, max_steps: int = 12,
                       publishers: int = 2) -> dict[str, dict]:
    """Measure ``ingest_capacity_per_s``: ours and the baseline on the same published stream.

    Parameters
    ----------
    hold_s, probe_s
        Seconds of the final hold and of each probe of the ladder.
    start_per_s, baseline_start_per_s
        First offered load (readings/s) of each ladder: one sweep of all devices per second for ours, half
        of it for the baseline, by default.
    max_steps
        Most probes going up, per consumer.
    publishers
        Publisher processes.
    """
    from twin_app.bench import _figure, _Mosquitto
    from twin_app.bim.loader import load_model
    from twin_app.core.devices import DeviceIndex
    from twin_app.core.registry import read_registry
    from twin_app.telemetry.mqtt import parse_broker_url

    broker = _Mosquitto()
    pubs = None
    try:
        model = load_model(ifc).model
        index = DeviceIndex(read_registry(registry), model)
        n = len(index.devices)
        log(f"bench: capacity, {publishers} publisher processes encoding {n:,} devices")
        pubs = _Publishers(broker.url, registry, publishers)
        results = {}
        for consumer, start in ((_Ours(index, parse_broker_url(broker.url)), start_per_s or float(n)),
                                (_Naive(index, broker.port), baseline_start_per_s or n / 2.0)):
            consumer.start()
            try:
                results[consumer.name] = ladder(consumer, pubs, start, probe_s, hold_s, max_steps, log,
                                                broker.proc.pid)
            finally:
                consumer.stop()
        messages_per_sweep = pubs.messages_per_sweep
    finally:
        if pubs is not None:
            pubs.close()
        broker.stop()
    held, steps = results["ours"]
    base_held, base_steps = results["baseline"]
    value = held.received / held.seconds if held else 0.0
    baseline = base_held.received / base_held.seconds if base_held else 0.0
    limited = [s for s in steps if not s.hold and not s.passed()]
    stopped_by = "none (ladder ended)"
    if limited:
        s = limited[-1]
        stopped_by = ("publishers could not offer the rate" if s.publisher_limited()
                      else "readings lost" if s.lost else "p99 latency over 1 s")
    figure = _figure(value, "readings/s", baseline if baseline > 0 else None, better="higher",
                     devices=n, publishers=publishers, messages_per_sweep=messages_per_sweep,
                     held_s=hold_s, offered_per_s=round(held.offered_per_s) if held else None,
                     published=held.published if held else 0, received=held.received if held else 0,
                     p99_ms=round(held.p99_ms, 1) if held else None, cores_used=held.cpu if held else None,
                     stopped_by=stopped_by, cores=os.cpu_count(),
                     baseline_offered_per_s=round(base_held.offered_per_s) if base_held else None,
                     baseline_published=base_held.published if base_held else 0,
                     baseline_received=base_held.received if base_held else 0,
                     baseline_p99_ms=round(base_held.p99_ms, 1) if base_held else None,
                     steps=[s.as_dict() for s in steps], baseline_steps=[s.as_dict() for s in base_steps],
                     note=f"highest offered load held {hold_s:g} s with every published reading counted in and p99 "
                          f"publish-to-applied latency under 1 s; {publishers} publisher processes send pre-encoded "
                          "telemetry/{gateway} batches through mosquitto on loopback, on the same cores as the "
                          "consumer; ours: decoder, inbox, engine step (store, states, roll-up) and colour gather; "
                          "baseline: the same stream, a per-reading Python loop (decode, look up, store, threshold, "
                          "colour)")
    return {"ingest_capacity_per_s": figure}


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "publish":
        sys.exit(_publisher_main(sys.argv[2:]))
    sys.exit("usage: python -m twin_app.bench_capacity publish --broker URL --registry FILE [--part K --parts P]")
