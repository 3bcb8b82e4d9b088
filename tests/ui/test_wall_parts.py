"""The wall's building blocks in real widgets: the KPI tiles, the themes, the screen choice, the shortcuts help."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import Qt, QTranslator
from PySide6.QtGui import QAction, QColor, QGuiApplication, QKeySequence, QPalette
from PySide6.QtWidgets import QApplication, QMainWindow, QTableWidget, QWidget

from twin_app.core.wall import TILES, WallFigures
from twin_app.ui.kpi_overlay import KpiOverlay
from twin_app.ui.screens import find_screen, scale_for, screen_names, ui_scale
from twin_app.ui.shortcuts import ShortcutsDialog, menu_actions, shortcut_table
from twin_app.ui.theme import BASE_FONT_PROPERTY, SCALE_PROPERTY, THEME_PROPERTY, THEMES, apply_theme, theme_colours

BUSY = WallFigures(critical=1, high=2, medium=0, low=7, open_orders=3, overdue_orders=2, mean_handling_s=754.0,
                   within_deadline=0.874, devices_online=0.9996, devices_total=472_799, data_age_s=12.4)


@pytest.fixture
def app_state(qapp: QApplication):
    """Give back the application's look after a test changed its theme (other tests share the application)."""
    style, palette, sheet, font = qapp.style().name(), QPalette(qapp.palette()), qapp.styleSheet(), qapp.font()
    yield qapp
    if style:
        qapp.setStyle(style)
    qapp.setPalette(palette)
    qapp.setStyleSheet(sheet)
    qapp.setFont(font)
    for name in (BASE_FONT_PROPERTY, THEME_PROPERTY, SCALE_PROPERTY):
        qapp.setProperty(name, None)


def _pixel(widget: QWidget, x: int, y: int) -> QColor:
    return widget.grab().toImage().pixelColor(x, y)


def test_overlay_shows_the_figures_and_colours_the_abnormal_tiles(qtbot) -> None:
    overlay = KpiOverlay()
    qtbot.addWidget(overlay)
    overlay.resize(1900, 160)
    overlay.show()
    qtbot.waitExposed(overlay)
    assert set(overlay.tiles) == set(TILES)
    assert all(overlay.tile_text(k)[1] in ("0", "—") for k in TILES if k != "data_age")  # nothing yet
    overlay.set_figures(BUSY)
    assert overlay.tile_text("critical") == ("◆◆ Critical", "1")
    assert overlay.tile_text("overdue_orders") == ("Overdue", "2")
    assert overlay.tile_text("open_orders")[1] == "3" and overlay.tile_text("low")[1] == "7"
    assert overlay.tile_text("mean_handling")[1] == "13 min" and overlay.tile_text("within_deadline")[1] == "87 %"
    assert overlay.tile_text("devices_online")[1] == "99 %"  # floored: not every device reports
    assert overlay.tile_text("data_age")[1] == "12 s"
    assert "472,799" in overlay.tiles["devices_online"].toolTip()
    colours = theme_colours("dark")
    assert overlay.tile_colours("overdue_orders") == (colours["alarm"], colours["on_alarm"])
    assert overlay.tile_colours("critical") == (colours["critical"], colours["on_critical"])
    assert overlay.tile_colours("data_age") == (colours["warning"], colours["on_warning"])  # 12 s: amber
    assert overlay.tile_colours("open_orders") == (colours["tile"], colours["tile_text"])  # normal: calm grey
    # what the screen shows: the overdue tile is red, the open orders tile grey (sampled in the tile's margin)
    overdue, calm = overlay.tiles["overdue_orders"], overlay.tiles["open_orders"]
    qtbot.waitUntil(lambda: _pixel(overdue, overdue.width() // 2, 3) == QColor(colours["alarm"]))
    assert _pixel(calm, calm.width() // 2, 3) == QColor(colours["tile"])
    overlay.set_figures(WallFigures(devices_total=10, data_age_s=1.0, devices_online=1.0))
    assert overlay.tile_colours("overdue_orders")[0] == colours["tile"]  # back to normal
    assert overlay.tile_text("devices_online")[1] == "100 %"


def test_scale_doubles_the_font_sizes_and_the_layout_turns(qtbot) -> None:
    overlay = KpiOverlay(orientation=Qt.Orientation.Vertical, columns=2)
    qtbot.addWidget(overlay)
    overlay.set_figures(BUSY)
    tile = overlay.tiles["critical"]
    label, value = tile.label.font().pointSizeF(), tile.value.font().pointSizeF()
    assert value > label >= 12  # readable on a desktop at scale 1
    small = tile.value.sizeHint().height()
    overlay.set_scale(2.0)
    assert tile.label.font().pointSizeF() == 2 * label and tile.value.font().pointSizeF() == 2 * value
    assert tile.value.sizeHint().height() > 1.7 * small
    assert overlay._grid.columnCount() == 2 and overlay._grid.rowCount() == len(TILES) // 2
    overlay.set_orientation(Qt.Orientation.Horizontal)
    assert overlay._grid.rowCount() == 1 or all(
        overlay._grid.getItemPosition(overlay._grid.indexOf(t))[0] == 0 for t in overlay.tiles.values())
    with pytest.raises(ValueError):
        overlay.set_scale(0)
    overlay.retranslate()
    assert overlay.tile_text("critical") == ("◆◆ Critical", "1")


def test_overlay_screenshot_at_scale_two_on_the_dark_theme(qtbot, app_state, tmp_path) -> None:
    apply_theme(app_state, "dark", 2.0)
    view = QWidget()
    view.setStyleSheet("background: #1b2433;")  # the 3D view's backdrop
    qtbot.addWidget(view)
    overlay = KpiOverlay(view, overlay=True)
    overlay.set_scale(2.0)
    overlay.set_figures(BUSY)
    view.resize(3840, 500)
    overlay.setGeometry(0, 0, 3840, overlay.sizeHint().height())
    image = view.grab().toImage()
    path = tmp_path / "kpi_overlay.png"
    assert image.save(str(path))
    assert image.width() == 3840 and overlay.height() >= 150  # tall enough for 72 pt figures
    for tile in overlay.tiles.values():  # every text fits its tile
        assert tile.value.sizeHint().width() <= tile.width(), tile.key


def test_theme_applies_a_dark_window_and_restores_light(qtbot, app_state) -> None:
    app = app_state
    window = QMainWindow()
    window.setCentralWidget(QTableWidget(3, 3))
    qtbot.addWidget(window)
    window.show()
    base = app.font().pointSizeF()
    apply_theme(app, "dark", 2.0)
    dark = theme_colours("dark")
    assert app.palette().color(QPalette.ColorRole.Window) == QColor(dark["window"])
    assert window.palette().color(QPalette.ColorRole.Window) == QColor(dark["window"])
    assert QColor(dark["text"]).lightness() > 180 and QColor(dark["window"]).lightness() < 60
    for part in ("QDockWidget::title", "QHeaderView::section", "QToolBar", "QMenu", "QPushButton", "QLineEdit",
                 "QScrollBar", "QToolTip", "QStatusBar", "QTabBar::tab"):
        assert part in app.styleSheet(), part
    assert "width: 28px" in app.styleSheet()  # the scroll bars' 14 px, doubled
    assert app.font().pointSizeF() == pytest.approx(2 * max(base, 10.0))
    qtbot.waitUntil(lambda: window.grab().toImage().pixelColor(window.width() - 2, window.height() // 2).lightness()
                    < 80)
    apply_theme(app, "dark", 1.0)  # scales never compound
    assert app.font().pointSizeF() == pytest.approx(max(base, 10.0))
    apply_theme(app, "light")
    assert app.styleSheet() == "" and app.font().pointSizeF() == pytest.approx(base)
    assert app.style().name().lower() == "fusion"
    assert app.palette().color(QPalette.ColorRole.Window) == app.style().standardPalette().color(
        QPalette.ColorRole.Window)
    assert app.palette().color(QPalette.ColorRole.Window).lightness() > 200
    for name in THEMES:  # alarm colours are the same in both themes
        assert {k: theme_colours(name)[k] for k in ("critical", "high", "medium", "low")} == \
            {"critical": "#b2182b", "high": "#d55e00", "medium": "#e69f00", "low": "#0072b2"}
    with pytest.raises(ValueError, match="unknown theme"):
        apply_theme(app, "neon")


def test_find_screen_falls_back_to_the_primary_with_a_message(qapp) -> None:
    primary = QGuiApplication.primaryScreen()
    names = screen_names()
    assert names and names[0] == primary.name()
    assert find_screen(None) == (primary, None)
    assert find_screen(primary.name()) == (primary, None)
    assert find_screen("0") == (primary, None)
    screen, message = find_screen("WALL-LEFT-7")
    assert screen is primary and message is not None
    assert "WALL-LEFT-7" in message and primary.name() in message
    assert f"{primary.size().width()}×{primary.size().height()}" in message


def test_scale_for_reads_a_4k_wall_like_1080p_without_doubling_twice(qapp) -> None:
    assert scale_for((1920, 1080), 96, 1.0) == 1.0
    assert scale_for((3840, 2160), 96, 1.0) == 2.0  # a 4K wall at 100 %: we double
    assert scale_for((1920, 1080), 96, 2.0) == 1.0  # the same wall at 200 %: Qt already doubles
    assert scale_for((2560, 1440), 96, 1.5) == pytest.approx(4 / 3, abs=1e-3)  # 150 % through Qt's scaling
    assert scale_for((3840, 2160), 144, 1.0) == pytest.approx(4 / 3, abs=1e-3)  # 150 % through the font DPI
    assert scale_for((3840, 2160), 120, 1.0) == 1.6  # 125 %
    assert scale_for((1536, 864), 96, 1.25) == 1.0  # a 1080p laptop at 125 %: kept, never shrunk
    assert scale_for((1920, 1080), 120, 1.0) == 1.0
    assert scale_for((1366, 768), 96, 1.0) == 1.0
    assert scale_for((7680, 2160), 96, 1.0) == 2.0  # two 4K monitors side by side: the height decides
    assert scale_for((0, 0), 96, 1.0) == 1.0
    screen = QGuiApplication.primaryScreen()  # the real (Xvfb) screen
    size = screen.size()
    assert ui_scale(screen) == scale_for((size.width(), size.height()), screen.logicalDotsPerInch(),
                                         screen.devicePixelRatio())
    if (size.width(), size.height()) == (1920, 1080) and screen.logicalDotsPerInch() >= 96:
        assert ui_scale(screen) == 1.0


def _actions(parent: QWidget) -> dict[str, list[QAction]]:
    def action(text: str, *keys: str) -> QAction:
        act = QAction(text, parent)
        act.setShortcuts([QKeySequence(k) for k in keys])
        return act

    return {
        "&File": [action("&Open IFC…", "Ctrl+O"), action("&Quit", "Ctrl+Q")],
        "&View": [action("District &overview", "Home"), action("&Full screen", "F11"), action("No keys")],
        "&Incidents": [action("&Acknowledge", "Ctrl+K", "F4"), action("Dispatch && call", "Ctrl+D")],
    }


def test_shortcut_dialog_lists_every_action_with_its_key(qtbot) -> None:
    owner = QWidget()
    qtbot.addWidget(owner)
    groups = _actions(owner)
    native = QKeySequence.SequenceFormat.NativeText
    expected = [(text, QKeySequence(key).toString(native)) for text, key in (
        ("Open IFC…", "Ctrl+O"), ("Quit", "Ctrl+Q"), ("District overview", "Home"), ("Full screen", "F11"))]
    assert shortcut_table(groups["&File"] + groups["&View"]) == expected
    acknowledge = shortcut_table(groups["&Incidents"])
    assert acknowledge[0] == ("Acknowledge", f"{QKeySequence('Ctrl+K').toString(native)}, F4")
    assert acknowledge[1][0] == "Dispatch & call"
    dialog = ShortcutsDialog(groups, owner)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    rows = dialog.rows()
    assert len(rows) == 6 and ("File", "Quit", QKeySequence("Ctrl+Q").toString(native)) in rows
    assert {menu for menu, _, _ in rows} == {"File", "View", "Incidents"}
    assert dialog.tree.topLevelItem(0).text(0) == "File"
    qtbot.keyClicks(dialog.search, "quit")
    assert [r[1] for r in dialog.rows()] == ["Quit"] and not dialog.empty.isVisible()
    dialog.search.setText("F11")
    assert [r[1] for r in dialog.rows()] == ["Full screen"]
    dialog.search.setText("incidents")  # a menu's title shows its whole menu
    assert [r[1] for r in dialog.rows()] == ["Acknowledge", "Dispatch & call"]
    dialog.search.setText("zzz")
    assert dialog.rows() == [] and dialog.empty.isVisible()
    dialog.search.clear()
    assert len(dialog.rows()) == 6
    flat = ShortcutsDialog(groups["&File"])  # no menus: a flat list
    qtbot.addWidget(flat)
    assert [r[:2] for r in flat.rows(visible_only=False)] == [("", "Open IFC…"), ("", "Quit")]


def test_shortcut_groups_come_from_a_real_menu_bar(qtbot) -> None:
    window = QMainWindow()
    qtbot.addWidget(window)
    groups = _actions(window)
    for title, actions in groups.items():
        menu = window.menuBar().addMenu(title)
        menu.addActions(actions)
        if title == "&View":
            menu.addSeparator()
            sub = menu.addMenu("&Panels")
            sub.addAction(QAction("Model tree", window, shortcut=QKeySequence("Ctrl+1")))
    found = menu_actions(window.menuBar())
    assert list(found) == ["File", "View", "View › Panels", "Incidents"]
    dialog = ShortcutsDialog(found, window)
    qtbot.addWidget(dialog)
    assert ("View › Panels", "Model tree", QKeySequence("Ctrl+1").toString(QKeySequence.SequenceFormat.NativeText)) \
        in dialog.rows()


TS = """<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN">
<context><name>KpiOverlay</name>
<message><source>Overdue</source><translation>超时工单</translation></message>
<message><source>{seconds} s</source><translation>{seconds} 秒</translation></message>
</context>
<context><name>ShortcutsDialog</name>
<message><source>Keyboard shortcuts</source><translation>键盘快捷键</translation></message>
</context>
</TS>
"""


def test_a_language_change_sets_every_label_again(qtbot, qapp, tmp_path) -> None:
    source = tmp_path / "wall_zh_CN.ts"
    source.write_text(TS, encoding="utf-8")
    lrelease = Path(sys.executable).with_name("pyside6-lrelease")
    subprocess.run([str(lrelease), str(source), "-qm", str(tmp_path / "wall_zh_CN.qm")], check=True,
                   capture_output=True)
    overlay = KpiOverlay()
    qtbot.addWidget(overlay)
    overlay.set_figures(BUSY)
    dialog = ShortcutsDialog([])
    qtbot.addWidget(dialog)
    translator = QTranslator()
    assert translator.load(str(tmp_path / "wall_zh_CN.qm"))
    assert qapp.installTranslator(translator)
    try:
        qtbot.waitUntil(lambda: overlay.tile_text("overdue_orders")[0] == "超时工单")  # LanguageChange: retranslate
        assert overlay.tile_text("data_age")[1] == "12 秒" and dialog.windowTitle() == "键盘快捷键"
        assert overlay.tile_text("critical")[0] == "◆◆ Critical"  # untranslated texts stay English
    finally:
        qapp.removeTranslator(translator)
    qtbot.waitUntil(lambda: overlay.tile_text("overdue_orders")[0] == "Overdue")
    assert overlay.tile_text("data_age")[1] == "12 s" and dialog.windowTitle() == "Keyboard shortcuts"
