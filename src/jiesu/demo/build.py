"""The demo city: a fresh database of realistic cases over the real Beijing units.

Every case is created and moved through the real service functions with a simulated clock,
so the demo exercises exactly the code a centre runs, and every status is represented.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, inspect, select
from sqlalchemy.orm import Session

from jiesu.auth.actor import Actor
from jiesu.bootstrap import DEMO_PASSWORD, DEMO_STAFF, bootstrap, create_demo_users
from jiesu.cases import schemas as s
from jiesu.cases.models import Case
from jiesu.cases.registration import register_case
from jiesu.cases.service import act
from jiesu.cases.workflow import Action, Role
from jiesu.clock import FixedClock
from jiesu.db import make_engine, make_session_factory, normalise_url
from jiesu.demo import texts
from jiesu.errors import DomainError
from jiesu.knowledge.models import Article
from jiesu.knowledge.service import load_seed
from jiesu.migrate import upgrade
from jiesu.settings import get_settings
from jiesu.units.models import Category, Unit
from jiesu.uow import UnitOfWork

AGENT = Actor("agent", Role.AGENT)
DISPATCHER = Actor("dispatcher", Role.DISPATCHER)
CALLBACK = Actor("callback", Role.CALLBACK)
INQUIRY_SHARE = 0.55  # Beijing: ~58% of requests are consultations answered at once


class DemoCity:
    def __init__(self, factory: Callable[[], UnitOfWork], rng: random.Random, now: datetime):
        self.new_uow = factory
        self.rng = rng
        self.now = now
        self.clock = FixedClock(now)
        self.tz = get_settings().tz
        with factory() as uow:
            self._load(uow.session)
        # Some units serve their citizens better than others: assessment has something to rank.
        self.quality = {code: rng.uniform(0.6, 0.98) for code in self.street_names}

    def _load(self, session: Session) -> None:
        self.street_names = dict(
            session.execute(select(Unit.code, Unit.name).where(Unit.kind == "street")).all()
        )
        self.streets = sorted(self.street_names)
        cats = {c.code: c for c in session.scalars(select(Category))}
        self.leaves = sorted(code for code, c in cats.items() if c.level == 3)
        self.articles = session.execute(
            select(Article.id, Article.title, Article.body).where(Article.active.is_(True))
        ).all()
        self.paths = {}
        for code in self.leaves:
            path: list[str] = []
            cur = cats.get(code)
            while cur is not None:
                path.insert(0, cur.name)
                cur = cats.get(cur.parent_code) if cur.parent_code else None
            self.paths[code] = path

    def _do(
        self, at: datetime, actor: Actor, case_id: int, action: Action, body: s.ActionIn
    ) -> bool:
        if at > self.now:
            return False
        self.clock.set(at)
        with self.new_uow() as uow:
            act(uow, self.clock, actor, case_id, action, body, self.tz)
        return True

    def _handler(self, case_id: int) -> Actor:
        with self.new_uow() as uow:
            lead = uow.session.scalar(select(Case.lead_unit).where(Case.id == case_id))
        return Actor(f"unit-{lead}", Role.HANDLER, lead)

    def one(self, created: datetime, recent_open: list[int]) -> None:
        rng = self.rng
        name, phone = texts.citizen(rng)
        street = rng.choice(self.streets)
        self.clock.set(created)
        if rng.random() < INQUIRY_SHARE:
            self._inquiry(created, name, phone)
            return
        category = rng.choice(self.leaves)
        kind = rng.choices(["complaint", "help", "report", "suggestion"], [60, 25, 10, 5])[0]
        with self.new_uow() as uow:
            case = register_case(
                uow,
                self.clock,
                AGENT,
                s.RegisterIn(
                    text=texts.complaint_text(rng, self.paths[category], self.street_names[street]),
                    request_type=kind,
                    category=category,
                    street=street,
                    address=texts.address(rng, self.street_names[street]),
                    channel=rng.choices(["phone", "web", "app", "wechat"], [85, 6, 6, 3])[0],
                    citizen=s.CitizenIn(name=name, phone=phone),
                ),
            )
        cid = case.id
        t = created + timedelta(minutes=rng.randint(2, 40))
        if recent_open and rng.random() < 0.03:
            self._do(t, DISPATCHER, cid, Action.MERGE, s.MergeIn(into=rng.choice(recent_open)))
            return
        if rng.random() < 0.01:
            self._do(
                t, DISPATCHER, cid, Action.TERMINATE, s.ReasonIn(reason="恶意重复诉求，经审核终止")
            )
            return
        if rng.random() < 0.015:
            return  # left in the dispatcher's queue
        if not self._do(t, DISPATCHER, cid, Action.DISPATCH, s.DispatchIn()):
            return
        recent_open.append(cid)
        del recent_open[:-50]
        self._lifecycle(cid, t)

    def _inquiry(self, created: datetime, name: str, phone: str) -> None:
        # A consultation answered at once from the knowledge base (直接办结).
        article_id, title, body = self.rng.choice(self.articles)
        with self.new_uow() as uow:
            case = register_case(
                uow,
                self.clock,
                AGENT,
                s.RegisterIn(
                    text=f"来电咨询{title}。",
                    request_type="inquiry",
                    channel="phone",
                    citizen=s.CitizenIn(name=name, phone=phone),
                ),
            )
        answer = s.AnswerIn(text=body[:500], article_id=article_id)
        self._do(created + timedelta(minutes=3), AGENT, case.id, Action.ANSWER, answer)

    def _lifecycle(self, cid: int, t: datetime) -> None:
        rng = self.rng
        unit = self._handler(cid)
        q = self.quality.get(unit.unit_code or "", 0.8)
        if rng.random() < 0.04:
            t += timedelta(hours=rng.uniform(1, 8))
            if not self._do(
                t, unit, cid, Action.RETURN, s.ReturnIn(reason="非本单位职责", evidence="权属证明")
            ):
                return
            t += timedelta(hours=rng.uniform(1, 6))
            if rng.random() < 0.25:
                return  # the return waits for the dispatcher's review
            if rng.random() < 0.6:
                target = rng.choice([c for c in self.streets if c != unit.unit_code])
                if not self._do(
                    t,
                    DISPATCHER,
                    cid,
                    Action.REASSIGN,
                    s.ReassignIn(lead_unit=target, reason="改派属地"),
                ):
                    return
                unit = self._handler(cid)
            elif not self._do(
                t,
                DISPATCHER,
                cid,
                Action.REJECT_RETURN,
                s.ReasonIn(reason="属于本单位职责，退单驳回"),
            ):
                return
        t += timedelta(hours=rng.uniform(0.2, 6))
        acknowledged = self._status_is(cid, "acknowledged")
        if not acknowledged and not self._do(t, unit, cid, Action.ACKNOWLEDGE, s.ActionIn()):
            return
        late = rng.random() > q
        t += timedelta(hours=rng.uniform(20, 40) if late else rng.uniform(0.5, 12))
        if not self._do(t, unit, cid, Action.CONTACT, s.ContactIn(note="已电话联系诉求人")):
            return
        if rng.random() < 0.05:
            others = [c for c in self.streets if c != unit.unit_code]
            units = rng.sample(others, 2)
            t += timedelta(hours=1)
            if not self._do(
                t,
                unit,
                cid,
                Action.WHISTLE,
                s.WhistleIn(units=units, reason="需多部门协同处置", due_hours=72),
            ):
                return
        if rng.random() < 0.02:
            t += timedelta(hours=2)
            if not self._do(
                t, unit, cid, Action.ESCALATE, s.ReasonIn(reason="涉及多个区，需提级协调")
            ):
                return
        if rng.random() < 0.05:
            t += timedelta(hours=3)
            if not self._do(
                t, unit, cid, Action.REQUEST_EXTENSION, s.ExtensionIn(days=5, reason="需施工处理")
            ):
                return
            t += timedelta(hours=4)
            decision = Action.APPROVE_EXTENSION if rng.random() < 0.7 else Action.REJECT_EXTENSION
            body: s.ActionIn = (
                s.OptionalReasonIn()
                if decision is Action.APPROVE_EXTENSION
                else s.ReasonIn(reason="理由不充分")
            )
            if not self._do(t, DISPATCHER, cid, decision, body):
                return
        t += timedelta(days=rng.uniform(0.5, 6 if not late else 10))
        if not self._do(
            t,
            unit,
            cid,
            Action.REPLY,
            s.TextIn(text="经现场核实，已协调相关方处理完毕，并告知诉求人。"),
        ):
            return
        t += timedelta(hours=rng.uniform(4, 40))
        resolved = "yes" if rng.random() < q else rng.choice(["partly", "no"])
        sat = (
            "satisfied"
            if resolved == "yes" and rng.random() < q + 0.05
            else rng.choice(["basically", "dissatisfied"])
        )
        if not self._do(
            t,
            CALLBACK,
            cid,
            Action.CALLBACK,
            s.CallbackIn(contacted=rng.random() < 0.97, resolved=resolved, satisfaction=sat),
        ):
            return
        if resolved == "no" and rng.random() < 0.5:
            self._do(
                t + timedelta(minutes=5),
                CALLBACK,
                cid,
                Action.REOPEN,
                s.ReasonIn(reason="市民表示问题未解决"),
            )
        elif rng.random() < 0.03:
            t += timedelta(hours=6)
            if self._do(
                t, unit, cid, Action.REQUEST_EXCLUSION, s.ReasonIn(reason="诉求超出政策范围")
            ):
                decision = (
                    Action.APPROVE_EXCLUSION if rng.random() < 0.5 else Action.REJECT_EXCLUSION
                )
                body = (
                    s.OptionalReasonIn()
                    if decision is Action.APPROVE_EXCLUSION
                    else s.ReasonIn(reason="不符合剔除条件")
                )
                self._do(t + timedelta(hours=8), DISPATCHER, cid, decision, body)

    def _status_is(self, cid: int, status: str) -> bool:
        with self.new_uow() as uow:
            return uow.session.scalar(select(Case.status).where(Case.id == cid)) == status


def _fresh_database(url: str) -> None:
    url = normalise_url(url)
    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(str(path) + suffix).unlink(missing_ok=True)
        return
    engine = make_engine(url)
    try:
        if inspect(engine).has_table("case_record"):
            with engine.connect() as conn:
                if conn.scalar(select(func.count()).select_from(Case)):
                    raise DomainError(
                        "refusing to build a demo in a database that already holds cases; "
                        "point JIESU_DATABASE_URL at an empty database"
                    )
    finally:
        engine.dispose()


def build_demo(url: str, *, cases: int, days: int, seed: int, now: datetime | None = None) -> str:
    now = now or datetime.now(UTC).replace(microsecond=0)
    _fresh_database(url)
    upgrade(url)
    engine = make_engine(url)
    factory = make_session_factory(engine)
    with UnitOfWork(factory) as uow:
        bootstrap(uow.session)
        create_demo_users(uow.session, now)
        load_seed(uow.session, now)  # the knowledge base agents answer consultations from
        uow.commit()
    rng = random.Random(seed)
    city = DemoCity(lambda: UnitOfWork(factory), rng, now)
    start = now - timedelta(days=days)
    stamps = sorted(start + timedelta(seconds=rng.uniform(0, days * 86400)) for _ in range(cases))
    recent: list[int] = []
    for created in stamps:
        city.one(created, recent)
    with UnitOfWork(factory) as uow:
        counts = dict(
            uow.session.execute(select(Case.status, func.count()).group_by(Case.status)).all()
        )
    engine.dispose()
    lines = [f"demo city: {cases} cases over {days} days in {url}"]
    lines += [f"  {status:13} {n}" for status, n in sorted(counts.items())]
    lines.append(f"logins (password '{DEMO_PASSWORD}'): " + ", ".join(DEMO_STAFF))
    lines.append(
        "  and one per unit: unit-<code>, e.g. unit-110101001 (东华门街道), unit-110105 (朝阳区)"
    )
    return "\n".join(lines)
