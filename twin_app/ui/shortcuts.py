"""The keyboard shortcuts help: every action with its keys, grouped by menu, searchable."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QAction, QFont, QKeySequence
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMenu,
    QMenuBar,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

Actions = Iterable[QAction] | Mapping[str, Iterable[QAction]]


def plain_text(text: str) -> str:
    """A menu or action text as a reader sees it: no mnemonic '&' ('&&' stays one '&'), no tab-separated key."""
    return text.split("\t", 1)[0].replace("&&", "\0").replace("&", "").replace("\0", "&").strip()


def action_text(action: QAction) -> str:
    """An action's text without its mnemonic."""
    return plain_text(action.text())


def key_text(action: QAction) -> str:
    """An action's shortcuts in the platform's own notation (``Ctrl+O``, ``⌘O``), comma-separated."""
    keys = [k.toString(QKeySequence.SequenceFormat.NativeText) for k in action.shortcuts() if not k.isEmpty()]
    return ", ".join(k for k in keys if k)


def shortcut_table(actions: Iterable[QAction]) -> list[tuple[str, str]]:
    """(text, keys) of every action that has a shortcut, in the order given; separators and blanks are skipped."""
    rows = []
    for action in actions:
        if action.isSeparator():
            continue
        text, keys = action_text(action), key_text(action)
        if text and keys:
            rows.append((text, keys))
    return rows


class ShortcutsDialog(QDialog):
    """The shortcuts of the given actions: a flat list, or grouped by menu when given ``{menu title: actions}``.

    Typing in the search box keeps the rows whose action, keys or menu contain the text.
    """

    def __init__(self, actions: Actions, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        if isinstance(actions, Mapping):
            self.groups = [(plain_text(title), shortcut_table(group)) for title, group in actions.items()]
        else:
            self.groups = [("", shortcut_table(actions))]
        self.groups = [(title, rows) for title, rows in self.groups if rows]
        self.search = QLineEdit(self)
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(self.filter)
        self.empty = QLabel(self)
        self.empty.setVisible(False)
        self.tree = QTreeWidget(self)
        self.tree.setColumnCount(2)
        self.tree.setRootIsDecorated(False)
        self.tree.setAlternatingRowColors(True)
        self.tree.setSelectionMode(QTreeWidget.SelectionMode.NoSelection)
        self.tree.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.tree.setUniformRowHeights(True)
        header = self.tree.header()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(False)
        self._fill()
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.search)
        layout.addWidget(self.tree, 1)
        layout.addWidget(self.empty)
        layout.addWidget(buttons)
        self.retranslate()
        self.search.setFocus()
        metrics = self.fontMetrics()
        self.resize(metrics.averageCharWidth() * 70, metrics.height() * 28)

    def _fill(self) -> None:
        self.tree.clear()
        bold = QFont(self.tree.font())
        bold.setBold(True)
        for title, rows in self.groups:
            parent = self.tree.invisibleRootItem()
            if title:
                parent = QTreeWidgetItem([title, ""])
                parent.setFont(0, bold)
                parent.setFirstColumnSpanned(True)
                parent.setFlags(Qt.ItemFlag.ItemIsEnabled)
                self.tree.addTopLevelItem(parent)
                parent.setExpanded(True)
            for text, keys in rows:
                item = QTreeWidgetItem([text, keys])
                item.setFont(1, bold)
                item.setData(0, Qt.ItemDataRole.UserRole, title)
                parent.addChild(item)
        self.tree.expandAll()

    def rows(self, visible_only: bool = True) -> list[tuple[str, str, str]]:
        """(menu, action, keys) of the rows shown (or of all rows)."""
        out = []
        for item in self._items():
            if visible_only and (item.isHidden() or (item.parent() is not None and item.parent().isHidden())):
                continue
            out.append((str(item.data(0, Qt.ItemDataRole.UserRole) or ""), item.text(0), item.text(1)))
        return out

    def _items(self) -> list[QTreeWidgetItem]:
        items = []
        for i in range(self.tree.topLevelItemCount()):
            top = self.tree.topLevelItem(i)
            if top.childCount():
                items.extend(top.child(j) for j in range(top.childCount()))
            else:
                items.append(top)
        return items

    def filter(self, text: str) -> None:
        """Show the rows whose action, keys or menu contain `text` (any case); a whole menu when its title does."""
        needle = text.strip().casefold()
        shown = 0
        for i in range(self.tree.topLevelItemCount()):
            top = self.tree.topLevelItem(i)
            if not top.childCount():
                hide = bool(needle) and needle not in f"{top.text(0)} {top.text(1)}".casefold()
                top.setHidden(hide)
                shown += not hide
                continue
            whole = needle in top.text(0).casefold()
            visible = 0
            for j in range(top.childCount()):
                child = top.child(j)
                hide = bool(needle) and not whole and needle not in f"{child.text(0)} {child.text(1)}".casefold()
                child.setHidden(hide)
                visible += not hide
            top.setHidden(visible == 0)
            shown += visible
        self.empty.setVisible(shown == 0)

    def retranslate(self) -> None:
        """Set every text again in the current language."""
        self.setWindowTitle(self.tr("Keyboard shortcuts"))
        self.search.setPlaceholderText(self.tr("Search actions and keys…"))
        self.tree.setHeaderLabels([self.tr("Action"), self.tr("Keys")])
        self.empty.setText(self.tr("No shortcut matches."))

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 (Qt's name)
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)


def menu_actions(menu_bar: QMenuBar) -> dict[str, list[QAction]]:
    """{menu title: its actions} of a menu bar, submenus as their own groups ("View › Panels"), for the dialog."""
    groups: dict[str, list[QAction]] = {}

    def walk(menu: QMenu, title: str) -> None:
        groups.setdefault(title, [])
        for action in menu.actions():
            if action.menu() is not None:
                walk(action.menu(), f"{title} › {plain_text(action.text())}")
            else:
                groups[title].append(action)

    for action in menu_bar.actions():
        if action.menu() is not None:
            walk(action.menu(), plain_text(action.text()))
    return groups
