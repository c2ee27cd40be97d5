"""A program whose main code finishes while its *daemon* child still works (API-003).

Usage: ``python -m harness.child.daemon_main BACKEND``. Prints ``<event> <t>`` lines, ``t``
from ``time.monotonic()``: ``child started <pid>`` when the daemon child's target begins
(it then sleeps ``limits.LONG_SLEEP``, and prints ``child done`` if it ever wakes), ``main
done`` once the main code has seen the child run (bounded wait) and is about to finish,
and ``interpreter exit`` from the last exit handler. When ``start()`` does not return
(bounded: harness.supervise) it prints ``start did not return``; when the child never
runs its target, ``child did not run``.
"""

from __future__ import annotations

import atexit
import os
import sys
import time


def _say(event: str) -> None:
    print(f"{event} {time.monotonic()!r}", flush=True)


def child(started: str) -> None:
    from harness import limits, mailbox

    _say(f"child started {os.getpid()}")
    mailbox.post(started, os.getpid())
    time.sleep(limits.LONG_SLEEP)
    _say("child done")


def main(argv: list[str]) -> None:
    # Registered before the implementation is imported: runs after its exit handlers.
    atexit.register(_say, "interpreter exit")
    from harness import mailbox
    from harness.backends import resolve
    from harness.supervise import Session, inherit_patience

    backend = resolve(argv[0])
    inherit_patience(backend.name)
    box = mailbox.Mailbox()
    started = box.slot("started")
    proc = backend.Process(target=child, args=(started,))
    proc.daemon = True
    session = Session(backend.name)
    if not session.start(proc, report=started).returned:
        _say("start did not return")
    elif not session.wait_for(started):
        _say("child did not run")
    box.close()
    _say("main done")


if __name__ == "__main__":
    main(sys.argv[1:])
