"""The recording figures of ``twin-app bench``: ``seek_ms`` and ``recording_mb_per_hour``.

One synthetic recording serves both. It is made on a simulated clock, not in real time: the district's
`Simulator` reports every device at the default rate of ``twin-app simulate`` and the console (`DEFAULT_RATE`),
gateway by gateway, staggered over `TICK_S` ticks as `SimulatorRunner.tick` does, and each tick's readings go
through an `Inbox` into a `Recorder` (default keyframe interval and deadbands), as the engine's step feeds it.
The simulator's values are drawn once per report period (each device reports once in it, so each reading has
fresh noise) instead of at every tick; every `SAMPLE_EVERY`-th tick instead publishes the simulator's own JSON
payloads and decodes them through `Ingest`, which measures the raw JSON volume of the same readings.

The recording is cut at UTC hours (the recorder's files) and the hours are recorded in parallel processes. A
recorder that starts an hour first records `WARM_S` seconds before it into a scratch file that is thrown away,
so that its hour file is what a recorder running since the start would have written (its first keyframe holds
the full state).
"""

from __future__ import annotations

import itertools
import math
import multiprocessing
import os
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from twin_app.bench import RECORDING_FIGURES, _figure
from twin_app.replay_cli import load_index

if TYPE_CHECKING:
    from twin_app.core.devices import DeviceIndex
    from twin_app.telemetry.recording import RecordingReader

__all__ = ["RECORDING_FIGURES", "make_recording", "naive_frame", "naive_state_at", "recording_bytes",
           "run_recording_bench"]
DEFAULT_RATE = 0.2  # reports per device per second: the default of `twin-app simulate --rate` and of the console
TICK_S = 0.5  # SimulatorRunner's tick
WARM_S = 60.0  # seconds a recorder runs before the hour it records (one keyframe interval)
SAMPLE_EVERY = 97  # every 97th tick goes through JSON payloads and Ingest (prime: every gateway group in turn)
START = datetime(2026, 6, 1, 23, tzinfo=UTC).timestamp()  # 07:00 in Shenzhen: the morning rush hours
MB = 1e6


@dataclass(frozen=True)
class Segment:
    """One hour (or less) of the recording, made by one process.

    Parameters
    ----------
    ifc, registry
        The district (a worker process loads the model and registry itself).
    folder
        The recording's folder: the segment's files end up there.
    origin
        The recording's start (tick 0).
    start, end
        The segment's part of the recording (unix seconds, end excluded).
    warm_s
        Seconds recorded before `start` into a file that is thrown away.
    seed
        The simulator's noise seed.
    """

    ifc: str
    registry: str
    folder: str
    origin: float
    start: float
    end: float
    warm_s: float
    seed: int
    rate: float = DEFAULT_RATE
    tick_s: float = TICK_S
    sample_every: int = SAMPLE_EVERY


def _hour_floor(t: float) -> float:
    return math.floor(t / 3600.0) * 3600.0


def segments(ifc: Path, registry: Path, folder: Path, start: float, seconds: float, seed: int = 1,
             rate: float = DEFAULT_RATE, tick_s: float = TICK_S) -> list[Segment]:
    """The recording from `start` for `seconds`, cut at UTC hours (the recorder's files)."""
    end = start + seconds
    cuts = [start]
    while _hour_floor(cuts[-1]) + 3600.0 < end:
        cuts.append(_hour_floor(cuts[-1]) + 3600.0)
    cuts.append(end)
    return [Segment(str(ifc), str(registry), str(folder), start, a, b, 0.0 if i == 0 else WARM_S, seed + i, rate,
                    tick_s) for i, (a, b) in enumerate(itertools.pairwise(cuts))]


def record_segment(job: Segment, index: DeviceIndex | None = None) -> dict:
    """Record one segment (in a worker process when `index` is None: it loads the district itself).

    Returns
    -------
    dict
        ``readings`` fed within the segment, ``changes`` written to ``/telemetry`` within it, ``raw_bytes`` and
        ``sampled_readings`` of the ticks that went through JSON payloads, ``seconds`` of wall time.
    """
    from twin_app.core.inbox import Inbox, Readings
    from twin_app.telemetry.ingest import DEFAULT_ROOT, Ingest
    from twin_app.telemetry.recording import Recorder
    from twin_app.telemetry.simulator import Simulator

    started = time.perf_counter()
    if index is None:
        index = load_index(Path(job.ifc), Path(job.registry))
    sim = Simulator(index.devices, seed=job.seed)
    inbox = Inbox()
    ingest = Ingest(index, inbox)
    folder = Path(job.folder)
    scratch = folder / f".segment-{int(job.start)}"
    recorder = Recorder(scratch, index)
    n_gateways = len(sim.gateway_names)
    period_ticks = max(1, round(1.0 / (job.rate * job.tick_s)))  # as SimulatorRunner.tick
    groups = [np.flatnonzero((np.arange(n_gateways) + k) % period_ticks == 0) for k in range(period_ticks)]
    sim_rows = [np.concatenate([sim.gateway_rows[g] for g in group] or [np.zeros(0, np.int64)]) for group in groups]
    ids = sim.devices["device_id"].astype(str).to_numpy()
    rows_of = [index.rows_of_ids(ids[rows]) for rows in sim_rows]  # registry rows, in payload order
    first = math.floor((job.start - job.warm_s - job.origin) / job.tick_s + 1e-9)
    last = math.ceil((job.end - job.origin) / job.tick_s - 1e-9)
    stats = {"readings": 0, "changes": 0, "raw_bytes": 0, "sampled_readings": 0, "ticks": 0}
    values, period = None, None
    for k in range(first, last):
        now = job.origin + k * job.tick_s
        group = k % period_ticks
        inside = now >= job.start
        if k == first:  # the gateways' retained status, as the runner announces it on connecting
            for name in sim.gateway_names:
                ingest.handle(f"{DEFAULT_ROOT}/status/{name}", b"online", now)
        if k % job.sample_every == 0:  # the simulator's own payloads, decoded as the engine's ingest does
            for name, payload in sim.payloads(now, groups[group]):
                ingest.handle(f"{DEFAULT_ROOT}/telemetry/{name}", payload, now)
                stats["raw_bytes"] += len(payload) if inside else 0
        else:
            if k // period_ticks != period:  # one draw per report period: every device reports once in it
                values, period = sim.values(now), k // period_ticks
            rows = sim_rows[group]
            inbox.put(Readings(rows_of[group], np.round(values[rows], 4), np.full(len(rows), now), 0.0))
        drained = inbox.drain()
        written = recorder.record(drained, now)
        if inside:
            stats["readings"] += len(drained.rows)
            stats["sampled_readings"] += len(drained.rows) if k % job.sample_every == 0 else 0
            stats["changes"] += written
            stats["ticks"] += 1
    recorder.close()
    keep_from = _hour_floor(job.start)
    for path in scratch.glob("*.mcap"):
        hour = datetime.strptime(path.name[:13], "%Y-%m-%dT%H").replace(tzinfo=UTC).timestamp()
        if hour >= keep_from:  # the warm-up's hour file is thrown away
            path.rename(folder / path.name)
    shutil.rmtree(scratch, ignore_errors=True)
    stats["seconds"] = time.perf_counter() - started
    return stats


def make_recording(folder: Path, ifc: Path, registry: Path, start: float, seconds: float, workers: int | None = None,
                   index: DeviceIndex | None = None, seed: int = 1) -> dict:
    """Record `seconds` of the district from `start` (simulated clock) into `folder`.

    Parameters
    ----------
    workers
        Processes recording hours in parallel (default: one per CPU); 1 records in this process.
    index
        The district already loaded (used when recording in this process).

    Returns
    -------
    dict
        The segments' statistics summed (see `record_segment`), ``seconds`` of wall time and ``segments``.
    """
    jobs = segments(ifc, registry, folder, start, seconds, seed)
    workers = min(len(jobs), workers or os.cpu_count() or 1)
    started = time.perf_counter()
    if workers <= 1:
        index = index if index is not None else load_index(ifc, registry)
        results = [record_segment(job, index) for job in jobs]
    else:
        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
            results = list(pool.map(record_segment, jobs))
    out = {key: sum(r[key] for r in results) for key in ("readings", "changes", "raw_bytes", "sampled_readings",
                                                         "ticks")}
    out["seconds"] = time.perf_counter() - started
    out["segments"] = len(jobs)
    out["workers"] = workers
    return out


def recording_bytes(folder: Path) -> dict:
    """Bytes of the recording's files: ``total`` and ``keyframe`` (the compressed chunks holding keyframes)."""
    from mcap.reader import SeekingReader

    total = keyframe = 0
    files = sorted(folder.glob("*.mcap"))
    for path in files:
        total += path.stat().st_size
        with open(path, "rb") as stream:
            summary = SeekingReader(stream).get_summary()
        assert summary is not None
        ids = {cid for cid, channel in summary.channels.items() if channel.topic == "/keyframe"}
        keyframe += sum(c.compressed_size for c in summary.chunk_indexes if ids & set(c.message_index_offsets))
    return {"total": total, "keyframe": keyframe, "files": len(files)}


def naive_frame(reader: RecordingReader) -> pd.DataFrame:
    """Baseline: the recording as one long table (time, row, value, ts), every keyframe's devices included, in
    the recording's order."""
    pieces: list[tuple[float, int, np.ndarray, np.ndarray, np.ndarray]] = []
    for t, (rows, values, ts) in reader.messages("/telemetry"):
        pieces.append((t, 0, rows.astype(np.int32), values, ts))
    for t, (rows, ts) in reader.messages("/refresh"):  # a refreshed device: its stamp moves, its value stays
        pieces.append((t, 0, rows.astype(np.int32), np.full(len(rows), np.nan), ts))
    every = np.arange(reader.n_devices, dtype=np.int32)
    for t, (values, ts, _) in reader.messages("/keyframe"):
        pieces.append((t, 1, every, values, ts))
    pieces.sort(key=lambda p: (p[0], p[1]))  # a keyframe follows the changes logged at its instant
    total = sum(len(p[2]) for p in pieces)
    columns = {"time": np.empty(total), "row": np.empty(total, np.int32), "value": np.empty(total),
               "ts": np.empty(total)}
    at = 0
    pieces.reverse()
    while pieces:  # filled in place, each piece dropped once copied: memory stays near the table's own size
        t, _, rows, values, ts = pieces.pop()
        end = at + len(rows)
        columns["time"][at:end], columns["row"][at:end] = t, rows
        columns["value"][at:end], columns["ts"][at:end] = values, ts
        at = end
    return pd.DataFrame(columns, copy=False)


def naive_state_at(frame: pd.DataFrame, t: float, n_devices: int) -> tuple[np.ndarray, np.ndarray]:
    """Baseline seek: the rows logged at or before `t`: each device's last time stamp, and its last value."""
    before = frame[frame["time"] <= t]
    last = before.drop_duplicates("row", keep="last")
    values, ts = np.full(n_devices, np.nan), np.zeros(n_devices)
    ts[last["row"].to_numpy()] = last["ts"].to_numpy()
    valued = before[before["value"].notna()].drop_duplicates("row", keep="last")
    values[valued["row"].to_numpy()] = valued["value"].to_numpy()
    return values, ts


def run_recording_bench(ifc: Path, registry: Path, wanted: set[str],
                        log: Callable[[str], None] = lambda m: None, hours: float = 2.0, seeks: int = 20,
                        seed: int = 0, workers: int | None = None, baseline_budget_s: float = 40.0,
                        start: float = START) -> dict[str, dict]:
    """Make a recording of the district on a simulated clock, then seek in it and weigh it.

    Parameters
    ----------
    ifc, registry
        The district.
    wanted
        The figures to report (`RECORDING_FIGURES`).
    hours
        Length of the recording.
    seeks
        Random instants sought (seeded by `seed`).
    workers
        Processes making the recording (default one per CPU).
    baseline_budget_s
        The baseline seeks the same instants until this much time is spent (at least two).
    start
        The recording's start (unix seconds).
    """
    from twin_app.telemetry.recording import RecordingReader

    results: dict[str, dict] = {}
    folder = Path(tempfile.mkdtemp(prefix="twin_app_recording_bench_"))
    seconds = hours * 3600.0
    try:
        log(f"bench: a {hours:g} h recording of the district at {DEFAULT_RATE:g} reports per device per second "
            "(simulated clock)")
        made = make_recording(folder, ifc, registry, start, seconds, workers)
        log(f"bench: recorded {made['readings']:,} readings in {made['seconds']:.0f} s ({made['workers']} processes)")
        sizes = recording_bytes(folder)
        t = time.perf_counter()
        reader = RecordingReader(folder)
        open_ms = (time.perf_counter() - t) * 1000.0
        first, last = reader.span
        if "seek_ms" in wanted:
            rng = np.random.default_rng(seed)
            instants = rng.uniform(first, last, seeks)
            ours: list[float] = []
            states = []
            for instant in instants:
                t = time.perf_counter()
                values, ts = reader.state_at(float(instant))
                online = reader.online_at(float(instant))
                ours.append((time.perf_counter() - t) * 1000.0)
                states.append((values, ts, online))
            log("bench: seeking in one long DataFrame (the naive way)")
            t = time.perf_counter()
            frame = naive_frame(reader)
            build_s = time.perf_counter() - t
            naive: list[float] = []
            matches = True
            spent = time.perf_counter()
            for instant, (values, ts, _) in zip(instants, states, strict=True):
                t = time.perf_counter()
                naive_values, naive_ts = naive_state_at(frame, float(instant), reader.n_devices)
                naive.append((time.perf_counter() - t) * 1000.0)
                matches &= bool(np.array_equal(naive_values, values, equal_nan=True) and np.array_equal(naive_ts, ts))
                if len(naive) >= 2 and time.perf_counter() - spent > baseline_budget_s:
                    break
            rows = len(frame)
            del frame
            lat = np.asarray(ours)
            results["seek_ms"] = _figure(
                float(np.median(lat)), "ms", statistics.median(naive), p95=round(float(np.percentile(lat, 95)), 1),
                max=round(float(lat.max()), 1), min=round(float(lat.min()), 1), seeks=len(lat), seed=seed,
                recording_h=round((last - first) / 3600.0, 3), devices=reader.n_devices, files=sizes["files"],
                open_ms=round(open_ms, 1), baseline_seeks=len(naive),
                ours_p50_on_baseline_seeks_ms=round(float(np.median(lat[:len(naive)])), 1),
                baseline_rows=rows, baseline_build_s=round(build_s, 1), baseline_matches=matches,
                note="RecordingReader.state_at and online_at at random instants of a recording of the whole "
                     "district, every device reporting at the simulator's default rate; baseline: one long "
                     "DataFrame (time, row, value, ts) of every recorded change and keyframe, filtered time <= t "
                     "and the last row of each device kept (drop_duplicates)"
                     + (f", on the first {len(naive)} instants only (it is slow)" if len(naive) < len(lat) else "")
                     + "; the same state checked")
        if "recording_mb_per_hour" in wanted:
            per_h = 3600.0 / seconds
            raw_per_reading = made["raw_bytes"] / max(made["sampled_readings"], 1)
            raw = raw_per_reading * made["readings"] * per_h / MB
            recorded = sizes["total"] * per_h / MB
            results["recording_mb_per_hour"] = _figure(
                recorded, "MB", raw, raw_json_mb_per_hour=round(raw, 1),
                keyframe_mb_per_hour=round(sizes["keyframe"] * per_h / MB, 1),
                other_mb_per_hour=round((sizes["total"] - sizes["keyframe"]) * per_h / MB, 1),
                hours=round(seconds / 3600.0, 3), files=sizes["files"], devices=reader.n_devices,
                rate_hz=DEFAULT_RATE, keyframe_s=reader.meta.get("keyframe_s"),
                readings_per_s=round(made["readings"] / seconds),
                changes_per_s=round(made["changes"] / seconds),
                raw_json_bytes_per_reading=round(raw_per_reading, 2),
                raw_json_sampled_readings=made["sampled_readings"], make_recording_s=round(made["seconds"], 1),
                workers=made["workers"],
                note="MB (10^6 bytes) of recording files per hour of the whole district at the simulator's default "
                     "rate (default keyframe interval and deadbands, the start of the recording included), made on "
                     "a simulated clock; baseline: the bytes of the simulator's JSON telemetry payloads for the same "
                     f"readings (measured on every {SAMPLE_EVERY}th tick, scaled to all readings)")
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return results
