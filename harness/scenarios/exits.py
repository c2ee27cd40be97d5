"""How a child ends (specs/exit.md): what its stderr gets from ``sys.exit(reason)`` and
from an uncaught exception, whether its non-daemon threads finish first, its exit code
after a signal, its ``atexit`` handlers.

As in :mod:`harness.scenarios.lifecycle`: each function returns a frozen record and never
asserts; ``start()``, ``join()`` and every call that could block are bounded; what has
started and ended is read from the OS; every process of a scenario is ended and reaped at
the OS level before the function returns.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from typing import Any, Callable, Optional

from harness import limits, mailbox
from harness.backends import Backend
from harness.child import family_targets, life_targets
from harness.supervise import STOP, Call, Observed, attempt, supervised


@dataclass(frozen=True)
class Ended:
    """A child run to its end (it reported that its target ran), joined, the OS showing it
    ended."""

    start: Call
    ran: bool
    in_own_process: bool
    """The target ran in a process of its own (not in the parent: a thread in disguise)."""
    join: Optional[Call]
    ended: bool
    exitcode: Observed
    extra: Any = None
    """What the scenario read once the child had ended (its stderr text, a report)."""


def _run(backend: Backend, target: Callable[..., Any], args: Callable[[str], tuple],
         after: Callable[[mailbox.Mailbox], Any], expected_seconds: float = 0.0) -> Ended:
    with mailbox.Mailbox() as box, supervised(backend.name) as session:
        ran = box.slot("ran")
        proc = backend.Process(target=target, args=args(ran) + (os.getpid(),))
        start = session.start(proc, report=ran)
        if not start.returned:
            return Ended(start=start, ran=os.path.exists(ran), in_own_process=False,
                         join=None, ended=False, exitcode=None)
        session.wait_for(ran)
        join = session.join(proc, expected_end=time.monotonic() + expected_seconds)
        ended = session.settle() and session.watch.scan().seen
        exitcode = session.read(lambda: proc.exitcode, join)
        reported = mailbox.read(ran)
        return Ended(start=start, ran=reported is not None,
                     in_own_process=reported is not None and reported != os.getpid(),
                     join=join, ended=ended, exitcode=exitcode, extra=after(box))


def _text(path: str) -> Optional[str]:
    try:
        with open(path, encoding="utf-8", errors="backslashreplace") as f:
            return f.read()
    except FileNotFoundError:
        return None


def exit_with_reason(backend: Backend, reason: Any) -> Ended:
    """A child that points ``sys.stderr`` at a file and calls ``sys.exit(reason)``;
    ``extra`` is that file's text once the child ended (None if it was never created)."""
    holder: dict = {}

    def args(ran: str) -> tuple:
        holder["path"] = ran + ".stderr"
        return (ran, holder["path"], reason)

    return _run(backend, life_targets.exit_with_reason, args,
                lambda box: _text(holder["path"]))


def raise_uncaught(backend: Backend, message: str) -> Ended:
    """A child that points ``sys.stderr`` at a file and raises ``LookupError(message)``;
    ``extra`` is that file's text once the child ended."""
    holder: dict = {}

    def args(ran: str) -> tuple:
        holder["path"] = ran + ".stderr"
        return (ran, holder["path"], message)

    return _run(backend, life_targets.raise_uncaught, args,
                lambda box: _text(holder["path"]))


def signal_self(backend: Backend, signum: int) -> Ended:
    """A child that sends itself ``signum``; ``exitcode`` once it ended."""
    return _run(backend, life_targets.signal_self, lambda ran: (ran, signum),
                lambda box: None)


def register_exit_handler(backend: Backend) -> Ended:
    """A child that registers an ``atexit`` handler and returns; ``extra``: whether the
    handler posted by the time the OS showed the child ended."""
    holder: dict = {}

    def args(ran: str) -> tuple:
        holder["path"] = ran + ".atexit"
        return (ran, holder["path"])

    return _run(backend, life_targets.register_exit_handler, args,
                lambda box: os.path.exists(holder["path"]))


@dataclass(frozen=True)
class ThreadedEnd:
    seconds: float
    start: Call
    returned_at: Optional[float]
    """When the target returned (the child's monotonic clock, shared on Linux)."""
    in_own_process: bool
    ended: bool
    """The OS showed the child had ended (bounded: the thread's time and the grace)."""
    ended_at: Optional[float]
    """When the parent first saw that (monotonic)."""
    thread_done_at: Optional[float]
    """When the thread posted its end; None if it had not by the time the child ended."""


def thread_outlives_target(backend: Backend, seconds: float) -> ThreadedEnd:
    """A child whose target starts a non-daemon thread sleeping ``seconds`` and returns at
    once; the parent waits (bounded) until the OS shows the child ended and reads whether
    the thread had posted its end by then."""
    with mailbox.Mailbox() as box, supervised(backend.name) as session:
        ran, thread = box.slot("ran"), box.slot("thread")
        proc = backend.Process(target=life_targets.start_thread_and_return,
                               args=(ran, thread, seconds, os.getpid()))
        start = session.start(proc, report=ran)
        if not start.returned:
            return ThreadedEnd(seconds=seconds, start=start, returned_at=None,
                               in_own_process=False, ended=False, ended_at=None,
                               thread_done_at=None)
        session.wait_for(ran)
        ended = session.settle(since=time.monotonic() + seconds) and \
            session.watch.scan().seen
        ended_at = time.monotonic()
        thread_done = mailbox.read(thread) if ended else None
        session.join(proc)
        return ThreadedEnd(seconds=seconds, start=start, returned_at=mailbox.read(ran),
                           in_own_process=mailbox.read(ran) is not None and
                           bool(session.watch.scan().seen), ended=ended,
                           ended_at=ended_at, thread_done_at=thread_done)


@dataclass(frozen=True)
class TerminatedInside:
    """A child held inside its ``try`` (an ``atexit`` handler registered first), stopped
    with ``terminate()``."""

    start: Call
    inside: bool
    """The child posted that it runs inside its ``try`` before ``terminate()`` was called."""
    in_own_process: bool
    terminate: Observed
    ended: bool
    """The OS showed the child ended within the signal grace after ``terminate()``."""
    exitcode: Observed
    handler_ran: Optional[bool]
    """The ``atexit`` handler's file existed once the child was reaped."""
    finally_ran: Optional[bool]
    """The ``finally`` clause's file existed once the child was reaped."""


def terminate_inside_try(backend: Backend) -> TerminatedInside:
    """A child that registers an ``atexit`` handler, then waits (bounded) for a go-ahead
    inside a ``try`` whose ``finally`` posts; once it reported that it is inside,
    ``terminate()``; once the OS shows it ended and it was joined (bounded), read whether
    the handler's or the ``finally``'s file exists."""
    with mailbox.Mailbox() as box, supervised(backend.name) as session:
        started, release = box.slot("started"), box.slot("release")
        handler, finally_ = box.slot("atexit"), box.slot("finally")
        proc = backend.Process(target=family_targets.hold_inside_try,
                               args=(started, release, handler, finally_, os.getpid()))
        start = session.start(proc, report=started)
        try:
            inside = start.returned and session.wait_for(started)
            own = inside and mailbox.read(started) != os.getpid()
            if not own:
                return TerminatedInside(start=start, inside=inside, in_own_process=False,
                                        terminate=None, ended=False, exitcode=None,
                                        handler_ran=None, finally_ran=None)
            stopped_at = time.monotonic()
            call = attempt(lambda: proc.terminate())
            join = session.join(proc, limits.SIGNAL_GRACE, grace=limits.SIGNAL_GRACE,
                                kind=STOP)
            ended = session.settle(limits.SIGNAL_GRACE, since=stopped_at, kind=STOP) and \
                session.watch.scan().seen
            exitcode = session.read(lambda: proc.exitcode, join)
            return TerminatedInside(start=start, inside=True, in_own_process=True,
                                    terminate=call, ended=ended, exitcode=exitcode,
                                    handler_ran=os.path.exists(handler),
                                    finally_ran=os.path.exists(finally_))
        finally:  # a child still held (not ended by terminate()) is let go
            mailbox.post(release, True)
