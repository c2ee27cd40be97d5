"""Broken echo servers for the claims of specs/echo-server.md.

Each is procspec's server (harness.echo.server, fork) with one defect, run as
``python -m harness.controls.echo_servers NAME --host H --port N``; the meta-tests point
the suite at it with ``--echo-server``. Handlers that would wait use bounded sleeps, and
the runner kills each server's whole process group, so none can hang a run or outlive it.

Each control's ``breaks`` is the exact set of claims it breaks by verdict when the whole
echo topic runs against it (specs/echo-server.md, "One claim, one behaviour"). Two kinds
are here twice, as different implementations: upper-casing decoded text (``text-upper``:
UTF-8 ``str.upper``; ``latin1-upper``: Latin-1 ``str.upper``) and losing part of long
replies (``loses-long-bytes``: 24 bytes of every full chunk; ``truncates-replies``: all but
1024 bytes of every read).
"""

from __future__ import annotations

import os
import shlex
import signal
import socket
import sys
import threading
import time
from typing import Callable, Optional, Sequence

from harness.controls import Control
from harness.controls._base import serve_main

# --- broken handlers (module level: importable by any start method) ---------------------


def _handler_loop(conn: socket.socket, reply: Callable[[bytes], bytes],
                  on_eof: Optional[Callable[[], None]] = None,
                  on_reset: Optional[Callable[[], None]] = None,
                  once: bool = False) -> None:
    try:
        while True:
            try:
                data = conn.recv(1024)
                if not data:
                    if on_eof is not None:
                        on_eof()
                    break
                conn.sendall(reply(data))
                if once:
                    break
            except (ConnectionResetError, BrokenPipeError):
                if on_reset is not None:
                    on_reset()
                break
    finally:
        conn.close()


def talk_text_upper(conn: socket.socket) -> None:
    """Upper-cases decoded text: 'ß' becomes 'SS', and bytes that are not UTF-8 crash it."""
    _handler_loop(conn, lambda data: data.decode("utf-8").upper().encode("utf-8"))


def talk_loses_bytes(conn: socket.socket) -> None:
    """Drops the last 24 bytes of every chunk that filled the 1024-byte receive."""
    _handler_loop(conn, lambda data: data.upper()[:1000] if len(data) == 1024
                  else data.upper())


def talk_latin1_upper(conn: socket.socket) -> None:
    """Upper-cases each chunk as Latin-1 text: every byte is a character, so nothing
    crashes, but bytes 0xE0-0xFE (UTF-8 lead bytes among them) change too, 0xDF ('ß')
    becomes 'SS', and 0xB5/0xFF (whose upper case is no Latin-1 character) become '?'."""
    _handler_loop(conn, lambda data: data.decode("latin-1").upper().encode("latin-1",
                                                                            "replace"))


def talk_truncates(conn: socket.socket) -> None:
    """Reads up to 64 KiB at a time and sends back only the first 1024 bytes of each read
    (upper-cased): a long message that arrives at once loses its tail."""
    try:
        while True:
            try:
                data = conn.recv(65536)
                if not data:
                    break
                conn.sendall(data[:1024].upper())
            except (ConnectionResetError, BrokenPipeError):
                break
    finally:
        conn.close()


def talk_once(conn: socket.socket) -> None:
    """Answers the first chunk (one receive, up to 1024 bytes), then closes the connection."""
    _handler_loop(conn, bytes.upper, once=True)


def talk_ignores_eof(conn: socket.socket) -> None:
    """On the client's EOF, keeps the connection open (60 s) instead of closing it."""
    _handler_loop(conn, bytes.upper, on_eof=lambda: time.sleep(60))


def talk_kills_server_on_reset(conn: socket.socket) -> None:
    """A reset makes the handler kill its parent, the server."""
    _handler_loop(conn, bytes.upper, on_reset=lambda: os.kill(os.getppid(), signal.SIGKILL))


# --- broken accept loops ---------------------------------------------------------------

def _accept_forever(host: str, port: int, start: Callable[[socket.socket], None]) -> None:
    from harness.echo import server

    listener = server.listen(host, port)
    server.announce(listener)
    with listener:
        while True:
            conn, _ = listener.accept()
            start(conn)


def _inline(conn: socket.socket) -> None:
    from harness.echo.server import talk

    talk(conn)


def _thread(conn: socket.socket) -> None:
    from harness.echo.server import talk

    threading.Thread(target=talk, args=(conn,), daemon=True).start()


def _fork_never_wait(conn: socket.socket) -> None:
    from harness.echo.server import talk

    if os.fork() == 0:
        try:
            talk(conn)
        finally:
            os._exit(0)
    conn.close()  # and never wait() for the child


def main(argv: Optional[Sequence[str]] = None) -> int:
    return serve_main("python -m harness.controls.echo_servers", SERVERS, argv)


def _with_handler(handler: Callable[[socket.socket], None]) -> Callable[[str, int], None]:
    def run(host: str, port: int) -> None:
        from harness.echo.server import serve

        serve(host, port, "fork", handler=handler)
    return run


def _page_verbatim(host: str, port: int) -> None:
    from harness.echo.server import serve

    serve(host, port, "fork", keep_accepted=True)


SERVERS: dict[str, Callable[[str, int], None]] = {
    "one-at-a-time": lambda host, port: _accept_forever(host, port, _inline),
    "threads": lambda host, port: _accept_forever(host, port, _thread),
    "never-reaps": lambda host, port: _accept_forever(host, port, _fork_never_wait),
    "text-upper": _with_handler(talk_text_upper),
    "latin1-upper": _with_handler(talk_latin1_upper),
    "truncates-replies": _with_handler(talk_truncates),
    "loses-long-bytes": _with_handler(talk_loses_bytes),
    "one-reply": _with_handler(talk_once),
    "no-close-on-eof": _with_handler(talk_ignores_eof),
    "dies-on-reset": _with_handler(talk_kills_server_on_reset),
    "keeps-accepted-socket": _page_verbatim,
}

_PY = shlex.quote(sys.executable)


def _server(name: str, defect: str, breaks: set[str]) -> Control:
    return Control(name=f"echo-{name}", defect=defect, breaks=frozenset(breaks),
                   server_command=f"{_PY} -m harness.controls.echo_servers {name} "
                                  "--host {host} --port {port}")


CONTROLS = [
    _server("one-at-a-time", "serves one client at a time, in the accepting process",
            {"ECHO-005", "ECHO-006", "ECHO-007"}),
    _server("threads", "one thread (not process) per connection", {"ECHO-007"}),
    _server("text-upper", "upper-cases decoded text (str.upper) instead of bytes",
            {"ECHO-001", "ECHO-002"}),
    _server("loses-long-bytes", "drops 24 bytes of every full 1024-byte chunk",
            {"ECHO-001", "ECHO-004"}),
    _server("latin1-upper", "upper-cases each chunk as Latin-1 text (str.upper of "
            "data.decode('latin-1')): non-ASCII bytes change", {"ECHO-001", "ECHO-002"}),
    _server("truncates-replies", "reads up to 64 KiB at a time and sends back only the "
            "first 1024 bytes of each read", {"ECHO-001", "ECHO-004"}),
    # One receive per connection: a message longer than 1024 bytes is several receives,
    # so its reply loses its tail too (ECHO-001, ECHO-004 own long messages).
    _server("one-reply", "answers the first receive (up to 1024 bytes), then closes the "
            "connection", {"ECHO-001", "ECHO-003", "ECHO-004"}),
    _server("never-reaps", "forks a handler per connection and never waits for it",
            {"ECHO-010"}),
    _server("no-close-on-eof", "a handler keeps the connection open after the client's EOF",
            {"ECHO-009"}),
    _server("keeps-accepted-socket",
            "the page's own server: keeps its copy of the accepted socket until the next "
            "accept, so a half-closed client sees no EOF", {"ECHO-009"}),
    _server("dies-on-reset", "a handler that meets a reset kills the server",
            {"ECHO-008"}),
    Control(name="echo-module-level-socket",
            defect="listening socket made at import time: spawn handlers die re-binding it",
            breaks=frozenset({"ECHO-011"}),
            server_command=f"{_PY} -m harness.controls._module_level_socket "
                           "--host {host} --port {port} --backend spawn"),
]

if __name__ == "__main__":
    sys.exit(main())
