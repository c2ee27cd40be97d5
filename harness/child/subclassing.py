"""Subclasses of a backend's ``Process`` class that override ``run()`` (API-015), made on
demand for each backend and picklable by reference.

Under spawn and forkserver a child unpickles its process object, so its class must be
found by name in an importable module. Each subclass is an attribute of this module named
after its backend (``RunOverridden_<hex of the backend name>``); in a child that has not
made it yet, the module's ``__getattr__`` (PEP 562) makes it when unpickling asks for it.
Light to import (every spawn or forkserver child of API-015 imports it).
"""

from __future__ import annotations

import os

from harness import mailbox

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

_PREFIX = "RunOverridden_"

#: The attribute a subclass's instance carries: the mailbox slot its ``run()`` posts to.
REPORT = "procspec_run_report"


def class_name(backend_name: str) -> str:
    """The module attribute that names ``backend_name``'s subclass."""
    return _PREFIX + backend_name.encode("utf-8").hex()


def overriding_class(backend_name: str) -> Any:
    """``backend_name``'s ``Process`` subclass whose ``run()`` posts a report."""
    return __getattr__(class_name(backend_name))


def _run(self: Any) -> None:
    """The overriding ``run()``: post this process's pid, and never call the target."""
    mailbox.post(getattr(self, REPORT), {"pid": os.getpid(), "by": "run"})


def __getattr__(name: str) -> Any:
    if not name.startswith(_PREFIX):
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    made = globals().get(name)
    if made is not None:
        return made
    from harness.backends import resolve

    backend_name = bytes.fromhex(name[len(_PREFIX):]).decode("utf-8")
    base = resolve(backend_name).Process
    made = type(name, (base,), {"run": _run, "__module__": __name__, "__qualname__": name})
    globals()[name] = made
    return made
