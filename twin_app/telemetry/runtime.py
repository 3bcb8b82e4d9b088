"""An engine at work: its inbox, the MQTT link feeding it, its data folder. One function builds it for both
`twin-app serve` and the console's local engine (`build_runtime`); a remote console builds one without rules.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from twin_app.core.database import EngineDatabase
from twin_app.core.devices import DeviceIndex
from twin_app.core.engine import Engine, StepResult
from twin_app.core.errors import InputError
from twin_app.core.i18n import source_language
from twin_app.core.inbox import Inbox
from twin_app.telemetry.ingest import DEFAULT_ROOT, Ingest
from twin_app.telemetry.mqtt import BrokerUrl, MqttLink
from twin_app.telemetry.recording import Recorder, RecordingPort

DATABASE_NAME = "engine.sqlite"
RECORDINGS = "recordings"  # the engine's recordings, one MCAP file per hour, in its data folder
log = logging.getLogger("twin_app.runtime")


def data_dir() -> Path:
    """The user's data folder of twin_app (``TWIN_APP_DATA_DIR`` overrides it).

    platformdirs: ``$XDG_DATA_HOME/twin_app`` or ``~/.local/share/twin_app`` on Linux, ``%LOCALAPPDATA%\\twin_app``
    on Windows, ``~/Library/Application Support/twin_app`` on macOS.
    """
    override = os.environ.get("TWIN_APP_DATA_DIR")
    if override:
        return Path(override)
    return Path(platformdirs.user_data_dir("twin_app", appauthor=False))


class FolderLock:
    """An exclusive lock on a data folder: two engines never share one (the second is refused with a message)."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / "engine.lock"
        self._file = open(self.path, "a+")  # noqa: SIM115 (held for the engine's life)
        try:
            import fcntl

            fcntl.flock(self._file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except ImportError:  # Windows: no advisory lock; the database still serialises writes
            pass
        except OSError:
            self._file.close()
            raise InputError(str(folder), "another engine already runs on this data folder") from None
        self._file.seek(0)
        self._file.truncate()
        self._file.write(f"{os.getpid()}\n")
        self._file.flush()

    def release(self) -> None:
        self._file.close()


@dataclass
class Runtime:
    """The engine, the inbox it drains, the decoder feeding the inbox and the MQTT link (None without a broker)."""

    engine: Engine
    inbox: Inbox
    ingest: Ingest
    link: MqttLink | None
    folder: Path | None = None
    lock: FolderLock | None = None
    recorder: Recorder | None = None  # records what the engine receives and publishes (its data folder)

    @property
    def url_display(self) -> str:
        return self.link.url.display if self.link is not None else "(no broker)"

    def start(self) -> None:
        if self.link is not None:
            self.link.start()

    def stop(self) -> None:
        if self.link is not None:
            self.link.stop()
        if self.recorder is not None:
            try:
                self.recorder.close()
            except Exception as exc:  # a recording that cannot be finished never stops the engine
                log.warning("the recording could not be closed: %s", exc)
        if self.engine.database is not None:
            self.engine.database.close()
        if self.lock is not None:
            self.lock.release()

    def step(self, now: float | None = None) -> StepResult:
        """Drain the inbox into the engine (on the consuming thread); the recorder takes it in first.

        What the engine publishes, records and audits stays in the source language (English), whatever language
        a console on this process shows: each console translates from the payloads' machine fields.
        """
        with source_language():
            return self._step(now)

    def _step(self, now: float | None) -> StepResult:
        drained = self.inbox.drain()
        now = time.time() if now is None else now
        if self.recorder is not None:
            try:
                self.recorder.record(drained, now)
            except Exception as exc:  # a full disk stops the recording, never the engine
                self.engine.count_error("recording", str(self.recorder.folder), f"{type(exc).__name__}: {exc}")
        return self.engine.step(drained, now)

    def errors(self) -> dict[str, int]:
        """Dropped input by kind: the decoder's and the engine's."""
        out = dict(self.ingest.errors)
        for kind, n in self.engine.errors.items():
            out[kind] = out.get(kind, 0) + n
        return out

    def summary(self, result: StepResult) -> dict:
        """Counts for status lines and logs."""
        link = self.link
        return {**self.engine.summary(result), "broker": link.state if link is not None else "none",
                "reconnects": max(0, link.connects - 1) if link is not None else 0,
                "errors": self.errors(), "messages": self.ingest.messages}


def build_runtime(index: DeviceIndex, url: BrokerUrl | None, rules: bool = True, folder: Path | None = None,
                  console: str = "engine", notify=None, channels: tuple[str, ...] = (),
                  client_id: str | None = None, accounts=None, record: bool = True,
                  model: dict | None = None, retention_days: float = 30.0) -> Runtime:
    """An engine with its inbox and MQTT link.

    Parameters
    ----------
    index
        The registry joined to the model.
    url
        The broker (None: an engine fed in-process).
    rules
        Run alarm rules, linked actions, dispatch and operator actions (serve, a console's local engine);
        False for a console showing a remote engine's alarms.
    folder
        The data folder whose database keeps the engine's state (None: in memory). Its engine's MQTT session is
        persistent, under a client id fixed for the folder.
    console
        The name the audit log gives this engine.
    notify
        Called when the inbox goes from empty to non-empty (the console schedules a step).
    channels
        Extra channels to read (a console: alarm, dispatch, kpi, action_result).
    accounts
        user -> role (None: unknown or disabled), from the user store: actions count only from an authenticated
        account allowed by its role (None: no logins; the name in the action is taken as given).
    record
        An engine with a data folder records what it receives and publishes in ``{folder}/recordings``.
    model
        What the registry belongs to (see `Recorder`), so that a replay opens the same model.
    retention_days
        Recording hour files older than this are deleted (at start and at every new hour).
    """
    database = lock = None
    if folder is not None:
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise InputError(str(folder), f"the data folder cannot be created ({exc.strerror})") from None
        lock = FolderLock(folder)
        try:
            database = EngineDatabase(folder / DATABASE_NAME)
        except InputError:
            lock.release()
            raise
    inbox = Inbox(notify)
    root = url.root if url is not None else DEFAULT_ROOT
    ingest = Ingest(index, inbox, root=root)
    ingest.strict = accounts is not None  # with logins, a gateway's batch holds only its own devices
    engine = Engine(index, database=database, rules=rules, console=console, accounts=accounts)
    link = None
    if url is not None:
        transient: tuple[str, ...] = ()
        if rules:  # the engine reads actions; after each connect, its retained topics to clear what it does not hold
            channels = tuple(dict.fromkeys((*channels, "action")))
            transient = tuple(c for c in ("alarm", "dispatch", "incident") if c not in channels)
        persistent = database is not None
        link = MqttLink(url, ingest, channels=channels, persistent=persistent, transient=transient,
                        client_id=client_id or (engine.client_id if persistent else None))
        engine.port = link
    recorder = None
    if record and rules and folder is not None:
        try:
            recorder = Recorder(folder / RECORDINGS, index, model=model, retention_days=retention_days)
            recorder.prune(time.time())
            engine.port = RecordingPort(engine.port, recorder)
        except (OSError, InputError) as exc:  # the engine runs without a recording rather than not at all
            log.warning("no recording in %s: %s", folder / RECORDINGS, exc)
            recorder = None
    return Runtime(engine, inbox, ingest, link, folder, lock, recorder)
