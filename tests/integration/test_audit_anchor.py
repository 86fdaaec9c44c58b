"""`jiesu audit anchor` and `jiesu audit verify --anchors`: a chain rewritten from its first
row (every hash recomputed, so the chain alone verifies) or cut at its end is caught by an
anchor taken before; cases and events added since the anchor are fine. Both databases."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from jiesu.audit.chain import link
from jiesu.audit.verify import verify
from jiesu.cases.models import Case, CaseEvent
from jiesu.cli import app
from jiesu.clock import FixedClock
from jiesu.settings import get_settings
from tests.conftest import Database
from tests.helpers import DISPATCHER, STREET, do, register
from tests.integration.test_audit_chain import events, history, tampering

__all__ = ["history"]  # the fixture, shared with test_audit_chain
runner = CliRunner()


def cli(db: Database, monkeypatch: pytest.MonkeyPatch, *args: str) -> tuple[int, str]:
    monkeypatch.setenv("JIESU_DATABASE_URL", db.url)
    get_settings.cache_clear()
    try:
        result = runner.invoke(app, ["audit", *args])
    finally:
        get_settings.cache_clear()
    return result.exit_code, result.output


def take_anchor(db: Database, monkeypatch: pytest.MonkeyPatch, path: Path) -> dict[str, object]:
    code, out = cli(db, monkeypatch, "anchor", "--out", str(path))
    assert code == 0, out
    doc: dict[str, object] = json.loads(path.read_text("utf-8"))
    return doc


def rewrite_chain(db: Database, case_id: int) -> None:
    """What a superuser with the trigger out of the way can do: change the first event and
    re-hash the whole chain after it, so that every link checks out again."""
    with tampering(db) as conn:
        rows = conn.execute(
            sa.select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(CaseEvent.seq)
        ).mappings()
        prev = None
        for row in list(rows):
            fields = {**row, "reason": "登记（改写）"} if row["seq"] == 1 else dict(row)
            prev = link(prev, fields)
            conn.execute(
                sa.update(CaseEvent)
                .where(CaseEvent.id == row["id"])
                .values(reason=fields["reason"], chain_hash=prev)
            )


def test_anchor_names_every_head_and_matches_verify(
    db: Database, history: list[int], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    doc = take_anchor(db, monkeypatch, tmp_path / "anchor.json")
    with db.engine.connect() as conn:
        report = verify(conn)
    assert doc["digest"] == report.anchor  # the digest `verify` prints
    assert doc["at"] and doc["cases"] == len(history)
    heads = doc["heads"]
    assert isinstance(heads, list)
    assert [(h[0], h[1]) for h in heads] == [(c, len(events(db, c))) for c in history]
    code, out = cli(db, monkeypatch, "verify", "--anchors", str(tmp_path / "anchor.json"))
    assert code == 0 and "chain intact" in out and "3 anchored heads compared" in out


def test_cases_and_events_added_since_the_anchor_are_fine(
    db: Database,
    clock: FixedClock,
    history: list[int],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    take_anchor(db, monkeypatch, tmp_path / "anchor.json")
    register(db, clock)
    do(db, clock, DISPATCHER, history[2], "dispatch", lead_unit=STREET)
    code, out = cli(db, monkeypatch, "verify", "--anchors", str(tmp_path / "anchor.json"))
    assert code == 0, out
    assert "4 cases" in out and "chain intact" in out


def test_rewritten_chain_is_caught_only_by_the_anchor(
    db: Database, history: list[int], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    take_anchor(db, monkeypatch, tmp_path / "anchor.json")
    case_id = history[0]
    rewrite_chain(db, case_id)
    code, out = cli(db, monkeypatch, "verify")
    assert code == 0  # the chain alone cannot tell: every link was recomputed
    code, out = cli(db, monkeypatch, "verify", "--anchors", str(tmp_path / "anchor.json"))
    assert code == 1
    head = events(db, case_id)[-1]
    assert (
        f"BROKEN case {case_id}, event {head.id} (seq {head.seq}): differs from the anchor" in out
    )
    assert "the chain was rewritten" in out and "1 problem(s)" in out


def test_cut_history_is_caught_by_the_anchor(
    db: Database, history: list[int], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    take_anchor(db, monkeypatch, tmp_path / "anchor.json")
    # The newest event deleted and the case put back where the one before it led: the
    # chain and the status agree again.
    case_id = history[0]
    rows = events(db, case_id)
    with tampering(db) as conn:
        before = conn.scalar(sa.select(CaseEvent.to_status).where(CaseEvent.id == rows[-2].id))
        conn.execute(sa.delete(CaseEvent).where(CaseEvent.id == rows[-1].id))
        conn.execute(sa.update(Case).where(Case.id == case_id).values(status=before))
    assert cli(db, monkeypatch, "verify")[0] == 0
    code, out = cli(db, monkeypatch, "verify", "--anchors", str(tmp_path / "anchor.json"))
    assert code == 1
    assert f"BROKEN case {case_id}: event seq {rows[-1].seq}, anchored at" in out
    assert "is missing" in out


def test_anchor_also_goes_to_another_database(
    db: Database, history: list[int], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    elsewhere = f"sqlite:///{tmp_path / 'anchors.db'}"
    out_file = tmp_path / "anchor.json"
    code, out = cli(db, monkeypatch, "anchor", "--out", str(out_file), "--to-db", elsewhere)
    assert code == 0, out
    engine = sa.create_engine(elsewhere)
    try:
        with engine.connect() as conn:
            stored = conn.execute(sa.text("SELECT digest, document FROM jiesu_audit_anchor")).all()
    finally:
        engine.dispose()
    [(digest, document)] = stored
    assert json.loads(document) == json.loads(out_file.read_text("utf-8"))
    assert digest in out


def test_a_file_that_is_not_an_anchor_is_refused(
    db: Database, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    bogus = tmp_path / "notes.json"
    bogus.write_text('{"heads": []}', "utf-8")
    code, out = cli(db, monkeypatch, "verify", "--anchors", str(bogus))
    assert code == 2 and "is not a jiesu anchor" in out
    code, out = cli(db, monkeypatch, "verify", "--anchors", str(tmp_path / "missing.json"))
    assert code == 2 and "cannot read" in out
