"""Negative controls: deliberately broken implementations, and the claims each must break.

A claim counts as verified only when some control makes its test fail. Each module of this
package defines ``CONTROLS``, a list of :class:`Control`; they are found by module scan, so
a topic adds its controls without touching this file. Select one with
``--backend control:NAME``; ``tests/meta`` proves every control is caught.
"""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass
from typing import Any, Optional


@dataclass(frozen=True)
class Control:
    """A broken backend: what is wrong with it, and which claims must fail on it."""

    name: str
    defect: str
    context: Any
    start_method: Optional[str]
    breaks: frozenset[str]


def all_controls() -> dict[str, Control]:
    found: dict[str, Control] = {}
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        for control in getattr(module, "CONTROLS", ()):
            if control.name in found:
                raise ValueError(f"two controls are named {control.name!r}")
            found[control.name] = control
    return found


def get_control(name: str) -> Control:
    controls = all_controls()
    try:
        return controls[name]
    except KeyError:
        raise ValueError(
            f"no control named {name!r}; known: {', '.join(sorted(controls))}") from None
