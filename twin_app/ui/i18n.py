"""The console's language: our compiled translation and Qt's own, installed (and switched at run time) on the app.

``install_language(app, "zh_CN")`` loads ``twin_app_zh_CN.qm`` from the package resources
(``twin_app.resources/i18n``) and Qt's ``qtbase_zh_CN.qm`` (standard dialogs and buttons), replaces the translators
installed before, hooks `twin_app.core.i18n` onto ``QCoreApplication.translate`` and sets the default ``QLocale``.
Qt then sends every widget a ``LanguageChange`` event; widgets re-set their static texts in ``retranslate()``.
English is the source language: it needs no file.
"""

from __future__ import annotations

import logging
from importlib import resources

from PySide6.QtCore import QCoreApplication, QLibraryInfo, QLocale, QTranslator

from twin_app.core import i18n as core_i18n

log = logging.getLogger(__name__)

LANGUAGES = ("en", "zh_CN")
SOURCE_LANGUAGE = "en"
_ALIASES = {"zh": "zh_CN", "zh_cn": "zh_CN", "zh_hans": "zh_CN", "zh_hans_cn": "zh_CN", "cn": "zh_CN",
            "en": "en", "en_us": "en", "en_gb": "en", "english": "en", "chinese": "zh_CN"}

_installed: list[QTranslator] = []
_current = SOURCE_LANGUAGE
_original_locale: QLocale | None = None  # the default locale before the first install (English goes back to it)


def available_languages() -> list[str]:
    """The languages the console can show: ``["en", "zh_CN"]``."""
    return list(LANGUAGES)


def normalise(lang: str | None) -> str | None:
    """``"zh-CN"``, ``"zh"``, ``"zh_Hans"`` -> ``"zh_CN"``; ``"en_US"`` -> ``"en"``; None or unknown -> None."""
    if not lang:
        return None
    key = str(lang).strip().replace("-", "_").lower()
    if key in _ALIASES:
        return _ALIASES[key]
    if key.startswith("zh"):
        return "zh_CN"
    if key.startswith("en"):
        return "en"
    return None


def system_language() -> str:
    """``zh_CN`` when the system's locale is Chinese, else ``en``."""
    return "zh_CN" if QLocale.system().language() == QLocale.Language.Chinese else "en"


def current_language() -> str:
    """The language installed last (``en`` before any)."""
    return _current


def qm_folder() -> str:
    """The folder of our compiled translations inside the package resources."""
    return str(resources.files("twin_app.resources") / "i18n")


def _load(translator: QTranslator, name: str, folder: str) -> bool:
    return bool(folder) and translator.load(name, folder)


def install_language(app: QCoreApplication, lang: str | None) -> str:
    """Install `lang` (``None``: the system's language) on `app`; returns the language applied.

    An unknown language, or one whose translation cannot be loaded, falls back to English (logged). Calling it again
    switches at run time: the translators installed before are removed first.

    Parameters
    ----------
    app : QCoreApplication
        The running application.
    lang : str or None
        ``"en"``, ``"zh_CN"`` (``"zh"``, ``"zh-CN"`` are understood), or None for the system's language.

    Returns
    -------
    str
        The language now in force (``"en"`` or ``"zh_CN"``).
    """
    global _current, _original_locale
    if _original_locale is None:
        _original_locale = QLocale()
    wanted = normalise(lang) if lang is not None else system_language()
    if wanted is None:
        log.warning("unknown language %r: the console stays in English", lang)
        wanted = SOURCE_LANGUAGE
    for translator in _installed:
        app.removeTranslator(translator)
    _installed.clear()
    applied = SOURCE_LANGUAGE
    if wanted != SOURCE_LANGUAGE:
        ours = QTranslator(app)
        if _load(ours, f"twin_app_{wanted}", qm_folder()):
            qt = QTranslator(app)
            if _load(qt, f"qtbase_{wanted}", QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)):
                app.installTranslator(qt)
                _installed.append(qt)
            app.installTranslator(ours)
            _installed.append(ours)
            applied = wanted
        else:
            log.warning("no translation twin_app_%s.qm in %s: the console stays in English", wanted, qm_folder())
    if applied == SOURCE_LANGUAGE:
        core_i18n.install(None)
        english = _original_locale.language() in (QLocale.Language.English, QLocale.Language.C)
        QLocale.setDefault(_original_locale if english else QLocale("en_US"))
    else:
        core_i18n.install(lambda context, text: QCoreApplication.translate(context, text))
        QLocale.setDefault(QLocale("zh_CN"))
    core_i18n.set_locale(applied)
    _current = applied
    return applied
