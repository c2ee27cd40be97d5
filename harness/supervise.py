"""Starting, observing and always reaping a process under test, with every wait bounded.

The implementation under test may be broken (that is what the negative controls are), so
nothing here trusts it: each call is guarded, each wait has a timeout, and
:func:`supervised` stops and reaps the process whatever happened in between.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from dataclasses import dataclass
from typing import Any, Callable, Iterator, Mapping, Optional, Sequence, Union

from harness import limits


@dataclass(frozen=True)
class Raised:
    """An exception a call raised, reduced to plain data."""

    type_name: str
    message: str

    def __str__(self) -> str:
        return f"{self.type_name}({self.message!r})"


Observed = Union[Any, Raised]


def attempt(call: Callable[[], Any]) -> Observed:
    """Call, returning the result or the exception it raised as a :class:`Raised`."""
    try:
        return call()
    except Exception as exc:  # the record keeps it; the test judges it
        return Raised(type(exc).__name__, str(exc))


def is_alive(proc: Any) -> Observed:
    return attempt(proc.is_alive)


def timed_join(proc: Any, timeout: Optional[float]) -> tuple[float, float, Observed]:
    """Call ``proc.join(timeout)``; return (monotonic before, monotonic after, result)."""
    before = time.monotonic()
    result = attempt(lambda: proc.join(timeout))
    return before, time.monotonic(), result


def stop_and_reap(proc: Any, grace: float = limits.SIGNAL_GRACE) -> bool:
    """Make sure ``proc`` is over: if it is still alive, kill (or terminate) it and wait.

    Returns True when the process is known to be gone. Never raises, and never calls
    ``join()``: a broken ``join()`` may ignore its timeout (``is_alive()`` reaps too).
    """
    if is_alive(proc) is not True:
        return True
    method = getattr(proc, "kill", None) or getattr(proc, "terminate", None)
    if callable(method):
        attempt(method)
        return _poll_until_dead(proc, grace)
    return False


def _poll_until_dead(proc: Any, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while is_alive(proc) is True:
        if time.monotonic() >= deadline:
            return False
        time.sleep(limits.POLL_INTERVAL)
    return True


@contextlib.contextmanager
def supervised(proc: Any) -> Iterator[Any]:
    """Yield ``proc``; on the way out, stop and reap it (also when the body raised)."""
    try:
        yield proc
    finally:
        stop_and_reap(proc)


@dataclass(frozen=True)
class ProgramOutput:
    """A separate program run to its end (or killed with its whole session)."""

    returncode: Optional[int]
    timed_out: bool
    stdout: str
    stderr: str


def run_program(cmd: Sequence[str], timeout: Optional[float], cwd: Optional[str] = None,
                env: Optional[Mapping[str, str]] = None) -> ProgramOutput:
    """Run ``cmd`` in its own session; after ``timeout`` s kill the session, children too."""
    proc = subprocess.Popen(list(cmd), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True, text=True, cwd=cwd,
                            env=dict(env) if env is not None else None)
    timed_out = False
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
        attempt(lambda: os.killpg(proc.pid, signal.SIGKILL))
        out, err = proc.communicate()
    return ProgramOutput(proc.returncode, timed_out, out, err)
