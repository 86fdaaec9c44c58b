from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest

from jiesu.triage.classifier import TextModel
from jiesu.triage.duplicates import DupCandidate
from jiesu.triage.engine import CategoryInfo, Triage

from .helpers import small_model

CATEGORIES = [
    CategoryInfo("01", "环境保护", 1, None),
    CategoryInfo("0101", "噪音污染", 2, "01"),
    CategoryInfo("02", "交通运输", 1, None),
    CategoryInfo("0201", "公共交通", 2, "02"),
    CategoryInfo("03", "教育文体", 1, None),
]


@dataclass(frozen=True)
class Rule:
    unit: str
    rule: str

    def to_dict(self) -> dict[str, Any]:
        return {"unit": self.unit, "rule": self.rule}


def routing(category: str, district: str | None, street: str | None) -> Rule | None:
    if street:
        return Rule(f"street {street}", f"{category} x street")
    return Rule(f"district {district}", f"{category} x district") if district else None


@pytest.fixture(scope="module")
def model() -> TextModel:
    return small_model()


def test_proposal_with_model(model: TextModel) -> None:
    triage = Triage(model, CATEGORIES, routing)
    dup = DupCandidate(
        7, "望京街道小区楼下饭店油烟污染严重", "110105026", datetime.now(UTC), "dispatched"
    )
    p = triage.propose("朝阳区望京街道小区楼下饭店油烟污染严重，我要投诉", dup_candidates=[dup])
    assert p.categories[0].code == "01" and p.categories[0].reasons
    assert p.place.street_code == "110105026"
    assert p.unit == Rule("street 110105026", "01 x street")
    assert p.request_type.value == "complaint"
    assert [d.case_id for d in p.duplicates] == [7]
    json.dumps(p.to_dict(), ensure_ascii=False)


def test_without_model_keywords_still_propose() -> None:
    p = Triage(None, CATEGORIES, None).propose("晚上噪音污染太严重了")
    assert p.categories[0].code == "01"
    assert p.model_version is None and p.unit is None


def test_coordinates_decide_the_district(model: TextModel) -> None:
    p = Triage(model, CATEGORIES).propose("八里庄这边公交太少", lat=39.99, lon=116.31)
    assert p.place.district_code == "110108" and p.place.street_code == "110108005"


def test_emergency_and_urgency(model: TextModel) -> None:
    p = Triage(model, CATEGORIES).propose("楼下着火了，有人被困")
    assert p.emergency.number == "119" and p.urgency.value == "urgent"
