"""A ``multiprocessing.dummy`` "child's" uncaught exception is its end, not an error.

``multiprocessing.dummy.DummyProcess`` is a thread behind the Process API, so what ends a
real child with an exit status (an uncaught exception: LIFE-011 to 015, API-007/008's
targets) reaches ``threading.excepthook``. pytest's ``threadexception`` plugin (pytest 8.4+:
installed once per run) would turn it into ``PytestUnhandledThreadExceptionWarning``, an
error of the test under ``filterwarnings = error``: an *inconclusive* result, where the
claim has a verdict to give. The tox env used to run with ``-p no:threadexception``, which
a user of ``procspec-kit verify --backend multiprocessing.dummy`` could not know.

So, during procspec's own tests only, an exception that ends a ``DummyProcess`` thread is
printed as Python prints any thread's (``threading.__excepthook__``: the test's captured
stderr, as a real child's traceback would be) and goes no further; every other thread's
exception still reaches pytest.
"""

from __future__ import annotations

import sys
import threading
from typing import Any, Callable, Generator

import pytest

from harness.plugin.items import is_procspec_item

_in_procspec_test = [False]


def _is_dummy_process(thread: Any) -> bool:
    dummy = sys.modules.get("multiprocessing.dummy")
    return dummy is not None and isinstance(thread, getattr(dummy, "DummyProcess", ()))


def _wrap(previous: Callable[[Any], object]) -> Callable[[Any], object]:
    def excepthook(args: Any) -> None:
        if _in_procspec_test[0] and _is_dummy_process(args.thread):
            threading.__excepthook__(args)  # the "child's" traceback, as Python prints it
            return
        previous(args)
    excepthook.procspec = True  # type: ignore[attr-defined]
    return excepthook


@pytest.hookimpl(trylast=True)  # after pytest's threadexception plugin installed its hook
def pytest_configure(config: pytest.Config) -> None:
    previous = threading.excepthook
    ours = _wrap(previous)
    threading.excepthook = ours

    def restore() -> None:
        if threading.excepthook is ours:
            threading.excepthook = previous
    config.add_cleanup(restore)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: Any) -> Generator[None, Any, Any]:
    _in_procspec_test[0] = is_procspec_item(item)
    try:
        return (yield)
    finally:
        _in_procspec_test[0] = False
