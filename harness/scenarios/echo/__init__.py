"""Echo-server scenarios (specs/echo-server.md): clients act, the server is watched.

Each function takes a :class:`~harness.echo.observe.RunningServer` (any command; the
fixture ``echo_server`` starts one) and returns a frozen record. Nothing here asserts, and
nothing raises on what a server does (refuses, resets, closes early, stays silent): that is
recorded. Every socket has a timeout and is closed (or reset) before the function returns.

Waiting: every wait for a server takes its grace from :mod:`harness.patience` (subject: the
server's name), so a grace is paid in full once; within one scenario run, once a wait has
expired the remaining waits only collect what has already come (the verdict is known).
A reply's wait ends at once when the connection ends (EOF, reset).

"Answered" (:func:`answered`) is judged ignoring ASCII case: the reply has the message's
length and equals it but for the case of ASCII letters. The claims about sessions,
concurrency, resets, EOF and reaping use short ASCII messages and this test, so they do not
depend on the reply's exact content (bytes.upper(): ECHO-001, ECHO-002) or on how long
messages are cut into chunks (ECHO-001, ECHO-004).

Modules: :mod:`.waits` ("answered", the graces of a run's waits, whether a server serves),
:mod:`.exchanges` (one connection at a time), :mod:`.crowds` (several at once, and who
holds them), :mod:`.endings` (resets, the half-close, reaping), :mod:`.foreign` (socat).
Everything is importable from this package, as before.
"""

from __future__ import annotations

from harness.scenarios.echo.crowds import (
    Crowd,
    Handlers,
    IdleNeighbour,
    crowd,
    handlers_of_connections,
    idle_client_and_others,
)
from harness.scenarios.echo.endings import (
    ABUSES,
    AFTER_REPLY_MAX,
    STILL_THERE,
    AfterAbuse,
    HalfClose,
    Reaping,
    abuse_then_serve,
    misbehave,
    send_then_half_close,
    sequential_clients,
)
from harness.scenarios.echo.exchanges import (
    Connection,
    PageClientRun,
    Session,
    page_client_then_correct_client,
    round_trip,
    session,
)
from harness.scenarios.echo.foreign import ForeignClient, socat_client, socat_until_close
from harness.scenarios.echo.waits import (
    COLLECT,
    PROBE,
    Waits,
    answered,
    how_it_ended,
    patience_note,
    reply_problem,
    serves,
)

__all__ = [
    "ABUSES", "AFTER_REPLY_MAX", "COLLECT", "PROBE", "STILL_THERE", "AfterAbuse", "Connection",
    "Crowd", "ForeignClient", "HalfClose", "Handlers", "IdleNeighbour", "PageClientRun",
    "Reaping", "Session", "Waits", "abuse_then_serve", "answered", "crowd",
    "handlers_of_connections", "how_it_ended", "idle_client_and_others", "misbehave",
    "page_client_then_correct_client", "patience_note", "reply_problem", "round_trip",
    "send_then_half_close", "sequential_clients", "serves", "session", "socat_client",
    "socat_until_close",
]
