"""What a parent knows of its children (specs/children.md): ``active_children()`` while a
child runs, once it ended, after a timed-out ``join()``; ``daemon``'s default; the
``sentinel``; ``ident``; ``authkey``; ``parent_process()`` in the child.

As in :mod:`harness.scenarios.lifecycle`: each function returns a frozen record and never
asserts; ``start()``, ``join()`` and every call that could block are bounded
(:mod:`harness.supervise`); what has started and ended is read from the OS; every process
of a scenario is ended and reaped at the OS level before the function returns.
"""

from __future__ import annotations

import os
import select
import time
from dataclasses import dataclass
from typing import Any, Optional

from harness import limits, mailbox
from harness.backends import Backend
from harness.child import family_targets, life_targets, targets
from harness.scenarios.holding import start_held
from harness.supervise import Call, Observed, Raised, attempt, is_alive, supervised


def active_children(backend: Backend) -> Observed:
    """The implementation's ``active_children()`` (its context's, or its module's), as a
    list, or what calling it raised."""
    getter = getattr(backend.context, "active_children", None)
    if getter is None:
        return Raised("AttributeError", f"{backend.context!r} has no active_children()")
    return attempt(lambda: list(getter()))


def listed(children: Observed, proc: Any) -> Optional[bool]:
    """Whether ``proc`` itself (identity) is in ``children``; None when that is no list."""
    if not isinstance(children, list):
        return None
    return any(child is proc for child in children)


# --- active_children() (KIDS-001..003) -------------------------------------------------

@dataclass(frozen=True)
class Listing:
    """``active_children()`` read while the child runs, after something the parent did to
    it (``act``)."""

    act: str
    start: Call
    child_was_running: bool
    after_act: Observed
    """What ``act`` gave (a timed ``join()``'s Call result, ``is_alive()``), or None."""
    while_running: Observed
    proc: Any
    """The process object (compared by identity; the scenario is over)."""


#: What the parent may do to a running child before it looks again (KIDS-003).
ACTS = ("nothing", "join(timeout)", "is_alive()", "join(0)")


def list_running_child(backend: Backend, act: str = "nothing",
                       timeout: float = 0.05) -> Listing:
    """Start a held child; once it runs, do ``act`` to it (bounded), then read
    ``active_children()``; release it and end it."""
    with mailbox.Mailbox() as box, supervised(backend.name) as session:
        held = start_held(backend, box, session)
        proc = held.proc
        if not held.running:
            mailbox.post(held.release, True)
            return Listing(act=act, start=held.start,
                           child_was_running=False, after_act=None, while_running=None,
                           proc=proc)
        after_act: Observed = None
        if act == "join(timeout)":
            call = session.join(proc, timeout,
                                bound=time.monotonic() + timeout + session.slack("join"))
            after_act = call.result if call.returned else Raised("DidNotReturn", call.why)
        elif act == "join(0)":
            call = session.join(proc, 0, bound=time.monotonic() + session.slack("join"))
            after_act = call.result if call.returned else Raised("DidNotReturn", call.why)
        elif act == "is_alive()":
            after_act = is_alive(proc)
        running = active_children(backend)
        mailbox.post(held.release, True)
        session.wait_for(held.released, what="report of the go-ahead")
        session.join(proc)
        session.settle()
        return Listing(act=act, start=held.start, child_was_running=True, after_act=after_act,
                       while_running=running, proc=proc)


def list_unstarted(backend: Backend) -> tuple[Observed, Any]:
    """``active_children()`` with a process created and not started (and that process)."""
    proc = backend.Process(target=targets.noop)
    return active_children(backend), proc


@dataclass(frozen=True)
class EndedListing:
    joined: bool
    start: Call
    join: Optional[Call]
    ended: bool
    """The OS showed the child had ended before ``active_children()`` was read."""
    after_end: Observed
    proc: Any


def list_ended_child(backend: Backend, joined: bool) -> EndedListing:
    """A no-op child run to its end, joined or not (the OS shows its end); then
    ``active_children()``, looked at again until it no longer lists the child, for at most
    ``limits.RETURN_SLACK`` s."""
    with supervised(backend.name) as session:
        proc = backend.Process(target=targets.noop)
        start = session.start(proc)
        if not start.returned:
            return EndedListing(joined=joined, start=start, join=None, ended=False,
                                after_end=None, proc=proc)
        join = session.join(proc) if joined else None
        ended = session.settle()
        after = active_children(backend)
        # A fork server reaps its children and then passes the status on: for a moment
        # after the OS shows the end, the parent cannot know it yet. Look again, bounded.
        deadline = time.monotonic() + limits.RETURN_SLACK
        while listed(after, proc) and time.monotonic() < deadline:
            time.sleep(limits.POLL_INTERVAL)
            after = active_children(backend)
        if not joined:
            session.join(proc)
        return EndedListing(joined=joined, start=start, join=join, ended=ended,
                            after_end=after, proc=proc)


# --- daemon's default (KIDS-004) -------------------------------------------------------

@dataclass(frozen=True)
class DaemonDefault:
    in_parent: Observed
    """``daemon`` of a process created here without the argument (the value itself)."""
    child_daemon: bool
    start: Call
    reported: Optional[dict]
    """What the child posted: ``made_daemon`` (a process it created without the argument),
    ``own_daemon``."""


def daemon_defaults(backend: Backend, child_daemon: bool) -> DaemonDefault:
    with mailbox.Mailbox() as box, supervised(backend.name) as session:
        in_parent = attempt(lambda: backend.Process(target=targets.noop).daemon)
        path = box.slot("made")
        proc = backend.Process(target=life_targets.report_new_process_daemon,
                               args=(path, backend.name))
        proc.daemon = child_daemon
        start = session.start(proc, report=path)
        if start.returned:
            session.wait_for(path)
            session.join(proc)
            session.settle()
        return DaemonDefault(in_parent=in_parent, child_daemon=child_daemon, start=start,
                             reported=mailbox.read(path))


# --- sentinel (KIDS-005) ---------------------------------------------------------------

@dataclass(frozen=True)
class SentinelRun:
    before_start: Observed
    start: Call
    child_was_running: bool
    sentinel: Observed
    ready_while_running: Optional[bool]
    ended: bool
    ready_after_end: Optional[bool]
    """Whether ``select`` found it readable within ``limits.RETURN_SLACK`` s of the OS
    showing the child ended; None when it could not be selected on."""
    why_not_selectable: str = ""


def _ready(fd: Any, timeout: float) -> tuple[Optional[bool], str]:
    try:
        readable, _, _ = select.select([fd], [], [], timeout)
    except (OSError, ValueError, TypeError) as exc:
        return None, f"{type(exc).__name__}: {exc}"
    return bool(readable), ""


def watch_sentinel(backend: Backend) -> SentinelRun:
    """Read ``sentinel`` before ``start()``; start a held child; once it runs, is the
    sentinel ready (no wait)? Release it; once the OS shows it ended, is it ready (bounded
    wait)? Then join."""
    with mailbox.Mailbox() as box, supervised(backend.name) as session:
        started, release = box.slot("started"), box.slot("release")
        released = box.slot("released")
        proc = backend.Process(target=targets.hold,
                               args=(started, release, backend.name, released))
        before = attempt(lambda: proc.sentinel)
        start = session.start(proc, report=started)
        running = start.returned and session.wait_for(started)
        if not running:
            mailbox.post(release, True)
            return SentinelRun(before_start=before, start=start, child_was_running=False,
                               sentinel=None, ready_while_running=None, ended=False,
                               ready_after_end=None)
        sentinel = attempt(lambda: proc.sentinel)
        ready_running, why = _ready(sentinel, 0) if isinstance(sentinel, int) else (None, "")
        mailbox.post(release, True)
        ended = session.settle()
        ready_after, why_after = (_ready(sentinel, limits.RETURN_SLACK)
                                  if isinstance(sentinel, int) and ended else (None, ""))
        session.join(proc)
        return SentinelRun(before_start=before, start=start, child_was_running=True,
                           sentinel=sentinel, ready_while_running=ready_running,
                           ended=ended, ready_after_end=ready_after,
                           why_not_selectable=why or why_after)


# --- ident (KIDS-006) ------------------------------------------------------------------

@dataclass(frozen=True)
class Idents:
    ident_before: Observed
    start: Call
    ident_after: Observed
    reported_pid: Optional[int]
    """The child's own ``os.getpid()``, as it reported it."""


def read_idents(backend: Backend) -> Idents:
    """``ident`` of a process before ``start()``, and of a started child once it has
    reported its own pid."""
    with mailbox.Mailbox() as box, supervised(backend.name) as session:
        fresh = backend.Process(target=targets.noop)
        ident_before = attempt(lambda: fresh.ident)
        held = start_held(backend, box, session)
        proc = held.proc
        ident_after = attempt(lambda: proc.ident) if held.start.returned else None
        started = box.slot("started")
        reported = mailbox.read(started) if held.running else None
        mailbox.post(held.release, True)
        if held.start.returned:
            session.join(proc)
            session.settle()
        return Idents(ident_before=ident_before, start=held.start, ident_after=ident_after,
                      reported_pid=reported["pid"] if reported else None)


# --- authkey (KIDS-007) ----------------------------------------------------------------

@dataclass(frozen=True)
class Authkeys:
    parents: Observed
    """The creating process's ``current_process().authkey``."""
    new_process: Observed
    """``authkey`` of a process created here."""
    start: Call
    childs: Optional[bytes]
    """The child's own ``current_process().authkey``, as it reported it."""


def authkeys(backend: Backend) -> Authkeys:
    with mailbox.Mailbox() as box, supervised(backend.name) as session:
        path = box.slot("authkey")
        parents = attempt(lambda: bytes(targets.current_process_of(backend.name).authkey))
        proc = backend.Process(target=life_targets.report_authkey, args=(path, backend.name))
        new = attempt(lambda: bytes(proc.authkey))
        start = session.start(proc, report=path)
        if start.returned:
            session.wait_for(path)
            session.join(proc)
            session.settle()
        return Authkeys(parents=parents, new_process=new, start=start,
                        childs=mailbox.read(path))


# --- parent_process() (KIDS-008) -------------------------------------------------------

@dataclass(frozen=True)
class ParentSeen:
    parent_pid: int
    parent_name: Observed
    start: Call
    reported: Optional[dict]


def parent_seen_by_child(backend: Backend) -> ParentSeen:
    with mailbox.Mailbox() as box, supervised(backend.name) as session:
        path = box.slot("parent")
        name = attempt(lambda: targets.current_process_of(backend.name).name)
        proc = backend.Process(target=life_targets.report_parent, args=(path, backend.name))
        start = session.start(proc, report=path)
        if start.returned:
            session.wait_for(path)
            session.join(proc)
            session.settle()
        return ParentSeen(parent_pid=os.getpid(), parent_name=name, start=start,
                          reported=mailbox.read(path))


# --- the fork server (KIDS-009) ----------------------------------------------------------

@dataclass(frozen=True)
class ServerKilled:
    signal_name: str
    first_start: Call
    first_report: Optional[dict]
    """The first child's ``pid``, ``ppid`` (its maker: the fork server, under forkserver)."""
    server_pid: Optional[int]
    """The first child's maker when it is a helper of this process (a fork server)."""
    server_ended: bool
    """The OS showed the server ended after the signal (bounded)."""
    second_start: Optional[Call]
    second_report: Optional[dict]


def _ended_or_gone(pid: int, within: float) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            with open(f"/proc/{pid}/stat") as f:
                state = f.read().rpartition(")")[2].split()[0]
        except OSError:
            return True
        if state in ("Z", "X"):
            return True
        time.sleep(limits.POLL_INTERVAL)
    return False


def kill_the_fork_server(backend: Backend, signal_name: str) -> ServerKilled:
    """Start a child and learn its maker; when that is a fork server (a helper of this
    process), send it ``signal_name`` and wait (bounded) until it ended; then start a second
    child and see whether it runs its target."""
    import signal

    import psutil

    from harness.helper_processes import is_helper

    with mailbox.Mailbox() as box, supervised(backend.name) as session:
        first = box.slot("first")
        proc = backend.Process(target=targets.report_origin, args=(first,))
        first_start = session.start(proc, report=first)
        if first_start.returned:
            session.wait_for(first)
            session.join(proc)
            session.settle()
        report = mailbox.read(first)
        base: dict[str, Any] = dict(
            signal_name=signal_name, first_start=first_start, first_report=report,
            server_pid=None, server_ended=False, second_start=None, second_report=None)
        if not report or report["ppid"] == os.getpid():
            return ServerKilled(**base)
        server = report["ppid"]
        try:
            helper = is_helper(psutil.Process(server)) and \
                psutil.Process(server).ppid() == os.getpid()
        except psutil.Error:
            helper = False
        if not helper:
            return ServerKilled(**base)
        os.kill(server, getattr(signal, signal_name))
        ended = _ended_or_gone(server, limits.SIGNAL_GRACE)
        base.update(server_pid=server, server_ended=ended)
        if not ended:
            return ServerKilled(**base)
        second = box.slot("second")
        proc2 = backend.Process(target=targets.report_origin, args=(second,))
        second_start = session.start(proc2, report=second)
        if second_start.returned:
            session.wait_for(second)
            session.join(proc2)
            session.settle()
        report2 = mailbox.read(second)
        base.update(second_start=second_start, second_report=report2)
        if report2 and report2["ppid"] != os.getpid():
            _keep_new_server(session, report2["ppid"], is_helper)
        return ServerKilled(**base)


def _keep_new_server(session: Any, pid: int, is_helper: Any) -> None:
    """The server started again inside this scenario has made a child by now, so it has
    exec'd its main: make sure the scenario's watch counts it as the helper it is. (Seen
    first in the instant between its fork and its exec, and that instant longer than the
    watch's HELPER_SETTLE under load, it would stay "not a helper": the scenario's end
    would kill it and reap it, and every later start() of the standard library, which
    waits for its old server's pid, would raise ChildProcessError.)"""
    import psutil

    try:
        helper = is_helper(psutil.Process(pid))
    except psutil.Error:
        return
    if helper:
        session.watch.mark_helper(pid)


@dataclass(frozen=True)
class ServerKilledInProgram:
    """:func:`kill_the_fork_server` run in a program of its own (its own fork server)."""

    signal_name: str
    record: Optional[dict]
    """The program's record: ``first_start``/``second_start`` (``returned``, ``why``,
    ``raised``), ``first_report``, ``server_pid``, ``server_ended``, ``second_report``;
    None when it printed none."""
    returncode: Optional[int]
    timed_out: bool
    stderr: str


def kill_the_fork_server_in_a_program(backend: Backend, signal_name: str
                                      ) -> ServerKilledInProgram:
    """``python -m harness.scenarios.fork_server_program BACKEND SIGNAL``, bounded (the graces of
    two starts and joins), ended with its whole group."""
    import json
    import sys

    from harness import patience
    from harness.supervise import patience_env, run_program

    timeout = 2 * (patience.grace(backend.name, limits.START_GRACE)
                   + patience.grace(backend.name, limits.JOIN_GRACE))
    run = run_program([sys.executable, "-m", "harness.scenarios.fork_server_program", backend.name,
                       signal_name], timeout=timeout, env=patience_env(backend.name),
                      end_group=True)
    record = None
    for line in run.stdout.splitlines():
        if line.startswith("record "):
            record = json.loads(line[len("record "):])
    return ServerKilledInProgram(signal_name=signal_name, record=record,
                                 returncode=run.returncode, timed_out=run.timed_out,
                                 stderr=run.stderr[-600:])


# --- is_alive() reaps an ended child (KIDS-018) ------------------------------------------

@dataclass(frozen=True)
class AliveReaped:
    """A child run to its end, never joined, then asked ``is_alive()``."""

    start: Call
    child_pid: Optional[int]
    """The pid the child posted from inside (not the implementation's ``pid``)."""
    ended: bool
    """The OS showed the child ended before ``is_alive()`` was called."""
    zombie_before: bool
    """The child was a zombie (ended, not reaped) when ``is_alive()`` was called."""
    alive: Observed
    zombie_after: Optional[bool]
    """The child was still a zombie ``limits.RETURN_SLACK`` s after ``is_alive()``
    returned (looked at until it was not)."""


def is_alive_on_an_ended_child(backend: Backend) -> AliveReaped:
    """A child that posts its pid and returns; once the OS shows it ended (no ``join()``,
    nothing else that reaps), ``is_alive()`` (bounded); then whether the child is still a
    zombie (looked at for at most ``limits.RETURN_SLACK`` s)."""
    from harness.supervise.watch import _stat

    def zombie(pid: int) -> bool:
        stat = _stat(pid)
        return stat is not None and stat[0] == "Z"

    with mailbox.Mailbox() as box, supervised(backend.name) as session:
        ran = box.slot("ran")
        proc = backend.Process(target=family_targets.post_pid, args=(ran,))
        start = session.start(proc, report=ran)
        if not start.returned or not session.wait_for(ran):
            return AliveReaped(start=start, child_pid=None, ended=False,
                               zombie_before=False, alive=None, zombie_after=None)
        pid = mailbox.read(ran)
        ended = session.settle() and session.watch.scan().seen and pid != os.getpid()
        before = ended and zombie(pid)
        # Asked again until it reads False, for at most RETURN_SLACK: the news of an end
        # can lag the OS (a fork server writes each exit status to a pipe; seen in CI with
        # lock-serialized-forkserver: is_alive() True once, right after the OS showed the end).
        deadline = time.monotonic() + limits.RETURN_SLACK
        while True:
            call = session.call("is_alive()", lambda: proc.is_alive())
            alive = call.result if call.returned else Raised("Hung", call.why or "")
            if alive is not True or time.monotonic() >= deadline:
                break
            time.sleep(limits.POLL_INTERVAL)
        deadline = time.monotonic() + limits.RETURN_SLACK
        after = zombie(pid)
        while after and time.monotonic() < deadline:
            time.sleep(limits.POLL_INTERVAL)
            after = zombie(pid)
        return AliveReaped(start=start, child_pid=pid, ended=ended, zombie_before=before,
                           alive=alive, zombie_after=after if ended else None)
