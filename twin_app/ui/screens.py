"""Which screen the console opens on (``--screen NAME``) and how much to scale it up for the video wall."""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication
from PySide6.QtGui import QGuiApplication, QScreen

REFERENCE_SIZE = (1920, 1080)  # the console is laid out for this many device-independent pixels ...
REFERENCE_DPI = 96.0  # ... at this logical DPI (100 % on Windows and X11)


def screen_names() -> list[str]:
    """The names of the connected screens (``QScreen.name()``), the primary one first."""
    primary = QGuiApplication.primaryScreen()
    screens = QGuiApplication.screens()
    ordered = ([primary] if primary is not None else []) + [s for s in screens if s is not primary]
    return [s.name() for s in ordered]


def _describe(screen: QScreen) -> str:
    size = screen.size()
    return f"{screen.name()} ({size.width()}×{size.height()})"


def find_screen(name: str | None) -> tuple[QScreen, str | None]:
    """The screen called `name`, else the primary screen and a message saying so.

    A name matches exactly, then ignoring case; a whole number picks the screen by its position in
    `screen_names`. The message (None when nothing fell back) names the screens that exist, for the log and
    the status bar.

    Raises
    ------
    RuntimeError
        When the application has no screen at all (no display).
    """
    primary = QGuiApplication.primaryScreen()
    if primary is None:
        raise RuntimeError(QCoreApplication.translate("screens", "No screen is connected."))
    if not name:
        return primary, None
    screens = QGuiApplication.screens()
    for match in (lambda s: s.name() == name, lambda s: s.name().casefold() == name.casefold()):
        found = [s for s in screens if match(s)]
        if found:
            return found[0], None
    names = screen_names()
    if name.strip().isdigit() and int(name) < len(names):
        return next(s for s in screens if s.name() == names[int(name)]), None
    others = ", ".join(_describe(s) for s in [primary, *[s for s in screens if s is not primary]])
    message = QCoreApplication.translate(
        "screens", "Screen '{name}' not found; using the primary screen {primary}. Screens: {screens}.").format(
        name=name, primary=_describe(primary), screens=others)
    return primary, message


def scale_for(logical_size: tuple[int, int], logical_dpi: float, device_pixel_ratio: float) -> float:
    """The factor that makes a screen read like a 1920x1080 screen at 96 dpi, however big its pixels count is.

    The rule: what the wall needs is its physical size against 1920x1080,
    ``wanted = min(width_px / 1920, height_px / 1080)`` with ``width_px = logical width * device_pixel_ratio``;
    what the system already does is ``applied = device_pixel_ratio * logical_dpi / 96`` (Qt's high-DPI scaling
    multiplies every size by the device pixel ratio, and point sizes follow the logical DPI). The factor is the
    rest, ``wanted / applied``, never below 1 (a user who set 125 % on a laptop keeps it; nothing is shrunk).
    The device pixel ratio cancels out: a 4K wall at 200 % (logical 1920x1080, ratio 2) gives 1 as Qt already
    doubles; the same wall at 100 % (3840x2160, ratio 1) gives 2; at 150 % (2560x1440 at ratio 1.5, or 3840x2160
    at 144 dpi where the platform scales fonts through the DPI) gives 4/3. The smaller of the two ratios keeps a
    wall of several monitors side by side (7680x2160) at 2, not 4.

    Parameters
    ----------
    logical_size
        The screen's size in device-independent pixels (``QScreen.size()``).
    logical_dpi
        ``QScreen.logicalDotsPerInch()``.
    device_pixel_ratio
        ``QScreen.devicePixelRatio()``.
    """
    width, height = logical_size
    if width <= 0 or height <= 0 or not logical_dpi > 0 or not device_pixel_ratio > 0:
        return 1.0
    wanted = min(width * device_pixel_ratio / REFERENCE_SIZE[0], height * device_pixel_ratio / REFERENCE_SIZE[1])
    applied = device_pixel_ratio * logical_dpi / REFERENCE_DPI
    return round(max(1.0, wanted / applied), 3)


def ui_scale(screen: QScreen) -> float:
    """`scale_for` of a real screen: pass it to ``apply_theme`` and ``KpiOverlay.set_scale``."""
    size = screen.size()
    return scale_for((size.width(), size.height()), screen.logicalDotsPerInch(), screen.devicePixelRatio())
