"""The core's translation hook: English by default, the operator's language once the console installs one."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest

from twin_app.core import i18n
from twin_app.core.texts import (
    alarm_state_label,
    alarm_text,
    cause_label,
    due_text,
    kind_label,
    order_status_label,
    party_label,
    priority_label,
    state_label,
    unit_label,
)

TS = Path(__file__).resolve().parents[2] / "resources" / "i18n" / "twin_app_zh_CN.ts"


def _catalogue() -> dict[tuple[str, str], str]:
    """The committed zh_CN translations, read without Qt."""
    out = {}
    for context in ET.parse(TS).getroot().iter("context"):
        for message in context.iter("message"):
            translation = message.find("translation")
            if translation is not None and translation.get("type") is None and translation.text:
                out[(context.findtext("name"), message.findtext("source"))] = translation.text
    return out


@pytest.fixture
def chinese() -> Iterator[None]:
    catalogue = _catalogue()
    i18n.install(lambda context, text: catalogue.get((context, text), text))
    i18n.set_locale("zh_CN")
    try:
        yield
    finally:
        i18n.install(None)
        i18n.set_locale("en")


def test_english_without_a_hook() -> None:
    assert not i18n.installed()
    assert i18n.translate("Texts", "due in {time}") == "due in {time}"
    assert alarm_text("co", "hi", 70.7) == "CO high 70.7 ppm"
    assert alarm_text("smoke", "stale") == "Smoke no data"
    assert alarm_text("camera", "event:fall_detected") == "Fall detected"
    assert due_text(1000.0, 100.0) == "due in 15:00" and due_text(100.0, 230.0) == "OVERDUE 02:10"
    assert (kind_label("temperature"), kind_label("ups_battery"), kind_label("made_up")) == \
        ("Temperature", "UPS battery", "Made up")
    assert (party_label("fire_brigade"), party_label(None), state_label("on_scene"), priority_label("critical")) == \
        ("Fire brigade", "—", "On scene", "Critical")
    assert alarm_state_label("out_of_service") == "out of service" and order_status_label("en_route") == "en route"


def test_chinese_with_the_hook(chinese: None) -> None:
    assert alarm_text("co", "hi", 70.7) == "一氧化碳超上限 70.7 ppm"
    assert alarm_text("smoke", "stale") == "烟感无数据"
    assert alarm_text("camera", "event:object_thrown_from_height") == "高空抛物"
    assert due_text(1000.0, 100.0) == "剩余 15:00" and due_text(100.0, 230.0) == "已超时 02:10"
    assert cause_label("fire") == "烟雾火情" and cause_label("resident_request") == "居民诉求"
    assert party_label("property_management") == "物业服务中心" and state_label("closed") == "已办结"
    assert priority_label("critical") == "紧急" and alarm_state_label("shelved") == "已搁置"
    assert unit_label("Property duty team 1") == "物业值班1组"
    assert kind_label("septic_level") == "化粪池液位"
    assert party_label("somebody_else") == "Somebody else"  # no translation: readable English, never empty


def test_published_texts_stay_in_the_source_language(chinese: None) -> None:
    with i18n.source_language():
        assert alarm_text("co", "hi", 70.7) == "CO high 70.7 ppm"
    assert alarm_text("co", "hi", 70.7).startswith("一氧化碳")


def test_a_broken_hook_never_breaks_a_text() -> None:
    def broken(context: str, text: str) -> str:
        raise RuntimeError("no translator")

    i18n.install(broken)
    try:
        assert state_label("new") == "New"
    finally:
        i18n.install(None)


def test_locale_formatting() -> None:
    assert i18n.format_number(12345.67, 1) == "12,345.7" and i18n.format_number(None) == "—"
    assert i18n.format_percent(0.975) == "97.5%"
    assert i18n.format_duration(3725) == "1 h 2 min" and i18n.format_duration(250) == "4 min 10 s"
    i18n.set_locale("zh-CN")
    try:
        assert i18n.format_duration(3725) == "1小时2分" and i18n.format_duration(12) == "12秒"
        assert i18n.format_duration(120) == "2分钟"
    finally:
        i18n.set_locale("en")
