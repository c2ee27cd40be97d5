"""One child's life (specs/lifecycle.md): started, joined, run to its end, stopped, timed out.

Each function drives one process of the backend through one situation and returns a frozen
record of what it observed. Nothing here asserts, and nothing raises on a misbehaving
implementation: ``start()`` and ``join()`` are bounded calls (:mod:`harness.supervise`)
whose record says whether they returned; what has ended is read from the OS; every started
process is ended and reaped at the OS level before the function returns.

Attributes that describe an ended child (``exitcode``, ``is_alive()`` after ``join()``) are
read once ``join()`` has returned *and* the OS shows the child has ended (a ``join()`` that
returns early or never is another claim's business: JOIN-001, LIFE-009).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from typing import Any, Optional

from harness import limits, mailbox
from harness.backends import Backend
from harness.child import targets
from harness.scenarios.holding import start_held
from harness.supervise import STOP, Call, Observed, attempt, gave_up, is_alive, supervised


@dataclass(frozen=True)
class Run:
    """One child started, seen running, released, and joined."""

    parent_pid: int
    given_name: Optional[str]
    name_before_start: Observed
    start: Call
    pid_after_start: Observed
    reported_while_running: Optional[dict]
    """What the child posted (``pid``, ``name``) before the parent's go-ahead; None if it did
    not post while the parent waited (bounded)."""
    reported: Optional[dict]
    """What it posted, whenever it did (also later, e.g. after ``join()``)."""
    alive_while_running: Observed
    join: Optional[Call]
    alive_straight_after_join: Observed
    """``is_alive()`` read as soon as ``join()`` returned (None when it did not), before
    the harness waits for the OS to show the child ended."""
    ended: bool
    """The OS showed that the child had ended before the attributes below were read."""
    alive_after_join: Observed
    exitcode_after_join: Observed
    pid_after_join: Observed
    name_after_join: Observed

    @property
    def join_returned(self) -> bool:
        return self.join is not None and self.join.returned


def run_and_join(backend: Backend, name: Optional[str] = None,
                 judge_join: bool = False, linger: float = 0.0) -> Run:
    """Start a child that reports and waits for a go-ahead; read ``is_alive()`` while it
    waits; release it (it then runs ``linger`` s more); ``join()``; read ``is_alive()`` as
    soon as it returned, and the attributes once the child has ended. ``judge_join``: the
    caller owns "join() returns" (it always gets the full slack)."""
    with mailbox.Mailbox() as box, supervised(backend.name) as session:
        started, release = box.slot("started"), box.slot("release")
        kwargs: dict[str, Any] = {"target": targets.hold,
                                  "args": (started, release, backend.name, None, linger,
                                           box.slot("linger"))}
        if name is not None:
            kwargs["name"] = name
        proc = backend.Process(**kwargs)
        name_before_start = attempt(lambda: proc.name)
        start = session.start(proc, report=started)
        if not start.returned:
            return Run(parent_pid=os.getpid(), given_name=name,
                       name_before_start=name_before_start, start=start,
                       pid_after_start=None, reported_while_running=None,
                       reported=mailbox.read(started), alive_while_running=None, join=None,
                       alive_straight_after_join=None, ended=False, alive_after_join=None,
                       exitcode_after_join=None, pid_after_join=None, name_after_join=None)
        pid_after_start = attempt(lambda: proc.pid)
        reported_while_running = (mailbox.read(started) if session.wait_for(started)
                                  else None)
        alive_while_running = is_alive(proc)
        mailbox.post(release, True)
        join = session.join(proc, slack=limits.RETURN_SLACK if judge_join else None,
                            expected_end=time.monotonic() + linger)
        straight_after = is_alive(proc) if join.returned else None
        ended = session.settle()
        return Run(
            parent_pid=os.getpid(),
            given_name=name,
            name_before_start=name_before_start,
            start=start,
            pid_after_start=pid_after_start,
            reported_while_running=reported_while_running,
            reported=reported_while_running or mailbox.read(started),
            alive_while_running=alive_while_running,
            join=join,
            alive_straight_after_join=straight_after,
            ended=ended,
            alive_after_join=is_alive(proc),
            exitcode_after_join=attempt(lambda: proc.exitcode),
            pid_after_join=attempt(lambda: proc.pid),
            name_after_join=attempt(lambda: proc.name),
        )


@dataclass(frozen=True)
class Ending:
    """A child whose target ended in a given way, then was joined."""

    kind: str
    value: Any
    start: Call
    target_ran: bool
    join: Optional[Call]
    ended: bool
    """The OS showed the child had ended (or, for a child no process stands for, its
    ``join()`` returned) before ``exitcode`` was read."""
    alive_after_join: Observed
    exitcode: Observed


def run_to_end(backend: Backend, kind: str, value: Any) -> Ending:
    with mailbox.Mailbox() as box, supervised(backend.name) as session:
        ran = box.slot("ran")
        proc = backend.Process(target=targets.end_as, args=(ran, os.getpid(), kind, value))
        start = session.start(proc, report=ran)
        if not start.returned:
            return Ending(kind=kind, value=value, start=start, target_ran=os.path.exists(ran),
                          join=None, ended=False, alive_after_join=None, exitcode=None)
        join = session.join(proc)
        ended = session.settle() and (join.returned or session.watch.scan().seen)
        exitcode = session.read(lambda: proc.exitcode, join)
        return Ending(kind=kind, value=value, start=start, target_ran=os.path.exists(ran),
                      join=join, ended=ended, alive_after_join=is_alive(proc),
                      exitcode=exitcode)


@dataclass(frozen=True)
class Stopped:
    """A long-running child stopped with ``terminate()`` or ``kill()``, then joined."""

    method: str
    delay: float
    waited_for_start: bool
    start: Call
    has_method: bool
    reported_before_stop: bool
    """The child had posted that it runs its (long) target when the stop was called."""
    existed_at_stop: bool
    """Right after the stop call, the OS showed a process of the scenario (running, ended,
    or reaped) or the child had reported: there was a child to stop."""
    reported: bool
    """The child posted that it ran its target, at any time."""
    call_result: Observed
    ended: bool
    """The OS showed the child had ended within the grace, before ``exitcode`` was read."""
    alive_after_join: Observed
    exitcode: Observed
    join_seconds: float


def run_and_stop(backend: Backend, method: str, delay: float,
                 wait_for_start: bool) -> Stopped:
    """Start a long sleeper; optionally wait until it runs; sleep ``delay``; stop it; join;
    read ``exitcode`` once the OS shows it ended (at most ``limits.SIGNAL_GRACE`` after the
    stop)."""
    with mailbox.Mailbox() as box, supervised(backend.name) as session:
        started = box.slot("started")
        proc = backend.Process(target=targets.sleep_long, args=(started,))
        start = session.start(proc, report=started)

        def record(**fields: Any) -> Stopped:
            base: dict[str, Any] = dict(
                method=method, delay=delay, waited_for_start=wait_for_start, start=start,
                has_method=True, reported_before_stop=False, existed_at_stop=False,
                reported=os.path.exists(started), call_result=None, ended=False,
                alive_after_join=None, exitcode=None, join_seconds=0.0)
            base.update(fields)
            return Stopped(**base)

        if not start.returned:
            return record()
        if wait_for_start and not session.wait_for(started):
            return record()  # the child never ran its target: nothing to stop (LIFE-010)
        time.sleep(delay)
        stop = getattr(proc, method, None)
        if not callable(stop):  # nothing to wait for (billiard has no kill())
            return record(has_method=False, alive_after_join=is_alive(proc),
                          exitcode=attempt(lambda: proc.exitcode))
        reported_before_stop = os.path.exists(started)
        stopped_at = time.monotonic()
        call_result = attempt(stop)
        existed = reported_before_stop or session.watch.scan().seen
        join = session.join(proc, limits.SIGNAL_GRACE, grace=limits.SIGNAL_GRACE, kind=STOP)
        ended = session.settle(limits.SIGNAL_GRACE, since=stopped_at, kind=STOP) and \
            session.watch.scan().seen
        exitcode = session.read(lambda: proc.exitcode, join)
        return record(reported_before_stop=reported_before_stop, existed_at_stop=existed,
                      reported=os.path.exists(started), call_result=call_result,
                      ended=ended, alive_after_join=is_alive(proc), exitcode=exitcode,
                      join_seconds=join.seconds)


@dataclass(frozen=True)
class TimedOutJoin:
    """``join(timeout)`` on a child that is still running (it waits for a go-ahead)."""

    timeout: float
    start: Call
    child_was_running: bool
    join: Optional[Call]
    join_result: Observed
    exitcode_after: Observed
    """Read straight after ``join(timeout)`` returned (or was given up)."""
    alive_after: Observed
    still_running: bool
    """The child took the go-ahead posted after ``join(timeout)``: it still ran then."""

    @property
    def returned_after(self) -> float:
        return 0.0 if self.join is None else self.join.seconds


def join_running_child(backend: Backend, timeout: float) -> TimedOutJoin:
    """Start a child that reports and waits for a go-ahead; once it runs, ``join(timeout)``
    (given up ``timeout`` + slack s after the call); read ``exitcode``; post the go-ahead;
    see whether the child takes it."""
    with mailbox.Mailbox() as box, supervised(backend.name) as session:
        held = start_held(backend, box, session)
        proc, start, release, released = held.proc, held.start, held.release, held.released
        if not held.running:
            return TimedOutJoin(timeout=timeout, start=start, child_was_running=False,
                                join=None, join_result=None, exitcode_after=None,
                                alive_after=None, still_running=False)
        join = session.join(proc, timeout,
                            bound=time.monotonic() + timeout + session.slack("join"))
        if not join.returned:
            gave_up(backend.name, "join", join.why)
        exitcode_after = attempt(lambda: proc.exitcode)
        alive_after = is_alive(proc)
        mailbox.post(release, True)
        still_running = session.wait_for(released, what="report of the go-ahead")
        session.join(proc)
        return TimedOutJoin(timeout=timeout, start=start, child_was_running=True, join=join,
                            join_result=join.result if join.returned else None,
                            exitcode_after=exitcode_after, alive_after=alive_after,
                            still_running=still_running)
