"""Join-timing scenarios (specs/join-timing.md): start N sleepers, join them, keep the clock.

Every timestamp is ``time.monotonic()``, which is one clock for every process on a Linux
machine, so the parent's stamps (around ``start()`` and ``join()``) and the children's
(when each target began and ended, posted through :mod:`harness.mailbox`) can be compared
directly. Nothing here asserts; every wait is bounded; every started process is reaped.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass
from typing import Any, Optional, Sequence

from harness import limits, mailbox
from harness.backends import Backend
from harness.supervise import Observed, attempt, is_alive, supervised, timed_join

# --- child targets (module level: importable under spawn and forkserver) ----------------

def sleep_and_stamp(path: str, seconds: float) -> None:
    """Sleep ``seconds``; post ``(began, ended)``, both ``time.monotonic()``."""
    began = time.monotonic()
    if seconds > 0:
        time.sleep(seconds)
    ended = time.monotonic()
    mailbox.post(path, (began, ended))


def post_then_sleep(path: str, seconds: float) -> None:
    """Post that we run, then sleep ``seconds`` (a bounded "long" child)."""
    mailbox.post(path, time.monotonic())
    time.sleep(seconds)


# --- N sleepers, started together, joined in a given order ------------------------------

@dataclass(frozen=True)
class ChildTimes:
    """One child of a :class:`JoinRun`: what it was asked to do and every stamp around it."""

    duration: float
    start_call: float
    """Parent: just before this child's ``start()``."""
    start_return: float
    """Parent: just after it."""
    began: Optional[float]
    """Child: when its target began (None: the child never reported)."""
    ended: Optional[float]
    """Child: when its target had slept ``duration`` (just before it posted the report)."""
    join_call: float
    join_return: float
    join_result: Observed
    alive_after_join: Observed
    exitcode_after_join: Observed
    """Read straight after this child's ``join()`` returned, before any other join."""

    @property
    def join_seconds(self) -> float:
        return self.join_return - self.join_call

    @property
    def join_lateness(self) -> Optional[float]:
        """How long after its child's end (or after the call, if later) join() returned."""
        if self.ended is None:
            return None
        return self.join_return - max(self.join_call, self.ended)


@dataclass(frozen=True)
class JoinRun:
    """N children started one after another, then joined in ``order``."""

    backend: str
    durations: tuple[float, ...]
    order: tuple[int, ...]
    """Indices (in start order) in the order their ``join()`` was called."""
    t0: float
    """Parent: just before the first ``start()``."""
    children: tuple[ChildTimes, ...]
    """In start order."""

    @property
    def total(self) -> float:
        """From just before the first ``start()`` to the last ``join()``'s return."""
        return max(c.join_return for c in self.children) - self.t0

    @property
    def all_reported(self) -> bool:
        return all(c.ended is not None for c in self.children)

    @property
    def last_to_end(self) -> Optional[int]:
        """Index of the child whose target ended last (by its own stamp)."""
        if not self.all_reported:
            return None
        return max(range(len(self.children)), key=lambda i: self.children[i].ended or 0.0)

    @property
    def start_seconds(self) -> float:
        """From just before the first ``start()`` to just after the last one."""
        return self.children[-1].start_return - self.t0


def run_and_join(backend: Backend, durations: Sequence[float],
                 order: Optional[Sequence[int]] = None) -> JoinRun:
    """Start one sleeper per duration (in that order), then join them in ``order``.

    ``order`` defaults to start order. Every join is bounded: the run gives up on a child
    ``limits.JOIN_GRACE`` seconds after the longest duration would have ended.
    """
    durations = tuple(float(d) for d in durations)
    order = tuple(range(len(durations))) if order is None else tuple(order)
    if sorted(order) != list(range(len(durations))):
        raise ValueError(f"order {order!r} is not a permutation of the children")
    with mailbox.Mailbox() as box, contextlib.ExitStack() as stack:
        slots = [box.slot(f"child-{i}") for i in range(len(durations))]
        procs = [backend.Process(target=sleep_and_stamp, args=(slot, d))
                 for slot, d in zip(slots, durations)]
        for proc in procs:
            stack.enter_context(supervised(proc))
        starts: list[tuple[float, float]] = []
        t0 = time.monotonic()
        for proc in procs:
            before = time.monotonic()
            proc.start()
            starts.append((before, time.monotonic()))
        deadline = t0 + max(durations, default=0.0) + limits.JOIN_GRACE
        joins = {i: _join_and_look(procs[i], max(0.0, deadline - time.monotonic()))
                 for i in order}
        children = []
        for i, (slot, d) in enumerate(zip(slots, durations)):
            stamps = mailbox.read(slot)
            began, ended = stamps if stamps is not None else (None, None)
            call, ret, result, alive, exitcode = joins[i]
            children.append(ChildTimes(
                duration=d, start_call=starts[i][0], start_return=starts[i][1],
                began=began, ended=ended, join_call=call, join_return=ret,
                join_result=result, alive_after_join=alive, exitcode_after_join=exitcode))
        return JoinRun(backend=backend.name, durations=durations, order=order, t0=t0,
                       children=tuple(children))


def _join_and_look(proc: Any, timeout: float
                   ) -> tuple[float, float, Observed, Observed, Observed]:
    """(before, after, result) of a bounded join(), then is_alive() and exitcode at once."""
    before, after, result = timed_join(proc, timeout)
    return before, after, result, is_alive(proc), attempt(lambda: proc.exitcode)


# --- join(timeout) on a child that is still running ----------------------------------

@dataclass(frozen=True)
class TimeoutJoin:
    """``join(timeout)`` on a running child that would run ``child_seconds`` more."""

    timeout: float
    child_seconds: float
    child_was_running: bool
    returned_after: float
    join_result: Observed
    alive_after: Observed
    exitcode_after: Observed


def join_running_child(backend: Backend, timeout: float,
                       child_seconds: float) -> TimeoutJoin:
    """Start a child, wait (bounded) until it runs, then time ``join(timeout)``.

    The child sleeps ``child_seconds`` (bounded, unlike LIFE-018's scenario, whose child
    waits for a go-ahead): a ``join(timeout)`` that wrongly blocks until the child ends then
    shows as a call of about ``child_seconds``, instead of hanging the run. The child is
    killed afterwards.
    """
    with mailbox.Mailbox() as box:
        started = box.slot("started")
        proc = backend.Process(target=post_then_sleep, args=(started, child_seconds))
        with supervised(proc):
            proc.start()
            running = mailbox.wait_for(started, limits.START_GRACE)
            before, after, result = timed_join(proc, timeout)
            return TimeoutJoin(timeout=timeout, child_seconds=child_seconds,
                               child_was_running=running, returned_after=after - before,
                               join_result=result, alive_after=is_alive(proc),
                               exitcode_after=attempt(lambda: proc.exitcode))
