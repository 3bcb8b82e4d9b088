"""The configuration file (twin_app/config.py): its keys, its checks, the order of the files, and hostile input.

Every problem is reported as ``FILE: key 'section.key': what is wrong`` (``twin-app config check`` exits 2), never a
traceback; a password is never accepted in a file; the command line wins over every file, and the per-user file
over the per-machine one.
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import os
import re
import tomllib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from twin_app import cli, resources
from twin_app import config as cfg

CA_PEM = "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIU\n-----END CERTIFICATE-----\n"
LINE = re.compile(r"^twin-app: error: (?P<file>.+?): key '(?P<key>[^']+)': (?P<what>.+)$")


# -- a small TOML writer for the generated documents ------------------------------------------------------------

def _toml_string(text: str) -> str:
    out = []
    for ch in text:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def _toml_key(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else _toml_string(key)


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf") if math.isinf(value) else repr(value)
    if isinstance(value, str):
        return _toml_string(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_toml_key(k)} = {_toml_value(v)}" for k, v in value.items()) + "}"
    raise TypeError(value)


def dumps(doc: dict) -> str:
    """TOML for a document of scalars at the top and tables of anything below."""
    lines = [f"{_toml_key(k)} = {_toml_value(v)}" for k, v in doc.items() if not isinstance(v, dict)]
    for name, table in doc.items():
        if isinstance(table, dict):
            lines.append(f"[{_toml_key(name)}]")
            lines += [f"{_toml_key(k)} = {_toml_value(v)}" for k, v in table.items()]
    return "\n".join(lines) + "\n"


def test_the_writer_writes_toml() -> None:
    doc = {"a": 1, "b": {"c": "x\"\\\n\x7f€", "d": [1.5, float("inf")], "e": {"f": True}, "g": dt.date(2026, 1, 2)}}
    assert tomllib.loads(dumps(doc)) == doc


# -- fixtures ---------------------------------------------------------------------------------------------------

@pytest.fixture
def files(tmp_path: Path) -> Path:
    """A folder with the files a valid configuration names: a CA, a model, a registry, a password file."""
    (tmp_path / "ca.crt").write_text(CA_PEM)
    (tmp_path / "m.ifc").write_text("ISO-10303-21;\n")
    (tmp_path / "devices.parquet").write_bytes(b"PAR1")
    secret = tmp_path / "engine.password"
    secret.write_text("s3cret:@/?\n")
    secret.chmod(0o600)
    return tmp_path


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def _check(path: Path, capsys) -> tuple[int, str, str]:
    status = cli.main(["config", "check", str(path)])
    out, err = capsys.readouterr()
    return status, out, err


def _example_pointing_at(folder: Path) -> str:
    text = resources.path("config.example.toml").read_text(encoding="utf-8")
    return (text.replace("/etc/twin-app/ca.crt", str(folder / "ca.crt"))
            .replace("/var/lib/twin-app/model/mumianling.ifc", str(folder / "m.ifc"))
            .replace("/var/lib/twin-app/model/devices.parquet", str(folder / "devices.parquet")))


# -- the example and `config check` -----------------------------------------------------------------------------

def test_the_shipped_example_sets_every_key_and_passes_the_check(files: Path, capsys) -> None:
    example = tomllib.loads(resources.path("config.example.toml").read_text(encoding="utf-8"))
    set_keys = {f"{section}.{key}" for section, table in example.items() for key in table}
    commented = set(re.findall(r"^# (\w+) = ", resources.path("config.example.toml").read_text(), re.M))
    assert set_keys | {f"broker.{k}" for k in commented} == set(cfg.KEYS)
    status, out, err = _check(_write(files / "site.toml", _example_pointing_at(files)), capsys)
    assert status == 0, err
    assert err == "" and out.count("\n") == 1 and out.startswith(f"{files / 'site.toml'}: ok: ")
    assert "broker.url=mqtts://broker.mumianling.local:8883" in out and "console.language=zh_CN" in out
    # as shipped, its paths name a site's files: each missing one is named with its key
    status, _, err = _check(Path(str(resources.path("config.example.toml"))), capsys)
    assert status == 2
    assert {m["key"] for m in map(LINE.match, err.splitlines()) if m} == {"broker.ca_file", "model.ifc",
                                                                          "model.registry"}


def test_an_empty_file_is_valid(tmp_path: Path, capsys) -> None:
    status, out, _ = _check(_write(tmp_path / "empty.toml", "# nothing set\n"), capsys)
    assert status == 0 and out == f"{tmp_path / 'empty.toml'}: ok: no keys set\n"


BAD = [
    ("[broker]\nurl = 'http://broker:1883'\n", "broker.url", "scheme must be mqtt:// or mqtts://"),
    ("[broker]\nurl = 'mqtt://broker:99999'\n", "broker.url", "port must be a number between 1 and 65535"),
    ("[broker]\nurl = 'mqtt://broker:0'\n", "broker.url", "port must be a number between 1 and 65535"),
    ("[broker]\nurl = 'mqtt://'\n", "broker.url", "no usable host name"),
    ("[broker]\nurl = 'mqtt://b/?root=x'\n", "broker.url", "the root topic is broker.root"),
    ("[broker]\nurl = 'mqtt://op:pw@b'\n", "broker.url", "a password is never kept in a configuration file"),
    ("[broker]\nurl = 'mqtt://op@b'\n", "broker.url", "give it as broker.user"),
    ("[broker]\nurl = 1883\n", "broker.url", "must be a string"),
    ("[broker]\nurl = ''\n", "broker.url", "must not be empty"),
    ("[broker]\npassword = 'hunter2'\n", "broker.password", "a password is never kept in a configuration file"),
    ("password = 'hunter2'\n", "password", "a password is never kept in a configuration file"),
    ("[broker]\nmqtt_password = 'x'\n", "broker.mqtt_password", "never kept in a configuration file"),
    ("[broker]\nuser = 'engine'\n", "broker.user", "needs broker.password_env or broker.password_file"),
    ("[broker]\npassword_env = 'X'\n", "broker.password_env", "broker.user is missing"),
    ("[broker]\nuser = 'e'\npassword_env = 'X'\npassword_file = 'engine.password'\n", "broker.password_file",
     "not both"),
    ("[broker]\nuser = 'e'\npassword_env = 'MY-PASSWORD'\n", "broker.password_env",
     "not the name of an environment variable"),
    ("[broker]\nuser = 'e'\npassword_file = 'nowhere.txt'\n", "broker.password_file", "missing file"),
    ("[broker]\nca_file = 'nowhere.crt'\n", "broker.ca_file", "missing file"),
    ("[broker]\nca_file = 'm.ifc'\n", "broker.ca_file", "not a PEM certificate"),
    ("[broker]\nca_file = '.'\n", "broker.ca_file", "is a folder, not a file"),
    ("[broker]\nroot = 'site/#'\n", "broker.root", "not a topic root"),
    ("[broker]\nroot = '//'\n", "broker.root", "at least one topic level"),
    ("[broker]\nport = 1883\n", "broker.port", "unknown key; the keys of [broker] are url, ca_file"),
    ("url = 'mqtt://b'\n", "url", "unknown key (it belongs in [broker])"),
    ("[wall]\nscreen = 'x'\n", "wall", "unknown key (the sections are [broker], [model], [console])"),
    ("broker = 'mqtt://b'\n", "broker", "must be a table ([broker]), got a string"),
    ("[model]\nifc = 'missing.ifc'\n", "model.ifc", "missing file"),
    ("[model]\nifc = ['m.ifc']\n", "model.ifc", "must be a string (a file name), got an array"),
    ("[model]\nregistry = '~no-such-user-here/devices.parquet'\n", "model.registry", "no such user's home folder"),
    ("[model]\nregistry = '" + "x" * 300 + "'\n", "model.registry", "cannot be used"),
    ("[console]\nlanguage = 'fr'\n", "console.language", "must be one of zh_CN, en"),
    ("[console]\nlanguage = true\n", "console.language", "must be a string, got a boolean"),
    ("[console]\nwall_screen = 2\n", "console.wall_screen", "got an integer"),
    ("[console]\nwall_screen = \"HDMI\\u0000\"\n", "console.wall_screen", "holds a control character"),
    ("[console]\nwall_screen = 1979-05-27\n", "console.wall_screen", "got a date or time"),
]


@pytest.mark.parametrize(("text", "key", "what"), BAD, ids=[f"{k}:{w[:30]}" for _, k, w in BAD])
def test_check_names_the_file_and_the_key(files: Path, capsys, text: str, key: str, what: str) -> None:
    path = _write(files / "bad.toml", text)
    status, out, err = _check(path, capsys)
    assert status == 2 and out == ""
    first = err.splitlines()[0]
    match = LINE.match(first)
    assert match, first
    assert match["file"] == str(path) and match["key"] == key and what in match["what"], first
    assert "Traceback" not in err and "hunter2" not in err


@pytest.mark.parametrize(("content", "what"), [
    (b"[broker\n", "not valid TOML: "),
    (b"a = 1\na = 2\n", "not valid TOML: "),
    (b"\xff\xfe[broker]\n", "not UTF-8 text (byte 0)"),
    (b"a = " + b"[" * 5000 + b"]" * 5000 + b"\n", "not valid TOML"),
    (b"# " + b"x" * (cfg.MAX_BYTES + 10), "not a configuration file"),
])
def test_check_names_the_file_of_an_unreadable_document(tmp_path: Path, capsys, content: bytes, what: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_bytes(content)
    status, _, err = _check(path, capsys)
    assert status == 2 and err.startswith(f"twin-app: error: {path}: ") and what in err, err
    assert err.count("\n") == 1


def test_check_of_a_missing_file_or_a_folder(tmp_path: Path, capsys) -> None:
    status, _, err = _check(tmp_path / "none.toml", capsys)
    assert status == 2 and err == f"twin-app: error: {tmp_path / 'none.toml'}: no such file\n"
    status, _, err = _check(tmp_path, capsys)
    assert status == 2 and err == f"twin-app: error: {tmp_path}: is a folder, not a configuration file\n"


def test_a_byte_order_mark_is_allowed(tmp_path: Path) -> None:
    path = tmp_path / "bom.toml"
    path.write_bytes("\ufeff[console]\nlanguage = 'en'\n".encode())
    assert cfg.read_file(path) == {"console.language": "en"}


def test_every_problem_is_reported_one_line_each(files: Path, capsys) -> None:
    path = _write(files / "bad.toml", "[broker]\nurl = 'ftp://x'\nroot = '#'\n[console]\nlanguage = 'de'\n")
    status, _, err = _check(path, capsys)
    assert status == 2
    assert [LINE.match(line)["key"] for line in err.splitlines()] == ["broker.url", "broker.root",
                                                                       "console.language"]


def test_relative_paths_are_taken_from_the_files_folder(files: Path, monkeypatch) -> None:
    monkeypatch.chdir("/")
    values = cfg.read_file(_write(files / "c.toml", "[model]\nifc = 'm.ifc'\nregistry = './devices.parquet'\n"))
    assert values == {"model.ifc": files / "m.ifc", "model.registry": files / "devices.parquet"}


def test_a_password_file_readable_by_all_is_refused(files: Path) -> None:
    (files / "engine.password").chmod(0o644)
    with pytest.raises(cfg.ConfigError, match="readable by every user"):
        cfg.read_file(_write(files / "c.toml", "[broker]\nuser = 'e'\npassword_file = 'engine.password'\n"))


# -- the order of the files and the command line ----------------------------------------------------------------

def _console_args(*argv: str) -> argparse.Namespace:
    return cli.build_parser().parse_args(list(argv))


def test_later_files_override_the_keys_they_set(files: Path, monkeypatch) -> None:
    site = _write(files / "site.toml", "[broker]\nurl = 'mqtt://site-broker'\nroot = 'site/v1'\n"
                                       "user = 'engine'\npassword_env = 'SITE_PW'\n[console]\nlanguage = 'zh_CN'\n")
    user = _write(files / "user.toml", "[console]\nlanguage = 'en'\nwall_screen = 'DP-1'\n")
    explicit = _write(files / "explicit.toml", "[broker]\nurl = 'mqtts://explicit:8884'\n")
    monkeypatch.setenv("TWIN_APP_SITE_CONFIG", str(site))
    monkeypatch.setenv("TWIN_APP_USER_CONFIG", str(user))
    merged = cfg.load_default(explicit)
    assert merged.files == [site, user, explicit]
    assert merged.values == {"broker.url": "mqtts://explicit:8884", "broker.root": "site/v1",
                             "broker.user": "engine", "broker.password_env": "SITE_PW",
                             "console.language": "en", "console.wall_screen": "DP-1"}
    assert merged.sources["broker.url"] == explicit and merged.sources["broker.root"] == site
    assert merged.sources["console.language"] == user
    # the user file is skipped where there is none; the explicit file must exist
    monkeypatch.setenv("TWIN_APP_USER_CONFIG", str(files / "absent.toml"))
    assert cfg.load_default().files == [site]
    with pytest.raises(cfg.ConfigError, match="no such file"):
        cfg.load_default(files / "absent.toml")


def test_the_user_and_the_password_reference_are_replaced_together(files: Path) -> None:
    site = _write(files / "site.toml", "[broker]\nuser = 'engine'\npassword_env = 'SITE_PW'\n")
    user = _write(files / "user.toml", "[broker]\nuser = 'op-li'\npassword_file = 'engine.password'\n")
    merged = cfg.load([site, user])
    assert merged.values == {"broker.user": "op-li", "broker.password_file": files / "engine.password"}


def test_a_folder_this_process_may_not_enter(files: Path, monkeypatch) -> None:
    """A service's home hidden by systemd (ProtectHome) hides the per-user file: skipped. A per-machine file that
    cannot be reached is a mistake of the installation: reported, naming the file."""
    (files / "site").mkdir()
    site = _write(files / "site" / "config.toml", "")
    user = files / "home" / ".config" / "twin-app" / "config.toml"
    real_stat = Path.stat

    def stat(self: Path, *args, **kwargs):
        if self.is_relative_to(files / "home") or self == site:
            raise PermissionError(13, "Permission denied", str(self))
        return real_stat(self, *args, **kwargs)

    monkeypatch.setattr(Path, "stat", stat)
    assert cfg.load([user], hidden_ok=[user]).files == []
    with pytest.raises(cfg.ConfigError) as caught:
        cfg.load([site, user], hidden_ok=[user])
    assert str(caught.value) == f"{site}: cannot be read (Permission denied)"


def test_the_command_line_wins_over_the_files(files: Path, monkeypatch) -> None:
    monkeypatch.setenv("SITE_PW", "pw")
    merged = cfg.load([_write(files / "site.toml", _example_pointing_at(files).replace(
        'password_env = "TWIN_APP_MQTT_PASSWORD"', 'password_env = "SITE_PW"'))])
    args = _console_args()
    cfg.apply(args, merged)
    assert args.ifc == files / "m.ifc" and args.registry == files / "devices.parquet"
    assert (args.lang, args.screen) == ("zh_CN", "HDMI-1")
    assert args.broker == (f"mqtts://engine:pw@broker.mumianling.local:8883/?root=mumianling%2Fv1&ca="
                           f"{str(files / 'ca.crt').replace('/', '%2F')}")
    other = files / "other.ifc"
    other.write_text("ISO-10303-21;\n")
    args = _console_args("--ifc", str(other), "--broker", "mqtt://op:x@cli-broker:1884/?root=cli")
    args.lang = "en"
    cfg.apply(args, merged)
    # --ifc brings its own registry: the file's registry belongs to the file's model
    assert args.ifc == other and args.registry is None and args.lang == "en"
    assert args.broker.startswith("mqtt://op:x@cli-broker:1884/?root=cli&ca=")  # its own root and login


def test_the_environment_login_wins_over_the_files(files: Path, monkeypatch) -> None:
    merged = cfg.load([_write(files / "site.toml", "[broker]\nurl = 'mqtt://b'\nuser = 'e'\npassword_env = 'PW'\n")])
    monkeypatch.setenv("TWIN_APP_MQTT_USER", "from-env")
    assert merged.broker_url() == "mqtt://b"  # parse_broker_url takes the user and password from the environment


def test_the_password_comes_from_the_variable_or_the_file(files: Path, monkeypatch) -> None:
    from twin_app.telemetry.mqtt import parse_broker_url, redact

    by_file = cfg.load([_write(files / "a.toml", "[broker]\nurl = 'mqtt://b:1884'\nuser = 'op@cc'\n"
                                                 "password_file = 'engine.password'\n")])
    url = parse_broker_url(by_file.broker_url())
    assert (url.username, url.password, url.port) == ("op@cc", "s3cret:@/?", 1884)
    assert "s3cret" not in redact(by_file.broker_url())
    by_env = cfg.load([_write(files / "b.toml", "[broker]\nurl = 'mqtt://b'\nuser = 'e'\npassword_env = 'PW_X'\n")])
    monkeypatch.delenv("PW_X", raising=False)
    with pytest.raises(cfg.ConfigError) as caught:
        by_env.broker_url()
    assert str(caught.value) == f"{files / 'b.toml'}: key 'broker.password_env': the environment variable PW_X is " \
                                "not set"
    monkeypatch.setenv("PW_X", "from-variable")
    assert parse_broker_url(by_env.broker_url()).password == "from-variable"


def test_serve_and_the_console_refuse_a_bad_file_before_starting(files: Path, capsys, monkeypatch) -> None:
    bad = _write(files / "bad.toml", "[console]\nlanguage = 'klingon'\n")
    assert cli.main(["serve", "--config", str(bad), "--broker", "mqtt://127.0.0.1:1"]) == 2
    assert capsys.readouterr().err == f"twin-app: error: {bad}: key 'console.language': 'klingon': must be one of " \
                                      "zh_CN, en\n"
    assert cli.main(["--config", str(bad), "--no-telemetry"]) == 2
    assert "key 'console.language'" in capsys.readouterr().err
    monkeypatch.setenv("TWIN_APP_SITE_CONFIG", str(bad))  # the per-machine file too
    assert cli.main(["serve", "--broker", "mqtt://127.0.0.1:1"]) == 2
    assert f"{bad}: key 'console.language'" in capsys.readouterr().err
    unset = _write(files / "unset.toml",
                   "[broker]\nurl = 'mqtt://127.0.0.1:1'\nuser = 'e'\npassword_env = 'NO_SUCH_PW'\n")
    monkeypatch.setenv("TWIN_APP_SITE_CONFIG", "")
    assert cli.main(["serve", "--config", str(unset)]) == 2
    assert "key 'broker.password_env': the environment variable NO_SUCH_PW is not set" in capsys.readouterr().err
    assert cli.main(["serve"]) == 2
    assert "no broker: give --broker URL, or broker.url in a configuration file" in capsys.readouterr().err


def test_config_show_lists_the_files_and_where_each_key_came_from(files: Path, capsys, monkeypatch) -> None:
    import json

    site = _write(files / "site.toml", "[console]\nlanguage = 'zh_CN'\n")
    monkeypatch.setenv("TWIN_APP_SITE_CONFIG", str(site))
    monkeypatch.setenv("TWIN_APP_USER_CONFIG", str(files / "nobody.toml"))
    explicit = _write(files / "x.toml", "[console]\nwall_screen = 'HDMI-2'\n")
    assert cli.main(["config", "show", "--config", str(explicit)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[:3] == [f"per machine: {site} (read)", f"per user: {files / 'nobody.toml'} (absent)",
                         f"--config: {explicit} (read)"]
    assert json.loads(lines[3]) == {"console.language": {"value": "zh_CN", "file": str(site)},
                                    "console.wall_screen": {"value": "HDMI-2", "file": str(explicit)}}


def test_the_default_locations(monkeypatch) -> None:
    import platformdirs

    monkeypatch.delenv("TWIN_APP_SITE_CONFIG")
    monkeypatch.delenv("TWIN_APP_USER_CONFIG")
    monkeypatch.setenv("XDG_CONFIG_HOME", "/xdg-config")
    assert cfg.site_config_file() == Path("/etc/twin-app/config.toml")
    assert cfg.user_config_file() == Path("/xdg-config/twin-app/config.toml")
    monkeypatch.setattr("sys.platform", "win32")
    monkeypatch.setattr(platformdirs, "site_config_dir", lambda name, appauthor: rf"C:\ProgramData\{name}")
    assert cfg.site_config_file() == Path(r"C:\ProgramData\twin-app") / "config.toml"


def test_the_cache_and_data_folders_follow_platformdirs(monkeypatch) -> None:
    from twin_app.bim.loader import cache_dir
    from twin_app.telemetry.runtime import data_dir

    assert cache_dir() == Path(os.environ["TWIN_APP_CACHE_DIR"])  # the overrides are kept
    assert data_dir() == Path(os.environ["TWIN_APP_DATA_DIR"])
    monkeypatch.delenv("TWIN_APP_CACHE_DIR")
    monkeypatch.delenv("TWIN_APP_DATA_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", "/xdg-cache")
    monkeypatch.setenv("XDG_DATA_HOME", "/xdg-data")
    assert cache_dir() == Path("/xdg-cache/twin_app")
    assert data_dir() == Path("/xdg-data/twin_app")


# -- hostile documents ------------------------------------------------------------------------------------------

_text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)
_names = st.one_of(st.sampled_from([*(k.split(".")[1] for k in cfg.KEYS), *cfg.SCHEMA, "password", "Password",
                                    "secret", "port", ""]), _text)
_scalars = st.one_of(_text, st.integers(-(2**63), 2**63 - 1), st.floats(allow_nan=True), st.booleans(),
                     st.dates(), st.sampled_from(["mqtt://broker:1883", "mqtts://[::1]:8883", "zh_CN", "en",
                                                  "ca.crt", "m.ifc", "engine.password", "site/v1", "PW", "/"]))
_values = st.recursive(_scalars, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                         st.dictionaries(_names, inner, max_size=3)), max_leaves=6)
_documents = st.dictionaries(_names, st.one_of(_values, st.dictionaries(_names, _values, max_size=6)), max_size=5)

HYPOTHESIS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _check_error(exc: cfg.ConfigError, path: Path, doc: dict) -> None:
    for line in exc.lines():
        assert line.startswith(f"{path}: ") and "\n" not in line
    named = set(doc) | {f"{s}.{n}" for s, table in doc.items() if isinstance(table, dict) for n in table}
    for key, what in exc.problems:
        assert what and "\n" not in what
        assert key is None or key in named, key


@HYPOTHESIS
@given(doc=_documents)
def test_any_document_is_either_valid_or_refused_naming_the_key(files: Path, doc: dict) -> None:
    path = files / "hostile.toml"
    path.write_text(dumps(doc), encoding="utf-8")
    try:
        values = cfg.read_file(path)
    except cfg.ConfigError as exc:
        _check_error(exc, path, doc)
        return
    assert set(values) <= set(cfg.KEYS)
    for key, value in values.items():
        section, name = key.split(".")
        assert doc[section][name] is not None and isinstance(value, str | Path)
    assert not any("password" in k.lower() and k not in ("broker.password_env", "broker.password_file")
                   for k in values)


@HYPOTHESIS
@given(data=st.binary(max_size=200))
def test_any_bytes_are_either_valid_or_refused_in_one_line(files: Path, data: bytes) -> None:
    path = files / "bytes.toml"
    path.write_bytes(data)
    try:
        cfg.read_file(path)
    except cfg.ConfigError as exc:
        assert all(line.startswith(f"{path}: ") and "\n" not in line for line in exc.lines())


@HYPOTHESIS
@given(url=st.one_of(_text.map(lambda t: "mqtt://" + t), _text.map(lambda t: "mqtts://broker" + t), _text))
def test_a_url_the_file_accepts_is_one_the_app_can_use(files: Path, url: str) -> None:
    from twin_app.telemetry.mqtt import parse_broker_url

    path = files / "url.toml"
    path.write_text(f"[broker]\nurl = {_toml_string(url)}\n", encoding="utf-8")
    try:
        values = cfg.read_file(path)
    except cfg.ConfigError as exc:
        assert exc.key == "broker.url"
        return
    parsed = parse_broker_url(cfg.Config(values, dict.fromkeys(values, path)).broker_url())
    assert parsed.username is None and parsed.password is None and 1 <= parsed.port <= 65535


@HYPOTHESIS
@given(secret=st.text(st.characters(whitelist_categories=("L", "N")), min_size=12, max_size=30),
       scheme=st.sampled_from(["mqtt", "mqtts", "http", ""]), host=_text, tail=_text)
def test_a_password_in_the_url_is_never_shown(files: Path, secret: str, scheme: str, host: str, tail: str) -> None:
    path = files / "leak.toml"
    path.write_text(f"[broker]\nurl = {_toml_string(f'{scheme}://op:{secret}@{host}{tail}')}\n", encoding="utf-8")
    with pytest.raises(cfg.ConfigError) as caught:
        cfg.read_file(path)
    assert secret not in "\n".join(caught.value.lines()) and secret not in str(caught.value)


_valid = st.fixed_dictionaries({}, optional={
    "broker.url": st.sampled_from(["mqtt://b", "mqtts://broker.site:8883", "mqtt://10.1.2.3:1884/"]),
    "broker.ca_file": st.just("ca.crt"),
    "broker.root": st.from_regex(r"[a-z0-9]{1,8}(/[a-z0-9]{1,8}){0,2}", fullmatch=True),
    "console.language": st.sampled_from(cfg.LANGUAGES),
    "console.wall_screen": st.text(st.characters(whitelist_categories=("L", "N", "Pd")), min_size=1, max_size=20),
    "model.ifc": st.just("m.ifc"),
})


def _nest(flat: dict) -> dict:
    doc: dict = {}
    for key, value in flat.items():
        section, name = key.split(".")
        doc.setdefault(section, {})[name] = value
    return doc


@HYPOTHESIS
@given(layers=st.lists(_valid, min_size=1, max_size=4))
def test_valid_files_merge_key_by_key_in_order(files: Path, layers: list[dict]) -> None:
    paths = []
    for n, flat in enumerate(layers):
        paths.append(files / f"layer{n}.toml")
        paths[-1].write_text(dumps(_nest(flat)), encoding="utf-8")
    merged = cfg.load(paths)
    expected: dict = {}
    for flat in layers:
        expected.update(flat)
    paths_as_read = {"broker.ca_file": files / "ca.crt", "model.ifc": files / "m.ifc"}
    assert merged.values == {k: paths_as_read.get(k, v.strip("/") if k == "broker.root" else v)
                             for k, v in expected.items()}
    for key in merged.values:
        assert merged.sources[key] == paths[max(n for n, flat in enumerate(layers) if key in flat)]
