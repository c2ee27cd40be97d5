"""How connections end: misbehaving clients (resets, vanishing), the client's half-close
(the server's EOF), and handlers reaped after many clients."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Optional, Sequence

from harness.echo import clients, observe
from harness.echo.clients import Ending, Reply
from harness.echo.observe import RunningServer
from harness.scenarios.echo.waits import Waits, answered
from harness.supervise import Raised

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
    return AfterAbuse(tuple(abuses), tuple(errors), tuple(later), observe.is_running(server))


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
            waits.expire(f"no EOF within {grace:g} s of the client's half-close", "eof")
    return HalfClose(tuple(replies), ending, grace=grace)


@dataclass(frozen=True)
class Reaping:
    """N clients one after another, each closed (plainly) once answered."""

    clients: int
    replies_ok: int
    zombies_after_each: tuple[int, ...]
    """Zombie descendants of the server, counted right after each client finished."""
    zombies_settled: int
    """Zombies once no handler is running any more, after one more client (or the settle
    grace ran out)."""
    still_running: int
    """Handlers still running when the count was taken (0 unless the grace ran out)."""
    settle_grace: float = 0.0


def sequential_clients(server: RunningServer, count: int) -> Reaping:
    waits = Waits(server)
    ok, after = 0, []
    for i in range(count):
        message = f"client {i}".encode()
        ok += answered(message, waits.round_trip(message))
        after.append(len(observe.zombies(server)))
    grace = waits.eof()  # a handler ends within ms of its client's close (measured)

    def settle() -> int:
        deadline = time.monotonic() + grace
        while observe.live_workers(server) and time.monotonic() < deadline:
            time.sleep(0.02)
        return len(observe.live_workers(server))

    running = settle()
    # One more client once every handler has ended: a server that reaps lazily, at its next
    # start() (the standard library's way), has then had its chance to reap all of them.
    # Counted right after the last client instead, the handlers that a loaded machine let
    # end after the last start() stayed zombies: 4 were measured once (a false verdict).
    if not running:
        waits.round_trip(b"the last client")
        running = settle()
    if running:
        waits.expire(f"{running} handlers still running {grace:g} s after their clients "
                     "closed", "eof")
    return Reaping(count, ok, tuple(after), len(observe.zombies(server)), running, grace)
