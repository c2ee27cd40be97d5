"""What the child programs (``early_main``, ``daemon_main``) share: event lines on stdout,
and a main that starts one child and finishes as soon as that child runs."""

from __future__ import annotations

import atexit
import time
from typing import Any, Callable


def say(event: str) -> None:
    """Print ``<event> <t>``, ``t`` from ``time.monotonic()`` (one clock for every process)."""
    print(f"{event} {time.monotonic()!r}", flush=True)


def start_one_and_finish(backend_name: str, target: Callable[..., Any],
                         args: Callable[[str], tuple], daemon: bool = False) -> None:
    """Start ``target(*args(started))`` under the backend (``daemon`` set first when asked),
    wait (bounded) until it posts at ``started``, and finish the main code: ``main done``.
    ``interpreter exit`` is printed by the last exit handler the interpreter runs."""
    # Registered before the implementation is imported, so it runs after the
    # implementation's own exit handlers (atexit runs them last-in, first-out).
    atexit.register(say, "interpreter exit")
    from harness import mailbox
    from harness.backends import resolve
    from harness.supervise import Session, inherit_patience

    backend = resolve(backend_name)
    inherit_patience(backend.name)
    box = mailbox.Mailbox()
    started = box.slot("started")
    proc = backend.Process(target=target, args=args(started))
    if daemon:
        proc.daemon = True
    session = Session(backend.name)
    if not session.start(proc, report=started).returned:
        say("start did not return")
    elif not session.wait_for(started):
        say("child did not run")
    box.close()
    say("main done")
