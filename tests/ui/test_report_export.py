"""Saving reports: HTML as UTF-8, PDF through QTextDocument and QPdfWriter on A4, anything else refused."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.core.test_report import INCIDENT, ORDERS, T
from twin_app.core.report import incident_report_html, shift_log_html
from twin_app.ui.report_export import save_report


def test_html_round_trip_keeps_chinese(tmp_path: Path) -> None:
    doc = incident_report_html(dict(INCIDENT, result="风机运行，CO 降至 8 ppm"), ORDERS, generated_ts=T)
    path = save_report(doc, tmp_path / "report.html")
    assert path == tmp_path / "report.html"
    raw = path.read_bytes()
    assert raw.decode("utf-8") == doc
    assert '<meta charset="utf-8">' in doc and "风机运行，CO 降至 8 ppm".encode() in raw
    assert not list(tmp_path.glob(".*part"))  # no temporary file left behind


def test_html_without_charset_gets_one(tmp_path: Path) -> None:
    path = save_report("<p>李伟</p>", tmp_path / "sub" / "plain.HTM")
    text = path.read_text(encoding="utf-8")
    assert text.startswith('<meta charset="utf-8">') and "李伟" in text


def test_pdf_is_written_on_a4(qapp, tmp_path: Path) -> None:
    path = save_report(incident_report_html(INCIDENT, ORDERS, generated_ts=T), tmp_path / "report.pdf")
    raw = path.read_bytes()
    assert raw.startswith(b"%PDF") and b"%%EOF" in raw[-1024:]
    assert 5_000 < len(raw) < 5_000_000
    boxes = set(re.findall(rb"/MediaBox \[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", raw))
    assert boxes and all(abs(float(w) - 595.3) < 2 and abs(float(h) - 841.9) < 2 for w, h in boxes)  # A4 in points


def test_shift_log_pdf_has_a_page_per_incident(qapp, tmp_path: Path) -> None:
    incidents = [dict(INCIDENT, id=f"I-{n}") for n in range(3)]
    raw = save_report(shift_log_html(incidents, ORDERS, generated_ts=T), tmp_path / "log.pdf").read_bytes()
    assert raw.startswith(b"%PDF") and len(re.findall(rb"/Type\s*/Page\b", raw)) >= 4


def test_other_suffixes_are_refused(tmp_path: Path) -> None:
    for name in ("report.txt", "report", "report.pdf.bak"):
        with pytest.raises(ValueError, match=r"\.html, \.htm or \.pdf"):
            save_report("<p>x</p>", tmp_path / name)
    assert not list(tmp_path.iterdir())
