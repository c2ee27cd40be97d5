"""Isolation scenarios (specs/isolation.md): who sees whose writes, and what a child starts
from.

The state written is :mod:`harness.child.isolation_state` (the page's ``n = 100`` and more
kinds). A child reports through :mod:`harness.mailbox` what it saw before and after its
write, so that a test knows the write really happened there; the parent reads its own view
after ``join()``. Nothing here asserts; every wait is bounded; every started process is
reaped; and the parent's module state is restored in ``finally`` whatever happened (tests
run many examples, under xdist many tests, in one process). ``start()`` and ``join()`` are
bounded calls (:mod:`harness.supervise`) whose records say whether they returned; the
parent's view "after ``join()``" is read once ``join()`` has returned (or been given up)
and the OS shows the child has ended.

The child targets are the module-level functions at the top.
"""

from __future__ import annotations

import copy
import json
import os
import sys
from dataclasses import dataclass
from typing import Any, Optional

from harness import limits, mailbox, patience
from harness.backends import Backend
from harness.child import isolation_state as state
from harness.child import targets
from harness.supervise import (
    Call,
    Observed,
    Session,
    attempt,
    exit_watch,
    patience_env,
    run_program,
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


def _run_to_end(session: Session, backend: Backend, target: Any, args: tuple,
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
            ran = _run_to_end(session, backend, targets.write_and_report, (path, write),
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
        ran = _run_to_end(session, backend, targets.mutate_and_report, (path, sent, write),
                          report=path)
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
                             ) -> ArgumentsReceived:
    with mailbox.Mailbox() as box, supervised(backend.name) as session:
        path = box.slot("report")
        ran = _run_to_end(session, backend, targets.echo_arguments, (path, *copy.deepcopy(args)),
                          copy.deepcopy(kwargs), report=path)
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
            ran = _run_to_end(session, backend, targets.report_view, (path,), report=path)
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


#: The start methods whose rule specs/isolation.md states (ISO-007, ISO-008, ISO-010).
KNOWN_METHODS = ("fork", "spawn", "forkserver")


@dataclass(frozen=True)
class Origin:
    """How the OS sees a child: made by this process (fork or spawn) or by a server, and
    whether it kept the parent's command line (fork: no exec) or not (spawn: a new
    interpreter, whatever its implementation calls the method: loky's ``'loky'`` is one)."""

    parent_pid: int
    parent_cmdline: Optional[list]
    reported: Optional[dict]

    @property
    def start_method(self) -> Optional[str]:
        """``fork`` | ``spawn`` | ``forkserver`` as far as the OS shows; None when the
        child never reported or shares the parent's pid (then it is no process at all)."""
        if not self.reported or self.reported["pid"] == self.parent_pid:
            return None
        if self.reported["ppid"] != self.parent_pid:
            return "forkserver"  # made by another process on our behalf
        if self.reported["cmdline"] is None or self.parent_cmdline is None:
            return None
        return "fork" if self.reported["cmdline"] == self.parent_cmdline else "spawn"


def start_rule(backend: Backend) -> tuple[Optional[str], str]:
    """The start method whose rule a backend's children follow, and how it was decided:
    the declared one when it is fork, spawn or forkserver; otherwise (none declared, or a
    name of the implementation's own such as loky's ``'loky'``) what the OS shows about one
    child (:func:`find_start_method`): a new interpreter is spawn-like, a copy of this
    process without exec is fork-like. None when neither tells."""
    declared = backend.start_method
    if declared in KNOWN_METHODS:
        return declared, "declared"
    origin = find_start_method(backend)
    how = f"found out from {origin.reported!r}"
    if declared is not None:
        how = f"declared {declared!r}, not one of {', '.join(KNOWN_METHODS)}; {how}"
    return origin.start_method, how


def find_start_method(backend: Backend) -> Origin:
    """Find out a backend's start method from OS facts about one child, not from the
    module state the start-method claims are about (that would be circular)."""
    with mailbox.Mailbox() as box, supervised(backend.name) as session:
        path = box.slot("origin")
        _run_to_end(session, backend, targets.report_origin, (path,), report=path)
        return Origin(parent_pid=os.getpid(), parent_cmdline=targets.cmdline_of(os.getpid()),
                      reported=mailbox.read(path))


@dataclass(frozen=True)
class MainProgram:
    """``python -m harness.child.isolation_main``: the page's ``n`` in the main script, changed
    to ``value`` under the ``__main__`` guard before ``start()``."""

    value: int
    returncode: Optional[int]
    timed_out: bool
    hung_at_exit: Optional[str]
    """Why the harness ended the program after it had reported (it had not exited ``slack``
    s later: how an interpreter exits is LIFE-020's business); None when it exited."""
    events: tuple
    """``(event, data)`` the program's processes printed, in output order."""
    stderr: str

    def data(self, event: str) -> list:
        return [data for name, data in self.events if name == event]


def run_main_program(backend: Backend, value: int) -> MainProgram:
    """Run the program in its own session; once it has printed its ``parent`` line it gets
    ``slack`` s to exit, then it is ended (with its session); else after the graces."""
    cmd = [sys.executable, "-m", "harness.child.isolation_main", backend.name, str(value)]
    give_up = exit_watch(backend.name, lambda out: '["parent"' in out, "it reported")

    timeout = patience.grace(backend.name, limits.START_GRACE) + patience.grace(
        backend.name, limits.JOIN_GRACE)
    run = run_program(cmd, timeout=timeout, env=patience_env(backend.name), give_up=give_up,
                      end_group=True)
    events = []
    for line in run.stdout.splitlines():
        try:
            event, data = json.loads(line)
        except ValueError:
            event, data = "unparsed", line
        events.append((event, data))
    return MainProgram(value=value, returncode=run.returncode, timed_out=run.timed_out,
                       hung_at_exit=run.gave_up, events=tuple(events),
                       stderr=run.stderr[-2000:])


def measure_start_states(names: tuple = ("fork", "spawn", "forkserver")) -> None:
    """Print what a child sees per start method (the table in specs/isolation.md)."""
    from harness.backends import resolve

    changes = (("rebind-global", 0), ("list-append", 1), ("class-setattr", "x"),
               ("delete-global", None))
    for name in names:
        backend = resolve(name)
        page = child_writes(backend, "rebind-global", 0)
        seen = (child_start_state(backend, changes).reported or {}).get("view", {})
        program = run_main_program(backend, 7).data("child")
        print(f"{name}: page exercise child {page.reported and page.reported['before']['n']}"
              f" -> {page.reported and page.reported['after']['n']}, parent after join "
              f"{page.parent_after_join['n']}; on entry after run-time changes "
              f"{ {k: seen.get(k) for k in ('n', 'items', 'Holder.label', 'doomed')} }; "
              f"main script {program}; found out: {find_start_method(backend).start_method}")
