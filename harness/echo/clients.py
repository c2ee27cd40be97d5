"""Clients of an echo server: the page's behaviour, and a correct one.

Every socket has a timeout and is closed by its owner; nothing here asserts. The page's
client reads a reply with one ``recv(1024)``, which on a TCP byte stream may return part
of a reply (or the rest of an earlier one); :func:`exchange` reads until it has as many
bytes as it sent (an upper-cased echo has the length of its request), EOF or a deadline.
"""

from __future__ import annotations

import selectors
import socket
import struct
import time
from dataclasses import dataclass
from typing import Optional, Union

from harness.echo import LOOPBACK, REPLY_GRACE
from harness.supervise import Raised, attempt

#: What the page's client passes to a single ``recv``.
PAGE_RECV_SIZE = 1024


def connect(port: int, host: str = LOOPBACK, timeout: float = REPLY_GRACE) -> socket.socket:
    """A connected client socket whose every blocking call times out after ``timeout``."""
    sock = socket.create_connection((host, port), timeout=timeout)
    sock.settimeout(timeout)
    return sock


# --- the page's client -----------------------------------------------------------------

@dataclass(frozen=True)
class PageAnswer:
    """What the page's client did with one input line."""

    sent: bytes
    """The stripped line, UTF-8 encoded (empty: the line was skipped, nothing sent)."""
    raw: bytes
    """What its single ``recv(1024)`` returned."""
    printed: Union[str, Raised]
    """The decoded text it would print, or the decode error."""


def page_client_line(sock: socket.socket, line: str) -> Optional[PageAnswer]:
    """One turn of the page's client loop; None when the stripped line is empty (skipped)."""
    msg = line.strip()
    if not msg:
        return None
    data = msg.encode("utf-8")
    sock.sendall(data)
    raw = sock.recv(PAGE_RECV_SIZE)
    return PageAnswer(sent=data, raw=raw, printed=attempt(lambda: raw.decode("utf-8")))


# --- a correct client ------------------------------------------------------------------

@dataclass(frozen=True)
class Reply:
    """What a correct client received for one message."""

    data: bytes
    eof: bool
    """The server closed its side before the whole reply came."""
    timed_out: bool
    """The deadline passed before the whole reply came."""
    error: Optional[Raised] = None
    """A socket error (e.g. a reset) that ended the exchange."""


def exchange(sock: socket.socket, data: bytes, expect: Optional[int] = None,
             timeout: float = REPLY_GRACE) -> Reply:
    """Send ``data`` and read ``expect`` bytes (default ``len(data)``), both at once.

    Writing and reading are interleaved (a selector), so a long message never deadlocks
    against a server that answers chunk by chunk while the client is still sending.
    """
    expect = len(data) if expect is None else expect
    deadline = time.monotonic() + timeout
    received = bytearray()
    pending = memoryview(data)
    old_timeout = sock.gettimeout()
    sock.setblocking(False)
    sel = selectors.DefaultSelector()
    try:
        sel.register(sock, selectors.EVENT_READ | (selectors.EVENT_WRITE if pending else 0))
        while len(received) < expect or pending:
            left = deadline - time.monotonic()
            if left <= 0:
                return Reply(bytes(received), eof=False, timed_out=True)
            for _key, events in sel.select(min(left, 0.5)):
                if events & selectors.EVENT_WRITE and pending:
                    try:
                        sent = sock.send(pending)
                    except BlockingIOError:
                        sent = 0
                    pending = pending[sent:]
                    if not pending:
                        sel.modify(sock, selectors.EVENT_READ)
                if events & selectors.EVENT_READ:
                    try:
                        chunk = sock.recv(65536)
                    except BlockingIOError:
                        continue
                    if not chunk:
                        return Reply(bytes(received), eof=True, timed_out=False)
                    received += chunk
        return Reply(bytes(received), eof=False, timed_out=False)
    except OSError as exc:
        return Reply(bytes(received), eof=False, timed_out=False,
                     error=Raised(type(exc).__name__, str(exc)))
    finally:
        sel.close()
        sock.settimeout(old_timeout)


def round_trip(port: int, data: bytes, host: str = LOOPBACK,
               timeout: float = REPLY_GRACE) -> Reply:
    """Connect, exchange one message, close."""
    try:
        sock = connect(port, host, timeout)
    except OSError as exc:
        return Reply(b"", eof=False, timed_out=False, error=Raised(type(exc).__name__, str(exc)))
    with sock:
        return exchange(sock, data, timeout=timeout)


@dataclass(frozen=True)
class Ending:
    """What a client saw after closing its sending side (``shutdown(SHUT_WR)``)."""

    eof: bool
    """The server closed the connection (recv returned b'')."""
    extra: bytes
    """Bytes that came after the half-close and before EOF (should be none)."""
    seconds: float
    error: Optional[Raised] = None


def half_close_and_wait(sock: socket.socket, timeout: float = REPLY_GRACE) -> Ending:
    """Close the client's sending side, then wait (bounded) for the server to close."""
    start = time.monotonic()
    extra = bytearray()
    try:
        sock.shutdown(socket.SHUT_WR)
        sock.settimeout(timeout)
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                return Ending(True, bytes(extra), time.monotonic() - start)
            extra += chunk
    except socket.timeout:
        return Ending(False, bytes(extra), time.monotonic() - start)
    except OSError as exc:
        return Ending(False, bytes(extra), time.monotonic() - start,
                      Raised(type(exc).__name__, str(exc)))


def reset(sock: socket.socket) -> None:
    """Close with SO_LINGER 0: the kernel sends RST instead of FIN."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    finally:
        sock.close()
