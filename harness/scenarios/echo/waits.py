"""What every echo scenario shares: "answered", describing a reply, the graces of a
scenario run's waits (:class:`Waits`), and whether a server serves at all (:func:`serves`).
"""

from __future__ import annotations

import socket
import time
from typing import Optional, Union

from harness import patience
from harness.echo import EOF_GRACE, REPLY_GRACE, STALL_GRACE, clients, observe
from harness.echo.clients import Reply
from harness.echo.observe import RunningServer
from harness.supervise import Raised

#: What a wait gets once another wait of the same scenario run has expired: enough to
#: collect bytes that are already on their way, nothing more.
COLLECT = 0.05

#: A client that holds its connection open while more connect (a crowd) connects only
#: while fewer than this many connections wait in the server's accept queue (read from the
#: kernel: :func:`harness.echo.observe.accept_queue`). Any backlog holds that many, so no
#: SYN is dropped for a full queue and no client waits out a SYN retransmit (1 s, then
#: 3 s) while the server is merely busy starting a handler.
PACE_QUEUE = 2

#: How long such a client waits for room in the accept queue before it connects anyway
#: (then a full queue costs it a SYN retransmit, as it would have without pacing): the
#: first retransmit (1 s) is all that waiting longer could save. Pacing only decides when
#: a client connects, never whether it is served: no verdict depends on it. A server whose
#: queue did not drain within it is not paced again (a server that accepts one connection
#: at a time would make every later client wait it out).
PACE_WAIT = 1.0

#: Servers whose accept queue once did not drain within PACE_WAIT (name, pid, port).
_unpaced: set[tuple[str, int, int]] = set()

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

#: The kinds of wait (harness.patience) for a server: for a connection or a reply, and for
#: an end (EOF, a handler's exit).
REPLY, EOF = "reply", "eof"


class Waits:
    """The graces of one scenario run's waits for ``server`` (harness.patience)."""

    def __init__(self, server: RunningServer) -> None:
        self.server = server
        self.expired: Optional[str] = None
        """What expired in this run (then later waits only collect)."""

    def _grace(self, full: float, kind: str) -> float:
        # The server's short grace once any wait for it expired, never the shorter one of a
        # known kind (harness.patience.KNOWN_GRACE): a reply's time depends on the server's
        # load (a new handler process per connection), so a fraction of a second would
        # judge speed. The kind is still recorded: a repeat ends a test whose premise fails.
        del kind
        return COLLECT if self.expired else patience.grace(self.server.name, full)

    def reply(self) -> float:
        return self._grace(REPLY_GRACE, REPLY)

    def stall(self) -> float:
        return self._grace(STALL_GRACE, REPLY)

    def eof(self) -> float:
        return self._grace(EOF_GRACE, EOF)

    def expire(self, what: str, kind: str = REPLY) -> None:
        """A wait of ``kind`` (:data:`REPLY`: a connection, a reply; :data:`EOF`: an end)
        expired: recorded for the server (harness.patience)."""
        if self.expired is None:
            self.expired = what
            patience.expired(self.server.name, what, kind)

    def watch(self, reply: Reply, what: str) -> Reply:
        if reply.timed_out:
            self.expire(f"{what}: {how_it_ended(reply)}")
        return reply

    def connect(self, paced: bool = False) -> Union[socket.socket, Raised]:
        """A connection to the server, or the error (a refusal; no acceptance in time).
        ``paced``: first wait (bounded) for room in the accept queue (:data:`PACE_QUEUE`)."""
        if paced:
            self._room()
        grace = self.reply()
        try:
            return clients.connect(self.server.port, self.server.host, grace)
        except OSError as exc:
            if isinstance(exc, socket.timeout):
                self.expire(f"a connection was not accepted within {grace:g} s")
            return Raised(type(exc).__name__, str(exc))

    def _room(self) -> None:
        key = (self.server.name, self.server.pid, self.server.port)
        if key in _unpaced:
            return
        deadline = time.monotonic() + PACE_WAIT
        while True:
            queued = observe.accept_queue(self.server.host, self.server.port)
            if queued is None or queued < PACE_QUEUE:
                return
            if time.monotonic() >= deadline:
                _unpaced.add(key)
                return
            time.sleep(0.002)

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
