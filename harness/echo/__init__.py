"""The echo server of the source page, its clients, and a runner for any server command.

- :mod:`harness.echo.server`: procspec's faithful server (one process per connection,
  ``bytes.upper()`` of every chunk of up to 1024 bytes); run it with
  ``python -m harness.echo serve --host 127.0.0.1 --port 0 --backend spawn``.
- :mod:`harness.echo.clients`: the page's client behaviour, and a correct client.
- :mod:`harness.echo.runner`: start a server command (``{host}``/``{port}`` template) in its
  own process group, wait until it listens, observe its processes from outside, and end
  the whole group on the way out.
"""

from __future__ import annotations

#: Host every server binds and every client connects to: loopback only.
LOOPBACK = "127.0.0.1"

#: A server command must be listening this many seconds after it was started (a spawn
#: server is one interpreter start-up: 0.1-0.5 s here, more on a loaded machine).
SERVER_START_GRACE = 30.0

#: A reply (or EOF) that has not come this many seconds after it was due is missing. It
#: separates "hung" from "slow": with 24 clients at once, a spawn server starts 24
#: interpreters one after another (50-300 ms each on 2 busy cores), and a full accept
#: queue (backlog 5) delays a connection by SYN retransmits of 1 s, then 3 s.
REPLY_GRACE = 20.0
