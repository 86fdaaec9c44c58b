"""CPU seconds spent by the server's process group, by the PostgreSQL backends of one database
and by the whole machine, read from /proc (Linux; the load test runs everything on one host).

PostgreSQL backends come and go (pool overflow connections close), so they are sampled every
`every` seconds and each backend's last reading is kept: a backend that exits loses at most one
interval of its CPU.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import sqlalchemy as sa

TICK = os.sysconf("SC_CLK_TCK")


def proc_cpu(pid: int) -> float:
    """utime + stime of one process in seconds (0 if it has gone)."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    fields = raw.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def group_pids(pgid: int) -> list[int]:
    out = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError):
            continue
        if int(fields[2]) == pgid:
            out.append(int(entry.name))
    return out


def machine_busy() -> float:
    """CPU seconds all cores have spent not idle since boot."""
    first = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    ticks = [int(x) for x in first]
    idle = ticks[3] + ticks[4]  # idle + iowait
    return (sum(ticks[:8]) - idle) / TICK


class CpuMeter:
    def __init__(self, pg_url: str, server_pgid: int, every: float = 1.0) -> None:
        url = sa.engine.make_url(pg_url)
        self.database = url.database or ""
        self.monitor = sa.create_engine(url.set(database="postgres"), poolclass=sa.NullPool)
        self.server_pgid = server_pgid
        self.every = every
        self.server: dict[int, float] = {}
        self.backends: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._start: tuple[dict[int, float], dict[int, float], float] = ({}, {}, 0.0)
        self.machine = 0.0

    def _sample(self) -> None:
        for pid in group_pids(self.server_pgid):
            self.server[pid] = max(self.server.get(pid, 0.0), proc_cpu(pid))
        with self.monitor.connect() as conn:
            pids = conn.scalars(
                sa.text("SELECT pid FROM pg_stat_activity WHERE datname = :d"),
                {"d": self.database},
            ).all()
        for pid in pids:
            self.backends[int(pid)] = max(self.backends.get(int(pid), 0.0), proc_cpu(int(pid)))

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            self._sample()

    def start(self) -> None:
        self._sample()
        self._start = (dict(self.server), dict(self.backends), machine_busy())
        self._thread.start()

    def stop(self) -> tuple[float, float, float]:
        """CPU seconds since start: server processes, PostgreSQL backends, whole machine."""
        self._stop.set()
        self._thread.join()
        self._sample()
        server0, backends0, machine0 = self._start
        server = sum(v - server0.get(pid, 0.0) for pid, v in self.server.items())
        backends = sum(v - backends0.get(pid, 0.0) for pid, v in self.backends.items())
        self.monitor.dispose()
        return server, backends, machine_busy() - machine0
