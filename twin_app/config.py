"""The configuration file: TOML, read per machine, then per user, then ``--config FILE``; no Qt, no VTK.

Each later file overrides the keys that it sets (the command line then wins over all of them):

1. per machine: ``/etc/twin-app/config.toml`` on Linux (what the .deb installs),
   ``%PROGRAMDATA%\\twin-app\\config.toml`` on Windows, platformdirs' site configuration folder elsewhere
   (``$TWIN_APP_SITE_CONFIG`` names another file; set empty, none is read);
2. per user: platformdirs' user configuration folder, ``~/.config/twin-app/config.toml`` on Linux,
   ``%APPDATA%\\twin-app\\config.toml`` on Windows (``$TWIN_APP_USER_CONFIG`` likewise);
3. ``--config FILE``.

A missing file at 1 or 2 is skipped; every file read is checked as a whole before anything starts, and a problem is
reported as ``FILE: key 'broker.url': what is wrong``. The keys (see ``resources/config.example.toml``)::

    [broker]
    url = "mqtts://broker.example:8883"  # mqtt:// or mqtts://, host and port only
    ca_file = "ca.crt"                     # the CA that signed the broker's certificate
    root = "mumianling/v1"                 # the site's root topic
    user = "engine"                        # the account ...
    password_env = "TWIN_APP_MQTT_PASSWORD" # ... and where its password is: an environment variable
    # password_file = "engine.password"    # ... or a file (first line); never the password itself
    [model]
    ifc = "/srv/twin/mumianling.ifc"
    registry = "/srv/twin/devices.parquet"
    [console]
    language = "zh_CN"                     # zh_CN or en
    wall_screen = "HDMI-1"                 # the screen of the video wall

Relative paths are taken from the folder of the file that names them; ``~`` is the user's home.
"""

from __future__ import annotations

import os
import re
import sys
import tomllib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlencode, urlparse, urlunparse

import platformdirs

from twin_app.core.errors import InputError

APP_NAME = "twin-app"
FILE_NAME = "config.toml"
MAX_BYTES = 1 << 20  # a configuration file is a few hundred bytes; anything this big is not one
MAX_TEXT = 4096
LANGUAGES = ("zh_CN", "en")
PASSWORD_REFS = ("password_env", "password_file")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_HOST = re.compile(r"[A-Za-z0-9._:%-]+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


class ConfigError(InputError):
    """A configuration file that cannot be used: ``FILE: key 'section.key': what is wrong``.

    `problems` holds every problem found in the file, as (key, what) with key None for the file as a whole;
    the message is the first one.
    """

    def __init__(self, source: str | Path, problems: list[tuple[str | None, str]]) -> None:
        key, what = problems[0]
        super().__init__(str(source), what if key is None else f"key {_quote(key)}: {what}")
        self.source = str(source)
        self.key = key
        self.problems = problems

    def lines(self, most: int = 20) -> list[str]:
        """One line per problem, each ``FILE: key 'x': what`` (or ``FILE: what``); at most `most` and a count."""
        shown = [f"{self.source}: {what}" if key is None else f"{self.source}: key {_quote(key)}: {what}"
                 for key, what in self.problems[:most]]
        if len(self.problems) > most:
            shown.append(f"{self.source}: {len(self.problems) - most} more problems")
        return shown


# -- the keys ----------------------------------------------------------------------------------------------------

def _quote(text: str) -> str:
    """A key or value as shown in one line of a message: quoted, control characters escaped, at most 80 chars."""
    shown = text if len(text) <= 80 else text[:77] + "..."
    return f"'{shown}'" if shown.isprintable() and "'" not in shown else repr(shown)


def _kind(value: object) -> str:
    """What TOML type a value is, in words."""
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "a table"
    return "a date or time"


def _text(value: object, what: str = "a string") -> str:
    if not isinstance(value, str):
        raise ValueError(f"must be {what}, got {_kind(value)}")
    text = value.strip()
    if not text:
        raise ValueError("must not be empty")
    if len(text) > MAX_TEXT:
        raise ValueError(f"longer than {MAX_TEXT} characters")
    if _CONTROL.search(text):
        raise ValueError("holds a control character")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("is not valid Unicode text") from None
    return text


def _url(value: object, base: Path) -> str:
    text = _text(value, "a string such as \"mqtts://broker.example:8883\"")
    try:
        parsed = urlparse(text)
    except ValueError as exc:  # the text is not shown: it may hold a password
        raise ValueError(f"not a usable URL ({exc})") from None
    if "@" in parsed.netloc:  # checked first: no message below may show a password
        if ":" in parsed.netloc.rpartition("@")[0]:
            raise ValueError("the URL carries a password: a password is never kept in a configuration file "
                             "(give broker.user, and broker.password_env or broker.password_file)")
        raise ValueError("the URL carries a user name: give it as broker.user")
    if "@" in text:
        raise ValueError("not a usable URL: mqtt[s]://host[:port], the user in broker.user")
    try:
        port = parsed.port
    except ValueError:
        raise ValueError(f"{_quote(text)}: the port must be a number between 1 and 65535") from None
    if parsed.scheme not in ("mqtt", "mqtts"):
        raise ValueError(f"{_quote(text)}: the scheme must be mqtt:// or mqtts://")
    if not parsed.hostname or not _HOST.fullmatch(parsed.hostname):
        raise ValueError(f"{_quote(text)}: no usable host name")
    if port == 0:
        raise ValueError(f"{_quote(text)}: the port must be a number between 1 and 65535")
    if parsed.query or parsed.fragment or parsed.params or parsed.path not in ("", "/"):
        raise ValueError(f"{_quote(text)}: only mqtt[s]://host[:port]; the root topic is broker.root, the CA file "
                         "broker.ca_file")
    return text


def _file(value: object, base: Path) -> Path:
    text = _text(value, "a string (a file name)")
    try:
        path = Path(text).expanduser()
    except RuntimeError:  # ~name of an unknown user
        raise ValueError(f"{_quote(text)}: no such user's home folder") from None
    if not path.is_absolute():
        path = base / path
    try:
        if path.is_dir():
            raise ValueError(f"{path} is a folder, not a file")
        if not path.is_file():
            raise ValueError(f"missing file {path}")
    except OSError as exc:  # a name too long, a loop of links, ...
        raise ValueError(f"{_quote(str(path))} cannot be used ({exc.strerror or exc})") from None
    return path


def _ca_file(value: object, base: Path) -> Path:
    path = _file(value, base)
    try:
        with path.open("rb") as fh:
            head = fh.read(1 << 16)
    except OSError as exc:
        raise ValueError(f"{path} cannot be read ({exc.strerror})") from None
    if b"-----BEGIN CERTIFICATE-----" not in head:
        raise ValueError(f"{path} is not a PEM certificate (no BEGIN CERTIFICATE line)")
    return path


def _secret_file(value: object, base: Path) -> Path:
    path = _file(value, base)
    if os.name == "posix" and path.stat().st_mode & 0o004:
        raise ValueError(f"{path} is readable by every user of this machine (chmod o-r {path})")
    return path


def _root(value: object, base: Path) -> str:
    text = _text(value).strip("/")
    if not text:
        raise ValueError("must name at least one topic level, e.g. \"mumianling/v1\"")
    if any(c in text for c in "#+") or "//" in text or text.startswith("$"):
        raise ValueError(f"{_quote(text)}: not a topic root (no # or +, no empty level, not starting with $)")
    if len(text.encode("utf-8")) > 1024:
        raise ValueError("longer than 1024 bytes")
    return text


def _user(value: object, base: Path) -> str:
    text = _text(value)
    if len(text) > 256:
        raise ValueError("longer than 256 characters")
    return text


def _env_name(value: object, base: Path) -> str:
    text = _text(value, "a string (the name of an environment variable)")
    if not _ENV_NAME.fullmatch(text):
        raise ValueError(f"{_quote(text)} is not the name of an environment variable (letters, digits, _)")
    return text


def _language(value: object, base: Path) -> str:
    text = _text(value)
    if text not in LANGUAGES:
        raise ValueError(f"{_quote(text)}: must be one of {', '.join(LANGUAGES)}")
    return text


def _screen(value: object, base: Path) -> str:
    text = _text(value, "a string (the screen's name)")
    if len(text) > 256:
        raise ValueError("longer than 256 characters")
    return text


@dataclass(frozen=True)
class Key:
    check: Callable[[object, Path], Any]
    help: str


SCHEMA: dict[str, dict[str, Key]] = {
    "broker": {
        "url": Key(_url, "the broker: mqtt://host[:port] or mqtts://host[:port] (no user, password or query)"),
        "ca_file": Key(_ca_file, "the CA certificate that signed an mqtts:// broker's certificate (PEM)"),
        "root": Key(_root, "the site's root topic (default mumianling/v1)"),
        "user": Key(_user, "the broker account; with password_env or password_file"),
        "password_env": Key(_env_name, "the environment variable that holds the account's password"),
        "password_file": Key(_secret_file, "a file whose first line is the account's password (not readable by all)"),
    },
    "model": {
        "ifc": Key(_file, "the IFC model (default: the generated Mumianling district)"),
        "registry": Key(_file, "the device registry, Parquet (default: devices.parquet beside the IFC file)"),
    },
    "console": {
        "language": Key(_language, f"the console's language: {' or '.join(LANGUAGES)}"),
        "wall_screen": Key(_screen, "the screen (its name as the system gives it) the wall mode fills"),
    },
}
KEYS = tuple(f"{section}.{name}" for section, keys in SCHEMA.items() for name in keys)


def _is_password(name: str) -> bool:
    low = name.lower()
    return ("password" in low and low not in PASSWORD_REFS) or low in ("passwd", "pass", "secret")


_PASSWORD_REFUSED = ("a password is never kept in a configuration file: name the environment variable that holds it "
                     "(broker.password_env) or a file that holds it (broker.password_file)")


def check_document(doc: Mapping[str, Any], base: Path) -> tuple[dict[str, Any], list[tuple[str | None, str]]]:
    """Check a parsed TOML document against `SCHEMA`: (the values by dotted key, the problems as (key, what))."""
    values: dict[str, Any] = {}
    problems: list[tuple[str | None, str]] = []
    for section, table in doc.items():
        if _is_password(section):
            problems.append((section, _PASSWORD_REFUSED))
            continue
        keys = SCHEMA.get(section)
        if keys is None:
            owner = [f"{s}.{section}" for s, k in SCHEMA.items() if section in k]
            hint = f"it belongs in [{owner[0].split('.')[0]}]" if owner else \
                f"the sections are {', '.join(f'[{s}]' for s in SCHEMA)}"
            problems.append((section, f"unknown key ({hint})"))
            continue
        if not isinstance(table, dict):
            problems.append((section, f"must be a table ([{section}]), got {_kind(table)}"))
            continue
        for name, value in table.items():
            dotted = f"{section}.{name}"
            if _is_password(name):
                problems.append((dotted, _PASSWORD_REFUSED))
                continue
            key = keys.get(name)
            if key is None:
                problems.append((dotted, f"unknown key; the keys of [{section}] are {', '.join(keys)}"))
                continue
            try:
                values[dotted] = key.check(value, base)
            except ValueError as exc:
                problems.append((dotted, str(exc)))
    broker = doc.get("broker") if isinstance(doc.get("broker"), dict) else {}
    refs = [f"broker.{r}" for r in PASSWORD_REFS if r in broker]
    has_user = "user" in broker
    if len(refs) == 2:
        problems.append(("broker.password_file", "give broker.password_env or broker.password_file, not both"))
    if refs and not has_user:
        problems.append((refs[0], "names a password but broker.user is missing"))
    if has_user and not refs:
        problems.append(("broker.user", "needs broker.password_env or broker.password_file (where its password is)"))
    return values, problems


def read_file(path: str | Path) -> dict[str, Any]:
    """The checked values of one configuration file, by dotted key (``broker.url``).

    Raises
    ------
    ConfigError
        The file cannot be read, is not TOML, or any key is unknown, of the wrong type or with a bad value (every
        problem is in ``problems``; the message names the first).
    """
    path = Path(path)
    try:
        if path.is_dir():
            raise ConfigError(path, [(None, "is a folder, not a configuration file")])
        with path.open("rb") as fh:
            data = fh.read(MAX_BYTES + 1)
    except OSError as exc:
        what = "no such file" if isinstance(exc, FileNotFoundError) else f"cannot be read ({exc.strerror or exc})"
        raise ConfigError(path, [(None, what)]) from None
    if len(data) > MAX_BYTES:
        raise ConfigError(path, [(None, f"larger than {MAX_BYTES // 1024} kB: not a configuration file")])
    try:
        text = data.decode("utf-8-sig")  # a byte order mark (Windows editors) is allowed
    except UnicodeDecodeError as exc:
        raise ConfigError(path, [(None, f"not UTF-8 text (byte {exc.start})")]) from None
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(path, [(None, f"not valid TOML: {exc}")]) from None
    except RecursionError:
        raise ConfigError(path, [(None, "not valid TOML: nested too deeply")]) from None
    values, problems = check_document(doc, path.parent.resolve())
    if problems:
        raise ConfigError(path, problems)
    return values


# -- the files and their merge -----------------------------------------------------------------------------------

def _from_env(name: str, default: Callable[[], Path]) -> Path | None:
    """The file an environment variable names (empty: none), else `default()`."""
    value = os.environ.get(name)
    if value is None:
        return default()
    return Path(value).expanduser() if value.strip() else None


def _site_default() -> Path:
    if sys.platform in ("win32", "darwin"):  # %PROGRAMDATA%\twin-app, /Library/Application Support/twin-app
        return Path(platformdirs.site_config_dir(APP_NAME, appauthor=False)) / FILE_NAME
    return Path("/etc") / APP_NAME / FILE_NAME  # Linux and the BSDs: where the .deb installs it


def site_config_file() -> Path | None:
    """The per-machine file (``$TWIN_APP_SITE_CONFIG`` names another; set empty, none is read)."""
    return _from_env("TWIN_APP_SITE_CONFIG", _site_default)


def user_config_file() -> Path | None:
    """The per-user file (``$TWIN_APP_USER_CONFIG`` names another; set empty, none is read)."""
    return _from_env("TWIN_APP_USER_CONFIG", lambda: Path(
        platformdirs.user_config_dir(APP_NAME, appauthor=False, roaming=True)) / FILE_NAME)


@dataclass
class Config:
    """The merged configuration: each key's value and the file it came from."""

    values: dict[str, Any] = field(default_factory=dict)
    sources: dict[str, Path] = field(default_factory=dict)
    files: list[Path] = field(default_factory=list)

    def get(self, key: str, default: Any = None) -> Any:
        return self.values.get(key, default)

    def update(self, path: Path, values: Mapping[str, Any]) -> None:
        """Let the keys of a later file override: the user and the password reference go together."""
        if any(k in values for k in ("broker.user", *(f"broker.{r}" for r in PASSWORD_REFS))):
            for k in ("broker.user", *(f"broker.{r}" for r in PASSWORD_REFS)):
                self.values.pop(k, None)
                self.sources.pop(k, None)
        for key, value in values.items():
            self.values[key] = value
            self.sources[key] = path
        self.files.append(path)

    def summary(self) -> str:
        """One line: every key set, as key=value (never a password: none is ever in a file)."""
        if not self.values:
            return "no keys set"
        return ", ".join(f"{k}={self.values[k]}" for k in KEYS if k in self.values)

    def password(self) -> str:
        """The broker account's password, from the environment variable or the file the configuration names.

        Raises
        ------
        ConfigError
            The variable is not set or empty, or the file cannot be read or is empty; names the key and its file.
        """
        if "broker.password_env" in self.values:
            name = self.values["broker.password_env"]
            secret = os.environ.get(name)
            if not secret:
                raise ConfigError(self.sources["broker.password_env"],
                                  [("broker.password_env", f"the environment variable {name} is not set")])
            return secret
        path = self.values["broker.password_file"]
        try:
            first = path.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            reason = getattr(exc, "strerror", None) or "not UTF-8 text"
            raise ConfigError(self.sources["broker.password_file"],
                              [("broker.password_file", f"{path} cannot be read ({reason})")]) from None
        if not first or not first[0].strip():
            raise ConfigError(self.sources["broker.password_file"], [("broker.password_file", f"{path} is empty")])
        return first[0].strip()

    def broker_url(self, command_line: str | None = None) -> str | None:
        """The broker URL to connect to: `command_line` (``--broker``) or ``broker.url``, completed with the
        configured root, CA file and credentials where the URL does not give its own (and, for the CA and the
        credentials, where ``$TWIN_APP_MQTT_CA`` / ``$TWIN_APP_MQTT_USER`` do not either). None: no broker."""
        url = command_line or self.values.get("broker.url")
        if url is None:
            return None
        try:
            parsed = urlparse(url)
            query = parse_qs(parsed.query, keep_blank_values=True)
            user_in_url = parsed.username
        except ValueError:  # a command-line URL that cannot be read: parse_broker_url says why
            return url
        extra: dict[str, str] = {}
        if "root" not in query and "broker.root" in self.values:
            extra["root"] = self.values["broker.root"]
        if "ca" not in query and not os.environ.get("TWIN_APP_MQTT_CA") and "broker.ca_file" in self.values:
            extra["ca"] = str(self.values["broker.ca_file"])
        if extra:
            joined = "&".join(p for p in (parsed.query, urlencode(extra)) if p)
            parsed = parsed._replace(query=joined, path=parsed.path or "/")
        if not user_in_url and not os.environ.get("TWIN_APP_MQTT_USER") and "broker.user" in self.values:
            user, secret = self.values["broker.user"], self.password()
            netloc = f"{quote(user, safe='')}:{quote(secret, safe='')}@{parsed.netloc}"
            parsed = parsed._replace(netloc=netloc)
        return urlunparse(parsed)


def _present(path: Path, hidden_ok: bool) -> bool:
    """Whether there is a file to read at `path`: a missing one is skipped, a dangling link or an unreadable file
    is read (and reported); a folder on the way that this process may not enter counts as missing with
    `hidden_ok` (a service's home is hidden by systemd's ProtectHome), and is reported otherwise."""
    try:
        path.stat()
    except (FileNotFoundError, NotADirectoryError):
        return path.is_symlink()
    except PermissionError:
        if hidden_ok:
            try:
                path.parent.stat()
            except PermissionError:
                return False
        return True
    except OSError:
        return True
    return True


def load(paths: Iterable[Path | None], explicit: Path | None = None, hidden_ok: Iterable[Path] = ()) -> Config:
    """Merge the files that exist among `paths` (in order), then `explicit` (which must exist).

    A file of `hidden_ok` behind a folder this process may not enter is skipped like a missing one.

    Raises
    ------
    ConfigError
        For the first file with a problem.
    """
    config = Config()
    hidden = set(hidden_ok)
    for path in paths:
        if path is not None and _present(path, path in hidden):
            config.update(path, read_file(path))
    if explicit is not None:
        config.update(explicit, read_file(explicit))
    return config


def load_default(explicit: Path | None = None) -> Config:
    """The per-machine file, the per-user file, then ``--config FILE``."""
    user = user_config_file()
    return load((site_config_file(), user), explicit, hidden_ok=[user] if user is not None else [])


# -- applying it to the command line ----------------------------------------------------------------------------

# (key, attribute of the parsed command line): the file's value is taken where the command line gave none.
CONSOLE_KEYS = (("console.language", "lang"), ("console.wall_screen", "screen"))


def apply(args: Any, config: Config, *, needs_broker: bool = True) -> None:
    """Fill the options the command line left out (None) from `config`; command-line options win.

    ``model.registry`` is taken only with the file's own model: a ``--ifc`` on the command line brings its own
    registry (``--registry``, or ``devices.parquet`` beside it). With `needs_broker`, ``args.broker`` becomes the
    full URL (credentials resolved); raises `ConfigError` when they cannot be.
    """
    ifc_given = getattr(args, "ifc", None) is not None
    if not ifc_given and "model.ifc" in config.values:
        args.ifc = config.values["model.ifc"]
        if getattr(args, "registry", None) is None and "model.registry" in config.values:
            args.registry = config.values["model.registry"]
    elif not ifc_given and getattr(args, "registry", None) is None and "model.registry" in config.values:
        args.registry = config.values["model.registry"]
    for key, attr in CONSOLE_KEYS:
        if getattr(args, attr, None) is None and key in config.values:
            setattr(args, attr, config.values[key])
    if needs_broker:
        args.broker = config.broker_url(getattr(args, "broker", None))
