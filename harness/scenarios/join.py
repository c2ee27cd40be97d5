"""Join-timing scenarios (specs/join-timing.md): start N sleepers, join them, keep the clock.

Every timestamp is ``time.monotonic()``, which is one clock for every process on a Linux
machine, so the parent's stamps (around ``start()`` and ``join()``) and the children's
(when each target began and ended, posted through :mod:`harness.mailbox`) can be compared
directly. ``start()`` and ``join()`` are bounded calls made in a helper thread
(:mod:`harness.supervise`), stamped in that thread just before and just after the call, and
recorded as not returned when the OS shows they should have. Nothing here asserts; every
started process is ended and reaped at the OS level.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Optional, Sequence

from harness import figures, mailbox
from harness.backends import Backend
from harness.child import targets
from harness.supervise import Call, Observed, Session, attempt, is_alive, supervised

# --- N sleepers, started together, joined in a given order ------------------------------

@dataclass(frozen=True)
class ChildTimes:
    """One child of a :class:`JoinRun`: what it was asked to do and every stamp around it."""

    duration: float
    start_call: Optional[float]
    """Parent: just before this child's ``start()`` (None: never called, an earlier
    ``start()`` did not return)."""
    start_return: Optional[float]
    """Parent: just after it (or when the harness stopped waiting for it)."""
    start_returned: bool
    began: Optional[float]
    """Child: when its target began (None: the child never reported)."""
    ended: Optional[float]
    """Child: when its target had slept ``duration`` (just before it posted the report)."""
    join_call: Optional[float]
    """Parent: just before this child's ``join()`` (None: never called)."""
    join_return: Optional[float]
    """Parent: just after ``join()`` returned; when it did not (``join_returned`` False),
    when the harness stopped waiting for it."""
    join_returned: bool
    join_result: Observed
    alive_after_join: Observed
    exitcode_after_join: Observed
    """Read straight after this child's ``join()`` returned, before any other join."""
    join_why: str = ""
    """Why the harness stopped waiting for ``join()`` (when it did not return)."""

    @property
    def join_seconds(self) -> float:
        if self.join_call is None or self.join_return is None:
            return float("nan")
        return self.join_return - self.join_call

    @property
    def join_lateness(self) -> Optional[float]:
        """How long after its child's end (or after the call, if later) join() returned; for
        a join() that did not return, how long the harness waited (a lower bound)."""
        if self.ended is None or self.join_call is None or self.join_return is None:
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
    def all_started(self) -> bool:
        """Every ``start()`` was called and returned."""
        return all(c.start_returned for c in self.children)

    @property
    def first_unreturned_start(self) -> Optional[int]:
        for i, c in enumerate(self.children):
            if not c.start_returned:
                return i
        return None

    @property
    def all_joined(self) -> bool:
        return all(c.join_returned for c in self.children)

    @property
    def waits_outlived(self) -> tuple[int, ...]:
        """Children whose ``join()`` the harness stopped waiting for before their own
        target had ended (their end stamp is later): a join() that has not returned while
        its child runs is right, and whether it would have returned promptly after the end
        is unknown, so JOIN-003/004 do not judge it. Seen in the controls proof under load:
        lock-serialized's children take turns, and a later one ended after a wait that the
        run had shortened for that subject (harness.patience)."""
        return tuple(i for i, c in enumerate(self.children)
                     if not c.join_returned and c.ended is not None
                     and c.join_return is not None and c.ended > c.join_return)

    @property
    def total(self) -> float:
        """From just before the first ``start()`` to the last ``join()``'s return (or to when
        the harness stopped waiting for it)."""
        ends = [c.join_return for c in self.children if c.join_return is not None]
        ends += [c.start_return for c in self.children if c.start_return is not None]
        return max(ends, default=self.t0) - self.t0

    @property
    def work_total(self) -> Optional[float]:
        """From just before the first ``start()`` to the end of the child that ended last
        (its own stamp): how long the children took to do their work, start-up and any
        serialization inside ``start()`` or ``join()`` included, ``join()``'s own return
        latency (JOIN-003's business) not. None when a child never reported."""
        if not self.all_reported:
            return None
        return max(c.ended or 0.0 for c in self.children) - self.t0

    @property
    def all_reported(self) -> bool:
        return all(c.ended is not None for c in self.children)

    @property
    def one_after_another(self) -> bool:
        """Two or more children, no two of whose work intervals overlap (by their own stamps:
        each began only after another had ended, in whatever order), and the total at least
        their sum: they ran one after another, which no scheduling noise does to a
        concurrent implementation."""
        if len(self.children) < 2 or not self.all_reported:
            return False
        spans = sorted((c.began or 0.0, c.ended or 0.0) for c in self.children)
        for (_, before_end), (after_began, _) in zip(spans, spans[1:]):
            if after_began < before_end:
                return False
        return (self.work_total or 0.0) >= sum(self.durations)

    @property
    def last_to_end(self) -> Optional[int]:
        """Index of the child whose target ended last (by its own stamp)."""
        if not self.all_reported:
            return None
        return max(range(len(self.children)), key=lambda i: self.children[i].ended or 0.0)

    @property
    def start_seconds(self) -> float:
        """From just before the first ``start()`` to just after the last one."""
        return (self.children[-1].start_return or self.t0) - self.t0

    def figure(self) -> dict[str, Any]:
        """This run as plain data for the report (harness.figures, harness.pictures): times
        in seconds from ``t0``; ``bars``: per child, [start call, began, ended, join's
        return] (a call never made is drawn at the end of the run)."""
        end = self.total

        def rel(value: Optional[float], missing: Optional[float] = None) -> Optional[float]:
            return missing if value is None else round(value - self.t0, 6)

        return {"backend": self.backend, "durations": list(self.durations),
                "order": list(self.order), "total": round(end, 6),
                "work_total": None if self.work_total is None else round(self.work_total, 6),
                "bars": [[rel(c.start_call, end), rel(c.began), rel(c.ended),
                          rel(c.join_return, end)] for c in self.children]}


def run_sleepers(backend: Backend, durations: Sequence[float],
                 order: Optional[Sequence[int]] = None,
                 join_slack: Optional[float] = None, publish: bool = True) -> JoinRun:
    """Start one sleeper per duration (in that order), then join them in ``order``; the run
    is published for the report (harness.figures, as ``join_runs``) unless ``publish`` is
    False (the timing model's calibration runs of the reference implementation).

    ``order`` defaults to start order. Every call is bounded: a ``start()`` is given up
    once its child ran and it still had not returned (then no later child is started and
    nothing is joined); a ``join()`` ``join_slack`` s (default: the session's slack) after
    the OS shows every child ended, or ``limits.JOIN_GRACE`` s after its child should have
    ended.
    """
    durations = tuple(float(d) for d in durations)
    order = tuple(range(len(durations))) if order is None else tuple(order)
    if sorted(order) != list(range(len(durations))):
        raise ValueError(f"order {order!r} is not a permutation of the children")
    with mailbox.Mailbox() as box, supervised(backend.name) as session:
        slots = [box.slot(f"child-{i}") for i in range(len(durations))]
        procs = [backend.Process(target=targets.sleep_and_stamp, args=(slot, d))
                 for slot, d in zip(slots, durations)]
        starts: list[Call] = []
        t0 = time.monotonic()
        for proc, slot in zip(procs, slots):
            starts.append(session.start(proc, report=slot))
            if not starts[-1].returned:
                break
        joins: dict[int, tuple[Call, Observed, Observed]] = {}
        if len(starts) == len(procs) and all(call.returned for call in starts):
            for i in order:
                joins[i] = _join_and_look(session, procs[i], t0 + durations[i], join_slack)
        session.settle(since=t0 + max(durations, default=0.0))  # the stamps are all posted
        children = []
        for i, (slot, d) in enumerate(zip(slots, durations)):
            stamps = mailbox.read(slot)
            began, ended = stamps if stamps is not None else (None, None)
            start = starts[i] if i < len(starts) else None
            join, alive, exitcode = joins.get(i, (None, None, None))
            children.append(ChildTimes(
                duration=d,
                start_call=None if start is None else start.called,
                start_return=None if start is None else start.ended,
                start_returned=start is not None and start.returned,
                began=began, ended=ended,
                join_call=None if join is None else join.called,
                join_return=None if join is None else join.ended,
                join_returned=join is not None and join.returned,
                join_result=None if join is None else join.result,
                alive_after_join=alive, exitcode_after_join=exitcode,
                join_why="" if join is None else join.why))
        run = JoinRun(backend=backend.name, durations=durations, order=order, t0=t0,
                      children=tuple(children))
        if publish:
            figures.publish("join_runs", run.figure())
        return run


def _join_and_look(session: Session, proc: Any, expected_end: float,
                   slack: Optional[float]) -> tuple[Call, Observed, Observed]:
    """A bounded join(), then is_alive() and exitcode at once."""
    call = session.join(proc, slack=slack, expected_end=expected_end)
    return call, is_alive(proc), attempt(lambda: proc.exitcode)


# --- join(timeout) on a child that is still running ----------------------------------

@dataclass(frozen=True)
class TimeoutJoin:
    """``join(timeout)`` on a running child that would run ``child_seconds`` more."""

    timeout: float
    child_seconds: float
    start: Call
    child_was_running: bool
    join: Optional[Call]
    join_result: Observed
    alive_after: Observed
    exitcode_after: Observed

    @property
    def returned(self) -> bool:
        return self.join is not None and self.join.returned

    @property
    def returned_after(self) -> float:
        """Seconds from the call to its return (or to when the harness stopped waiting)."""
        return 0.0 if self.join is None else self.join.seconds


def join_sleeper_with_timeout(backend: Backend, timeout: float, child_seconds: float,
                              give_up_after: Optional[float] = None) -> TimeoutJoin:
    """Start a child, wait (bounded) until it runs, then time ``join(timeout)``.

    The child sleeps ``child_seconds`` (bounded, unlike LIFE-018's scenario, whose child
    waits for a go-ahead): a ``join(timeout)`` that wrongly blocks until the child ends then
    shows as a call of about ``child_seconds``, instead of hanging the run. The harness
    stops waiting for the call ``give_up_after`` s after it (default ``timeout`` + slack):
    a claim that bounds the call passes its bound. The child is killed afterwards.
    """
    with mailbox.Mailbox() as box, supervised(backend.name) as session:
        started = box.slot("started")
        proc = backend.Process(target=targets.post_then_sleep, args=(started, child_seconds))
        start = session.start(proc, report=started)
        running = start.returned and session.wait_for(started)
        if not running:
            return TimeoutJoin(timeout=timeout, child_seconds=child_seconds, start=start,
                               child_was_running=False, join=None, join_result=None,
                               alive_after=None, exitcode_after=None)
        after = timeout + session.slack("join") if give_up_after is None else give_up_after
        join = session.join(proc, timeout, bound=time.monotonic() + after)
        return TimeoutJoin(timeout=timeout, child_seconds=child_seconds, start=start,
                           child_was_running=True, join=join,
                           join_result=join.result if join.returned else None,
                           alive_after=is_alive(proc),
                           exitcode_after=attempt(lambda: proc.exitcode))
