"""Load generator for the ingest benchmark, run as its own process (``python -m twin_app.telemetry.loadgen``).

``batched``: every device once per period, one message per gateway, each carrying its send time.
``single``: one message per reading on ``point/{device_id}`` (the naive way), as fast as possible.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import numpy as np

from twin_app.core.registry import read_registry
from twin_app.telemetry.mqtt import make_client, parse_broker_url
from twin_app.telemetry.simulator import Simulator


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m twin_app.telemetry.loadgen")
    parser.add_argument("mode", choices=("batched", "single"))
    parser.add_argument("--broker", required=True)
    parser.add_argument("--registry", required=True)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--period", type=float, default=1.0, help="batched: seconds between full sweeps")
    parser.add_argument("--count", type=int, default=20_000, help="single: readings to send")
    args = parser.parse_args(argv)
    url = parse_broker_url(args.broker)
    devices = read_registry(args.registry)
    client = make_client(url, f"loadgen-{args.mode}")
    client.max_queued_messages_set(0)
    client.connect(url.host, url.port, keepalive=30)
    client.loop_start()
    sent = 0
    if args.mode == "batched":
        sim = Simulator(devices)
        started = time.monotonic()
        sweep = 0
        while time.monotonic() - started < args.seconds:
            now = time.time()
            for gateway, payload in sim.payloads(now):
                # stamp the publish time, not the time the sweep's values were computed
                stamped = b'{"ts":%.3f' % time.time() + payload[payload.index(b","):]
                client.publish(f"{url.root}/telemetry/{gateway}", stamped, qos=0)
            sent += len(devices)
            sweep += 1
            delay = started + sweep * args.period - time.monotonic()
            if delay > 0:
                time.sleep(delay)
    else:
        ids = devices["device_id"].astype(str).to_numpy()[: args.count]
        values = np.random.default_rng(0).uniform(0, 10, len(ids))
        for device_id, value in zip(ids, values, strict=True):
            client.publish(f"{url.root}/point/{device_id}", json.dumps({"ts": time.time(), "value": float(value)}))
            sent += 1
    time.sleep(0.5)
    client.loop_stop()
    client.disconnect()
    print(json.dumps({"sent": sent}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
