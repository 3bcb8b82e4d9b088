"""The operator console: 3D view of the district, model tree dock and status bar."""

from __future__ import annotations

import contextlib
import os
import sys
import time
from pathlib import Path

import numpy as np
from PySide6.QtCore import QCoreApplication, QEvent, QItemSelectionModel, QModelIndex, QPoint, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QActionGroup, QImage, QKeySequence, QPainter, QPixmap
from PySide6.QtWidgets import (
    QApplication,
    QDockWidget,
    QDoubleSpinBox,
    QFileDialog,
    QLabel,
    QLineEdit,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QProgressDialog,
    QToolBar,
    QTreeView,
    QVBoxLayout,
    QWidget,
)
from pyvistaqt import QtInteractor

from twin_app.bim.loader import LoadResult
from twin_app.bim.properties import PropertyReader
from twin_app.core.devices import DeviceIndex
from twin_app.core.errors import InputError
from twin_app.core.model import Category, DistrictModel
from twin_app.core.report import incident_report_html
from twin_app.core.state import DeviceState
from twin_app.core.view_state import THEMES, ViewState, filter_states, focus_for
from twin_app.core.wall import WallFigures, wall_figures
from twin_app.render.scene import DistrictScene, IncidentMarker
from twin_app.ui import settings
from twin_app.ui.command_panel import DispatchDock, IncidentDock, incident_title
from twin_app.ui.gc_guard import collect_on_gui_thread
from twin_app.ui.i18n import LANGUAGES, current_language
from twin_app.ui.incident_detail import IncidentDetailDock
from twin_app.ui.kpi_overlay import KpiOverlay
from twin_app.ui.live import LegendDock, LiveTelemetry
from twin_app.ui.loading import ModelLoader, start_loader
from twin_app.ui.property_panel import PropertyPanel
from twin_app.ui.replay import ReplayTelemetry, TimelineDock, clock_text, training_report_path
from twin_app.ui.report_export import save_report
from twin_app.ui.tree_model import ElementTreeModel

LANGUAGE_NAMES = {"en": "English", "zh_CN": "中文（简体）"}

FRAME_INTERVAL_MS = 33  # at most one render per frame
CLICK_TOLERANCE_PX = 4
NO_DATA_AFTER_S = 10.0  # no live data for this long: the full-width banner says so
BLINK_MS = 500  # unacknowledged incidents flash at 1 Hz (ISA-101)
TREND_DEVICES = 6


def category_name(cat: Category) -> str:
    """A category's name for the operator."""
    names = {Category.STRUCTURE: QCoreApplication.translate("MainWindow", "Structure"),
             Category.SPACES: QCoreApplication.translate("MainWindow", "Spaces"),
             Category.EQUIPMENT: QCoreApplication.translate("MainWindow", "Equipment"),
             Category.SENSORS: QCoreApplication.translate("MainWindow", "Sensors"),
             Category.OTHER: QCoreApplication.translate("MainWindow", "Other")}
    return names.get(cat, cat.name.capitalize())


class MainWindow(QMainWindow):
    """Main window of the console.

    Parameters
    ----------
    size
        The window's size.
    restore
        What of the saved layout to restore: ``all`` (geometry and docks), ``docks`` (the size given wins) or
        ``none`` (screenshots: the same picture on every machine).

    Signals
    -------
    model_ready
        Emitted once the model is loaded and drawn.
    load_failed
        Emitted with the message when the model cannot be loaded.
    selection_changed
        Emitted with the selected element index (-1 for none).
    """

    model_ready = Signal()
    load_failed = Signal(str)
    load_cancelled = Signal()
    selection_changed = Signal(int)
    telemetry_drawn = Signal()
    telemetry_failed = Signal(str)  # the telemetry could not start (the message says why)

    def __init__(self, size: tuple[int, int] = (1920, 1080), restore: str = "all") -> None:
        super().__init__()
        collect_on_gui_thread()
        self.resize(*size)
        self._size = size
        self.model: DistrictModel | None = None
        self.scene: DistrictScene | None = None
        self.load_result: LoadResult | None = None
        self.devices: DeviceIndex | None = None
        self.properties: PropertyReader | None = None
        self._measure_points: list[np.ndarray] = []
        self.error_dialog: QMessageBox | None = None
        self.live = None
        self.model_source: dict = {}
        self.last_refusal = ""
        self.registry_problem = ""  # why the model is shown without devices ("" when it has them or none was given)
        self.telemetry_args: dict | None = None  # {"broker": url or None, "scenario": str, "rate": float}
        self._live_args: dict | None = None  # what the live telemetry last started with
        self._telemetry_drawn = False
        self._last_panel_refresh = 0.0
        self.view = ViewState()  # what is shown: the scene, tree, docks and overlay follow it
        self.wall_screen: str | None = settings.value("wall/screen")  # the wall's monitor, by name
        self.wall_screen_used = ""
        self._kpis: dict | None = None  # the engine's last kpi/summary
        self._render_pending = False
        self._press_pos: tuple[int, int] | None = None
        self._loader: ModelLoader | None = None
        self.progress_dialog: QProgressDialog | None = None
        self._retired: list = []  # (thread, loader) of loads replaced before their thread ended
        self._loader_thread = None

        central = QWidget(self)
        central.setObjectName("central-view")
        central.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        central_layout = QVBoxLayout(central)
        self.central_layout = central_layout
        central_layout.setContentsMargins(0, 0, 0, 0)
        central_layout.setSpacing(0)
        self.no_data_banner = QLabel("")  # lost data never looks like all clear

        self.no_data_banner.setWordWrap(True)
        self.no_data_banner.hide()
        self.critical_banner = QLabel("")  # a critical incident not yet acknowledged

        self.critical_banner.setWordWrap(True)
        self.critical_banner.hide()
        self.mode_banner = QLabel("")  # replay or training: never mistaken for live
        self.mode_banner.setWordWrap(True)
        self.mode_banner.hide()
        central_layout.addWidget(self.mode_banner)
        central_layout.addWidget(self.no_data_banner)
        central_layout.addWidget(self.critical_banner)
        self.kpi_overlay = KpiOverlay(central)  # the wall's figures, one strip above the district
        self.kpi_overlay.hide()
        central_layout.addWidget(self.kpi_overlay)
        self.central = central
        self._style_banners()
        self.plotter = QtInteractor(central, multi_samples=0, auto_update=False)
        central_layout.addWidget(self.plotter, 1)
        self.setCentralWidget(central)
        self.sound = os.environ.get("TWIN_APP_SOUND", "1") != "0"  # the critical notice's sound (off in tests)
        self._last_data = time.monotonic()
        self._last_data_wall: float | None = None
        self._live_started = time.time()
        self._notified: set[str] = set()  # critical incidents already announced
        self._trend_ids: list[str] = []  # the devices whose history the incident's trend draws
        self._blink_phase = True
        self._blink_timer = QTimer(self)
        self._blink_timer.setInterval(BLINK_MS)
        self._blink_timer.timeout.connect(self._blink)
        self._blink_timer.start()
        self.plotter.set_background((0.05, 0.06, 0.09), top=(0.16, 0.20, 0.27))
        self.plotter.iren.add_observer("LeftButtonPressEvent", self._on_press)
        self.plotter.iren.add_observer("LeftButtonReleaseEvent", self._on_release)
        self.plotter.iren.add_observer("InteractionEvent", lambda *_: self.request_render())

        self._render_timer = QTimer(self)
        self._render_timer.setInterval(FRAME_INTERVAL_MS)
        self._render_timer.timeout.connect(self._render_if_pending)
        self._render_timer.start()

        self._build_tree_dock()
        self.property_panel = PropertyPanel(self)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.property_panel)
        self.legend = LegendDock(self)
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, self.legend)  # under the model tree
        self.legend.filters_changed.connect(self._legend_filters)
        self.incident_dock = IncidentDock(self)
        self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.incident_dock)
        self.dispatch_dock = DispatchDock(self)
        self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.dispatch_dock)
        self.incident_detail = IncidentDetailDock(self)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.incident_detail)
        self.tabifyDockWidget(self.property_panel, self.incident_detail)
        self.incident_detail.alarms = self.incident_dock.alarms  # one dict: the detail names the lead alarm too
        self.incident_dock.action_requested.connect(self.send_action)
        self.dispatch_dock.action_requested.connect(self.send_action)
        self.incident_dock.alarm_selected.connect(self._on_alarm_selected)
        self.incident_dock.incident_selected.connect(self._on_incident_selected)
        self.incident_dock.report_requested.connect(self._report_dialog)
        self.timeline = TimelineDock(self)
        self.addDockWidget(Qt.DockWidgetArea.TopDockWidgetArea, self.timeline)
        self.timeline.hide()
        self.timeline.end_button.clicked.connect(self._end_training_clicked)
        self.recording: Path | None = None  # the recording being replayed (None: live)
        self.training_report: Path | None = None
        self.resizeDocks([self.incident_dock, self.dispatch_dock], [1150, 650], Qt.Orientation.Horizontal)
        self.resizeDocks([self.incident_dock], [int(size[1] * 0.3)], Qt.Orientation.Vertical)  # ~8 rows on a wall
        self._build_status_bar()
        self._build_actions()
        self._build_inspect_toolbar()
        self._watch_view()
        self._default_layout = (self.saveGeometry(), self.saveState(settings.LAYOUT_VERSION))
        self.keeps_layout = restore != "none"  # a screenshot's window neither reads nor writes the saved layouts
        if restore != "none":  # "docks": the size given on the command line wins over the saved one
            self._restore_layout("normal", geometry=restore == "all")
        theme = settings.value("theme", "dark")
        with self.view.events.theme.blocked():
            self.view.theme = theme if theme in THEMES else "dark"
        self._on_theme(self.view.theme)
        with self.view.events.language.blocked():  # installed before any window (ui.app.install_presentation)
            self.view.language = current_language()
        self.language_actions[self.view.language].setChecked(True)
        self._retranslate()

    @property
    def selected(self) -> int:
        """The selected element (-1: none); set through `select_element`."""
        return self.view.selected

    # -- the view state drives every view -----------------------------------------------------------
    def _watch_view(self) -> None:
        events = self.view.events
        events.selected.connect(lambda _i: self._show_selection())
        events.focus_storey.connect(self._on_focus_storey)
        events.isolated.connect(self._on_isolated)
        events.xray.connect(self._on_xray)
        events.section_height.connect(self._on_section)
        events.measuring.connect(self._on_measuring)
        events.hidden_categories.connect(self._on_hidden_categories)
        events.kind.connect(lambda _k: self._refilter())
        events.shown_states.connect(lambda _s: self._refilter())
        events.board.connect(self._show_board)
        events.theme.connect(self._on_theme)
        events.scale.connect(self._on_scale)
        events.wall.connect(self._on_wall)
        events.language.connect(self._on_language)

    def _on_focus_storey(self, storey: int) -> None:
        if self.scene is None:
            return
        if storey >= 0:
            self.scene.show_storey(storey)
        else:
            self.scene.show_district()
        self.request_render()

    def _on_isolated(self, target: int) -> None:
        self.isolate_action.setChecked(target >= 0)
        if self.scene is not None:
            self.scene.isolate(target)
            self.request_render()

    def _on_xray(self, on: bool) -> None:
        self.xray_action.setChecked(on)
        if self.scene is not None:
            self.scene.set_xray(on)
            self.request_render()

    def _on_section(self, height: float | None) -> None:
        self.section_action.setChecked(height is not None)
        if height is not None and abs(self.section_height.value() - height) > 1e-6:
            self.section_height.blockSignals(True)
            self.section_height.setValue(height)
            self.section_height.blockSignals(False)
        if self.scene is not None:
            self.scene.set_section((0.0, 0.0, height) if height is not None else None)
            self.request_render()

    def _on_measuring(self, on: bool) -> None:
        self.measure_action.setChecked(on)
        self._measure_points = []
        if self.scene is not None and not on:
            self.scene.clear_measurement()
            self.request_render()
        if on:
            self.statusBar().showMessage(self.tr("Measure: click the first point"), 6000)

    def _on_hidden_categories(self, hidden: frozenset[str]) -> None:
        for cat, act in self.category_actions.items():
            act.blockSignals(True)
            act.setChecked(cat.name not in hidden)
            act.blockSignals(False)
            if self.scene is not None:
                self.scene.set_category_visible(cat, cat.name not in hidden)
        self.request_render()

    # -- layout -----------------------------------------------------------------------------------
    def _build_tree_dock(self) -> None:
        dock = QDockWidget(self.tr("Model"), self)
        dock.setObjectName("model-tree-dock")
        body = QWidget(dock)
        layout = QVBoxLayout(body)
        layout.setContentsMargins(4, 4, 4, 4)
        self.search_box = QLineEdit(body)
        self.search_box.setClearButtonEnabled(True)
        self.search_box.returnPressed.connect(self._search)
        self.tree = QTreeView(body)
        self.tree.setHeaderHidden(True)
        self.tree.setUniformRowHeights(True)
        self.tree.setEnabled(False)
        layout.addWidget(self.search_box)
        layout.addWidget(self.tree)
        dock.setWidget(body)
        dock.setMinimumWidth(320)
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, dock)
        self.tree_dock = dock

    def _build_status_bar(self) -> None:
        bar = self.statusBar()
        self.model_label = QLabel(self.tr("No model"))
        self.selection_label = QLabel("")
        self.progress_bar = QProgressBar()
        self.progress_bar.setRange(0, 1000)
        self.progress_bar.setMaximumWidth(360)
        self.progress_bar.setFormat("%p%")
        self.progress_label = QLabel("")
        bar.addWidget(self.progress_label)
        bar.addWidget(self.progress_bar)
        bar.addWidget(self.selection_label, 1)
        self.live_label = QLabel(self.tr("Telemetry: off"))
        self.alarm_label = QLabel("")
        self.unanswered_label = QLabel("")
        self.unanswered_label.setStyleSheet("background:#e69f00; color:black; font-weight:bold; padding:1px 6px;")
        self.unanswered_label.hide()
        bar.addPermanentWidget(self.unanswered_label)
        bar.addPermanentWidget(self.alarm_label)
        bar.addPermanentWidget(self.live_label)
        bar.addPermanentWidget(self.model_label)

    def _build_actions(self) -> None:
        """Menus and actions; their texts are set (and set again on a language change) by `_retranslate`."""
        bar = self.menuBar()
        self.file_menu = bar.addMenu("")
        self.open_action = self._action(self._open_dialog, QKeySequence.StandardKey.Open)
        self.replay_action = self._action(lambda: self._recording_dialog("as_recorded"))
        self.training_action = self._action(lambda: self._recording_dialog("training"))
        self.live_action = self._action(self.back_to_live)
        self.live_action.setEnabled(False)
        self.quit_action = self._action(self.close, QKeySequence.StandardKey.Quit)
        for act in (self.open_action, self.replay_action, self.training_action, self.live_action):
            self.file_menu.addAction(act)
        self.file_menu.addSeparator()
        self.file_menu.addAction(self.quit_action)
        self.view_menu = view = bar.addMenu("")
        self.overview_action = self._action(self.show_overview, "Home")
        self.clear_action = self._action(lambda: self.select_element(-1, fly=False), "Esc")
        view.addAction(self.overview_action)
        view.addAction(self.clear_action)
        view.addSeparator()
        self.category_actions: dict[Category, QAction] = {}
        for cat in (Category.STRUCTURE, Category.SPACES, Category.EQUIPMENT, Category.SENSORS, Category.OTHER):
            act = QAction(self, checkable=True, checked=True)
            act.toggled.connect(lambda on, c=cat: self._toggle_category(c, on))
            view.addAction(act)
            self.category_actions[cat] = act
        view.addSeparator()
        self.wall_action = self._action(self.set_wall, "F11", checkable=True)
        view.addAction(self.wall_action)
        self.kpi_action = self._action(self._show_kpi_overlay, "K", checkable=True)
        view.addAction(self.kpi_action)
        self.theme_menu = view.addMenu("")
        self.theme_actions: dict[str, QAction] = {}
        themes = QActionGroup(self)
        for name in THEMES:
            act = QAction(self, checkable=True)
            act.triggered.connect(lambda _on=False, n=name: setattr(self.view, "theme", n))
            themes.addAction(act)
            self.theme_menu.addAction(act)
            self.theme_actions[name] = act
        self.language_menu = view.addMenu("")
        self.language_actions: dict[str, QAction] = {}
        languages = QActionGroup(self)
        for lang in LANGUAGES:
            act = QAction(LANGUAGE_NAMES[lang], self, checkable=True)  # each language in its own script
            act.triggered.connect(lambda _on=False, n=lang: setattr(self.view, "language", n))
            languages.addAction(act)
            self.language_menu.addAction(act)
            self.language_actions[lang] = act
        self.reset_layout_action = self._action(self.reset_layout)
        view.addAction(self.reset_layout_action)
        view.addSeparator()
        for dock in (self.tree_dock, self.property_panel, self.legend, self.incident_dock, self.incident_detail,
                     self.dispatch_dock):
            view.addAction(dock.toggleViewAction())
        self.incidents_menu = alarms = bar.addMenu("")
        self.ack_action = self._action(lambda: self.incident_dock.acknowledge_selected(), "A")
        self.dispatch_action = self._action(lambda: self.incident_dock.dispatch_selected(), "D")
        self.urgent_action = self._action(self.open_most_urgent, "U")
        for act in (self.ack_action, self.dispatch_action, self.urgent_action):
            alarms.addAction(act)
        self.help_menu = bar.addMenu("")
        self.shortcuts_action = self._action(self.show_shortcuts, QKeySequence.StandardKey.HelpContents)
        self.help_menu.addAction(self.shortcuts_action)

    def _action(self, slot, key: str | QKeySequence.StandardKey | None = None, checkable: bool = False) -> QAction:
        act = QAction(self, checkable=checkable)
        if key is not None:
            act.setShortcut(QKeySequence(key))
        (act.toggled if checkable else act.triggered).connect(slot)
        return act

    def _build_inspect_toolbar(self) -> None:
        bar = QToolBar(self)
        bar.setObjectName("inspect-toolbar")
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, bar)
        self.tower_action = self._action(self.show_tower, "T")
        self.plan_action = self._action(self.show_plan, "P")
        self.isolate_action = self._action(self.set_isolated, "I", checkable=True)
        self.xray_action = self._action(self.set_xray, "X", checkable=True)
        self.section_action = self._action(self.set_section, "S", checkable=True)
        self.measure_action = self._action(self.set_measuring, "M", checkable=True)
        self.section_height = QDoubleSpinBox(bar)
        self.section_height.setRange(-50.0, 1000.0)
        self.section_height.setDecimals(1)
        self.section_height.setSuffix(" m")
        self.section_height.valueChanged.connect(lambda _: self.set_section(self.section_action.isChecked()))
        bar.addAction(self.overview_action)
        for act in (self.tower_action, self.plan_action, self.isolate_action, self.xray_action):
            bar.addAction(act)
        bar.addSeparator()
        bar.addAction(self.section_action)
        bar.addWidget(self.section_height)
        bar.addSeparator()
        bar.addAction(self.measure_action)
        self.inspect_toolbar = bar

    def _retranslate(self) -> None:
        """Every text of the window's own menus, actions and labels, in the current language."""
        def name(act: QAction, text: str, tip: str = "") -> None:
            act.setText(text)
            keys = act.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
            plain = text.replace("&", "")
            act.setToolTip(f"{tip or plain} ({keys})" if keys else (tip or plain))

        self.setWindowTitle(self._title())
        self.file_menu.setTitle(self.tr("&File"))
        name(self.open_action, self.tr("&Open IFC…"))
        name(self.replay_action, self.tr("Open &recording…"),
             self.tr("Replay a recording: as it happened, or re-evaluated with today's rules"))
        name(self.training_action, self.tr("&Training on a recording…"),
             self.tr("Handle a recorded incident as if live; nothing leaves this console"))
        name(self.live_action, self.tr("Back to &live"))
        name(self.quit_action, self.tr("&Quit"))
        self.view_menu.setTitle(self.tr("&View"))
        name(self.overview_action, self.tr("District &overview"))
        name(self.clear_action, self.tr("&Clear selection"))
        for cat, act in self.category_actions.items():
            name(act, category_name(cat))
        name(self.wall_action, self.tr("&Wall mode"), self.tr("Full screen on the wall, panels read from 5 m"))
        name(self.kpi_action, self.tr("&KPI overlay"), self.tr("Standing incidents, orders and handling times"))
        self.theme_menu.setTitle(self.tr("&Theme"))
        name(self.theme_actions["dark"], self.tr("&Dark (control room)"))
        name(self.theme_actions["light"], self.tr("&Light (office)"))
        self.language_menu.setTitle(self.tr("&Language"))
        name(self.reset_layout_action, self.tr("&Reset layout"), self.tr("Docks and panels as first installed"))
        self.incidents_menu.setTitle(self.tr("&Incidents"))
        name(self.ack_action, self.tr("Acknowledge selected"))
        name(self.dispatch_action, self.tr("Dispatch proposed units"))
        name(self.urgent_action, self.tr("Open the most &urgent incident"))
        self.help_menu.setTitle(self.tr("&Help"))
        name(self.shortcuts_action, self.tr("&Keyboard shortcuts"))
        self.inspect_toolbar.setWindowTitle(self.tr("Inspect"))
        name(self.tower_action, self.tr("Tower"), self.tr("View the selected tower"))
        name(self.plan_action, self.tr("Plan"), self.tr("Storey plan from above"))
        name(self.isolate_action, self.tr("Isolate"), self.tr("Show only the selected tower or storey"))
        name(self.xray_action, self.tr("X-ray"), self.tr("Everything but the selection translucent"))
        name(self.section_action, self.tr("Section"), self.tr("Horizontal section plane at the height beside"))
        name(self.measure_action, self.tr("Measure"), self.tr("Click two points to measure their distance"))
        self.section_height.setToolTip(self.tr("Height of the section plane"))
        self.tree_dock.setWindowTitle(self.tr("Model"))
        self.search_box.setPlaceholderText(self.tr("Find by name, GlobalId or IFC class — Enter"))
        if self.model is None:
            self.model_label.setText(self.tr("No model"))
        if self.live is None:
            self.live_label.setText(self.tr("Telemetry: off"))
        for dock in (self.property_panel, self.legend, self.incident_dock, self.dispatch_dock, self.incident_detail,
                     self.timeline, self.kpi_overlay):
            retranslate = getattr(dock, "retranslate", None)
            if callable(retranslate):
                retranslate()
        self._update_mode_banner()
        self._show_board(self.view.board)

    def _title(self) -> str:
        replay = self.live if isinstance(self.live, ReplayTelemetry) else None
        if replay is not None:
            prefix = self.tr("TRAINING") if replay.training else self.tr("REPLAY")
            return prefix + " — " + self.tr("Mumianling digital twin")
        return self.tr("Mumianling digital twin — command center")

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802
        if event.type() == QEvent.Type.LanguageChange and hasattr(self, "shortcuts_action"):
            self._retranslate()
        super().changeEvent(event)

    # -- presentation: board, theme, scale, wall, language, layouts ----------------------------------
    def _show_board(self, figures: WallFigures | None) -> None:
        """The status bar's incident counts and the KPI overlay show the view state's board."""
        if figures is None:
            self.alarm_label.setText("")
            return
        self.alarm_label.setText(self.tr("Incidents ◆◆ {critical} ◆ {high} ▲ {medium} ● {low} · {unack} unacknowledged")
                                 .format(critical=figures.critical, high=figures.high, medium=figures.medium,
                                         low=figures.low, unack=figures.unacknowledged))
        self.kpi_overlay.set_figures(figures)

    def _on_theme(self, name: str) -> None:
        from twin_app.ui.theme import apply_theme

        apply_theme(QApplication.instance(), name, self.view.scale)
        self.kpi_overlay.set_theme(name)
        self.theme_actions[name].setChecked(True)
        settings.set_value("theme", name)
        self._style_scene()

    def _style_banners(self) -> None:
        """The banners' sizes follow the view's scale (their style sheets are their own, not the theme's)."""
        k = self.view.scale
        self.no_data_banner.setStyleSheet(f"background:#5c0a12; color:white; font-size:{20 * k:.0f}pt; "
                                          f"font-weight:bold; padding:{10 * k:.0f}px; border:{4 * k:.0f}px solid "
                                          "#ff4d4d;")
        self.critical_banner.setStyleSheet(f"background:#b2182b; color:white; font-size:{16 * k:.0f}pt; "
                                           f"font-weight:bold; padding:{8 * k:.0f}px;")
        training = isinstance(self.live, ReplayTelemetry) and self.live.training
        self.mode_banner.setStyleSheet(
            f"background:#ff8c00; color:black; font-size:{20 * k:.0f}pt; font-weight:bold; padding:{8 * k:.0f}px;"
            if training else
            f"background:#2b5c8a; color:white; font-size:{16 * k:.0f}pt; font-weight:bold; padding:{6 * k:.0f}px;")

    def _on_scale(self, factor: float) -> None:
        from twin_app.ui.theme import apply_theme

        apply_theme(QApplication.instance(), self.view.theme, factor)
        self.kpi_overlay.set_scale(factor)
        self._style_banners()
        self._style_scene()

    def set_wall(self, on: bool, screen: str | None = None) -> None:
        """Wall mode (F11): full screen on the chosen monitor, the district large, panels read from 5 m."""
        if screen is not None:
            self.wall_screen = screen
        self.view.wall = bool(on)

    def _on_wall(self, on: bool) -> None:
        from twin_app.ui.screens import find_screen, ui_scale

        self.wall_action.blockSignals(True)
        self.wall_action.setChecked(on)
        self.wall_action.blockSignals(False)
        self._save_layout("normal" if on else "wall")
        if on:
            screen, message = find_screen(self.wall_screen)
            self.wall_screen_used = screen.name()
            if message:
                self.statusBar().showMessage(message, 20000)
                print(f"twin-app: {message}", file=sys.stderr)
            settings.set_value("wall/screen", self.wall_screen or screen.name())
            handle = self.windowHandle()
            if handle is not None:
                handle.setScreen(screen)
            self.setGeometry(screen.geometry())
            self.showFullScreen()
            if not self._restore_layout("wall"):
                self._wall_layout()
            self.kpi_overlay.show()
            self.view.scale = ui_scale(screen)
        else:
            self.showNormal()
            if not self._restore_layout("normal"):
                self._apply_layout(self._default_layout)
            self.kpi_overlay.setVisible(self.kpi_action.isChecked())
            screen = self.screen()
            self.view.scale = ui_scale(screen) if screen is not None else 1.0
        self.request_render()

    def _wall_layout(self) -> None:
        """The wall's first layout: the district large with the incident list and dispatch board below; the
        engineer's docks closed. With a second monitor the incident list and the dispatch board go there."""
        from PySide6.QtGui import QGuiApplication

        for dock in (self.tree_dock, self.property_panel, self.legend):
            dock.hide()
        for dock in (self.incident_dock, self.dispatch_dock, self.incident_detail):
            dock.show()
        screens = [s for s in QGuiApplication.screens() if s.name() != self.wall_screen_used]
        if screens:  # several monitors: incidents and dispatch on another one, the district alone on the wall
            other = screens[0].availableGeometry()
            half = other.height() // 2
            for dock, top in ((self.incident_dock, other.top()), (self.dispatch_dock, other.top() + half)):
                dock.setFloating(True)
                dock.setGeometry(other.left(), top, other.width(), half)
        else:  # one screen: the incident's detail wide enough to read its timeline from 5 m
            self.resizeDocks([self.incident_detail], [int(self.width() * 0.26)], Qt.Orientation.Horizontal)
            self.resizeDocks([self.incident_dock], [int(self.height() * 0.26)], Qt.Orientation.Vertical)

    def _show_kpi_overlay(self, on: bool) -> None:
        self.kpi_overlay.setVisible(on or self.view.wall)

    def _layout_mode(self) -> str:
        return "wall" if self.view.wall else "normal"

    def _save_layout(self, mode: str | None = None) -> None:
        if not self.keeps_layout:
            return
        settings.save_layout(mode or self._layout_mode(), self.saveGeometry(),
                             self.saveState(settings.LAYOUT_VERSION))

    def _restore_layout(self, mode: str, geometry: bool = True) -> bool:
        """The layout saved for `mode` (False when there is none for this layout version)."""
        saved = settings.load_layout(mode) if self.keeps_layout else None
        if saved is None:
            return False
        return self._apply_layout(saved, geometry=geometry and mode == "normal")

    def _apply_layout(self, layout, geometry: bool = True) -> bool:
        shape, state = layout
        if geometry and not self.view.wall:
            self.restoreGeometry(shape)
        restored = self.restoreState(state, settings.LAYOUT_VERSION)
        self.timeline.setVisible(isinstance(self.live, ReplayTelemetry))  # the replay's dock is not a layout's
        return restored

    def reset_layout(self) -> None:
        """Docks and panels as first installed (the saved layouts of both modes are forgotten)."""
        settings.forget_layouts()
        for dock in (self.incident_dock, self.dispatch_dock):
            dock.setFloating(False)
        self._apply_layout(self._default_layout, geometry=not self.view.wall)
        if self.view.wall:
            self._wall_layout()
        self.statusBar().showMessage(self.tr("Layout reset"), 4000)

    def _on_language(self, lang: str) -> None:
        from twin_app.ui.i18n import install_language

        applied = install_language(QApplication.instance(), lang)  # Qt sends LanguageChange: _retranslate
        settings.set_value("language", applied)
        if applied in self.language_actions:
            self.language_actions[applied].setChecked(True)
        self._refilter()

    def show_shortcuts(self) -> None:
        """The keyboard shortcuts in a dialog (F1), grouped by menu, the Inspect toolbar's own as a group."""
        from twin_app.ui.shortcuts import ShortcutsDialog, menu_actions

        groups = menu_actions(self.menuBar())
        in_menus = {a for actions in groups.values() for a in actions}
        groups[self.inspect_toolbar.windowTitle()] = [a for a in self.inspect_toolbar.actions() if a not in in_menus]
        self.shortcuts_dialog = ShortcutsDialog(groups, self)
        self.shortcuts_dialog.open()

    def open_most_urgent(self) -> bool:
        """Open the most urgent standing incident (the wall's first look); False when none stands."""
        standing = self.incident_dock.standing()
        if not standing:
            return False
        self.incident_dock.select_incident(str(standing[0]["id"]))
        return True

    # -- loading ----------------------------------------------------------------------------------
    def start_loading(self, ifc_path: Path | None, district_args: dict, registry: Path | None = None) -> None:
        """Load a model in the background; the window stays responsive and shows progress."""
        self.progress_bar.show()
        self.progress_label.setText(self.tr("Loading…"))
        self.model_source = {"district": dict(district_args)} if ifc_path is None else \
            {"ifc": str(Path(ifc_path).resolve())}  # a recording names it, so that a replay opens the same model
        self._retire_loader()
        self._loader = ModelLoader(ifc_path, district_args, registry)
        self._loader.progress.connect(self._on_progress)
        self._loader.loaded.connect(self._on_loaded)
        self._loader.failed.connect(self._on_failed)
        self._loader.cancelled.connect(self._on_cancelled)
        self.progress_dialog = QProgressDialog(self.tr("Loading the model…"), self.tr("Cancel"), 0, 1000, self)
        self.progress_dialog.setWindowTitle(self.tr("Loading"))
        self.progress_dialog.setMinimumDuration(800)  # a model read from the cache shows no dialog
        self.progress_dialog.setAutoClose(False)
        self.progress_dialog.setAutoReset(False)
        self.progress_dialog.canceled.connect(self.cancel_loading)  # on this thread: the loader's is busy
        self._loader_thread = start_loader(self._loader)

    def _retire_loader(self) -> None:
        """The previous load's thread is kept until it has finished (a QThread destroyed running aborts the
        process); a load still running is cancelled and its late signals are ignored."""
        thread, loader = self._loader_thread, self._loader
        if thread is None or loader is None:
            return
        for signal, slot in ((loader.progress, self._on_progress), (loader.loaded, self._on_loaded),
                             (loader.failed, self._on_failed), (loader.cancelled, self._on_cancelled)):
            with contextlib.suppress(RuntimeError, TypeError):  # its thread's quit stays connected
                signal.disconnect(slot)
        self._retired = [(t, old) for t, old in self._retired if t.isRunning()]
        if thread.isRunning():
            loader.cancel()
            self._retired.append((thread, loader))
        self._close_progress()

    def _on_progress(self, fraction: float, message: str) -> None:
        value = int(1000 * max(0.0, min(1.0, fraction)))
        self.progress_bar.setValue(value)
        self.progress_label.setText(message)
        if self.progress_dialog is not None and self.progress_dialog.wasCanceled():
            self.cancel_loading()
        elif self.progress_dialog is not None:
            self.progress_dialog.setValue(value)
            self.progress_dialog.setLabelText(message)

    def _close_progress(self) -> None:
        if self.progress_dialog is not None:
            self.progress_dialog.close()
            self.progress_dialog.deleteLater()
            self.progress_dialog = None

    def cancel_loading(self) -> None:
        """Stop the model being loaded (its worker process is killed); the model on screen stays."""
        if self._loader is not None:
            self._loader.cancel()

    def _on_cancelled(self) -> None:
        self._close_progress()
        self.progress_bar.hide()
        self.progress_label.setText(self.tr("Loading cancelled"))
        self.statusBar().showMessage(self.tr("Loading cancelled: the model on screen is kept") if self.model is not
                                     None else self.tr("Loading cancelled: File › Open IFC… opens a model"), 10000)
        self.load_cancelled.emit()

    def warn(self, title: str, message: str) -> QMessageBox:
        """A non-modal warning: it never blocks the event loop (telemetry keeps flowing behind it)."""
        box = QMessageBox(QMessageBox.Icon.Warning, title, message, QMessageBox.StandardButton.Ok, self)
        box.open()
        self.error_dialog = box
        return box

    def _open_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, self.tr("Open an IFC model"), "",
                                              self.tr("IFC files (*.ifc);;All files (*)"))
        if path:
            self.start_loading(Path(path), {})

    def _on_failed(self, message: str) -> None:
        self._close_progress()
        self.progress_bar.hide()
        self.progress_label.setText(self.tr("Load failed"))
        if self.model is not None:
            # the model on screen stays: tell the operator, keep working
            self.warn(self.tr("Cannot open the model"), message + "\n\n" + self.tr("The model on screen is kept."))
        self.load_failed.emit(message)

    def _on_loaded(self, result: LoadResult, devices: DeviceIndex | None, registry_problem: str) -> None:
        self._close_progress()
        self.progress_label.setText(self.tr("Building the scene…"))
        self.set_model(result)
        self.devices = devices
        if devices is not None:
            self.model_label.setText(self.model_label.text() + " · "
                                     + self.tr("{count} devices").format(count=f"{devices.n_devices:,}"))
            if devices.unknown_hosts:
                self.statusBar().showMessage(
                    self.tr("{count} registry devices name a host_global_id that is not in this model: they are "
                            "kept but shown nowhere").format(count=f"{devices.unknown_hosts:,}"), 20000)
        self.registry_problem = registry_problem
        if registry_problem:
            self.warn(self.tr("Device registry"),
                      registry_problem + "\n" + self.tr("The model is shown without devices."))
        self.progress_bar.hide()
        self.progress_label.setText("")
        self.model_ready.emit()
        if devices is not None and self.telemetry_args is not None:
            self.start_live(**self.telemetry_args)

    # -- live telemetry ---------------------------------------------------------------------------
    def start_live(self, broker: str | None, scenario: str = "none", rate: float = 0.2, engine: str | None = None,
                   operator: str = "operator", console: str = "console", data_dir=None,
                   events_per_hour: float = 0.0) -> None:
        """Connect the telemetry (the embedded broker and simulator when `broker` is None)."""
        if self.devices is None:
            return
        self.stop_live()
        self._live_args = {"broker": broker, "scenario": scenario, "rate": rate, "engine": engine,
                           "operator": operator, "console": console, "data_dir": data_dir,
                           "events_per_hour": events_per_hour}  # Back to live after a replay starts it again
        self.live_label.setText(self.tr("Telemetry: starting…"))
        try:
            self.live = LiveTelemetry(self, self.devices, broker, scenario=scenario, rate=rate, engine=engine,
                                      operator=operator, console=console, data_dir=data_dir,
                                      events_per_hour=events_per_hour, model=self.model_source)
        except (InputError, RuntimeError, OSError, ValueError) as exc:
            self.live = None
            self.live_label.setText(self.tr("Telemetry: off"))
            self.warn(self.tr("Telemetry"), self.tr("Cannot start the telemetry: {error}").format(error=exc))
            self.telemetry_failed.emit(f"cannot start the telemetry: {exc}")
            return
        self._live_started = time.time()
        self._last_data = time.monotonic()
        self._last_data_wall = None
        self.live.step_applied.connect(self._on_step)
        self.live.unanswered_changed.connect(self._on_unanswered)
        self.legend.set_kinds(list(self.live.engine.store.kind_names))
        self.live.start()
        if self.selected >= 0:
            self.select_element(self.selected)  # start the live values of what is already selected
        if self.live.scenario_text and scenario != "none":
            self.statusBar().showMessage(self.tr("Simulator scenario: {text}").format(text=self.live.scenario_text),
                                         20000)

    def stop_live(self) -> None:
        if self.live is not None:
            self.live.stop()
            self.live = None

    # -- replay and training ----------------------------------------------------------------------
    def clock(self) -> float:
        """The clock every shown time is on: the recording's in a replay, else the machine's."""
        return self.live.clock() if isinstance(self.live, ReplayTelemetry) else time.time()

    def _set_clock(self, clock) -> None:
        for dock in (self.incident_dock, self.dispatch_dock, self.incident_detail, self.property_panel):
            dock.clock = clock

    def _clear_panels(self) -> None:
        """Forget every alarm, incident and order shown (a new source, or a seek in a replay)."""
        self.incident_dock.alarms.clear()
        self.incident_dock.incidents.clear()
        self.incident_dock.closed.clear()
        self.dispatch_dock.orders.clear()
        self._notified.clear()
        self.incident_detail.show_incident(None, {}, None)

    def _recording_dialog(self, mode: str) -> None:
        path, _ = QFileDialog.getOpenFileName(self, self.tr("Open a recording"), "",
                                              self.tr("Recordings (*.mcap);;All files (*)"))
        if path:
            self.open_recording(Path(path), mode)

    def open_recording(self, path: Path, mode: str = "as_recorded", trainee: str | None = None) -> bool:
        """Replay a recording (or train on it) in place of the live data; False (and a warning) when it cannot.

        The live connection is closed first: a replay or a training session never mixes with live data, and a
        training session has no way to publish anything.
        """
        from twin_app.core.errors import InputError
        from twin_app.telemetry.recording import RecordingReader
        from twin_app.telemetry.replay import ReplaySession

        if self.devices is None:
            self.warn(self.tr("Recording"), self.tr("Open a model with its device registry first."))
            return False
        operator = trainee or (self.live.operator if self.live is not None else "trainee")
        try:
            reader = RecordingReader(path)
            session = ReplaySession(reader, self.devices, mode, trainee=operator)
        except InputError as exc:
            self.warn(self.tr("Recording"), self.tr("Cannot replay this recording: {error}").format(error=exc))
            return False
        self.stop_live()
        self._clear_panels()
        self.recording = Path(path)
        self.training_report = None
        replay = ReplayTelemetry(self, session, Path(path).name)
        self.live = replay
        self._set_clock(replay.clock)
        replay.reset.connect(self._clear_panels)
        replay.step_applied.connect(self._on_step)
        self.legend.set_kinds(list(session.engine.store.kind_names))
        self.timeline.attach(replay)
        self.timeline.show()
        self.live_action.setEnabled(True)
        training = mode == "training"
        self._style_banners()
        # training: a thick orange frame round the view that no screenshot can miss
        self.central.setStyleSheet("QWidget#central-view { border: 10px solid #ff8c00; }" if training else "")
        self.central_layout.setContentsMargins(*(10, 10, 10, 10) if training else (0, 0, 0, 0))
        self.setWindowTitle(self._title())
        if damaged := reader.damaged:
            self.warn(self.tr("Recording"), self.tr("Parts of this recording are damaged and are skipped:") + "\n"
                      + "\n".join(str(e) for e in damaged[:5]))
        replay.start()
        self._update_mode_banner()
        replay.moved.connect(lambda _t: self._update_mode_banner())
        return True

    def _update_mode_banner(self) -> None:
        replay = self.live if isinstance(self.live, ReplayTelemetry) else None
        if replay is None:
            self.mode_banner.hide()
            return
        name = self.recording.name if self.recording else ""
        if replay.training:
            text = self.tr("TRAINING — {name} — recording clock {clock} — nothing here is live and nothing "
                           "leaves this console").format(name=name, clock=clock_text(replay.clock(), with_date=True))
        else:
            from twin_app.telemetry.replay import MODES

            text = self.tr("▶ REPLAY ({mode}) — {name} — recording clock {clock} — NOT LIVE").format(
                mode=QCoreApplication.translate("ReplayModes", MODES[replay.session.mode]).lower(), name=name,
                clock=clock_text(replay.clock(), with_date=True))
        self.mode_banner.setText(text)
        self.mode_banner.show()

    def back_to_live(self) -> None:
        """Leave the replay or training session; the live connection starts again where there was one."""
        if not isinstance(self.live, ReplayTelemetry):
            return
        if self.live.training and self.training_report is None:
            self.finish_training(show=False)
        self.stop_live()
        self.recording = None
        self._clear_panels()
        self._set_clock(time.time)
        self.timeline.hide()
        self.mode_banner.hide()
        self.central.setStyleSheet("")
        self.central_layout.setContentsMargins(0, 0, 0, 0)
        self.setWindowTitle(self._title())
        self.live_action.setEnabled(False)
        if self._live_args is not None:
            self.start_live(**self._live_args)

    def _end_training_clicked(self) -> None:
        self.finish_training(show=True)

    def finish_training(self, show: bool = True, folder: Path | None = None) -> Path | None:
        """Score the trainee against the historic response; save the report (HTML) and show it."""
        from twin_app.core.training import score_training, training_report_html
        from twin_app.telemetry.runtime import data_dir

        replay = self.live if isinstance(self.live, ReplayTelemetry) else None
        if replay is None or not replay.training:
            return None
        replay.play(False)
        session = replay.session
        history, history_orders = session.history(session.position)
        trainee, trainee_orders = session.trainee_incidents()
        score = score_training(history, trainee, session.start, session.position, history_orders, trainee_orders)
        name = self.recording.name if self.recording else "recording"
        html = training_report_html(score, self.tr("Training on {name}").format(name=name), replay.operator)
        target = training_report_path(folder or data_dir() / "training", self.recording or Path(name))
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(html, encoding="utf-8")
        except OSError as exc:
            self.warn(self.tr("Training report"), self.tr("The report could not be saved in {folder}: {error}").format(
                folder=target.parent, error=exc.strerror))
            return None
        self.training_report = target
        self.last_score = score
        self.statusBar().showMessage(self.tr("Training report saved: {path}").format(path=target), 20000)
        if show:
            from twin_app.ui.training_dialog import TrainingReportDialog

            self.training_dialog = TrainingReportDialog(html, target, self)
            self.training_dialog.open()
        return target

    def _legend_filters(self) -> None:
        """The legend is a view that writes the kind and state filters into the view state."""
        self.view.kind = self.legend.selected_kind()
        self.view.shown_states = tuple(bool(v) for v in self.legend.shown_states())

    def _filtered_states(self, result) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]:
        store = self.live.engine.store
        names = list(store.kind_names)
        code = names.index(self.view.kind) if self.view.kind in names else None
        return filter_states(store.element_states, store.rollup, store.kind_codes, result.device_state, code,
                             self.view.shown_mask(), result.element_state, result.rolled_state)

    def _on_step(self, result) -> None:
        if self.scene is None or self.live is None:
            return
        self._update_command_panel(result)
        if isinstance(self.live, ReplayTelemetry):  # the recording's clock runs up to 60 times faster than the docks'
            self.dispatch_dock.redraw()
        self._update_no_data(result)
        device_state, element_state, rolled, dim = self._filtered_states(result)
        changed = self.scene.show_states(element_state, rolled, dim)
        counts = np.bincount(device_state, minlength=6)
        self.legend.set_counts(counts)
        engine = self.live.engine
        age = engine.data_age_s(self.clock())
        age_text = self.tr("no data yet") if age is None else \
            self.tr("data age {seconds} s").format(seconds=f"{age:.1f}")
        source = self.live.runtime.url_display if isinstance(self.live, ReplayTelemetry) else \
            f"MQTT {self.live.runtime.url_display} {self.live.connection.split(':')[0]}"
        self.live_label.setText(
            f"{source} · " + self.tr("{rate} readings/s").format(rate=f"{engine.readings_per_s():,.0f}")
            + f" · {age_text} · "
            + self.tr("■ {alarm} alarm ▲ {warning} warning ✕ {offline} offline ◌ {stale} stale").format(
                alarm=int(counts[DeviceState.ALARM]), warning=int(counts[DeviceState.WARNING]),
                offline=int(counts[DeviceState.OFFLINE]), stale=int(counts[DeviceState.STALE])))
        now = time.monotonic()
        if now - self._last_panel_refresh > 1.0:
            self._last_panel_refresh = now
            if self.selected >= 0:
                self.property_panel.show_live(self.live.engine.store, device_state)
            rows = self.property_panel.watched_rows
            times, values = self.live.engine.store.history()
            self.legend.draw_sparkline(times, values, [str(r) for r in rows])
            incident = self.incident_detail.incident
            if incident is not None and len(self._trend_ids) == values.shape[1]:
                self.incident_detail.set_trend(times, values, self._watch_trend(incident))
        if changed:
            self.request_render()
        if not self._telemetry_drawn and self.live.engine.store.readings > 0:
            self._telemetry_drawn = True
            self.render_now()
            self.telemetry_drawn.emit()

    def send_action(self, verb: str, body: dict) -> None:
        """An operator action from the command panel goes to the engine over MQTT."""
        if self.live is None:
            self.statusBar().showMessage(self.tr("No telemetry engine connected: the action was not sent"), 6000)
            return
        self.live.send_action(verb, body)
        self.statusBar().showMessage(
            self.tr("{verb} sent as {operator}").format(verb=verb, operator=self.live.operator), 3000)

    def _on_unanswered(self, count: int) -> None:
        """Actions the engine has not answered yet: the operator must know they are not done."""
        self.unanswered_label.setText(self.tr("⚠ {count} action(s) not answered by the engine yet — sending again")
                                      .format(count=count) if count else "")
        self.unanswered_label.setVisible(count > 0)

    def _on_alarm_selected(self, alarm: dict) -> None:
        if self.model is None:
            return
        element = self.model.index_of(str(alarm.get("host_global_id", "")))
        if element >= 0 and element != self.selected:
            self.select_element(element, fly=True)

    def _on_incident_selected(self, incident: dict) -> None:
        """An incident chosen in the list: the view flies to its place, its detail and trend are shown."""
        self._on_alarm_selected(incident)
        self._trend_ids = []
        self._show_incident_detail(incident)
        self.incident_detail.raise_()

    def _watch_trend(self, incident: dict) -> list[dict]:
        """The incident's devices in alarm whose history the trend draws (watched again when the set grows)."""
        devices = [d for d in (incident.get("devices") or [])[:TREND_DEVICES] if isinstance(d, dict)]
        ids = [str(d.get("device_id")) for d in devices]
        if ids != self._trend_ids and self.live is not None and self.devices is not None:
            rows = self.devices.rows_of_ids(ids) if ids else np.zeros(0, dtype=np.int64)
            devices = [d for d, r in zip(devices, rows, strict=True) if r >= 0]
            self._trend_ids = [str(d.get("device_id")) for d in devices]
            self.live.engine.store.watch(rows[rows >= 0])
            self.property_panel.watched_rows = rows[rows >= 0]
            self.legend.sparkline_title.setText(self.tr("Live: {devices}").format(devices=", ".join(self._trend_ids))
                                                if ids else "")
            self._last_panel_refresh = 0.0
        by_id = {str(d.get("device_id")): d for d in devices}
        return [by_id[i] for i in self._trend_ids if i in by_id]

    def _show_incident_detail(self, incident: dict | None) -> None:
        store = self.live.engine.store if self.live is not None else None
        devices = self.devices

        def live_value(device_id: str) -> float | None:
            if store is None or devices is None:
                return None
            row = int(devices.rows_of_ids([device_id])[0])
            return float(store.value[row]) if row >= 0 and store.ts[row] > 0 else None

        self.incident_detail.show_incident(incident, self.dispatch_dock.orders, live_value)
        if incident is not None:
            self._watch_trend(incident)

    def _update_command_panel(self, result) -> None:
        for body in self.live.answered.values():  # answers to this console's own pending actions only
            if not body.get("ok", True):
                self.last_refusal = str(body.get("message", "refused"))
                self.statusBar().showMessage(self.tr("Refused: {reason}").format(reason=self.last_refusal), 15000)
                self.warn(self.tr("Action refused"), f"{body.get('verb')}: {self.last_refusal}\n"
                          + self.tr("Nothing was changed."))
        dock = self.incident_dock
        if result.alarms or result.incidents:
            dock.update_data(result.alarms, result.incidents)
        if result.orders:
            self.dispatch_dock.update_orders(result.orders)
        if result.incidents:
            self.dispatch_dock.titles.update({k: incident_title(v, dock.alarms) or k for k, v in result.incidents if v})
            shown = self.incident_detail.incident
            if shown is not None:
                self._show_incident_detail(dock.incident(str(shown.get("id"))) or shown)
            self._update_markers()
            self._notify_critical()
        if result.kpis is not None:  # from whichever engine runs: this console's or a serve
            self.dispatch_dock.show_kpis(result.kpis)
            self._kpis = result.kpis
        engine = self.live.engine
        self.view.board = wall_figures(list(dock.incidents.values()), list(self.dispatch_dock.orders.values()),
                                       self._kpis, result.device_state, engine.data_age_s(self.clock()),
                                       self.clock())

    def _update_markers(self) -> None:
        """One marker per standing incident in 3D, sized for the wall; flashing while unacknowledged."""
        if self.scene is None or self.model is None:
            return
        markers = []
        for incident in self.incident_dock.incidents.values():
            element = self.model.index_of(str(incident.get("host_global_id", "")))
            what = incident_title(incident, self.incident_dock.alarms).split(" — ")[0]
            where = " ".join(str(incident.get(k)) for k in ("building", "storey") if incident.get(k))
            markers.append(IncidentMarker(str(incident.get("id")), element, str(incident.get("priority")),
                                          bool(incident.get("unacknowledged")), f"{where} · {what}"[:60]))
        markers.sort(key=lambda m: m.id)  # the scene rebuilds only when this list changes
        if self.scene.show_incidents(markers):
            self.request_render()

    def _blink(self) -> None:
        self._blink_phase = not self._blink_phase
        if self.scene is not None and self.scene.blink(self._blink_phase):
            self.request_render()

    def _notify_critical(self) -> None:
        """A critical incident not yet acknowledged raises a notice (and a sound where enabled)."""
        critical = [i for i in self.incident_dock.incidents.values()
                    if i.get("priority") == "critical" and i.get("unacknowledged")]
        fresh = [i for i in critical if i.get("id") not in self._notified]
        self._notified.update(str(i.get("id")) for i in fresh)
        if critical:
            first = sorted(critical, key=lambda i: i.get("created_ts") or 0)[0]
            more = self.tr(" (+{count} more)").format(count=len(critical) - 1) if len(critical) > 1 else ""
            replaying = isinstance(self.live, ReplayTelemetry) and not self.live.training
            self.critical_banner.setText(self.tr("◆◆ CRITICAL: {title}{more} — {what}").format(
                title=incident_title(first, self.incident_dock.alarms), more=more,
                what=self.tr("in the recording (a replay takes no actions)") if replaying else
                self.tr("acknowledge in the incident list")))
        self.critical_banner.setVisible(bool(critical))
        if fresh and self.sound:
            QApplication.beep()

    def _update_no_data(self, result) -> None:
        """A full-width banner when no live data came for NO_DATA_AFTER_S: lost data never looks like all clear."""
        if isinstance(self.live, ReplayTelemetry):  # a replay says so in its own banner, always
            self.no_data_banner.hide()
            return
        now = time.monotonic()
        if result.readings > 0:
            self._last_data = now
            self._last_data_wall = time.time()
        state = self.live.connection.split(":")[0] if self.live is not None else "off"
        silent = now - self._last_data
        if silent < NO_DATA_AFTER_S and state == "connected":
            self.no_data_banner.hide()
            return
        since = self._last_data_wall or self._live_started
        broker = self.live.runtime.url_display if self.live is not None else "—"
        self.no_data_banner.setText(
            self.tr("⚠ NO LIVE DATA since {time} ({seconds} s) — broker {broker}: {state}. The picture below is NOT "
                    "live: nothing seen here is an all clear.").format(
                time=time.strftime("%H:%M:%S", time.localtime(since)), seconds=f"{silent:.0f}", broker=broker,
                state=state))
        self.no_data_banner.show()

    def _report_dialog(self, incident_id: str) -> None:
        path, _ = QFileDialog.getSaveFileName(self, self.tr("Save the incident report"),
                                              f"incident-{incident_id}.pdf", self.tr("PDF (*.pdf);;HTML (*.html)"))
        if path:
            try:
                saved = self.export_report(incident_id, Path(path))
            except (OSError, ValueError, RuntimeError) as exc:
                self.warn(self.tr("Incident report"),
                          self.tr("The report could not be saved: {error}").format(error=exc))
                return
            self.statusBar().showMessage(self.tr("Report saved: {path}").format(path=saved), 8000)

    def export_report(self, incident_id: str, path: Path) -> Path:
        """Write an incident's report (its timeline, orders and result) as HTML or PDF."""
        incident = self.incident_dock.incident(incident_id)
        if incident is None:
            raise ValueError(f"no incident {incident_id} in this console")
        orders = [o for o in self.dispatch_dock.orders.values() if o.get("incident_id") == incident_id]
        return save_report(incident_report_html(incident, orders), path)

    def _refilter(self) -> None:
        if self.live is not None and self.live.last_result is not None:
            self._on_step(self.live.last_result)

    def set_model(self, result: LoadResult) -> None:
        """Show a loaded model: scene, tree and status."""
        model = result.model
        self.load_result = result
        self.model = model
        self.plotter.clear_actors()
        self.scene = None  # the old view state must not drive the new scene while it is reset
        with self.view.events.blocked():
            self.view.selected = self.view.focus_storey = self.view.isolated = -1
            self.view.xray = self.view.measuring = False
            self.view.section_height = None
        self._sync_inspect_actions()
        self.scene = DistrictScene(self.plotter, model)
        for cat in self.view.hidden_categories:
            self.scene.set_category_visible(Category[cat], False)
        self._style_scene()
        self.scene.camera_overview()
        self.tree_model = ElementTreeModel(model, self)
        self.tree.setModel(self.tree_model)
        self.tree.setEnabled(True)
        self.tree.selectionModel().currentChanged.connect(self._on_tree_current)
        self.properties = PropertyReader(model.meta["source"]) if model.meta.get("source") else None
        self.property_panel.prefetch(self.properties)  # the file is opened on the panel's worker, not here
        self.devices = None
        self.property_panel.show_element(model, -1, None, None)
        for i in range(self.tree_model.rowCount()):
            self.tree.expand(self.tree_model.index(i, 0))
        buildings = int((model.ifc_class == "IfcBuilding").sum())
        source = Path(model.meta.get("source", "")).name
        how = self.tr("from cache") if result.from_cache else self.tr("tessellated")
        self.model_label.setText(
            self.tr("{source} · {buildings} buildings · {elements} elements · {seconds} s ({how})").format(
                source=source, buildings=buildings, elements=f"{model.n_elements:,}", seconds=f"{result.seconds:.1f}",
                how=how)
        )
        skipped = model.meta.get("skipped") or []
        if skipped:
            first = skipped[0]
            self.statusBar().showMessage(
                self.tr("{count} element(s) without geometry (first: {ifc_class} {global_id}: {reason}); "
                        "twin-app inspect --json lists them all").format(
                    count=len(skipped), ifc_class=first["ifc_class"], global_id=first["global_id"],
                    reason=first["reason"][:80]), 15000)
        self.request_render()

    def _sync_inspect_actions(self) -> None:
        """The toolbar's check marks from the view state (after a reset made with the signals blocked)."""
        for act, on in ((self.isolate_action, self.view.isolated >= 0), (self.xray_action, self.view.xray),
                        (self.section_action, self.view.section_height is not None),
                        (self.measure_action, self.view.measuring)):
            act.blockSignals(True)
            act.setChecked(on)
            act.blockSignals(False)

    def _style_scene(self) -> None:
        """The scene's palette and size factor follow the view state's theme and scale (where it offers them)."""
        if self.scene is None:
            return
        try:
            from twin_app.core.palette import palette
        except ImportError:  # pragma: no cover - the palette arrives with the themes
            return
        if hasattr(self.scene, "set_palette"):
            self.scene.set_palette(palette(self.view.theme))
        if hasattr(self.scene, "set_scale"):
            self.scene.set_scale(self.view.scale)
        self.request_render()

    # -- selection --------------------------------------------------------------------------------
    def select_element(self, index: int, fly: bool = False) -> None:
        """Select an element from anywhere: the view state changes, and scene, tree and docks follow it."""
        if self.model is None or self.scene is None:
            return
        model = self.model
        self.view.focus_storey = focus_for(index, model.ifc_class, model.storey,
                                           model.category == Category.STRUCTURE, self.view.focus_storey)
        if index == self.view.selected:
            self._show_selection()  # the same element again: its live values start again
        else:
            self.view.selected = index
        if fly and index >= 0:
            self.scene.camera_to(index)
            self.request_render()

    def _show_selection(self) -> None:
        """Every view of the selection follows the view state: scene highlight, tree, status, properties."""
        if self.model is None or self.scene is None:
            return
        model = self.model
        index = self.view.selected
        self.scene.select(index)
        self._sync_tree(index)
        self._show_selection_status(index)
        self.property_panel.show_element(model, index, self.properties, self.devices)
        if self.live is not None:
            rows = self.devices.rows_of(index) if index >= 0 else np.zeros(0, dtype=np.int64)
            self.live.engine.store.watch(rows[:6])
            self.property_panel.watched_rows = rows[:6]
            self._last_panel_refresh = 0.0
            names = [str(self.devices.devices["device_id"].iat[r]) for r in rows[:6]]
            self.legend.sparkline_title.setText(self.tr("Live: {devices}").format(devices=", ".join(names)) if names
                                                else self.tr("Select an element with devices for its live values"))
        self.selection_changed.emit(index)
        self.request_render()

    def _sync_tree(self, index: int) -> None:
        item = self.tree_model.index_of_element(index) if index >= 0 else QModelIndex()
        selection = self.tree.selectionModel()
        selection.blockSignals(True)
        try:
            if item.isValid():
                parent = item.parent()
                while parent.isValid():
                    self.tree.expand(parent)
                    parent = parent.parent()
                selection.setCurrentIndex(item, QItemSelectionModel.SelectionFlag.ClearAndSelect)
                self.tree.scrollTo(item)
            else:
                selection.clearSelection()
                selection.setCurrentIndex(QModelIndex(), QItemSelectionModel.SelectionFlag.Clear)
        finally:
            selection.blockSignals(False)
        self.tree.viewport().update()

    def _on_tree_current(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if current.isValid():
            self.select_element(int(current.internalId()), fly=True)

    def _show_selection_status(self, index: int) -> None:
        if index < 0 or self.model is None:
            self.selection_label.setText("")
            return
        m = self.model
        parts = [m.label(index), str(m.ifc_class[index])]
        if m.building[index] >= 0 and m.building[index] != index:
            parts.append(str(m.name[m.building[index]]))
        if m.storey[index] >= 0 and m.storey[index] != index:
            parts.append(str(m.name[m.storey[index]]))
        if self.devices is not None:
            parts.append(self.tr("{count} devices").format(count=len(self.devices.rows_of(index))))
        parts.append(f"GlobalId {m.global_id[index]}")
        self.selection_label.setText("  ·  ".join(parts))

    def find(self, text: str) -> np.ndarray:
        """Elements matching `text`: exact GlobalId or name first, then substrings of name, long name, class."""
        if self.model is None or not text.strip():
            return np.zeros(0, dtype=np.int64)
        m = self.model
        needle = text.strip()
        exact = np.flatnonzero((m.global_id == needle) | (m.name == needle))
        if len(exact):
            return exact
        lowered = needle.lower()
        for column in (m.name, m.long_name, m.ifc_class, m.global_id):
            hits = np.flatnonzero(np.char.find(np.char.lower(column.astype(str)), lowered) >= 0)
            if len(hits):
                return hits
        if self.properties is not None:
            try:
                guids = self.properties.find_by_property_value(needle)
            except Exception as exc:  # a property search must never take the console down
                self.statusBar().showMessage(self.tr("Property search failed: {error}").format(error=exc), 6000)
                guids = []
            hits = np.array([m.index_of(g) for g in guids], dtype=np.int64)
            return hits[hits >= 0]
        return np.zeros(0, dtype=np.int64)

    def select_by_text(self, text: str) -> bool:
        """Select and fly to the first element matching `text`; False when nothing matches."""
        hits = self.find(text)
        if not len(hits):
            return False
        self.select_element(int(hits[0]), fly=True)
        return True

    def _search(self) -> None:
        text = self.search_box.text().strip()
        if not text:
            return
        hits = self.find(text)
        if len(hits):
            self.select_element(int(hits[0]), fly=True)
            self.statusBar().showMessage(
                self.tr("{count} match(es) for {text}").format(count=len(hits), text=repr(text)), 4000)
        else:
            self.statusBar().showMessage(self.tr("Nothing matches {text}").format(text=repr(text)), 4000)

    def show_overview(self) -> None:
        """District overview: everything, camera from above the south-east corner."""
        if self.scene is None:
            return
        self.select_element(-1)
        self.view.focus_storey = -1
        self.scene.camera_overview()
        self.request_render()

    def _focus_of(self, ifc_class: str) -> int:
        """The selected element's ancestor-or-self of a spatial class (IfcBuilding, IfcBuildingStorey)."""
        if self.model is None or self.selected < 0:
            return -1
        column = self.model.building if ifc_class == "IfcBuilding" else self.model.storey
        return int(column[self.selected])

    def show_tower(self) -> None:
        """Camera on the selected element's tower."""
        building = self._focus_of("IfcBuilding")
        if self.scene is not None and building >= 0:
            self.scene.camera_side(building)
            self.request_render()

    def show_plan(self) -> None:
        """Plan view from above on the selected element's storey."""
        storey = self._focus_of("IfcBuildingStorey")
        if self.scene is not None and storey >= 0:
            self.view.focus_storey = storey
            self.scene.camera_plan(storey)
            self.request_render()

    def set_isolated(self, on: bool) -> None:
        """Show only the selected storey (or tower, or element subtree)."""
        if self.scene is None:
            return
        target = -1
        if on and self.selected >= 0:
            storey = self._focus_of("IfcBuildingStorey")
            target = storey if storey >= 0 else self.selected
        if on and target < 0:
            self.statusBar().showMessage(self.tr("Select a tower, a storey or an element to isolate"), 4000)
            self.isolate_action.setChecked(False)
            return
        self.view.isolated = target

    def set_xray(self, on: bool) -> None:
        """Everything translucent but the selection."""
        self.view.xray = bool(on)

    def set_section(self, on: bool) -> None:
        """Horizontal section plane at the height in the toolbar (the part below stays)."""
        if self.scene is None:
            return
        if on and self.section_height.value() == 0.0 and self.model is not None:
            storey = self._focus_of("IfcBuildingStorey")
            bounds = self.model.element_bounds(storey) if storey >= 0 else self.model.bbox()
            if bounds is not None:
                self.section_height.blockSignals(True)
                self.section_height.setValue(round(float(bounds[2] + 1.5 if storey >= 0 else
                                                         (bounds[2] + bounds[5]) / 2), 1))
                self.section_height.blockSignals(False)
        self.view.section_height = float(self.section_height.value()) if on else None

    def set_measuring(self, on: bool) -> None:
        """Measure mode: clicks place points instead of selecting."""
        self.view.measuring = bool(on)

    def measure_at(self, x: int, y: int) -> float | None:
        """Place a measurement point at display (x, y); returns the distance after the second point."""
        if self.scene is None:
            return None
        point = self.scene.pick_point(x, y)
        if point is None:
            self.statusBar().showMessage(self.tr("Measure: nothing under the cursor"), 4000)
            return None
        if len(self._measure_points) >= 2:
            self._measure_points = []
        self._measure_points.append(point)
        distance = self.scene.show_measurement(*self._measure_points)
        if distance is None:
            self.statusBar().showMessage(self.tr("Measure: click the second point"), 6000)
        else:
            a, b = self._measure_points
            dz = abs(b[2] - a[2])
            self.statusBar().showMessage(self.tr("Distance {d} m (horizontal {h} m, vertical {v} m)").format(
                d=f"{distance:.2f}", h=f"{np.hypot(*(b - a)[:2]):.2f}", v=f"{dz:.2f}"))
        self.request_render()
        return distance

    def _toggle_category(self, cat: Category, on: bool) -> None:
        self.view.set_category_shown(cat.name, on)

    # -- 3D picking -------------------------------------------------------------------------------
    def _on_press(self, obj: object, _event: str) -> None:
        self._press_pos = self.plotter.iren.get_event_position()

    def _on_release(self, obj: object, _event: str) -> None:
        if self._press_pos is None or self.scene is None:
            return
        x, y = self.plotter.iren.get_event_position()
        px, py = self._press_pos
        self._press_pos = None
        tolerance = CLICK_TOLERANCE_PX * self.view.scale * self.plotter.devicePixelRatioF()  # VTK's pixels
        if abs(x - px) > tolerance or abs(y - py) > tolerance:
            return  # a drag rotates the camera; only a click picks
        if self.view.measuring:
            self.measure_at(x, y)
        else:
            self.pick_at(x, y)

    def pick_at(self, x: int, y: int) -> int:
        """Pick at VTK display coordinates (origin bottom left) and select what is there."""
        if self.scene is None:
            return -1
        element = self.scene.pick(x, y)
        self.select_element(element, fly=False)
        return element

    # -- rendering --------------------------------------------------------------------------------
    def request_render(self) -> None:
        """Ask for a render; it happens at most once per frame on the timer."""
        self._render_pending = True

    def _render_if_pending(self) -> None:
        if self._render_pending:
            self._render_pending = False
            # one frame: the widget's paint renders the scene (an explicit render as well would draw it twice)
            self.plotter.update()

    def render_now(self) -> None:
        """Render at once (for screenshots and tests)."""
        self._render_pending = False
        self.plotter.render()

    def grab_with_scene(self) -> QPixmap:
        """The window as a pixmap with the 3D view read back from OpenGL (a widget grab alone shows it black)."""
        self.render_now()
        pixmap = self.grab()
        image = self.plotter.screenshot(return_img=True)
        if image is not None:
            image = np.ascontiguousarray(image[:, :, :3])
            h, w, _ = image.shape
            qimage = QImage(image.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()
            top_left = self.plotter.mapTo(self, QPoint(0, 0))
            painter = QPainter(pixmap)
            dpr = pixmap.devicePixelRatio()
            target = self.plotter.rect().translated(top_left)
            painter.drawImage(target, qimage.scaled(int(target.width() * dpr), int(target.height() * dpr)))
            painter.end()
        return pixmap

    def closeEvent(self, event: object) -> None:  # noqa: N802
        self._save_layout()
        self._render_timer.stop()
        self.property_panel.shutdown()
        self.stop_live()
        if self._loader is not None:
            self._loader.cancel()
        for thread in [self._loader_thread, *(t for t, _ in self._retired)]:
            if thread is not None and thread.isRunning():
                thread.quit()
                thread.wait(5000)
        self.plotter.close()
        super().closeEvent(event)
