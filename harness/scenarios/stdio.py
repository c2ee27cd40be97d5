"""A child's standard streams and descriptors (specs/stdio.md): what reading its stdin
gives, how it ends when its stdout or stderr is None or closed (in the parent before
``start()``, or in the child itself), which of the parent's descriptors it holds.

As in :mod:`harness.scenarios.lifecycle`: each function returns a frozen record and never
asserts; every call that could block is bounded; every process of a scenario is ended and
reaped at the OS level before the function returns.
"""

from __future__ import annotations

import contextlib
import io
import os
import socket
import sys
from dataclasses import dataclass
from typing import Any, Iterator, Optional

from harness import mailbox
from harness.backends import Backend
from harness.child import life_targets
from harness.supervise import Call, Observed, supervised


@dataclass(frozen=True)
class StdinRead:
    start: Call
    reported: Optional[tuple[str, Any]]
    """``("value", text)``, ``("raised", "Type: message")`` or ``("blocked", why)``."""
    in_own_process: bool


def read_child_stdin(backend: Backend) -> StdinRead:
    with mailbox.Mailbox() as box, supervised(backend.name) as session:
        path = box.slot("stdin")
        proc = backend.Process(target=life_targets.read_stdin, args=(path, os.getpid()))
        start = session.start(proc, report=path)
        if start.returned:
            session.wait_for(path)
            session.join(proc)
            session.settle()
        reported = mailbox.read(path)
        return StdinRead(start=start, reported=reported,
                         in_own_process=bool(reported) and reported[0] != "parent")


@dataclass(frozen=True)
class BrokenStreamEnd:
    who: str
    """"parent": the parent's stream is broken while it starts the child; "child": the
    child breaks its own."""
    stream: str
    how: str
    start: Call
    ran: bool
    in_own_process: bool
    join: Optional[Call]
    ended: bool
    exitcode: Observed


@contextlib.contextmanager
def _broken(stream: str, how: str) -> Iterator[None]:
    """``sys.<stream>`` is None or a closed file for the duration (this process's)."""
    old = getattr(sys, stream)
    broken: Any = None
    if how == "closed":
        broken = io.StringIO()
        broken.close()
    setattr(sys, stream, broken)
    try:
        yield
    finally:
        setattr(sys, stream, old)


def end_with_broken_stream(backend: Backend, who: str, stream: str, how: str
                           ) -> BrokenStreamEnd:
    """A child whose ``stream`` (stdout or stderr) is None or closed (``how``), broken by
    ``who``; it posts that it ran and returns; its exit code once the OS shows it ended."""
    with mailbox.Mailbox() as box, supervised(backend.name) as session:
        ran = box.slot("ran")
        child_how = how if who == "child" else "keep"
        proc = backend.Process(target=life_targets.break_stream_and_return,
                               args=(ran, stream, child_how, os.getpid()))
        if who == "parent":
            with _broken(stream, how):
                start = session.start(proc, report=ran)
        else:
            start = session.start(proc, report=ran)
        base: dict[str, Any] = dict(who=who, stream=stream, how=how, start=start)
        if not start.returned:
            return BrokenStreamEnd(**base, ran=os.path.exists(ran), in_own_process=False,
                                   join=None, ended=False, exitcode=None)
        session.wait_for(ran)
        join = session.join(proc)
        ended = session.settle() and session.watch.scan().seen
        exitcode = session.read(lambda: proc.exitcode, join)
        reported = mailbox.read(ran)
        return BrokenStreamEnd(**base, ran=reported is not None,
                               in_own_process=reported is not None and reported != os.getpid(),
                               join=join, ended=ended, exitcode=exitcode)


@dataclass(frozen=True)
class DescriptorSeen:
    inheritable: bool
    fd: int
    start: Call
    reported: Optional[dict]
    """``open``: whether the child had ``fd`` open; ``pid``."""


def _high_descriptor(inheritable: bool) -> int:
    """A socket's descriptor, copied to the lowest free number from 50 up (higher than any
    a fresh child opens for itself), inheritable or not."""
    import fcntl

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        high = fcntl.fcntl(sock.fileno(), fcntl.F_DUPFD_CLOEXEC, 50)
    finally:
        sock.close()
    os.set_inheritable(high, inheritable)
    return int(high)


def descriptor_in_child(backend: Backend, inheritable: bool) -> DescriptorSeen:
    """The parent holds a socket descriptor (>= 50; ``inheritable`` or not) while it
    starts a child that reports whether that descriptor is open in it."""
    fd = -1
    try:
        with mailbox.Mailbox() as box, supervised(backend.name) as session:
            fd = _high_descriptor(inheritable)
            path = box.slot("fd")
            proc = backend.Process(target=life_targets.report_descriptor, args=(path, fd))
            start = session.start(proc, report=path)
            if start.returned:
                session.wait_for(path)
                session.join(proc)
                session.settle()
            return DescriptorSeen(inheritable=inheritable, fd=fd, start=start,
                                  reported=mailbox.read(path))
    finally:
        if fd >= 0:
            os.close(fd)
