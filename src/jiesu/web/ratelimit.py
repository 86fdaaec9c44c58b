"""A small sliding-window counter for guesses on public pages (the citizen tracker).

The tracker answers "case number + last 4 phone digits": 10,000 combinations per case, so
without a limit one script could read anyone's case. Failed guesses are counted per client
address and per case number in a short window; past the limit every guess is refused, right
or wrong, until the window moves on. In memory, per process: enough for one server, and a
restart only forgives. The clock is the app's injected clock, so tests move time themselves.
"""

from __future__ import annotations

import threading
from collections import deque
from datetime import datetime, timedelta

# Past this many keys the oldest idle ones are dropped, so a flood of addresses cannot grow
# the table without bound.
MAX_KEYS = 50_000


class Limiter:
    def __init__(self, limit: int, window: timedelta) -> None:
        self.limit = limit
        self.window = window
        self._hits: dict[str, deque[datetime]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str, now: datetime) -> deque[datetime]:
        hits = self._hits.get(key)
        if hits is None:
            return deque()
        while hits and hits[0] <= now - self.window:
            hits.popleft()
        if not hits:
            del self._hits[key]
        return hits

    def retry_after(self, key: str, now: datetime) -> int:
        """Seconds until `key` may try again; 0 when it may now."""
        with self._lock:
            hits = self._recent(key, now)
            if len(hits) < self.limit:
                return 0
            return max(1, int((hits[0] + self.window - now).total_seconds()) + 1)

    def hit(self, key: str, now: datetime) -> None:
        with self._lock:
            if len(self._hits) >= MAX_KEYS:
                cutoff = now - self.window
                for old in [k for k, v in self._hits.items() if not v or v[-1] <= cutoff]:
                    del self._hits[old]
                if len(self._hits) >= MAX_KEYS:
                    self._hits.pop(next(iter(self._hits)))
            self._hits.setdefault(key, deque()).append(now)
