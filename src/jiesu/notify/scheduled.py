"""`jiesu jobs notify`: send the pending notifications, with the notifiers from Settings."""

from __future__ import annotations

from datetime import timedelta

from jiesu.clock import Clock
from jiesu.notify.notifier import Notifier
from jiesu.notify.outbox.service import SendResult, send_pending
from jiesu.notify.sms import HttpSmsNotifier
from jiesu.notify.smtp import SmtpNotifier
from jiesu.settings import Settings
from jiesu.uow import UnitOfWork


def notifiers_from(settings: Settings) -> dict[str, Notifier]:
    out: dict[str, Notifier] = {}
    if settings.smtp_host:
        out["email"] = SmtpNotifier(settings.smtp_host, settings.smtp_port, settings.smtp_from)
    if settings.sms_url:
        out["sms"] = HttpSmsNotifier(settings.sms_url, settings.sms_template)
    return out


def run_notify(
    uow: UnitOfWork,
    clock: Clock,
    settings: Settings,
    notifiers: dict[str, Notifier] | None = None,
) -> SendResult:
    return send_pending(
        uow,
        clock,
        notifiers if notifiers is not None else notifiers_from(settings),
        max_attempts=settings.notify_max_attempts,
        base_delay=timedelta(seconds=settings.notify_backoff_seconds),
    )
