"""The broker's accounts: mosquitto's ``password_file`` and ``acl_file`` written from the user store.

Each enabled account of `twin_app.core.users.UserStore` gets a line in the password file (its mosquitto ``$7$``
hash, kept in the store) and a ``user`` block in the ACL file, by its role (`acl_rules`). Disabled accounts are in
neither file. Both files are replaced atomically (a temporary file renamed over the old one), so the broker never
reads half a file; `reload_broker` then sends SIGHUP, on which mosquitto 2.0 reads both files again.
"""

from __future__ import annotations

import contextlib
import os
import signal
import tempfile
from pathlib import Path

from twin_app.core.errors import InputError
from twin_app.core.users import UserStore, check_role, check_user_name
from twin_app.telemetry.ingest import DEFAULT_ROOT

PASSWORDS = "passwords"
ACL = "acl"

PEOPLE_WITH_ACTIONS = ("operator", "supervisor", "unit")
READERS = ("engineer", "trainer", "admin")


def acl_rules(name: str, role: str, root: str = DEFAULT_ROOT) -> list[tuple[str, str]]:
    """The (access, topic) rules of account `name` with `role`, for topics under `root`.

    engine: readwrite ``root/#``. operator, supervisor, unit: read ``root/#``, write ``root/action/+/<name>``.
    engineer, trainer, admin: read ``root/#``. gateway: write ``root/telemetry/<name>``, ``root/status/<name>``,
    read ``root/cmd/#`` (no ``point/``: its devices come in its own batches). simulator: write
    ``root/telemetry/#``, ``root/status/#``, ``root/point/#``, ``root/event/#``, read ``root/cmd/#``.
    source: write ``root/event/<name>``.
    """
    check_user_name(name)
    check_role(role)
    root = root.strip("/")
    if role == "engine":
        return [("readwrite", f"{root}/#")]
    if role in PEOPLE_WITH_ACTIONS:
        return [("read", f"{root}/#"), ("write", f"{root}/action/+/{name}")]
    if role in READERS:
        return [("read", f"{root}/#")]
    if role == "gateway":
        return [("write", f"{root}/telemetry/{name}"), ("write", f"{root}/status/{name}"),
                ("read", f"{root}/cmd/#")]  # no point/: a gateway reports its own devices in its own batches
    if role == "simulator":
        return [("write", f"{root}/{channel}/#") for channel in ("telemetry", "status", "point", "event")] + [
            ("read", f"{root}/cmd/#")]
    if role == "source":
        return [("write", f"{root}/event/{name}")]
    raise InputError("role", f"{role!r} has no broker rules")  # a role added to roles.ROLES without rules here


def password_text(entries: list[tuple[str, str, str]]) -> str:
    """mosquitto's password file for (name, role, hash) entries: one ``name:hash`` line each."""
    return "".join(f"{name}:{hashed}\n" for name, _role, hashed in entries)


def acl_text(entries: list[tuple[str, str, str]], root: str = DEFAULT_ROOT) -> str:
    """mosquitto's ACL file for (name, role, hash) entries: a ``user`` block each, nothing for anonymous clients."""
    lines = ["# Written by `twin-app users` from the user store: changes made here are lost at the next change.",
             f"# Topic root: {root.strip('/')}. Anonymous clients get no rule (the broker refuses them anyway).", ""]
    for name, role, _hashed in entries:
        lines.append(f"# {role}")
        lines.append(f"user {name}")
        lines += [f"topic {access} {topic}" for access, topic in acl_rules(name, role, root)]
        lines.append("")
    return "\n".join(lines)


def write_atomic(path: Path, text: str, mode: int = 0o640) -> None:
    """Replace `path` with `text` at once (temporary file in the same folder, fsync, rename).

    The new file gets `mode` and the group of the old file when there was one, else the group of the folder (so a
    folder owned by group mosquitto gives files the broker can read).
    """
    folder = path.parent
    try:
        group = path.stat().st_gid if path.exists() else folder.stat().st_gid
    except OSError:
        group = -1
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            os.fchmod(out.fileno(), mode)
            with contextlib.suppress(OSError):  # not root nor in that group: the file keeps the user's group
                os.fchown(out.fileno(), -1, group)
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
    with contextlib.suppress(OSError):  # the rename itself survives a power loss
        dir_fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def write_broker_files(store: UserStore, folder: str | Path, root: str = DEFAULT_ROOT,
                       mode: int = 0o640) -> tuple[Path, Path]:
    """Write ``passwords`` and ``acl`` for the enabled accounts of `store` into `folder`.

    Returns
    -------
    tuple[Path, Path]
        The password file and the ACL file.

    Raises
    ------
    InputError
        When the folder cannot be created or written.
    """
    folder = Path(folder)
    entries = store.broker_entries()
    passwords, acl = folder / PASSWORDS, folder / ACL
    try:
        folder.mkdir(parents=True, exist_ok=True)
        write_atomic(passwords, password_text(entries), mode)
        write_atomic(acl, acl_text(entries, root), mode)
    except OSError as exc:
        raise InputError(str(folder), f"cannot write the broker's password and ACL files: {exc}") from None
    return passwords, acl


def reload_broker(pid_file_or_pid: int | str | Path) -> int:
    """Send SIGHUP to mosquitto (a process id, or a pid file): it reads its password and ACL files again.

    Returns
    -------
    int
        The process id signalled.

    Raises
    ------
    InputError
        When the pid file cannot be read, holds no process id, or no such process runs.
    """
    where = f"--reload-pid {pid_file_or_pid}"
    text = str(pid_file_or_pid).strip()
    if isinstance(pid_file_or_pid, int) or text.isdigit():
        pid = int(text)
    else:
        try:
            content = Path(text).read_text().strip()
        except OSError as exc:
            raise InputError(where, f"cannot read the pid file: {exc.strerror or exc}") from None
        if not content.isdigit():
            raise InputError(where, "the pid file holds no process id")
        pid = int(content)
    if pid <= 1:
        raise InputError(where, f"{pid} is not a broker's process id")
    hangup = getattr(signal, "SIGHUP", None)
    if hangup is None:
        raise InputError(where, "this system has no SIGHUP: restart the broker to load the new accounts")
    try:
        os.kill(pid, hangup)
    except ProcessLookupError:
        raise InputError(where, f"no process {pid} runs") from None
    except PermissionError:
        raise InputError(where, f"not allowed to signal process {pid}") from None
    return pid
