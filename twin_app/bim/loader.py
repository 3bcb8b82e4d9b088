"""Load an IFC file through a crash-isolated worker process and a tessellation cache on disk.

The worker parses and tessellates the file and writes the cache entry; the
caller only ever reads arrays. A crash or hang inside the IFC library kills the
worker, not the caller, which then raises `InputError` naming the file.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing as mp
import os
import queue
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import platformdirs

from twin_app.bim.tessellate import ProgressFn
from twin_app.core.errors import CancelledError, InputError
from twin_app.core.model import Category, CategoryMesh, DistrictModel

LOADER_VERSION = 3
DEFAULT_TIMEOUT_S = 600.0
_TABLE_COLUMNS = ("global_id", "ifc_class", "name", "long_name", "parent", "building", "storey", "category",
                  "cell_start", "cell_count")


def cache_dir() -> Path:
    """The user's cache folder of twin_app (``TWIN_APP_CACHE_DIR`` overrides it).

    platformdirs: ``$XDG_CACHE_HOME/twin_app`` or ``~/.cache/twin_app`` on Linux, ``%LOCALAPPDATA%\\twin_app\\Cache``
    on Windows, ``~/Library/Caches/twin_app`` on macOS.
    """
    override = os.environ.get("TWIN_APP_CACHE_DIR")
    if override:
        return Path(override)
    return Path(platformdirs.user_cache_dir("twin_app", appauthor=False))


def file_digest(path: str | Path) -> str:
    """sha256 of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def cache_path_for(digest: str, folder: Path | None = None) -> Path:
    """Where the cache entry of a file with this digest lives."""
    return (folder or cache_dir()) / "tessellation" / f"{digest[:40]}-v{LOADER_VERSION}.npz"


def write_cache(model: DistrictModel, digest: str, target: Path) -> None:
    """Write `model` atomically to `target` (temporary file, then rename)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    arrays: dict[str, np.ndarray] = {c: getattr(model, c) for c in _TABLE_COLUMNS}
    arrays["element_boxes"] = model.element_boxes()
    for cat, mesh in model.meshes.items():
        arrays[f"mesh_{cat.name}_points"] = mesh.points
        arrays[f"mesh_{cat.name}_triangles"] = mesh.triangles
        arrays[f"mesh_{cat.name}_cell_element"] = mesh.cell_element
    header = {"loader_version": LOADER_VERSION, "sha256": digest, "meta": model.meta,
              "categories": [c.name for c in model.meshes]}
    arrays["header"] = np.array(json.dumps(header))
    fd, tmp = tempfile.mkstemp(dir=target.parent, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            np.savez(fh, **arrays)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_cache(target: Path, digest: str) -> DistrictModel:
    """Read a cache entry, checking version, digest and consistency.

    Raises
    ------
    ValueError
        When the entry is stale, truncated or inconsistent; it must then be rebuilt.
    """
    try:
        with np.load(target, allow_pickle=False) as data:
            header = json.loads(str(data["header"]))
            if header.get("loader_version") != LOADER_VERSION or header.get("sha256") != digest:
                raise ValueError("cache entry belongs to another file or loader version")
            table = {c: data[c] for c in _TABLE_COLUMNS}
            boxes = data["element_boxes"]
            meshes = {}
            for name in header["categories"]:
                cat = Category[name]
                meshes[cat] = CategoryMesh(cat, data[f"mesh_{name}_points"], data[f"mesh_{name}_triangles"],
                                           data[f"mesh_{name}_cell_element"])
    except ValueError:
        raise
    except Exception as exc:  # zip CRC errors, truncated members, missing keys
        raise ValueError(f"cache entry unreadable ({type(exc).__name__}: {exc})") from None
    model = DistrictModel(**table, meshes=meshes, meta=header["meta"])
    if boxes.shape != (model.n_elements, 6):
        raise ValueError("cache entry has element boxes of the wrong shape")
    model._boxes = boxes
    model.validate()
    return model


def _tessellate_into(path: str, target: str, digest: str, report: ProgressFn) -> None:
    """Child process work: tessellate `path` and write its cache entry."""
    from twin_app.bim.tessellate import tessellate

    write_cache(tessellate(path, progress=report), digest, Path(target))


def _child(work: Callable[..., None], args: tuple, where: str, progress_queue: mp.Queue) -> None:
    """Child process: run ``work(*args, report)``, report progress and the outcome on `progress_queue`."""

    def report(fraction: float, message: str) -> None:
        progress_queue.put(("progress", fraction, message))

    try:
        work(*args, report)
        progress_queue.put(("done", 1.0, ""))
    except InputError as exc:
        progress_queue.put(("error", exc.where, exc.what))
    except Exception as exc:  # any failure inside the IFC library becomes a message for the user
        progress_queue.put(("error", where, f"{type(exc).__name__}: {exc}"))


@dataclass
class LoadResult:
    """A loaded model and how it was obtained."""

    model: DistrictModel
    from_cache: bool
    seconds: float
    cache_file: Path


def load_model(path: str | Path, progress: ProgressFn | None = None, use_cache: bool = True,
               timeout_s: float = DEFAULT_TIMEOUT_S, folder: Path | None = None) -> LoadResult:
    """Load an IFC file as a `DistrictModel`, from the cache when a valid entry exists.

    Parameters
    ----------
    path
        The IFC file.
    progress
        Called with a fraction in [0, 1] and a message.
    use_cache
        Read an existing cache entry; when False the file is always tessellated again.
    timeout_s
        Longest time the worker may take before it is killed.
    folder
        Cache folder; `cache_dir()` when None.

    Raises
    ------
    InputError
        When the file is missing, unreadable, not IFC, crashes the IFC library or times out.
    """
    started = time.perf_counter()
    report = progress or (lambda fraction, message: None)
    path = Path(path)
    if not path.exists():
        raise InputError(str(path), "file not found")
    if not path.is_file():
        raise InputError(str(path), "not a file")
    try:
        digest = file_digest(path)
    except OSError as exc:
        raise InputError(str(path), f"cannot be read ({exc.strerror})") from None
    target = cache_path_for(digest, folder)
    if use_cache and target.exists():
        try:
            model = read_cache(target, digest)
            report(1.0, "Model read from cache")
            return LoadResult(model, True, time.perf_counter() - started, target)
        except ValueError:
            target.unlink(missing_ok=True)  # stale or corrupt: rebuild, never trust it
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError:
        target = Path(tempfile.mkdtemp(prefix="twin_app_")) / target.name
    run_in_child(_tessellate_into, (str(path), str(target), digest), str(path), "reading this file", report,
                 timeout_s)
    try:
        model = read_cache(target, digest)
    except ValueError as exc:
        raise InputError(str(path), f"the loader produced an unusable result ({exc})") from None
    return LoadResult(model, False, time.perf_counter() - started, target)


def run_in_child(work: Callable[..., None], args: tuple, where: str, doing: str, report: ProgressFn,
                 timeout_s: float) -> None:
    """Run ``work(*args, report)`` in a fresh process, relaying its progress to `report`.

    The IFC library holds the interpreter lock for long stretches; in a child process it can
    neither freeze the caller's threads (a window, an MQTT client) nor crash the caller.

    Parameters
    ----------
    work
        A module-level function (it is pickled into the child).
    where, doing
        What the error messages name: the file or thing, and what was being done ("reading this file").

    Raises
    ------
    InputError
        When the work fails, crashes the child or takes longer than `timeout_s`.
    """
    ctx = mp.get_context("spawn")
    messages: mp.Queue = ctx.Queue()
    proc = ctx.Process(target=_child, args=(work, args, where, messages), daemon=True)
    proc.start()
    deadline = time.monotonic() + timeout_s
    outcome: tuple[str, object, str] | None = None
    try:
        while outcome is None:
            try:
                kind, fraction, message = messages.get(timeout=0.1)
            except queue.Empty:
                if not proc.is_alive():
                    # drain what the worker sent just before it ended
                    try:
                        kind, fraction, message = messages.get(timeout=0.5)
                    except queue.Empty:
                        raise InputError(
                            where, f"the IFC library crashed while {doing} (exit code {proc.exitcode})"
                        ) from None
                elif time.monotonic() > deadline:
                    proc.kill()
                    raise InputError(where, f"{doing} took longer than {timeout_s:.0f} s and was stopped") from None
                else:
                    continue
            if kind == "progress":
                try:
                    report(fraction, message)
                except CancelledError:  # the user stopped it: the worker goes at once
                    proc.kill()
                    raise
            else:
                outcome = (kind, fraction, message)
    finally:
        if proc.is_alive():
            proc.join(timeout=5.0)
        if proc.is_alive():
            proc.kill()
            proc.join()
        messages.close()
    if outcome[0] == "error":
        raise InputError(str(outcome[1]), outcome[2])
