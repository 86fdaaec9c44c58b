"""A real `jiesu serve` process on loopback, for tests and benchmarks that cross HTTP."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    def __init__(
        self, url: str, workers: int = 2, port: int | None = None, log: Path | None = None
    ) -> None:
        self.url = url
        self.workers = workers
        self.port = port or free_port()
        self.log = log  # where the server's output goes (appended; default: discarded)
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60) -> None:
        env = {**os.environ, "JIESU_DATABASE_URL": self.url, "JIESU_LOG_LEVEL": "warning"}
        jiesu = Path(sys.executable).with_name("jiesu")
        out = self.log.open("ab") if self.log else None
        # Its own process group, so kill() takes the workers down with the master.
        self.proc = subprocess.Popen(
            [str(jiesu), "serve", "--port", str(self.port), "--workers", str(self.workers)],
            env=env,
            start_new_session=True,
            stdout=out or subprocess.DEVNULL,
            stderr=subprocess.STDOUT if out else subprocess.DEVNULL,
        )
        if out:
            out.close()  # the child has its own copy
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.base}/api/v1/health", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if self.proc.poll() is not None:
                raise RuntimeError(f"jiesu serve exited with {self.proc.returncode}")
            time.sleep(0.2)
        self.kill()
        raise RuntimeError("jiesu serve did not answer /api/v1/health in time")

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        try:
            os.killpg(self.proc.pid, sig)
        except ProcessLookupError:
            return
        self.proc.wait(timeout=30)

    def token(self, username: str, password: str = "jiesu-demo") -> str:
        resp = httpx.post(
            f"{self.base}/api/v1/auth/token",
            data={"username": username, "password": password},
            timeout=10,
        )
        resp.raise_for_status()
        return str(resp.json()["access_token"])
