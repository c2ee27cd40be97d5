"""The page's first exercise as a program of its own: ``n`` lives in the main script (ISO-010).

Usage: ``python -m harness.child.isolation_main BACKEND VALUE``. At import, ``n = 100`` (the
page's). Under the ``__main__`` guard the parent sets ``n = VALUE`` (a run-time change),
starts a child, joins it and reports its own ``n``. The child reports the ``n`` it found,
the name of its main module, and ``n`` after its own ``n = 0`` (the page's write).

Every report is one JSON line ``[event, data]`` on stdout: ``body`` (top-level code ran,
with ``__name__``), ``child`` and ``parent`` (with whether ``start()`` and ``join()``
returned: both are bounded calls, harness.supervise, and the parent reads its ``n`` once
the OS shows the child has ended).
"""

from __future__ import annotations

import json
import sys
from typing import Any


def _say(event: str, data: Any) -> None:
    print(json.dumps([event, data]), flush=True)


n = 100
_say("body", {"__name__": __name__})


def child() -> None:
    global n
    found = n
    n = 0
    _say("child", {"found": found, "after_write": n,
                   "main_name": sys.modules["__main__"].__name__})


def main(argv: list[str]) -> None:
    global n
    from harness.backends import resolve
    from harness.supervise import attempt, inherit_patience, supervised

    backend = resolve(argv[0])
    inherit_patience(backend.name)
    n = int(argv[1])
    proc = backend.Process(target=child)
    with supervised(backend.name) as session:
        start = session.start(proc)
        join = session.join(proc) if start.returned else None
        session.settle()
        exitcode = attempt(lambda: proc.exitcode)
    _say("parent", {"n_after_join": n, "start_returned": start.returned,
                    "join_returned": join is not None and join.returned,
                    "exitcode": exitcode if isinstance(exitcode, int) else None})


if __name__ == "__main__":
    main(sys.argv[1:])
