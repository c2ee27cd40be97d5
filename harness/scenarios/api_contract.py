"""The rest of the reference's ``Process`` contract (specs/process-api.md, API-009..017):
the constructor's ``group``, a process without a target, joining twice or oneself,
``close()`` before ``start()``, what spawn and forkserver refuse to pickle, a subclass's
``run()``, an ``authkey`` set before ``start()``, and the main process's own object.

As in :mod:`harness.scenarios.process_api`: each function returns a frozen record and
never asserts; every call that could block is bounded (:mod:`harness.supervise`); what has
started and ended is read from the OS; every process of a scenario is ended and reaped at
the OS level before the function returns.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass
from typing import Any, Optional

from harness import limits, mailbox
from harness.backends import Backend
from harness.child import life_targets, subclassing, targets
from harness.supervise import Call, Observed, Raised, attempt, is_alive, supervised


def _outcome(call: Call) -> Observed:
    """What a bounded call gave: its result, the exception it raised, or DidNotReturn."""
    return call.result if call.returned else Raised("DidNotReturn", call.why)


#: What a constructor that accepted its arguments gave (the object itself is not kept).
ACCEPTED = "accepted"


# --- group (API-009) -------------------------------------------------------------------

def construct_with_group(backend: Backend, group: Any) -> Observed:
    """``Process(group=group, target=...)``: :data:`ACCEPTED`, or what it raised. Nothing
    is started."""
    made = attempt(lambda: backend.Process(group=group, target=targets.noop))
    return made if isinstance(made, Raised) else ACCEPTED


# --- no target (API-010) ---------------------------------------------------------------

@dataclass(frozen=True)
class NoTarget:
    start: Call
    join: Optional[Call]
    ended: bool
    """The OS showed the child had ended (or, for a child no process stands for, its
    ``join()`` returned) before ``exitcode`` was read."""
    exitcode: Observed


def run_without_target(backend: Backend) -> NoTarget:
    """``Process()`` with no target, started and joined; ``exitcode`` once it ended."""
    with supervised(backend.name) as session:
        proc = backend.Process()
        start = session.start(proc)
        if not start.returned:
            return NoTarget(start=start, join=None, ended=False, exitcode=None)
        join = session.join(proc)
        ended = session.settle() and (join.returned or session.watch.scan().seen)
        return NoTarget(start=start, join=join, ended=ended,
                        exitcode=session.read(lambda: proc.exitcode, join))


# --- joined twice (API-011) ------------------------------------------------------------

@dataclass(frozen=True)
class JoinedTwice:
    status: int
    start: Call
    target_ran: bool
    ended: bool
    """The first ``join()`` returned and the OS showed the child had ended."""
    exitcode_before: Observed
    alive_before: Observed
    second: Optional[Call]
    """The second ``join()``, given up after ``limits.RETURN_SLACK``."""
    exitcode_after: Observed
    alive_after: Observed


def join_twice(backend: Backend, status: int) -> JoinedTwice:
    """A child that ends with ``sys.exit(status)``; joined once (bounded), and once the OS
    shows it ended, ``exitcode`` and ``is_alive()`` read, ``join()`` again, read again."""
    with mailbox.Mailbox() as box, supervised(backend.name) as session:
        ran = box.slot("ran")
        proc = backend.Process(target=targets.end_as,
                               args=(ran, os.getpid(), "sys.exit", status))
        start = session.start(proc, report=ran)
        base: dict[str, Any] = dict(status=status, start=start, target_ran=False,
                                    ended=False, exitcode_before=None, alive_before=None,
                                    second=None, exitcode_after=None, alive_after=None)
        if not start.returned:
            return JoinedTwice(**base)
        first = session.join(proc)
        ended = session.settle() and first.returned
        base.update(target_ran=os.path.exists(ran), ended=ended)
        if not ended:
            return JoinedTwice(**base)
        base.update(exitcode_before=attempt(lambda: proc.exitcode),
                    alive_before=is_alive(proc))
        second = session.call("join", proc.join)
        base.update(second=second, exitcode_after=attempt(lambda: proc.exitcode),
                    alive_after=is_alive(proc))
        return JoinedTwice(**base)


# --- joining oneself (API-012) ---------------------------------------------------------

@dataclass(frozen=True)
class SelfJoin:
    start: Call
    asked: bool
    """The child posted that it was about to join itself (it ran its target)."""
    reported: Optional[dict]
    """``refused`` (None: ``join()`` returned; else the exception's type and message),
    posted within ``limits.RETURN_SLACK`` of the call; None if nothing came."""


def join_itself(backend: Backend) -> SelfJoin:
    """A child calls its own ``current_process().join()``; the parent waits (bounded) for
    what it did. A child whose ``join()`` does not return is ended by the harness."""
    with mailbox.Mailbox() as box, supervised(backend.name) as session:
        asked, path = box.slot("asked"), box.slot("joined")
        proc = backend.Process(target=targets.join_self, args=(asked, path, backend.name))
        start = session.start(proc, report=asked)
        if not start.returned:
            return SelfJoin(start=start, asked=False, reported=None)
        was_asked = session.wait_for(asked)
        if was_asked:
            mailbox.wait_for(path, limits.RETURN_SLACK)
        reported = mailbox.read(path)
        if reported is not None:  # else it hangs in join(): the session ends it
            session.join(proc)
            session.settle()
        return SelfJoin(start=start, asked=was_asked, reported=reported)


# --- close() before start() (API-013) --------------------------------------------------

def close_unstarted(backend: Backend) -> Observed:
    """``close()`` on a process never started (given up after ``limits.RETURN_SLACK``):
    its result, what it raised, or DidNotReturn; AttributeError where there is none."""
    with supervised(backend.name) as session:
        proc = backend.Process(target=targets.noop)
        close = getattr(proc, "close", None)
        if not callable(close):
            return Raised("AttributeError", f"{type(proc).__name__} has no close()")
        return _outcome(session.call("close", close))


# --- what cannot be pickled (API-014) --------------------------------------------------

#: What is unpicklable in the process object: its target (a lambda) or an argument (a lock).
UNPICKLABLE = ("target", "argument")


@dataclass(frozen=True)
class Unpicklable:
    what: str
    start: Call
    left_running: tuple[int, ...]
    """Processes of the scenario still running ``limits.SIGNAL_GRACE`` after ``start()``
    returned (or raised)."""


def start_unpicklable(backend: Backend, what: str) -> Unpicklable:
    """A process whose target (a lambda) or argument (a ``threading.Lock``) pickle cannot
    carry; ``start()`` (bounded); then the processes of the scenario still running once
    they have had ``limits.SIGNAL_GRACE`` to end."""
    with supervised(backend.name) as session:
        if what == "target":
            proc = backend.Process(target=lambda: None)
        else:
            proc = backend.Process(target=targets.sleep_for, args=(threading.Lock(),))
        start = session.start(proc)
        deadline = time.monotonic() + limits.SIGNAL_GRACE
        live = session.watch.scan().live
        while live and time.monotonic() < deadline:
            time.sleep(limits.POLL_INTERVAL)
            live = session.watch.scan().live
        return Unpicklable(what=what, start=start, left_running=tuple(live))


# --- a subclass's run() (API-015) ------------------------------------------------------

@dataclass(frozen=True)
class Subclassed:
    start: Call
    by_run: Optional[dict]
    """What the subclass's own ``run()`` posted; None if it never ran."""
    target_ran: bool
    """The target given to the constructor ran in the child (the standard ``run()`` called
    it): it had posted by the time the child's ``run()`` posted, or the child ended, before
    ``join()`` was called (an implementation that also runs it in the parent does so
    later)."""


def run_subclass(backend: Backend) -> Subclassed:
    """An instance of the backend's ``Process`` subclass whose ``run()`` posts a report
    (:mod:`harness.child.subclassing`), created with a target that posts another; started
    and joined (bounded)."""
    with mailbox.Mailbox() as box, supervised(backend.name) as session:
        by_run, by_target = box.slot("run"), box.slot("target")
        proc = subclassing.overriding_class(backend.name)(target=targets.report_ran,
                                                          args=(by_target,))
        setattr(proc, subclassing.REPORT, by_run)
        start = session.start(proc, report=by_run)
        target_pid = None
        if start.returned:
            session.wait_for(by_run)
            target_pid = mailbox.read(by_target)  # before join(): a parent may run it then
            session.join(proc)
            session.settle()
        return Subclassed(start=start, by_run=mailbox.read(by_run),
                          target_ran=target_pid is not None)


# --- authkey set before start() (API-016) ----------------------------------------------

@dataclass(frozen=True)
class AuthkeySet:
    key: bytes
    assigned: Observed
    """What ``proc.authkey = key`` did (None, or what it raised)."""
    start: Call
    childs: Optional[bytes]
    """The child's own ``current_process().authkey``, as it reported it."""


def authkey_set_before_start(backend: Backend, key: bytes) -> AuthkeySet:
    with mailbox.Mailbox() as box, supervised(backend.name) as session:
        path = box.slot("authkey")
        proc = backend.Process(target=life_targets.report_authkey, args=(path, backend.name))
        assigned = attempt(lambda: setattr(proc, "authkey", key))
        start = session.start(proc, report=path)
        if start.returned:
            session.wait_for(path)
            session.join(proc)
            session.settle()
        return AuthkeySet(key=key, assigned=assigned, start=start, childs=mailbox.read(path))


# --- the main process's own object (API-017) -------------------------------------------

@dataclass(frozen=True)
class MainProcess:
    alive: Observed
    exitcode: Observed


def main_process_state(backend: Backend) -> MainProcess:
    """In this (the main) process: the implementation's ``current_process()``'s
    ``is_alive()`` and ``exitcode``."""
    me = attempt(lambda: targets.current_process_of(backend.name))
    if isinstance(me, Raised):
        return MainProcess(alive=me, exitcode=me)
    return MainProcess(alive=is_alive(me), exitcode=attempt(lambda: me.exitcode))


# --- the child's main thread (API-018) -------------------------------------------------

@dataclass(frozen=True)
class MainThreadIds:
    parents: Optional[int]
    """This process's main thread's ``native_id``."""
    start: Call
    reported: Optional[dict]
    """The child's ``pid`` and its main thread's ``native_id``; None if it never reported."""


def main_thread_native_ids(backend: Backend) -> MainThreadIds:
    with mailbox.Mailbox() as box, supervised(backend.name) as session:
        path = box.slot("native-id")
        proc = backend.Process(target=targets.report_main_thread_native_id, args=(path,))
        start = session.start(proc, report=path)
        if start.returned:
            session.wait_for(path)
            session.join(proc)
            session.settle()
        return MainThreadIds(parents=getattr(threading.main_thread(), "native_id", None),
                             start=start, reported=mailbox.read(path))
