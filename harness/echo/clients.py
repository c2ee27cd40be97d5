"""Clients of an echo server: the page's behaviour, and a correct one.

Every socket has a timeout and is closed by its owner; nothing here asserts or raises on
what a server does (a reset, an early close, silence): each call returns a record. The
page's client reads a reply with one ``recv(1024)``, which on a TCP byte stream may return
part of a reply (or the rest of an earlier one); :func:`exchange` reads until it has as
many bytes as it sent (an upper-cased echo has the length of its request), EOF, a reset,
or no progress: no first byte within ``timeout``, or a pause of ``stall`` inside a reply.
"""

from __future__ import annotations

import selectors
import socket
import struct
import time
from dataclasses import dataclass
from typing import Optional, Union

from harness.echo import EOF_GRACE, LOOPBACK, REPLY_GRACE, STALL_GRACE
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
    """What its single ``recv(1024)`` returned (empty: EOF, or an error)."""
    printed: Union[str, Raised]
    """The decoded text it would print, or the decode error."""
    error: Optional[Raised] = None
    """The socket error the page's client would have died of (a reset, a timeout)."""


def page_client_line(sock: socket.socket, line: str) -> Optional[PageAnswer]:
    """One turn of the page's client loop; None when the stripped line is empty (skipped).
    The socket's timeout bounds the ``recv``."""
    msg = line.strip()
    if not msg:
        return None
    data = msg.encode("utf-8")
    try:
        sock.sendall(data)
        raw = sock.recv(PAGE_RECV_SIZE)
    except OSError as exc:
        return PageAnswer(sent=data, raw=b"", printed="",
                          error=Raised(type(exc).__name__, str(exc)))
    return PageAnswer(sent=data, raw=raw, printed=attempt(lambda: raw.decode("utf-8")))


# --- a correct client ------------------------------------------------------------------

@dataclass(frozen=True)
class Reply:
    """What a correct client received for one message."""

    data: bytes
    eof: bool
    """The server closed its side before the whole reply came."""
    timed_out: bool
    """The whole reply did not come: no first byte within the grace, or (``stalled``) a
    pause inside the reply longer than the stall grace."""
    error: Optional[Raised] = None
    """A socket error (e.g. a reset) that ended the exchange."""
    stalled: bool = False
    """The reply began, then stopped (``timed_out`` is set too)."""
    seconds: float = 0.0

    @property
    def ended(self) -> bool:
        """The connection ended (EOF or an error) before the whole reply came."""
        return self.eof or self.error is not None


def could_become(received: bytes, want: Optional[bytes], fold_case: bool = False) -> bool:
    """``received`` is the start of ``want`` (ignoring ASCII case when ``fold_case``): the
    reply may still turn out right. Always true without a ``want``."""
    if want is None:
        return True
    head = want[:len(received)]
    return (received.upper() == head.upper()) if fold_case else received == head


def exchange(sock: socket.socket, data: bytes, expect: Optional[int] = None,
             timeout: float = REPLY_GRACE, stall: float = STALL_GRACE,
             want: Optional[bytes] = None, fold_case: bool = False) -> Reply:
    """Send ``data`` and read ``expect`` bytes (default ``len(data)``), both at once.

    Writing and reading are interleaved (a selector), so a long message never deadlocks
    against a server that answers chunk by chunk while the client is still sending. Ends
    at once on EOF or a socket error; gives up when no byte came within ``timeout``, or
    when ``stall`` seconds passed after the last byte without another. With ``want`` (the
    right reply; ``fold_case``: up to the case of ASCII letters) it also ends as soon as
    what came cannot be the start of it: the reply is wrong, waiting for more changes
    nothing.
    """
    expect = len(data) if expect is None else expect
    start = time.monotonic()
    deadline = start + timeout
    received = bytearray()
    pending = memoryview(data)
    old_timeout = sock.gettimeout()
    sel = selectors.DefaultSelector()

    def record(eof: bool = False, timed_out: bool = False, error: Optional[Raised] = None,
               stalled: bool = False) -> Reply:
        return Reply(bytes(received), eof, timed_out, error, stalled,
                     time.monotonic() - start)

    try:
        sock.setblocking(False)
        sel.register(sock, selectors.EVENT_READ | (selectors.EVENT_WRITE if pending else 0))
        while len(received) < expect or pending:
            left = deadline - time.monotonic()
            if left <= 0:
                return record(timed_out=True, stalled=bool(received))
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
                        return record(eof=True)
                    received += chunk
                    deadline = time.monotonic() + stall
                    if not could_become(bytes(received), want, fold_case):
                        return record()
        return record()
    except OSError as exc:
        return record(error=Raised(type(exc).__name__, str(exc)))
    finally:
        sel.close()
        try:
            sock.settimeout(old_timeout)
        except OSError:
            pass


def round_trip(port: int, data: bytes, host: str = LOOPBACK,
               timeout: float = REPLY_GRACE, stall: float = STALL_GRACE,
               want: Optional[bytes] = None, fold_case: bool = False) -> Reply:
    """Connect, exchange one message, close (a connect that fails or times out is a
    ``Reply`` with that error)."""
    try:
        sock = connect(port, host, timeout)
    except OSError as exc:
        timed_out = isinstance(exc, socket.timeout)
        return Reply(b"", eof=False, timed_out=timed_out,
                     error=Raised(type(exc).__name__, str(exc)))
    with sock:
        return exchange(sock, data, timeout=timeout, stall=stall, want=want,
                        fold_case=fold_case)


@dataclass(frozen=True)
class Ending:
    """What a client saw after closing its sending side (``shutdown(SHUT_WR)``)."""

    eof: bool
    """The server closed the connection (recv returned b'')."""
    extra: bytes
    """Bytes that came after the half-close and before EOF (should be none)."""
    seconds: float
    error: Optional[Raised] = None


def half_close_and_wait(sock: socket.socket, timeout: float = EOF_GRACE) -> Ending:
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


def drain(sock: socket.socket, count: int, timeout: float = REPLY_GRACE,
          stall: float = STALL_GRACE) -> Reply:
    """Read ``count`` more bytes without sending (EOF, an error or no progress end it)."""
    return exchange(sock, b"", expect=count, timeout=timeout, stall=stall)


def reset(sock: socket.socket) -> None:
    """Close with SO_LINGER 0: the kernel sends RST instead of FIN."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    finally:
        sock.close()
