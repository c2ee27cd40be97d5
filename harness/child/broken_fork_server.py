"""The ``Process`` class of the control ``fork-server-not-restarted``
(harness/controls/children.py), kept here because every forkserver child of that control
imports the module its class lives in: this one imports nothing beyond the standard
library's ``multiprocessing``, so its children start as fast as the standard library's
(judged against that reference by the join-timing claims), where importing the controls
package would cost each child tens of milliseconds under load.
"""

from __future__ import annotations

import multiprocessing

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Optional

_Real: Any = multiprocessing.get_context("forkserver").Process


def _ended(pid: Optional[int]) -> bool:
    """The OS shows ``pid`` ended (a zombie, or gone)."""
    if pid is None:
        return False
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rpartition(")")[2].split()[0] in ("Z", "X")
    except OSError:
        return True


class ForkServerNotRestarted(_Real):
    """``start()`` after the fork server died fails as connecting to its socket does (the
    behaviour before bpo-31308), once per dead server; the server is started again before
    it raises, so that later starts (other claims' tests) neither fail nor pay for it."""

    refused: set = set()

    def start(self) -> None:
        from multiprocessing import forkserver

        pid = getattr(forkserver._forkserver, "_forkserver_pid", None)
        if _ended(pid) and pid not in ForkServerNotRestarted.refused:
            ForkServerNotRestarted.refused.add(pid)
            forkserver._forkserver.ensure_running()
            raise ConnectionRefusedError(111, "Connection refused (the fork server died)")
        super().start()
