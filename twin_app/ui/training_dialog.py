"""The training report on screen: the score and table as text, the timeline chart as SVG, the saved file."""

from __future__ import annotations

import re
from pathlib import Path

from PySide6.QtCore import QByteArray, QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtSvgWidgets import QSvgWidget
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QPushButton, QTextBrowser, QVBoxLayout, QWidget

_SVG = re.compile(r"<svg\b.*?</svg>", re.DOTALL)


class TrainingReportDialog(QDialog):
    """Shows a training report (`twin_app.core.training.training_report_html`) and where it was saved."""

    def __init__(self, html: str, path: Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Training report")
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
        saved = QLabel(f"Saved as {path}")
        saved.setWordWrap(True)
        layout.addWidget(saved)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        browser = QPushButton("Open in the browser")
        browser.clicked.connect(lambda: QDesktopServices.openUrl(QUrl.fromLocalFile(str(path))))
        buttons.addButton(browser, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
