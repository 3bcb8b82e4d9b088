"""The console's themes: a dark control-room theme for the video wall and a light one for office PCs.

The dark theme follows ISA-101 (high-performance HMI): a calm grey base, low-contrast borders, muted selection,
and saturated colour kept for abnormal states only; the alarm priority colours are the same in both themes (and the
same hues as the incident list and the 3D markers). Font point sizes and the style sheet's pixel metrics are
multiplied by a scale factor (see `twin_app.ui.screens.ui_scale`) so a 4K wall reads like a 1920x1080 screen.
"""

from __future__ import annotations

from string import Template

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication, QStyleFactory

from twin_app.core.view_state import THEMES

__all__ = ["THEMES", "apply_theme", "current_theme", "style_sheet", "theme_colours"]
BASE_FONT_PROPERTY = "twin_app_base_font_pt"  # the application's font size before any theme scaled it
THEME_PROPERTY = "twin_app_theme"
SCALE_PROPERTY = "twin_app_scale"
MIN_BASE_POINT_SIZE = 10.0

# Alarm priorities: identical in both themes; the hues of command_panel.PRIORITY_STYLE and render.scene's markers
# (medium: the markers' amber #e69f00; the incident list's #b07800 is a darker shade of it, for text on white).
PRIORITY_COLOURS = {"critical": "#b2182b", "high": "#d55e00", "medium": "#e69f00", "low": "#0072b2"}
# Text on a tile filled with a level's colour (contrast >= 4.5:1 against the fill).
ON_COLOUR = {"critical": "#ffffff", "high": "#000000", "medium": "#000000", "low": "#ffffff",
             "warning": "#000000", "alarm": "#ffffff"}

_DARK = {
    "window": "#2b2b2b", "base": "#232323", "alternate_base": "#2e2e2e", "panel": "#313131", "button": "#363636",
    "button_hover": "#3e3e3e", "title": "#333333", "header": "#303030", "text": "#d0d0d0", "bright_text": "#ececec",
    "muted": "#9a9a9a", "disabled": "#6a6a6a", "border": "#3d3d3d", "border_strong": "#4a4a4a",
    "highlight": "#46566a", "highlight_text": "#ffffff", "focus": "#6f8aa8", "tooltip": "#3a3a3a",
    "tooltip_text": "#e6e6e6", "link": "#8fb3d9", "scroll_handle": "#4d4d4d", "scroll_handle_hover": "#5c5c5c",
    "tile": "#333333", "tile_label": "#b4b4b4", "tile_text": "#e0e0e0", "overlay": "#262626",
}
_LIGHT = {
    "window": "#efefef", "base": "#ffffff", "alternate_base": "#f7f7f7", "panel": "#e8e8e8", "button": "#efefef",
    "button_hover": "#e2e2e2", "title": "#e0e0e0", "header": "#e8e8e8", "text": "#1e1e1e", "bright_text": "#000000",
    "muted": "#5e5e5e", "disabled": "#a0a0a0", "border": "#c4c4c4", "border_strong": "#a8a8a8",
    "highlight": "#308cc6", "highlight_text": "#ffffff", "focus": "#308cc6", "tooltip": "#ffffdc",
    "tooltip_text": "#000000", "link": "#0057ae", "scroll_handle": "#c0c0c0", "scroll_handle_hover": "#a8a8a8",
    "tile": "#e4e4e4", "tile_label": "#4a4a4a", "tile_text": "#1e1e1e", "overlay": "#f2f2f2",
}

_DARK_QSS = Template("""
QMainWindow, QDialog { background: $window; }
QMainWindow::separator { background: $border; width: ${sep}px; height: ${sep}px; }
QMainWindow::separator:hover { background: $border_strong; }
QDockWidget { color: $text; }
QDockWidget::title { background: $title; color: $text; padding: ${pad}px ${pad2}px; border-bottom: 1px solid $border;
    text-align: left; }
QDockWidget::close-button, QDockWidget::float-button { background: transparent; border: none;
    padding: ${pad_half}px; }
QDockWidget::close-button:hover, QDockWidget::float-button:hover { background: $button_hover; }
QToolBar { background: $window; border: none; border-bottom: 1px solid $border; spacing: ${pad}px;
    padding: ${pad_half}px; }
QToolBar::separator { background: $border; width: 1px; margin: ${pad}px ${pad_half}px; }
QMenuBar { background: $window; color: $text; border-bottom: 1px solid $border; }
QMenuBar::item { background: transparent; padding: ${pad}px ${pad2}px; }
QMenuBar::item:selected, QMenuBar::item:pressed { background: $highlight; color: $highlight_text; }
QMenu { background: $panel; color: $text; border: 1px solid $border_strong; padding: ${pad_half}px; }
QMenu::item { padding: ${pad}px ${menu_right}px ${pad}px ${pad3}px; }
QMenu::item:selected { background: $highlight; color: $highlight_text; }
QMenu::item:disabled { color: $disabled; }
QMenu::separator { height: 1px; background: $border; margin: ${pad_half}px ${pad}px; }
QPushButton, QToolButton { background: $button; color: $text; border: 1px solid $border_strong;
    border-radius: ${radius}px; padding: ${pad}px ${pad2}px; }
QToolButton { padding: ${pad_half}px; }
QPushButton:hover, QToolButton:hover { background: $button_hover; }
QPushButton:pressed, QToolButton:pressed, QToolButton:checked { background: $highlight; color: $highlight_text; }
QPushButton:default { border: 1px solid $focus; }
QPushButton:disabled, QToolButton:disabled { color: $disabled; border-color: $border; }
QLineEdit, QPlainTextEdit, QTextEdit, QSpinBox, QDoubleSpinBox, QComboBox, QDateTimeEdit {
    background: $base; color: $text; border: 1px solid $border_strong; border-radius: ${radius}px;
    padding: ${pad_half}px ${pad}px; selection-background-color: $highlight; selection-color: $highlight_text; }
QLineEdit:focus, QPlainTextEdit:focus, QTextEdit:focus, QSpinBox:focus, QComboBox:focus { border: 1px solid $focus; }
QLineEdit:disabled, QComboBox:disabled { color: $disabled; }
QComboBox QAbstractItemView { background: $panel; color: $text; border: 1px solid $border_strong;
    selection-background-color: $highlight; }
QAbstractItemView { background: $base; alternate-background-color: $alternate_base; color: $text;
    border: 1px solid $border; gridline-color: $border; selection-background-color: $highlight;
    selection-color: $highlight_text; }
QTableView QTableCornerButton::section { background: $header; border: none; }
QHeaderView { background: $header; border: none; }
QHeaderView::section { background: $header; color: $muted; border: none; border-right: 1px solid $border;
    border-bottom: 1px solid $border; padding: ${pad_half}px ${pad}px; font-weight: bold; }
QTabWidget::pane { border: 1px solid $border; top: -1px; }
QTabBar::tab { background: $window; color: $muted; border: 1px solid $border; border-bottom: none;
    padding: ${pad}px ${pad2}px; margin-right: 1px; }
QTabBar::tab:selected { background: $panel; color: $bright_text; border-bottom: 2px solid $focus; }
QTabBar::tab:hover { color: $text; }
QScrollBar:vertical { background: $window; width: ${scroll}px; margin: 0; border: none; }
QScrollBar:horizontal { background: $window; height: ${scroll}px; margin: 0; border: none; }
QScrollBar::handle:vertical { background: $scroll_handle; min-height: ${scroll_min}px; border-radius: ${radius}px;
    margin: 2px; }
QScrollBar::handle:horizontal { background: $scroll_handle; min-width: ${scroll_min}px; border-radius: ${radius}px;
    margin: 2px; }
QScrollBar::handle:hover { background: $scroll_handle_hover; }
QScrollBar::add-line, QScrollBar::sub-line { width: 0; height: 0; border: none; background: none; }
QScrollBar::add-page, QScrollBar::sub-page { background: none; }
QToolTip { background: $tooltip; color: $tooltip_text; border: 1px solid $border_strong; padding: ${pad}px; }
QStatusBar { background: $title; color: $text; border-top: 1px solid $border; }
QStatusBar::item { border: none; }
QStatusBar QLabel { color: $text; }
QGroupBox { border: 1px solid $border; border-radius: ${radius}px; margin-top: ${group_top}px;
    padding-top: ${pad}px; }
QGroupBox::title { subcontrol-origin: margin; left: ${pad}px; color: $muted; }
QProgressBar { background: $base; border: 1px solid $border_strong; border-radius: ${radius}px; color: $text;
    text-align: center; }
QProgressBar::chunk { background: $highlight; }
QSplitter::handle { background: $border; }
QLabel:disabled { color: $disabled; }
QLabel a { color: $link; }
""")


def theme_colours(name: str) -> dict[str, str]:
    """The named colours of a theme (``#rrggbb``) for widgets that draw themselves.

    Besides the base colours (``window``, ``base``, ``text``, ``muted``, ``border``, ``tile``, ...) every theme has
    the alarm priorities ``critical``, ``high``, ``medium``, ``low`` (the same in both themes), ``warning`` (amber:
    stale data, a figure off its target) and ``alarm`` (red), and for each of these ``on_<name>``: the text colour
    readable on a fill of it.
    """
    if name not in THEMES:
        raise ValueError(f"unknown theme {name!r}: choose one of {', '.join(THEMES)}")
    colours = dict(_DARK if name == "dark" else _LIGHT)
    colours.update(PRIORITY_COLOURS)
    colours["warning"] = PRIORITY_COLOURS["medium"]
    colours["alarm"] = PRIORITY_COLOURS["critical"]
    colours.update({f"on_{level}": text for level, text in ON_COLOUR.items()})
    return colours


def _palette(colours: dict[str, str]) -> QPalette:
    palette = QPalette()
    roles = {
        QPalette.ColorRole.Window: "window", QPalette.ColorRole.WindowText: "text", QPalette.ColorRole.Base: "base",
        QPalette.ColorRole.AlternateBase: "alternate_base", QPalette.ColorRole.ToolTipBase: "tooltip",
        QPalette.ColorRole.ToolTipText: "tooltip_text", QPalette.ColorRole.PlaceholderText: "muted",
        QPalette.ColorRole.Text: "text", QPalette.ColorRole.Button: "button", QPalette.ColorRole.ButtonText: "text",
        QPalette.ColorRole.BrightText: "bright_text", QPalette.ColorRole.Highlight: "highlight",
        QPalette.ColorRole.HighlightedText: "highlight_text", QPalette.ColorRole.Link: "link",
        QPalette.ColorRole.LinkVisited: "link", QPalette.ColorRole.Light: "border_strong",
        QPalette.ColorRole.Midlight: "button_hover", QPalette.ColorRole.Mid: "border",
        QPalette.ColorRole.Dark: "base", QPalette.ColorRole.Shadow: "base",
    }
    for role, key in roles.items():
        palette.setColor(role, QColor(colours[key]))
    disabled = QColor(colours["disabled"])
    for role in (QPalette.ColorRole.WindowText, QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText,
                 QPalette.ColorRole.HighlightedText):
        palette.setColor(QPalette.ColorGroup.Disabled, role, disabled)
    palette.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Highlight, QColor(colours["border_strong"]))
    return palette


def style_sheet(name: str, scale: float = 1.0) -> str:
    """The application style sheet of a theme, its pixel metrics multiplied by `scale` ("" for the light one)."""
    if name == "light":
        theme_colours(name)
        return ""

    def px(value: float) -> int:
        return max(1, round(value * scale))

    metrics = {"pad": px(4), "pad_half": px(2), "pad2": px(8), "pad3": px(12), "menu_right": px(24),
               "radius": px(2), "sep": px(4), "scroll": px(14), "scroll_min": px(32), "group_top": px(16)}
    return _DARK_QSS.substitute(theme_colours(name), **{k: str(v) for k, v in metrics.items()}).strip()


def apply_theme(app: QApplication, name: str, scale: float = 1.0) -> None:
    """Apply a theme to the whole application: Fusion style, palette, style sheet, font size times `scale`.

    Applying again (another theme, another scale) starts from the application's original font size, so scales
    never compound; ``apply_theme(app, "light")`` gives back the plain Fusion look.

    Parameters
    ----------
    app
        The running application.
    name
        One of `THEMES`.
    scale
        Factor for font point sizes and pixel metrics (1 on a desktop, 2 on a 3840x2160 wall at 100 %).
    """
    colours = theme_colours(name)
    if not scale > 0:
        raise ValueError(f"scale must be positive, not {scale!r}")
    if app.property(BASE_FONT_PROPERTY) is None:  # the first theme: remember the size it started from
        size = app.font().pointSizeF()
        app.setProperty(BASE_FONT_PROPERTY, float(size) if size > 0 else MIN_BASE_POINT_SIZE)
    base = float(app.property(BASE_FONT_PROPERTY))
    if name == "dark":
        base = max(base, MIN_BASE_POINT_SIZE)  # the wall's theme never goes below 10 pt at scale 1
    fusion = QStyleFactory.create("Fusion")
    if fusion is not None:
        app.setStyle(fusion)
    app.setPalette(_palette(colours) if name == "dark" else app.style().standardPalette())
    font = app.font()
    font.setPointSizeF(base * scale)
    app.setFont(font)
    # the style sheet last: setting it polishes every widget again, with the application's new font (a font set
    # after an application style sheet does not reach the widgets that exist)
    sheet = style_sheet(name, scale)
    if sheet or scale != 1.0:
        sheet += f"\nQWidget {{ font-size: {base * scale:.1f}pt; }}"
    app.setStyleSheet(sheet)
    app.setProperty(THEME_PROPERTY, name)
    app.setProperty(SCALE_PROPERTY, float(scale))


def current_theme(app: QApplication) -> tuple[str | None, float]:
    """The theme last applied with `apply_theme` (None before any) and its scale."""
    name = app.property(THEME_PROPERTY)
    scale = app.property(SCALE_PROPERTY)
    return (str(name) if name else None), (float(scale) if scale else 1.0)
