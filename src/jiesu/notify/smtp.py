"""E-mail through any SMTP server (smtplib); STARTTLS and login when configured."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage

from jiesu.notify.notifier import Message, NotifyError


class SmtpNotifier:
    channel = "email"

    def __init__(
        self,
        host: str,
        port: int,
        sender: str,
        *,
        username: str = "",
        password: str = "",
        starttls: bool = False,
        timeout: float = 10.0,
    ) -> None:
        self.host, self.port, self.sender = host, port, sender
        self.username, self.password, self.starttls = username, password, starttls
        self.timeout = timeout

    def send(self, message: Message) -> None:
        mail = EmailMessage()
        mail["From"] = self.sender
        mail["To"] = message.recipient
        mail["Subject"] = message.subject
        mail.set_content(message.body)
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
                if self.starttls:
                    smtp.starttls()
                if self.username:
                    smtp.login(self.username, self.password)
                smtp.send_message(mail)
        except (OSError, smtplib.SMTPException) as exc:
            # The exception text may quote the address: keep only its kind and code.
            code = getattr(exc, "smtp_code", "")
            raise NotifyError(f"smtp {type(exc).__name__} {code}".strip()) from exc
