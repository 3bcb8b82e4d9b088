"""The user store: accounts, Argon2id hashes, the broker's hash, lockout after failed logins, refused input."""

from __future__ import annotations

import base64
import hashlib
import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from twin_app.core.errors import InputError
from twin_app.core.names import is_safe_name
from twin_app.core.roles import ROLES
from twin_app.core.users import BROKER_ITERATIONS, LOCK_S, MAX_FAILURES, UserStore, broker_hash

PASSWORD = "correct horse battery"
# Argon2id as in production, with small costs: the tests hash hundreds of times.
FAST = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


@pytest.fixture
def store(tmp_path: Path) -> UserStore:
    with UserStore(tmp_path / "users.sqlite", hasher=FAST) as users:
        yield users


def test_add_verify_passwd_disable_enable_list(store: UserStore) -> None:
    store.add("op-li", "operator", PASSWORD)
    store.add("sup-wang", "supervisor", "another password 2")
    assert store.verify("op-li", PASSWORD)
    assert not store.verify("op-li", PASSWORD + "x")
    assert not store.verify("nobody", PASSWORD)
    assert store.role_of("op-li") == "operator" and store.role_of("nobody") is None
    store.passwd("op-li", "a brand new password")
    assert not store.verify("op-li", PASSWORD) and store.verify("op-li", "a brand new password")
    store.disable("op-li")
    assert store.role_of("op-li") is None and not store.verify("op-li", "a brand new password")
    assert [u["name"] for u in store.list()] == ["op-li", "sup-wang"]
    listed = {u["name"]: u for u in store.list()}
    assert listed["op-li"]["disabled"] and not listed["sup-wang"]["disabled"]
    assert set(listed["op-li"]) == {"name", "role", "disabled", "locked", "failed", "created", "updated"}
    assert [e[0] for e in store.broker_entries()] == ["sup-wang"], "a disabled account is not given to the broker"
    store.enable("op-li")
    assert store.role_of("op-li") == "operator" and store.verify("op-li", "a brand new password")
    with pytest.raises(InputError, match="exists already"):
        store.add("op-li", "operator", PASSWORD)
    for call in (lambda: store.passwd("nobody", PASSWORD), lambda: store.disable("nobody"),
                 lambda: store.enable("nobody")):
        with pytest.raises(InputError, match="no such user"):
            call()


def test_the_store_survives_reopening(tmp_path: Path) -> None:
    with UserStore(tmp_path / "u.sqlite", hasher=FAST) as users:
        users.add("eng-1", "engineer", PASSWORD)
    with UserStore(tmp_path / "u.sqlite", hasher=FAST) as users:
        assert users.verify("eng-1", PASSWORD) and users.role_of("eng-1") == "engineer"
    assert stat.S_IMODE(os.stat(tmp_path / "u.sqlite").st_mode) == 0o600


def test_hashes_are_argon2id_and_the_clear_password_is_nowhere(tmp_path: Path) -> None:
    path = tmp_path / "users.sqlite"
    users = UserStore(path)  # production costs once
    users.add("op-li", "operator", PASSWORD)
    users.passwd("op-li", "second password!")
    hashes = users.connection.execute("SELECT hash, broker_hash FROM users").fetchone()
    users.close()
    assert hashes[0].startswith("$argon2id$")
    assert hashes[1].startswith("$7$20000$")  # more rounds than mosquitto_passwd's 101
    raw = b"".join(p.read_bytes() for p in tmp_path.iterdir())
    for secret in (PASSWORD, "second password!"):
        assert secret.encode() not in raw
        assert secret.encode("utf-16-le") not in raw
    assert "op-li" in str(UserStore(path, hasher=FAST).list())
    assert PASSWORD not in str(UserStore(path, hasher=FAST).list())


def test_broker_hash_is_mosquittos_format() -> None:
    salt = bytes(range(12))
    hashed = broker_hash(PASSWORD, salt)
    _, seven, rounds, b64salt, b64digest = hashed.split("$")
    assert (seven, rounds, base64.b64decode(b64salt)) == ("7", str(BROKER_ITERATIONS), salt)
    assert base64.b64decode(b64digest) == hashlib.pbkdf2_hmac("sha512", PASSWORD.encode(), salt, BROKER_ITERATIONS,
                                                              64)
    assert broker_hash(PASSWORD) != broker_hash(PASSWORD), "a fresh salt each time"


def test_broker_hash_matches_mosquitto_passwd(tmp_path: Path) -> None:
    tool = shutil.which("mosquitto_passwd")
    if tool is None:
        pytest.skip("mosquitto_passwd is not installed")
    file = tmp_path / "pw"
    subprocess.run([tool, "-c", "-b", str(file), "op-li", PASSWORD], check=True, capture_output=True, timeout=20)
    theirs = file.read_text().strip().split(":", 1)[1]
    salt = base64.b64decode(theirs.split("$")[3])
    assert broker_hash(PASSWORD, salt, iterations=int(theirs.split("$")[2])) == theirs  # its own rounds


def test_lockout_after_five_failures_and_unlock_after_the_lock_time(store: UserStore) -> None:
    store.add("op-li", "operator", PASSWORD)
    t0 = 1_800_000_000.0
    for i in range(MAX_FAILURES - 1):
        assert not store.verify("op-li", f"wrong password {i}", now=t0 + i)
        assert not store.locked("op-li", now=t0 + i)
    assert store.verify("op-li", PASSWORD, now=t0 + 5), "four failures do not lock"
    for i in range(MAX_FAILURES):  # the success reset the count: five more in a row are needed
        assert not store.locked("op-li", now=t0 + 10 + i)
        assert not store.verify("op-li", "wrong password!", now=t0 + 10 + i)
    t1 = t0 + 10 + MAX_FAILURES - 1
    assert store.locked("op-li", now=t1 + 1)
    assert not store.verify("op-li", PASSWORD, now=t1 + 1), "locked: even the right password is refused"
    assert store.locked("op-li", now=t1 + LOCK_S - 1)
    assert [u["locked"] for u in store.list(now=t1 + 60)] == [True]
    assert store.role_of("op-li") == "operator", "a lock stops logins, not the role of a running session"
    assert not store.locked("op-li", now=t1 + LOCK_S + 1)
    assert store.verify("op-li", PASSWORD, now=t1 + LOCK_S + 1)
    assert not store.locked("op-li", now=t1 + LOCK_S + 2)


def test_a_new_password_or_enable_clears_the_lock(store: UserStore) -> None:
    store.add("op-li", "operator", PASSWORD)
    for _ in range(MAX_FAILURES):
        store.verify("op-li", "wrong password!")
    assert store.locked("op-li")
    store.passwd("op-li", "the new password")
    assert not store.locked("op-li") and store.verify("op-li", "the new password")
    for _ in range(MAX_FAILURES):
        store.verify("op-li", "wrong password!")
    store.disable("op-li")
    store.enable("op-li")
    assert not store.locked("op-li") and store.verify("op-li", "the new password")


@pytest.mark.parametrize("name", ["", "a b", "op/li", "op+", "#", "x" * 129, "op:li", "名字", "a\0b"])
def test_bad_names_are_refused(store: UserStore, name: str) -> None:
    with pytest.raises(InputError, match="not a valid user name"):
        store.add(name, "operator", PASSWORD)
    assert not store.verify(name, PASSWORD)


@pytest.mark.parametrize("role", ["", "root", "Operator", "operators", None])
def test_bad_roles_are_refused(store: UserStore, role: object) -> None:
    with pytest.raises(InputError, match="not a role"):
        store.add("op-li", role, PASSWORD)  # type: ignore[arg-type]


@pytest.mark.parametrize("password", ["", "pw-9x", "123456789", "abc1xyz9q", "x" * 1025, "line\nbreak!!",
                                      "OP-LI"])
def test_bad_passwords_are_refused_without_repeating_them(store: UserStore, password: str) -> None:
    with pytest.raises(InputError) as error:
        store.add("op-li", "operator", password)
    assert "password" in str(error.value) and "op-li" in str(error.value)
    if len(password) >= 4:
        assert password not in str(error.value)
    store.add("op-li", "operator", PASSWORD)
    with pytest.raises(InputError):
        store.passwd("op-li", password)
    assert store.verify("op-li", PASSWORD)


def test_the_password_may_not_be_the_name(store: UserStore) -> None:
    with pytest.raises(InputError, match="is the user name"):
        store.add("operator-01", "operator", "Operator-01")


def test_every_role_can_be_given(store: UserStore) -> None:
    for i, role in enumerate(ROLES):
        store.add(f"user-{i}", role, PASSWORD)
        assert store.role_of(f"user-{i}") == role
    store.set_role("user-0", "supervisor")
    assert store.role_of("user-0") == "supervisor"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=st.one_of(st.text(max_size=140), st.from_regex(r"[A-Za-z0-9_.:\-]{1,130}", fullmatch=True)))
def test_any_name_is_either_a_safe_account_or_refused(store: UserStore, name: str) -> None:
    valid = is_safe_name(name) and ":" not in name
    if valid:
        if store.exists(name):
            return
        store.add(name, "unit", PASSWORD)
        assert store.role_of(name) == "unit" and store.verify(name, PASSWORD)
        assert (name, "unit") == next((n, r) for n, r, _h in store.broker_entries() if n == name)
    else:
        with pytest.raises(InputError):
            store.add(name, "unit", PASSWORD)
        assert store.role_of(name) is None and not store.verify(name, PASSWORD)
