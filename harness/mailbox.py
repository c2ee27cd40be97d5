"""Reports from a child to its parent through files.

Files work with every implementation of the Process API (a pipe or queue of one library
cannot always be passed to the child of another), under every start method, and even when
the "child" is a thread in disguise. A child posts a picklable value to a path it was
given; the write is atomic (write, then hard-link into place), so the parent sees all of it
or nothing, and happens once: the first report at a path stays.

Children import this module under spawn and forkserver, once per process: only the
parent's :class:`Mailbox` needs ``tempfile``, ``shutil`` and ``pathlib``, so it imports them
itself (measured with ``python -X importtime``: they are most of this module's import time).
"""

from __future__ import annotations

import contextlib
import os
import pickle
import threading
import time
from types import TracebackType

from harness import limits

# typing only for the type checker (children import this module: harness/child/targets.py).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Optional, Type


def post(path: str, value: Any) -> bool:
    """Child side: publish ``value`` at ``path`` atomically, once: the first post stays
    (False when ``path`` was already posted). A report is what the child said first; a
    broken implementation that runs the target again (in the parent, say) cannot overwrite
    it."""
    tmp = f"{path}.{os.getpid()}.{threading.get_ident()}.tmp"
    data = pickle.dumps(value)
    # A bare descriptor, no file object: a target that a broken implementation also runs in
    # a thread of the parent can be cut off anywhere (a fork copies it mid-write, the test
    # ends under it), and an abandoned file object would surface in the parent as an
    # "unclosed file" warning, which filterwarnings = error turns into an error.
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
    finally:
        os.close(fd)
    try:
        os.link(tmp, path)  # atomic, and fails when path exists
    except FileExistsError:
        return False
    except OSError:  # a file system without hard links: create-if-absent is then not atomic
        if os.path.exists(path):
            return False
        os.replace(tmp, path)
        return True
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
    return True


def read(path: str, default: Any = None) -> Any:
    """Parent side: the value posted at ``path``, or ``default`` when nothing was posted."""
    try:
        with open(path, "rb") as fh:
            return pickle.load(fh)
    except FileNotFoundError:
        return default


def wait_for(path: str, timeout: float) -> bool:
    """Parent side: wait (bounded) until something is posted at ``path``."""
    deadline = time.monotonic() + timeout
    while not os.path.exists(path):
        if time.monotonic() >= deadline:
            return False
        time.sleep(limits.POLL_INTERVAL)
    return True


def hold_until(path: str, limit: float = limits.HOLD_LIMIT) -> bool:
    """Child side: block until ``path`` exists (the parent's go-ahead), at most ``limit`` s."""
    return wait_for(path, limit)


class Mailbox:
    """A private directory of report slots; removed when the scenario ends."""

    def __init__(self) -> None:
        import tempfile

        self.root = tempfile.mkdtemp(prefix="procspec-")

    def slot(self, name: str) -> str:
        return os.path.join(self.root, name)

    def close(self) -> None:
        import shutil

        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> "Mailbox":
        return self

    def __exit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        self.close()
