"""A child's own children (specs/children.md KIDS-015..017): a child that starts and joins
a child of its own, and a grandchild that outlives its terminated parent. Records only.

A grandchild left running by its terminated parent is an orphan: it leaves this process's
tree (the OS gives it to init), so the scenario makes this process the subreaper of its
descendants while it runs (:mod:`harness.supervise.subreaper`): the orphan comes back here,
the session's watch sees it, and it is ended and reaped with the scenario's other
processes.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from typing import Any, Optional

from harness import limits, mailbox
from harness.backends import Backend
from harness.child import family_targets
from harness.supervise import STOP, Call, Observed, attempt, descendants, supervised
from harness.supervise.subreaper import end_adopted, orphans_come_back
from harness.supervise.watch import _stat


@dataclass(frozen=True)
class Nested:
    """A child that started and joined a child of its own, joined in turn."""

    start: Call
    reported: Optional[dict]
    """What the child posted: ``start_raised``, ``join_raised``, ``alive_after_join``,
    ``exitcode`` and ``grandchild_pid`` of its own child."""
    grandchild_ran: Optional[int]
    """The pid the grandchild's target posted (None if it never ran)."""
    ended: bool
    """The OS showed every process of the scenario ended."""
    exitcode: Observed
    """The child's exit code, read once it ended."""


def child_starts_and_joins_a_child(backend: Backend) -> Nested:
    """A child whose target starts, joins (bounded) and reports a child of its own."""
    with mailbox.Mailbox() as box, supervised(backend.name) as session:
        report, ran = box.slot("report"), box.slot("grandchild")
        proc = backend.Process(target=family_targets.start_and_join_a_child,
                               args=(report, ran, backend.name))
        start = session.start(proc, report=report)
        if not start.returned:
            return Nested(start=start, reported=None, grandchild_ran=None, ended=False,
                          exitcode=None)
        session.wait_for(report, grace=limits.START_GRACE + limits.JOIN_GRACE)
        join = session.join(proc)
        ended = session.settle() and session.watch.scan().seen
        return Nested(start=start, reported=mailbox.read(report),
                      grandchild_ran=mailbox.read(ran), ended=ended,
                      exitcode=session.read(lambda: proc.exitcode, join))


@dataclass(frozen=True)
class Orphaned:
    """A child with a running child of its own, terminated; then the grandchild given a
    go-ahead."""

    start: Call
    subreaper: bool
    """Orphans came back to this process (Linux): the scenario could follow the grandchild."""
    reported: Optional[dict]
    """What the child posted once its own child ran: ``pid``, ``start_raised``,
    ``grandchild`` (the grandchild's pid)."""
    terminate: Observed
    child_ended: bool
    """The OS showed the child ended after ``terminate()`` (within the signal grace)."""
    grandchild_state: Optional[str]
    """The grandchild's state in /proc once its parent had ended (None: gone)."""
    grandchild_report: Optional[dict]
    """What the grandchild posted after its go-ahead (``parent_process().is_alive()``,
    first and last, and how long it looked): None if it never did."""


def terminate_a_child_whose_child_runs(backend: Backend) -> Orphaned:
    """A child that starts a grandchild (held, waiting for a go-ahead) and sleeps; once both
    run, ``terminate()`` the child; once the OS shows it ended, read the grandchild's state
    and give it the go-ahead: it then reports what its ``parent_process().is_alive()``
    reads (bounded)."""
    below: list[int] = []  # the child's descendants, seen while they ran
    with orphans_come_back() as subreaper, mailbox.Mailbox() as box:
        try:
            return _orphan(backend, box, subreaper, below)
        finally:
            end_adopted(below, limits.SIGNAL_GRACE + limits.RETURN_SLACK)


def _orphan(backend: Backend, box: mailbox.Mailbox, subreaper: bool,
            below: list[int]) -> Orphaned:
    with supervised(backend.name) as session:
        started, release = box.slot("started"), box.slot("release")
        grandchild = (box.slot("g-started"), box.slot("g-release"), box.slot("g-report"))
        proc = backend.Process(target=family_targets.start_a_child_then_hold,
                               args=(started, release, grandchild, backend.name,
                                     os.getpid()))
        start = session.start(proc, report=started)

        def record(**fields: Any) -> Orphaned:
            base: dict[str, Any] = dict(
                start=start, subreaper=subreaper, reported=mailbox.read(started),
                terminate=None, child_ended=False, grandchild_state=None,
                grandchild_report=None)
            base.update(fields)
            return Orphaned(**base)

        try:
            if not start.returned or not session.wait_for(
                    started, grace=2 * limits.START_GRACE):
                return record()
            return _terminate_and_look(session, proc, mailbox.read(started), grandchild,
                                       record, below)
        finally:  # a child that is no process of its own (a thread) is let go
            mailbox.post(release, True)
            mailbox.post(grandchild[1], True)


def _terminate_and_look(session: Any, proc: Any, reported: Any, grandchild: tuple,
                        record: Any, below: list[int]) -> Orphaned:
    if not isinstance(reported, dict) or reported.get("grandchild") is None \
            or reported.get("pid") == os.getpid():
        return record()  # no grandchild, or the child is no process of its own
    child_pid = reported["pid"]
    below += descendants(child_pid) + [reported["grandchild"]]
    stopped_at = time.monotonic()
    call = attempt(lambda: proc.terminate())
    child_ended = _ended_within(child_pid, stopped_at + limits.SIGNAL_GRACE)
    stat = _stat(reported["grandchild"])
    state = None if stat is None else stat[0]
    grandchild_report = None
    if child_ended and state not in (None, "Z", "X", "x"):
        mailbox.post(grandchild[1], True)
        if session.wait_for(grandchild[2], grace=limits.START_GRACE,
                            what="a report from the grandchild"):
            grandchild_report = mailbox.read(grandchild[2])
    session.join(proc, limits.SIGNAL_GRACE, grace=limits.SIGNAL_GRACE, kind=STOP)
    return record(terminate=call, child_ended=child_ended, grandchild_state=state,
                  grandchild_report=grandchild_report)


def _ended_within(pid: int, deadline: float) -> bool:
    """The OS shows ``pid`` ended (gone, or a zombie) before ``deadline`` (monotonic)."""
    while True:
        stat = _stat(pid)
        if stat is None or stat[0] in ("Z", "X", "x"):
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(limits.POLL_INTERVAL)


