"""A hung subject stays cheap: expiries shared by the run, and verdicts that are not shrunk.

- **One patience per run.** The controller (or a run without xdist) creates a run-scoped
  directory and names it in ``PROCSPEC_PATIENCE_DIR`` before any worker starts; every xdist
  worker and every program a scenario runs inherits it, and :mod:`harness.patience` shares
  each first expiry through it. So once a subject has shown that a wait of a kind can
  expire, every later wait of that kind for it, in every test, worker and Hypothesis
  example of the run, gets :data:`harness.patience.KNOWN_GRACE`. The directory is removed
  when the run ends; a run inside a run (the controls proof) gets its own.
- **The first failing example is the verdict.** Each example of a claim test is wrapped
  (its Hypothesis ``inner_test``, the way :mod:`.tallies` counts them): a
  :class:`harness.verdict.Violation` that carries a ``patience`` figure (its subject had
  shown a wait can expire when the verdict was raised) leaves the example as a
  :class:`harness.verdict.Decided`, which Hypothesis does not shrink or replay (see its
  docstring). Healthy subjects never carry that figure: their failures shrink as ever.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from typing import Any, Callable, Generator, Optional

import pytest

from harness import patience
from harness.verdict import Decided, Violation

_CREATED = pytest.StashKey[tuple[str, Optional[str]]]()


def pytest_configure(config: pytest.Config) -> None:
    if hasattr(config, "workerinput"):
        return  # an xdist worker: the controller's directory is in its environment
    where = tempfile.mkdtemp(prefix="procspec-patience-")
    config.stash[_CREATED] = (where, os.environ.get(patience.DIR_ENV))
    os.environ[patience.DIR_ENV] = where


def pytest_unconfigure(config: pytest.Config) -> None:
    created = config.stash.get(_CREATED, None)
    if created is None:
        return
    where, before = created
    shutil.rmtree(where, ignore_errors=True)
    if os.environ.get(patience.DIR_ENV) == where:  # a run inside a run gives it back
        if before is None:
            del os.environ[patience.DIR_ENV]
        else:
            os.environ[patience.DIR_ENV] = before


def deciding(body: Callable[..., Any]) -> Callable[..., Any]:
    """``body`` (one example's call), whose verdicts on a subject with an expired wait are
    :class:`Decided`: Hypothesis ends the test with it at once."""

    def one_example(*args: Any, **kwargs: Any) -> Any:
        try:
            return body(*args, **kwargs)
        except Violation as violation:
            if "patience" not in violation.figures:
                raise
            shown = ", ".join(f"{k}={v!r}" for k, v in kwargs.items()
                              if k not in ("backend", "echo_server"))
            raise Decided(violation, shown or "(no drawn arguments)") from violation

    one_example.__wrapped__ = body  # type: ignore[attr-defined]
    return one_example


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, Any, Any]:
    handle = getattr(getattr(item, "obj", None), "hypothesis", None)
    inner = getattr(handle, "inner_test", None)
    from harness.plugin.tallies import _counted
    if inner is None or not _counted(item):
        return (yield)
    handle.inner_test = deciding(inner)  # type: ignore[union-attr]
    try:
        return (yield)
    finally:
        handle.inner_test = inner  # type: ignore[union-attr]
