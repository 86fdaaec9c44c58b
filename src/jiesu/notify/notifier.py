"""One notifier interface; SMTP and an HTTP SMS gateway implement it (smtp.py, sms.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


class NotifyError(Exception):
    """Delivery failed; the message says why (no recipient address in it)."""


@dataclass(frozen=True)
class Message:
    recipient: str
    subject: str
    body: str


class Notifier(Protocol):
    channel: str

    def send(self, message: Message) -> None:
        """Deliver or raise NotifyError."""


def mask_recipient(recipient: str) -> str:
    """What logs may show of a phone number or an e-mail address (DESIGN §9)."""
    if "@" in recipient:
        local, _, domain = recipient.partition("@")
        return f"{local[:1]}***@{domain}"
    digits = [c for c in recipient if c.isdigit()]
    return "*" * max(len(digits) - 4, 0) + "".join(digits[-4:])
