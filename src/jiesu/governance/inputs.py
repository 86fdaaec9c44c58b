"""Where governance reads messages from: any CSV/XLSX export of messages (named columns), or a
month of the analytics lake. Times without a zone are the city's local time."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pandas as pd  # type: ignore[import-untyped,unused-ignore]

from jiesu.analytics.lake import check_month, has_table, table_glob
from jiesu.errors import InvalidInput, NotFound
from jiesu.governance.topics import Message


def read_table(path: Path) -> pd.DataFrame:
    if not path.exists():
        raise NotFound(f"no file at {path}")
    if path.suffix.lower() in (".xlsx", ".xls"):
        return pd.read_excel(path, dtype=str)
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def to_utc(value: str, tz: ZoneInfo) -> datetime | None:
    stamp = pd.to_datetime(value, errors="coerce")
    if pd.isna(stamp):
        return None
    at: datetime = stamp.to_pydatetime()
    return (at if at.tzinfo else at.replace(tzinfo=tz)).astimezone(UTC)


def _int(value: str) -> int:
    try:
        return max(0, int(float(value or 0)))
    except ValueError:
        return 0


def messages_from_table(
    frame: pd.DataFrame,
    *,
    text_columns: Sequence[str],
    time_column: str,
    id_column: str,
    citizen_column: str | None = None,
    support_column: str | None = None,
    against_column: str | None = None,
    tz: ZoneInfo,
) -> tuple[list[Message], int]:
    """(messages, rows skipped for an unreadable time). The first text column is the title
    when more than one is given."""
    wanted = [*text_columns, time_column, id_column]
    wanted += [c for c in (citizen_column, support_column, against_column) if c]
    missing = [c for c in wanted if c not in frame.columns]
    if missing:
        raise InvalidInput(
            f"column(s) {', '.join(missing)} not in the file; it has: {', '.join(frame.columns)}"
        )
    if not text_columns:
        raise InvalidInput("name at least one --text-column")
    out: list[Message] = []
    skipped = 0
    for row in frame.fillna("").astype(str).to_dict("records"):
        at = to_utc(row[time_column], tz)
        if at is None:
            skipped += 1
            continue
        texts = [row[c].strip() for c in text_columns]
        title, body = (texts[0], " ".join(texts[1:])) if len(texts) > 1 else ("", texts[0])
        if not title:
            title = body[:40]
        out.append(
            Message(
                id=row[id_column],
                title=title,
                body=body,
                at=at,
                citizen=row[citizen_column] if citizen_column else "",
                support=_int(row[support_column]) if support_column else 0,
                against=_int(row[against_column]) if against_column else 0,
            )
        )
    return out, skipped


def messages_from_lake(lake: Path, month: str, *, by_category: bool = True) -> list[Message]:
    """A month's cases from the lake. Answered consultations are kept: a hundred people asking
    the same question is a topic too. Cases are blocked by first-level category when
    `by_category`, so the clustering stays within memory on a large month."""
    import duckdb

    check_month(month)
    if not has_table(lake, "cases"):
        raise NotFound("the analytics lake is empty; run `jiesu analytics refresh`")
    glob = table_glob(lake, "cases").replace("'", "''")
    con = duckdb.connect(
        config={"autoinstall_known_extensions": False, "autoload_known_extensions": False}
    )
    try:
        rows = con.execute(
            f"""SELECT id, text, epoch_us(created_at), category, street, district
                FROM read_parquet('{glob}', hive_partitioning = true,
                                  hive_types = {{'month': VARCHAR}})
                WHERE month = ? AND master_case_id IS NULL AND text IS NOT NULL""",
            [month],
        ).fetchall()
    finally:
        con.close()
    return [
        Message(
            id=str(case_id),
            title=(text or "")[:40],
            body=text or "",
            # Epoch microseconds: DuckDB would need pytz to hand out zoned datetimes.
            at=datetime.fromtimestamp(created / 1e6, UTC),
            citizen="",
            block=(category or "")[:2] if by_category else "",
        )
        for case_id, text, created, category, _street, _district in rows
    ]
