"""After `jiesu jobs retention` no personal datum of an expired case is left anywhere: not in a
pg_dump of the database, not in the SQLite file's bytes, not in the analytics lake. The event
log keeps its rows and its hash chain (`jiesu audit verify` passes), statistics stay the same,
and a case not yet expired still shows its notes."""

from __future__ import annotations

import subprocess
from datetime import timedelta
from pathlib import Path

import pyarrow.parquet as pq  # type: ignore[import-untyped,unused-ignore]
import sqlalchemy as sa

from jiesu.analytics.export import refresh
from jiesu.analytics.scrub import scrub_lake
from jiesu.audit.verify import verify
from jiesu.cases.models import CaseEvent
from jiesu.cases.personal import SHREDDED
from jiesu.cases.queries import list_events
from jiesu.clock import FixedClock
from jiesu.notify.models import Notification
from jiesu.ops.retention import anonymise_finished, compact
from tests.conftest import Database
from tests.helpers import CALLBACK, DISPATCHER, TZ, do, handler, register
from tests.integration.test_retention import statistics

NAME = "欧阳铁柱"
PHONE = "13687654321"
ADDRESS = "幸福里小区七号楼三单元五零二"
CONTACT_NOTE = "邻居老刘家的狗每晚叫到凌晨"
EXTENSION_REASON = "需等欧阳先生出差回京后入户查看"
REPLY = "已上门核实，老刘家的犬只已由物业登记管理"
CALLBACK_NOTE = "市民说孩子高考前终于能睡个好觉"
PLANTED = (NAME, PHONE, ADDRESS, CONTACT_NOTE, EXTENSION_REASON, REPLY, CALLBACK_NOTE)
DAYS = 1095


def _live_case(db: Database, clock: FixedClock) -> int:
    """Everything a citizen and the handling staff wrote, in every place it is kept."""
    case = register(
        db,
        clock,
        # The citizen's name, address and number in their own words; what the request is
        # about (its substance) is kept for topic mining, so it is not planted here.
        text=f"我叫{NAME}，住{ADDRESS}，电话{PHONE}。楼下犬只夜间吠叫，请管一管。",
        address=ADDRESS,
        citizen={"name": NAME, "phone": PHONE},
    )
    unit = handler()
    do(db, clock, DISPATCHER, case.id, "dispatch", lead_unit=unit.unit_code)
    do(db, clock, unit, case.id, "acknowledge")
    do(db, clock, unit, case.id, "contact", note=CONTACT_NOTE)
    do(db, clock, unit, case.id, "request_extension", days=3, reason=EXTENSION_REASON)
    do(db, clock, DISPATCHER, case.id, "approve_extension")
    do(db, clock, unit, case.id, "reply", text=REPLY)
    do(
        db,
        clock,
        CALLBACK,
        case.id,
        "callback",
        contacted=True,
        resolved="yes",
        satisfaction="satisfied",
        note=CALLBACK_NOTE,
    )
    return case.id


def _dump(db: Database) -> str:
    """Everything the database holds, as an operator (or a thief with a backup) would see it."""
    if db.backend == "postgresql":
        url = sa.engine.make_url(db.url).set(drivername="postgresql")
        done = subprocess.run(
            ["/usr/bin/pg_dump", "--data-only", url.render_as_string(hide_password=False)],
            capture_output=True,
            check=True,
        )
        return done.stdout.decode()
    path = Path(str(db.engine.url.database))
    raw = b"".join(p.read_bytes() for p in (path, Path(f"{path}-wal")) if p.exists())
    return raw.decode("utf-8", errors="replace")


def _lake_text(lake: Path) -> str:
    return "\n".join(str(pq.read_table(p).to_pylist()) for p in sorted(lake.rglob("*.parquet")))


def test_retention_leaves_no_personal_datum_and_keeps_the_chain(
    db: Database, clock: FixedClock, tmp_path: Path
) -> None:
    old = _live_case(db, clock)
    lake = tmp_path / "lake"
    with db.uow() as uow:
        refresh(uow.session, lake, TZ, clock.now())
    assert NAME in _lake_text(lake)  # the lake copied the case text
    with db.engine.connect() as conn:
        sms = conn.scalar(sa.select(Notification.payload).where(Notification.template == "replied"))
    assert sms is not None and REPLY in str(sms)  # the SMS quotes the reply

    clock.advance(timedelta(days=DAYS + 5))
    recent = register(db, clock, text="晨练广场音响太响，每天六点就开始。").id
    unit = handler()
    do(db, clock, DISPATCHER, recent, "dispatch", lead_unit=unit.unit_code)
    do(db, clock, unit, recent, "acknowledge")
    do(db, clock, unit, recent, "contact", note="周三上午再联系一次")
    stats = statistics(db)
    with db.engine.connect() as conn:
        chain_before = conn.execute(
            sa.select(CaseEvent.id, CaseEvent.chain_hash).order_by(CaseEvent.id)
        ).all()

    with db.uow() as uow:
        result = anonymise_finished(uow.session, clock.now(), DAYS)
        uow.commit()
        scrub_lake(uow.session, lake, TZ, result.case_ids)
    compact(db.engine)
    assert result.case_ids == (old,) and result.keys == 1

    dump = _dump(db)
    assert "晨练广场音响太响" in dump  # the dump does show text that is still kept
    left = [v for v in PLANTED if v in dump]
    assert left == [], f"{db.backend}: still in the database: {left}"
    lake_text = _lake_text(lake)
    assert [v for v in PLANTED if v in lake_text] == []
    assert "请管一管" in lake_text  # the case text's substance stays for topic mining

    with db.engine.connect() as conn:
        report = verify(conn)
        chain_after = conn.execute(
            sa.select(CaseEvent.id, CaseEvent.chain_hash).order_by(CaseEvent.id)
        ).all()
    assert report.ok, report.problems
    assert chain_after == chain_before  # not one event row rewritten
    assert statistics(db) == stats

    with db.uow() as uow:
        expired = list_events(uow.session, DISPATCHER, old)
        kept = list_events(uow.session, DISPATCHER, recent)
    contact = next(e for e in expired if e.action == "contact")
    assert contact.payload["note"] == SHREDDED
    extension = next(e for e in expired if e.action == "request_extension")
    assert extension.reason == SHREDDED and extension.payload == {"days": 3}
    callback = next(e for e in expired if e.action == "callback")
    assert callback.payload["satisfaction"] == "satisfied"  # the answer counts on
    assert next(e for e in kept if e.action == "contact").payload["note"] == "周三上午再联系一次"

    with db.uow() as uow:  # a second run finds nothing left to do
        again = anonymise_finished(uow.session, clock.now(), DAYS)
        uow.commit()
    assert again.case_ids == () and statistics(db) == stats


def test_migration_seals_the_text_of_events_written_before_it(
    db: Database, clock: FixedClock
) -> None:
    """Down to 0009 opens the text (plain, as events were written then); up to 0010 seals it
    under a new case key and re-links the chain, which verifies, so retention can shred it."""
    from jiesu.migrate import downgrade, upgrade

    case_id = _live_case(db, clock)

    def stored_notes() -> str:
        with db.engine.connect() as conn:
            return str(conn.execute(sa.select(CaseEvent.reason, CaseEvent.payload)).all())

    assert CONTACT_NOTE not in stored_notes()
    db.engine.dispose()
    try:
        downgrade(db.url, "0009")
        assert CONTACT_NOTE in stored_notes() and EXTENSION_REASON in stored_notes()
        with db.engine.connect() as conn:
            assert verify(conn).ok
    finally:
        db.engine.dispose()
        upgrade(db.url)
    assert CONTACT_NOTE not in stored_notes() and EXTENSION_REASON not in stored_notes()
    with db.engine.connect() as conn:
        assert verify(conn).ok
    with db.uow() as uow:
        events = list_events(uow.session, DISPATCHER, case_id)
    assert next(e for e in events if e.action == "contact").payload["note"] == CONTACT_NOTE
