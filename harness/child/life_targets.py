"""Child targets of the contract claims (specs/children.md, exit.md, stdio.md, and
process-api.md's API-016 and API-020): what a child reports about its parent and its
flags, how it ends, what its standard streams and descriptors are, and a callable target
whose references the parent must drop.

As in :mod:`harness.child.targets`: module-level functions taking plain, picklable
arguments, importable under spawn and forkserver, reporting through :mod:`harness.mailbox`
and doing nothing else. Every wait a target makes is bounded.
"""

from __future__ import annotations

import os
import sys
import threading
import time

from harness import limits, mailbox
from harness.child.targets import current_process_of

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def _implementation(backend_name: str) -> Any:
    from harness.backends import resolve

    return resolve(backend_name)


# --- what a child knows (specs/children.md) ---------------------------------------------

def report_new_process_daemon(path: str, backend_name: str) -> None:
    """Create (never start) a process of the same implementation without a ``daemon``
    argument; post its ``daemon`` (the value itself) and this child's own flag."""
    backend = _implementation(backend_name)
    made = backend.Process(target=time.sleep, args=(0,))
    mailbox.post(path, {"made_daemon": made.daemon,
                        "own_daemon": current_process_of(backend_name).daemon})


def report_parent(path: str, backend_name: str) -> None:
    """Post what the implementation's ``parent_process()`` gives here: its pid and name
    (``missing`` when the implementation has no such function)."""
    context = _implementation(backend_name).context
    getter = getattr(context, "parent_process", None)
    if getter is None:
        mailbox.post(path, {"missing": True})
        return
    parent = getter()
    mailbox.post(path, {"missing": False, "is_none": parent is None,
                        "pid": getattr(parent, "pid", None),
                        "name": getattr(parent, "name", None)})


def report_authkey(path: str, backend_name: str) -> None:
    """Post this child's ``current_process().authkey`` (as bytes)."""
    key = current_process_of(backend_name).authkey
    mailbox.post(path, bytes(key) if key is not None else None)


# --- a target the parent must let go (specs/process-api.md, API-020) ------------------

class Cargo:
    """An argument object: an instance of a module-level class, so pickle carries it by
    name under spawn and forkserver, and a weak reference can follow it in the parent."""


class PostingTarget:
    """A callable target (a module-level class's instance, picklable and weakly
    referenceable, as CPython's ``test_lose_target_ref`` uses one): posts this process's
    pid and the types of the arguments it was given."""

    def __call__(self, path: str, cargo: Any, *, keyword: Any = None) -> None:
        mailbox.post(path, {"pid": os.getpid(), "cargo": type(cargo).__name__,
                            "keyword": type(keyword).__name__})


# --- how a child ends (specs/exit.md) ---------------------------------------------------

def _stderr_to(path: str) -> None:
    """This process's ``sys.stderr`` becomes a fresh file at ``path`` (what the
    implementation writes to the child's stderr at its end lands there)."""
    sys.stderr = open(path, "w", encoding="utf-8", errors="backslashreplace")


def _in_parent(ran_path: str, parent_pid: int) -> bool:
    """A "child" that runs in its parent's process (a thread in disguise) posts that and
    must not touch the process's streams or signal it."""
    if os.getpid() == parent_pid:
        mailbox.post(ran_path, os.getpid())
        return True
    return False


def exit_with_reason(ran_path: str, stderr_path: str, reason: Any, parent_pid: int) -> None:
    """Post that the target ran; point ``sys.stderr`` at ``stderr_path``; ``sys.exit(reason)``."""
    if _in_parent(ran_path, parent_pid):
        return
    mailbox.post(ran_path, os.getpid())
    _stderr_to(stderr_path)
    sys.exit(reason)


def raise_uncaught(ran_path: str, stderr_path: str, message: str, parent_pid: int) -> None:
    """Post that the target ran; point ``sys.stderr`` at ``stderr_path``; raise a
    ``LookupError(message)`` that nothing catches."""
    if _in_parent(ran_path, parent_pid):
        return
    mailbox.post(ran_path, os.getpid())
    _stderr_to(stderr_path)
    raise LookupError(message)


def start_thread_and_return(ran_path: str, thread_path: str, seconds: float,
                            parent_pid: int) -> None:
    """Start a non-daemon thread that sleeps ``seconds`` and then posts its end; post that
    the target returns, and return at once. (In the parent's own process, a thread in
    disguise, no thread is started: it would outlive the scenario.)"""
    if _in_parent(ran_path, parent_pid):
        return
    def work() -> None:
        time.sleep(seconds)
        mailbox.post(thread_path, time.monotonic())

    threading.Thread(target=work, daemon=False).start()
    mailbox.post(ran_path, time.monotonic())


def signal_self(ran_path: str, signum: int, parent_pid: int) -> None:
    """Post that the target ran, give ``signum`` its default action (a fork child inherits
    its parent's handlers, and the interpreter ignores SIGPIPE), send it to this process,
    and sleep (bounded) until it takes effect."""
    import signal

    if _in_parent(ran_path, parent_pid):
        return
    mailbox.post(ran_path, os.getpid())
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)
    time.sleep(limits.LONG_SLEEP)


def register_exit_handler(ran_path: str, handler_path: str, parent_pid: int) -> None:
    """Register an ``atexit`` handler that posts to ``handler_path``; post that the target
    ran; return."""
    import atexit

    if _in_parent(ran_path, parent_pid):
        return
    atexit.register(mailbox.post, handler_path, os.getpid())
    mailbox.post(ran_path, os.getpid())


# --- standard streams and descriptors (specs/stdio.md) ----------------------------------

def read_stdin(path: str, parent_pid: int) -> None:
    """Read ``sys.stdin`` to its end in a daemon thread; post what the read gave (the text,
    or the exception) within 2 s, or that it was still blocked then. (In the parent's own
    process, a thread in disguise, it posts ``("parent", pid)`` and reads nothing.)"""
    if os.getpid() == parent_pid:
        mailbox.post(path, ("parent", os.getpid()))
        return
    outcome: dict = {}

    def read() -> None:
        try:
            stream = sys.stdin
            outcome["read"] = ("value", None if stream is None else stream.read())
        except BaseException as exc:  # noqa: BLE001 - the outcome is the report
            outcome["read"] = ("raised", f"{type(exc).__name__}: {exc}")

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(2.0)
    mailbox.post(path, outcome.get("read", ("blocked", "read() had not returned after 2 s")))


def break_stream_and_return(path: str, stream: str, how: str, parent_pid: int) -> None:
    """Set ``sys.<stream>`` to None or to a closed file (``how``: "none", "closed", or
    "keep" to leave it); post that the target ran; return."""
    if _in_parent(path, parent_pid):
        return
    if how == "closed":
        import io

        broken = io.StringIO()
        broken.close()
        setattr(sys, stream, broken)
    elif how == "none":
        setattr(sys, stream, None)
    mailbox.post(path, os.getpid())


def report_descriptor(path: str, fd: int) -> None:
    """Post whether descriptor ``fd`` is open in this process."""
    try:
        os.fstat(fd)
        is_open = True
    except OSError:
        is_open = False
    mailbox.post(path, {"open": is_open, "pid": os.getpid()})
