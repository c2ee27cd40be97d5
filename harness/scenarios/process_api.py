"""Process API scenarios (specs/process-api.md): name set later, daemon, close(), and
terminate()/kill() on an ended process.

As in :mod:`harness.scenarios.lifecycle`: each function returns a frozen record and never
asserts; ``start()``, ``join()`` and any call that could block are bounded
(:mod:`harness.supervise`); what has started and ended is read from the OS; every process
of a scenario is ended and reaped at the OS level before the function returns.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from typing import Any, Optional

from harness import limits, mailbox, patience
from harness.backends import Backend
from harness.child import targets
from harness.supervise import (
    Call,
    Observed,
    Raised,
    attempt,
    patience_env,
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
        proc = backend.Process(target=targets.hold, args=(started, release, backend.name),
                               daemon=initial)
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
        proc = backend.Process(target=targets.start_a_child, args=(path, backend.name),
                               daemon=True)
        start = session.start(proc, report=path)
        if start.returned:
            session.wait_for(path)
            session.join(proc)
            session.settle()
        return DaemonParent(start=start, reported=mailbox.read(path))


@dataclass(frozen=True)
class DaemonAtExit:
    """A separate interpreter whose main code ends while its daemon child sleeps."""

    program_pid: Optional[int]
    child_pid: Optional[int]
    events: tuple[str, ...]
    returncode: Optional[int]
    program_exited: bool
    """The program exited by itself (not ended by the harness)."""
    child_ended: bool
    """The OS showed the child had ended (gone, or a zombie) within the grace."""
    child_end_after_main: Optional[float]
    """Seconds from ``main done`` to the first look that found the child ended."""
    grace: float
    stderr: str

    def saw(self, event: str) -> bool:
        return any(line.startswith(event) for line in self.events)


_PR_SET_CHILD_SUBREAPER = 36


def _subreaper(on: bool) -> bool:
    """Make orphans of the program come back to this process (so a daemon child left
    running by its parent is ours to end and reap). Linux only."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        return ctypes.CDLL(None, use_errno=True).prctl(
            _PR_SET_CHILD_SUBREAPER, int(on), 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def _ended(pid: int) -> bool:
    """The OS shows ``pid`` ended: gone, or a zombie."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            data = fh.read()
    except OSError:
        return True
    return data[data.rfind(b")") + 2:].split()[:1] in ([b"Z"], [b"X"], [b"x"])


def _child_pid(out: str) -> Optional[int]:
    for line in out.splitlines():
        if line.startswith("child started "):
            with contextlib.suppress(ValueError, IndexError):
                return int(line.split()[2])
    return None


def _end_group(pgid: int, grace: float) -> None:
    """SIGKILL the program's process group; reap those of its processes that came back to
    this process (the subreaper), bounded."""
    import psutil

    with contextlib.suppress(OSError):
        os.killpg(pgid, signal.SIGKILL)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        try:
            mine = [p.pid for p in psutil.Process().children()]
        except psutil.Error:
            mine = []
        ours = []
        for pid in mine:
            with contextlib.suppress(OSError):
                if os.getpgid(pid) == pgid:
                    ours.append(pid)
        if not ours:
            return
        for pid in ours:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
            with contextlib.suppress(ChildProcessError, OSError):
                os.waitpid(pid, os.WNOHANG)
        time.sleep(limits.POLL_INTERVAL)


def run_program_with_a_daemon_child(backend: Backend) -> DaemonAtExit:
    """Run ``python -m harness.child.daemon_main`` in its own session (its output goes to
    a file: a daemon child left running keeps no pipe of ours open); from ``main done``
    on, watch (bounded: ``grace``) for its daemon child to end. The program is ended with
    its whole group once the child has ended and it has not exited ``RETURN_SLACK`` s
    later, or at the grace; its orphans come back to this process and are reaped."""
    key = f"{backend.name}:daemon-at-exit"  # this wait's own patience: no other wait's
    grace = patience.grace(key, limits.RETURN_SLACK + limits.SIGNAL_GRACE + 3.0)
    overall = 2 * patience.grace(backend.name, limits.JOIN_GRACE)
    cmd = [sys.executable, "-m", "harness.child.daemon_main", backend.name]
    main_done: Optional[float] = None
    child_ended: Optional[float] = None
    child: Optional[int] = None
    subreaper = _subreaper(True)
    try:
        with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
            program = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out,
                                       stderr=err, start_new_session=True,
                                       env=patience_env(backend.name))
            began = time.monotonic()
            try:
                while True:
                    now = time.monotonic()
                    text = _read(out)
                    child = child if child is not None else _child_pid(text)
                    if main_done is None and "main done" in text:
                        main_done = now
                    if child is not None and child_ended is None and main_done is not None \
                            and _ended(child):
                        child_ended = now
                    exited = program.poll() is not None
                    if main_done is None and (exited or now - began >= overall):
                        break  # it never got as far as its exit (or exited without it)
                    if main_done is not None and child_ended is not None and (
                            exited or now - child_ended >= limits.RETURN_SLACK):
                        break
                    if main_done is not None and now - main_done >= grace:
                        patience.expired(key, "a daemon child outlived its parent's main code")
                        break
                    time.sleep(limits.POLL_INTERVAL)
                exited = program.poll() is not None
            finally:
                _end_group(program.pid, limits.SIGNAL_GRACE + limits.RETURN_SLACK)
                with contextlib.suppress(subprocess.TimeoutExpired):
                    program.wait(limits.SIGNAL_GRACE)
            text, stderr = _read(out), _read(err)
    finally:
        if subreaper:
            _subreaper(False)
    return DaemonAtExit(
        program_pid=program.pid, child_pid=child,
        events=tuple(line.rpartition(" ")[0] for line in text.splitlines()),
        returncode=program.returncode if exited else None, program_exited=exited,
        child_ended=child_ended is not None,
        child_end_after_main=None if child_ended is None or main_done is None
        else child_ended - main_done,
        grace=grace, stderr=stderr[-2000:])


def _read(stream: Any) -> str:
    stream.seek(0)
    return stream.read().decode(errors="replace")


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
        started, release, released = (box.slot("started"), box.slot("release"),
                                      box.slot("released"))
        proc = backend.Process(target=targets.hold,
                               args=(started, release, backend.name, released))
        start = session.start(proc, report=started)
        running = start.returned and session.wait_for(started)
        if not running:
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
