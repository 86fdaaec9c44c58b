"""Notifications out, on both databases: the outbox is written with the change, sent after
commit by the job to a real local SMTP server and a stub SMS gateway, retried with backoff."""

from __future__ import annotations

import json
import logging
import socket
import threading
from collections.abc import Iterator
from datetime import timedelta
from email import message_from_bytes
from email.header import decode_header, make_header
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select
from typer.testing import CliRunner

from jiesu.cli import app
from jiesu.clock import FixedClock
from jiesu.notify.models import Notification, NotificationAttempt, UnitContact
from jiesu.notify.outbox import service as outbox
from jiesu.notify.outbox.service import send_pending
from jiesu.notify.sms import HttpSmsNotifier
from jiesu.notify.smtp import SmtpNotifier
from jiesu.settings import get_settings
from jiesu.sla.scheduled import scan
from tests.conftest import Database
from tests.helpers import DISPATCHER, STREET, do, register, to_replied

PHONE = "13812345678"
UNIT_MAIL = "duban@dhm.example.cn"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class _Inbox:
    def __init__(self) -> None:
        self.mails: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.mails.append(envelope)
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[_Inbox, int]]:
    inbox = _Inbox()
    port = _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


class Gateway:
    """A stub SMS gateway: records each POST; answers 500 while `fail` > 0."""

    def __init__(self) -> None:
        self.received: list[dict[str, str]] = []
        self.fail = 0
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if gateway.fail > 0:
                    gateway.fail -= 1
                    self.send_response(500)
                else:
                    gateway.received.append(json.loads(body))
                    self.send_response(200)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/sms"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def gateway() -> Iterator[Gateway]:
    g = Gateway()
    yield g
    g.close()


def _notes(db: Database) -> list[Notification]:
    with db.factory() as s:
        return list(s.scalars(select(Notification).order_by(Notification.id)))


def test_citizen_gets_case_number_then_reply_by_sms_only_after_commit(
    db: Database, clock: FixedClock, gateway: Gateway, caplog: pytest.LogCaptureFixture
) -> None:
    kicked: list[int] = []
    outbox.on_kick(lambda: kicked.append(len(_notes(db))))
    try:
        case = register(db, clock)
    finally:
        outbox._listeners.clear()
    # The hook ran after commit: the outbox row was already durable when it fired.
    assert kicked == [1]
    note = _notes(db)[0]
    assert (note.channel, note.recipient, note.status) == ("sms", PHONE, "pending")
    assert gateway.received == []  # nothing leaves before the job runs

    sms = {"sms": HttpSmsNotifier(gateway.url, "【12345】{text}")}
    with caplog.at_level(logging.INFO, logger="jiesu.notify"), db.uow() as uow:
        assert send_pending(uow, clock, sms).sent == 1
    assert gateway.received == [
        {
            "to": PHONE,
            "text": f"【12345】您的诉求已受理，工单编号{case.id}。"
            "可凭工单编号和手机号后四位查询办理进度。",
        }
    ]
    to_replied(db, clock, case.id)
    with caplog.at_level(logging.INFO, logger="jiesu.notify"), db.uow() as uow:
        assert send_pending(uow, clock, sms).sent == 1
    assert gateway.received[1]["text"] == f"【12345】工单{case.id}的办理结果：已处理"
    assert [n.status for n in _notes(db)] == ["sent", "sent"]
    assert "sent to" in caplog.text and PHONE not in caplog.text and "5678" in caplog.text


def test_failed_sends_are_retried_with_backoff_and_every_attempt_logged(
    db: Database, clock: FixedClock, gateway: Gateway
) -> None:
    register(db, clock)
    gateway.fail = 2
    sms = {"sms": HttpSmsNotifier(gateway.url)}

    def run() -> outbox.SendResult:
        with db.uow() as uow:
            return send_pending(uow, clock, sms, base_delay=timedelta(seconds=60))

    assert run().retry == 1
    first = _notes(db)[0]
    assert first.attempts == 1 and first.next_attempt_at == clock.now() + timedelta(seconds=60)
    assert "HTTP 500" in first.last_error
    assert run().sent == 0  # not due yet
    clock.advance(timedelta(seconds=61))
    assert run().retry == 1
    assert _notes(db)[0].next_attempt_at == clock.now() + timedelta(seconds=120)  # doubled
    clock.advance(timedelta(seconds=121))
    assert run().sent == 1
    with db.factory() as s:
        attempts = s.scalars(select(NotificationAttempt).order_by(NotificationAttempt.id)).all()
    assert [a.ok for a in attempts] == [False, False, True]
    assert {a.case_id for a in attempts} == {first.case_id}


def test_gives_up_after_max_attempts(db: Database, clock: FixedClock) -> None:
    register(db, clock)
    down = {"sms": HttpSmsNotifier(f"http://127.0.0.1:{_free_port()}/nothing-listens")}
    for _ in range(2):
        with db.uow() as uow:
            send_pending(uow, clock, down, max_attempts=2, base_delay=timedelta(0))
    note = _notes(db)[0]
    assert (note.status, note.attempts) == ("failed", 2)
    assert "unreachable" in note.last_error and PHONE not in note.last_error


def test_units_get_reminders_and_overdue_notices_by_email(
    db: Database, clock: FixedClock, smtp: tuple[_Inbox, int]
) -> None:
    inbox, port = smtp
    with db.uow() as uow:
        uow.session.add(UnitContact(unit_code=STREET, email=UNIT_MAIL, phone=""))
        uow.commit()
    case = register(db, clock, citizen={"name": "", "phone": ""})  # no phone: no citizen SMS
    do(db, clock, DISPATCHER, case.id, "dispatch", lead_unit=STREET)
    clock.advance(timedelta(days=30))  # far past every due time
    with db.uow() as uow:
        first = scan(uow, clock)
    with db.uow() as uow:
        assert scan(uow, clock).overdue == 0  # idempotent: no new rows, no new notices
    notes = _notes(db)
    assert first.overdue == 2 and len(notes) == 2
    assert {(n.template, n.channel, n.recipient, n.unit_code) for n in notes} == {
        ("overdue", "email", UNIT_MAIL, STREET)
    }
    mailer = {"email": SmtpNotifier("127.0.0.1", port, "12345@jiesu.example.cn")}
    with db.uow() as uow:
        assert send_pending(uow, clock, mailer).sent == 2
    assert [m.rcpt_tos for m in inbox.mails] == [[UNIT_MAIL], [UNIT_MAIL]]
    mail = message_from_bytes(inbox.mails[0].content)
    assert str(make_header(decode_header(mail["Subject"]))) == "督办通知"
    body = mail.get_payload(decode=True).decode("utf-8")
    assert f"工单{case.id}" in body and "超期" in body


def test_jobs_notify_command_uses_settings(
    db: Database, clock: FixedClock, gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    register(db, clock)
    monkeypatch.setenv("JIESU_DATABASE_URL", db.url)
    monkeypatch.setenv("JIESU_SMS_URL", gateway.url)
    monkeypatch.setenv("JIESU_SMS_TEMPLATE", "[hotline] {text}")
    get_settings.cache_clear()
    try:
        out = CliRunner().invoke(app, ["jobs", "notify"])
    finally:
        get_settings.cache_clear()
    assert out.exit_code == 0, out.output
    assert "1 sent, 0 to retry, 0 failed" in out.output
    assert gateway.received[0]["text"].startswith("[hotline] 您的诉求已受理")
