"""Saving an incident report or shift log (HTML from `twin_app.core.report`) as an .html or .pdf file.

HTML is written as UTF-8 (with a charset declaration, so Chinese names survive in any browser). PDF is laid out by
``QTextDocument`` and written by ``QPdfWriter`` on A4 with 15 mm margins and a page number in the footer; it needs a
``QGuiApplication`` (or ``QApplication``) to exist, as for any Qt text layout, and works under the offscreen and xcb
platforms. Both are written to a temporary file next to the target and then moved into place, so a failed export
never leaves half a report behind.
"""

from __future__ import annotations

import contextlib
import os
import re
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QMarginsF, QRectF, QSizeF, Qt
from PySide6.QtGui import QFont, QGuiApplication, QPageLayout, QPageSize, QPainter, QPdfWriter, QTextDocument

HTML_SUFFIXES = (".html", ".htm")
PDF_SUFFIX = ".pdf"
MARGINS_MM = QMarginsF(15.0, 15.0, 15.0, 12.0)  # left, top, right, bottom; the footer sits inside the bottom one
RESOLUTION_DPI = 300
FOOTER_PT = 7.5
_CHARSET = re.compile(r"<meta[^>]+charset", re.IGNORECASE)


def save_report(html: str, path: Path) -> Path:
    """Write a report to `path` as HTML or PDF, chosen by its suffix.

    Parameters
    ----------
    html
        A complete HTML document, e.g. from `incident_report_html`.
    path
        Target file ending in ``.html``/``.htm`` or ``.pdf``; missing parent folders are made.

    Returns
    -------
    Path
        The path written.

    Raises
    ------
    ValueError
        When the suffix is neither HTML nor PDF.
    RuntimeError
        When a PDF is asked for and no QGuiApplication exists.
    OSError
        When the file cannot be written.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (*HTML_SUFFIXES, PDF_SUFFIX):
        raise ValueError(f"cannot save a report as {path.name!r}: the file name must end in .html, .htm or .pdf")
    if not isinstance(html, str):
        raise TypeError(f"html must be text, got {type(html).__name__}")
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.{os.getpid()}.part")
    try:
        if suffix == PDF_SUFFIX:
            _write_pdf(html, temp, title=path.stem)
        else:
            _write_html(html, temp)
        os.replace(temp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            temp.unlink()
    return path


def _write_html(html: str, path: Path) -> None:
    """`html` as UTF-8, with a charset declaration added when the document has none."""
    if not _CHARSET.search(html[:4096]):
        html = '<meta charset="utf-8">\n' + html
    with open(path, "w", encoding="utf-8", errors="replace", newline="\n") as out:
        out.write(html)


def _write_pdf(html: str, path: Path, title: str) -> None:
    """`html` laid out on A4 pages by QTextDocument and written by QPdfWriter, with page numbers."""
    if QGuiApplication.instance() is None:
        raise RuntimeError("saving a report as PDF needs a QGuiApplication (or QApplication) to exist")
    writer = QPdfWriter(str(path))
    writer.setResolution(RESOLUTION_DPI)
    writer.setPageSize(QPageSize(QPageSize.PageSizeId.A4))
    writer.setPageOrientation(QPageLayout.Orientation.Portrait)
    writer.setPageMargins(MARGINS_MM, QPageLayout.Unit.Millimeter)
    writer.setTitle(title)
    writer.setCreator("twin_app command center console")

    doc = QTextDocument()
    doc.documentLayout().setPaintDevice(writer)  # lay out at the printer's resolution: pt sizes print true to size
    font = QFont(doc.defaultFont())
    font.setPointSizeF(9.0)
    doc.setDefaultFont(font)
    doc.setHtml(html)

    footer_font = QFont(font)
    footer_font.setPointSizeF(FOOTER_PT)
    footer_h = round(FOOTER_PT / 72 * RESOLUTION_DPI * 2.2)
    width, height = writer.width(), writer.height()  # the paint rectangle inside the margins, in device pixels
    body_h = height - footer_h
    doc.setPageSize(QSizeF(width, body_h))
    pages = max(1, doc.pageCount())

    painter = QPainter()
    if not painter.begin(writer):
        raise OSError(f"cannot write PDF to {path}")
    try:
        for page in range(pages):
            if page:
                writer.newPage()
            painter.save()
            painter.translate(0, -page * body_h)
            doc.drawContents(painter, QRectF(0, page * body_h, width, body_h))
            painter.restore()
            painter.setFont(footer_font)
            painter.setPen(Qt.GlobalColor.darkGray)
            painter.drawText(QRectF(0, body_h, width, footer_h), Qt.AlignmentFlag.AlignRight
                             | Qt.AlignmentFlag.AlignBottom,
                             QCoreApplication.translate("ReportExport", "{title} — page {page} of {pages}").format(
                                 title=title, page=page + 1, pages=pages))
    finally:
        painter.end()
    if not path.exists() or path.stat().st_size == 0:
        raise OSError(f"the PDF writer produced no file at {path}")
