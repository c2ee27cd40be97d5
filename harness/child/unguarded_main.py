"""A main script WITHOUT the ``if __name__ == "__main__"`` guard that starts a child
(ISO-017; CPython's ``mp_fork_bomb.py``).

Usage: ``python PATH/unguarded_main.py BACKEND`` (the kit's root on ``PYTHONPATH``).
Every run of the top level prints ``top level <pid> depth=<d>``; the start() it makes
prints ``start raised <type> depth=<d>`` when it raises (and re-raises), ``joined
<exitcode> depth=<d>`` after a bounded join. ``depth`` (an environment variable each
level raises before ``start()``) stops a broken implementation at the second generation:
no fork bomb, whatever it does.
"""

import os
import sys

from harness import limits
from harness.backends import resolve

DEPTH = "PROCSPEC_UNGUARDED_DEPTH"


def hello() -> None:
    print(f"target ran {os.getpid()}", flush=True)


depth = int(os.environ.get(DEPTH, "0"))
print(f"top level {os.getpid()} depth={depth}", flush=True)
if depth < 2:
    os.environ[DEPTH] = str(depth + 1)
    proc = resolve(sys.argv[1]).Process(target=hello)
    try:
        proc.start()
    except BaseException as exc:
        print(f"start raised {type(exc).__name__} depth={depth}", flush=True)
        raise
    proc.join(limits.JOIN_GRACE)
    print(f"joined {proc.exitcode} depth={depth}", flush=True)
