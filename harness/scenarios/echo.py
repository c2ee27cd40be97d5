"""Echo-server scenarios (specs/echo-server.md): clients act, the server is watched.

Each function takes a :class:`~harness.echo.runner.RunningServer` (any command; the
fixture ``echo_server`` starts one) and returns a frozen record. Nothing here asserts;
every socket has a timeout and is closed (or reset) before the function returns.
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from typing import Optional, Sequence, Union

from harness.echo import REPLY_GRACE, clients, runner
from harness.echo.clients import Ending, PageAnswer, Reply
from harness.echo.runner import RunningServer
from harness.supervise import Raised


def _connect(server: RunningServer) -> socket.socket:
    return clients.connect(server.port, server.host)


# --- replies ---------------------------------------------------------------------------

def round_trip(server: RunningServer, data: bytes) -> Reply:
    """One connection, one message, the whole reply read."""
    return clients.round_trip(server.port, data, server.host)


@dataclass(frozen=True)
class Session:
    """Messages sent over one connection; ``replies[i]`` is what came back for ``i``."""

    messages: tuple[bytes, ...]
    replies: tuple[Reply, ...]
    pipelined: bool
    """All messages were sent before any reply was read (then there is one reply: all)."""


def session(server: RunningServer, messages: Sequence[bytes], pipelined: bool = False) -> Session:
    replies: tuple[Reply, ...]
    with _connect(server) as sock:
        if pipelined:
            replies = (clients.exchange(sock, b"".join(messages)),)
        else:
            replies = tuple(clients.exchange(sock, m) for m in messages)
    return Session(tuple(messages), replies, pipelined)


# --- the page's client on a byte stream ------------------------------------------------

@dataclass(frozen=True)
class PageClientRun:
    """The page's client and a correct client, each sending the same long line."""

    line: str
    follow_up: str
    first: Optional[PageAnswer]
    """The page's client's answer to ``line``."""
    second: Optional[PageAnswer]
    """The page's client's answer to ``follow_up``, sent next on the same connection."""
    correct: Reply
    """A correct client's reply to ``line`` (on its own connection)."""


def page_client_then_correct_client(server: RunningServer, line: str,
                                    follow_up: str = "x") -> PageClientRun:
    with _connect(server) as sock:
        first = clients.page_client_line(sock, line)
        second = clients.page_client_line(sock, follow_up)
    correct = round_trip(server, line.strip().encode("utf-8"))
    return PageClientRun(line, follow_up, first, second, correct)


# --- many clients ----------------------------------------------------------------------

@dataclass(frozen=True)
class Crowd:
    """K clients connected at once; each then sent one message (in ``order``)."""

    messages: tuple[bytes, ...]
    replies: tuple[Reply, ...]
    order: tuple[int, ...]
    seconds: float
    connect_error: Optional[Raised] = None


def crowd(server: RunningServer, messages: Sequence[bytes], order: Sequence[int]) -> Crowd:
    """Connect every client first (all held open), then let each, in ``order``, send its
    message and read its reply while all the others stay connected."""
    start = time.monotonic()
    with contextlib.ExitStack() as stack:
        socks = []
        for _ in messages:
            try:
                socks.append(stack.enter_context(_connect(server)))
            except OSError as exc:
                return Crowd(tuple(messages), (), tuple(order), time.monotonic() - start,
                             Raised(type(exc).__name__, str(exc)))
        deadline = time.monotonic() + REPLY_GRACE
        replies: dict[int, Reply] = {}
        for i in order:
            left = max(0.0, deadline - time.monotonic())
            replies[i] = clients.exchange(socks[i], messages[i], timeout=left)
    return Crowd(tuple(messages), tuple(replies[i] for i in range(len(messages))),
                 tuple(order), time.monotonic() - start)


@dataclass(frozen=True)
class IdleNeighbour:
    """A client connected (and, when ``partial``, sent half a message) then went quiet;
    others came and went meanwhile; finally the idle one finished its message."""

    others: tuple[Reply, ...]
    idle: Reply
    partial: bytes


def idle_client_and_others(server: RunningServer, others: Sequence[bytes],
                           partial: bytes = b"") -> IdleNeighbour:
    with _connect(server) as idle:
        if partial:
            idle.sendall(partial)
        # One grace for all of them: a server that serves one client at a time costs
        # one grace, not one per client.
        deadline = time.monotonic() + REPLY_GRACE
        answered = tuple(
            clients.round_trip(server.port, m, server.host,
                               max(0.1, deadline - time.monotonic()))
            for m in others)
        rest = b"wake up"
        idle_reply = clients.exchange(idle, rest, expect=len(partial) + len(rest))
    return IdleNeighbour(answered, idle_reply, partial)


# --- processes, observed from outside ---------------------------------------------------

@dataclass(frozen=True)
class Handlers:
    """K connections held open (each answered once); who holds each one's server end."""

    server_pid: int
    replies: tuple[Reply, ...]
    holders: tuple[frozenset, ...]
    """Per connection, the pids holding its server end (from /proc)."""
    descendants: frozenset
    """The server's descendants at that moment."""
    cmdlines: dict
    """pid -> command line, for every process of the server's tree."""
    parents: dict
    """pid -> parent pid, for every process of the server's tree."""


def handlers_of_connections(server: RunningServer, count: int) -> Handlers:
    with contextlib.ExitStack() as stack:
        socks = [stack.enter_context(_connect(server)) for _ in range(count)]
        deadline = time.monotonic() + REPLY_GRACE
        replies = tuple(clients.exchange(s, b"who are you",
                                         timeout=max(0.0, deadline - time.monotonic()))
                        for s in socks)
        ports = [s.getsockname()[1] for s in socks]
        held = runner.holders(server, ports)
        procs = runner.tree(server)
        cmdlines, parents = {}, {}
        for p in procs:
            with contextlib.suppress(Exception):
                cmdlines[p.pid] = " ".join(p.cmdline())
                parents[p.pid] = p.ppid()
    return Handlers(server.pid, replies, tuple(held[p] for p in ports),
                    frozenset(p.pid for p in procs[1:]), cmdlines, parents)


# --- misbehaving clients ---------------------------------------------------------------

#: How a client can misbehave: see :func:`misbehave`.
ABUSES = ("reset-before-sending", "reset-mid-message", "reset-during-reply",
          "reset-after-reply", "close-with-unread-reply", "vanish-mid-message")


def misbehave(server: RunningServer, abuse: str, size: int) -> Optional[Raised]:
    """One client misbehaving in the way ``abuse`` names; returns an error it met, if any.

    reset-*: close with SO_LINGER 0 (RST) at that point; close-with-unread-reply: a plain
    close while reply bytes are unread (the kernel then resets, too); vanish-mid-message:
    half a message sent, then a plain close (FIN) with nothing more.
    """
    data = b"m" * size
    try:
        sock = _connect(server)
    except OSError as exc:
        return Raised(type(exc).__name__, str(exc))
    try:
        if abuse == "reset-before-sending":
            pass
        elif abuse in ("reset-mid-message", "vanish-mid-message"):
            sock.sendall(data[: max(1, size // 2)])
        elif abuse in ("reset-during-reply", "close-with-unread-reply"):
            sock.sendall(data)
            time.sleep(0.01)  # let part of the reply be on its way
        elif abuse == "reset-after-reply":
            clients.exchange(sock, data)
        else:
            raise ValueError(f"unknown abuse {abuse!r}")
    except OSError as exc:
        clients.reset(sock)
        return Raised(type(exc).__name__, str(exc))
    if abuse.startswith("reset-"):
        clients.reset(sock)
    else:
        sock.close()
    return None


@dataclass(frozen=True)
class AfterAbuse:
    abuses: tuple[str, ...]
    errors: tuple[Optional[Raised], ...]
    later: tuple[Reply, ...]
    """Round trips of well-behaved clients after each abuse."""
    server_running: bool
    """The server's own process was still running (not ended, not a zombie) at the end."""


def abuse_then_serve(server: RunningServer, abuses: Sequence[str], size: int) -> AfterAbuse:
    errors, later = [], []
    for abuse in abuses:
        errors.append(misbehave(server, abuse, size))
        later.append(round_trip(server, b"still there?"))
    return AfterAbuse(tuple(abuses), tuple(errors), tuple(later), runner.is_running(server))


# --- closing ---------------------------------------------------------------------------

@dataclass(frozen=True)
class HalfClose:
    replies: tuple[Reply, ...]
    ending: Ending


def send_then_half_close(server: RunningServer, messages: Sequence[bytes]) -> HalfClose:
    """Exchange ``messages``, close the sending side, wait (bounded) for the server's EOF."""
    with _connect(server) as sock:
        replies = tuple(clients.exchange(sock, m) for m in messages)
        ending = clients.half_close_and_wait(sock)
    return HalfClose(replies, ending)


@dataclass(frozen=True)
class Reaping:
    """N clients one after another, each finished (EOF seen) before the next came."""

    clients: int
    replies_ok: int
    zombies_after_each: tuple[int, ...]
    """Zombie descendants of the server, counted right after each client finished."""
    zombies_settled: int
    """Zombies once no handler is running any more (or the settle grace ran out)."""
    still_running: int
    """Handlers still running when the count was taken (0 unless the grace ran out)."""


#: How long the handlers of finished clients get to end before zombies are counted.
SETTLE_GRACE = 10.0


def sequential_clients(server: RunningServer, count: int) -> Reaping:
    ok, after = 0, []
    for i in range(count):
        message = f"client {i}".encode()
        with _connect(server) as sock:
            reply = clients.exchange(sock, message)
            ending = clients.half_close_and_wait(sock)
        ok += reply.data == message.upper() and ending.eof
        after.append(len(runner.zombies(server)))
    deadline = time.monotonic() + SETTLE_GRACE
    while runner.live_workers(server) and time.monotonic() < deadline:
        time.sleep(0.02)
    return Reaping(count, ok, tuple(after), len(runner.zombies(server)),
                   len(runner.live_workers(server)))


# --- a client nobody here wrote -------------------------------------------------------

@dataclass(frozen=True)
class ForeignClient:
    program: str
    sent: bytes
    stdout: bytes
    returncode: Union[int, Raised]
    seconds: float
    grace: float
    """socat's ``-t``: how long it waits for the server's EOF after its input ended."""

    @property
    def eof_before_grace(self) -> bool:
        """It ended before its grace ran out: the server closed the connection."""
        return self.seconds < self.grace


def socat_client(server: RunningServer, data: bytes) -> Optional[ForeignClient]:
    """``socat`` sends ``data`` from its stdin, half-closes at stdin's EOF, and prints what
    comes back until the server closes (``-t``: wait that long for it). None: no socat."""
    program = shutil.which("socat")
    if program is None:
        return None
    argv = [program, "-t", str(REPLY_GRACE), "-T", str(REPLY_GRACE), "-",
            f"TCP:{server.host}:{server.port}"]
    start = time.monotonic()
    try:
        done = subprocess.run(argv, input=data, capture_output=True,
                              timeout=3 * REPLY_GRACE)
        code: Union[int, Raised] = done.returncode
        out = done.stdout
    except subprocess.TimeoutExpired as exc:
        code, out = Raised("TimeoutExpired", str(exc)), exc.stdout or b""
    return ForeignClient("socat", data, out, code, time.monotonic() - start, REPLY_GRACE)


# --- one connection, step by step (for stateful tests) ---------------------------------

class Connection:
    """A client connection a test drives step by step; every step returns a record."""

    def __init__(self, server: RunningServer) -> None:
        self.sock: Optional[socket.socket] = _connect(server)

    def send(self, message: bytes) -> Reply:
        return clients.exchange(self._open(), message)

    def half_close(self) -> Ending:
        """Close the sending side, wait for EOF, then close the socket."""
        try:
            return clients.half_close_and_wait(self._open())
        finally:
            self.close()

    def _open(self) -> socket.socket:
        if self.sock is None:
            raise RuntimeError("this connection has already ended")
        return self.sock

    def reset(self) -> None:
        if self.sock is not None:
            clients.reset(self.sock)
            self.sock = None

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
            self.sock = None
