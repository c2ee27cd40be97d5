"""A program whose main code finishes while its child is still working (LIFE-018).

Usage: ``python -m harness.early_main BACKEND CHILD_SECONDS``. Prints ``<event> <t>`` lines,
``t`` from ``time.monotonic()`` (one clock for every process on the machine):
``main done`` when the main code has finished, ``child done`` when the child has, and
``interpreter exit`` from the last exit handler the interpreter runs.
"""

from __future__ import annotations

import atexit
import sys
import time


def _say(event: str) -> None:
    print(f"{event} {time.monotonic()!r}", flush=True)


def child(seconds: float) -> None:
    time.sleep(seconds)
    _say("child done")


def main(argv: list[str]) -> None:
    # Registered before the implementation is imported, so it runs after the
    # implementation's own exit handlers (atexit runs them last-in, first-out).
    atexit.register(_say, "interpreter exit")
    from harness.backends import resolve

    backend = resolve(argv[0])
    backend.Process(target=child, args=(float(argv[1]),)).start()
    _say("main done")


if __name__ == "__main__":
    main(sys.argv[1:])
