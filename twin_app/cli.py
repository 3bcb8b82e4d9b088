"""The ``twin-app`` command line (see README and ../shared/CONTRACT.md)."""

from __future__ import annotations

import argparse
import json
import os
import socket
import sys
from pathlib import Path

from twin_app.core.errors import InputError
from twin_app.telemetry.simulator import SCENARIOS

EXIT_BAD_INPUT = 2
SUBCOMMANDS = ("generate", "inspect", "bench", "serve", "simulate")
OTHER_COMMANDS = ("users", "audit", "export", "replay", "record-incidents", "config")  # with parsers of their own


def _fail(message: str) -> int:
    print(f"twin-app: error: {message}", file=sys.stderr)
    return EXIT_BAD_INPUT


def _apply_config(args: argparse.Namespace, needs_broker: bool) -> int | None:
    """Fill what the command line left out from the configuration files (twin_app/config.py); command-line options
    win. None when it went well, else the exit status after the messages (one line per problem)."""
    from twin_app import config

    try:
        config.apply(args, config.load_default(args.config), needs_broker=needs_broker)
    except config.ConfigError as exc:
        for line in exc.lines():
            _fail(line)
        return EXIT_BAD_INPUT
    return None


def _generate(args: argparse.Namespace) -> int:
    from twin_app.bim.generate import generate_district

    def progress(fraction: float, message: str) -> None:
        if not args.quiet:
            print(f"\r[{fraction * 100:5.1f}%] {message:<40}", end="", file=sys.stderr, flush=True)

    try:
        result = generate_district(args.out_dir, towers=args.towers, seed=args.seed, storeys=args.storeys,
                                   progress=progress)
    except (ValueError, OSError) as exc:
        if not args.quiet:
            print(file=sys.stderr)
        return _fail(f"{args.out_dir}: {exc}")
    if not args.quiet:
        print(file=sys.stderr)
    summary = {"ifc": str(result.ifc_path), "registry": str(result.registry_path), **result.counts,
               "devices": result.devices, "seconds": round(result.seconds, 2)}
    print(json.dumps(summary))
    return 0


def _inspect(args: argparse.Namespace) -> int:
    from twin_app.bim.loader import load_model

    try:
        result = load_model(args.file, use_cache=not args.no_cache)
    except InputError as exc:
        return _fail(str(exc))
    meta = dict(result.model.meta)
    report = {
        "file": str(args.file),
        "schema": meta["schema"],
        "length_unit": meta["length_unit"],
        "scale_to_metre": meta["scale_to_metre"],
        "counts": meta["counts"],
        "elements_with_geometry": meta["elements_with_geometry"],
        "skipped": meta["skipped"],
        "bbox_m": meta["bbox_m"],
        "seconds": round(result.seconds, 4),
        "from_cache": result.from_cache,
        "tessellation_seconds": meta["seconds"],
        "shared_geometries": meta.get("shared_geometries"),
        "triangles": {cat.name.lower(): mesh.n_cells for cat, mesh in result.model.meshes.items()},
    }
    if args.json:
        print(json.dumps(report))
    else:
        for key, value in report.items():
            print(f"{key:>24}: {value}")
    return 0


def _bench(args: argparse.Namespace) -> int:
    from twin_app.bench import run_bench

    only = {n.strip() for n in args.only.split(",") if n.strip()} if args.only else None
    if args.ifc is not None:
        from twin_app.bim.tessellate import check_ifc_path

        try:
            check_ifc_path(args.ifc)
        except InputError as exc:
            return _fail(str(exc))
    try:
        results = run_bench(only=only, ifc=args.ifc, duration_s=args.duration, sweep_period_s=args.sweep_period)
    except ValueError as exc:
        return _fail(str(exc))
    except InputError as exc:
        return _fail(str(exc))
    if args.json:
        print(json.dumps(results))
    else:
        for name, fig in results.items():
            if name == "conditions":
                print(f"conditions: {fig['value']}")  # the one-line summary bench.conditions() writes
                continue
            if fig.get("error"):
                print(f"{name:>22}: failed: {fig['error']}")
                continue
            base = f"  baseline {fig['baseline']} {fig['unit']}  ratio {fig['ratio']}x" if "baseline" in fig else ""
            print(f"{name:>22}: {fig['value']} {fig['unit']}{base}")
    return 0


def _district_registry(args: argparse.Namespace) -> tuple[Path, Path]:
    """The IFC file and registry a headless command works on (the generated district by default)."""
    from twin_app.bim.district_cache import ensure_district

    if args.ifc is None:
        generated = ensure_district()
        return generated.ifc_path, args.registry or generated.registry_path
    return args.ifc, args.registry or args.ifc.with_name("devices.parquet")


def _serve(args: argparse.Namespace) -> int:
    import logging
    import signal
    import time

    from twin_app.bim.loader import load_model
    from twin_app.core.devices import DeviceIndex
    from twin_app.core.registry import read_registry
    from twin_app.telemetry.mqtt import parse_broker_url
    from twin_app.telemetry.runtime import build_runtime, data_dir

    logging.basicConfig(level=logging.WARNING, format="serve: %(levelname)s %(name)s: %(message)s")
    failed = _apply_config(args, needs_broker=True)
    if failed is not None:
        return failed
    if args.broker is None:
        return _fail("no broker: give --broker URL, or broker.url in a configuration file (--config FILE)")
    folder = args.data_dir or data_dir()
    try:
        url = parse_broker_url(args.broker)
        if not 0 <= args.keep_recordings <= 3650:
            raise InputError("--keep-recordings", f"{args.keep_recordings}: between 0 (no recording) and 3650 days")
        ifc, registry = _district_registry(args)
        model = load_model(ifc).model
        index = DeviceIndex(read_registry(registry), model)
        accounts = None
        from twin_app.users_cli import configured_users_path

        users = configured_users_path(args.users)
        if users is not None:  # logins: an action counts only from an authenticated account its role allows
            from twin_app.core.users import UserStore

            if not users.is_file():
                raise InputError(str(users), "no such user store (create it with twin-app users add)")
            accounts = UserStore(users).role_of  # None when unknown or disabled (a lock stops logins only)
        elif url.username and not args.no_logins:
            raise InputError("--users", "the broker has logins, so the engine needs the user store to check roles "
                                        "(--users FILE or $TWIN_APP_USERS; --no-login to run without role checks)")
        else:
            logging.getLogger("twin_app.serve").warning(
                "logins are off (no --users): actions are applied under the name they give; see SECURITY in README")
        described = {"district": {"towers": 19, "seed": 20261124, "storeys": None}} if args.ifc is None else \
            {"ifc": str(Path(ifc).resolve())}
        runtime = build_runtime(index, url, rules=True, folder=folder, console="serve", client_id=args.client_id,
                                accounts=accounts, model=described, record=args.keep_recordings > 0,
                                retention_days=args.keep_recordings)
    except InputError as exc:
        return _fail(str(exc))
    engine, link = runtime.engine, runtime.link
    assert link is not None
    import gc

    gc.collect()
    gc.freeze()  # the model, registry and indexes are long-lived: later collections need not scan them
    link.on_state = lambda state: print(f"serve: broker {url.display}: {state}", file=sys.stderr, flush=True)
    print(f"serve: data folder {folder}, client id {args.client_id or engine.client_id}, restored {engine.restored}",
          file=sys.stderr, flush=True)
    stop = {"now": False}
    signal.signal(signal.SIGTERM, lambda *_: stop.update(now=True))
    signal.signal(signal.SIGINT, lambda *_: stop.update(now=True))
    runtime.start()
    started = time.monotonic()
    last_report = 0.0
    try:
        while not stop["now"]:
            time.sleep(0.1)
            try:
                result = runtime.step()
            except Exception:  # the engine guards each message; this is the last line, the loop goes on
                engine.count_error("internal", "step", "an engine step failed")
                logging.getLogger("twin_app.engine").exception("serve: engine step failed")
                continue
            now = time.monotonic()
            if now - last_report >= args.report_every:
                last_report = now
                standing = engine.alarms.standing()
                print(json.dumps({"t": round(now - started, 1), **runtime.summary(result),
                                  "alarms": engine.alarms.counts(), "standing": [a.id for a in standing[:20]],
                                  "flood": engine.alarms.flood(time.time()),
                                  "open_orders": [o.id for o in engine.dispatcher.open_orders(time.time())],
                                  "kpis": engine.kpis(time.time())}), flush=True)
            if args.duration is not None and now - started >= args.duration:
                break
    finally:
        runtime.stop()
    print(f"serve: stopped after {time.monotonic() - started:.1f} s", file=sys.stderr, flush=True)
    return 0


def _simulate(args: argparse.Namespace) -> int:
    import signal
    import time

    from twin_app.core.registry import read_registry
    from twin_app.telemetry.mqtt import make_client, parse_broker_url
    from twin_app.telemetry.simulator import Simulator, SimulatorRunner

    try:
        url = parse_broker_url(args.broker)
        _ifc, registry = _district_registry(args)
        devices = read_registry(registry)
    except InputError as exc:
        return _fail(str(exc))
    sim = Simulator(devices, seed=args.seed)
    try:
        runner_check = SimulatorRunner(sim, None, rate=args.rate, events_per_hour=args.events_per_hour)
    except ValueError as exc:
        return _fail(f"--rate or --events-per-hour: {exc}")
    try:
        scenario = sim.start_scenarios(args.scenario, time.time() + args.scenario_after)
    except ValueError as exc:
        return _fail(f"--scenario: {exc}")
    client = make_client(url, f"twin-app-simulate-{int(time.time()) % 100000}")
    try:
        client.connect(url.host, url.port, keepalive=15)
    except OSError as exc:
        return _fail(f"--broker {url.display}: cannot connect ({exc})")
    client.loop_start()
    runner = SimulatorRunner(sim, client, root=url.root, rate=runner_check.rate, events_per_hour=args.events_per_hour,
                             seed=args.seed)
    print(f"simulate: {len(devices):,} devices, {len(sim.gateway_names)} gateways, {args.rate} Hz per device, "
          f"scenario: {scenario}", file=sys.stderr, flush=True)
    signal.signal(signal.SIGTERM, lambda *_: runner.stop())
    try:
        runner.run(duration_s=args.duration)
    except KeyboardInterrupt:
        pass
    finally:
        client.loop_stop()
        client.disconnect()
    print(f"simulate: published {runner.published:,} messages, {runner.readings:,} readings", file=sys.stderr)
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The parser of the console options (the subcommands have their own)."""
    parser = argparse.ArgumentParser(
        prog="twin-app",
        description="Mumianling digital twin. With no options: the operator console on the generated district. "
                    f"Subcommands: {', '.join(SUBCOMMANDS + OTHER_COMMANDS)} (twin-app SUBCOMMAND --help).",
    )
    parser.add_argument("--ifc", type=Path, help="IFC file to open (default: model.ifc of the configuration files, "
                                                 "else the generated Mumianling district)")
    parser.add_argument("--registry", type=Path, help="device registry (Parquet); default: devices.parquet beside "
                                                      "the IFC file")
    parser.add_argument("--screenshot", type=Path, metavar="PNG",
                        help="start, wait until the model is drawn, save the main window as PNG and exit")
    parser.add_argument("--broker", metavar="URL",
                        help="MQTT broker, mqtt://[user:password@]host[:port][?root=mumianling/v1] or mqtts://...; "
                             "default: broker.url of the configuration files, else an embedded broker fed by the "
                             "telemetry simulator")
    parser.add_argument("--scenario", default="none", metavar="NAME[@TOWER],...",
                        help="incidents the embedded simulator injects, combinable and placeable, e.g. "
                             f"garage_co@T12,smoke_tower@T03 (default none); names: {', '.join(SCENARIOS)}")
    parser.add_argument("--rate", type=float, default=0.2,
                        help="reports per device per second of the embedded simulator (default 0.2)")
    parser.add_argument("--sound", choices=("on", "off"), default=None,
                        help="a sound with the notice of a new critical incident (default on; $TWIN_APP_SOUND=0 "
                             "turns it off)")
    parser.add_argument("--no-login", action="store_true",
                        help="connect to --broker without asking for a login (an open broker: a lab, a demo)")
    parser.add_argument("--users", type=Path, help="a user store on this machine: the login is checked there first "
                                                   "(lockout after repeated failures); default $TWIN_APP_USERS")
    parser.add_argument("--select-incident", action="store_true",
                        help="open the most urgent incident as soon as there is one (the wall, screenshots)")
    parser.add_argument("--events-per-hour", type=float, default=4.0,
                        help="residents' requests, grid staff reports and camera events per hour from the embedded "
                             "simulator (default 4)")
    parser.add_argument("--no-telemetry", action="store_true", help="the model alone, no MQTT")
    parser.add_argument("--engine", choices=("local", "remote"), default=None,
                        help="run the alarm engine in this console (local; the default without --broker) or show "
                             "the alarms of a twin-app serve (remote; the default with --broker)")
    parser.add_argument("--operator", default=os.environ.get("TWIN_APP_OPERATOR") or os.environ.get("USER") or
                        "operator", help="the operator's identity on every action (default $TWIN_APP_OPERATOR)")
    parser.add_argument("--console", default=socket.gethostname(), help="this console's name in the audit log")
    parser.add_argument("--data-dir", type=Path, help="data folder of this console's local engine (default: "
                                                      "console-NAME in the user's data folder; a fresh folder with "
                                                      "the embedded broker)")
    parser.add_argument("--screenshot-delay", type=int, default=1, metavar="S",
                        help="seconds of telemetry before --screenshot saves (default 1)")
    parser.add_argument("--select", metavar="NAME_OR_GLOBALID",
                        help="select an element (name such as T05-20F-A03, or GlobalId) once the model is drawn")
    parser.add_argument("--size", default="1920x1080", help="window size WIDTHxHEIGHT (default 1920x1080)")
    from twin_app.replay_cli import add_presentation_options

    add_presentation_options(parser)
    parser.add_argument("--towers", type=int, default=19, help="towers of the generated district (default 19)")
    parser.add_argument("--storeys", type=int, default=None, help="storeys above ground of every generated tower")
    parser.add_argument("--seed", type=int, default=20261124, help="seed of the generated district")
    parser.add_argument("--config", type=Path, metavar="FILE",
                        help="a configuration file read after the per-machine and per-user ones (twin-app config "
                             "show lists them); command-line options win over every file")
    return parser


def _subparser(name: str) -> argparse.ArgumentParser:
    if name == "generate":
        p = argparse.ArgumentParser(prog="twin-app generate",
                                    description="Write OUT_DIR/mumianling.ifc and OUT_DIR/devices.parquet.")
        p.add_argument("out_dir", type=Path)
        p.add_argument("--towers", type=int, default=19, help="number of towers, 1 to 20 (default 19)")
        p.add_argument("--seed", type=int, default=20261124, help="layout seed (default 20261124)")
        p.add_argument("--storeys", type=int, default=None,
                       help="storeys above ground for every tower (default: 33 to 56 drawn per tower)")
        p.add_argument("--quiet", action="store_true", help="no progress on stderr")
        return p
    if name in ("serve", "simulate"):
        p = argparse.ArgumentParser(
            prog=f"twin-app {name}",
            description="The headless engine: ingest and live state, a JSON summary line every few seconds."
            if name == "serve" else "Publish realistic telemetry and incidents for every device of the registry.")
        if name == "serve":
            p.add_argument("--broker", help="mqtt://[user:password@]host[:port][?root=...] or mqtts://; default: "
                                            "broker.url of the configuration files")
            p.add_argument("--config", type=Path, metavar="FILE",
                           help="a configuration file read after the per-machine and per-user ones (twin-app config "
                                "show lists them); command-line options win over every file")
        else:  # the simulator publishes to a broker named on its command line only, never to the site's broker
            p.add_argument("--broker", required=True, help="mqtt://[user:password@]host[:port][?root=...] or mqtts://")
        p.add_argument("--ifc", type=Path, help="model (default: model.ifc of the configuration files (serve), else "
                                                "the generated district)")
        p.add_argument("--registry", type=Path, help="device registry (default: devices.parquet beside the model)")
        p.add_argument("--duration", type=float, help="stop after this many seconds")
        if name == "serve":
            p.add_argument("--report-every", type=float, default=5.0, help="seconds between summary lines")
            p.add_argument("--data-dir", type=Path,
                           help="folder of the engine's durable state (alarms, orders, commands, audit); default: "
                                "$TWIN_APP_DATA_DIR or the user's data folder")
            p.add_argument("--client-id", help="MQTT client id of the engine (default: fixed per data folder)")
            p.add_argument("--keep-recordings", type=float, default=30.0, metavar="DAYS",
                           help="days of recording kept in {data folder}/recordings (default 30; 0: no recording)")
            p.add_argument("--no-login", "--no-logins", dest="no_logins", action="store_true",
                           help="run without role checks although the broker URL carries a login (a lab)")
            p.add_argument("--users", type=Path,
                           help="the user store (twin-app users): actions count only from the broker-authenticated "
                                "account of action/{verb}/{user}, allowed by its role (default: $TWIN_APP_USERS; "
                                "without it, no logins)")
        else:
            p.add_argument("--scenario", default="none", metavar="NAME[@TOWER],...",
                           help="incidents to inject, e.g. garage_co@T12,smoke_tower@T03; names: "
                                + ", ".join(SCENARIOS))
            p.add_argument("--events-per-hour", type=float, default=4.0,
                           help="residents' requests, grid staff reports and camera events per hour (default 4)")
            p.add_argument("--scenario-after", type=float, default=0.0, help="seconds before the incident starts")
            p.add_argument("--rate", type=float, default=0.2, help="reports per device per second (default 0.2)")
            p.add_argument("--seed", type=int, default=1, help="noise seed")
        return p
    if name == "bench":
        p = argparse.ArgumentParser(prog="twin-app bench",
                                    description="Benchmark figures, each beside its naive baseline in the same run.")
        p.add_argument("--json", action="store_true", help="print one JSON object keyed by figure name")
        p.add_argument("--only", help="comma-separated figure names")
        p.add_argument("--ifc", type=Path, help="measure on this IFC file instead of the full district")
        p.add_argument("--duration", type=float, default=20.0,
                       help="seconds of sustained ingest for the ingest figures (default 20; 600 for a soak)")
        p.add_argument("--sweep-period", type=float, default=1.0,
                       help="seconds between two reports of every device in the ingest figures (default 1)")
        return p
    p = argparse.ArgumentParser(prog="twin-app inspect",
                                description="Load an IFC file through the app's loader and report on it.")
    p.add_argument("file", type=Path)
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--no-cache", action="store_true", help="tessellate again even when a cache entry exists")
    return p


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``twin-app``."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "users":  # users and their broker accounts (twin_app/users_cli.py)
        from twin_app import users_cli

        return users_cli.main(argv[1:])
    if argv and argv[0] == "export":  # a window of a recording as one Parquet file
        from twin_app import export_cli

        return export_cli.main(argv[1:])
    if argv and argv[0] == "replay":  # the console on a recording, or the state at an instant as JSON
        from twin_app import replay_cli

        return replay_cli.main(argv[1:])
    if argv and argv[0] == "record-incidents":  # the historic incident recordings of assets/recordings
        from twin_app import replay_cli

        return replay_cli.record_incidents_main(argv[1:])
    if argv and argv[0] == "config":  # check a configuration file; show the configuration in force
        from twin_app import config_cli

        return config_cli.main(argv[1:])
    if argv and argv[0] == "audit":  # the audit log's hash chain, and exports for an inspector
        from twin_app import audit_cli

        return audit_cli.main(argv[1:])
    if argv and argv[0] in SUBCOMMANDS:
        args = _subparser(argv[0]).parse_args(argv[1:])
        commands = {"generate": _generate, "inspect": _inspect, "bench": _bench, "serve": _serve,
                    "simulate": _simulate}
        return commands[argv[0]](args)
    args = build_parser().parse_args(argv)
    failed = _apply_config(args, needs_broker=not args.no_telemetry)
    if failed is not None:
        return failed
    try:
        width, height = (int(v) for v in args.size.lower().split("x"))
    except ValueError:
        return _fail(f"--size {args.size!r}: expected WIDTHxHEIGHT, e.g. 1920x1080")
    if args.ifc is not None:
        from twin_app.bim.tessellate import check_ifc_path

        try:
            check_ifc_path(args.ifc)
        except InputError as exc:
            return _fail(str(exc))
    if args.registry is not None and not args.registry.is_file():
        return _fail(f"{args.registry}: device registry not found")
    if args.broker is not None:
        from twin_app.telemetry.mqtt import parse_broker_url

        try:
            parse_broker_url(args.broker)
        except InputError as exc:
            return _fail(str(exc))
    if not 0.0 < args.rate <= 10.0:
        return _fail(f"--rate {args.rate}: must be between 0 and 10 reports per device per second")
    if args.broker is None and not args.no_telemetry and args.scenario not in (None, "", "none"):
        from twin_app.telemetry.simulator import parse_scenarios

        try:  # checked before anything starts: a bad name must not wait for a window
            if args.ifc is None:  # the generated district: its towers are known now
                parse_scenarios(args.scenario, [f"T{i:02d}" for i in range(1, (args.towers or 19) + 1)])
            else:
                parse_scenarios(",".join(p.split("@")[0] for p in args.scenario.split(",")), [])
        except ValueError as exc:
            return _fail(f"--scenario: {exc}")
    from twin_app.ui.app import run_console

    return run_console(args, (width, height))


if __name__ == "__main__":
    sys.exit(main())
