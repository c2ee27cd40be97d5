"""Echo-server scenarios (specs/echo-server.md): clients act, the server is watched.

Each function takes a :class:`~harness.echo.runner.RunningServer` (any command; the
fixture ``echo_server`` starts one) and returns a frozen record. Nothing here asserts, and
nothing raises on what a server does (refuses, resets, closes early, stays silent): that is
recorded. Every socket has a timeout and is closed (or reset) before the function returns.

Waiting: every wait for a server takes its grace from :mod:`harness.patience` (subject: the
server's name), so a grace is paid in full once; within one scenario run, once a wait has
expired the remaining waits only collect what has already come (the verdict is known).
A reply's wait ends at once when the connection ends (EOF, reset).

"Answered" (:func:`answered`) is judged ignoring ASCII case: the reply has the message's
length and equals it but for the case of ASCII letters. The claims about sessions,
concurrency, resets, EOF and reaping use short ASCII messages and this test, so they do not
depend on the reply's exact content (bytes.upper(): ECHO-001, ECHO-002) or on how long
messages are cut into chunks (ECHO-001, ECHO-004).
"""

from __future__ import annotations

import contextlib
import os
import selectors
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from typing import Optional, Sequence, Union

from harness import patience
from harness.echo import EOF_GRACE, REPLY_GRACE, STALL_GRACE, clients, runner
from harness.echo.clients import Ending, PageAnswer, Reply
from harness.echo.runner import RunningServer
from harness.supervise import Raised

#: What a wait gets once another wait of the same scenario run has expired: enough to
#: collect bytes that are already on their way, nothing more.
COLLECT = 0.05

#: The message that shows a server serves at all (:func:`serves`).
PROBE = b"is anyone there"


# --- "answered" -------------------------------------------------------------------------

def answered(message: bytes, reply: Reply) -> bool:
    """The reply has the message's length and equals it ignoring ASCII case."""
    return len(reply.data) == len(message) and reply.data.upper() == message.upper()


def _brief(data: bytes, keep: int = 60) -> str:
    return repr(data) if len(data) <= keep else f"{data[:keep]!r}... ({len(data)} bytes)"


def how_it_ended(reply: Reply) -> str:
    """What the client saw: the reply's length and why the exchange ended."""
    if reply.error is not None:
        why = f"ended by {reply.error}"
    elif reply.eof:
        why = "the server closed the connection"
    elif reply.stalled:
        why = "the reply stopped (stall grace)"
    elif reply.timed_out:
        why = "no reply within the grace"
    else:
        why = "complete"
    return f"{len(reply.data)} bytes, {why}, after {reply.seconds:.2f} s"


def reply_problem(sent: bytes, reply: Reply, want: Optional[bytes] = None) -> str:
    """Why ``reply`` is not ``want`` (default: ``sent`` ignoring ASCII case); '' when it is."""
    if want is None:
        if answered(sent, reply):
            return ""
        got, expected = reply.data.upper(), sent.upper()
    else:
        if reply.data == want:
            return ""
        got, expected = reply.data, want
    first_diff = next((i for i, (a, b) in enumerate(zip(got, expected)) if a != b),
                      min(len(got), len(expected)))
    return (f"got {len(reply.data)} of {len(expected)} bytes ({how_it_ended(reply)}), first "
            f"difference at byte {first_diff}: {_brief(reply.data[first_diff:first_diff + 20])}"
            f" instead of {_brief((want or sent)[first_diff:first_diff + 20])}")


# --- waiting ----------------------------------------------------------------------------

class Waits:
    """The graces of one scenario run's waits for ``server`` (harness.patience)."""

    def __init__(self, server: RunningServer) -> None:
        self.server = server
        self.expired: Optional[str] = None
        """What expired in this run (then later waits only collect)."""

    def _grace(self, full: float) -> float:
        return COLLECT if self.expired else patience.grace(self.server.name, full)

    def reply(self) -> float:
        return self._grace(REPLY_GRACE)

    def stall(self) -> float:
        return self._grace(STALL_GRACE)

    def eof(self) -> float:
        return self._grace(EOF_GRACE)

    def expire(self, what: str) -> None:
        if self.expired is None:
            self.expired = what
            patience.expired(self.server.name, what)

    def watch(self, reply: Reply, what: str) -> Reply:
        if reply.timed_out:
            self.expire(f"{what}: {how_it_ended(reply)}")
        return reply

    def connect(self) -> Union[socket.socket, Raised]:
        """A connection to the server, or the error (a refusal; no acceptance in time)."""
        grace = self.reply()
        try:
            return clients.connect(self.server.port, self.server.host, grace)
        except OSError as exc:
            if isinstance(exc, socket.timeout):
                self.expire(f"a connection was not accepted within {grace:g} s")
            return Raised(type(exc).__name__, str(exc))

    def exchange(self, sock: socket.socket, data: bytes, expect: Optional[int] = None,
                 want: Optional[bytes] = None, fold_case: bool = True,
                 check: bool = True) -> Reply:
        """Send ``data``, read its reply: it should equal ``want`` (default ``data``) up to
        ASCII case (exactly: ``fold_case=False``), and reading stops as soon as it cannot;
        ``check=False``: read ``expect`` bytes whatever they are."""
        if not check:
            want = None
        elif want is None:
            want = data
        return self.watch(
            clients.exchange(sock, data, expect, self.reply(), self.stall(), want, fold_case),
            f"a reply of {len(data) if expect is None else expect} bytes")

    def round_trip(self, data: bytes, want: Optional[bytes] = None,
                   fold_case: bool = True, check: bool = True) -> Reply:
        sock = self.connect()
        if isinstance(sock, Raised):
            return Reply(b"", eof=False, timed_out=_is_timeout(sock), error=sock)
        with sock:
            return self.exchange(sock, data, want=want, fold_case=fold_case, check=check)


def _is_timeout(error: Optional[Raised]) -> bool:
    return error is not None and error.type_name in ("timeout", "TimeoutError")


def patience_note(server: RunningServer) -> Optional[str]:
    """Why this server's waits are short now (for a violation's figures), if they are."""
    return patience.note(server.name)


# --- does it serve at all? (ECHO-011 owns this; the other claims need it) ---------------

_service: dict[tuple[str, int, int], Optional[str]] = {}


def serves(server: RunningServer) -> Optional[str]:
    """Why the server answers no message at all (None: it answered :data:`PROBE`).

    Asked once per running server (the answer is kept): the claims other than ECHO-011 are
    judged only on a server that serves; a server that answers nothing is ECHO-011's
    verdict, and the others have nothing to judge.
    """
    key = (server.name, server.pid, server.port)
    if key not in _service:
        reply = Waits(server).round_trip(PROBE)
        _service[key] = None if answered(PROBE, reply) else (
            f"the server answers no message: {PROBE!r} on a fresh connection got "
            f"{how_it_ended(reply)} ({_brief(reply.data)})")
    return _service[key]


# --- replies ---------------------------------------------------------------------------

def round_trip(server: RunningServer, data: bytes, want: Optional[bytes] = None) -> Reply:
    """One connection, one message, the whole reply read; with ``want`` (the exact right
    reply), reading stops as soon as the reply cannot be it, else as soon as it cannot
    equal ``data`` up to ASCII case."""
    return Waits(server).round_trip(data, want=want, fold_case=want is None)


@dataclass(frozen=True)
class Session:
    """Messages sent over one connection; ``replies[i]`` is what came back for ``i``."""

    messages: tuple[bytes, ...]
    replies: tuple[Reply, ...]
    """One per message (one in all when pipelined); fewer when the connection ended."""
    pipelined: bool
    """All messages were sent before any reply was read (then there is one reply: all)."""
    connect_error: Optional[Raised] = None


def session(server: RunningServer, messages: Sequence[bytes], pipelined: bool = False) -> Session:
    waits = Waits(server)
    sock = waits.connect()
    if isinstance(sock, Raised):
        return Session(tuple(messages), (), pipelined, sock)
    replies: list[Reply] = []
    with sock:
        if pipelined:
            replies.append(waits.exchange(sock, b"".join(messages)))
        else:
            for message in messages:
                replies.append(waits.exchange(sock, message))
                if replies[-1].ended:
                    break
    return Session(tuple(messages), tuple(replies), pipelined)


# --- the page's client on a byte stream ------------------------------------------------

@dataclass(frozen=True)
class PageClientRun:
    """A correct client and then the page's client, each sending the same long line."""

    line: str
    follow_up: str
    correct: Reply
    """A correct client's reply to the line (its own connection, first): the server's own
    reply, the oracle of what the page's client should see."""
    first: Optional[PageAnswer]
    """The page's client's answer to ``line``."""
    second: Optional[PageAnswer]
    """The page's client's answer to ``follow_up``, sent next on the same connection."""
    rest: Optional[Reply]
    """The rest of that connection's stream, read before it is closed."""
    connect_error: Optional[Raised] = None


def page_client_then_correct_client(server: RunningServer, line: str,
                                    follow_up: str = "x") -> PageClientRun:
    waits = Waits(server)
    data = line.strip().encode("utf-8")
    # Only an ASCII line's reply is known in advance (up to case); any other is read whole.
    correct = waits.round_trip(data, check=data.isascii())
    sock = waits.connect()
    if isinstance(sock, Raised):
        return PageClientRun(line, follow_up, correct, None, None, None, sock)
    with sock:
        sock.settimeout(waits.reply())
        first = clients.page_client_line(sock, line)
        second = rest = None
        if first is not None and first.error is None and first.raw:
            sock.settimeout(waits.reply())
            second = clients.page_client_line(sock, follow_up)
            if second is not None and second.error is None and second.raw:
                # Read what is left of both replies, so that the close is a FIN, not the
                # reset that closing with unread bytes sends (a reset is ECHO-008's).
                left = (len(correct.data) + len(follow_up.strip().encode("utf-8"))
                        - len(first.raw) - len(second.raw))
                if left > 0:
                    rest = waits.watch(clients.drain(sock, left, waits.reply(), waits.stall()),
                                       "the rest of the page client's stream")
        for answer in (first, second):
            if answer is not None and _is_timeout(answer.error):
                waits.expire("the page's client got no answer within the grace")
    return PageClientRun(line, follow_up, correct, first, second, rest)


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
            sock = waits.connect()
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
            sock = waits.connect()
            if isinstance(sock, Raised):
                connect_error = sock
                break
            socks.append(stack.enter_context(sock))
        replies = tuple(waits.exchange(s, message) for s in socks)
        ports = [s.getsockname()[1] for s in socks]
        held = runner.holders(server, ports)
        # Held by the accepting process alone: look again. A handler that closed the
        # connection right after its reply can leave the server's own copy, which it drops
        # once start() returns, as the only one for a moment; a server that handles the
        # connection itself (a thread, or inline) stays the only holder.
        alone = [port for port in ports if held[port] == {server.pid}]
        if alone:
            grace = waits.stall()
            deadline = time.monotonic() + grace
            while alone and time.monotonic() < deadline:
                time.sleep(0.02)
                held.update(runner.holders(server, alone))
                alone = [port for port in alone if held[port] == {server.pid}]
            if alone:
                waits.expire(f"{len(alone)} answered connections held by the accepting "
                             f"process alone for {grace:g} s")
        procs = runner.tree(server)
        cmdlines, parents = {}, {}
        for p in procs:
            with contextlib.suppress(Exception):
                cmdlines[p.pid] = " ".join(p.cmdline())
                parents[p.pid] = p.ppid()
    return Handlers(server.pid, message, replies, tuple(held[p] for p in ports),
                    frozenset(p.pid for p in procs[1:]), cmdlines, parents, connect_error)


# --- misbehaving clients ---------------------------------------------------------------

#: How a client can misbehave: see :func:`misbehave`.
ABUSES = ("reset-before-sending", "reset-mid-message", "reset-during-reply",
          "reset-after-reply", "close-with-unread-reply", "vanish-mid-message")

#: reset-after-reply reads its whole reply first: a message of at most this many bytes (one
#: chunk), so that what a server does to long messages (ECHO-001, ECHO-004) cannot matter.
AFTER_REPLY_MAX = 1000


def misbehave(server: RunningServer, abuse: str, size: int,
              waits: Optional[Waits] = None) -> Optional[Raised]:
    """One client misbehaving in the way ``abuse`` names; returns an error it met, if any.

    reset-*: close with SO_LINGER 0 (RST) at that point; close-with-unread-reply: a plain
    close while reply bytes are unread (the kernel then resets, too); vanish-mid-message:
    half a message sent, then a plain close (FIN) with nothing more.
    """
    if abuse not in ABUSES:
        raise ValueError(f"unknown abuse {abuse!r}")
    waits = waits or Waits(server)
    data = b"m" * size
    sock = waits.connect()
    if isinstance(sock, Raised):
        return sock
    try:
        if abuse in ("reset-mid-message", "vanish-mid-message"):
            sock.sendall(data[: max(1, size // 2)])
        elif abuse in ("reset-during-reply", "close-with-unread-reply"):
            sock.sendall(data)
            time.sleep(0.01)  # let part of the reply be on its way
        elif abuse == "reset-after-reply":
            waits.exchange(sock, data[:AFTER_REPLY_MAX])
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


#: What the well-behaved client after each abuse says.
STILL_THERE = b"still there?"


def abuse_then_serve(server: RunningServer, abuses: Sequence[str], size: int) -> AfterAbuse:
    waits = Waits(server)
    errors, later = [], []
    for abuse in abuses:
        errors.append(misbehave(server, abuse, size, waits))
        later.append(waits.round_trip(STILL_THERE))
    return AfterAbuse(tuple(abuses), tuple(errors), tuple(later), runner.is_running(server))


# --- closing ---------------------------------------------------------------------------

@dataclass(frozen=True)
class HalfClose:
    replies: tuple[Reply, ...]
    ending: Optional[Ending]
    """What came after the half-close (None: there was no half-close, see below)."""
    ended_early: bool = False
    """The server ended the connection before the client closed its side (EOF or reset
    during an exchange): then there is nothing to wait for."""
    unanswered: bool = False
    """A reply did not come in full: the client never got to "all replies received"."""
    grace: float = 0.0
    connect_error: Optional[Raised] = None


def send_then_half_close(server: RunningServer, messages: Sequence[bytes]) -> HalfClose:
    """Exchange ``messages``, close the sending side, wait (EOF grace) for the server's EOF."""
    waits = Waits(server)
    sock = waits.connect()
    if isinstance(sock, Raised):
        return HalfClose((), None, connect_error=sock)
    with sock:
        replies = []
        for message in messages:
            replies.append(waits.exchange(sock, message))
            if replies[-1].ended:
                return HalfClose(tuple(replies), None, ended_early=True)
            if replies[-1].timed_out:
                return HalfClose(tuple(replies), None, unanswered=True)
        grace = waits.eof()
        ending = clients.half_close_and_wait(sock, grace)
        if not ending.eof and ending.error is None:
            waits.expire(f"no EOF within {grace:g} s of the client's half-close")
    return HalfClose(tuple(replies), ending, grace=grace)


@dataclass(frozen=True)
class Reaping:
    """N clients one after another, each closed (plainly) once answered."""

    clients: int
    replies_ok: int
    zombies_after_each: tuple[int, ...]
    """Zombie descendants of the server, counted right after each client finished."""
    zombies_settled: int
    """Zombies once no handler is running any more (or the settle grace ran out)."""
    still_running: int
    """Handlers still running when the count was taken (0 unless the grace ran out)."""
    settle_grace: float = 0.0


def sequential_clients(server: RunningServer, count: int) -> Reaping:
    waits = Waits(server)
    ok, after = 0, []
    for i in range(count):
        message = f"client {i}".encode()
        ok += answered(message, waits.round_trip(message))
        after.append(len(runner.zombies(server)))
    grace = waits.eof()  # a handler ends within ms of its client's close (measured)
    deadline = time.monotonic() + grace
    while runner.live_workers(server) and time.monotonic() < deadline:
        time.sleep(0.02)
    running = len(runner.live_workers(server))
    if running:
        waits.expire(f"{running} handlers still running {grace:g} s after their clients "
                     "closed")
    return Reaping(count, ok, tuple(after), len(runner.zombies(server)), running, grace)


# --- a client nobody here wrote -------------------------------------------------------

@dataclass(frozen=True)
class ForeignClient:
    program: str
    sent: bytes
    stdout: bytes
    returncode: Union[int, Raised, None]
    """Its exit status (None: procspec stopped it once it had read what it needed)."""
    seconds: float
    grace: float
    """socat's ``-t``: how long it waits for the server's EOF after its input ended."""
    stderr: str = ""

    @property
    def eof_before_grace(self) -> bool:
        """It ended before its grace ran out: the server closed the connection."""
        return self.returncode == 0 and self.seconds < self.grace


def _socat(server: RunningServer, t: float, big_t: float) -> Optional[list[str]]:
    program = shutil.which("socat")
    if program is None:
        return None
    return [program, "-t", f"{t:g}", "-T", f"{big_t:g}", "-",
            f"TCP:{server.host}:{server.port}"]


def _run_foreign(argv: list[str], data: bytes, want: Optional[bytes], first: float,
                 stall: float) -> tuple[bytes, Union[int, Raised, None], float, str, bool]:
    """Run ``argv`` with ``data`` on its stdin (then closed); read its stdout until it has
    ``len(want)`` bytes, or cannot become ``want`` (None: until it exits), or no progress;
    then stop it. Returns (stdout, status, seconds, the end of its stderr, whether a wait
    expired)."""
    start = time.monotonic()
    out = bytearray()
    expired = False
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=err)
        assert proc.stdin is not None and proc.stdout is not None
        pending = memoryview(data)
        sel = selectors.DefaultSelector()
        try:
            os.set_blocking(proc.stdin.fileno(), False)
            os.set_blocking(proc.stdout.fileno(), False)
            if pending:
                sel.register(proc.stdin, selectors.EVENT_WRITE)
            else:
                proc.stdin.close()
            sel.register(proc.stdout, selectors.EVENT_READ)
            deadline = start + first
            while want is None or (len(out) < len(want)
                                    and clients.could_become(bytes(out), want)):
                left = deadline - time.monotonic()
                if left <= 0:
                    expired = True
                    break
                events = sel.select(min(left, 0.5))
                done = False
                for key, _mask in events:
                    if key.fileobj is proc.stdin:
                        try:
                            pending = pending[os.write(proc.stdin.fileno(), pending):]
                        except BlockingIOError:
                            continue
                        except BrokenPipeError:
                            pending = pending[len(pending):]
                        if not pending:
                            sel.unregister(proc.stdin)
                            proc.stdin.close()
                    else:
                        try:
                            chunk = os.read(proc.stdout.fileno(), 65536)
                        except BlockingIOError:
                            continue
                        if not chunk:
                            done = True
                            break
                        out += chunk
                        deadline = time.monotonic() + stall
                if done:
                    break
        finally:
            sel.close()
            status: Union[int, Raised, None]
            if want is not None and proc.poll() is None:
                status = None  # we have what we need; socat's own closing is not waited for
            else:
                try:
                    status = proc.wait(max(0.1, first))
                except subprocess.TimeoutExpired as exc:
                    status, expired = Raised("TimeoutExpired", str(exc)), True
            seconds = time.monotonic() - start
            if proc.poll() is None:
                proc.kill()
            proc.wait()
            for pipe in (proc.stdin, proc.stdout):
                if pipe is not None and not pipe.closed:
                    pipe.close()
        err.seek(0)
        said = err.read()[-500:].decode(errors="replace").strip()
    return bytes(out), status, seconds, said, expired


def socat_client(server: RunningServer, data: bytes) -> Optional[ForeignClient]:
    """``socat`` sends ``data`` from its stdin and prints what comes back; procspec reads
    its output until it has ``len(data)`` bytes (or they cannot be ``data.upper()``, or no
    progress), then stops it: how socat ends (the server's EOF, ECHO-009) is not waited
    for. None: no socat."""
    waits = Waits(server)
    first, stall = waits.reply(), waits.stall()
    argv = _socat(server, REPLY_GRACE, REPLY_GRACE)
    if argv is None:
        return None
    out, status, seconds, said, expired = _run_foreign(argv, data, data.upper(), first, stall)
    if expired:
        waits.expire(f"socat printed {len(out)} of {len(data)} bytes, then nothing")
    return ForeignClient("socat", data, out, status, seconds, REPLY_GRACE, said)


def socat_until_close(server: RunningServer, data: bytes) -> Optional[ForeignClient]:
    """``socat -t GRACE``: sends ``data``, half-closes at its input's end, prints the reply,
    and exits once the server closes (or, at the latest, GRACE seconds after its input
    ended). procspec waits for it to exit. None: no socat."""
    waits = Waits(server)
    grace = waits.eof()
    argv = _socat(server, grace, REPLY_GRACE)
    if argv is None:
        return None
    bound = waits.reply() + grace
    out, status, seconds, said, expired = _run_foreign(argv, data, None, bound, bound)
    if expired or not (status == 0 and seconds < grace):
        waits.expire(f"socat did not see the server close within its -t of {grace:g} s")
    return ForeignClient("socat", data, out, status, seconds, grace, said)


# --- one connection, step by step (for stateful tests) ---------------------------------

class Connection:
    """A client connection a test drives step by step; every step returns a record, none
    raises on what the server does. Its end is a plain close (after a half-close or not):
    it never waits for the server's EOF (ECHO-009's)."""

    def __init__(self, server: RunningServer) -> None:
        self.waits = Waits(server)
        opened = self.waits.connect()
        self.error: Optional[Raised] = opened if isinstance(opened, Raised) else None
        self.sock: Optional[socket.socket] = None if isinstance(opened, Raised) else opened

    def send(self, message: bytes) -> Reply:
        if self.sock is None:
            return Reply(b"", eof=False, timed_out=False,
                         error=self.error or Raised("RuntimeError", "connection ended"))
        reply = self.waits.exchange(self.sock, message)
        if reply.ended:
            self.close()
        return reply

    def half_close(self) -> None:
        """Close the sending side, then the socket (without waiting for the server)."""
        if self.sock is not None:
            with contextlib.suppress(OSError):
                self.sock.shutdown(socket.SHUT_WR)
        self.close()

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
            self.sock = None
