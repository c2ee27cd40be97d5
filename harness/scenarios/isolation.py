"""Isolation scenarios (specs/isolation.md): who sees whose writes. What a child starts from
(its start method, the page's main program) is :mod:`harness.scenarios.start_state`.

The state written is :mod:`harness.child.isolation_state` (the page's ``n = 100`` and more
kinds). A child reports through :mod:`harness.mailbox` what it saw before and after its
write, so that a test knows the write really happened there; the parent reads its own view
after ``join()``. Nothing here asserts; every wait is bounded; every started process is
reaped; and the parent's module state is restored in ``finally`` whatever happened (tests
run many examples, under xdist many tests, in one process). ``start()`` and ``join()`` are
bounded calls (:mod:`harness.supervise`) whose records say whether they returned; the
parent's view "after ``join()``" is read once ``join()`` has returned (or been given up)
and the OS shows the child has ended.

The child targets are in :mod:`harness.child.targets`.
"""

from __future__ import annotations

import copy
import os
from dataclasses import dataclass
from typing import Any, Optional, Sequence

from harness import mailbox
from harness.backends import Backend
from harness.child import isolation_state as state
from harness.child import targets
from harness.supervise import (
    Call,
    Observed,
    Session,
    attempt,
    supervised,
)

# --- scenarios -------------------------------------------------------------------------


@dataclass(frozen=True)
class Ran:
    """How a child of an isolation scenario was started and joined."""

    start: Call
    join: Optional[Call]
    ended: bool
    exitcode: Observed

    @property
    def started(self) -> bool:
        return self.start.returned


def run_in_session(session: Session, backend: Backend, target: Any, args: Sequence[Any],
                   kwargs: Optional[dict] = None, report: Optional[str] = None) -> Ran:
    """Start the target in a child, join it (bounded), wait (bounded) until the OS shows it
    ended; the parent's view is read after that."""
    proc = backend.Process(target=target, args=args, kwargs=kwargs or {})
    start = session.start(proc, report=report)
    if not start.returned:
        return Ran(start, None, False, None)
    join = session.join(proc)
    ended = session.settle()
    return Ran(start, join, ended, session.read(lambda: proc.exitcode, join))


@dataclass(frozen=True)
class ChildWrite:
    """A child applied one write to the module state; the parent looked after join()."""

    kind: str
    value: Any
    parent_before: dict
    reported: Optional[dict]
    """The child's ``pid`` and its view ``before`` and ``after`` the write; None if it
    never reported."""
    parent_after_join: dict
    parent_pid: int
    ran: Ran

    @property
    def exitcode(self) -> Observed:
        return self.ran.exitcode


def child_writes(backend: Backend, kind: str, value: Any) -> ChildWrite:
    saved = state.view()
    try:
        with mailbox.Mailbox() as box, supervised(backend.name) as session:
            path, write = box.slot("report"), box.slot("write")
            mailbox.post(write, (kind, value))
            ran = run_in_session(session, backend, targets.write_and_report, (path, write),
                                 report=path)
            return ChildWrite(kind=kind, value=value, parent_before=saved,
                              reported=mailbox.read(path), parent_after_join=state.view(),
                              parent_pid=os.getpid(), ran=ran)
    finally:
        state.restore(saved)


@dataclass(frozen=True)
class ArgumentWrite:
    """A child mutated an object it was given as an argument."""

    original: dict
    """A copy of the argument as the parent passed it."""
    kind: str
    value: Any
    reported: Optional[dict]
    """The child's ``pid`` and the argument ``before`` and ``after`` its mutation."""
    parent_after_join: dict
    """The parent's own argument object after join()."""
    parent_pid: int
    ran: Ran


def child_mutates_argument(backend: Backend, arg: dict, kind: str,
                           value: Any) -> ArgumentWrite:
    sent = copy.deepcopy(arg)  # never let a broken implementation touch the caller's object
    original = copy.deepcopy(arg)
    with mailbox.Mailbox() as box, supervised(backend.name) as session:
        path, write = box.slot("report"), box.slot("write")
        mailbox.post(write, (kind, value))
        ran = run_in_session(session, backend, targets.mutate_and_report,
                             (path, sent, write), report=path)
        return ArgumentWrite(original=original, kind=kind, value=value,
                             reported=mailbox.read(path),
                             parent_after_join=copy.deepcopy(sent),
                             parent_pid=os.getpid(), ran=ran)


@dataclass(frozen=True)
class ArgumentsReceived:
    """What a child received as positional and keyword arguments."""

    args: tuple
    kwargs: dict
    reported: Optional[dict]
    """The child's ``pid``, ``args`` and ``kwargs``; None if it never reported."""
    ran: Ran

    @property
    def start_error(self) -> Observed:
        """What ``start()`` raised, or None (also when it did not return: see ``ran``)."""
        return self.ran.start.result


def child_receives_arguments(backend: Backend, args: tuple, kwargs: dict,
                             as_list: bool = False) -> ArgumentsReceived:
    """``args`` and ``kwargs`` given to the constructor (``args`` as a tuple, or with
    ``as_list`` as a list: the reference's ``args`` is any sequence) reach the child."""
    with mailbox.Mailbox() as box, supervised(backend.name) as session:
        path = box.slot("report")
        given: Any = (path, *copy.deepcopy(args))
        ran = run_in_session(session, backend, targets.echo_arguments,
                             list(given) if as_list else given, copy.deepcopy(kwargs),
                             report=path)
        return ArgumentsReceived(args=args, kwargs=kwargs, reported=mailbox.read(path),
                                 ran=ran)


@dataclass(frozen=True)
class StartState:
    """The parent changed its module state at run time, then started a child."""

    changes: tuple
    """``(kind, value)`` writes the parent applied before ``start()``, in order."""
    import_time: dict
    parent_at_start: dict
    """The parent's view when it called ``start()``."""
    reported: Optional[dict]
    """The child's ``pid`` and its ``view`` on entry; None if it never reported."""
    ran: Ran


def child_start_state(backend: Backend, changes: tuple) -> StartState:
    saved = state.view()
    try:
        for kind, value in changes:
            state.apply(kind, value)
        at_start = state.view()
        with mailbox.Mailbox() as box, supervised(backend.name) as session:
            path = box.slot("report")
            ran = run_in_session(session, backend, targets.report_view, (path,), report=path)
            return StartState(changes=changes, import_time=state.IMPORT_TIME,
                              parent_at_start=at_start, reported=mailbox.read(path), ran=ran)
    finally:
        state.restore(saved)


@dataclass(frozen=True)
class LateWrites:
    """After ``start()``, the parent wrote to its module state and to the argument object
    it had passed; then it let the child look."""

    kind: str
    value: Any
    arg_kind: str
    arg_value: Any
    parent_at_start: dict
    parent_after_writes: dict
    """The parent's module state after its writes (proves they happened)."""
    arg_at_start: dict
    arg_after_writes: dict
    reported: Optional[dict]
    """The child's ``released`` flag, ``view``, ``arg`` and ``twin`` after the go-ahead."""
    start: Call
    """``start()`` (when it did not return, no write was made and no go-ahead given)."""
    exitcode: Observed


def parent_writes_after_start(backend: Backend, kind: str, value: Any, arg: dict,
                              arg_kind: str, arg_value: Any) -> LateWrites:
    saved = state.view()
    # Two copies made alike from the same object (even a set's internal order is alike): the
    # parent changes ``sent`` after start(), never ``twin``.
    sent, twin = copy.deepcopy(arg), copy.deepcopy(arg)
    try:
        with mailbox.Mailbox() as box, supervised(backend.name) as session:
            path, release, entered = box.slot("report"), box.slot("release"), box.slot("in")
            proc = backend.Process(target=targets.report_after_go_ahead,
                                   args=(path, release, sent, twin, entered))
            start = session.start(proc, report=entered)
            if not start.returned:
                return LateWrites(kind=kind, value=value, arg_kind=arg_kind,
                                  arg_value=arg_value, parent_at_start=saved,
                                  parent_after_writes=saved, arg_at_start=arg,
                                  arg_after_writes=arg, reported=None, start=start,
                                  exitcode=None)
            state.apply(kind, value)
            state.mutate_argument(sent, arg_kind, arg_value)
            after_writes, arg_after = state.view(), copy.deepcopy(sent)
            mailbox.post(release, True)
            session.join(proc)
            session.settle()
            return LateWrites(kind=kind, value=value, arg_kind=arg_kind,
                              arg_value=arg_value, parent_at_start=saved,
                              parent_after_writes=after_writes, arg_at_start=arg,
                              arg_after_writes=arg_after, reported=mailbox.read(path),
                              start=start, exitcode=attempt(lambda: proc.exitcode))
    finally:
        state.restore(saved)
