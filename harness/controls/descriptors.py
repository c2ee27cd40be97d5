"""Broken implementations for the descriptor claims (specs/descriptors.md).

A backend that keeps every child it started (so each child's descriptors stay open in the
parent for ever), and two echo servers that leak one descriptor per client (a per-client
log never closed; every handler's process object kept). The servers run as
``python -m harness.controls.descriptors NAME --host H --port N`` (procspec's accept loop,
fork handlers); the runner kills each one's whole process group.
"""

from __future__ import annotations

import os
import shlex
import sys
from typing import Any, Callable, Optional, Sequence

from harness.controls import Control
from harness.controls._base import ControlContext, base_context, serve_main

_BASE = base_context("fork")
_Real: Any = _BASE.Process

#: Every process object KeepsEveryChild started, for the life of the interpreter.
_kept: list[Any] = []


class KeepsEveryChild(_Real):
    """Keeps a reference to every process it started ("to report on them later"): the
    descriptors each child's object holds (its sentinel) are never released."""

    def start(self) -> None:
        super().start()
        _kept.append(self)


# --- echo servers that leak a descriptor per client ----------------------------------

def _serve(host: str, port: int, after_start: Callable[[Any, Any], None]) -> None:
    from harness.backends import resolve
    from harness.echo import server

    backend = resolve("fork")
    listener = server.listen(host, port)
    server.announce(listener)
    with listener:
        while True:
            conn, _ = listener.accept()
            proc = backend.Process(target=server.talk, args=(conn,))
            proc.start()
            after_start(conn, proc)
            conn.close()
            del proc


def _log_per_client(host: str, port: int) -> None:
    def log(conn: Any, proc: Any) -> None:
        fd = os.open(os.devnull, os.O_WRONLY | os.O_APPEND)  # the defect: never closed
        os.write(fd, f"client on fd {conn.fileno()} -> pid {proc.pid}\n".encode())
    _serve(host, port, log)


_handlers: list[Any] = []


def _keeps_handlers(host: str, port: int) -> None:
    _serve(host, port, lambda conn, proc: _handlers.append(proc))


SERVERS: dict[str, Callable[[str, int], None]] = {
    "log-per-client": _log_per_client,
    "keeps-handlers": _keeps_handlers,
}


def main(argv: Optional[Sequence[str]] = None) -> int:
    return serve_main("python -m harness.controls.descriptors", SERVERS, argv)


def _server(name: str, defect: str, breaks: set[str]) -> Control:
    return Control(name=f"echo-{name}", defect=defect, breaks=frozenset(breaks),
                   server_command=f"{shlex.quote(sys.executable)} -m "
                                  f"harness.controls.descriptors {name} "
                                  "--host {host} --port {port}")


CONTROLS = [
    Control(name="keeps-every-child", defect="keeps every started process object, so "
            "each child's descriptors stay open in the parent",
            breaks=frozenset({"FD-001", "FD-002", "API-021"}),
            context=ControlContext(KeepsEveryChild, _BASE),
            start_method=_BASE.get_start_method()),
    _server("log-per-client", "opens a log descriptor per client and never closes it",
            {"FD-002"}),
    _server("keeps-handlers", "keeps every handler's process object (its descriptors "
            "stay open)", {"FD-002"}),
]

if __name__ == "__main__":
    sys.exit(main())
