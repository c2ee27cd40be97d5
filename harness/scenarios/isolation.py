"""Isolation scenarios (specs/isolation.md): who sees whose writes, and what a child starts
from.

The state written is :mod:`harness.isolation_state` (the page's ``n = 100`` and more
kinds). A child reports through :mod:`harness.mailbox` what it saw before and after its
write, so that a test knows the write really happened there; the parent reads its own view
after ``join()``. Nothing here asserts; every wait is bounded; every started process is
reaped; and the parent's module state is restored in ``finally`` whatever happened (tests
run many examples, under xdist many tests, in one process).

The child targets are the module-level functions at the top.
"""

from __future__ import annotations

import copy
import json
import os
import sys
from dataclasses import dataclass
from typing import Any, Optional

import psutil

from harness import isolation_state as state
from harness import limits, mailbox
from harness.backends import Backend
from harness.supervise import Observed, attempt, run_program, supervised, timed_join

# --- child targets ---------------------------------------------------------------------


def write_and_report(path: str, kind: str, value: Any) -> None:
    """Apply one write to the module state; post the state before and after it."""
    before = state.view()
    state.apply(kind, value)
    mailbox.post(path, {"pid": os.getpid(), "before": before, "after": state.view()})


def mutate_and_report(path: str, arg: dict, kind: str, value: Any) -> None:
    """Mutate the argument in place; post it before and after."""
    before = copy.deepcopy(arg)
    state.mutate_argument(arg, kind, value)
    mailbox.post(path, {"pid": os.getpid(), "before": before, "after": copy.deepcopy(arg)})


def echo_arguments(path: str, *args: Any, **kwargs: Any) -> None:
    """Post the positional and keyword arguments exactly as received."""
    mailbox.post(path, {"pid": os.getpid(), "args": args, "kwargs": kwargs})


def report_view(path: str) -> None:
    """Post the module state as this child finds it on entry."""
    mailbox.post(path, {"pid": os.getpid(), "view": state.view()})


def report_after_go_ahead(path: str, release: str, arg: dict) -> None:
    """Wait (bounded) for the parent's go-ahead; then post the module state and ``arg``."""
    released = mailbox.hold_until(release)
    mailbox.post(path, {"pid": os.getpid(), "released": released, "view": state.view(),
                        "arg": copy.deepcopy(arg)})


def report_origin(path: str) -> None:
    """Post how the OS sees this process: pid, parent pid, command line."""
    mailbox.post(path, {"pid": os.getpid(), "ppid": os.getppid(),
                        "cmdline": _cmdline(os.getpid())})


def _cmdline(pid: int) -> Optional[list[str]]:
    try:
        return list(psutil.Process(pid).cmdline())
    except psutil.Error:
        return None


# --- scenarios -------------------------------------------------------------------------


def _run_to_end(backend: Backend, target: Any, args: tuple, kwargs: Optional[dict] = None,
                ) -> tuple[int, Observed]:
    """Start the target in a child, join it (bounded); return (parent pid, exitcode)."""
    proc = backend.Process(target=target, args=args, kwargs=kwargs or {})
    with supervised(proc):
        proc.start()
        timed_join(proc, limits.JOIN_GRACE)
        return os.getpid(), attempt(lambda: proc.exitcode)


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
    exitcode: Observed


def child_writes(backend: Backend, kind: str, value: Any) -> ChildWrite:
    saved = state.view()
    try:
        with mailbox.Mailbox() as box:
            path = box.slot("report")
            parent_pid, exitcode = _run_to_end(backend, write_and_report, (path, kind, value))
            return ChildWrite(kind=kind, value=value, parent_before=saved,
                              reported=mailbox.read(path), parent_after_join=state.view(),
                              parent_pid=parent_pid, exitcode=exitcode)
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
    exitcode: Observed


def child_mutates_argument(backend: Backend, arg: dict, kind: str,
                           value: Any) -> ArgumentWrite:
    sent = copy.deepcopy(arg)  # never let a broken implementation touch the caller's object
    original = copy.deepcopy(arg)
    with mailbox.Mailbox() as box:
        path = box.slot("report")
        parent_pid, exitcode = _run_to_end(backend, mutate_and_report,
                                           (path, sent, kind, value))
        return ArgumentWrite(original=original, kind=kind, value=value,
                             reported=mailbox.read(path),
                             parent_after_join=copy.deepcopy(sent),
                             parent_pid=parent_pid, exitcode=exitcode)


@dataclass(frozen=True)
class ArgumentsReceived:
    """What a child received as positional and keyword arguments."""

    args: tuple
    kwargs: dict
    reported: Optional[dict]
    """The child's ``pid``, ``args`` and ``kwargs``; None if it never reported."""
    start_error: Observed
    """What ``start()`` raised, or None."""
    exitcode: Observed


def child_receives_arguments(backend: Backend, args: tuple, kwargs: dict,
                             ) -> ArgumentsReceived:
    with mailbox.Mailbox() as box:
        path = box.slot("report")
        proc = backend.Process(target=echo_arguments, args=(path, *copy.deepcopy(args)),
                               kwargs=copy.deepcopy(kwargs))
        with supervised(proc):
            start_error = attempt(proc.start)
            timed_join(proc, limits.JOIN_GRACE)
            return ArgumentsReceived(args=args, kwargs=kwargs, reported=mailbox.read(path),
                                     start_error=start_error,
                                     exitcode=attempt(lambda: proc.exitcode))


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
    exitcode: Observed


def child_start_state(backend: Backend, changes: tuple) -> StartState:
    saved = state.view()
    try:
        for kind, value in changes:
            state.apply(kind, value)
        at_start = state.view()
        with mailbox.Mailbox() as box:
            path = box.slot("report")
            _, exitcode = _run_to_end(backend, report_view, (path,))
            return StartState(changes=changes, import_time=state.IMPORT_TIME,
                              parent_at_start=at_start, reported=mailbox.read(path),
                              exitcode=exitcode)
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
    """The child's ``released`` flag, ``view`` and ``arg`` after the go-ahead."""
    exitcode: Observed


def parent_writes_after_start(backend: Backend, kind: str, value: Any, arg: dict,
                              arg_kind: str, arg_value: Any) -> LateWrites:
    saved = state.view()
    sent = copy.deepcopy(arg)
    try:
        with mailbox.Mailbox() as box:
            path, release = box.slot("report"), box.slot("release")
            proc = backend.Process(target=report_after_go_ahead, args=(path, release, sent))
            with supervised(proc):
                proc.start()
                state.apply(kind, value)
                state.mutate_argument(sent, arg_kind, arg_value)
                after_writes, arg_after = state.view(), copy.deepcopy(sent)
                mailbox.post(release, True)
                timed_join(proc, limits.JOIN_GRACE)
                return LateWrites(kind=kind, value=value, arg_kind=arg_kind,
                                  arg_value=arg_value, parent_at_start=saved,
                                  parent_after_writes=after_writes, arg_at_start=arg,
                                  arg_after_writes=arg_after, reported=mailbox.read(path),
                                  exitcode=attempt(lambda: proc.exitcode))
    finally:
        state.restore(saved)


@dataclass(frozen=True)
class Origin:
    """How the OS sees a child: made by this process (fork or spawn) or by a server, and
    whether it kept the parent's command line (fork: no exec) or not (spawn: a new
    interpreter)."""

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


def find_start_method(backend: Backend) -> Origin:
    """Find out a backend's start method from OS facts about one child, not from the
    module state the start-method claims are about (that would be circular)."""
    with mailbox.Mailbox() as box:
        path = box.slot("origin")
        _run_to_end(backend, report_origin, (path,))
        return Origin(parent_pid=os.getpid(), parent_cmdline=_cmdline(os.getpid()),
                      reported=mailbox.read(path))


@dataclass(frozen=True)
class MainProgram:
    """``python -m harness.isolation_main``: the page's ``n`` in the main script, changed
    to ``value`` under the ``__main__`` guard before ``start()``."""

    value: int
    returncode: Optional[int]
    timed_out: bool
    events: tuple
    """``(event, data)`` the program's processes printed, in output order."""
    stderr: str

    def data(self, event: str) -> list:
        return [data for name, data in self.events if name == event]


def run_main_program(backend: Backend, value: int) -> MainProgram:
    cmd = [sys.executable, "-m", "harness.isolation_main", backend.name, str(value)]
    run = run_program(cmd, timeout=limits.START_GRACE + limits.JOIN_GRACE)
    events = []
    for line in run.stdout.splitlines():
        try:
            event, data = json.loads(line)
        except ValueError:
            event, data = "unparsed", line
        events.append((event, data))
    return MainProgram(value=value, returncode=run.returncode, timed_out=run.timed_out,
                       events=tuple(events), stderr=run.stderr[-2000:])


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
