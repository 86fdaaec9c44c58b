"""The heat index of a hot topic (热度指数). Pure arithmetic, no I/O; docs/governance.md
explains the choice of weights.

    heat = 10 × ( 2.0·ln(1 + citizens)          distinct people asking: the main signal
                + 1.0·ln(1 + messages)           repeat messages add, but less
                + 0.5·ln(1 + max(0, support − 0.5·against))   likes of other citizens
                + 1.0·growth                     rising now: ln((1+last 30 d)/(1+previous 30 d)),
                                                 clipped to [−1, 2]
                + 0.5·ln(1 + min(duration_days, 60) / 7)) how long it has lasted, in weeks

Logarithms because a topic with 100 citizens is not 100 times as urgent as one with one, and so
that one viral message (2,000 likes) can reach the list without drowning ten neighbours who each
wrote in about the same compound.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

W_CITIZENS = 2.0
W_MESSAGES = 1.0
W_SUPPORT = 0.5
AGAINST_FACTOR = 0.5
W_GROWTH = 1.0
W_DURATION = 0.5
GROWTH_WINDOW = timedelta(days=30)
SCALE = 10.0
# Past two months a topic is chronic rather than hot: lasting longer adds nothing more.
DURATION_CAP_DAYS = 60.0


@dataclass(frozen=True)
class HeatParts:
    messages: int
    citizens: int
    support: int
    against: int
    growth: float
    duration_days: float
    heat: float

    def as_dict(self) -> dict[str, float | int]:
        return {
            "messages": self.messages,
            "citizens": self.citizens,
            "support": self.support,
            "against": self.against,
            "growth": round(self.growth, 3),
            "duration_days": round(self.duration_days, 1),
        }


def growth(times: Sequence[datetime], reference: datetime) -> float:
    """ln((1 + messages in the 30 days before `reference`) / (1 + the 30 days before those))."""
    last = sum(1 for t in times if reference - GROWTH_WINDOW < t <= reference)
    prev = sum(1 for t in times if reference - 2 * GROWTH_WINDOW < t <= reference - GROWTH_WINDOW)
    return max(-1.0, min(2.0, math.log((1 + last) / (1 + prev))))


def heat(
    *,
    times: Sequence[datetime],
    citizens: int,
    support: int,
    against: int,
    reference: datetime,
) -> HeatParts:
    if not times:
        raise ValueError("a topic needs at least one message")
    duration = (max(times) - min(times)).total_seconds() / 86400
    g = growth(times, reference)
    net_support = max(0.0, support - AGAINST_FACTOR * against)
    raw = (
        W_CITIZENS * math.log1p(citizens)
        + W_MESSAGES * math.log1p(len(times))
        + W_SUPPORT * math.log1p(net_support)
        + W_GROWTH * g
        + W_DURATION * math.log1p(min(duration, DURATION_CAP_DAYS) / 7)
    )
    return HeatParts(
        messages=len(times),
        citizens=citizens,
        support=support,
        against=against,
        growth=g,
        duration_days=duration,
        heat=round(SCALE * raw, 1),
    )
