"""Looking at a running server under test from outside: its processes, who holds which
connection, and its accept queue. Nothing here changes the server;
:mod:`harness.echo.runner` starts and ends it.

On Linux each table is read once per question: the server's processes from the children
files (:func:`harness.supervise.descendants`), its sockets from the kernel's socket table
(:mod:`harness.echo.tcp_table`, which also gives a listening socket's accept queue),
matched against each process's descriptors. (psutil's ``children()`` walks all of
``/proc``, and its ``net_connections()`` reads the whole TCP table as text again for every
process: measured, that was a tenth of a worker's CPU time.) Elsewhere psutil answers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Optional

import psutil

from harness.echo import tcp_table
from harness.helper_processes import is_helper
from harness.supervise import descendants, fd_table


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


def _processes(root: int) -> list[psutil.Process]:
    """``root`` and all its descendants (zombies included); empty when ``root`` is gone."""
    procs: list[psutil.Process] = []
    for pid in (root, *descendants(root)):
        try:
            procs.append(psutil.Process(pid))
        except psutil.Error:
            if pid == root:
                return []
    return procs


def tree(server: RunningServer) -> list[psutil.Process]:
    """The server's process and all its descendants (zombies included)."""
    return _processes(server.pid)


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


def _socket_inodes(pid: int) -> set[int]:
    """The inodes of the sockets ``pid`` holds (its ``/proc/PID/fd`` links)."""
    return {int(link[8:-1]) for link in fd_table(pid).values() if link.startswith("socket:[")}


def _psutil_tcp4(proc: psutil.Process) -> list:
    getter = getattr(proc, "net_connections", None) or proc.connections
    try:
        return list(getter(kind="tcp4"))
    except psutil.Error:
        return []


def holders(server: RunningServer, client_ports: Iterable[int]) -> dict[int, frozenset[int]]:
    """For each client port: the pids (in the server's tree) holding that connection's
    server end (each process's socket descriptors)."""
    wanted = set(client_ports)
    found: dict[int, set[int]] = {port: set() for port in wanted}
    sockets = tcp_table.sockets(tcp_table.ESTABLISHED)
    if sockets is None:  # no socket table: psutil, process by process
        for proc in tree(server):
            for conn in _psutil_tcp4(proc):
                if (conn.status == psutil.CONN_ESTABLISHED and conn.laddr
                        and conn.laddr.port == server.port and conn.raddr
                        and conn.raddr.port in wanted):
                    found[conn.raddr.port].add(proc.pid)
    else:
        ends = {s.inode: s.remote_port for s in sockets
                if s.local_port == server.port and s.remote_port in wanted}
        for pid in (server.pid, *descendants(server.pid)):
            for inode in _socket_inodes(pid) & ends.keys():
                found[ends[inode]].add(pid)
    return {port: frozenset(pids) for port, pids in found.items()}


def _listening(port: int, host: Optional[str] = None) -> Optional[list[tcp_table.Socket]]:
    """The sockets listening on ``port`` (at ``host`` or the wildcard address, when given);
    None when the socket table cannot be read."""
    found = tcp_table.sockets(tcp_table.LISTEN)
    if found is None:
        return None
    return [s for s in found if s.local_port == port
            and (host is None or s.local_address in (host, "0.0.0.0"))]


def accept_queue(host: str, port: int) -> Optional[int]:
    """Connections waiting in the accept queue of whatever listens on ``host:port``, read
    from the kernel; None when it cannot be read (not Linux, nothing listening)."""
    sockets = _listening(port, host)
    return sockets[0].queue if sockets else None


def listener(server_pid: int, port: int) -> Optional[int]:
    """The process of ``server_pid``'s tree that holds the socket listening on ``port``
    (None: none does)."""
    sockets = _listening(port)
    if sockets is None:  # no socket table: psutil, process by process
        for proc in _processes(server_pid):
            if any(c.status == psutil.CONN_LISTEN and c.laddr and c.laddr.port == port
                   for c in _psutil_tcp4(proc)):
                return int(proc.pid)
        return None
    listening = {s.inode for s in sockets}
    if not listening:
        return None
    for pid in (server_pid, *descendants(server_pid)):
        if _socket_inodes(pid) & listening:
            return pid
    return None


def listening(server_pid: int, port: int) -> bool:
    """Some process of ``server_pid``'s tree listens on ``port``."""
    return listener(server_pid, port) is not None
