"""The operators' language: every source string translated, no bare string in Qt code, the .qm never stale, and a
console that switches between Chinese and English at run time.

When a test here fails for a new string: run ``packaging/i18n.sh update``, translate the entries marked
``type="unfinished"`` in resources/i18n/twin_app_zh_CN.ts, run ``packaging/i18n.sh release`` and commit both files.
"""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "twin_app"
I18N = ROOT / "resources" / "i18n"
TS = I18N / "twin_app_zh_CN.ts"
QM = I18N / "twin_app_zh_CN.qm"
BIN = Path(sys.executable).parent
PLACEHOLDER = re.compile(r"\{[A-Za-z_][A-Za-z0-9_]*(?:![rsa])?(?::[^{}]*)?\}|%n|%L?\d")
CJK = re.compile(r"[\u4e00-\u9fff]")


def _tool(name: str) -> str:
    found = BIN / name
    if found.exists():
        return str(found)
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"{name} is not installed")
    return path


def read_ts(path: Path) -> dict[tuple[str, str], str | None]:
    """(context, source) -> the finished translation, or None when it is missing, unfinished or empty."""
    out: dict[tuple[str, str], str | None] = {}
    for context in ET.parse(path).getroot().iter("context"):
        name = context.findtext("name") or ""
        for message in context.iter("message"):
            source = message.findtext("source") or ""
            translation = message.find("translation")
            if translation is None or translation.get("type") in ("unfinished", "vanished", "obsolete"):
                out[(name, source)] = None
                continue
            forms = [f.text or "" for f in translation.iter("numerusform")]
            text = " / ".join(forms) if forms else (translation.text or "")
            out[(name, source)] = text if text.strip() else None
    return out


def _sources() -> list[str]:
    return sorted(str(p.relative_to(ROOT)) for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts)


@pytest.fixture(scope="module")
def extracted(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], str | None]:
    """Every translatable string of twin_app/ now, as pyside6-lupdate finds it (into a fresh .ts)."""
    fresh = tmp_path_factory.mktemp("lupdate") / "fresh_zh_CN.ts"
    done = subprocess.run([_tool("pyside6-lupdate"), *_sources(), "-no-obsolete", "-locations", "none",
                           "-source-language", "en", "-target-language", "zh_CN", "-ts", str(fresh)],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    return read_ts(fresh)


def test_every_source_string_has_a_chinese_translation(extracted: dict) -> None:
    committed = read_ts(TS)
    missing = sorted(key for key in extracted if committed.get(key) is None)
    listing = "\n".join(f"  [{context}] {source!r}" for context, source in missing)
    assert not missing, (f"{len(missing)} source string(s) have no finished zh_CN translation in {TS.name}:\n"
                         f"{listing}\nRun packaging/i18n.sh update, translate them, then packaging/i18n.sh release.")
    assert len(extracted) > 300  # the extraction itself works (tables of labels, tr(), translate())


def test_translations_keep_their_placeholders_and_are_chinese() -> None:
    wrong = []
    for (context, source), text in read_ts(TS).items():
        if text is None:
            continue
        if sorted(PLACEHOLDER.findall(source)) != sorted(PLACEHOLDER.findall(text.split(" / ")[0])):
            wrong.append(f"  [{context}] {source!r} -> {text!r}: placeholders differ")
        letters = re.sub(r"\{[^}]*\}|&\w|[A-Z0-9]{2,}|\W|\d|_", "", source)
        if len(letters) > 8 and not CJK.search(text):  # a sentence left in English
            wrong.append(f"  [{context}] {source!r} -> {text!r}: not Chinese")
    assert not wrong, "\n".join(wrong)


def test_committed_qm_is_compiled_from_the_committed_ts(tmp_path: Path) -> None:
    fresh = tmp_path / "twin_app_zh_CN.qm"
    done = subprocess.run([_tool("pyside6-lrelease"), "-silent", str(TS), "-qm", str(fresh)], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert QM.is_file(), f"{QM} is missing: run packaging/i18n.sh release"
    assert fresh.read_bytes() == QM.read_bytes(), f"{QM.name} is stale: run packaging/i18n.sh release and commit it"


# -- no bare user-visible string in Qt code -------------------------------------------------------------------------

SETTERS = {"setText", "setWindowTitle", "setToolTip", "setPlaceholderText", "setStatusTip", "setWhatsThis",
           "showMessage", "setHeaderLabels", "setHorizontalHeaderLabels", "setVerticalHeaderLabels", "addAction",
           "addMenu", "setTitle", "setTabText", "addTab", "setLabelText", "setAccessibleName", "setPrefix",
           "setSuffix", "setSpecialValueText", "setNameFilter", "setWindowIconText", "setInformativeText",
           "setDetailedText", "insertTab", "addRow", "setItemText"}
WIDGETS = {"QLabel", "QPushButton", "QCheckBox", "QRadioButton", "QToolButton", "QAction", "QGroupBox", "QMenu",
           "QDockWidget", "QCommandLinkButton", "QTreeWidgetItem", "QTableWidgetItem", "QListWidgetItem"}
DIALOGS = {"QMessageBox", "QInputDialog", "QFileDialog"}
# strings that are not words of a language: symbols, units, identifiers shown as they are
ALLOWED = {"GlobalId", "IFC", "MQTT", "OK", "ppm", "°C", "km", "px", "Ctrl", "Esc", "F11", "rgb", "html", "pdf"}
QT_MODULES = sorted({*(PACKAGE / "ui").glob("*.py"), *(PACKAGE / "render").glob("*.py")})
WORD = re.compile(r"[A-Za-z]{2,}")


def _words(node: ast.AST) -> list[str]:
    """The words of string literals directly in `node` (f-strings, concatenation, '...'.format(), lists)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [w for w in WORD.findall(node.value) if w not in ALLOWED]
    if isinstance(node, ast.JoinedStr):
        return [w for part in node.values if isinstance(part, ast.Constant) for w in _words(part)]
    if isinstance(node, ast.BinOp):
        return _words(node.left) + _words(node.right)
    if isinstance(node, (ast.List, ast.Tuple)):
        return [w for element in node.elts for w in _words(element)]
    if isinstance(node, ast.IfExp):
        return _words(node.body) + _words(node.orelse)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "format":
        return _words(node.func.value)
    return []


def bare_strings(path: Path) -> list[str]:
    """'file:line: call(...)' for each user-visible string literal passed to Qt without tr()/translate()."""
    found = []
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
        owner = func.value.id if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) else ""
        if name in SETTERS or name in WIDGETS or owner in DIALOGS:
            args = list(node.args) + [k.value for k in node.keywords if k.arg in ("text", "title", "label")]
            if owner == "QFileDialog":  # (parent, caption, directory or file name, filter): the path is no text
                args = [a for i, a in enumerate(node.args) if i in (1, 3)] + [
                    k.value for k in node.keywords if k.arg in ("caption", "filter")]
            words = [w for arg in args for w in _words(arg)]
            if words:
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {owner + '.' if owner else ''}{name}(...) "
                             f"has bare text ({' '.join(words[:6])})")
    return found


TRANSLATING = {"tr", "translate", "QT_TRANSLATE_NOOP", "QT_TR_NOOP"}


def hidden_from_lupdate(path: Path) -> list[str]:
    """'file:line: ...' for each tr()/translate() inside an f-string's braces: pyside6-lupdate does not see those."""
    found = []
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if not isinstance(node, ast.JoinedStr):
            continue
        for part in node.values:
            for inner in ast.walk(part) if isinstance(part, ast.FormattedValue) else ():
                if isinstance(inner, ast.Call):
                    func = inner.func
                    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
                    if name in TRANSLATING:
                        found.append(f"{path.relative_to(ROOT)}:{inner.lineno}: {name}() inside an f-string")
    return found


@pytest.mark.parametrize("path", sorted(PACKAGE.rglob("*.py")), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_translation_call_inside_an_f_string(path: Path) -> None:
    hits = hidden_from_lupdate(path)
    assert not hits, ("pyside6-lupdate does not extract these: translate into a variable first, then use it in the "
                      "f-string:\n" + "\n".join(hits))


def test_the_scanner_finds_bare_strings(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text('label.setText("Hello there")\nQPushButton(f"Play {n}")\nQMessageBox.warning(self, "Oops", x)\n'
                      'ok.setText(self.tr("Fine"))\nsym.setText("×")\nempty.setText("")\n'
                      'w.setToolTip(QCoreApplication.translate("C", "Fine too"))\n', encoding="utf-8")
    sample = sample.rename(ROOT / "tests" / f".scan_{tmp_path.name}.py")
    try:
        hits = bare_strings(sample)
    finally:
        sample.unlink()
    assert len(hits) == 3, hits


@pytest.mark.parametrize("path", QT_MODULES, ids=lambda p: p.name)
def test_no_bare_user_visible_string_in_qt_code(path: Path) -> None:
    hits = bare_strings(path)
    assert not hits, "Wrap these in self.tr() or QCoreApplication.translate():\n" + "\n".join(hits)


# -- the console in Chinese, then English, at run time ----------------------------------------------------------------

def _payloads(now: float) -> tuple[list, list]:
    alarm = {"id": "A1", "kind": "co", "condition": "hi", "value": 70.7, "state": "unack_active",
             "priority": "critical", "device_id": "T05-B1-GZA-CO1-co-1", "raised_ts": now - 60, "incident": "I1"}
    incident = {"id": "I1", "state": "dispatched", "priority": "critical", "cause": "gas", "party": "fire_brigade",
                "title": "CO high 70.7 ppm — T05 B1", "created_ts": now - 60, "alarms": ["A1"], "alarm_count": 1,
                "unacknowledged": 1, "units": ["FB-1"], "deadline_ts": now + 600, "orders": ["O1"],
                "timeline": [{"ts": now - 60, "what": "alarm", "text": "CO high 70.7 ppm", "by": None}]}
    return [("A1", alarm)], [("I1", incident)]


def _texts(dock) -> str:
    """Every text the incident dock shows: title, buttons, headers, rows."""
    from PySide6.QtWidgets import QAbstractButton

    parts = [dock.windowTitle(), dock.filter_box.placeholderText()]
    parts += [b.text() for b in dock.findChildren(QAbstractButton)]
    header = dock.tree.headerItem()
    parts += [header.text(c) for c in range(header.columnCount())]
    for i in range(dock.tree.topLevelItemCount()):
        item = dock.tree.topLevelItem(i)
        parts += [item.text(c) for c in range(item.columnCount())]
        for k in range(item.childCount()):
            parts += [item.child(k).text(c) for c in range(item.child(k).columnCount())]
    return "\n".join(parts)


def test_the_console_speaks_chinese_and_switches_to_english_at_run_time(qtbot, qapp) -> None:
    import time

    from PySide6.QtCore import QCoreApplication

    from twin_app.core import i18n as core_i18n
    from twin_app.ui import i18n as ui_i18n
    from twin_app.ui.command_panel import DispatchDock, IncidentDock
    from twin_app.ui.incident_detail import IncidentDetailDock

    assert ui_i18n.available_languages() == ["en", "zh_CN"]
    assert ui_i18n.system_language() in ("en", "zh_CN")
    now = time.time()
    try:
        assert ui_i18n.install_language(qapp, "zh-CN") == "zh_CN"
        assert core_i18n.installed() and core_i18n.is_chinese()
        dock = IncidentDock()
        qtbot.addWidget(dock)
        dispatch = DispatchDock()
        qtbot.addWidget(dispatch)
        detail = IncidentDetailDock()
        qtbot.addWidget(detail)
        alarms, incidents = _payloads(now)
        dock.update_data(alarms, incidents)
        dock.redraw()
        detail.show_incident(incidents[0][1], {})
        shown = _texts(dock)
        for chinese in ("事件", "确认 (A)", "按建议派单 (D)", "紧急", "已派单", "消防救援", "罗湖消防站1号车", "剩余",
                        "一氧化碳超上限 70.7 ppm", "未确认·报警中", "等级"):
            assert chinese in shown, (chinese, shown)
        assert "一氧化碳超上限 70.7 ppm — T05 B1" in shown  # the published English title, said again
        assert dispatch.windowTitle() == "派单调度"
        assert QCoreApplication.translate("QPlatformTheme", "Cancel") == "取消"  # Qt's own, for standard dialogs
        assert "已派单" in detail.text.toPlainText() and "有害气体" in detail.text.toPlainText()

        assert ui_i18n.install_language(qapp, "en") == "en"
        qapp.processEvents()  # Qt's LanguageChange reaches every widget: the static texts follow by themselves
        assert dock.windowTitle() == "Incidents" and dock.ack_button.text() == "Acknowledge (A)"
        for widget in (dock, dispatch, detail):
            widget.retranslate()
        dock.redraw()
        shown = _texts(dock)
        assert not CJK.search(shown), shown
        for english in ("Incidents", "Acknowledge (A)", "◆◆ Critical", "Dispatched", "Fire brigade",
                        "Luohu fire station engine 1", "due in", "CO high 70.7 ppm", "unack active", "Priority"):
            assert english in shown, (english, shown)
        assert dispatch.windowTitle() == "Dispatch"
        assert not CJK.search(detail.text.toPlainText())
        assert not core_i18n.installed()
    finally:
        ui_i18n.install_language(qapp, "en")


def test_every_dialog_and_dock_of_the_console_in_chinese(qtbot, qapp, tmp_path: Path) -> None:
    from twin_app.ui import i18n as ui_i18n
    from twin_app.ui.login import LoginDialog
    from twin_app.ui.replay import TimelineDock
    from twin_app.ui.training_dialog import TrainingReportDialog

    try:
        ui_i18n.install_language(qapp, "zh_CN")
        login = LoginDialog("mqtts://broker:8883")
        timeline = TimelineDock()
        report = TrainingReportDialog("<html><body><p>score</p></body></html>", tmp_path / "report.html")
        for widget in (login, timeline, report):
            qtbot.addWidget(widget)
        assert login.windowTitle() == "登录 — 木棉岭指挥中心" and login.user_box.placeholderText() == "用户名"
        assert timeline.windowTitle() == "回放" and timeline.play_button.text() == "▶ 播放"
        assert report.windowTitle() == "培训演练报告" and report.browser.text() == "在浏览器中打开"
        ui_i18n.install_language(qapp, "en")
        qapp.processEvents()
        assert login.windowTitle() == "Log in — Mumianling command center"
        assert timeline.play_button.text() == "▶ Play" and report.browser.text() == "Open in the browser"
    finally:
        ui_i18n.install_language(qapp, "en")


def test_an_unknown_language_stays_english(qapp) -> None:
    from twin_app.ui import i18n as ui_i18n

    try:
        assert ui_i18n.install_language(qapp, "tlh") == "en"
        assert ui_i18n.normalise("zh_Hans") == "zh_CN" and ui_i18n.normalise("en-GB") == "en"
    finally:
        ui_i18n.install_language(qapp, "en")
