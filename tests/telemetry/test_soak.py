"""Soak: `twin-app serve` under the simulator's full load for 30 minutes, its memory, threads and open files sampled.

Run apart: ``packaging/dev.sh test -m soak`` (TWIN_APP_SOAK_S sets the length, 1800 s by default; the district is
the full 19-tower one unless TWIN_APP_SOAK_SMALL=1).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

SMALL = Path(__file__).resolve().parents[2] / "bim_models" / "mumianling-small" / "mumianling.ifc"


def _sample(pid: int) -> dict:
    status = Path(f"/proc/{pid}/status").read_text().splitlines()
    fields = {line.split(":")[0]: line.split(":")[1].strip() for line in status if ":" in line}
    return {"rss_mb": int(fields["VmRSS"].split()[0]) / 1024.0, "threads": int(fields["Threads"]),
            "open_files": len(os.listdir(f"/proc/{pid}/fd"))}


@pytest.mark.soak
@pytest.mark.timeout(0)  # its own length (TWIN_APP_SOAK_S)
def test_engine_soak_at_full_load(mosquitto, tmp_path) -> None:
    seconds = float(os.environ.get("TWIN_APP_SOAK_S", "1800"))
    district = ["--ifc", str(SMALL)] if os.environ.get("TWIN_APP_SOAK_SMALL") else []
    serve = subprocess.Popen([sys.executable, "-m", "twin_app", "serve", "--broker", mosquitto.url, *district,
                              "--data-dir", str(tmp_path / "serve"), "--report-every", "10"],
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    lines: list[dict] = []
    threading.Thread(target=lambda: [lines.append(json.loads(x)) for x in serve.stdout if x.startswith("{")],
                     daemon=True).start()
    simulate = None
    try:
        deadline = time.monotonic() + 300
        while not (lines and lines[-1].get("broker") == "connected"):
            assert serve.poll() is None and time.monotonic() < deadline, "serve did not start"
            time.sleep(0.5)
        simulate = subprocess.Popen([sys.executable, "-m", "twin_app", "simulate", "--broker", mosquitto.url,
                                     *district, "--rate", "0.2", "--scenario", "garage_co", "--scenario-after", "60"],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(60)  # warm: the first sweeps, the caches
        samples = [{"t": 0.0, **_sample(serve.pid)}]
        started = time.monotonic()
        while time.monotonic() - started < seconds:
            time.sleep(min(60.0, seconds / 10))
            assert serve.poll() is None, "serve exited during the soak"
            samples.append({"t": round(time.monotonic() - started), **_sample(serve.pid)})
        last = lines[-1]
        first, end = samples[0], samples[-1]
        print(json.dumps({"seconds": seconds, "samples": samples, "readings_per_s": last["readings_per_s"],
                          "max_step_ms": last["max_step_ms"], "errors": last["errors"], "alarms": last["alarms"]}))
        print(f"soak {seconds:.0f} s: RSS {first['rss_mb']:.0f} -> {end['rss_mb']:.0f} MB, threads "
              f"{first['threads']} -> {end['threads']}, open files {first['open_files']} -> {end['open_files']}, "
              f"{last['readings_per_s']:,.0f} readings/s, longest step {last['max_step_ms']} ms")
        assert end["threads"] <= first["threads"] + 2 and end["open_files"] <= first["open_files"] + 5
        assert end["rss_mb"] - first["rss_mb"] < 100.0
        assert "database" not in last["errors"] and "internal" not in last["errors"]
    finally:
        if simulate is not None:
            simulate.terminate()
            simulate.wait(timeout=20)
        serve.terminate()
        serve.wait(timeout=30)
