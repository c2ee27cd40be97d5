"""A program whose main code finishes while its child is still working (LIFE-020).

Usage: ``python -m harness.child.early_main BACKEND CHILD_SECONDS``. Prints ``<event> <t>`` lines,
``t`` from ``time.monotonic()`` (one clock for every process on the machine):
``child started`` when the child's target begins, ``main done`` when the main code has
finished (it first waits, bounded, until the child runs its target, so that the child is
certainly at work when the main code ends), ``child done`` when the child has finished,
and ``interpreter exit`` from the last exit handler the interpreter runs. When ``start()``
does not return (bounded: harness.supervise) it prints ``start did not return``; when the
child never runs its target, ``child did not run``.
"""

from __future__ import annotations

import atexit
import os
import sys
import time


def _say(event: str) -> None:
    print(f"{event} {time.monotonic()!r}", flush=True)


def child(seconds: float, started: str) -> None:
    from harness import mailbox

    _say("child started")
    mailbox.post(started, os.getpid())
    time.sleep(seconds)
    _say("child done")


def main(argv: list[str]) -> None:
    # Registered before the implementation is imported, so it runs after the
    # implementation's own exit handlers (atexit runs them last-in, first-out).
    atexit.register(_say, "interpreter exit")
    from harness import mailbox
    from harness.backends import resolve
    from harness.supervise import Session, inherit_patience

    backend = resolve(argv[0])
    inherit_patience(backend.name)
    box = mailbox.Mailbox()
    started = box.slot("started")
    proc = backend.Process(target=child, args=(float(argv[1]), started))
    session = Session(backend.name)
    if not session.start(proc, report=started).returned:
        _say("start did not return")
    elif not session.wait_for(started):
        _say("child did not run")
    box.close()
    _say("main done")


if __name__ == "__main__":
    main(sys.argv[1:])
