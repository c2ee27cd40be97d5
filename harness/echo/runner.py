"""Run a server under test from a command template, watch it from outside, end it whole.

``running_server("CMD ... {host} ... {port}")`` picks a free loopback port, fills in the
placeholders, starts the command in a new session (its own process group), waits (bounded)
until some process of it listens on the port, and yields a :class:`RunningServer`. On the
way out it kills the whole group and every descendant (SIGKILL: a server under test may
ignore anything gentler) and reaps them all.

Reaping orphans: a killed server's handlers are re-parented, normally to PID 1. Not every
PID 1 reaps (in this project's VMs and in containers without an init, orphans stay zombies
for ever), so while a server runs the calling process is the *child subreaper* of its
descendants (Linux ``PR_SET_CHILD_SUBREAPER``): orphans come back to it and are reaped here.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import shlex
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from typing import Iterable, Iterator, Optional

import psutil

from harness.echo import LOOPBACK, SERVER_START_GRACE

#: Command-line fragments of helper processes an implementation keeps on purpose.
HELPER_MARKS = ("forkserver", "resource_tracker", "semaphore_tracker")


class ServerDidNotStart(RuntimeError):
    """The command exited, or did not listen within the grace."""


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


def free_port(host: str = LOOPBACK) -> int:
    """A port nothing listens on right now (the OS's choice for port 0)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def fill(template: str, host: str, port: int) -> list[str]:
    """The argv of a template: split like a shell would, then ``{host}``/``{port}`` filled."""
    return [word.replace("{host}", host).replace("{port}", str(port))
            for word in shlex.split(template)]


def procspec_server_template(backend_name: str) -> str:
    """The command template of procspec's own server under ``backend_name``."""
    return (f"{shlex.quote(sys.executable)} -m harness.echo serve --host {{host}} "
            f"--port {{port}} --backend {shlex.quote(backend_name)}")


# --- looking at a server from outside --------------------------------------------------

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


def is_helper(proc: psutil.Process) -> bool:
    try:
        return any(m in " ".join(proc.cmdline()) for m in HELPER_MARKS)
    except psutil.Error:
        return False


def zombies(server: RunningServer) -> list[int]:
    """Descendants that have ended and that nobody has reaped."""
    return [p.pid for p in tree(server)[1:] if _status(p) == psutil.STATUS_ZOMBIE]


def live_workers(server: RunningServer) -> list[int]:
    """Running descendants, the implementation's helper processes excepted."""
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


def _listening(server_pid: int, port: int) -> bool:
    try:
        top = psutil.Process(server_pid)
        procs = [top, *top.children(recursive=True)]
    except psutil.Error:
        return False
    return any(c.status == psutil.CONN_LISTEN and c.laddr and c.laddr.port == port
               for p in procs for c in _connections(p))


# --- start and end ---------------------------------------------------------------------

_PR_SET_CHILD_SUBREAPER = 36


def _set_subreaper(on: bool) -> bool:
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(_PR_SET_CHILD_SUBREAPER, int(on), 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def _end(popen: subprocess.Popen, grace: float = 10.0) -> None:
    """Kill the group and every descendant, then reap whatever came back to us.

    Killed handlers are re-parented to this process (the subreaper) and reaped here,
    including any the server forked between our look at its tree and the kill."""
    group = popen.pid  # start_new_session: the server leads its own group
    try:
        family = {popen.pid} | {p.pid for p in psutil.Process(popen.pid).children(recursive=True)}
    except psutil.Error:
        family = {popen.pid}
    with contextlib.suppress(OSError):
        os.killpg(group, signal.SIGKILL)
    for pid in family:  # also those that left the group (setsid)
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        popen.wait(grace)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        ours = [p for p in _own_children() if p.pid in family or _pgid(p.pid) == group]
        if not ours and not any(_lingers(pid) for pid in family):
            return
        for proc in ours:
            with contextlib.suppress(OSError):
                os.kill(proc.pid, signal.SIGKILL)
            with contextlib.suppress(ChildProcessError):
                os.waitpid(proc.pid, os.WNOHANG)
        time.sleep(0.01)


def _own_children() -> list[psutil.Process]:
    try:
        return psutil.Process().children()
    except psutil.Error:
        return []


def _pgid(pid: int) -> Optional[int]:
    try:
        return os.getpgid(pid)
    except OSError:
        return None


def _lingers(pid: int) -> bool:
    """``pid`` still runs in (or out of) the group, not yet dead: wait for it to die."""
    try:
        return psutil.Process(pid).status() not in (psutil.STATUS_ZOMBIE, psutil.STATUS_DEAD)
    except psutil.Error:
        return False


@contextlib.contextmanager
def running_server(template: str, name: Optional[str] = None, host: str = LOOPBACK,
                   start_grace: float = SERVER_START_GRACE) -> Iterator[RunningServer]:
    """Start ``template`` on a free port of ``host``; yield it listening; end it whole."""
    port = free_port(host)
    argv = fill(template, host, port)
    subreaper = _set_subreaper(True)
    log = tempfile.TemporaryFile()
    try:
        popen = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log,
                                 stderr=subprocess.STDOUT, start_new_session=True)
        try:
            deadline = time.monotonic() + start_grace
            while not _listening(popen.pid, port):
                if popen.poll() is not None or time.monotonic() >= deadline:
                    log.seek(0)
                    said = log.read()[-2000:].decode(errors="replace")
                    why = (f"exited with status {popen.returncode}"
                           if popen.returncode is not None
                           else f"not listening on {host}:{port} after {start_grace} s")
                    raise ServerDidNotStart(f"server {argv}: {why}; it said:\n{said}")
                time.sleep(0.02)
            yield RunningServer(name or template, tuple(argv), host, port, popen.pid,
                                os.getpgid(popen.pid))
        finally:
            _end(popen)
    finally:
        log.close()
        if subreaper:
            _set_subreaper(False)
