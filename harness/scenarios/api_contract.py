"""The rest of the reference's ``Process`` contract (specs/process-api.md, API-009..018,
API-020, API-021): the constructor's ``group``, a process without a target, joining twice
or oneself, ``close()`` before ``start()``, what spawn and forkserver refuse to pickle, a
subclass's ``run()``, an ``authkey`` set before ``start()``, the main process's own
object, and what the parent keeps: a target once the child ran it, a closed object.

As in :mod:`harness.scenarios.process_api`: each function returns a frozen record and
never asserts; every call that could block is bounded (:mod:`harness.supervise`); what has
started and ended is read from the OS; every process of a scenario is ended and reaped at
the OS level before the function returns.
"""

from __future__ import annotations

import gc
import os
import threading
import time
import types
import weakref
from dataclasses import dataclass
from typing import Any, Callable, Optional

from harness import figures, limits, mailbox
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


# --- what the parent keeps (API-020, API-021) ------------------------------------------

#: ``gc.collect()`` calls made before an object still referenced counts as kept (PyPy's
#: collector may need more than one pass to clear what CPython's frees at once).
COLLECTIONS = 3


def _collect(refs: dict[str, Callable[[], Any]]) -> tuple[tuple[str, ...], int]:
    """``gc.collect()`` until every weak reference of ``refs`` is dead, at most
    :data:`COLLECTIONS` times: the names of those still alive, and the calls made (also
    published as the figure ``gc_collections``)."""
    kept: tuple[str, ...] = ()
    calls = 0
    while calls < COLLECTIONS:
        gc.collect()
        calls += 1
        kept = tuple(name for name, ref in refs.items() if ref() is not None)
        if not kept:
            break
    figures.publish("gc_collections", calls)  # the results file's evidence (PyPy: more?)
    return kept, calls


def _referrer(holder: Any, held: Any) -> str:
    """One object that refers to ``held``: its type, and the key it is held under when it
    is a dict (an instance's ``__dict__`` names the attribute)."""
    if isinstance(holder, dict):
        keys = [key for key, value in holder.items() if value is held]
        return f"dict[{', '.join(map(repr, keys))}]" if keys else "dict"
    return type(holder).__name__


def held_by(ref: Callable[[], Any], limit: int = 6) -> tuple[str, ...]:
    """What keeps the object of ``ref`` alive: each referrer (frames aside), and for a
    tuple, list or dict, what holds that in turn (``tuple in dict['_args']``,
    ``dict['keyword'] in ForkProcess``)."""
    held = ref()
    if held is None:
        return ()
    found: list[str] = []
    holders = gc.get_referrers(held)
    for holder in holders:
        if isinstance(holder, types.FrameType):
            continue
        where = _referrer(holder, held)
        if isinstance(holder, (tuple, list, dict)):
            outer: list[str] = []
            for around in gc.get_referrers(holder):  # a loop: a comprehension's cells
                if around is not holders and not isinstance(around, types.FrameType):
                    outer.append(_referrer(around, holder))
            where += f" in {' / '.join(outer) or 'nothing seen'}"
        found.append(where)
        if len(found) >= limit:
            break
    del held, holders
    return tuple(found)


@dataclass(frozen=True)
class TargetRelease:
    start: Call
    join: Optional[Call]
    ended: bool
    """``join()`` returned and the OS showed the child had ended."""
    ran: Optional[dict]
    """What the target posted in the child (its pid, the types of its arguments); None if
    it never ran."""
    kept: tuple[str, ...]
    """Which of ``target``, ``argument``, ``keyword argument`` were still alive after the
    collections, the process object (and its ended child) still held by the scenario."""
    collections: int
    held_by: tuple[str, ...]
    """What referred to each one kept (``name: referrer``)."""


def _process_with_target(backend: Backend, path: str
                         ) -> tuple[Any, dict[str, Callable[[], Any]]]:
    """A process whose target is a :class:`~harness.child.life_targets.PostingTarget`,
    given one :class:`~harness.child.life_targets.Cargo` positionally and one by keyword,
    and weak references to the three: once this returns, the process object holds the only
    strong references to them."""
    target, cargo, keyword = (life_targets.PostingTarget(), life_targets.Cargo(),
                              life_targets.Cargo())
    proc = backend.Process(target=target, args=(path, cargo), kwargs={"keyword": keyword})
    return proc, {"target": weakref.ref(target), "argument": weakref.ref(cargo),
                  "keyword argument": weakref.ref(keyword)}


def target_after_the_child_ran(backend: Backend) -> TargetRelease:
    """A process made with a callable target and argument objects that only it refers to;
    started and joined (bounded); once the OS shows the child ended, ``gc.collect()``
    (:func:`_collect`) while the process object is still held: which of them are left."""
    with mailbox.Mailbox() as box, supervised(backend.name) as session:
        ran = box.slot("ran")
        proc, refs = _process_with_target(backend, ran)
        start = session.start(proc, report=ran)
        base: dict[str, Any] = dict(start=start, join=None, ended=False, ran=None, kept=(),
                                    collections=0, held_by=())
        if not start.returned or isinstance(start.result, Raised):
            return TargetRelease(**base)
        join = session.join(proc)
        ended = session.settle() and join.returned
        base.update(join=join, ended=ended, ran=mailbox.read(ran))
        if not ended:
            return TargetRelease(**base)
        kept, calls = _collect(refs)
        holders = tuple(f"{name}: {holder}" for name in kept
                        for holder in held_by(refs[name]))
        return TargetRelease(**{**base, "kept": kept, "collections": calls,
                             "held_by": holders})


@dataclass(frozen=True)
class ClosedRelease:
    start: Call
    join: Optional[Call]
    ended: bool
    """``join()`` returned and the OS showed the child had ended."""
    close: Observed
    """What ``close()`` gave (None, what it raised, DidNotReturn; AttributeError where
    there is none); None also when it was not reached."""
    collected: bool
    """The weak reference to the closed object was dead after the collections."""
    collections: int
    held_by: tuple[str, ...]


def _closed(backend: Backend) -> tuple[Optional[Callable[[], Any]], ClosedRelease]:
    """Start a no-op child, join it (bounded), wait for the OS to show it ended, close()
    (bounded): a weak reference to the closed object, and the record so far. The session
    (which lists what it started) is over when this returns, and with this frame goes
    the last strong reference to the object."""
    with supervised(backend.name) as session:
        proc = backend.Process(target=targets.noop)
        start = session.start(proc)
        base: dict[str, Any] = dict(start=start, join=None, ended=False, close=None,
                                    collected=False, collections=0, held_by=())
        if not start.returned or isinstance(start.result, Raised):
            return None, ClosedRelease(**base)
        join = session.join(proc)
        ended = session.settle() and join.returned
        base.update(join=join, ended=ended)
        if not ended:
            return None, ClosedRelease(**base)
        close = getattr(proc, "close", None)
        if not callable(close):
            base.update(close=Raised("AttributeError", f"{type(proc).__name__} has no "
                                     "close()"))
            return None, ClosedRelease(**base)
        base.update(close=_outcome(session.call("close", close)))
        del close
        return (weakref.ref(proc) if base["close"] is None else None), ClosedRelease(**base)


def closed_process_dropped(backend: Backend) -> ClosedRelease:
    """A joined, closed process object whose last strong reference is dropped: whether
    ``gc.collect()`` (:func:`_collect`) frees it."""
    ref, record = _closed(backend)
    if ref is None:
        return record
    kept, calls = _collect({"process": ref})
    return ClosedRelease(start=record.start, join=record.join, ended=record.ended,
                      close=record.close, collected=not kept, collections=calls,
                      held_by=held_by(ref))
