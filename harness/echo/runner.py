"""Run a server under test from a command template, watch it from outside, end it whole.

``running_server("CMD ... {host} ... {port}")`` picks a free loopback port, fills in the
placeholders, starts the command in a new session (its own process group), waits (bounded)
until some process of it listens on the port, and yields a :class:`RunningServer`. On the
way out it kills the whole group and every descendant (SIGKILL: a server under test may
ignore anything gentler) and reaps them all.

A command that cannot serve fails once, with the reason: :func:`template_problem` tells an
unusable template (empty, unbalanced quotes, no ``{port}``) without running it;
:func:`preflight` starts it once. A command that exited early or did not listen within the
start grace is remembered (per process): every later :func:`running_server` of it raises
:class:`ServerDidNotStart` at once, with the same reason.

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
from typing import Any, Iterator, Optional

import psutil

from harness.echo import LOOPBACK, SERVER_START_GRACE, named_server_template
from harness.echo.observe import RunningServer, listening
from harness.supervise import children, descendants


class ServerDidNotStart(RuntimeError):
    """The command exited, or did not listen within the grace (or did so before, in this
    process), or cannot be run at all."""


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
    family = {popen.pid, *descendants(popen.pid)}
    with contextlib.suppress(OSError):
        os.killpg(group, signal.SIGKILL)
    for pid in family:  # also those that left the group (setsid)
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        popen.wait(grace)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        ours = [pid for pid in children(os.getpid()) if pid in family or _pgid(pid) == group]
        if not ours and not any(_lingers(pid) for pid in family):
            return
        for pid in ours:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, os.WNOHANG)
        time.sleep(0.01)


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


# --- templates that cannot serve ---------------------------------------------------------

def template_problem(template: str) -> Optional[str]:
    """Why ``template`` (a command template, or the name of a named server) cannot be a
    server command, in one line; None when it can be tried."""
    if not template.strip():
        return "the command is empty"
    named = named_server_template(template)
    if named is not None:
        template = named
    try:
        words = shlex.split(template)
    except ValueError as exc:
        return f"the command cannot be split into words like a shell would ({exc})"
    if not words:
        return "the command is empty"
    if "{port}" not in template:
        return ("the command has no {port}: the suite picks a free port and passes it to the "
                "server there (and {host}, the loopback address); named servers: "
                + ", ".join(sorted(_named_servers())))
    return None


def _named_servers() -> list[str]:
    from harness.echo import NAMED_SERVERS

    return list(NAMED_SERVERS)


#: Templates that did not start in this process, with the reason (see running_server).
_did_not_start: dict[str, str] = {}


def start_failure(template: str) -> Optional[str]:
    """The reason ``template`` did not start earlier in this process (None: it did not fail)."""
    return _did_not_start.get(template)


def preflight(template: str, host: str = LOOPBACK,
              start_grace: float = SERVER_START_GRACE) -> Optional[str]:
    """Start ``template`` once and end it: the one-line reason it does not serve, or None."""
    problem = template_problem(template)
    if problem:
        return problem
    named = named_server_template(template)
    try:
        with running_server(named or template, host=host, start_grace=start_grace):
            return None
    except ServerDidNotStart as exc:
        return str(exc).splitlines()[0]


def _said(log: Any) -> str:
    log.seek(0)
    lines = [ln.strip() for ln in log.read()[-2000:].decode(errors="replace").splitlines()
             if ln.strip()]
    return lines[-1][:200] if lines else "nothing"


@contextlib.contextmanager
def running_server(template: str, name: Optional[str] = None, host: str = LOOPBACK,
                   start_grace: float = SERVER_START_GRACE) -> Iterator[RunningServer]:
    """Start ``template`` on a free port of ``host``; yield it listening; end it whole.

    Raises :class:`ServerDidNotStart` (one line: why, and the last line the command printed)
    when the template is unusable, when the command exits before it listens or does not
    listen within ``start_grace``, and, at once, when it did either before in this process.
    """
    earlier = _did_not_start.get(template)
    if earlier is not None:
        raise ServerDidNotStart(f"{earlier} (earlier in this run; not started again)")
    problem = template_problem(template)
    if problem:
        _did_not_start[template] = problem
        raise ServerDidNotStart(problem)
    port = free_port(host)
    argv = fill(template, host, port)
    subreaper = _set_subreaper(True)
    log = tempfile.TemporaryFile()
    try:
        try:
            popen = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        except OSError as exc:
            why = f"cannot run {argv[0]!r}: {exc.strerror or exc}"
            _did_not_start[template] = why
            raise ServerDidNotStart(why) from None
        try:
            deadline = time.monotonic() + start_grace
            while not listening(popen.pid, port):
                if popen.poll() is not None or time.monotonic() >= deadline:
                    why = (f"the command exited with status {popen.returncode} before it "
                           f"listened on {host}:{port}"
                           if popen.returncode is not None
                           else f"the command was not listening on {host}:{port} "
                                f"{start_grace:g} s after it started")
                    why += f"; its last output: {_said(log)}"
                    _did_not_start[template] = why
                    raise ServerDidNotStart(why)
                time.sleep(0.02)
            yield RunningServer(name or template, tuple(argv), host, port, popen.pid,
                                os.getpgid(popen.pid))
        finally:
            _end(popen)
    finally:
        log.close()
        if subreaper:
            _set_subreaper(False)
