"""`jiesu demo generate --rows N --out DIR`: a large synthetic history written straight to the
analytics lake layout (cases, callbacks, exclusions, units, categories), vectorised with numpy
and pyarrow, so 100 million cases take minutes, not days.

The shape follows Beijing's hotline: volume per district roughly by population, a daily rhythm
peaking mid-morning and mid-afternoon, quieter weekends, growth over the years, heating
complaints from 15 November to 15 March, drainage and flooding in the July–August storm
season; about 55% consultations answered at once; each unit with its own lasting quality, so
rankings differ between units but stay plausible from month to month; resolution and
satisfaction rising over time. Events are not generated (the assessment metrics do not read
them); `jiesu analytics refresh` writes real ones from a database.

Each month is drawn from its own seeded stream, so months are generated in parallel worker
processes (one per core by default) and the result does not depend on the number of workers.
Every dispatched case gets one callback, whose id is the case's id. The assessed table is then
derived by the same code as `jiesu analytics refresh` (analytics/assessed.py).
"""

from __future__ import annotations

import csv
import json
import multiprocessing
import os
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime
from importlib.resources import files
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import pyarrow as pa  # type: ignore[import-untyped,unused-ignore]
import pyarrow.compute as pc  # type: ignore[import-untyped,unused-ignore]
import pyarrow.parquet as pq  # type: ignore[import-untyped,unused-ignore]
import typer

from jiesu.analytics.assessed import build_assessed, callback_months
from jiesu.analytics.lake import SCHEMAS, LakeState, case_block_name, case_blocks, part_name

US_PER_HOUR = 3_600_000_000
US_PER_DAY = 24 * US_PER_HOUR
BEIJING_OFFSET_US = 8 * US_PER_HOUR
# Share of a day's calls by local hour (0–23): night trough, peaks 9–11 and 14–16.
# fmt: off
HOURLY = np.array(
    [0.6, 0.4, 0.3, 0.3, 0.3, 0.5, 1.2, 2.8, 5.5, 8.0, 8.5, 7.5,
     5.5, 6.5, 7.8, 7.8, 7.0, 6.0, 4.5, 4.0, 3.8, 3.0, 2.0, 1.2]
)
# fmt: on
# Relative population of the 16 districts (7th census, millions), in code order 110101…110119.
# fmt: off
DISTRICT_WEIGHT = {
    "110101": 0.71, "110102": 1.10, "110105": 3.45, "110106": 2.02, "110107": 0.57, "110108": 3.13,
    "110109": 0.11, "110111": 1.31, "110112": 1.84, "110113": 1.32, "110114": 2.27, "110115": 1.99,
    "110116": 0.44, "110117": 0.46, "110118": 0.46, "110119": 0.35,
}
# fmt: on
HEATING = ("1704",)  # 供热 subcategories
STORMS = ("1706", "120303", "1902")  # 排水, 道路积水, 积水倒灌
PLACES = np.array(["小区", "路口", "胡同", "商场附近", "公园", "学校门口", "地铁站", "菜市场"])
PHRASES = np.array([
    "问题反映多次未解决", "希望尽快处理", "影响居民正常生活", "请相关部门核实",
    "已持续一周", "老人孩子出行不便", "夜间尤其严重", "望给予答复",
])  # fmt: skip
REQUEST_TYPES = np.array(["complaint", "help", "report", "suggestion"])


@dataclass
class Reference:
    streets: np.ndarray  # street codes
    street_district: np.ndarray  # district code per street
    street_names: np.ndarray
    district_codes: np.ndarray
    district_weight: np.ndarray
    centroids: dict[str, tuple[float, float]]
    categories: np.ndarray  # level-3 codes
    category_names: np.ndarray
    category_weight: np.ndarray
    departments: np.ndarray
    enterprises: np.ndarray
    lead_codes: np.ndarray  # streets, districts, departments, enterprises: lead indices
    units: list[dict[str, Any]]
    all_categories: list[dict[str, Any]]


def _reference(rng: np.random.Generator) -> Reference:
    data = files("jiesu") / "data"
    units = list(csv.DictReader(data.joinpath("units.csv").read_text("utf-8").splitlines()))
    cats = list(csv.DictReader(data.joinpath("categories.csv").read_text("utf-8").splitlines()))
    geo = json.loads(data.joinpath("beijing_districts.geojson").read_text("utf-8"))
    centroids = {
        str(f["properties"]["adcode"]): tuple(f["properties"]["centroid"]) for f in geo["features"]
    }
    streets = [u for u in units if u["kind"] == "street"]
    districts = np.array(sorted({u["parent_code"] for u in streets}))
    leaves = [c for c in cats if c["level"] == "3"]
    # Zipf-like popularity: a few categories carry most of the calls, as in every hotline.
    weight = 1.0 / np.arange(1, len(leaves) + 1) ** 0.8
    weight = rng.permutation(weight)
    departments = np.array([u["code"] for u in units if u["kind"] == "department"])
    enterprises = np.array([u["code"] for u in units if u["kind"] == "enterprise"])
    street_codes = np.array([u["code"] for u in streets])
    return Reference(
        streets=street_codes,
        street_district=np.array([u["parent_code"] for u in streets]),
        street_names=np.array([u["name"] for u in streets]),
        district_codes=districts,
        district_weight=np.array([DISTRICT_WEIGHT.get(d, 0.5) for d in districts]),
        centroids={k: (float(v[0]), float(v[1])) for k, v in centroids.items()},
        categories=np.array([c["code"] for c in leaves]),
        category_names=np.array([c["name"] for c in leaves]),
        category_weight=weight,
        departments=departments,
        enterprises=enterprises,
        lead_codes=np.concatenate([street_codes, districts, departments, enterprises]),
        units=[{k: (u[k] or None) for k in ("code", "name", "kind", "parent_code")} for u in units],
        all_categories=[
            {
                "code": c["code"],
                "name": c["name"],
                "level": int(c["level"]),
                "parent_code": c["parent_code"] or None,
            }
            for c in cats
        ],
    )


def _season(days: np.ndarray, codes: np.ndarray, ref: Reference) -> np.ndarray:
    """Per (day, category) weight: heating in winter, drainage in the summer storms."""
    d = days.astype("datetime64[D]")
    month = (d.astype("datetime64[M]").astype(int) % 12) + 1
    dom = (d - d.astype("datetime64[M]")).astype(int) + 1
    heating = (
        ((month == 11) & (dom >= 15)) | (month == 12) | (month <= 2) | ((month == 3) & (dom <= 15))
    )
    storms = (month == 7) | (month == 8)
    is_heat = np.array([c.startswith(HEATING) for c in codes])
    is_storm = np.array([c.startswith(STORMS) for c in codes])
    w = np.tile(ref.category_weight, (len(days), 1))
    w[np.ix_(heating, is_heat)] *= 12.0
    w[np.ix_(~heating, is_heat)] *= 0.3
    w[np.ix_(storms, is_storm)] *= 10.0
    normalised: np.ndarray = w / w.sum(axis=1, keepdims=True)
    return normalised


# Columns with few distinct values: dictionary pages pay off. Elsewhere (ids, instants,
# coordinates, texts) building a dictionary only to drop it costs a third of the write time.
DICTIONARY_COLUMNS = [
    "status", "request_type", "category", "urgency", "channel", "district", "street",
    "lead_unit", "exclusion_state", "unit_code", "assessed_unit", "resolved", "satisfaction",
]  # fmt: skip


@dataclass(frozen=True)
class MonthJob:
    index: int  # month number in the history: seeds the month's own random stream
    label: str  # 2026-10
    day_positions: np.ndarray  # indices into the history's days
    day_counts: np.ndarray
    first_case: int
    progress: float  # 0 → 1 over the history: the city improves


@dataclass(frozen=True)
class Shared:
    ref: Reference
    days: np.ndarray
    seasonal: np.ndarray
    quality: np.ndarray
    out: Path
    seed: int
    surges: tuple[Surge, ...] = ()


@dataclass(frozen=True)
class Surge:
    """An injected surge (`--surge 17:110105:2026-09-01:14:3`): for `days` from `start`, the
    category prefix in the area (a district, or a street: then at one spot of it) runs at
    `factor` times its usual volume, by relabelling other cases of those days (the total is
    unchanged). Drawn from its own random stream: without surges the output is unchanged."""

    category: str
    area: str
    start: date
    days: int
    factor: float

    @classmethod
    def parse(cls, spec: str) -> Surge:
        try:
            cat, area, start, days, factor = spec.split(":")
            surge = cls(cat, area, date.fromisoformat(start), int(days), float(factor))
        except ValueError as exc:
            raise ValueError(
                f"--surge must look like 17:110105:2026-09-01:14:3, not {spec!r}"
            ) from exc
        if not (cat.isdigit() and surge.days > 0 and surge.factor > 1):
            raise ValueError(f"--surge {spec!r}: needs a category code, days > 0 and factor > 1")
        return surge


def _inject(
    shared: Shared, day_index: np.ndarray, cat_idx: np.ndarray, district_idx: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Relabel cases for the surges in place; returns each case's forced street (-1: none) and
    whether it sits at the surge's spot."""
    ref, n = shared.ref, len(day_index)
    forced = np.full(n, -1, np.int64)
    rng = np.random.default_rng([shared.seed, int(day_index[0]) if n else 0, 7])
    day0 = shared.days[0].astype("datetime64[D]")
    for s in shared.surges:
        lo = int((np.datetime64(s.start, "D") - day0).astype(int))
        window = (day_index >= lo) & (day_index < lo + s.days)
        leaves = np.nonzero(np.char.startswith(ref.categories.astype(str), s.category))[0]
        street = np.nonzero(ref.streets == s.area)[0]
        district = s.area if not len(street) else ref.street_district[street[0]]
        d = np.nonzero(ref.district_codes == district)[0]
        if not window.any() or not len(leaves) or not len(d):
            continue
        area_share = ref.district_weight[d[0]] / ref.district_weight.sum()
        if len(street):
            area_share /= int((ref.street_district == district).sum())
        cat_share = shared.seasonal[day_index, :][:, leaves].sum(axis=1)
        p = np.clip((s.factor - 1) * cat_share * area_share, 0, 1)
        hit = window & (rng.random(n) < p)
        w = ref.category_weight[leaves] / ref.category_weight[leaves].sum()
        cat_idx[hit] = leaves[rng.choice(len(leaves), int(hit.sum()), p=w)]
        district_idx[hit] = d[0]
        if len(street):
            forced[hit] = street[0]
    return forced, forced >= 0


_SHARED: Shared | None = None  # set before the workers fork; read-only in them


def generate(
    rows: int,
    out: Path,
    *,
    end: date,
    months: int,
    seed: int,
    workers: int | None = None,
    surges: tuple[Surge, ...] = (),
) -> dict[str, Any]:
    global _SHARED
    rng = np.random.default_rng(seed)
    ref = _reference(rng)
    start = (np.datetime64(end, "M") - (months - 1)).astype("datetime64[D]")
    days = np.arange(start, np.datetime64(end, "D") + 1)
    # Daily volume: weekday rhythm, growth over the years, noise.
    weekday = (days.astype(int) + 3) % 7  # 0 = Monday
    daily = np.where(weekday >= 5, 0.8, 1.0) * np.linspace(0.6, 1.0, len(days))
    daily *= rng.lognormal(0, 0.08, len(days))
    per_day = rng.multinomial(rows, daily / daily.sum())
    quality = rng.beta(8, 2, len(ref.lead_codes))  # a lasting per-unit performance level
    month_ids = days.astype("datetime64[M]")
    jobs, next_case = [], 1
    for index, month in enumerate(np.unique(month_ids)):
        positions = np.nonzero(month_ids == month)[0]
        n = int(per_day[positions].sum())
        if n:
            progress = positions[0] / len(days)
            jobs.append(
                MonthJob(index, str(month), positions, per_day[positions], next_case, progress)
            )
            next_case += n
    _SHARED = Shared(ref, days, _season(days, ref.categories, ref), quality, out, seed, surges)
    workers = workers or os.cpu_count() or 1
    try:
        if workers > 1 and len(jobs) > 1:
            # fork: the workers inherit _SHARED instead of unpickling it per month.
            with multiprocessing.get_context("fork").Pool(min(workers, len(jobs))) as pool:
                results = pool.map(_run_month, jobs, chunksize=1)
        else:
            results = [_run_month(job) for job in jobs]
    finally:
        _SHARED = None
    totals = {"cases": next_case - 1, "callbacks": sum(r[0] for r in results), "exclusions": 0}
    excl = [r[1] for r in results]
    excl_table = pa.concat_tables(excl) if excl else SCHEMAS["exclusions"].empty_table()
    totals["exclusions"] = excl_table.num_rows
    (out / "exclusions").mkdir(parents=True, exist_ok=True)
    pq.write_table(excl_table, out / "exclusions" / part_name(1, 0))
    for table, body in (("units", ref.units), ("categories", ref.all_categories)):
        (out / table).mkdir(parents=True, exist_ok=True)
        pq.write_table(
            pa.Table.from_pylist(body, schema=SCHEMAS[table]), out / table / "data.parquet"
        )
    totals["assessed"] = build_assessed(out, callback_months(out))
    # Watermarks as a refresh would leave them: the next real ids start above these.
    state = LakeState(
        watermarks={
            "generated": True,
            "cases_max_id": next_case - 1,
            "callbacks": next_case - 1,
            "events": 0,
            "generation": 0,
            "assessed": 1,
        },
        refreshed_at=datetime.now(UTC).isoformat(),
    )
    state.save(out)
    return totals


def _run_month(job: MonthJob) -> tuple[int, pa.Table]:
    """Draw one month and write its files; returns its callback count and exclusions."""
    shared = _SHARED
    assert shared is not None, "generate() sets the shared reference first"
    rng = np.random.default_rng([shared.seed, job.index])
    day_index = np.repeat(job.day_positions, job.day_counts)
    cases, callbacks, excl, cb_month = _month(rng, shared, day_index, job.first_case, job.progress)
    out = shared.out
    root = out / "cases" / f"month={job.label}"
    root.mkdir(parents=True, exist_ok=True)
    for block, part in case_blocks(cases):
        _write(part, root / case_block_name(block))
    # A case called back after the month ends lands in the next month's callbacks.
    for m in np.unique(cb_month):
        part = callbacks.filter(pa.array(cb_month == m))
        label = str(m)
        target = out / "callbacks" / f"month={label}" / part_name(int(part["id"][0].as_py()), 0)
        target.parent.mkdir(parents=True, exist_ok=True)
        _write(part, target)
    return callbacks.num_rows, excl


def _write(table: pa.Table, path: Path) -> None:
    use = [c for c in DICTIONARY_COLUMNS if c in table.column_names]
    pq.write_table(table, path, compression="snappy", row_group_size=1_000_000, use_dictionary=use)


def _dict(values: Any, indices: Any) -> pa.Array:
    """Low-cardinality strings as dictionary arrays: no copy per row, and Parquet stores them
    dictionary-encoded anyway (readers see plain strings)."""
    if isinstance(indices, pa.Array):
        return pa.DictionaryArray.from_arrays(indices.cast(pa.int32()), pa.array(values))
    return pa.DictionaryArray.from_arrays(np.asarray(indices, dtype=np.int32), pa.array(values))


def _ts(us: np.ndarray) -> pa.Array:
    return pa.array(us, type=pa.int64()).cast(pa.timestamp("us", tz="UTC"))


def _texts(rng: np.random.Generator, ref: Reference, street_idx: Any, cat_idx: Any) -> pa.Array:
    """ "<street><place><category>问题，<phrase>": two halves drawn from small vocabularies and
    joined in one Arrow kernel (a per-row join of four columns is ten times slower)."""
    n = len(street_idx)
    prefix = [s + p for s in ref.street_names for p in PLACES]
    suffix = [c + "问题，" + ph for c in ref.category_names for ph in PHRASES]
    idx = np.empty(2 * n, np.int64)
    idx[0::2] = street_idx * len(PLACES) + rng.integers(0, len(PLACES), n)
    idx[1::2] = len(prefix) + cat_idx * len(PHRASES) + rng.integers(0, len(PHRASES), n)
    halves = pa.array(prefix + suffix).take(idx)
    pairs = pa.ListArray.from_arrays(pa.array(np.arange(0, 2 * n + 1, 2, dtype=np.int32)), halves)
    return pc.binary_join(pairs, "")


def _month(
    rng: np.random.Generator,
    shared: Shared,
    day_index: np.ndarray,
    first_case: int,
    progress: float,
) -> tuple[pa.Table, pa.Table, pa.Table, np.ndarray]:
    ref, days, seasonal, quality = shared.ref, shared.days, shared.seasonal, shared.quality
    n = len(day_index)
    ids = np.arange(first_case, first_case + n, dtype=np.int64)
    hours = rng.choice(24, n, p=HOURLY / HOURLY.sum())
    local_us = days[day_index].astype("datetime64[us]").astype(np.int64)
    created = local_us + hours * US_PER_HOUR + rng.integers(0, US_PER_HOUR, n) - BEIJING_OFFSET_US
    created.sort()
    # Category per case from that day's seasonal mix: one multinomial draw per day.
    cat_idx = np.empty(n, dtype=np.int64)
    at = 0
    for d, count in zip(*np.unique(day_index, return_counts=True), strict=True):
        drawn = np.repeat(np.arange(len(ref.categories)), rng.multinomial(count, seasonal[d]))
        cat_idx[at : at + count] = rng.permutation(drawn)
        at += count
    district_idx = rng.choice(
        len(ref.district_codes), n, p=ref.district_weight / ref.district_weight.sum()
    )
    # A street inside the drawn district, uniformly (streets grouped by district, by index).
    order = np.argsort(ref.street_district, kind="stable")
    lo = np.searchsorted(ref.street_district[order], ref.district_codes, "left")
    hi = np.searchsorted(ref.street_district[order], ref.district_codes, "right")
    uniform = rng.random(n)
    if shared.surges:  # placed here so that without surges not one random draw moves
        forced, spot = _inject(shared, day_index, cat_idx, district_idx)
    street_idx = order[lo[district_idx] + (uniform * (hi - lo)[district_idx]).astype(np.int64)]
    if shared.surges:
        street_idx = np.where(spot, forced, street_idx)
    cx = np.array([ref.centroids.get(d, (116.4, 39.9))[0] for d in ref.district_codes])
    cy = np.array([ref.centroids.get(d, (116.4, 39.9))[1] for d in ref.district_codes])
    lon = cx[district_idx] + rng.normal(0, 0.04, n)
    lat = cy[district_idx] + rng.normal(0, 0.03, n)
    if shared.surges and spot.any():  # a street's surge is at one spot of ~300 m
        lon[spot] = cx[district_idx[spot]] + 0.05 + rng.normal(0, 0.001, int(spot.sum()))
        lat[spot] = cy[district_idx[spot]] + 0.03 + rng.normal(0, 0.001, int(spot.sum()))
    inquiry = rng.random(n) < 0.55
    rtype = np.where(inquiry, 0, rng.choice(4, n, p=[0.55, 0.25, 0.1, 0.1]) + 1)
    # Lead unit as an index into ref.lead_codes: streets, districts, departments, enterprises.
    kind = rng.choice(4, n, p=[0.70, 0.12, 0.12, 0.06])
    ns, nd = len(ref.streets), len(ref.district_codes)
    np_, ne = len(ref.departments), len(ref.enterprises)
    lead = np.select(
        [kind == 0, kind == 1, kind == 2],
        [street_idx, ns + district_idx, ns + nd + rng.integers(0, np_, n)],
        ns + nd + np_ + rng.integers(0, ne, n),
    )
    lead = np.where(inquiry, -1, lead)
    dispatched = created + rng.integers(5, 60, n) * 60_000_000
    contact_due = dispatched + 24 * US_PER_HOUR
    q = np.where(lead >= 0, quality[np.maximum(lead, 0)], 0.8)
    contact_delay = (rng.lognormal(1.5, 1.0, n) * US_PER_HOUR * (1.6 - q)).astype(np.int64)
    contacted_at = dispatched + contact_delay
    replied = contacted_at + (rng.gamma(2.0, 40.0, n) * US_PER_HOUR).astype(np.int64)
    called = replied + rng.integers(2, 48, n) * US_PER_HOUR
    closed = np.where(inquiry, created + 300_000_000, called)
    text = _texts(rng, ref, street_idx, cat_idx)
    codes = pa.array(ref.lead_codes)
    lead_arr = _dict(codes, pa.array(lead, mask=lead < 0))
    category = _dict(ref.categories, cat_idx)
    district = _dict(ref.district_codes, district_idx)
    street = _dict(ref.streets, street_idx)
    null_ts = pa.nulls(n, pa.timestamp("us", tz="UTC"))
    disp = ~inquiry
    cases = pa.table(
        {
            "id": ids,
            "status": _dict(["closed", "answered"], inquiry.astype(np.int64)),
            "request_type": _dict(["inquiry", *REQUEST_TYPES], rtype),
            "category": category,
            "urgency": _dict(["normal"], np.zeros(n, np.int64)),
            "channel": _dict(["phone", "web"], (rng.random(n) >= 0.85).astype(np.int64)),
            "district": district,
            "street": street,
            "lead_unit": lead_arr,
            "lat": lat,
            "lon": lon,
            "text": text,
            "master_case_id": pa.nulls(n, pa.int64()),
            "reopen_count": np.zeros(n, np.int32),
            "exclusion_state": _dict(["none"], np.zeros(n, np.int64)),
            "created_at": _ts(created),
            "dispatched_at": pc.if_else(disp, _ts(dispatched), null_ts),
            "contacted_at": pc.if_else(disp, _ts(contacted_at), null_ts),
            "contact_due": pc.if_else(disp, _ts(contact_due), null_ts),
            "reply_due": pc.if_else(disp, _ts(dispatched + 7 * US_PER_DAY), null_ts),
            "replied_at": pc.if_else(disp, _ts(replied), null_ts),
            "closed_at": _ts(closed),
            "updated_at": _ts(closed),
        },
    )
    # Callbacks: every dispatched case is called back; the unit's quality and the city's
    # progress over the years drive the answers.
    idx = np.nonzero(disp)[0]
    m = len(idx)
    qd = q[idx]
    p_yes = np.clip(0.55 + 0.35 * progress + (qd - 0.8) * 1.2, 0.05, 0.99)
    u = rng.random(m)
    res = np.where(u < p_yes, 0, np.where(u < p_yes + (1 - p_yes) * 0.4, 1, 2))
    v = rng.random(m)
    sat_p = np.array([0.88, 0.35, 0.06])[res]
    bas_p = np.array([0.10, 0.40, 0.15])[res]
    sat = np.where(v < sat_p, 0, np.where(v < sat_p + bas_p, 1, 2))
    cb_ids = ids[idx]  # one callback per dispatched case: its id is the case's
    callbacks = pa.table(
        {
            "id": cb_ids,
            "case_id": ids[idx],
            "at": _ts(called[idx]),
            "unit_code": lead_arr.take(idx),
            "assessed_unit": lead_arr.take(idx),
            "contacted": rng.random(m) < 0.97,
            "resolved": _dict(["yes", "partly", "no"], res),
            "satisfaction": _dict(["satisfied", "basically", "dissatisfied"], sat),
            "unit_contacted_at": _ts(contacted_at[idx]),
            "contact_due": _ts(contact_due[idx]),
            "category": category.take(idx),
            "district": district.take(idx),
            "street": street.take(idx),
        },
    )
    # About 0.5% of called-back cases get an approved exclusion (不合理诉求).
    ex = rng.random(m) < 0.005
    exclusions = pa.table(
        {
            "event_id": -cb_ids[ex],  # no event log in a generated lake: negative, never real
            "case_id": ids[idx][ex],
            "approved_at": _ts(called[idx][ex] + US_PER_DAY),
        },
        schema=SCHEMAS["exclusions"],
    )
    # The city's month of each call, in integer arithmetic (strftime is 30× slower).
    local = (called[idx] + BEIJING_OFFSET_US).astype("datetime64[us]")
    return cases.sort_by("id"), callbacks, exclusions, local.astype("datetime64[M]")


def generate_command(
    rows: Annotated[int, typer.Option(min=1, max=1_000_000_000, help="number of cases")],
    out: Annotated[Path, typer.Option(help="lake directory to write")],
    months: Annotated[int, typer.Option(min=1, max=120)] = 48,
    end: Annotated[str, typer.Option(help="last day, YYYY-MM-DD")] = "2026-10-31",
    seed: int = 2026,
    surge: Annotated[
        list[str] | None,
        typer.Option(help="inject a surge CATEGORY:AREA:YYYY-MM-DD:DAYS:FACTOR (repeatable)"),
    ] = None,
) -> None:
    """Write a synthetic history of N cases straight to the analytics lake layout."""
    try:
        last = date.fromisoformat(end)
    except ValueError as exc:
        raise typer.BadParameter("--end must look like 2026-10-31") from exc
    try:
        surges = tuple(Surge.parse(spec) for spec in surge or ())
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc
    if out.exists() and any(out.iterdir()):
        raise typer.BadParameter(f"--out {out} is not empty; give a new directory")
    began = time.perf_counter()
    totals = generate(rows, out, end=last, months=months, seed=seed, surges=surges)
    took = time.perf_counter() - began
    typer.echo(
        f"{out}: {totals['cases']:,} cases, {totals['callbacks']:,} callbacks, "
        f"{totals['exclusions']:,} exclusions in {took:.1f} s "
        f"({totals['cases'] / max(took, 1e-9):,.0f} cases/s)"
    )
