"""`jiesu serve --workers N`: N uvicorn worker processes, each with a listening socket of its
own on the same port (SO_REUSEPORT), so the kernel spreads new connections evenly over them.

With one shared socket (uvicorn's own `--workers`), whichever worker wakes first accepts every
connection waiting, so a burst of keep-alive connections — a load balancer's pool, a load test
— lands on one worker and the others idle (bench/serve/RESULTS.md measured it). Here each
worker has its socket; the supervisor holds all of them, so connections queue while a worker
restarts, and it starts a new worker on the same socket when one dies. SIGINT or SIGTERM stops
the workers and then the supervisor; a worker whose supervisor was killed stops by itself.
With one worker, or where the system has no SO_REUSEPORT, it is uvicorn as usual.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import socket
import threading
import time
from multiprocessing.process import BaseProcess
from types import FrameType
from typing import Any

import uvicorn

log = logging.getLogger("jiesu.serve")
APP = "jiesu.app:create_app"
BACKLOG = 2048


def _listener(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.listen(BACKLOG)
    sock.set_inheritable(True)
    return sock


def _worker(options: dict[str, Any], sock: socket.socket) -> None:  # pragma: no cover
    # Runs in the worker process (spawned, so it imports the app afresh).
    threading.Thread(target=_follow_parent, args=(os.getppid(),), daemon=True).start()
    config = uvicorn.Config(APP, factory=True, **options)
    uvicorn.Server(config).run(sockets=[sock])


def _follow_parent(parent: int) -> None:  # pragma: no cover
    """A worker whose supervisor is gone (killed with SIGKILL, so it could not stop them) stops
    too, finishing the requests it holds: orphans would keep accepting on the port beside the
    next server's workers."""
    while os.getppid() == parent:
        time.sleep(1.0)
    os.kill(os.getpid(), signal.SIGTERM)


def serve(host: str, port: int, workers: int, log_level: str) -> None:
    options: dict[str, Any] = {"proxy_headers": False, "log_level": log_level}
    if workers == 1 or not hasattr(socket, "SO_REUSEPORT"):
        uvicorn.run(APP, factory=True, host=host, port=port, workers=workers, **options)
        return
    logging.basicConfig(level=log_level.upper(), format="%(levelname)s:     %(message)s")
    ctx = multiprocessing.get_context("spawn")
    sockets = [_listener(host, port) for _ in range(workers)]
    stop = threading.Event()

    def start(i: int) -> BaseProcess:
        proc = ctx.Process(target=_worker, args=(options, sockets[i]), name=f"jiesu-worker-{i}")
        proc.start()
        return proc

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    procs = [start(i) for i in range(workers)]
    log.info("%d workers on http://%s:%d, one socket each", workers, host, port)
    while not stop.wait(0.5):
        for i, proc in enumerate(procs):
            if not proc.is_alive():
                log.warning(
                    "worker %d (pid %s) exited with %s; starting another",
                    i,
                    proc.pid,
                    proc.exitcode,
                )
                procs[i] = start(i)
    for proc in procs:
        proc.terminate()
    for proc in procs:
        proc.join(timeout=30)
    for sock in sockets:
        sock.close()
