"""The training report on screen: the score and table as text, the timeline chart as SVG, the saved file."""

from __future__ import annotations

import re
from pathlib import Path

from PySide6.QtCore import QByteArray, QEvent, QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtSvgWidgets import QSvgWidget
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QPushButton, QTextBrowser, QVBoxLayout, QWidget

_SVG = re.compile(r"<svg\b.*?</svg>", re.DOTALL)


class TrainingReportDialog(QDialog):
    """Shows a training report (`twin_app.core.training.training_report_html`) and where it was saved."""

    def __init__(self, html: str, path: Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.path = path
        self.resize(1200, 820)
        layout = QVBoxLayout(self)
        charts = _SVG.findall(html)
        self.text = QTextBrowser(self)
        self.text.setHtml(_SVG.sub("", html))  # the text browser draws no SVG: the chart is shown below
        layout.addWidget(self.text, 3)
        self.charts: list[QSvgWidget] = []
        for chart in charts[:1]:
            widget = QSvgWidget(self)
            widget.load(QByteArray(chart.encode("utf-8")))
            widget.setMinimumHeight(260)
            layout.addWidget(widget, 2)
            self.charts.append(widget)
        self.saved = QLabel(self)
        self.saved.setWordWrap(True)
        layout.addWidget(self.saved)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        self.browser = QPushButton(self)
        self.browser.clicked.connect(lambda: QDesktopServices.openUrl(QUrl.fromLocalFile(str(path))))
        buttons.addButton(self.browser, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.retranslate()

    def retranslate(self) -> None:
        """Re-set the static texts in the language now installed (the report itself keeps its language)."""
        self.setWindowTitle(self.tr("Training report"))
        self.saved.setText(self.tr("Saved as {path}").format(path=self.path))
        self.browser.setText(self.tr("Open in the browser"))

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 (Qt)
        """A language switch at run time re-sets the static texts."""
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)
