"""Child targets: module-level functions, importable under spawn and forkserver.

Each target takes plain, picklable arguments (paths, numbers, strings), reports what it saw
through :mod:`harness.mailbox`, and does nothing else: the behaviour under test is the
implementation's, not the target's.

Under spawn and forkserver every child imports this module, so its imports stay few and
light: a module that only some targets need (psutil, the implementation's own package) is
imported by those targets.
"""

from __future__ import annotations

import copy
import os
import sys
import time

from harness import limits, mailbox

# typing only for the type checker: every spawn or forkserver child imports this module,
# and importing typing costs each 1.6 ms (python -X importtime).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Optional

#: Exit behaviours a target can end with (see :func:`end_as`).
EXIT_KINDS = ("return", "raise", "sys.exit", "sys.exit()", "os._exit")


def current_process_of(backend_name: str) -> Any:
    """The implementation's own ``current_process()``, as seen from inside a child."""
    from harness.backends import resolve

    context = resolve(backend_name).context
    getter = getattr(context, "current_process", None)
    if getter is None:
        import multiprocessing

        getter = multiprocessing.current_process
    return getter()


def noop() -> None:
    """Do nothing and return."""


def sleep_for(seconds: float) -> None:
    time.sleep(seconds)


def report_grandchild_name(path: str, backend_name: str) -> None:
    """Create (not start) a process of the same implementation; post its default name."""
    from harness.backends import resolve

    grandchild = resolve(backend_name).Process(target=noop)
    mailbox.post(path, {"own_name": current_process_of(backend_name).name,
                        "grandchild_name": grandchild.name})


def hold(started_path: str, release_path: str, backend_name: str,
         released_path: Optional[str] = None, linger: float = 0.0,
         linger_path: Optional[str] = None) -> None:
    """Post our pid and name as seen from inside, then wait (bounded) for the go-ahead;
    once it has come, post that (at ``released_path``, when given): proof that this child
    was still running when the parent gave it. With ``linger_path``: then sleep ``linger``
    s before returning, once only (the first runner posts there: an implementation that
    also runs the target elsewhere, later, does not sleep again)."""
    mailbox.post(started_path, {"pid": os.getpid(),
                                "name": current_process_of(backend_name).name})
    released = mailbox.hold_until(release_path)
    if released and released_path is not None:
        mailbox.post(released_path, {"pid": os.getpid(), "at": time.monotonic()})
    if released and linger > 0 and linger_path is not None \
            and not os.path.exists(linger_path):
        mailbox.post(linger_path, os.getpid())
        time.sleep(linger)


def sleep_long(started_path: str) -> None:
    """Post that we run, then sleep for a long (but bounded) time."""
    mailbox.post(started_path, os.getpid())
    time.sleep(limits.LONG_SLEEP)


def end_as(ran_path: str, parent_pid: int, kind: str, value: Any) -> Any:
    """Post that the target ran, then end in the way ``kind`` names.

    ``return`` returns ``value``; ``raise`` raises an uncaught exception; ``sys.exit`` calls
    ``sys.exit(value)``; ``sys.exit()`` calls it with no argument; ``os._exit`` calls
    ``os._exit(value)``, unless this "child" shares the parent's pid (a thread in disguise),
    where it would end the test runner: then it raises ``SystemExit(value)`` instead.
    """
    mailbox.post(ran_path, os.getpid())
    in_own_process = os.getpid() != parent_pid
    if kind == "return":
        return value
    if kind == "raise":
        _quiet_stderr(in_own_process)  # keep the expected traceback out of the log
        raise RuntimeError(f"procspec: uncaught exception on purpose ({value!r})")
    if kind == "sys.exit":
        if isinstance(value, str):
            _quiet_stderr(in_own_process)  # sys.exit(text) prints the text
        sys.exit(value)
    if kind == "sys.exit()":
        sys.exit()
    if kind == "os._exit":
        if not in_own_process:
            raise SystemExit(value)
        os._exit(value)
    raise ValueError(f"unknown exit kind {kind!r}")


def _quiet_stderr(in_own_process: bool) -> None:
    if in_own_process:  # never touch the parent's stderr from a thread in disguise
        sys.stderr = open(os.devnull, "w")


# --- join timing (specs/join-timing.md) ---------------------------------------------

def sleep_and_stamp(path: str, seconds: float) -> None:
    """Sleep ``seconds``; post ``(began, ended)``, both ``time.monotonic()``."""
    began = time.monotonic()
    if seconds > 0:
        time.sleep(seconds)
    ended = time.monotonic()
    mailbox.post(path, (began, ended))


def post_then_sleep(path: str, seconds: float) -> None:
    """Post that we run, then sleep ``seconds`` (a bounded "long" child)."""
    mailbox.post(path, time.monotonic())
    time.sleep(seconds)


# --- isolation (specs/isolation.md) -------------------------------------------------

def _state() -> Any:
    """:mod:`harness.child.isolation_state`, imported when an isolation target first runs
    (under spawn and forkserver, afresh in the child: which is what its claims are about)."""
    from harness.child import isolation_state

    return isolation_state


def write_and_report(path: str, write: str) -> None:
    """Apply one write (``(kind, value)``, read from the mailbox slot ``write``: the value
    does not travel as an argument, whose passing is ISO-006's business) to the module
    state; post the state before and after it."""
    kind, value = mailbox.read(write)
    state = _state()
    before = state.view()
    state.apply(kind, value)
    mailbox.post(path, {"pid": os.getpid(), "before": before, "after": state.view()})


def mutate_and_report(path: str, arg: dict, write: str) -> None:
    """Mutate the argument in place (``(kind, value)`` read from the mailbox slot
    ``write``); post it before and after."""
    kind, value = mailbox.read(write)
    before = copy.deepcopy(arg)
    _state().mutate_argument(arg, kind, value)
    mailbox.post(path, {"pid": os.getpid(), "before": before, "after": copy.deepcopy(arg)})


def echo_arguments(path: str, *args: Any, **kwargs: Any) -> None:
    """Post the positional and keyword arguments exactly as received."""
    mailbox.post(path, {"pid": os.getpid(), "args": args, "kwargs": kwargs})


def report_view(path: str) -> None:
    """Post the module state as this child finds it on entry."""
    mailbox.post(path, {"pid": os.getpid(), "view": _state().view()})


def report_after_go_ahead(path: str, release: str, arg: dict, twin: Any = None,
                          entered: Optional[str] = None) -> None:
    """Post that we run (at ``entered``, when given), wait (bounded) for the parent's
    go-ahead; then post the module state, ``arg`` and ``twin`` (a copy of ``arg`` the
    parent never changes: however the implementation passes arguments, the two arrive
    alike unless ``arg`` was changed before the child got its copy)."""
    if entered is not None:
        mailbox.post(entered, os.getpid())
    released = mailbox.hold_until(release)
    mailbox.post(path, {"pid": os.getpid(), "released": released, "view": _state().view(),
                        "arg": copy.deepcopy(arg), "twin": copy.deepcopy(twin)})


def report_origin(path: str) -> None:
    """Post how the OS sees this process: pid, parent pid, command line."""
    mailbox.post(path, {"pid": os.getpid(), "ppid": os.getppid(),
                        "cmdline": cmdline_of(os.getpid())})


def cmdline_of(pid: int) -> Optional[list[str]]:
    """The command line the OS shows for ``pid`` (None when it cannot be read)."""
    import psutil

    try:
        return list(psutil.Process(pid).cmdline())
    except psutil.Error:
        return None


# --- the Process API the page names (specs/process-api.md) --------------------------

def start_a_child(path: str, backend_name: str) -> None:
    """Try to start a process of the same implementation (a no-op child) from inside this
    one; post what ``start()`` did (``None``, or the exception's type and message) and this
    process's own ``daemon`` flag. A grandchild that did start is joined, bounded."""
    from harness.backends import resolve

    grandchild = resolve(backend_name).Process(target=noop)
    try:
        grandchild.start()
        refused: Optional[tuple[str, str]] = None
    except Exception as exc:  # what the claim judges
        refused = (type(exc).__name__, str(exc))
    me = current_process_of(backend_name)
    mailbox.post(path, {"pid": os.getpid(), "refused": refused,
                        "daemon": getattr(me, "daemon", None)})
    if refused is None:
        try:
            grandchild.join(limits.JOIN_GRACE)
        except Exception:  # the harness ends every process of the scenario anyway
            pass


def join_self(asked_path: str, path: str, backend_name: str) -> None:
    """Post that we are about to call our own ``current_process().join()`` (the
    implementation's), call it, and post what it did: ``None`` (it returned) or the
    exception's type and message. A ``join()`` that never returns leaves only the first
    post (the parent stops waiting; the harness ends this child)."""
    me = current_process_of(backend_name)
    mailbox.post(asked_path, os.getpid())
    try:
        me.join()
        refused: Optional[tuple[str, str]] = None
    except Exception as exc:  # what the claim judges
        refused = (type(exc).__name__, str(exc))
    mailbox.post(path, {"pid": os.getpid(), "refused": refused})


def report_ran(path: str) -> None:
    """Post that the target ran (this process's pid)."""
    mailbox.post(path, os.getpid())


def report_main_thread_native_id(path: str) -> None:
    """Post this process's main thread's ``native_id`` (the OS's id for it)."""
    import threading

    mailbox.post(path, {"pid": os.getpid(),
                        "native_id": getattr(threading.main_thread(), "native_id", None)})
