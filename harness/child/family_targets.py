"""Child targets of the family claims (specs/children.md KIDS-015..017, exit.md EXIT-011):
a child that starts and joins a child of its own, a child held inside its ``try`` until it
is terminated, and a child whose own child outlives it.

As in :mod:`harness.child.targets`: module-level functions taking plain, picklable
arguments, importable under spawn and forkserver, reporting through :mod:`harness.mailbox`
and doing nothing else. Every wait a target makes is bounded.
"""

from __future__ import annotations

import os
import time

from harness import limits, mailbox
from harness.child.life_targets import _implementation

TYPE_CHECKING = False
if TYPE_CHECKING:
    pass


def post_pid(path: str) -> None:
    """Post this process's pid and return."""
    mailbox.post(path, os.getpid())


# --- a child's own child (KIDS-015) ------------------------------------------------------

def start_and_join_a_child(path: str, grandchild_path: str, backend_name: str) -> None:
    """Start a process of the same implementation (its target posts its pid at
    ``grandchild_path``), join it (bounded), and post what happened: whether ``start()``
    raised, whether ``join()`` returned, the grandchild's pid and exit code."""
    grandchild = _implementation(backend_name).Process(target=post_pid,
                                                       args=(grandchild_path,))
    from harness.child.targets import current_process_of

    record: dict = {"pid": os.getpid(), "start_raised": None, "join_raised": None,
                    "daemon": getattr(current_process_of(backend_name), "daemon", None),
                    "alive_after_join": None, "exitcode": None, "grandchild_pid": None}
    try:
        grandchild.start()
    except Exception as exc:  # what the claim judges
        record["start_raised"] = f"{type(exc).__name__}: {exc}"
        mailbox.post(path, record)
        return
    record["grandchild_pid"] = grandchild.pid
    try:
        grandchild.join(limits.JOIN_GRACE)
        record["alive_after_join"] = grandchild.is_alive()
        record["exitcode"] = grandchild.exitcode
    except Exception as exc:
        record["join_raised"] = f"{type(exc).__name__}: {exc}"
    mailbox.post(path, record)


# --- terminate() while inside a try (EXIT-011) -------------------------------------------

def hold_inside_try(started_path: str, release_path: str, handler_path: str,
                    finally_path: str, parent_pid: int) -> None:
    """Register an ``atexit`` handler that posts at ``handler_path``, then, inside a
    ``try`` whose ``finally`` posts at ``finally_path``: post that we run and wait
    (bounded) for a go-ahead that never comes before the parent stops us. In the parent's
    own process (a thread behind the API) only post that we run."""
    import atexit

    if os.getpid() == parent_pid:
        mailbox.post(started_path, os.getpid())
        return

    atexit.register(mailbox.post, handler_path, os.getpid())
    try:
        mailbox.post(started_path, os.getpid())
        mailbox.hold_until(release_path)
    finally:
        mailbox.post(finally_path, os.getpid())


# --- a child's own child outlives it (KIDS-016, KIDS-017) --------------------------------

def grandchild_outlives_parent(started_path: str, release_path: str, report_path: str,
                               backend_name: str) -> None:
    """The grandchild: post our pid, wait (bounded) for the go-ahead (the harness gives it
    once our parent was terminated); then look at ``parent_process().is_alive()`` until it
    reads False, at most ``limits.RETURN_SLACK`` s, and post what it read (``missing``
    when the implementation has no ``parent_process()``)."""
    mailbox.post(started_path, os.getpid())
    if not mailbox.hold_until(release_path):
        return
    record: dict = {"pid": os.getpid(), "at": time.monotonic(), "missing": False,
                    "parent": None, "first": None, "last": None, "seconds": None,
                    "raised": None}
    getter = getattr(_implementation(backend_name).context, "parent_process", None)
    if getter is None:
        record["missing"] = True
        mailbox.post(report_path, record)
        return
    try:
        parent = getter()
        record["parent"] = getattr(parent, "pid", None)
        began = time.monotonic()
        record["first"] = alive = parent.is_alive()
        while alive and time.monotonic() - began < limits.RETURN_SLACK:
            time.sleep(limits.POLL_INTERVAL)
            alive = parent.is_alive()
        record["last"], record["seconds"] = alive, time.monotonic() - began
    except Exception as exc:  # what the claim judges
        record["raised"] = f"{type(exc).__name__}: {exc}"
    mailbox.post(report_path, record)


def start_a_child_then_hold(started_path: str, release_path: str, grandchild: tuple,
                            backend_name: str, parent_pid: int) -> None:
    """Start a child of our own running :func:`grandchild_outlives_parent` (``grandchild``:
    its started, release and report paths), wait (bounded) until it posts, post our pid
    and its pid, then wait (bounded) for a go-ahead that never comes before the parent
    terminates us. In the parent's own process (a thread behind the API) only post that we
    run."""
    from harness.child.targets import current_process_of

    daemon = getattr(current_process_of(backend_name), "daemon", None)
    if os.getpid() == parent_pid:
        mailbox.post(started_path, {"pid": os.getpid(), "start_raised": None,
                                    "grandchild": None, "daemon": daemon})
        return
    proc = _implementation(backend_name).Process(
        target=grandchild_outlives_parent, args=(*grandchild, backend_name))
    try:
        proc.start()
    except Exception as exc:
        mailbox.post(started_path, {"pid": os.getpid(), "grandchild": None, "daemon": daemon,
                                    "start_raised": f"{type(exc).__name__}: {exc}"})
        return
    ran = mailbox.wait_for(grandchild[0], limits.START_GRACE)
    mailbox.post(started_path, {"pid": os.getpid(), "start_raised": None, "daemon": daemon,
                                "grandchild": mailbox.read(grandchild[0]) if ran else None})
    mailbox.hold_until(release_path)


def report_executable(path: str) -> None:
    """Post this interpreter's ``sys.executable`` (API-019)."""
    import sys

    mailbox.post(path, {"pid": os.getpid(), "executable": sys.executable})
