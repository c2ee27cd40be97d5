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

import os
import sys
import time

from harness.child.program import say, start_one_and_finish


def child(started: str) -> None:
    from harness import limits, mailbox

    say(f"child started {os.getpid()}")
    mailbox.post(started, os.getpid())
    time.sleep(limits.LONG_SLEEP)
    say("child done")


def main(argv: list[str]) -> None:
    start_one_and_finish(argv[0], child, lambda started: (started,), daemon=True)


if __name__ == "__main__":
    main(sys.argv[1:])
