"""One new day of the hotline in an operational database, on top of a generated lake, for the
incremental-refresh bench: the day's cases are drawn by the generator's own month code, then
bulk-inserted with their events, assignments and callbacks (ids above the lake's)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import sqlalchemy as sa

from jiesu.bootstrap import bootstrap
from jiesu.cases.models import Assignment, Callback, Case, CaseEvent
from jiesu.db import make_engine, make_session_factory
from jiesu.demo import generate as g
from jiesu.migrate import upgrade

CHAIN = "0" * 64  # the refresh never checks the audit chain


def _py(v: Any) -> Any:
    return v.replace(tzinfo=UTC) if isinstance(v, datetime) and v.tzinfo is None else v


def build_day_db(path: Path, day: str, cases: int, first_id: int, seed: int = 99) -> str:
    url = f"sqlite:///{path}"
    upgrade(url)
    engine = make_engine(url)
    with make_session_factory(engine)() as session:
        bootstrap(session)
        session.commit()
    rng = np.random.default_rng(seed)
    ref = g._reference(np.random.default_rng(1))
    days = np.array([np.datetime64(day, "D")])
    shared = g.Shared(ref, days, g._season(days, ref.categories, ref),
                      rng.beta(8, 2, len(ref.lead_codes)), path.parent, seed)  # fmt: skip
    table, callbacks, _, _ = g._month(rng, shared, np.zeros(cases, np.int64), first_id, 1.0)
    rows = [{k: _py(v) for k, v in r.items()} for r in table.to_pylist()]
    events: list[dict[str, Any]] = []
    assignments: list[dict[str, Any]] = []
    for r in rows:
        r["updated_at"] = r["closed_at"] = r["created_at"]
        steps = [("register", None, "registered", r["created_at"])]
        if r["lead_unit"]:
            r["status"] = "replied"
            steps += [
                ("dispatch", "registered", "dispatched", r["dispatched_at"]),
                ("contact", "dispatched", "dispatched", r["contacted_at"]),
                ("reply", "dispatched", "replied", r["replied_at"]),
            ]
            assignments.append({"case_id": r["id"], "unit_code": r["lead_unit"], "role": "lead",
                                "active": True, "assigned_at": r["dispatched_at"]})  # fmt: skip
        else:
            steps.append(("answer", "registered", "answered", r["created_at"]))
        for seq, (action, frm, to, at) in enumerate(steps, 1):
            events.append({"case_id": r["id"], "at": at, "actor": "bench", "role": "agent",
                           "unit_code": r["lead_unit"] if action == "contact" else None,
                           "action": action, "from_status": frm, "to_status": to, "reason": "",
                           "payload": {}, "seq": seq, "chain_hash": CHAIN})  # fmt: skip
    case_cols = {c.name for c in Case.__table__.columns}
    cb_rows = [
        {
            "id": c["id"],
            "case_id": c["case_id"],
            "at": _py(c["at"]),
            "unit_code": c["unit_code"],
            "contacted": c["contacted"],
            "resolved": c["resolved"],
            "satisfaction": c["satisfaction"],
            "by_user": "bench",
        }
        for c in callbacks.to_pylist()
    ]
    with engine.begin() as conn:
        conn.execute(
            sa.insert(Case), [{k: v for k, v in r.items() if k in case_cols} for r in rows]
        )
        conn.execute(sa.insert(Assignment), assignments)
        conn.execute(sa.insert(CaseEvent), events)
        conn.execute(sa.insert(Callback), cb_rows)
    engine.dispose()
    return url
