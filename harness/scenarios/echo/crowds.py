"""Several clients at once: a crowd connected together, an idle client among others, and
which processes hold each connection (observed from outside)."""

from __future__ import annotations

import contextlib
import socket
import time
from dataclasses import dataclass
from typing import Optional, Sequence

from harness.echo import observe
from harness.echo.clients import Reply
from harness.echo.observe import RunningServer
from harness.scenarios.echo.waits import Waits
from harness.supervise import Raised

# --- many clients ----------------------------------------------------------------------

@dataclass(frozen=True)
class Crowd:
    """K clients connected at once; each then sent one message (in ``order``)."""

    messages: tuple[bytes, ...]
    replies: tuple[Reply, ...]
    order: tuple[int, ...]
    seconds: float
    connect_error: Optional[Raised] = None
    connected: int = 0


def crowd(server: RunningServer, messages: Sequence[bytes], order: Sequence[int]) -> Crowd:
    """Connect every client first (all held open), then let each, in ``order``, send its
    message and read its reply while all the others stay connected."""
    start = time.monotonic()
    waits = Waits(server)
    with contextlib.ExitStack() as stack:
        socks: list[socket.socket] = []
        for _ in messages:
            sock = waits.connect(paced=True)
            if isinstance(sock, Raised):
                return Crowd(tuple(messages), (), tuple(order), time.monotonic() - start,
                             sock, len(socks))
            socks.append(stack.enter_context(sock))
        replies: dict[int, Reply] = {}
        for i in order:
            replies[i] = waits.exchange(socks[i], messages[i])
    return Crowd(tuple(messages), tuple(replies[i] for i in range(len(messages))),
                 tuple(order), time.monotonic() - start, None, len(messages))


@dataclass(frozen=True)
class IdleNeighbour:
    """A client connected (and, when ``partial``, sent the start of a message) then went
    quiet; others came and went meanwhile; finally the idle one read its reply (to
    ``partial``, or to ``wake_up`` when it had sent nothing)."""

    others: tuple[Reply, ...]
    idle: Reply
    partial: bytes
    wake_up: bytes
    connect_error: Optional[Raised] = None


def idle_client_and_others(server: RunningServer, others: Sequence[bytes],
                           partial: bytes = b"", wake_up: bytes = b"wake up") -> IdleNeighbour:
    waits = Waits(server)
    idle = waits.connect()
    if isinstance(idle, Raised):
        return IdleNeighbour((), Reply(b"", False, False, idle), partial, wake_up, idle)
    with idle:
        if partial:
            try:
                idle.sendall(partial)
            except OSError as exc:
                return IdleNeighbour((), Reply(b"", False, False, Raised(
                    type(exc).__name__, str(exc))), partial, wake_up)
        answered_others = tuple(waits.round_trip(m) for m in others)
        if partial:  # its first message was sent while idle: its reply is due
            idle_reply = waits.exchange(idle, b"", expect=len(partial), want=partial)
        else:
            idle_reply = waits.exchange(idle, wake_up)
    return IdleNeighbour(answered_others, idle_reply, partial, wake_up)


# --- processes, observed from outside ---------------------------------------------------

@dataclass(frozen=True)
class Handlers:
    """K connections held open (each sent one message); who holds each one's server end."""

    server_pid: int
    message: bytes
    replies: tuple[Reply, ...]
    """One per connection that was made (fewer than K when a connection failed)."""
    holders: tuple[frozenset, ...]
    """Per connection, the pids holding its server end (from /proc), once replies came."""
    descendants: frozenset
    """The server's descendants at that moment."""
    cmdlines: dict
    """pid -> command line, for every process of the server's tree."""
    parents: dict
    """pid -> parent pid, for every process of the server's tree."""
    connect_error: Optional[Raised] = None


def handlers_of_connections(server: RunningServer, count: int,
                            message: bytes = b"who are you") -> Handlers:
    waits = Waits(server)
    connect_error = None
    with contextlib.ExitStack() as stack:
        socks: list[socket.socket] = []
        for _ in range(count):
            sock = waits.connect(paced=True)
            if isinstance(sock, Raised):
                connect_error = sock
                break
            socks.append(stack.enter_context(sock))
        replies = tuple(waits.exchange(s, message) for s in socks)
        ports = [s.getsockname()[1] for s in socks]
        held = observe.holders(server, ports)
        # A connection in the middle of a handover: look again (bounded). Held by the
        # accepting process alone: a handler that closed the connection right after its
        # reply can leave the server's own copy, which it drops once start() returns, as
        # the only one for a moment. Held by two processes besides it: a fork server passes
        # the descriptor to the child it forks and then closes its own copy (measured: once
        # in a CI run, the fork server and the handler). What stays so is what the server
        # does (a thread or inline handling: the server alone), and is judged as it is.
        def unsettled(ports: list[int]) -> list[int]:
            return [port for port in ports
                    if held[port] == {server.pid} or len(held[port] - {server.pid}) > 1]

        moving = unsettled(ports)
        if moving:
            grace = waits.stall()
            deadline = time.monotonic() + grace
            while moving and time.monotonic() < deadline:
                time.sleep(0.02)
                held.update(observe.holders(server, moving))
                moving = unsettled(moving)
            if moving:
                waits.expire(f"{len(moving)} answered connections held by the accepting "
                             f"process alone, or by more than one other, for {grace:g} s",
                             "handover")
        procs = observe.tree(server)
        cmdlines, parents = {}, {}
        for p in procs:
            with contextlib.suppress(Exception):
                cmdlines[p.pid] = " ".join(p.cmdline())
                parents[p.pid] = p.ppid()
    return Handlers(server.pid, message, replies, tuple(held[p] for p in ports),
                    frozenset(p.pid for p in procs[1:]), cmdlines, parents, connect_error)
