"""Looking at a running server under test from outside: its processes (psutil), who holds
which connection, and its accept queue (the kernel's ``/proc/net/tcp``). Nothing here
changes the server; :mod:`harness.echo.runner` starts and ends it."""

from __future__ import annotations

import socket
import sys
from dataclasses import dataclass
from typing import Iterable, Optional

import psutil

from harness.helper_processes import is_helper


@dataclass(frozen=True)
class RunningServer:
    """A server under test, listening on ``host:port``."""

    name: str
    """What the results table calls it (a backend name, or the command template)."""
    argv: tuple[str, ...]
    host: str
    port: int
    pid: int
    """The command's own process (the one that was started)."""
    pgid: int


def tree(server: RunningServer) -> list[psutil.Process]:
    """The server's process and all its descendants (zombies included)."""
    try:
        top = psutil.Process(server.pid)
        return [top, *top.children(recursive=True)]
    except psutil.Error:
        return []


def _status(proc: psutil.Process) -> str:
    try:
        return str(proc.status())
    except psutil.Error:
        return "gone"


def is_running(server: RunningServer) -> bool:
    """The server's own process has not ended (a zombie has)."""
    try:
        return _status(psutil.Process(server.pid)) not in (psutil.STATUS_ZOMBIE, "gone")
    except psutil.Error:
        return False


def zombies(server: RunningServer) -> list[int]:
    """Descendants that have ended and that nobody has reaped."""
    return [p.pid for p in tree(server)[1:] if _status(p) == psutil.STATUS_ZOMBIE]


def live_workers(server: RunningServer) -> list[int]:
    """Running descendants, the implementation's helper processes (a fork server, a resource
    tracker: :func:`harness.helper_processes.is_helper`) excepted, never their children."""
    return [p.pid for p in tree(server)[1:]
            if _status(p) not in (psutil.STATUS_ZOMBIE, "gone") and not is_helper(p)]


def _connections(proc: psutil.Process) -> list:
    getter = getattr(proc, "net_connections", None) or proc.connections
    try:
        return list(getter(kind="tcp4"))
    except psutil.Error:
        return []


def holders(server: RunningServer, client_ports: Iterable[int]) -> dict[int, frozenset[int]]:
    """For each client port: the pids (in the server's tree) holding that connection's
    server end, read from ``/proc`` (each process's socket descriptors)."""
    wanted = set(client_ports)
    found: dict[int, set[int]] = {port: set() for port in wanted}
    for proc in tree(server):
        for conn in _connections(proc):
            if (conn.status == psutil.CONN_ESTABLISHED and conn.laddr
                    and conn.laddr.port == server.port and conn.raddr
                    and conn.raddr.port in wanted):
                found[conn.raddr.port].add(proc.pid)
    return {port: frozenset(pids) for port, pids in found.items()}


#: Linux's table of IPv4 TCP sockets (every socket of this network namespace).
_PROC_NET_TCP = "/proc/net/tcp"
_TCP_LISTEN = "0A"


def accept_queue(host: str, port: int) -> Optional[int]:
    """Connections waiting in the accept queue of whatever listens on ``host:port``, read
    from the kernel (``/proc/net/tcp``: a listening socket's ``rx_queue``); None when it
    cannot be read (not Linux, nothing listening)."""
    # The table prints each IPv4 address as a 32-bit number in the host's byte order.
    address = f"{int.from_bytes(socket.inet_aton(host), sys.byteorder):08X}:{port:04X}"
    wildcard = f"00000000:{port:04X}"
    try:
        with open(_PROC_NET_TCP, encoding="ascii") as table:
            next(table, None)  # the header
            for line in table:
                fields = line.split()
                if len(fields) > 4 and fields[3] == _TCP_LISTEN and \
                        fields[1] in (address, wildcard):
                    return int(fields[4].split(":")[1], 16)
    except (OSError, ValueError):
        return None
    return None


def listening(server_pid: int, port: int) -> bool:
    """Some process of ``server_pid``'s tree listens on ``port``."""
    try:
        top = psutil.Process(server_pid)
        procs = [top, *top.children(recursive=True)]
    except psutil.Error:
        return False
    return any(c.status == psutil.CONN_LISTEN and c.laddr and c.laddr.port == port
               for p in procs for c in _connections(p))
