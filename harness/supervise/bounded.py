"""Calls into the implementation that may block, made so that the harness can stop waiting.

Every call that can block (``start()``, ``join()``) runs under :func:`call_bounded`: the
scenario stops waiting for it, recording that it did not return, as soon as its
``give_up`` names a reason (the OS shows it should have returned, or its grace is over).
"""

from __future__ import annotations

import signal
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable, Optional, Union

from harness import limits
from harness.supervise.observed import Observed, Raised


@dataclass(frozen=True)
class Call:
    """A call into the implementation made in a helper thread, and how it went."""

    name: str
    returned: bool
    result: Observed
    """What it returned (a :class:`Raised` if it raised); None when it did not return."""
    called: float
    """``time.monotonic()`` just before the call (in the helper thread)."""
    ended: float
    """Just after it returned; when it did not, when the scenario stopped waiting."""
    why: str = ""
    """Why the scenario stopped waiting (empty when the call returned)."""

    @property
    def seconds(self) -> float:
        return self.ended - self.called


class _GaveUp(BaseException):
    """Raised in the main thread, inside a call the harness has stopped waiting for."""


#: The signal a watchdog sends the main thread to end a call it gave up (only then).
_INTERRUPT = signal.SIGUSR1


def call_bounded(name: str, fn: Callable[[], Any],
                 give_up: Callable[[float], Optional[str]],
                 poll: Union[float, Callable[[], float]] = limits.OS_POLL_INTERVAL) -> Call:
    """Call ``fn``; wait until it returns, or until ``give_up(now)`` names a reason to stop
    waiting (asked every ``poll`` s, or every ``poll()`` s).

    In the main thread the call is made right there, and a watchdog thread asks
    ``give_up``; once it names a reason, the watchdog interrupts the call (a signal whose
    handler raises in the main thread, sent until the call is left). A healthy call thus
    costs no hand-off between threads. Elsewhere the call runs in a daemon thread that is
    left behind when given up."""
    if threading.current_thread() is threading.main_thread():
        return _call_here(name, fn, give_up, poll)
    return _call_in_thread(name, fn, give_up, poll)


def _interval(poll: Union[float, Callable[[], float]]) -> float:
    return poll() if callable(poll) else poll


def _call_here(name: str, fn: Callable[[], Any], give_up: Callable[[float], Optional[str]],
               poll: Union[float, Callable[[], float]]) -> Call:
    state: dict[str, Any] = {"why": None, "active": True}
    done = threading.Event()
    main = threading.main_thread().ident
    assert main is not None

    def interrupt(signum: int, frame: Any) -> None:
        if state["active"] and state["why"] is not None:
            raise _GaveUp()

    def watchdog() -> None:
        while not done.wait(_interval(poll)):
            why = give_up(time.monotonic())
            if why is None:
                continue
            state["why"] = why
            while not done.is_set():  # again and again: a broken call may swallow one
                signal.pthread_kill(main, _INTERRUPT)
                done.wait(limits.OS_POLL_INTERVAL)
            return

    previous = signal.signal(_INTERRUPT, interrupt)
    called = time.monotonic()
    guard = threading.Thread(target=watchdog, name=f"procspec-watch-{name}", daemon=True)
    box: dict[str, Any] = {}
    try:
        guard.start()
        try:
            box["result"] = fn()
        except _GaveUp:
            pass
        except (Exception, SystemExit) as exc:  # recorded, judged by the test
            box["result"] = Raised(type(exc).__name__, str(exc))
        box["returned"] = time.monotonic()
    except _GaveUp:  # delivered just after the call itself had ended
        box.setdefault("returned", time.monotonic())
    finally:
        state["active"] = False
        done.set()
        guard.join()  # no interrupt is sent once it has stopped
        signal.signal(_INTERRUPT, previous)
    if state["why"] is not None:  # given up (a call that then returned was interrupted)
        return Call(name, False, None, called, box["returned"], state["why"])
    return Call(name, True, box.get("result"), called, box["returned"])


def _call_in_thread(name: str, fn: Callable[[], Any],
                    give_up: Callable[[float], Optional[str]],
                    poll: Union[float, Callable[[], float]]) -> Call:
    box: dict[str, Any] = {}
    done = threading.Event()

    def body() -> None:
        box["called"] = time.monotonic()
        try:
            box["result"] = fn()
        except BaseException as exc:  # recorded, judged by the test
            box["result"] = Raised(type(exc).__name__, str(exc))
        box["returned"] = time.monotonic()
        done.set()

    asked = time.monotonic()
    threading.Thread(target=body, name=f"procspec-{name}", daemon=True).start()
    while not done.wait(_interval(poll)):
        why = give_up(time.monotonic())
        if why is not None and not done.is_set():
            return Call(name, False, None, box.get("called", asked), time.monotonic(), why)
    return Call(name, True, box["result"], box["called"], box["returned"])
