"""Where the kit is: the specs (claims, expectations) and the property tests.

In a checkout of the repository they are its top-level ``specs/`` and ``tests/``. In an
installed wheel they live inside this package (``harness/kit/specs``, ``harness/kit/tests``:
``pyproject.toml`` and ``setup.py`` map them there), so that ``procspec-kit verify`` works
from any directory with nothing but the wheel installed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

_PACKAGE = Path(__file__).resolve().parent.parent


def _checkout() -> Optional[Path]:
    """The repository root, when the package is imported from a checkout (editable or not)."""
    root = _PACKAGE.parent
    if all((root / name).exists() for name in ("pyproject.toml", "specs", "tests")):
        return root
    return None


CHECKOUT: Optional[Path] = _checkout()
"""The repository root, or None when running from an installed wheel."""

KIT_ROOT: Path = CHECKOUT if CHECKOUT is not None else Path(__file__).resolve().parent
"""The directory holding ``specs/`` and ``tests/``."""

SPECS_DIR: Path = KIT_ROOT / "specs"
TESTS_DIR: Path = KIT_ROOT / "tests"

#: Where tools write and read their working files (``.tox/results``, reports): the
#: checkout, or the current directory when running from a wheel.
WORK_ROOT: Path = CHECKOUT if CHECKOUT is not None else Path.cwd()
