"""The echo server of the source page, its clients, and a runner for any server command.

- :mod:`harness.echo.server`: procspec's faithful server (one process per connection,
  ``bytes.upper()`` of every chunk of up to 1024 bytes); run it with
  ``python -m harness.echo serve --host 127.0.0.1 --port 0 --backend spawn``; and the page's
  server as written (``python -m harness.echo page-server ...``, named ``page-server``).
- :mod:`harness.echo.clients`: the page's client behaviour, and a correct client.
- :mod:`harness.echo.runner`: start a server command (``{host}``/``{port}`` template) in its
  own process group, wait until it listens, observe its processes from outside, and end
  the whole group on the way out.

Every wait for a server goes through :mod:`harness.patience` (subject: the server's name):
a grace is paid in full once; after one of a server's waits has expired, its later waits
are short (the verdict is known, only its replays are left).
"""

from __future__ import annotations

import shlex
import sys

# typing only for the type checker (children import this module: harness/child/targets.py).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Optional

#: Host every server binds and every client connects to: loopback only.
LOOPBACK = "127.0.0.1"

#: A server command must be listening this many seconds after it was started (a spawn
#: server is one interpreter start-up: 0.1-0.5 s here, more on a loaded machine). Paid once
#: per command and process: a command that did not start is not started again
#: (:func:`harness.echo.runner.running_server`).
SERVER_START_GRACE = 30.0

#: The first byte of a reply (or a connection's acceptance) that has not come this many
#: seconds after it was due is missing. It separates "hung" from "slow". Measured over a
#: whole verify run (4 backends, 4 xdist workers) beside ``stress-ng --cpu 4`` on 2 cores:
#: the longest of 2,048 exchanges (a reply in full, so its first byte too) took 0.72 s, the
#: longest of 2,080 connects 52 ms (crowds connect once the accept queue has room,
#: harness.scenarios.echo.waits PACE_QUEUE). 8 s is 11 times the longest reply, and still
#: lets a connect behind a queue that stays full (backlog 5) be accepted by the SYN
#: retransmits at 1, 3 and 7 s. A wait measures time without progress: each reply that
#: comes restarts it. (It was 20 s while crowds waited out SYN retransmits; a faulty
#: server pays it once per test process, harness/patience.py.)
REPLY_GRACE = 8.0

#: Once a reply has begun, a pause of this many seconds before its next byte means the rest
#: is not coming. A running handler answers each chunk as soon as it has read it. Measured
#: (8 KiB and 64 KiB exchanges, 40 and 200 per start method, idle, with ``stress-ng --cpu
#: 4``, and with ``--cpu 6 --vm 2`` on 2 cores, load average 5): the longest pause inside a
#: reply was 52 ms (TCP's delayed ACK is 40 ms); 1 s is 19 times that.
STALL_GRACE = 1.0

#: After a client closes its side (or its whole connection), the handler has this many
#: seconds to close the connection, or to end. Measured (as above): EOF came at most 76 ms
#: after the half-close of a client that had been answered, and at most 130 ms after the
#: half-close of a client that sent nothing (that includes a spawn handler's start); 30
#: handlers ended at most 57 ms after their clients' close. 5 s is 38 times the longest.
EOF_GRACE = 5.0

#: Echo servers procspec knows by name: ``--echo-server NAME`` runs this template.
#: ``page-server`` is the source page's server as written (in behaviour): it keeps its copy
#: of each accepted socket until the next ``accept()`` returns (see specs/echo-server.md).
NAMED_SERVERS: dict[str, str] = {
    "page-server": f"{shlex.quote(sys.executable)} -m harness.echo page-server "
                   "--host {host} --port {port}",
}


def named_server_template(name: str) -> Optional[str]:
    """The command template of a named server (None: not a name procspec knows)."""
    return NAMED_SERVERS.get(name.strip())


def resolve_server(value: str) -> tuple[str, str]:
    """``(name, template)`` of an ``--echo-server`` value: a named server is named by its
    name; a command template is named by itself."""
    template = named_server_template(value)
    return (value.strip(), template) if template is not None else (value, value)
