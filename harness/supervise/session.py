"""One scenario's processes: started and joined with bounded calls, ended at the OS level.

:class:`Session` ends a scenario at the OS level: every process of it still running is
SIGKILLed and this process reaps its own zombies, whatever the implementation's ``kill()``,
``terminate()`` or ``is_alive()`` do. A call on a child that is still running gets its
grace (``harness.limits``, paid in full once per subject: ``harness.patience``).
"""

from __future__ import annotations

import contextlib
import os
import time
from typing import Any, Callable, Iterator, Optional

from harness import limits, patience
from harness.supervise.bounded import Call, call_bounded
from harness.supervise.observed import Observed, attempt
from harness.supervise.slack import gave_up, slack_for
from harness.supervise.watch import Watch

#: The kinds (harness.patience) of the graces a session waits out: for something a child
#: posts (its sign of life), for a child to end by itself, for a child to end after a
#: signal (``terminate()``, ``kill()``: a control whose signal does nothing must not
#: shorten the waits for children that end by themselves).
SIGN_OF_LIFE, END, STOP = "sign-of-life", "end", "stop"


class Session:
    """The processes of one scenario of ``subject`` (a backend name): started and joined
    with bounded calls, waited for with the OS's help, ended at the OS level."""

    def __init__(self, subject: str) -> None:
        self.subject = subject
        self.watch = Watch()
        self._started: list[Any] = []

    def slack(self, kind: str) -> float:
        """The slack of a ``kind`` call (:func:`slack_for`)."""
        return slack_for(self.subject, kind)

    def start(self, proc: Any, report: Optional[str] = None) -> Call:
        """``proc.start()``, bounded: given up ``slack`` s after a new process of the scenario
        appeared (or the child's ``report`` did) while it had not returned, else after the
        start grace."""
        known = set(self.watch.seen)
        grace = limits.START_GRACE  # as the run's patience gives it (harness.patience)
        slack = self.slack("start")
        asked = time.monotonic()
        progress_at: Optional[float] = None

        def give_up(now: float) -> Optional[str]:
            nonlocal progress_at
            if progress_at is None:
                if (report and os.path.exists(report)) or self.watch.new_since(known):
                    progress_at = now
            elif now - progress_at >= slack:
                why = f"start() had not returned {slack} s after its child ran"
                gave_up(self.subject, "start", why)
                return why
            if now - asked >= patience.grace(self.subject, grace, "start"):
                why = f"start() did not return within {now - asked:.1f} s"
                patience.expired(self.subject, why, "start")  # its grace: a hang
                return why
            return None

        self._started.append(proc)
        return call_bounded("start", proc.start, give_up)

    def join(self, proc: Any, timeout: Optional[float] = None, *,
             slack: Optional[float] = None, expected_end: Optional[float] = None,
             grace: float = limits.JOIN_GRACE, bound: Optional[float] = None,
             kind: str = END) -> Call:
        """``proc.join(timeout)``, bounded. The scenario stops waiting (the call did not
        return) ``slack`` s (default :meth:`slack`; a claim that owns "join() returns" passes
        its own) after the OS shows every process of the scenario has ended; at ``bound``
        (monotonic) if given (a timed join on a running child); else ``grace`` s after
        ``expected_end`` (when the child's own work should be over; default now). ``kind``:
        what the grace waits for (harness.patience): :data:`END` (the child ends by itself),
        :data:`STOP` (it ends after a signal)."""
        slack = self.slack("join") if slack is None else slack
        asked = time.monotonic()
        quiet_until = expected_end or asked
        base = max(asked, quiet_until)
        settled_at: Optional[float] = None

        def poll() -> float:  # closer looks once the children have ended (or may have)
            close = settled_at is not None or (
                slack <= limits.SHORT_SLACK and time.monotonic() >= quiet_until)
            return limits.POLL_INTERVAL if close else limits.OS_POLL_INTERVAL

        def give_up(now: float) -> Optional[str]:
            nonlocal settled_at
            if bound is not None and now >= bound:
                return f"join({timeout}) had not returned {now - asked:.3f} s after the call"
            if now >= quiet_until:
                if self.watch.scan().settled:
                    settled_at = settled_at if settled_at is not None else now
                    if now - settled_at >= slack:
                        why = f"join() had not returned {slack} s after its child ended"
                        gave_up(self.subject, "join", why)
                        return why
                else:
                    settled_at = None
            if bound is not None:
                # A timed join is the claim's to bound: a grace the run shortened
                # (harness.patience) must not end it before its bound. Seen under load:
                # JOIN-006 gave up on join(0.3) after 0.26 s and judged it over its bound.
                return None
            deadline = base + patience.grace(self.subject, grace, kind)  # the run's, now
            if now >= deadline:
                patience.expired(self.subject, "join() on a running child did not return "
                                 f"within {deadline - asked:.1f} s", kind)
                return f"join() did not return within {deadline - asked:.1f} s (child running)"
            return None

        call = call_bounded("join", lambda: proc.join(timeout), give_up, poll)
        if call.returned and settled_at is not None and \
                call.ended - settled_at > limits.LATE_JOIN:
            gave_up(self.subject, "join", f"join() returned {call.ended - settled_at:.2f} s "
                    "after its child ended")
        return call

    def read(self, fn: Callable[[], Any], join: Optional[Call]) -> Observed:
        """An attribute of an ended child (``exitcode``), read with ``fn``. When its
        ``join()`` was given up, that call may still be reaping the child in its thread, so
        that a read now finds no status yet (the child reaped, its exit code not yet
        stored): a None is then read again until the join has had ``limits.RETURN_SLACK``
        (not while a process of the scenario still runs: then there is no status yet)."""
        value = attempt(fn)
        if join is None or join.returned or self.running():  # no status to wait for yet
            return value
        deadline = time.monotonic() + limits.RETURN_SLACK
        while value is None and time.monotonic() < deadline:
            time.sleep(limits.POLL_INTERVAL)
            value = attempt(fn)
        return value

    def call(self, name: str, fn: Callable[[], Any], within: float = limits.RETURN_SLACK
             ) -> Call:
        """A call that should return at once (a refusal, a second ``start()``), given up
        after ``within`` s."""
        asked = time.monotonic()
        return call_bounded(name, fn, lambda now: (
            f"{name} had not returned after {within} s" if now - asked >= within else None))

    def wait_for(self, path: str, grace: float = limits.START_GRACE,
                 what: str = "a report from the child") -> bool:
        """Wait until something is posted at ``path``: True once it is. False as soon as it
        cannot come: every process of the scenario has ended without posting it, or no
        process ever ran for the scenario and ``limits.UNSEEN_SLACK`` s have passed (a child
        that no process stands for posts at once); else after the grace."""
        asked = time.monotonic()
        deadline = asked + patience.grace(self.subject, grace, SIGN_OF_LIFE)
        slack = limits.SHORT_SLACK if patience.known(self.subject, "report") \
            else limits.UNSEEN_SLACK
        next_look = asked
        settled = False
        while True:
            if os.path.exists(path):
                return True
            now = time.monotonic()
            if now >= next_look:
                next_look = now + limits.OS_POLL_INTERVAL
                # the run's patience, now: another test may have shown this wait expires
                deadline = asked + patience.grace(self.subject, grace, SIGN_OF_LIFE)
                sight = self.watch.scan()
                if sight.settled:
                    if settled:  # two looks in a row: every process has ended
                        return os.path.exists(path)
                    settled = True
                else:
                    settled = False
                if sight.nothing and now - asked >= slack:
                    gave_up(self.subject, "report",
                            f"no process ran and no {what} came within {slack} s")
                    return os.path.exists(path)
            if now >= deadline:
                patience.expired(self.subject, f"no {what} within {deadline - asked:.1f} s",
                                 SIGN_OF_LIFE)
                return os.path.exists(path)
            time.sleep(limits.POLL_INTERVAL)

    def settle(self, grace: float = limits.JOIN_GRACE, since: Optional[float] = None,
               kind: str = END) -> bool:
        """Wait (bounded: ``grace`` s from ``since``, default now) until no process of the
        scenario runs; True when none does."""
        base = time.monotonic() if since is None else since
        while self.watch.scan().live:
            if time.monotonic() >= base + patience.grace(self.subject, grace, kind):
                patience.expired(self.subject, "a child did not end", kind)
                return False
            time.sleep(limits.POLL_INTERVAL)
        return True

    def running(self) -> bool:
        """Some process of the scenario runs now."""
        return bool(self.watch.scan().live)

    def close(self) -> list[str]:
        """End every process of the scenario (SIGKILL) and reap this process's zombies.

        A child reaped here is one whose exit status its process object never collected; an
        object shaped like the standard library's (``_popen.pid``, ``_popen.returncode``) is
        then handed that status, so that the library's own list of live children (which the
        interpreter joins at exit: a hung ``join()`` would hang the exit) lets it go. The
        scenario is over by then: nothing reads it for a verdict."""
        left = self.watch.end_all(patience.grace(self.subject, limits.SIGNAL_GRACE))
        for proc in self._started:
            popen = getattr(proc, "_popen", None)
            status = self.watch.reaped.get(getattr(popen, "pid", None))  # type: ignore[arg-type]
            if status is not None and getattr(popen, "returncode", 0) is None:
                with contextlib.suppress(Exception):
                    popen.returncode = os.waitstatus_to_exitcode(status)  # type: ignore[union-attr]
        return left


@contextlib.contextmanager
def supervised(subject: str) -> Iterator[Session]:
    """A :class:`Session` of ``subject``; on the way out (also when the body raised), every
    process of it is ended and reaped at the OS level."""
    session = Session(subject)
    try:
        yield session
    finally:
        session.close()
