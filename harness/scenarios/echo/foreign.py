"""A client nobody here wrote: socat, driven through its stdin and stdout."""

from __future__ import annotations

import os
import selectors
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from typing import Optional, Union

from harness.echo import REPLY_GRACE, clients
from harness.echo.observe import RunningServer
from harness.scenarios.echo.waits import Waits
from harness.supervise import Raised

# --- a client nobody here wrote -------------------------------------------------------

@dataclass(frozen=True)
class ForeignClient:
    program: str
    sent: bytes
    stdout: bytes
    returncode: Union[int, Raised, None]
    """Its exit status (None: procspec stopped it once it had read what it needed)."""
    seconds: float
    grace: float
    """socat's ``-t``: how long it waits for the server's EOF after its input ended."""
    stderr: str = ""

    @property
    def eof_before_grace(self) -> bool:
        """It ended before its grace ran out: the server closed the connection."""
        return self.returncode == 0 and self.seconds < self.grace


def _socat(server: RunningServer, t: float, big_t: float) -> Optional[list[str]]:
    program = shutil.which("socat")
    if program is None:
        return None
    return [program, "-t", f"{t:g}", "-T", f"{big_t:g}", "-",
            f"TCP:{server.host}:{server.port}"]


def _run_foreign(argv: list[str], data: bytes, want: Optional[bytes], first: float,
                 stall: float) -> tuple[bytes, Union[int, Raised, None], float, str, bool]:
    """Run ``argv`` with ``data`` on its stdin (then closed); read its stdout until it has
    ``len(want)`` bytes, or cannot become ``want`` (None: until it exits), or no progress;
    then stop it. Returns (stdout, status, seconds, the end of its stderr, whether a wait
    expired)."""
    start = time.monotonic()
    out = bytearray()
    expired = False
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=err)
        assert proc.stdin is not None and proc.stdout is not None
        pending = memoryview(data)
        sel = selectors.DefaultSelector()
        try:
            os.set_blocking(proc.stdin.fileno(), False)
            os.set_blocking(proc.stdout.fileno(), False)
            if pending:
                sel.register(proc.stdin, selectors.EVENT_WRITE)
            else:
                proc.stdin.close()
            sel.register(proc.stdout, selectors.EVENT_READ)
            deadline = start + first
            while want is None or (len(out) < len(want)
                                    and clients.could_become(bytes(out), want)):
                left = deadline - time.monotonic()
                if left <= 0:
                    expired = True
                    break
                events = sel.select(min(left, 0.5))
                done = False
                for key, _mask in events:
                    if key.fileobj is proc.stdin:
                        try:
                            pending = pending[os.write(proc.stdin.fileno(), pending):]
                        except BlockingIOError:
                            continue
                        except BrokenPipeError:
                            pending = pending[len(pending):]
                        if not pending:
                            sel.unregister(proc.stdin)
                            proc.stdin.close()
                    else:
                        try:
                            chunk = os.read(proc.stdout.fileno(), 65536)
                        except BlockingIOError:
                            continue
                        if not chunk:
                            done = True
                            break
                        out += chunk
                        deadline = time.monotonic() + stall
                if done:
                    break
        finally:
            sel.close()
            status: Union[int, Raised, None]
            if want is not None and proc.poll() is None:
                status = None  # we have what we need; socat's own closing is not waited for
            else:
                try:
                    status = proc.wait(max(0.1, first))
                except subprocess.TimeoutExpired as exc:
                    status, expired = Raised("TimeoutExpired", str(exc)), True
            seconds = time.monotonic() - start
            if proc.poll() is None:
                proc.kill()
            proc.wait()
            for pipe in (proc.stdin, proc.stdout):
                if pipe is not None and not pipe.closed:
                    pipe.close()
        err.seek(0)
        said = err.read()[-500:].decode(errors="replace").strip()
    return bytes(out), status, seconds, said, expired


def socat_client(server: RunningServer, data: bytes) -> Optional[ForeignClient]:
    """``socat`` sends ``data`` from its stdin and prints what comes back; procspec reads
    its output until it has ``len(data)`` bytes (or they cannot be ``data.upper()``, or no
    progress), then stops it: how socat ends (the server's EOF, ECHO-009) is not waited
    for. None: no socat."""
    waits = Waits(server)
    first, stall = waits.reply(), waits.stall()
    argv = _socat(server, REPLY_GRACE, REPLY_GRACE)
    if argv is None:
        return None
    out, status, seconds, said, expired = _run_foreign(argv, data, data.upper(), first, stall)
    if expired:
        waits.expire(f"socat printed {len(out)} of {len(data)} bytes, then nothing")
    return ForeignClient("socat", data, out, status, seconds, REPLY_GRACE, said)


def socat_until_close(server: RunningServer, data: bytes) -> Optional[ForeignClient]:
    """``socat -t GRACE``: sends ``data``, half-closes at its input's end, prints the reply,
    and exits once the server closes (or, at the latest, GRACE seconds after its input
    ended). procspec waits for it to exit. None: no socat."""
    waits = Waits(server)
    grace = waits.eof()
    argv = _socat(server, grace, REPLY_GRACE)
    if argv is None:
        return None
    bound = waits.reply() + grace
    out, status, seconds, said, expired = _run_foreign(argv, data, None, bound, bound)
    if expired or not (status == 0 and seconds < grace):
        waits.expire(f"socat did not see the server close within its -t of {grace:g} s", "eof")
    return ForeignClient("socat", data, out, status, seconds, grace, said)
