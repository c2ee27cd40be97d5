"""Process API scenarios (specs/process-api.md): name set later, daemon, close(), and
terminate()/kill() on an ended process (the daemon child at its parent's exit, API-003,
is :mod:`harness.scenarios.daemon_exit`).

As in :mod:`harness.scenarios.lifecycle`: each function returns a frozen record and never
asserts; ``start()``, ``join()`` and any call that could block are bounded
(:mod:`harness.supervise`); what has started and ended is read from the OS; every process
of a scenario is ended and reaped at the OS level before the function returns.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Optional

from harness import mailbox
from harness.backends import Backend
from harness.child import targets
from harness.scenarios.holding import start_held
from harness.supervise import (
    Call,
    Observed,
    Raised,
    attempt,
    supervised,
)


def _outcome(call: Call) -> Observed:
    """What a bounded call gave: its result, the exception it raised, or DidNotReturn."""
    return call.result if call.returned else Raised("DidNotReturn", call.why)


# --- name set after construction (API-001) ---------------------------------------------

@dataclass(frozen=True)
class NameSetLater:
    name: str
    assigned: Observed
    """What ``proc.name = name`` did (None, or what it raised)."""
    name_after_set: Observed
    start: Call
    name_after_start: Observed
    reported: Optional[dict]
    """What the child posted (``pid``, ``name`` from its own ``current_process()``)."""


def name_set_after_construction(backend: Backend, name: str) -> NameSetLater:
    with mailbox.Mailbox() as box, supervised(backend.name) as session:
        started, release = box.slot("started"), box.slot("release")
        proc = backend.Process(target=targets.hold, args=(started, release, backend.name))
        assigned = attempt(lambda: setattr(proc, "name", name))
        after_set = attempt(lambda: proc.name)
        start = session.start(proc, report=started)
        after_start = attempt(lambda: proc.name) if start.returned else None
        reported = mailbox.read(started) if start.returned and session.wait_for(started) \
            else mailbox.read(started)
        mailbox.post(release, True)
        if start.returned:
            session.join(proc)
            session.settle()
        return NameSetLater(name=name, assigned=assigned, name_after_set=after_set,
                            start=start, name_after_start=after_start, reported=reported)


# --- daemon (API-002..004) -------------------------------------------------------------

@dataclass(frozen=True)
class DaemonChange:
    """``daemon`` assigned the other value while the child runs."""

    initial: bool
    start: Call
    child_was_running: bool
    change: Observed
    """What ``proc.daemon = not initial`` did: None, or what it raised."""
    daemon_after: Observed


def change_daemon_after_start(backend: Backend, initial: bool) -> DaemonChange:
    with mailbox.Mailbox() as box, supervised(backend.name) as session:
        started, release = box.slot("started"), box.slot("release")
        proc = backend.Process(target=targets.hold, args=(started, release, backend.name))
        proc.daemon = initial  # the attribute, not the keyword: threading's has no keyword
        start = session.start(proc, report=started)
        running = start.returned and session.wait_for(started)
        change = attempt(lambda: setattr(proc, "daemon", not initial)) if running else None
        after = attempt(lambda: proc.daemon) if running else None
        mailbox.post(release, True)
        if start.returned:
            session.join(proc)
            session.settle()
        return DaemonChange(initial=initial, start=start, child_was_running=running,
                            change=change, daemon_after=after)


@dataclass(frozen=True)
class DaemonParent:
    """A daemon child tried to start a child of its own."""

    start: Call
    reported: Optional[dict]
    """``refused`` (None, or (type, message) of what its ``start()`` raised), ``daemon``
    (its own flag, from its ``current_process()``), ``pid``; None if it never reported."""


def daemon_starts_a_child(backend: Backend) -> DaemonParent:
    with mailbox.Mailbox() as box, supervised(backend.name) as session:
        path = box.slot("tried")
        proc = backend.Process(target=targets.start_a_child, args=(path, backend.name))
        proc.daemon = True
        start = session.start(proc, report=path)
        if start.returned:
            session.wait_for(path)
            session.join(proc)
            session.settle()
        return DaemonParent(start=start, reported=mailbox.read(path))


# --- close() (API-005, API-006) --------------------------------------------------------

#: The uses of a process object that a closed one must refuse: methods and attributes.
CLOSED_METHODS = ("start", "join", "is_alive", "terminate", "kill")
CLOSED_ATTRIBUTES = ("pid", "exitcode", "sentinel")


@dataclass(frozen=True)
class ClosedUse:
    start: Call
    join: Optional[Call]
    ended: bool
    close: Observed
    uses: tuple[tuple[str, Observed], ...]
    """Each use tried after ``close()`` and what it gave (a method the implementation
    lacks is left out)."""


def use_after_close(backend: Backend) -> ClosedUse:
    """Start a no-op child, join it (bounded), wait for the OS to show it ended, close();
    then try every use (each bounded: a refusal is immediate)."""
    with supervised(backend.name) as session:
        proc = backend.Process(target=targets.noop)
        start = session.start(proc)
        if not start.returned:
            return ClosedUse(start=start, join=None, ended=False, close=None, uses=())
        join = session.join(proc)
        ended = session.settle() and join.returned
        if not ended:
            return ClosedUse(start=start, join=join, ended=False, close=None, uses=())
        close = _outcome(session.call("close", getattr(proc, "close", _no_close(proc))))
        uses: list[tuple[str, Observed]] = []
        for method in CLOSED_METHODS:
            fn = getattr(proc, method, None)
            if callable(fn):
                uses.append((f"{method}()", _outcome(session.call(method, fn))))
        uses += [(attribute, _read_attribute(proc, attribute))
                 for attribute in CLOSED_ATTRIBUTES]
        return ClosedUse(start=start, join=join, ended=ended, close=close, uses=tuple(uses))


def _read_attribute(proc: Any, attribute: str) -> Observed:
    return attempt(lambda: getattr(proc, attribute))


def _no_close(proc: Any) -> Any:
    def missing() -> None:
        raise AttributeError(f"{type(proc).__name__!r} object has no attribute 'close'")
    return missing


@dataclass(frozen=True)
class CloseWhileRunning:
    start: Call
    child_was_running: bool
    close: Observed
    still_running: bool
    """The child took the go-ahead posted after ``close()``: it still ran then."""


def close_running(backend: Backend) -> CloseWhileRunning:
    with mailbox.Mailbox() as box, supervised(backend.name) as session:
        held = start_held(backend, box, session)
        proc, start, release, released = held.proc, held.start, held.release, held.released
        if not held.running:
            mailbox.post(release, True)
            return CloseWhileRunning(start=start, child_was_running=False, close=None,
                                     still_running=False)
        close = _outcome(session.call("close", getattr(proc, "close", _no_close(proc))))
        mailbox.post(release, True)
        still = session.wait_for(released, what="report of the go-ahead")
        session.settle()
        return CloseWhileRunning(start=start, child_was_running=True, close=close,
                                 still_running=still)


# --- terminate()/kill() on an ended process (API-007, API-008) -------------------------

@dataclass(frozen=True)
class StopAfterEnd:
    method: str
    status: int
    start: Call
    target_ran: bool
    ended: bool
    has_method: bool
    exitcode_before: Observed
    call: Observed
    exitcode_after: Observed


def stop_after_end(backend: Backend, method: str, status: int) -> StopAfterEnd:
    """A child that ends with ``sys.exit(status)``; once joined and ended (OS), read
    ``exitcode``, call ``terminate()`` or ``kill()`` (bounded), read it again."""
    with mailbox.Mailbox() as box, supervised(backend.name) as session:
        ran = box.slot("ran")
        proc = backend.Process(target=targets.end_as,
                               args=(ran, os.getpid(), "sys.exit", status))
        start = session.start(proc, report=ran)
        base = dict(method=method, status=status, start=start, target_ran=False,
                    ended=False, has_method=True, exitcode_before=None, call=None,
                    exitcode_after=None)
        if not start.returned:
            return StopAfterEnd(**base)  # type: ignore[arg-type]
        join = session.join(proc)
        ended = session.settle() and join.returned
        base.update(target_ran=os.path.exists(ran), ended=ended)
        if not ended:
            return StopAfterEnd(**base)  # type: ignore[arg-type]
        before = session.read(lambda: proc.exitcode, join)
        stop = getattr(proc, method, None)
        if not callable(stop):
            base.update(has_method=False, exitcode_before=before)
            return StopAfterEnd(**base)  # type: ignore[arg-type]
        call = _outcome(session.call(method, stop))
        base.update(exitcode_before=before, call=call,
                    exitcode_after=attempt(lambda: proc.exitcode))
        return StopAfterEnd(**base)  # type: ignore[arg-type]
