"""The login at start: the operator's broker account, which the engine takes as the operator of every action."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import quote, urlparse, urlunparse

from PySide6.QtCore import QEvent
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from twin_app.core.names import is_safe_name


def with_credentials(url: str, user: str, password: str) -> str:
    """The broker URL with a user and password (kept in memory only, never written or logged)."""
    parsed = urlparse(url)
    host = parsed.hostname or ""
    netloc = f"{quote(user, safe='')}:{quote(password, safe='')}@{host}" + (f":{parsed.port}" if parsed.port else "")
    return urlunparse(parsed._replace(netloc=netloc))


def has_credentials(url: str) -> bool:
    return bool(urlparse(url).username)


class LoginDialog(QDialog):
    """User name and password for the broker; `check` (the local user store, where there is one) may refuse them.

    Parameters
    ----------
    broker
        The broker's display name (shown, never its credentials).
    check
        (user, password) -> an error message, or None when the login may go on to the broker.
    """

    def __init__(self, broker: str, check: Callable[[str, str], str | None] | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.check = check
        self.broker = broker
        layout = QVBoxLayout(self)
        self.intro = QLabel(self)
        self.intro.setWordWrap(True)
        layout.addWidget(self.intro)
        form = QFormLayout()
        self.user_box = QLineEdit(self)
        self.password_box = QLineEdit(self)
        self.password_box.setEchoMode(QLineEdit.EchoMode.Password)
        self.user_label = QLabel(self)
        self.password_label = QLabel(self)
        form.addRow(self.user_label, self.user_box)
        form.addRow(self.password_label, self.password_box)
        layout.addLayout(form)
        self.message = QLabel("")
        self.message.setStyleSheet("color:#b2182b; font-weight:bold;")
        self.message.setWordWrap(True)
        layout.addWidget(self.message)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self._try)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.user = ""
        self.password = ""
        self.retranslate()

    def retranslate(self) -> None:
        """Re-set the static texts in the language now installed."""
        self.setWindowTitle(self.tr("Log in — Mumianling command center"))
        self.intro.setText(self.tr("Log in to {broker}. Every action you take is recorded under this account.").format(
            broker=self.broker))
        self.user_box.setPlaceholderText(self.tr("user name"))
        self.user_label.setText(self.tr("User"))
        self.password_label.setText(self.tr("Password"))

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 (Qt)
        """A language switch at run time re-sets the static texts."""
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)

    def _try(self) -> None:
        user, password = self.user_box.text().strip(), self.password_box.text()
        if not is_safe_name(user):
            self.message.setText(self.tr("A user name is letters, digits, '_', '.', ':' or '-'."))
            return
        if not password:
            self.message.setText(self.tr("Enter the password."))
            return
        problem = self.check(user, password) if self.check is not None else None
        if problem:
            self.password_box.clear()
            self.message.setText(problem)
            return
        self.user, self.password = user, password
        self.accept()
