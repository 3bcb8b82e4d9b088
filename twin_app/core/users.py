"""Operator and service accounts: who may log in, with which role (`twin_app.core.roles`).

One SQLite file (WAL, ``synchronous=FULL``, mode 0600) holds each account's name, role, Argon2id password hash,
disabled flag, failed-attempt counter and lock time. It also keeps the password's mosquitto hash (``$7$``,
PBKDF2-SHA512, the broker's own format), computed when the password is set, so that the broker's password file can
be written again at any time without the clear password (`twin_app.telemetry.broker_accounts`).

Clear passwords are never stored, logged or shown; an error names the account and the rule that was broken.
After `MAX_FAILURES` failed logins in a row an account is locked for `LOCK_S` seconds.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import os
import secrets
import sqlite3
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from twin_app.core.database import connect
from twin_app.core.errors import InputError
from twin_app.core.names import is_safe_name
from twin_app.core.roles import ROLES

MIN_PASSWORD = 10
MAX_PASSWORD = 1024  # longer is no safer, and a megabyte password would only cost hashing time
MAX_FAILURES = 5
LOCK_S = 15 * 60.0
BROKER_ITERATIONS = 20_000  # mosquitto reads the count from the hash; 101 (mosquitto_passwd's) is cheap to crack
SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    name TEXT PRIMARY KEY,
    role TEXT NOT NULL,
    hash TEXT NOT NULL,
    broker_hash TEXT NOT NULL,
    disabled INTEGER NOT NULL DEFAULT 0,
    failed INTEGER NOT NULL DEFAULT 0,
    locked_until REAL NOT NULL DEFAULT 0,
    created REAL NOT NULL,
    updated REAL NOT NULL
);
"""


def broker_hash(password: str, salt: bytes | None = None, iterations: int = BROKER_ITERATIONS) -> str:
    """The mosquitto 2.0 password-file hash of `password`: ``$7$<iterations>$<base64 salt>$<base64 PBKDF2-SHA512>``.

    Parameters
    ----------
    password
        The clear password.
    salt
        12 random bytes when not given (as mosquitto_passwd).
    iterations
        PBKDF2 rounds (mosquitto_passwd writes 101).
    """
    salt = secrets.token_bytes(12) if salt is None else salt
    digest = hashlib.pbkdf2_hmac("sha512", password.encode("utf-8"), salt, iterations, 64)
    return f"$7${iterations}${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


def check_user_name(name: object, where: str = "user name") -> str:
    """`name` when it can be an account: a safe name (`twin_app.core.names`) without ``:``.

    The colon separates the name from the hash in mosquitto's password file, so it is refused here.
    """
    if not is_safe_name(name) or ":" in name:  # type: ignore[operator]
        shown = repr(name)[:60] if isinstance(name, str) else type(name).__name__
        raise InputError(where, f"{shown} is not a valid user name (1 to 128 letters, digits, '_', '.' or '-')")
    return name  # type: ignore[return-value]


def check_role(role: object, where: str = "role") -> str:
    """`role` when it is one of `twin_app.core.roles.ROLES`."""
    if not isinstance(role, str) or role not in ROLES:
        shown = repr(role)[:60]
        raise InputError(where, f"{shown} is not a role (one of {', '.join(ROLES)})")
    return role


def check_password(password: object, name: str, where: str = "password") -> str:
    """`password` when it is acceptable for account `name`; the message never repeats it."""
    if not isinstance(password, str):
        raise InputError(where, f"the password of {name} must be text")
    if len(password) < MIN_PASSWORD:
        raise InputError(where, f"the password of {name} is shorter than {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD:
        raise InputError(where, f"the password of {name} is longer than {MAX_PASSWORD} characters")
    if "\0" in password or "\n" in password or "\r" in password:
        raise InputError(where, f"the password of {name} holds a NUL or line break")
    try:
        password.encode("utf-8")
    except UnicodeEncodeError:
        raise InputError(where, f"the password of {name} holds characters that are not valid Unicode") from None
    if password.casefold() == name.casefold():
        raise InputError(where, f"the password of {name} is the user name")
    return password


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds")


class UserStore:
    """The accounts in one SQLite file.

    Parameters
    ----------
    path
        The SQLite file (created with its folder when missing, mode 0600).
    hasher
        The Argon2id hasher (argon2-cffi's defaults, RFC 9106 low-memory profile, when not given).

    Raises
    ------
    InputError
        When the file cannot be opened or is not a user store.
    """

    def __init__(self, path: str | Path, hasher: PasswordHasher | None = None) -> None:
        self.path = Path(path)
        self.hasher = hasher or PasswordHasher()
        self._lock = threading.Lock()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            if not self.path.exists():  # private from the first byte: SQLite gives -wal and -shm the same mode
                os.close(os.open(self.path, os.O_CREAT | os.O_WRONLY, 0o600))
            self.connection = connect(self.path)
            self.connection.row_factory = sqlite3.Row
            self.connection.executescript(SCHEMA)
        except (OSError, sqlite3.Error) as exc:
            raise InputError(str(self.path), f"cannot open the user store: {exc}") from None
        self._dummy: str | None = None  # hashed once, on the first refusal that needs it

    def close(self) -> None:
        """Close the file."""
        self.connection.close()

    def __enter__(self) -> UserStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _row(self, name: str) -> sqlite3.Row | None:
        return self.connection.execute("SELECT * FROM users WHERE name = ?", (name,)).fetchone()

    def _known(self, name: str) -> sqlite3.Row:
        row = self._row(check_user_name(name))
        if row is None:
            raise InputError(f"user {name}", f"no such user in {self.path}")
        return row

    def exists(self, name: str) -> bool:
        """True when an account of that name is in the store (enabled or not)."""
        with self._lock:
            return self._row(name) is not None

    def add(self, name: str, role: str, password: str) -> None:
        """Create an account.

        Raises
        ------
        InputError
            For a bad name, role or password, or a name that exists already.
        """
        check_user_name(name)
        check_role(role)
        check_password(password, name)
        argon, broker = self.hasher.hash(password), broker_hash(password)
        now = time.time()
        with self._lock:
            try:
                self.connection.execute(
                    "INSERT INTO users (name, role, hash, broker_hash, created, updated) VALUES (?, ?, ?, ?, ?, ?)",
                    (name, role, argon, broker, now, now))
            except sqlite3.IntegrityError:
                raise InputError(f"user {name}", f"exists already in {self.path}") from None

    def passwd(self, name: str, password: str) -> None:
        """Set a new password (and clear a lock and the failure count)."""
        with self._lock:
            self._known(name)
        check_password(password, name)
        argon, broker = self.hasher.hash(password), broker_hash(password)
        with self._lock:
            self.connection.execute(
                "UPDATE users SET hash = ?, broker_hash = ?, failed = 0, locked_until = 0, updated = ? WHERE name = ?",
                (argon, broker, time.time(), name))

    def set_role(self, name: str, role: str) -> None:
        """Give an account another role."""
        check_role(role)
        with self._lock:
            self._known(name)
            self.connection.execute("UPDATE users SET role = ?, updated = ? WHERE name = ?", (role, time.time(), name))

    def _set_disabled(self, name: str, disabled: bool) -> None:
        with self._lock:
            self._known(name)
            self.connection.execute("UPDATE users SET disabled = ?, failed = 0, locked_until = 0, updated = ? "
                                    "WHERE name = ?", (int(disabled), time.time(), name))

    def disable(self, name: str) -> None:
        """Refuse every login of the account (it stays in the store, and out of the broker's files)."""
        self._set_disabled(name, True)

    def enable(self, name: str) -> None:
        """Allow the account again (and clear its lock)."""
        self._set_disabled(name, False)

    def list(self, now: float | None = None) -> list[dict]:
        """Every account, by name: name, role, disabled, locked, failed, created, updated (no hashes)."""
        now = time.time() if now is None else now
        with self._lock:
            rows = self.connection.execute("SELECT * FROM users ORDER BY name").fetchall()
        return [{"name": r["name"], "role": r["role"], "disabled": bool(r["disabled"]),
                 "locked": r["locked_until"] > now, "failed": r["failed"],
                 "created": _iso(r["created"]), "updated": _iso(r["updated"])} for r in rows]

    def broker_entries(self) -> list[tuple[str, str, str]]:
        """(name, role, mosquitto hash) of every enabled account, by name: what the broker's files are made of."""
        with self._lock:
            rows = self.connection.execute(
                "SELECT name, role, broker_hash FROM users WHERE disabled = 0 ORDER BY name").fetchall()
        return [(str(r[0]), str(r[1]), str(r[2])) for r in rows]

    def verify(self, name: str, password: str, now: float | None = None) -> bool:
        """True when `password` is the account's and the account is enabled and not locked.

        Unknown names cost one hash as well. A failure counts towards the lock (`MAX_FAILURES` in a row lock the
        account for `LOCK_S` seconds; while locked even the right password is refused); a success resets the count.
        """
        now = time.time() if now is None else now
        if not is_safe_name(name) or not isinstance(password, str):
            self._burn(password)
            return False
        with self._lock:
            row = self._row(name)
        if row is None or row["disabled"]:
            self._burn(password)
            return False
        if row["locked_until"] > now:
            self._burn(password)
            return False
        try:
            good = self.hasher.verify(row["hash"], password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            good = False
        with self._lock:
            if good:
                rehash = self.hasher.check_needs_rehash(row["hash"])
                self.connection.execute(
                    "UPDATE users SET failed = 0, locked_until = 0" + (", hash = ?" if rehash else "") +
                    " WHERE name = ?", ((self.hasher.hash(password), name) if rehash else (name,)))
                return True
            # One transaction, so that logins in other processes count too. The count restarts when the account
            # locks: once the lock runs out, MAX_FAILURES more failures lock it again.
            self.connection.execute("BEGIN IMMEDIATE")
            try:
                self.connection.execute("UPDATE users SET failed = failed + 1 WHERE name = ?", (name,))
                self.connection.execute("UPDATE users SET failed = 0, locked_until = ? WHERE name = ? AND failed >= ?",
                                        (now + LOCK_S, name, MAX_FAILURES))
                self.connection.execute("COMMIT")
            except BaseException:
                self.connection.execute("ROLLBACK")
                raise
            return False

    def _burn(self, password: object) -> None:
        """Spend the time of one verification, so that a refusal takes as long as a check."""
        if self._dummy is None:  # unknown names cost a hash too: a login's duration says nothing of the name
            self._dummy = self.hasher.hash(secrets.token_urlsafe(16))
        with contextlib.suppress(VerificationError, InvalidHashError):
            self.hasher.verify(self._dummy, password if isinstance(password, str) else "")

    def locked(self, name: str, now: float | None = None) -> bool:
        """True while the account is locked after too many failed logins."""
        now = time.time() if now is None else now
        with self._lock:
            row = self.connection.execute("SELECT locked_until FROM users WHERE name = ?", (name,)).fetchone()
        return row is not None and row[0] > now

    def role_of(self, name: str) -> str | None:
        """The account's role; None when the name is unknown or the account disabled (one indexed lookup)."""
        with self._lock:
            row = self.connection.execute("SELECT role FROM users WHERE name = ? AND disabled = 0",
                                          (name,)).fetchone()
        return None if row is None else str(row[0])
