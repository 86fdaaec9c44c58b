"""`jiesu serve --workers N` (jiesu/serve.py): connections are spread over the workers, not all
taken by one, and a worker killed with SIGKILL is replaced while the others keep answering.
Bounded, loopback only; the server is database-agnostic here, so SQLite is enough."""

from __future__ import annotations

import os
import signal
import socket
import time
from pathlib import Path

import httpx

from tests.conftest import T0
from tests.databases import migrate_and_seed
from tests.serverproc import Server


def _workers(master: int) -> list[int]:
    kids = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    found = []
    for pid in kids:
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except FileNotFoundError:
            continue
        if b"--multiprocessing-fork" in cmdline and b"resource_tracker" not in cmdline:
            found.append(int(pid))
    return found


def _connections(pid: int, port: int) -> int:
    """Established TCP connections to `port` that process `pid` holds."""
    inodes = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    held = 0
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local_port = int(fields[1].split(":")[1], 16)
        if local_port == port and fields[3] == "01" and fields[9] in inodes:
            held += 1
    return held


def test_connections_are_spread_and_a_killed_worker_is_replaced(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'serve.db'}"
    migrate_and_seed(url, users_at=T0)
    server = Server(url, workers=2)
    server.start()
    opened: list[socket.socket] = []
    try:
        assert server.proc is not None
        workers = _workers(server.proc.pid)
        assert len(workers) == 2
        # A burst of keep-alive connections, as wrk or a load balancer's pool opens them: all
        # connected before any worker has accepted one, then each used once and kept open.
        burst = [socket.create_connection(("127.0.0.1", server.port)) for _ in range(24)]
        opened.extend(burst)
        for sock in burst:
            sock.sendall(b"GET /api/v1/health HTTP/1.1\r\nHost: test\r\n\r\n")
        for sock in burst:
            assert sock.recv(4096).startswith(b"HTTP/1.1 200")
        held = [_connections(pid, server.port) for pid in workers]
        assert sum(held) == 24
        assert min(held) >= 4, held  # one shared socket gave one worker all of them
        os.kill(workers[0], signal.SIGKILL)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            now = _workers(server.proc.pid)
            if len(now) == 2 and workers[0] not in now:
                break
            time.sleep(0.2)
        else:
            raise AssertionError("the killed worker was not replaced")
        # Every new connection is answered, whichever worker's socket it lands on.
        for _ in range(20):
            assert httpx.get(f"{server.base}/api/v1/health", timeout=30).status_code == 200
    finally:
        for sock in opened:
            sock.close()
        server.kill()


def test_workers_stop_when_their_supervisor_is_killed(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'serve.db'}"
    migrate_and_seed(url, users_at=T0)
    server = Server(url, workers=2)
    server.start()
    try:
        assert server.proc is not None
        workers = _workers(server.proc.pid)
        assert len(workers) == 2
        os.kill(server.proc.pid, signal.SIGKILL)  # the supervisor alone
        server.proc.wait(timeout=30)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and any(_alive(pid) for pid in workers):
            time.sleep(0.2)
        assert not any(_alive(pid) for pid in workers)
    finally:
        server.kill()
        for pid in _workers_left(workers):
            os.kill(pid, signal.SIGKILL)


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split()[2]
    except FileNotFoundError:
        return False
    return state != "Z"


def _workers_left(pids: list[int]) -> list[int]:
    return [pid for pid in pids if _alive(pid)]
