"""Study-mode demos: ``python -m harness demo CLAIM-ID`` runs one claim's scenario once.

Each module of this package defines ``DEMOS``, a dict from a claim ID (``"LIFE-013"``) or
a claim prefix (``"JOIN"``: every claim of the topic) to a function
``demo(backend, say) -> None`` that acts the scenario out once on ``backend`` and
explains, through ``say(text)``, what was done, what was seen and what it shows. Modules
are found by scan, so a topic adds its demos without touching this file. An exact ID
wins over a prefix; a claim with no demo falls back to running its tests verbosely.
"""

from __future__ import annotations

from typing import Callable, Optional

from harness.backends import Backend
from harness.registry import contributions

Say = Callable[[str], None]
DemoFn = Callable[[Backend, Say], None]


def all_demos() -> dict[str, DemoFn]:
    found: dict[str, DemoFn] = {}
    for demos in contributions(__name__, __path__, "DEMOS"):
        for key, fn in demos.items():
            if key in found:
                raise ValueError(f"two demos registered for {key!r}")
            found[key] = fn
    return found


def find_demo(claim_id: str) -> Optional[DemoFn]:
    demos = all_demos()
    if claim_id in demos:
        return demos[claim_id]
    return demos.get(claim_id.split("-")[0])
