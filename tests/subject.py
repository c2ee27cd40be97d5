"""Premises that are the subject's (the children, exit and stdio claims): the same for
every example, so the first that fails ends the test as unjudged (those properties draw
few examples: Hypothesis would otherwise call them unsatisfiable), and the start method
the OS shows a backend's children are made by (asked of harness.start_method)."""

from __future__ import annotations

from typing import Any, Optional

from harness import start_method
from harness.supervise import Raised

from .judging import premise


def given_that(condition: object, why: str) -> None:
    """A premise of the subject (named owner in ``why``): unjudged at its first failure."""
    premise(condition, why, whole_test=True)


def started(call: object) -> None:
    """``start()`` returned without raising (JOIN-002 times it)."""
    given_that(getattr(call, "returned", False),
               f"start() did not return ({getattr(call, 'why', '')}; JOIN-002 times it)")
    raised = getattr(call, "result", None)
    given_that(not isinstance(raised, Raised), f"start() raised {raised!r}")


def shown_start_method(backend: Any) -> Optional[str]:
    """The start method the OS shows this backend's children are made by (a declaration
    that lies is ISO-007/008/010's business), else the declared one
    (:func:`harness.start_method.reference`, the one owner of that fact)."""
    return start_method.reference(backend)
