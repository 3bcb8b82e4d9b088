"""``twin-app users``: manage the accounts of operators and services, and the broker's files made from them.

After every change the broker's ``passwords`` and ``acl`` files are written again (``--broker-dir``, by default the
folder of the user store) and, with ``--reload-pid``, mosquitto is told to read them (SIGHUP). Passwords are read
from stdin (``--password-stdin``, one line) or asked twice without echo; they are never shown.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
from pathlib import Path

from twin_app.core.errors import InputError
from twin_app.core.roles import DESCRIPTION, ROLES
from twin_app.core.users import UserStore, check_password, check_role, check_user_name
from twin_app.telemetry.broker_accounts import reload_broker, write_broker_files
from twin_app.telemetry.ingest import DEFAULT_ROOT
from twin_app.telemetry.runtime import data_dir


def configured_users_path(explicit: Path | None = None) -> Path | None:
    """The user store named on the command line, else by ``$TWIN_APP_USERS``; None when neither names one."""
    override = os.environ.get("TWIN_APP_USERS")
    return explicit or (Path(override) if override else None)


def default_users_path() -> Path:
    """``$TWIN_APP_USERS``, else ``users.sqlite`` in the data folder (``$TWIN_APP_DATA_DIR`` or the user's)."""
    return configured_users_path() or data_dir() / "users.sqlite"


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    # SUPPRESS: given before or after the command, the option is kept (a subcommand's default never hides it).
    common.add_argument("--users", type=Path, default=argparse.SUPPRESS,
                        help="the user store (default $TWIN_APP_USERS or <data dir>/users.sqlite)")
    common.add_argument("--broker-dir", type=Path, default=argparse.SUPPRESS,
                        help="where the broker's 'passwords' and 'acl' files are written after every change "
                             "(default: the folder of the user store)")
    common.add_argument("--reload-pid", default=argparse.SUPPRESS, metavar="PID_OR_FILE",
                        help="mosquitto's process id or pid file: sent SIGHUP after every change")
    common.add_argument("--root", default=argparse.SUPPRESS,
                        help=f"the topic root in the ACL (default {DEFAULT_ROOT})")
    parser = argparse.ArgumentParser(prog="twin-app users", parents=[common],
                                     description="Manage operators, their roles and their broker accounts.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    roles = "; ".join(f"{role}: {DESCRIPTION[role]}" for role in ROLES)
    add = commands.add_parser("add", parents=[common], help="create an account", description=f"Roles: {roles}.")
    add.add_argument("name")
    add.add_argument("--role", required=True, help=f"one of {', '.join(ROLES)}")
    add.add_argument("--password-stdin", action="store_true", help="read the password from stdin (one line)")
    passwd = commands.add_parser("passwd", parents=[common], help="set a new password (clears a lock)")
    passwd.add_argument("name")
    passwd.add_argument("--password-stdin", action="store_true", help="read the password from stdin (one line)")
    for verb, text in (("disable", "refuse the account's logins (and drop it from the broker's files)"),
                       ("enable", "allow the account again (and clear its lock)")):
        commands.add_parser(verb, parents=[common], help=text).add_argument("name")
    listing = commands.add_parser("list", parents=[common], help="the accounts (no passwords, no hashes)")
    listing.add_argument("--json", action="store_true", help="one JSON array")
    return parser


def _password(name: str, from_stdin: bool) -> str:
    """The new password of `name`: one line of stdin, or asked twice on the terminal."""
    if from_stdin:
        line = sys.stdin.readline()
        password = line[:-1] if line.endswith("\n") else line
        return check_password(password.removesuffix("\r"), name, "stdin")
    first = getpass.getpass(f"New password for {name}: ")
    check_password(first, name, "the terminal")
    if getpass.getpass(f"Again, password for {name}: ") != first:
        raise InputError("the terminal", f"the two passwords for {name} differ")
    return first


def _run(args: argparse.Namespace) -> None:
    users = getattr(args, "users", None) or default_users_path()
    store = UserStore(users)
    try:
        if args.command == "list":
            accounts = store.list()
            if args.json:
                print(json.dumps(accounts, ensure_ascii=False, indent=1))
            else:
                for a in accounts:
                    state = "disabled" if a["disabled"] else "locked" if a["locked"] else "enabled"
                    print(f"{a['name']:<24} {a['role']:<11} {state:<9} updated {a['updated']}")
            return
        name = check_user_name(args.name, "NAME")
        if args.command == "add":
            check_role(args.role, "--role")
            if store.exists(name):  # said before the password is asked for
                raise InputError(f"user {name}", f"exists already in {store.path}")
            store.add(name, args.role, _password(name, args.password_stdin))
        elif args.command == "passwd":
            if not store.exists(name):
                raise InputError(f"user {name}", f"no such user in {store.path}")
            store.passwd(name, _password(name, args.password_stdin))
        elif args.command == "disable":
            store.disable(name)
        elif args.command == "enable":
            store.enable(name)
        broker_dir = getattr(args, "broker_dir", None) or Path(users).parent
        try:
            write_broker_files(store, broker_dir, getattr(args, "root", None) or DEFAULT_ROOT)
        except OSError as exc:
            raise InputError(str(broker_dir), f"{args.command} {name} is saved in the user store, but the broker's "
                                              f"files could not be written ({exc.strerror}): the broker does not "
                                              "know yet; fix the folder and run the command again") from None
        pid = getattr(args, "reload_pid", None)
        if pid is not None:
            try:
                reload_broker(pid)
            except InputError as exc:
                raise InputError(f"{args.command} {name}", f"saved and the broker's files written, but the broker "
                                 f"was NOT reloaded ({exc}): reload it now (systemctl reload mosquitto)") from None
        print(f"{args.command} {name}: done", file=sys.stderr)
    finally:
        store.close()


def main(argv: list[str]) -> int:
    """Run ``twin-app users ARGV``; 0 on success, 2 with one line on stderr on bad input."""
    args = _parser().parse_args(argv)  # a usage error exits 2 with argparse's message
    try:
        _run(args)
    except InputError as exc:
        print(f"twin-app users: {exc}", file=sys.stderr)
        return 2
    except (EOFError, KeyboardInterrupt):
        print("twin-app users: no password given", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
