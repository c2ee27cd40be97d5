"""Registries filled by module scan: each module of a package contributes one attribute.

Used by ``harness.controls`` (``CONTROLS``) and ``harness.demos`` (``DEMOS``), so that a
topic adds its entries in a module of its own without editing a shared list.
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any, Iterable, Iterator


def contributions(package: str, path: Iterable[str], attribute: str) -> Iterator[Any]:
    """``attribute`` of every public module of ``package`` that defines it, by module name."""
    for info in sorted(pkgutil.iter_modules(path), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{package}.{info.name}")
        if hasattr(module, attribute):
            yield getattr(module, attribute)
