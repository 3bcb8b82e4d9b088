"""A lazy Qt item model over the spatial tree of a `DistrictModel` (site > building > storey > element)."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QAbstractItemModel, QModelIndex, QPersistentModelIndex, Qt

from twin_app.core.model import DistrictModel

ElementRole = Qt.ItemDataRole.UserRole + 1
_Index = QModelIndex | QPersistentModelIndex


class ElementTreeModel(QAbstractItemModel):
    """Items are element indices; the project itself is the invisible root.

    Parameters
    ----------
    model
        The district model whose hierarchy is shown.
    """

    def __init__(self, model: DistrictModel, parent: object | None = None) -> None:
        super().__init__(parent)
        self.district = model
        roots = [i for i in range(model.n_elements) if model.parent[i] < 0]
        self._root = roots[0] if len(roots) == 1 and model.ifc_class[roots[0]] == "IfcProject" else -1
        # row of each element among its siblings, computed once from the children lists
        self._row = np.zeros(model.n_elements, dtype=np.int64)
        for parent in [-1, *range(model.n_elements)]:
            kids = model.children(parent)
            if len(kids):
                self._row[kids] = np.arange(len(kids))

    def _children(self, parent: _Index) -> np.ndarray:
        element = parent.internalId() if parent.isValid() else self._root
        return self.district.children(int(element))

    def index(self, row: int, column: int, parent: _Index = QModelIndex()) -> QModelIndex:  # noqa: B008
        kids = self._children(parent)
        if column != 0 or not 0 <= row < len(kids):
            return QModelIndex()
        return self.createIndex(row, column, int(kids[row]))

    def parent(self, child: _Index = QModelIndex()) -> QModelIndex:  # type: ignore[override]  # noqa: B008
        if not child.isValid():
            return QModelIndex()
        up = int(self.district.parent[child.internalId()])
        if up < 0 or up == self._root:
            return QModelIndex()
        return self.createIndex(int(self._row[up]), 0, up)

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008, N802
        if parent.column() > 0:
            return 0
        return len(self._children(parent))

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008, N802
        return 1

    def hasChildren(self, parent: _Index = QModelIndex()) -> bool:  # noqa: B008, N802
        return len(self._children(parent)) > 0

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid():
            return None
        element = int(index.internalId())
        m = self.district
        if role == Qt.ItemDataRole.DisplayRole:
            return m.label(element)
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"{m.ifc_class[element]}\nGlobalId {m.global_id[element]}"
        if role == ElementRole:
            return element
        return None

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> object:  # noqa: N802
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return self.tr("Model")
        return None

    def retranslate(self) -> None:
        """Tell the views that the header's text changed language."""
        self.headerDataChanged.emit(Qt.Orientation.Horizontal, 0, 0)

    def index_of_element(self, element: int) -> QModelIndex:
        """The item index of an element, invalid for the hidden root or an unknown element."""
        if element < 0 or element == self._root or element >= self.district.n_elements:
            return QModelIndex()
        return self.createIndex(int(self._row[element]), 0, element)
