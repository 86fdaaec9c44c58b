"""One proposal for the agent: category, request type, urgency, emergency, place, unit, duplicates.

Pure: the caller passes the taxonomy rows, the routing function and the duplicate candidates, so
this imports no database or web framework and answers in a few milliseconds.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from jiesu.triage.classifier import TextModel
from jiesu.triage.duplicates import (
    DEFAULT_THRESHOLD,
    DupCandidate,
    DupMatch,
    find_duplicates,
)
from jiesu.triage.geo import district_at
from jiesu.triage.places import PlaceMatch, find_place
from jiesu.triage.rules import Decision, Emergency, emergency, guess_category, request_type, urgency


@dataclass(frozen=True)
class CategoryInfo:
    code: str
    name: str
    level: int
    parent_code: str | None


class RoutingDecision(Protocol):
    # Whatever the routing module returns; it must be able to show itself as JSON.
    def to_dict(self) -> dict[str, Any]: ...


Routing = Callable[[str, str | None, str | None], RoutingDecision | None]


@dataclass(frozen=True)
class CategoryProposal:
    code: str
    probability: float
    reasons: list[str]


@dataclass(frozen=True)
class Proposal:
    categories: list[CategoryProposal]
    request_type: Decision
    urgency: Decision
    emergency: Emergency
    place: PlaceMatch
    unit: RoutingDecision | None
    duplicates: list[DupMatch] = field(default_factory=list)
    model_version: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "categories": [
                {"code": c.code, "probability": round(c.probability, 4), "reasons": c.reasons}
                for c in self.categories
            ],
            "request_type": _decision(self.request_type),
            "urgency": _decision(self.urgency),
            "emergency": {"number": self.emergency.number, "reasons": self.emergency.reasons},
            "place": self.place.to_dict(),
            "unit": self.unit.to_dict() if self.unit is not None else None,
            "duplicates": [d.to_dict() for d in self.duplicates],
            "model_version": self.model_version,
        }


def _decision(d: Decision) -> dict[str, Any]:
    return {"value": d.value, "confidence": round(d.confidence, 3), "reasons": d.reasons}


class Triage:
    def __init__(
        self,
        model: TextModel | None,
        categories: Sequence[CategoryInfo],
        routing: Routing | None = None,
        *,
        dup_threshold: float = DEFAULT_THRESHOLD,
    ) -> None:
        self.model = model
        self.categories = list(categories)
        self.routing = routing
        self.dup_threshold = dup_threshold
        self._level1_by_name = {c.name: c.code for c in self.categories if c.level == 1}
        self._rows = [(c.code, c.name, c.parent_code) for c in self.categories]
        # A label's code depends only on the label and the taxonomy: found once per instance
        # (the service keeps one instance per model and taxonomy).
        self._label_codes: dict[str, tuple[str | None, list[str]]] = {}

    def _label_to_code(self, label: str, text: str) -> tuple[str | None, list[str]]:
        # The model may be trained on another taxonomy's names (the competition's 城乡建设 …);
        # an exact level-1 name match maps it, else the label itself is matched by keywords.
        known = self._label_codes.get(label)
        if known is not None:
            return known[0], list(known[1])
        found: tuple[str | None, list[str]] = (None, [])
        if label in self._level1_by_name:
            found = (self._level1_by_name[label], [])
        else:
            guesses = guess_category(label, self._rows)
            if guesses:
                found = (guesses[0][0], [f"label {label} ~ " + " ".join(guesses[0][2])])
        self._label_codes[label] = found
        return found[0], list(found[1])

    def _categories(self, text: str) -> list[CategoryProposal]:
        if self.model is None:
            return [CategoryProposal(c, p, r) for c, p, r in guess_category(text, self._rows)[:3]]
        out: dict[str, CategoryProposal] = {}
        for label, probability in self.model.predict_top([text], k=3)[0]:
            code, how = self._label_to_code(label, text)
            if code is None or code in out:
                continue
            words = self.model.explain(text, label, n=5) if not out else []
            out[code] = CategoryProposal(code, probability, words + how)
        return list(out.values())

    def propose(
        self,
        text: str,
        address: str | None = None,
        lat: float | None = None,
        lon: float | None = None,
        dup_candidates: Sequence[DupCandidate] = (),
        *,
        datum: str = "wgs84",
        routing: Routing | None = None,
    ) -> Proposal:
        """`routing`, if given, is used instead of the instance's (the rules of this moment).
        `dup_candidates` may be a CandidateSet (a place's window hands one out, ready)."""
        routing = routing or self.routing
        categories = self._categories(text)
        place = find_place(address) if address else PlaceMatch(None, None, "", 0.0, False, [])
        if place.street_code is None and not place.ambiguous:
            in_text = find_place(text)
            if in_text.district_code or in_text.ambiguous:
                place = in_text
        if lat is not None and lon is not None:
            place = _with_point(
                place, district_at(lat, lon, "gcj02" if datum == "gcj02" else "wgs84")
            )
        unit = None
        if routing is not None and categories:
            unit = routing(categories[0].code, place.district_code, place.street_code)
        duplicates = find_duplicates(
            text, place.street_code, dup_candidates, threshold=self.dup_threshold
        )
        return Proposal(
            categories=categories,
            request_type=request_type(text),
            urgency=urgency(text),
            emergency=emergency(text),
            place=place,
            unit=unit,
            duplicates=duplicates,
            model_version=self.model.version if self.model is not None else None,
        )


def _with_point(place: PlaceMatch, district: str | None) -> PlaceMatch:
    # A coordinate is better evidence of the district than words; words still give the street
    # when they agree with it.
    if district is None:
        return place
    if place.street_code and place.district_code == district:
        return PlaceMatch(district, place.street_code, place.matched_text, 0.99, False, [])
    streets = [c for c in place.candidates if c.startswith(district)]
    if len(streets) == 1:
        return PlaceMatch(district, streets[0], place.matched_text, 0.95, False, [])
    return PlaceMatch(district, None, "(coordinates)", 0.95, False, [])
