"""Lifecycle scenarios (specs/lifecycle.md): act out start, names, pid, exit, terminate.

Each function drives one process of the backend through one situation and returns a frozen
record of what it observed. Nothing here asserts; every wait is bounded; every started
process is reaped before the function returns.
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass
from typing import Any, Optional

from harness import children, limits, mailbox
from harness.backends import Backend
from harness.supervise import Observed, attempt, is_alive, run_program, supervised, timed_join


@dataclass(frozen=True)
class Unstarted:
    """A process object that was created and never started."""

    pid: Observed
    exitcode: Observed
    alive: Observed


def observe_unstarted(backend: Backend) -> Unstarted:
    proc = backend.Process(target=children.noop)
    return Unstarted(
        pid=attempt(lambda: proc.pid),
        exitcode=attempt(lambda: proc.exitcode),
        alive=is_alive(proc),
    )


@dataclass(frozen=True)
class Misuse:
    """What calls out of order did: ``None`` when the call raised nothing."""

    join_before_start: Observed
    second_start: Observed


def observe_misuse(backend: Backend) -> Misuse:
    proc = backend.Process(target=children.noop)
    join_before_start = attempt(lambda: proc.join(limits.JOIN_GRACE))
    with mailbox.Mailbox() as box:
        started, release = box.slot("started"), box.slot("release")
        proc = backend.Process(target=children.hold, args=(started, release, backend.name))
        with supervised(proc):
            proc.start()
            second_start = attempt(proc.start)
            mailbox.post(release, True)
            timed_join(proc, limits.JOIN_GRACE)
    return Misuse(join_before_start=join_before_start, second_start=second_start)


@dataclass(frozen=True)
class Run:
    """One child started, seen running, released, and joined."""

    parent_pid: int
    given_name: Optional[str]
    name_before_start: Observed
    pid_after_start: Observed
    reported: Optional[dict]
    """What the child posted about itself (``pid``, ``name``), or None if it never did."""
    alive_while_running: Observed
    join_returned: bool
    """``join()`` returned (within the grace) and the process is no longer alive."""
    alive_after_join: Observed
    exitcode_after_join: Observed
    pid_after_join: Observed
    name_after_join: Observed


def run_and_join(backend: Backend, name: Optional[str] = None) -> Run:
    with mailbox.Mailbox() as box:
        started, release = box.slot("started"), box.slot("release")
        kwargs: dict[str, Any] = {"target": children.hold,
                                  "args": (started, release, backend.name)}
        if name is not None:
            kwargs["name"] = name
        proc = backend.Process(**kwargs)
        with supervised(proc):
            name_before_start = attempt(lambda: proc.name)
            proc.start()
            pid_after_start = attempt(lambda: proc.pid)
            reported = mailbox.read(started) if mailbox.wait_for(
                started, limits.START_GRACE) else None
            alive_while_running = is_alive(proc)
            mailbox.post(release, True)
            _, _, _ = timed_join(proc, limits.JOIN_GRACE)
            alive_after_join = is_alive(proc)
            return Run(
                parent_pid=os.getpid(),
                given_name=name,
                name_before_start=name_before_start,
                pid_after_start=pid_after_start,
                reported=reported,
                alive_while_running=alive_while_running,
                join_returned=alive_after_join is False,
                alive_after_join=alive_after_join,
                exitcode_after_join=attempt(lambda: proc.exitcode),
                pid_after_join=attempt(lambda: proc.pid),
                name_after_join=attempt(lambda: proc.name),
            )


@dataclass(frozen=True)
class Ending:
    """A child whose target ended in a given way, then was joined."""

    kind: str
    value: Any
    target_ran: bool
    alive_after_join: Observed
    exitcode: Observed


def run_to_end(backend: Backend, kind: str, value: Any) -> Ending:
    with mailbox.Mailbox() as box:
        ran = box.slot("ran")
        proc = backend.Process(target=children.end_as, args=(ran, os.getpid(), kind, value))
        with supervised(proc):
            proc.start()
            timed_join(proc, limits.JOIN_GRACE)
            return Ending(kind=kind, value=value, target_ran=os.path.exists(ran),
                          alive_after_join=is_alive(proc),
                          exitcode=attempt(lambda: proc.exitcode))


@dataclass(frozen=True)
class Stopped:
    """A long-running child stopped with ``terminate()`` or ``kill()``, then joined."""

    method: str
    delay: float
    waited_for_start: bool
    has_method: bool
    call_result: Observed
    alive_after_join: Observed
    exitcode: Observed
    join_seconds: float


def run_and_stop(backend: Backend, method: str, delay: float,
                 wait_for_start: bool) -> Stopped:
    """Start a long sleeper; optionally wait until it runs; sleep ``delay``; stop it."""
    with mailbox.Mailbox() as box:
        started = box.slot("started")
        proc = backend.Process(target=children.sleep_long, args=(started,))
        with supervised(proc):
            proc.start()
            if wait_for_start:
                mailbox.wait_for(started, limits.START_GRACE)
            time.sleep(delay)
            stop = getattr(proc, method, None)
            if not callable(stop):  # nothing to wait for (billiard has no kill())
                return Stopped(method=method, delay=delay, waited_for_start=wait_for_start,
                               has_method=False, call_result=None,
                               alive_after_join=is_alive(proc),
                               exitcode=attempt(lambda: proc.exitcode), join_seconds=0.0)
            call_result = attempt(stop)
            before, after, _ = timed_join(proc, limits.SIGNAL_GRACE)
            return Stopped(method=method, delay=delay, waited_for_start=wait_for_start,
                           has_method=True, call_result=call_result,
                           alive_after_join=is_alive(proc),
                           exitcode=attempt(lambda: proc.exitcode),
                           join_seconds=after - before)


@dataclass(frozen=True)
class TimedOutJoin:
    """``join(timeout)`` on a child that is still running."""

    timeout: float
    child_was_running: bool
    returned_after: float
    join_result: Observed
    alive_after: Observed
    exitcode_after: Observed


def join_running_child(backend: Backend, timeout: float) -> TimedOutJoin:
    with mailbox.Mailbox() as box:
        started, release = box.slot("started"), box.slot("release")
        proc = backend.Process(target=children.hold, args=(started, release, backend.name))
        with supervised(proc):
            proc.start()
            running = mailbox.wait_for(started, limits.START_GRACE)
            before, after, result = timed_join(proc, timeout)
            record = TimedOutJoin(timeout=timeout, child_was_running=running,
                                  returned_after=after - before, join_result=result,
                                  alive_after=is_alive(proc),
                                  exitcode_after=attempt(lambda: proc.exitcode))
            mailbox.post(release, True)
            timed_join(proc, limits.JOIN_GRACE)
            return record


@dataclass(frozen=True)
class DefaultNames:
    """Names of freshly created (unstarted) process objects, in creation order."""

    class_name: str
    names: tuple[str, ...]


def default_names(backend: Backend, count: int) -> DefaultNames:
    procs = [backend.Process(target=children.noop) for _ in range(count)]
    return DefaultNames(class_name=type(procs[0]).__name__,
                        names=tuple(str(p.name) for p in procs))


@dataclass(frozen=True)
class Grandchild:
    """A child with a default name creates a process of the same class."""

    child_name: Observed
    reported: Optional[dict]
    exitcode: Observed


def child_creates_grandchild(backend: Backend) -> Grandchild:
    with mailbox.Mailbox() as box:
        path = box.slot("names")
        proc = backend.Process(target=children.report_grandchild_name,
                               args=(path, backend.name))
        with supervised(proc):
            child_name = attempt(lambda: proc.name)
            proc.start()
            timed_join(proc, limits.JOIN_GRACE)
            return Grandchild(child_name=child_name, reported=mailbox.read(path),
                              exitcode=attempt(lambda: proc.exitcode))


@dataclass(frozen=True)
class ProgramRun:
    """A separate interpreter whose main code ends while its child still works."""

    child_seconds: float
    returncode: Optional[int]
    timed_out: bool
    events: tuple[tuple[str, float], ...]
    """``(event, time.monotonic())`` lines the program printed, in output order."""
    stderr: str


def run_program_whose_main_finishes_first(backend: Backend,
                                          child_seconds: float) -> ProgramRun:
    """Run ``python -m harness.early_main`` in its own session; kill the group if hung."""
    cmd = [sys.executable, "-m", "harness.early_main", backend.name, repr(child_seconds)]
    run = run_program(cmd, timeout=child_seconds + limits.JOIN_GRACE)
    events = []
    for line in run.stdout.splitlines():
        event, _, stamp = line.rpartition(" ")
        try:
            events.append((event, float(stamp)))
        except ValueError:
            events.append((line, float("nan")))
    return ProgramRun(child_seconds=child_seconds, returncode=run.returncode,
                      timed_out=run.timed_out, events=tuple(events), stderr=run.stderr[-2000:])
