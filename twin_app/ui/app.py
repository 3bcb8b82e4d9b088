"""Start the console: QApplication, main window, background load, optional screenshot."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import pyvista as pv
from PySide6.QtCore import QTimer
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication, QMessageBox

from twin_app.ui.login import LoginDialog, has_credentials, with_credentials
from twin_app.ui.main_window import MainWindow

EXIT_BAD_INPUT = 2
SCREENSHOT_TIMEOUT_MS = 10 * 60 * 1000
NO_TELEMETRY_S = 45  # a screenshot that waits for live data saves what it has (exit 2) after this long


def configure_rendering() -> None:
    """Settings for software OpenGL on the command-center machines: no MSAA (it triples frame time)."""
    pv.global_theme.multi_samples = 0
    pv.global_theme.allow_empty_mesh = True


def local_check(users: Path | None):
    """The login check against a user store on this machine (lockout after repeated failures), where there is one."""
    from twin_app.users_cli import configured_users_path

    path = configured_users_path(users)
    if path is None or not path.is_file():
        return None
    from twin_app.core.users import UserStore

    store = UserStore(path)

    def check(user: str, password: str) -> str | None:
        if store.locked(user):
            return "This account is locked after repeated failures: try again later or ask the administrator."
        if not store.verify(user, password):
            return "Wrong user name or password." + (" The account is now locked for a while." if
                                                     store.locked(user) else "")
        return None

    return check


def no_display(command: str) -> bool:
    """True (and the reason on stderr) on Linux without a display to open a window on."""
    if os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY") or not sys.platform.startswith("linux") \
            or os.environ.get("QT_QPA_PLATFORM"):
        return False
    print("twin-app: error: no display (DISPLAY is not set); run it under a desktop session or "
          f"xvfb-run -a -s '-screen 0 1920x1080x24' {command} ...", file=sys.stderr)
    return True


def register_fonts() -> str | None:
    """Give Qt the CJK font file VTK's labels use (Noto Sans CJK), so Chinese names draw even where fontconfig
    does not list it (a bundle on Windows); returns its family, None without one."""
    from PySide6.QtGui import QFontDatabase

    from twin_app.render.fonts import cjk_font_file

    path = cjk_font_file()
    if path is None:
        return None
    font_id = QFontDatabase.addApplicationFont(str(path))
    families = QFontDatabase.applicationFontFamilies(font_id) if font_id >= 0 else []
    return families[0] if families else None


def set_identity(app: QApplication) -> None:
    """The app's own icon (window, task bar) and the desktop entry it belongs to (twin-app.desktop)."""
    from twin_app import resources

    icon = resources.path("twin-app.svg")
    if icon.is_file():
        app.setWindowIcon(QIcon(str(icon)))
    app.setDesktopFileName("twin-app")
    register_fonts()


def install_presentation(app: QApplication, args: argparse.Namespace) -> str:
    """The language before any window exists (every widget is built in it); returns the language applied."""
    from twin_app.ui import settings
    from twin_app.ui.i18n import install_language, system_language

    return install_language(app, getattr(args, "lang", None) or settings.value("language") or system_language())


def present(window: MainWindow, args: argparse.Namespace) -> None:
    """The window's theme and wall mode from the command line (after `window.show()`; its language is the one
    `install_presentation` installed before the window was built)."""
    if getattr(args, "theme", None):
        window.view.theme = args.theme
    if getattr(args, "screen", None):
        window.wall_screen = args.screen
    if getattr(args, "wall", False):
        window.set_wall(True)


def restore_of(args: argparse.Namespace) -> str:
    """What of the saved layout a start restores: none for a screenshot, the docks only with a --size given."""
    if getattr(args, "screenshot", None) is not None:
        return "none"
    return "docks" if getattr(args, "size", "1920x1080") != "1920x1080" else "all"


def close_matches(window: MainWindow, text: str, count: int = 5) -> list[str]:
    """Element names and GlobalIds close to `text` (for a --select that matches nothing)."""
    import difflib

    if window.model is None:
        return []
    names = {str(n) for n in window.model.name if str(n)} | {str(g) for g in window.model.global_id}
    close = difflib.get_close_matches(text, sorted(names), n=count, cutoff=0.5)
    if len(close) < count:  # names that contain it, or that it contains, whatever their length
        lowered = text.lower()
        close += sorted(n for n in names if n not in close and (lowered in n.lower() or n.lower() in lowered)
                        and len(n) > 2)[:count - len(close)]
    return close


def save_screenshot(app: QApplication, window: MainWindow, path: Path, fail) -> None:
    """Save the window (its 3D view included) as PNG and end the application; `fail` says why it could not."""
    pixmap = window.grab_with_scene()
    path.parent.mkdir(parents=True, exist_ok=True)
    if not pixmap.save(str(path), "PNG"):
        fail(f"{path}: cannot write the PNG")
        return
    print(f"screenshot saved to {path}")
    app.exit(0)


def run_console(args: argparse.Namespace, size: tuple[int, int]) -> int:
    """Run the console until its window closes; returns the exit status."""
    configure_rendering()
    if no_display("twin-app"):
        return EXIT_BAD_INPUT
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("twin-app")
    app.setOrganizationName("Mumianling")
    set_identity(app)
    install_presentation(app, args)
    window = MainWindow(size, restore=restore_of(args))
    if args.sound is not None:
        window.sound = args.sound == "on"
    status = {"code": 0}

    def fail(message: str) -> None:
        if window.model is not None and args.screenshot is None:
            return  # a later File > Open failed: the window reports it and keeps its model
        status["code"] = EXIT_BAD_INPUT
        print(f"twin-app: error: {message}", file=sys.stderr)
        if args.screenshot is not None:
            app.exit(EXIT_BAD_INPUT)
            return
        box = QMessageBox(QMessageBox.Icon.Critical, "Cannot open the model", message, QMessageBox.StandardButton.Ok,
                          window)
        box.finished.connect(lambda _: app.exit(EXIT_BAD_INPUT))
        box.open()

    window.load_failed.connect(fail)
    if not args.no_telemetry and args.broker and args.screenshot is None and not has_credentials(args.broker) \
            and not os.environ.get("TWIN_APP_MQTT_USER") and not args.no_login:
        login = LoginDialog(args.broker.split("@")[-1].split("?")[0], local_check(args.users))
        if login.exec() != LoginDialog.DialogCode.Accepted:
            print("twin-app: no login: the console needs an account on the broker (or --no-login for an open "
                  "broker)", file=sys.stderr)
            return EXIT_BAD_INPUT
        args.broker = with_credentials(args.broker, login.user, login.password)
    if not args.no_telemetry:
        window.telemetry_args = {"broker": args.broker, "scenario": args.scenario, "rate": args.rate,
                                 "events_per_hour": args.events_per_hour,
                                 "engine": args.engine, "operator": args.operator, "console": args.console,
                                 "data_dir": args.data_dir}
    if args.select:
        def select() -> None:
            if not window.select_by_text(args.select):
                close = close_matches(window, args.select)
                hint = f"; close matches: {', '.join(close)}" if close else "; nothing close (twin-app inspect " \
                    "--json lists the model)"
                status["code"] = EXIT_BAD_INPUT
                print(f"twin-app: error: --select {args.select!r}: no such element{hint}", file=sys.stderr)
                app.exit(EXIT_BAD_INPUT)

        window.model_ready.connect(select)
    if args.select_incident:
        def open_most_urgent() -> None:
            standing = window.incident_dock.standing()
            if standing and window.incident_detail.incident is None:
                window.incident_dock.select_incident(str(standing[0]["id"]))

        watch = QTimer(window)
        watch.setInterval(1000)
        watch.timeout.connect(open_most_urgent)
        watch.start()
    if args.screenshot is not None:
        def save() -> None:
            save_screenshot(app, window, args.screenshot, fail)

        def save_without_telemetry(message: str, code: int) -> None:
            """Telemetry that cannot come is never waited for: the model is saved as it is, with the reason."""
            print(f"twin-app: {'error' if code else 'note'}: {message}; the screenshot shows the model without "
                  "live telemetry", file=sys.stderr)
            status["code"] = code
            QTimer.singleShot(300, save)

        if window.telemetry_args is None:
            window.model_ready.connect(lambda: QTimer.singleShot(300, save))
        else:  # the contract: wait for the model and the first telemetry
            window.telemetry_drawn.connect(lambda: QTimer.singleShot(args.screenshot_delay * 1000, save))
            window.telemetry_failed.connect(lambda message: save_without_telemetry(message, EXIT_BAD_INPUT))

            def no_registry() -> None:
                if window.devices is None:  # no registry, or an empty or damaged one (the window says which)
                    problem = window.registry_problem or "the model has no device registry"
                    save_without_telemetry(problem, 0)

            def no_telemetry() -> None:
                if not window._telemetry_drawn and window.model is not None and window.devices is not None:
                    live = window.live
                    where = f"{live.runtime.url_display}: {live.connection}" if live is not None else "none"
                    save_without_telemetry(f"no live telemetry within {NO_TELEMETRY_S} s of the model being drawn "
                                           f"(broker {where})", EXIT_BAD_INPUT)

            window.model_ready.connect(no_registry)
            window.model_ready.connect(lambda: QTimer.singleShot(NO_TELEMETRY_S * 1000, no_telemetry))
        QTimer.singleShot(SCREENSHOT_TIMEOUT_MS, lambda: fail("the model was not drawn within 10 minutes"))
    window.show()
    present(window, args)
    window.start_loading(args.ifc, {"towers": args.towers, "seed": args.seed, "storeys": args.storeys},
                         registry=args.registry)
    code = app.exec()
    window.close()
    return status["code"] or code


def run_replay_console(args: argparse.Namespace, source: Path, ifc: Path | None, district: dict,
                       at: float | None) -> int:
    """The console on a recording (`twin-app replay`): the model it names, then the replay or training."""
    import getpass

    configure_rendering()
    if no_display("twin-app replay"):
        return EXIT_BAD_INPUT
    try:
        width, height = (int(v) for v in args.size.lower().split("x"))
    except ValueError:
        print(f"twin-app: error: --size {args.size!r}: expected WIDTHxHEIGHT", file=sys.stderr)
        return EXIT_BAD_INPUT
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("twin-app")
    app.setOrganizationName("Mumianling")
    set_identity(app)
    install_presentation(app, args)
    window = MainWindow((width, height), restore=restore_of(args))
    status = {"code": 0}
    mode = "training" if args.training else "re_evaluate" if args.re_evaluate else "as_recorded"

    def fail(message: str) -> None:
        status["code"] = EXIT_BAD_INPUT
        print(f"twin-app: error: {message}", file=sys.stderr)
        app.exit(EXIT_BAD_INPUT)

    def save() -> None:
        save_screenshot(app, window, args.screenshot, fail)

    def opened() -> None:
        trainee = args.trainee or getpass.getuser() or "trainee"
        if not window.open_recording(source, mode, trainee=trainee):
            fail(window.error_dialog.text() if window.error_dialog is not None else f"{source}: cannot replay")
            return
        if at is not None:
            window.live.seek(at)
        if args.speed is not None:
            window.timeline.speed_box.setCurrentIndex(max(0, window.timeline.speed_box.findData(args.speed)))
            window.live.speed = args.speed
            window.timeline.play_button.setChecked(True)
        if args.screenshot is not None:
            QTimer.singleShot(1500, save)

    window.load_failed.connect(fail)
    window.model_ready.connect(opened)
    if args.screenshot is not None:
        QTimer.singleShot(SCREENSHOT_TIMEOUT_MS, lambda: fail("the recording was not drawn within 10 minutes"))
    window.show()
    present(window, args)
    window.start_loading(ifc, district, registry=args.registry)
    code = app.exec()
    if window.live is not None and getattr(window.live, "training", False) and window.training_report is None \
            and args.screenshot is None:  # a screenshot leaves no scored record
        report = window.finish_training(show=False)
        if report is not None:
            print(f"training report saved to {report}")
    window.close()
    return status["code"] or code
