"""The monthly report a leader reads (city totals, four rankings, biggest movers, worst
categories, focus streets) and its Excel and HTML renderings."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jinja2 import Environment
from openpyxl import Workbook  # type: ignore[import-untyped,unused-ignore]
from openpyxl.styles import Font  # type: ignore[import-untyped,unused-ignore]
from sqlalchemy.orm import Session

from jiesu.analytics.engines import MetricEngine, run_metric
from jiesu.assessment import service
from jiesu.assessment.scoring import (
    GROUP_NAMES,
    Assessment,
    UnitCounts,
    focus_streets,
    movers,
    policy_for,
    rates,
)
from jiesu.sheets import xlsx_append

GROUP_TITLES = {
    "districts": "区",
    "streets": "街道（乡镇）",
    "departments": "市级部门",
    "enterprises": "公共服务企业",
}
COLUMNS = ["rank", "unit", "name", "assessed", "response_rate", "resolution_rate"]
COLUMNS += ["satisfaction_rate", "composite"]
HEADERS = ["排名", "单位代码", "单位", "考评量", "响应率", "解决率", "满意率", "综合得分"]


@dataclass
class MonthlyReport:
    month: str
    source: str
    totals: dict[str, Any]
    rankings: dict[str, list[dict[str, Any]]]
    movers: list[dict[str, Any]] = field(default_factory=list)
    categories: list[dict[str, Any]] = field(default_factory=list)
    focus: list[dict[str, Any]] = field(default_factory=list)


def _current(session: Session, engine: MetricEngine, month: str) -> tuple[Assessment, str]:
    snap = service.latest_snapshot(session, month)
    if snap is not None:
        return service.frozen(session, snap), f"frozen version {snap.version}"
    return service.live(engine, month, service.load_policies(session)), "live"


def focus_with_trend(
    session: Session,
    engine: MetricEngine,
    month: str,
    months: int = 12,
    volume_quantile: float = 0.8,
    composite_quantile: float = 0.2,
) -> list[dict[str, Any]]:
    month = service.month_arg(month)
    hist = service.history(engine, month, months, service.load_policies(session))
    chosen = focus_streets(hist[month].units, volume_quantile, composite_quantile)
    out = []
    for u in chosen:
        trend: list[float | None] = []
        for past in hist.values():
            found = next((p for p in past.units if p.unit == u.unit), None)
            trend.append(float(found.composite) if found else None)
        out.append(u.as_dict() | {"trend": trend, "trend_months": list(hist)})
    return out


def build_monthly(session: Session, engine: MetricEngine, month: str) -> MonthlyReport:
    month = service.month_arg(month)
    policies = service.load_policies(session)
    current, source = _current(session, engine, month)
    previous = service.live(engine, service.shift_month(month, -1), policies)
    city = policy_for(policies, "*", month)
    total = UnitCounts(
        "city",
        *(sum(getattr(u.counts, f) for u in current.units) for f in _COUNT_FIELDS),
    )
    r, res, sat, comp = rates(total, city)
    volume = run_metric(engine, "monthly_volume", month)
    totals = {
        "registered": sum(int(v["cases"]) for v in volume),
        "assessed": total.assessed,
        "response_rate": float(r),
        "resolution_rate": float(res),
        "satisfaction_rate": float(sat),
        "composite": float(comp),
    }
    names = {
        str(c["code"]): str(c["name"])
        for c in engine.query("SELECT code, name FROM categories WHERE level = 1")
    }
    cats = []
    for row in run_metric(engine, "category_month_counts", month):
        counts = service.counts_row(row, "category")
        if counts.assessed < city.min_cases:
            continue
        _, cres, csat, ccomp = rates(counts, city)
        cats.append(
            {
                "category": counts.unit,
                "name": names.get(counts.unit, counts.unit),
                "assessed": counts.assessed,
                "resolution_rate": float(cres),
                "satisfaction_rate": float(csat),
                "composite": float(ccomp),
            }
        )
    cats.sort(key=lambda c: (c["composite"], c["category"]))
    moved = [u.as_dict() | {"moved": m} for u, m in movers(previous.units, current.units, limit=10)]
    return MonthlyReport(
        month=month,
        source=source,
        totals=totals,
        rankings={g: [u.as_dict() for u in current.group(g)] for g in GROUP_NAMES},
        movers=moved,
        categories=cats[:10],
        focus=focus_with_trend(session, engine, month),
    )


_COUNT_FIELDS = ("assessed", "responded", "resolved", "partly", "satisfied", "basically")


def _pct(v: float) -> str:
    return f"{v:.2%}"


def assessment_xlsx(body: dict[str, Any], out: Path) -> None:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = body["month"]
    _sheet_rows(ws, body["units"], with_group=True)
    wb.save(out)


def _sheet_rows(ws: Any, units: list[dict[str, Any]], with_group: bool = False) -> None:
    headers = [*HEADERS, "分组"] if with_group else HEADERS
    xlsx_append(ws, headers)
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for u in units:
        row = [u[c] if u[c] is not None else "未排名" for c in COLUMNS]
        xlsx_append(ws, [*row, u["group"]] if with_group else row)
    for row in ws.iter_rows(min_row=2, min_col=5, max_col=7):
        for cell in row:
            cell.number_format = "0.00%"


def write_xlsx(report: MonthlyReport, out: Path) -> None:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "全市概况"
    xlsx_append(ws, ["月份", report.month])
    xlsx_append(ws, ["数据来源", report.source])
    for key, label in _TOTAL_LABELS.items():
        xlsx_append(ws, [label, report.totals[key]])
    for group in GROUP_NAMES:
        _sheet_rows(wb.create_sheet(GROUP_TITLES[group]), report.rankings[group])
    moved = wb.create_sheet("排名变化")
    xlsx_append(moved, ["单位代码", "单位", "分组", "本月排名", "变化"])
    for m in report.movers:
        xlsx_append(moved, [m["unit"], m["name"], m["group"], m["rank"], m["moved"]])
    cats = wb.create_sheet("问题类别")
    xlsx_append(cats, ["类别", "名称", "考评量", "解决率", "满意率", "综合得分"])
    for c in report.categories:
        xlsx_append(
            cats,
            [
                c["category"],
                c["name"],
                c["assessed"],
                c["resolution_rate"],
                c["satisfaction_rate"],
                c["composite"],
            ],
        )
    focus = wb.create_sheet("治理类街乡镇")
    xlsx_append(focus, ["单位代码", "单位", "考评量", "综合得分", "近12月综合得分"])
    for f in report.focus:
        trend = " ".join("-" if t is None else f"{t:.2f}" for t in f["trend"])
        xlsx_append(focus, [f["unit"], f["name"], f["assessed"], f["composite"], trend])
    wb.save(out)


_TOTAL_LABELS = {
    "registered": "受理量",
    "assessed": "考评量",
    "response_rate": "响应率",
    "resolution_rate": "解决率",
    "satisfaction_rate": "满意率",
    "composite": "综合得分",
}

_HTML = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>接诉即办月度考评 {{ r.month }}</title>
<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;margin:1em 0}
td,th{border:1px solid #ccc;padding:.3em .6em;text-align:right}th{background:#f3f3f3}
td.l{text-align:left}</style></head><body>
<h1>接诉即办月度考评 {{ r.month }}</h1><p>数据来源：{{ r.source }}</p>
<h2>全市概况</h2><table>{% for k, label in labels.items() %}<tr><th>{{ label }}</th>
<td>{{ pct(r.totals[k]) if k.endswith('rate') else r.totals[k] if k != 'composite'
 else '%.4f' % r.totals[k] }}</td></tr>{% endfor %}</table>
{% for g in groups %}<h2>{{ titles[g] }}排名</h2><table><tr>{% for h in headers %}<th>{{ h }}</th>
{% endfor %}</tr>{% for u in r.rankings[g] %}<tr><td>{{ u.rank or '未排名' }}</td>
<td class="l">{{ u.unit }}</td><td class="l">{{ u.name }}</td><td>{{ u.assessed }}</td>
<td>{{ pct(u.response_rate) }}</td><td>{{ pct(u.resolution_rate) }}</td>
<td>{{ pct(u.satisfaction_rate) }}</td><td>{{ '%.4f' % u.composite }}</td></tr>{% endfor %}
</table>{% endfor %}
<h2>排名变化最大</h2><table><tr><th>单位</th><th>分组</th><th>本月排名</th><th>变化</th></tr>
{% for m in r.movers %}<tr><td class="l">{{ m.name }}</td><td class="l">{{ titles[m.group] }}</td>
<td>{{ m.rank }}</td><td>{{ '%+d' % m.moved }}</td></tr>{% endfor %}</table>
<h2>问题类别（综合得分最低）</h2><table><tr><th>类别</th><th>考评量</th><th>解决率</th>
<th>满意率</th></tr>{% for c in r.categories %}<tr><td class="l">{{ c.name }}</td>
<td>{{ c.assessed }}</td><td>{{ pct(c.resolution_rate) }}</td><td>{{ pct(c.satisfaction_rate) }}
</td></tr>{% endfor %}</table>
<h2>治理类街乡镇</h2><table><tr><th>街道（乡镇）</th><th>考评量</th><th>综合得分</th>
<th>近12月</th></tr>{% for f in r.focus %}<tr><td class="l">{{ f.name }}</td><td>{{ f.assessed }}
</td><td>{{ '%.4f' % f.composite }}</td><td class="l">{% for t in f.trend %}{{ '-' if t is none
 else '%.2f' % t }} {% endfor %}</td></tr>{% else %}<tr><td colspan="4">无</td></tr>{% endfor %}
</table></body></html>
"""


def write_html(report: MonthlyReport, out: Path) -> None:
    env = Environment(autoescape=True)
    html = env.from_string(_HTML).render(
        r=report,
        labels=_TOTAL_LABELS,
        groups=GROUP_NAMES,
        titles=GROUP_TITLES,
        headers=HEADERS,
        pct=_pct,
    )
    out.write_text(html, encoding="utf-8")
