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

import os
import sys
import time

from harness.child.program import say, start_one_and_finish


def child(seconds: float, started: str) -> None:
    from harness import mailbox

    say("child started")
    mailbox.post(started, os.getpid())
    time.sleep(seconds)
    say("child done")


def main(argv: list[str]) -> None:
    seconds = float(argv[1])
    start_one_and_finish(argv[0], child, lambda started: (seconds, started))


if __name__ == "__main__":
    main(sys.argv[1:])
