"""Measurements a scenario publishes for the report, carried by the results file.

A scenario calls :func:`publish` with plain data (numbers, lists, dicts); the plugin drains
what a test's call published into that test's report (``user_properties``, one list per
name), so the values travel through pytest-xdist into ``--results-json`` under the test's
``figures``. The report draws its pictures from those recorded values, so a report merged
from many runs shows each run's own data, never a measurement made while it was built.
"""

from __future__ import annotations

from typing import Any

_published: list[tuple[str, Any]] = []


def publish(name: str, value: Any) -> None:
    """Record ``value`` (plain data) under ``name`` for the test that is running."""
    _published.append((name, value))


def drain() -> dict[str, list[Any]]:
    """Everything published since the last drain, by name, in order; then forget it."""
    found: dict[str, list[Any]] = {}
    for name, value in _published:
        found.setdefault(name, []).append(value)
    _published.clear()
    return found
