"""A program that kills its own fork server between two children (KIDS-009).

Usage: ``python -m harness.scenarios.fork_server_program BACKEND SIGNAL``. It runs
:func:`harness.scenarios.children.kill_the_fork_server` in this interpreter, so the fork
server it kills is its own, never the test process's (an implementation that does not
start its server again would otherwise leave every later test of the run without one),
and prints the record as one JSON line: ``record {...}``.
"""

from __future__ import annotations

import json
import sys


def main(argv: list[str]) -> None:
    from harness.backends import resolve
    from harness.scenarios.children import kill_the_fork_server
    from harness.supervise import Raised, inherit_patience

    backend = resolve(argv[0])
    inherit_patience(backend.name)
    record = kill_the_fork_server(backend, argv[1])

    def call(c: object) -> object:
        if c is None:
            return None
        result = getattr(c, "result", None)
        return {"returned": getattr(c, "returned", False), "why": getattr(c, "why", ""),
                "raised": (f"{result.type_name}: {result.message}"
                           if isinstance(result, Raised) else None)}

    print("record " + json.dumps({
        "first_start": call(record.first_start), "first_report": record.first_report,
        "server_pid": record.server_pid, "server_ended": record.server_ended,
        "second_start": call(record.second_start), "second_report": record.second_report,
    }, default=repr), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
