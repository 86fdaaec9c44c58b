"""Registrations of the JSON API committed in groups: each server process has one registrar
thread that takes every registration waiting and hands them, as one group, to
`cases/registration.register_cases` — the path every channel takes (docs/architecture.md).

Under load most of a registration's cost is fixed per transaction and per statement (BEGIN,
one INSERT each for the case, its event and the SMS, COMMIT); a group of N shares them. A group
is never held back to fill: the registrar takes what has arrived while it was busy with the
previous group, so a lone registration goes at once and a busy server forms groups by itself;
under load (the last group had more than one) it also waits a moment
(JIESU_REGISTER_LINGER_MS, 1 ms) for more, as a bigger group costs less each.

What stays true (register_cases keeps the rest: each registration checked on its own, a failed
group tried one by one, siblings offered as duplicates, Idempotency-Keys within and across
groups):
- a registration is answered only after the transaction holding its case has committed: an
  acknowledged request is never lost; every caller of a group is answered, even if the
  registrar itself fails, and the thread goes on for the next;
- a registration whose client went away before the registrar took it is not stored.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from jiesu.cases import registration
from jiesu.cases.registration import Registered, Registration
from jiesu.clock import Clock
from jiesu.uow import UnitOfWork

log = logging.getLogger(__name__)

# A registrar thread with nothing to do for this long ends; the next registration starts one.
IDLE_SECONDS = 2.0


@dataclass
class _Job:
    request: Registration
    future: Future[Registered]
    # An event loop's caller (`register`) waits on an asyncio future of its loop, settled from
    # `future` once the group is done: one wake-up of the loop per group, not one per job.
    loop: asyncio.AbstractEventLoop | None = None
    waiter: asyncio.Future[Registered] | None = None


class Registrar:
    def __init__(
        self, factory: sessionmaker[Session], clock: Clock, max_group: int, linger: float = 0.0
    ) -> None:
        self._factory = factory
        self._clock = clock
        self._max_group = max(1, max_group)
        self._linger = max(0.0, linger)
        self._last_group = 1
        self._jobs: queue.SimpleQueue[_Job] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    async def register(self, request: Registration) -> Registered:
        """Register one case; answers once it has committed (or raises what it would alone)."""
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[Registered] = loop.create_future()
        job = _Job(request, Future(), loop, waiter)
        self._put(job)
        try:
            return await waiter
        except asyncio.CancelledError:
            # The caller has gone: the registrar drops the job unless it has started on it.
            job.future.cancel()
            raise

    def submit(self, request: Registration) -> Future[Registered]:
        job = _Job(request, Future())
        self._put(job)
        return job.future

    def _put(self, job: _Job) -> None:
        with self._lock:
            self._jobs.put(job)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="registrar", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while True:
            try:
                first = self._jobs.get(timeout=IDLE_SECONDS)
            except queue.Empty:
                with self._lock:
                    if self._jobs.empty():
                        self._thread = None
                        return
                continue
            group = [first]
            # Under load (the last group was not alone) wait a moment for more: a bigger group
            # costs less per registration. A lone registration never waits.
            linger = self._linger if self._last_group > 1 else 0.0
            deadline = time.monotonic() + linger
            while len(group) < self._max_group:
                try:
                    wait = deadline - time.monotonic()
                    job = self._jobs.get(timeout=wait) if wait > 0 else self._jobs.get_nowait()
                except queue.Empty:
                    break
                group.append(job)
            self._last_group = len(group)
            # A job whose caller has gone (cancelled) is dropped before any work is done.
            group = [j for j in group if j.future.set_running_or_notify_cancel()]
            try:
                self._process(group)
            except Exception as exc:
                # A fault of the registrar itself must not leave its callers waiting, nor
                # stop the thread that later registrations wait on.
                log.exception("the registrar failed on a group of %d", len(group))
                for job in group:
                    if not job.future.done():
                        job.future.set_exception(exc)
            _wake(group)

    def _process(self, group: list[_Job]) -> None:
        if not group:
            return
        with UnitOfWork(self._factory) as uow:
            outcomes = registration.register_cases(uow, self._clock, [j.request for j in group])
        for job, outcome in zip(group, outcomes, strict=True):
            if isinstance(outcome, BaseException):
                job.future.set_exception(outcome)
            else:
                job.future.set_result(outcome)


def _wake(group: list[_Job]) -> None:
    """Hand each event loop its callers' answers, in one call per loop."""
    by_loop: dict[asyncio.AbstractEventLoop, list[_Job]] = {}
    for job in group:
        if job.loop is not None:
            by_loop.setdefault(job.loop, []).append(job)
    for loop, jobs in by_loop.items():
        with contextlib.suppress(RuntimeError):  # a closed loop: no one is waiting any more
            loop.call_soon_threadsafe(_settle, jobs)


def _settle(jobs: list[_Job]) -> None:
    for job in jobs:
        waiter = job.waiter
        if waiter is None or waiter.done():  # cancelled meanwhile
            continue
        if not job.future.done():  # never so: every job of a group is answered before _wake
            waiter.set_exception(RuntimeError("the registrar gave no answer"))
            continue
        exc = job.future.exception()
        if exc is not None:
            waiter.set_exception(exc)
        else:
            waiter.set_result(job.future.result())
