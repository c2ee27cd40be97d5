"""One connection at a time: round trips, sessions, the page's client on a byte stream,
and a connection a stateful test drives step by step."""

from __future__ import annotations

import contextlib
import socket
from dataclasses import dataclass
from typing import Optional, Sequence

from harness.echo import clients
from harness.echo.clients import PageAnswer, Reply
from harness.echo.observe import RunningServer
from harness.scenarios.echo.waits import Waits, _is_timeout
from harness.supervise import Raised

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



# --- one connection, step by step (for stateful tests) ---------------------------------

class Connection:
    """A client connection a test drives step by step; every step returns a record, none
    raises on what the server does. Its end is a plain close (after a half-close or not):
    it never waits for the server's EOF (ECHO-009's)."""

    def __init__(self, server: RunningServer) -> None:
        self.waits = Waits(server)
        # Paced: connections that follow each other quickly (a state machine's steps) would
        # otherwise outrun a server that starts a process per accept, fill its backlog of 5,
        # and wait out a SYN retransmit (1 s; measured: 2 per run of ECHO-003's machine).
        opened = self.waits.connect(paced=True)
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
