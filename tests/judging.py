"""What every property test judges with: ``holds(...) or violated(backend, ...)`` (the
claim's verdict, with why the backend's waits were short, if they were), and the premise
that a behaviour another claim owns occurred (one claim, one behaviour: specs/README.md).
A failed premise rejects the example (counted, with its reason); it never skips the
property nor passes it."""

from __future__ import annotations

from typing import Any, NoReturn

from harness.supervise import Raised, figures
from harness.verdict import holds, premise
from harness.verdict import violated as _violated


def violated(backend: Any, claim_id: str, expected: str, measured: Any,
             **numbers: Any) -> NoReturn:
    """:func:`harness.verdict.violated`, with the backend's patience figures."""
    _violated(claim_id, expected, measured, **numbers, **figures(backend.name))


def require_started(call: object) -> None:
    """The example's ``start()`` returned without raising: a premise. A ``start()`` that
    does not return is JOIN-002's (it times it); one that raises for these inputs is
    rejected with the exception as its reason, so it is counted and shown, never silent."""
    premise(getattr(call, "returned", False),
            f"start() did not return ({getattr(call, 'why', '')}; JOIN-002 times it)")
    raised = getattr(call, "result", None)
    premise(not isinstance(raised, Raised),
            f"start() raised {raised.type_name if isinstance(raised, Raised) else ''} "
            "for these inputs")


__all__ = ["holds", "premise", "require_started", "violated"]
