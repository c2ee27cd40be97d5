"""Process objects before ``start()`` (specs/lifecycle.md): their state, their default
names, and the calls out of order they must refuse (``join()`` before ``start()``, a second
``start()``). Records only; nothing asserts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from harness import limits, mailbox
from harness.backends import Backend
from harness.child import targets
from harness.supervise import Call, Observed, Raised, attempt, is_alive, supervised


@dataclass(frozen=True)
class Unstarted:
    """A process object that was created and never started."""

    pid: Observed
    exitcode: Observed
    alive: Observed


def observe_unstarted(backend: Backend) -> Unstarted:
    proc = backend.Process(target=targets.noop)
    return Unstarted(
        pid=attempt(lambda: proc.pid),
        exitcode=attempt(lambda: proc.exitcode),
        alive=is_alive(proc),
    )


def join_before_start(backend: Backend) -> Call:
    """``join()`` on a process never started (it should refuse at once; given up after
    ``limits.RETURN_SLACK`` s)."""
    proc = backend.Process(target=targets.noop)
    with supervised(backend.name) as session:
        return session.call("join", lambda: proc.join(limits.JOIN_GRACE))


@dataclass(frozen=True)
class SecondStart:
    """``start()`` called again on a process whose child runs (waiting for a go-ahead)."""

    first: Call
    second: Optional[Call]
    """None when the first ``start()`` did not return."""


def second_start(backend: Backend) -> SecondStart:
    with mailbox.Mailbox() as box, supervised(backend.name) as session:
        started, release = box.slot("started"), box.slot("release")
        proc = backend.Process(target=targets.hold, args=(started, release, backend.name))
        first = session.start(proc, report=started)
        second = session.call("start", proc.start) if first.returned else None
        mailbox.post(release, True)
        if first.returned:
            session.join(proc)
        return SecondStart(first=first, second=second)


def _outcome(call: Optional[Call]) -> Observed:
    if call is None:
        return Raised("NotCalled", "an earlier call did not return")
    return call.result if call.returned else Raised("DidNotReturn", call.why)


@dataclass(frozen=True)
class Misuse:
    """What calls out of order did: ``None`` when the call raised nothing (for demos)."""

    join_before_start: Observed
    second_start: Observed


def observe_misuse(backend: Backend) -> Misuse:
    return Misuse(join_before_start=_outcome(join_before_start(backend)),
                  second_start=_outcome(second_start(backend).second))


@dataclass(frozen=True)
class DefaultNames:
    """Names of freshly created (unstarted) process objects, in creation order."""

    class_name: str
    names: tuple[str, ...]


def default_names(backend: Backend, count: int) -> DefaultNames:
    procs = [backend.Process(target=targets.noop) for _ in range(count)]
    return DefaultNames(class_name=type(procs[0]).__name__,
                        names=tuple(str(p.name) for p in procs))
