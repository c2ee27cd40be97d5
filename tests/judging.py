"""What every property test judges with: the claim's verdict message (with why the
backend's waits were short, if they were), and the skip when a behaviour that another
claim owns did not happen (one claim, one behaviour: specs/README.md)."""

from __future__ import annotations

from typing import Any

import pytest

from harness.supervise import figures
from harness.verdict import violation


def backend_violation(backend: Any, claim_id: str, expected: str, measured: Any,
                      **numbers: Any) -> str:
    """The claim's verdict message, with the backend's patience figures."""
    return violation(claim_id, expected, measured, **numbers, **figures(backend.name))


def precondition(holds: object, why: str) -> None:
    """Skip (this claim cannot be checked) when a behaviour another claim owns failed."""
    if not holds:
        pytest.skip(f"not checked: {why}")


def require_started(call: object) -> None:
    """Skip unless ``start()`` returned (JOIN-002 owns that)."""
    precondition(getattr(call, "returned", False),
                 f"start() did not return ({getattr(call, 'why', '')}; JOIN-002 times it)")
