"""procspec's faithful version of the page's server: one process per accepted connection.

Behaviour kept from the page: IPv4 stream socket with ``SO_REUSEADDR``, ``listen(5)``;
forever accept and start a process whose target is the handler, passing it the accepted
socket; the handler receives up to 1024 bytes at a time, sends back ``bytes.upper()`` of
each chunk, and stops on an empty receive or a reset, then closes the connection.

Three deliberate differences, each explained in specs/echo-server.md:

- the parent closes its own copy of the accepted socket straight after ``start()`` (the
  page's keeps it until the next ``accept()`` returns, so a client that half-closes sees
  no EOF until another client connects: ``keep_accepted=True``, which the named server
  ``page-server`` and the control ``echo-keeps-accepted-socket`` run);
- ``sendall`` instead of ``send`` (the same on a blocking Linux socket, and it says so);
- ``BrokenPipeError`` ends the handler quietly too (a reset can surface on ``send`` as
  EPIPE; the page's handler would die with a traceback, which is harmless but noisy).

The listening socket is created inside :func:`serve`, which only the ``__main__`` guard
calls, so spawn and forkserver children (which re-import the main module) do not re-bind.
"""

from __future__ import annotations

import socket
import sys

# typing only for the type checker (children import this module: harness/child/targets.py).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Callable, Optional, TextIO

#: The page's receive size.
CHUNK = 1024

#: The page's listen backlog.
BACKLOG = 5


def talk(conn: socket.socket) -> None:
    """The per-connection handler (module-level: importable under spawn and forkserver)."""
    try:
        while True:
            try:
                data = conn.recv(CHUNK)
                if not data:
                    break
                conn.sendall(data.upper())
            except (ConnectionResetError, BrokenPipeError):
                break
    finally:
        conn.close()


def listen(host: str, port: int, backlog: int = BACKLOG) -> socket.socket:
    """The page's listening socket: IPv4, stream, SO_REUSEADDR, bound and listening."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((host, port))
        listener.listen(backlog)
    except BaseException:
        listener.close()
        raise
    return listener


def announce(listener: socket.socket, out: TextIO = sys.stdout) -> None:
    """Print ``listening HOST PORT`` (the port the OS chose when asked for port 0)."""
    host, port = listener.getsockname()[:2]
    print(f"listening {host} {port}", file=out, flush=True)


def serve(host: str, port: int, backend_name: str,
          handler: Callable[[socket.socket], None] = talk,
          keep_accepted: bool = False, listener: Optional[socket.socket] = None) -> None:
    """Accept forever; one process of ``backend_name`` per connection, running ``handler``.

    ``keep_accepted=True`` is the page's own behaviour (the parent's copy of the accepted
    socket stays open until the next accept); procspec's server closes it.
    """
    from harness.backends import resolve

    backend = resolve(backend_name)
    listener = listener if listener is not None else listen(host, port)
    announce(listener)
    kept: Any = None
    with listener:
        while True:
            conn, _ = listener.accept()
            kept = None  # the page rebinds its variable here: the old copy goes
            proc = backend.Process(target=handler, args=(conn,))
            proc.start()
            if keep_accepted:
                kept = conn  # noqa: F841  (held, unclosed, until the next accept: the page's way)
            else:
                conn.close()
            del proc
