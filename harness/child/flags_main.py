"""A program run with interpreter flags whose child and grandchild report theirs (ISO-016).

Usage: ``python -E -S -O -m harness.child.flags_main BACKEND PATHS_JSON``, from the
directory that holds the ``harness`` package. ``-S`` leaves out the site module, so the
program first puts ``PATHS_JSON`` (the test process's ``sys.path``) after its own: the
implementation and the kit's dependencies import as in the test process. It starts a child
under the backend; the child starts a child of its own; each posts its ``sys.flags``
(``optimize``, ``ignore_environment``, ``no_site``). The program prints one JSON line:
``{"main": ..., "child": ..., "grandchild": ...}`` (None where nothing was posted), or
``start did not return``.
"""

from __future__ import annotations

import json
import os
import sys


def flags() -> dict:
    return {"optimize": sys.flags.optimize,
            "ignore_environment": sys.flags.ignore_environment,
            "no_site": sys.flags.no_site}


def report(path: str, grandchild_path: str, backend_name: str) -> None:
    """Post our flags at ``path``; with a ``grandchild_path``, then start a child of our
    own that posts there (joined, bounded: KIDS-015 owns whether this works)."""
    from harness import limits, mailbox

    mailbox.post(path, {"pid": os.getpid(), "flags": flags()})
    if grandchild_path:
        from harness.backends import resolve

        try:
            proc = resolve(backend_name).Process(target=report,
                                                 args=(grandchild_path, "", backend_name))
            proc.start()
            proc.join(limits.JOIN_GRACE)
        except Exception:  # the grandchild's report is optional
            pass


def main(argv: list[str]) -> None:
    sys.path.extend(p for p in json.loads(argv[1]) if p not in sys.path)
    from harness import mailbox
    from harness.backends import resolve
    from harness.supervise import Session, inherit_patience

    backend = resolve(argv[0])
    inherit_patience(backend.name)
    box = mailbox.Mailbox()
    child, grandchild = box.slot("child"), box.slot("grandchild")
    proc = backend.Process(target=report, args=(child, grandchild, backend.name))
    session = Session(backend.name)
    try:
        if not session.start(proc, report=child).returned:
            print("start did not return", flush=True)
            return
        if session.wait_for(child):
            session.join(proc)  # the child ends once it joined its own child
        print(json.dumps({"main": {"pid": os.getpid(), "flags": flags()},
                          "child": mailbox.read(child),
                          "grandchild": mailbox.read(grandchild)}), flush=True)
    finally:
        session.close()
        box.close()


if __name__ == "__main__":
    main(sys.argv[1:])
