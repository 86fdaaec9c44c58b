"""The metric catalogue: each metric is one SQL file in metrics/, its definition in words in the
file's header, run unchanged by DuckDB and by Spark.

A metric may use another one as a subquery by naming it (`$assessed_cases`), so a definition
is written once. Parameters are validated here and substituted as literals: both engines then
see plain SQL, with nothing dialect-specific about binding.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from string import Template

from jiesu.analytics.lake import check_month

CODE_RE = re.compile(r"^[A-Za-z0-9_-]{1,32}$")


@dataclass(frozen=True)
class Metric:
    name: str
    title: str
    definition: str
    sql: str  # the template, header included


def _parse(name: str, text: str) -> Metric:
    title = ""
    definition: list[str] = []
    in_definition = False
    for line in text.splitlines():
        if not line.startswith("--"):
            break
        body = line[2:].strip()
        if body.startswith("title:"):
            title, in_definition = body[6:].strip(), False
        elif body.startswith("definition:"):
            definition, in_definition = [body[11:].strip()], True
        elif body.startswith(("metric:", "parameters:")):
            in_definition = False
        elif in_definition:
            definition.append(body)
    return Metric(name, title, " ".join(definition), text)


@cache
def catalogue() -> dict[str, Metric]:
    root = files("jiesu.analytics") / "metrics"
    metrics = {}
    for entry in sorted(root.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".sql"):
            name = entry.name.removesuffix(".sql")
            metrics[name] = _parse(name, entry.read_text(encoding="utf-8"))
    return metrics


def render(name: str, month_from: str, month_to: str | None = None) -> str:
    """The metric's SQL for a month range, with the metrics it names inlined."""
    month_to = month_to or month_from
    check_month(month_from)
    check_month(month_to)
    metrics = catalogue()
    if name not in metrics:
        raise KeyError(f"unknown metric {name!r}; known: {', '.join(metrics)}")
    params: dict[str, str] = {"month_from": month_from, "month_to": month_to}

    def expand(metric: str, depth: int = 0) -> str:
        if depth > 5:
            raise ValueError("metrics nest too deep")
        template = Template(metrics[metric].sql)
        inner = {
            other: expand(other, depth + 1)
            for other in template.get_identifiers()
            if other in metrics
        }
        return template.substitute(params | inner)

    return expand(name)


def check_code(code: str, what: str = "unit") -> str:
    if not CODE_RE.match(code):
        raise ValueError(f"{what} must be a code of letters, digits, '-' or '_', not {code!r}")
    return code
