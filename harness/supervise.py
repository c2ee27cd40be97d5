"""Starting, observing and always ending the processes of a scenario, every wait bounded.

The implementation under test may be broken (that is what the negative controls are), so
nothing here depends on it being right:

- what has started and what has ended is read from the OS (:class:`Watch`: the processes
  that appeared below this one since the scenario began, the implementation's own helpers
  excepted), never from the implementation: its ``pid``, ``is_alive()`` and ``exitcode``
  are what the claims judge, so the harness must not lean on them;
- every call that can block (``start()``, ``join()``) runs in a helper thread
  (:func:`call_bounded`), and the scenario stops waiting for it, recording that it did not
  return, as soon as the OS shows that it should have returned: ``limits.RETURN_SLACK``
  after its child appeared (``start()``) or ended (``join()``). A call on a child that is
  still running gets its grace (``harness.limits``, paid in full once per subject:
  ``harness.patience``);
- :class:`Session` ends a scenario at the OS level: every process of it still running is
  SIGKILLed and this process reaps its own zombies, whatever the implementation's
  ``kill()``, ``terminate()`` or ``is_alive()`` do.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import threading
import time
from dataclasses import dataclass
from typing import IO, Any, Callable, Iterator, Mapping, Optional, Sequence, Union

from harness import limits, patience

# psutil (and harness.helper_processes, which uses it) is imported where it is needed: this
# module is imported by every child a scenario starts under spawn (its targets live beside
# the scenarios), and a child that does not watch processes should not pay for the import.


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


def figures(subject: str) -> dict[str, str]:
    """Figures for a violation message: why this subject's waits were short, if they were."""
    note = patience.note(subject)
    return {"patience": note} if note else {}


# --- the OS's view -----------------------------------------------------------------------

def _stat(pid: int) -> Optional[tuple[str, int, int]]:
    """(state, ppid, cminflt) of ``pid`` from /proc/PID/stat; None when it is gone.

    ``cminflt`` counts the minor page faults of the children ``pid`` has reaped: every
    process faults when it runs, so it grows with every child reaped. That is how the
    harness learns that a child ended even when it lived too briefly to be seen (a fork
    server reaps its children at once)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            data = fh.read()
    except OSError:
        return None
    fields = data[data.rfind(b")") + 2:].split()
    try:
        return fields[0].decode(), int(fields[1]), int(fields[8])
    except (IndexError, ValueError):
        return None


#: How long a process below the root is looked at before "not a helper" is final (a fork
#: server or resource tracker execs within milliseconds of its fork).
HELPER_SETTLE = 0.5

#: Above this many threads in one process, one walk of all of /proc (psutil) is cheaper
#: than a children file per thread (a hung join() leaves its helper thread behind).
_MANY_THREADS = 64


def _children(pid: int) -> Optional[list[int]]:
    """Direct children of ``pid`` (/proc/PID/task/TID/children of each of its threads);
    None when the kernel does not offer those files, or the process has many threads."""
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return []
    if len(tasks) > _MANY_THREADS:
        return None
    found: list[int] = []
    for tid in tasks:
        try:
            with open(f"/proc/{pid}/task/{tid}/children", "rb") as fh:
                found += [int(word) for word in fh.read().split()]
        except FileNotFoundError:
            if not os.path.exists(f"/proc/{pid}/task/{tid}"):
                continue  # the thread has just ended
            return None
        except OSError:
            continue
    return found


def descendants(root: int) -> list[int]:
    """Every process below ``root`` (a few /proc reads; psutil's walk of all of /proc when
    the kernel lacks /proc/PID/task/TID/children)."""
    found: list[int] = []
    todo = [root]
    while todo:
        kids = _children(todo.pop())
        if kids is None:
            import psutil

            try:
                return [p.pid for p in psutil.Process(root).children(recursive=True)]
            except psutil.Error:
                return []
        found += kids
        todo += kids
    return found


@dataclass(frozen=True)
class Sight:
    """One look at a scenario's processes."""

    live: tuple[int, ...]
    """Processes of the scenario running now (zombies are not running)."""
    ended: bool
    """Some process of the scenario has ended (a zombie, gone, or reaped unseen)."""
    seen: bool
    """Some process of the scenario ever existed (seen, or reaped unseen)."""

    @property
    def settled(self) -> bool:
        """Processes ran, and none runs any more."""
        return not self.live and self.ended

    @property
    def nothing(self) -> bool:
        """No process ever ran for the scenario (a thread in disguise; a start deferred)."""
        return not self.live and not self.seen


class Watch:
    """The processes that appeared below ``root`` (default: this process) since the watch
    began, seen from the OS, minus the root's own helpers (the fork server and resource
    tracker it started: :func:`harness.helper_processes.is_helper`; a helper started by one
    of the scenario's children is the scenario's, and is ended with it)."""

    def __init__(self, root: Optional[int] = None) -> None:
        self.root = os.getpid() if root is None else root
        self._helpers: dict[int, tuple[bool, float]] = {}
        present = descendants(self.root)
        self.before = set(present) if root is None else set()
        self.seen: set[int] = set()
        self.reaped: dict[int, int] = {}
        """pid -> wait status of each zombie this watch reaped itself (:meth:`end_all`)."""
        self._faults0 = self._faults(present)

    def _is_helper(self, pid: int) -> bool:
        """A helper of the root. A "no" is final only once the process has been looked at
        for HELPER_SETTLE s: a helper is started by fork and exec, and until the exec it
        shows its parent's command line."""
        now = time.monotonic()
        known, since = self._helpers.get(pid, (False, now))
        if known or now - since >= HELPER_SETTLE:
            return known
        stat = _stat(pid)
        helper = False
        if stat is not None and stat[1] == self.root:
            import psutil

            from harness.helper_processes import is_helper

            try:
                helper = is_helper(psutil.Process(pid))
            except psutil.Error:
                helper = False
        self._helpers[pid] = (helper, since)
        if helper:
            self.seen.discard(pid)
        return helper

    def _faults(self, present: list[int]) -> dict[int, int]:
        """Reaped-children fault counts of the root and of its helpers (a fork server reaps
        the children it forks)."""
        counts = {}
        for pid in [self.root] + [p for p in present if self._is_helper(p)]:
            stat = _stat(pid)
            counts[pid] = 0 if stat is None else stat[2]
        return counts

    def _ours(self, present: list[int]) -> list[int]:
        return [pid for pid in present if pid not in self.before and not self._is_helper(pid)]

    def ours(self) -> list[int]:
        """The scenario's processes present now (running or zombie)."""
        return self._ours(descendants(self.root))

    def scan(self) -> Sight:
        present = descendants(self.root)
        live: list[int] = []
        ended = False
        found = set()
        for pid in self._ours(present):
            found.add(pid)
            self.seen.add(pid)
            stat = _stat(pid)
            if stat is None or stat[0] in ("Z", "X", "x"):
                ended = True
            else:
                live.append(pid)
        if self.seen - found:
            ended = True
        if not ended and not live:
            ended = any(count > self._faults0.get(pid, 0)
                        for pid, count in self._faults(present).items())
        return Sight(live=tuple(live), ended=ended, seen=bool(self.seen) or ended)

    def new_since(self, known: set[int]) -> bool:
        """A process of the scenario appeared (or ended unseen) that ``known`` lacks."""
        sight = self.scan()
        return bool(self.seen - known) or (not known and sight.ended)

    def end_all(self, grace: float) -> list[str]:
        """SIGKILL every process of the scenario still running, reap this process's own
        zombies among them, and wait (bounded) until none is left. Returns a description of
        those still there after ``grace``."""
        deadline = time.monotonic() + grace
        me = os.getpid()
        while True:
            left = self.ours()
            if not left:
                return []
            for pid in left:
                stat = _stat(pid)
                if stat is None:
                    continue
                with contextlib.suppress(OSError):
                    if stat[0] != "Z":
                        os.kill(pid, signal.SIGKILL)
                    elif stat[1] == me:
                        done, status = os.waitpid(pid, os.WNOHANG)
                        if done == pid:
                            self.reaped[pid] = status
            if time.monotonic() >= deadline:
                return [_describe(pid) for pid in self.ours()]
            time.sleep(limits.POLL_INTERVAL)


def _describe(pid: int) -> str:
    import psutil

    try:
        proc = psutil.Process(pid)
        return f"pid {pid} ({proc.status()}): {' '.join(proc.cmdline())[:100]}"
    except psutil.Error:
        return f"pid {pid}"


# --- bounded calls -----------------------------------------------------------------------

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


# --- a scenario --------------------------------------------------------------------------

#: The behaviours a slack is about: ``join`` (returns once its child has ended), ``start``
#: (returns once its child runs), ``report`` (a child no process stands for posts at once),
#: ``exit`` (a program exits once its child has ended).
SLACK_KINDS = ("join", "start", "report", "exit")


def slack_for(subject: str, kind: str) -> float:
    """The slack for a ``kind`` call of ``subject``: limits.RETURN_SLACK, or limits.SHORT_SLACK
    once such a call of the subject has been given up (it has shown what it does: see
    :func:`gave_up`). A claim that owns "the call returns" passes its own slack."""
    # A program that does not exit after its child ended is stuck in its exit handler's
    # join(): a subject whose join() was seen to hang gets the short slack there too.
    kinds = (kind, "join") if kind == "exit" else (kind,)
    if all(patience.note(f"{subject}:{k}") is None for k in kinds):
        return limits.RETURN_SLACK
    return limits.SHORT_SLACK


def gave_up(subject: str, kind: str, why: str) -> None:
    """Record (harness.patience) that a ``kind`` call of ``subject`` was given up."""
    patience.expired(f"{subject}:{kind}", why)
    patience.expired(subject, why)


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
        grace = patience.grace(self.subject, limits.START_GRACE)
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
            if now - asked >= grace:
                why = f"start() did not return within {grace} s"
                gave_up(self.subject, "start", why)
                return why
            return None

        self._started.append(proc)
        return call_bounded("start", proc.start, give_up)

    def join(self, proc: Any, timeout: Optional[float] = None, *,
             slack: Optional[float] = None, expected_end: Optional[float] = None,
             grace: float = limits.JOIN_GRACE, bound: Optional[float] = None) -> Call:
        """``proc.join(timeout)``, bounded. The scenario stops waiting (the call did not
        return) ``slack`` s (default :meth:`slack`; a claim that owns "join() returns" passes
        its own) after the OS shows every process of the scenario has ended; at ``bound``
        (monotonic) if given (a timed join on a running child); else ``grace`` s after
        ``expected_end`` (when the child's own work should be over; default now)."""
        slack = self.slack("join") if slack is None else slack
        asked = time.monotonic()
        deadline = max(asked, expected_end or asked) + patience.grace(self.subject, grace)
        quiet_until = expected_end or asked
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
            if now >= deadline:
                patience.expired(self.subject, "join() on a running child did not return "
                                 f"within {deadline - asked:.1f} s")
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
        stored): a None is then read again until the join has had ``limits.RETURN_SLACK``."""
        value = attempt(fn)
        if join is None or join.returned:
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
        deadline = asked + patience.grace(self.subject, grace)
        slack = limits.UNSEEN_SLACK if patience.note(f"{self.subject}:report") is None \
            else limits.SHORT_SLACK
        next_look = asked
        settled = False
        while True:
            if os.path.exists(path):
                return True
            now = time.monotonic()
            if now >= next_look:
                next_look = now + limits.OS_POLL_INTERVAL
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
                patience.expired(self.subject, f"no {what} within {deadline - asked:.1f} s")
                return os.path.exists(path)
            time.sleep(limits.POLL_INTERVAL)

    def settle(self, grace: float = limits.JOIN_GRACE, since: Optional[float] = None
               ) -> bool:
        """Wait (bounded: ``grace`` s from ``since``, default now) until no process of the
        scenario runs; True when none does."""
        deadline = (time.monotonic() if since is None else since) + patience.grace(
            self.subject, grace)
        while self.watch.scan().live:
            if time.monotonic() >= deadline:
                patience.expired(self.subject, "a child did not end")
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


# --- patience across interpreters --------------------------------------------------------

#: A scenario that runs a program of its own (harness.child.early_main,
#: harness.child.isolation_main)
#: passes its subject's patience on through this variable: the program's waits are then as
#: short as the scenario's own.
PATIENCE_ENV = "PROCSPEC_EXPIRED"


def exit_watch(subject: str, ready: Callable[[str], bool],
               what: str) -> Callable[[str, int], Optional[str]]:
    """A ``give_up`` for :func:`run_program`: once the program's output shows ``ready``
    and no process of it runs any more, it gets the exit slack, then it is given up on
    (``the program had not exited ... after {what}``)."""
    slack = slack_for(subject, "exit")
    state: dict[str, Any] = {}

    def give_up(out: str, pid: int) -> Optional[str]:
        if "watch" not in state:
            state["watch"] = Watch(root=pid)
        if not ready(out):
            return None
        now = time.monotonic()
        if state["watch"].scan().live:
            state.pop("quiet", None)
            return None
        quiet = state.setdefault("quiet", now)
        if now - quiet >= slack:
            why = f"the program had not exited {slack} s after {what}"
            gave_up(subject, "exit", why)
            return why
        return None
    return give_up


def patience_env(subject: str) -> dict[str, str]:
    """The environment for a program run for ``subject`` (this one's, plus its patience)."""
    env = dict(os.environ)
    notes = {key: patience.note(key) for key in
             [subject] + [f"{subject}:{kind}" for kind in SLACK_KINDS]}
    kept = {key[len(subject):]: note for key, note in notes.items() if note}
    if kept:
        env[PATIENCE_ENV] = json.dumps(kept)
    else:
        env.pop(PATIENCE_ENV, None)
    return env


def inherit_patience(subject: str) -> None:
    """In such a program: take over the scenario's patience for ``subject``."""
    try:
        notes = json.loads(os.environ.get(PATIENCE_ENV) or "{}")
    except ValueError:
        return
    for suffix, note in notes.items():
        patience.expired(subject + suffix, f"in the test process: {note}")


# --- separate programs -------------------------------------------------------------------

@dataclass(frozen=True)
class ProgramOutput:
    """A separate program run to its end (or killed with its whole session)."""

    returncode: Optional[int]
    timed_out: bool
    stdout: str
    stderr: str
    gave_up: Optional[str] = None
    """Why the caller's ``give_up`` ended the program early (it was killed), if it did."""


def _drain(stream: IO[str], parts: list[str]) -> None:
    for chunk in iter(stream.readline, ""):
        parts.append(chunk)


def _kill_group(pgid: int) -> None:
    with contextlib.suppress(OSError):
        os.killpg(pgid, signal.SIGKILL)


def run_program(cmd: Sequence[str], timeout: Optional[float], cwd: Optional[str] = None,
                env: Optional[Mapping[str, str]] = None,
                give_up: Optional[Callable[[str, int], Optional[str]]] = None,
                end_group: bool = False) -> ProgramOutput:
    """Run ``cmd`` in its own session; after ``timeout`` s kill the session, children too.

    ``give_up(stdout so far, pid)``, asked while the program runs, may name a reason to end
    it early (killed with its session). ``end_group`` kills whatever is left of the
    program's process group after it has ended (children it left behind)."""
    proc = subprocess.Popen(list(cmd), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True, text=True, cwd=cwd,
                            env=dict(env) if env is not None else None)
    if give_up is None and not end_group:
        timed_out = False
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
            _kill_group(proc.pid)
            out, err = proc.communicate()
        return ProgramOutput(proc.returncode, timed_out, out, err)
    assert proc.stdout is not None and proc.stderr is not None
    out_parts: list[str] = []
    err_parts: list[str] = []
    readers = [threading.Thread(target=_drain, args=(stream, parts), daemon=True)
               for stream, parts in ((proc.stdout, out_parts), (proc.stderr, err_parts))]
    for reader in readers:
        reader.start()
    deadline = None if timeout is None else time.monotonic() + timeout
    timed_out, why = False, None
    while proc.poll() is None:
        if deadline is not None and time.monotonic() >= deadline:
            timed_out = True
            break
        if give_up is not None:
            why = give_up("".join(out_parts), proc.pid)
            if why:
                break
        time.sleep(limits.OS_POLL_INTERVAL)
    if timed_out or why:
        _kill_group(proc.pid)
    proc.wait()
    if end_group:
        _kill_group(proc.pid)
    for reader in readers:
        reader.join(limits.SIGNAL_GRACE)
    for stream in (proc.stdout, proc.stderr):
        with contextlib.suppress(OSError):
            stream.close()
    return ProgramOutput(proc.returncode, timed_out, "".join(out_parts), "".join(err_parts),
                         gave_up=why)
