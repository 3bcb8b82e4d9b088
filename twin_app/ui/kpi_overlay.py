"""The wall's key figures as large tiles: a strip over the 3D view or the content of a dock.

Each tile is a short label above a big number, readable from 5 m on the wall at the scale `ui_scale` gives.
Tiles are calm grey while their figure is normal (ISA-101); an abnormal one is filled with its colour: red for
critical incidents, overdue orders and lost data, orange for high, amber for medium and for figures off their
target; standing low-priority incidents only get a blue bar. The priority tiles carry the incident list's
symbols too, so priority never rests on colour alone.
"""

from __future__ import annotations

import math

from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import QFrame, QGridLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

from twin_app.core.wall import TILES, WallFigures, tile_levels
from twin_app.ui.theme import theme_colours

LABEL_POINT_SIZE = 16.0  # at scale 1: about 21 px at 96 dpi; 43 px at scale 2: 30 mm capitals on a 4 m wide 4K wall
VALUE_POINT_SIZE = 36.0
FILLED = ("critical", "high", "medium", "warning", "alarm")  # levels that fill the tile; "low" only marks it
OVERLAY_ALPHA = 235  # tile opacity (of 255) in overlay mode


def _rgba(colour: str, alpha: int) -> str:
    c = QColor(colour)
    return f"rgba({c.red()}, {c.green()}, {c.blue()}, {alpha})"


class KpiTile(QFrame):
    """One figure: its label above, its value below."""

    def __init__(self, key: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.key = key
        self.level = "normal"
        self.setObjectName("kpi-tile")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.label = QLabel(self)
        self.label.setObjectName("kpi-label")
        self.label.setWordWrap(True)
        self.value = QLabel(self)
        self.value.setObjectName("kpi-value")
        self.label.setAlignment(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)
        # at the bottom: the figures of a row stand on one line even where a long label wraps
        self.value.setAlignment(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignBottom)
        layout = QVBoxLayout(self)
        layout.addWidget(self.label)
        layout.addWidget(self.value, 1)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)


class KpiOverlay(QWidget):
    """The wall's figures (`WallFigures`) as tiles in a row (the strip over the 3D view) or in columns (a dock).

    Parameters
    ----------
    parent
        The parent widget.
    orientation
        ``Qt.Orientation.Horizontal``: one row of tiles; ``Qt.Orientation.Vertical``: `columns` columns.
    theme
        The theme whose colours the tiles use (``"dark"`` or ``"light"``).
    overlay
        True over the 3D view: no background of its own and slightly translucent tiles.
    columns
        Columns of tiles in the vertical layout.
    """

    def __init__(self, parent: QWidget | None = None, orientation: Qt.Orientation = Qt.Orientation.Horizontal,
                 theme: str = "dark", overlay: bool = False, columns: int = 2) -> None:
        super().__init__(parent)
        self.setObjectName("kpi-overlay")
        self._theme = theme
        self._colours = theme_colours(theme)
        self._overlay = overlay
        self._orientation = orientation
        self._columns = max(1, columns)
        self._scale = 1.0
        self.figures = WallFigures()
        self.levels: dict[str, str] = {}  # none yet: the first drawing styles every tile
        self.tiles = {key: KpiTile(key, self) for key in TILES}
        self._grid = QGridLayout(self)
        self._arrange()
        self.set_scale(1.0)
        self.retranslate()  # sets the figures too

    # -- layout -----------------------------------------------------------------------------------
    @property
    def scale(self) -> float:
        return self._scale

    @property
    def orientation(self) -> Qt.Orientation:
        return self._orientation

    def set_orientation(self, orientation: Qt.Orientation, columns: int | None = None) -> None:
        """A row of tiles (horizontal) or a grid of `columns` columns (vertical)."""
        self._orientation = orientation
        if columns is not None:
            self._columns = max(1, columns)
        self._arrange()

    def _arrange(self) -> None:
        for tile in self.tiles.values():
            self._grid.removeWidget(tile)
        columns = len(self.tiles) if self._orientation == Qt.Orientation.Horizontal else self._columns
        for i, tile in enumerate(self.tiles.values()):
            self._grid.addWidget(tile, i // columns, i % columns)
        for c in range(self._grid.columnCount()):
            self._grid.setColumnStretch(c, 1 if c < columns else 0)

    def set_scale(self, factor: float) -> None:
        """Multiply font sizes, margins and spacing by `factor` (see `twin_app.ui.screens.ui_scale`)."""
        if not factor > 0 or not math.isfinite(factor):
            raise ValueError(f"scale must be a positive number, not {factor!r}")
        self._scale = float(factor)
        gap = round(6 * factor)
        self._grid.setContentsMargins(gap, gap, gap, gap)
        self._grid.setSpacing(gap)
        label_font = QFont(self.font())
        label_font.setPointSizeF(LABEL_POINT_SIZE * factor)
        label_font.setBold(False)
        value_font = QFont(self.font())
        value_font.setPointSizeF(VALUE_POINT_SIZE * factor)
        value_font.setBold(True)
        value_font.setStyleHint(QFont.StyleHint.SansSerif)
        for tile in self.tiles.values():
            tile.layout().setContentsMargins(round(10 * factor), round(6 * factor), round(10 * factor),
                                             round(8 * factor))
            tile.layout().setSpacing(round(2 * factor))
            tile.label.setFont(label_font)
            tile.value.setFont(value_font)
        self._restyle()

    def set_theme(self, name: str) -> None:
        """Draw the tiles in another theme's colours."""
        self._colours = theme_colours(name)
        self._theme = name
        self._restyle()

    # -- figures ------------------------------------------------------------------------------------
    def set_figures(self, figures: WallFigures) -> None:
        """Show these figures; each tile takes the colour of its level (`twin_app.core.wall.tile_levels`)."""
        if figures != self.figures or not self.levels:  # the same figures again: no relayout, no restyle
            self._draw(figures)

    def _draw(self, figures: WallFigures) -> None:
        before = self.levels
        self.figures = figures
        self.levels = tile_levels(figures)
        values = self._values(figures)
        for key, tile in self.tiles.items():
            tile.value.setText(values[key])
            tile.level = self.levels[key]
        self._tooltips(figures)
        if self.levels != before:  # a style sheet costs tens of ms: only when a tile changes colour
            self._restyle()

    def tile_text(self, key: str) -> tuple[str, str]:
        """(label, value) of a tile as shown."""
        tile = self.tiles[key]
        return tile.label.text(), tile.value.text()

    def _values(self, f: WallFigures) -> dict[str, str]:
        none = "—"
        out = {key: f"{getattr(f, key):,}" for key in ("critical", "high", "medium", "low", "open_orders",
                                                       "overdue_orders")}
        out["mean_handling"] = none if f.mean_handling_s is None else self._duration(f.mean_handling_s)
        out["within_deadline"] = none if f.within_deadline is None else self._percent(f.within_deadline)
        out["devices_online"] = none if f.devices_online is None else self._percent(f.devices_online)
        out["data_age"] = self.tr("no data") if f.data_age_s is None else self._duration(f.data_age_s)
        return out

    def _percent(self, share: float) -> str:
        # floored: 99.96 % online is not "100 %" while one device is missing
        percent = math.floor(share * 100.0 + 1e-9)
        return self.tr("{percent} %").format(percent=percent)

    def _duration(self, seconds: float) -> str:
        if seconds < 100:
            return self.tr("{seconds} s").format(seconds=int(seconds))
        if seconds < 2 * 3600:
            return self.tr("{minutes} min").format(minutes=round(seconds / 60))
        return self.tr("{hours} h").format(hours=round(seconds / 3600))

    def _tooltips(self, f: WallFigures) -> None:
        online = "" if f.devices_online is None else self.tr("{online} of {total} devices report").format(
            online=f"{round(f.devices_online * f.devices_total):,}", total=f"{f.devices_total:,}")
        self.tiles["devices_online"].setToolTip(online)
        self.tiles["data_age"].setToolTip(self.tr("Time since the newest reading: amber after 10 s, red after 60 s"))
        self.tiles["mean_handling"].setToolTip(self.tr("Mean time from first alarm to closure (target: 15 min)"))
        self.tiles["within_deadline"].setToolTip(self.tr("Share of incidents closed within their deadline"))

    # -- text ---------------------------------------------------------------------------------------
    def retranslate(self) -> None:
        """Set every label again in the current language."""
        labels = {
            "critical": self.tr("◆◆ Critical"),
            "high": self.tr("◆ High"),
            "medium": self.tr("▲ Medium"),
            "low": self.tr("● Low"),
            "open_orders": self.tr("Open orders"),
            "overdue_orders": self.tr("Overdue"),
            "mean_handling": self.tr("Time to close"),
            "within_deadline": self.tr("On time"),
            "devices_online": self.tr("Online"),
            "data_age": self.tr("Data age"),
        }
        for key, tile in self.tiles.items():
            tile.label.setText(labels[key])
        self.setAccessibleName(self.tr("Key figures"))
        self._draw(self.figures)  # the values again, in the new language's units

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 (Qt's name)
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)

    # -- colours ------------------------------------------------------------------------------------
    def tile_colours(self, key: str) -> tuple[str, str]:
        """(background, text) colour of a tile, ``#rrggbb``."""
        level = self.tiles[key].level
        c = self._colours
        if level in FILLED:
            return c[level], c[f"on_{level}"]
        return c["tile"], c["tile_text"]

    def _restyle(self) -> None:
        c = self._colours
        alpha = OVERLAY_ALPHA if self._overlay else 255
        radius = max(2, round(4 * self._scale))
        bar = max(4, round(8 * self._scale))
        self.setStyleSheet("" if self._overlay else f"QWidget#kpi-overlay {{ background: {c['window']}; }}")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, not self._overlay)
        for key, tile in self.tiles.items():
            background, text = self.tile_colours(key)
            label = text if tile.level in FILLED else c["tile_label"]
            # the low bar takes the place of the others' padding: the texts stay where they are
            edge = f"border-left: {bar}px solid {c['low']};" if tile.level == "low" else f"padding-left: {bar}px;"
            tile.setStyleSheet(
                f"QFrame#kpi-tile {{ background: {_rgba(background, alpha)}; border-radius: {radius}px; {edge} }}"
                # the sizes here too: an application style sheet's font size would override setFont
                f"QLabel#kpi-label {{ color: {label}; background: transparent; "
                f"font-size: {LABEL_POINT_SIZE * self._scale:.1f}pt; font-weight: normal; }}"
                f"QLabel#kpi-value {{ color: {text}; background: transparent; "
                f"font-size: {VALUE_POINT_SIZE * self._scale:.1f}pt; font-weight: bold; }}")
