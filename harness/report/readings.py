"""The report's readings: a paragraph per implementation on what its column teaches.

A reading is data, the optional ``reading`` field of the implementation's expectations file
(``specs/expectations/<implementation>.json``); the report prints the readings of the
implementations it has columns for, after the deviations.
"""

from __future__ import annotations

from typing import Any, Sequence

from harness.expectations import readings
from harness.pictures import escape


def for_columns(columns: Sequence[Any]) -> list[tuple[str, list[str], str]]:
    """``(implementation, its column labels, reading)`` for every implementation among
    ``columns`` (objects with ``implementation`` and ``label``) that has a reading."""
    known = readings()
    labels: dict[str, list[str]] = {}
    for column in columns:
        if column.implementation in known:
            labels.setdefault(column.implementation, []).append(column.label)
    return [(impl, found, known[impl]) for impl, found in labels.items()]


def markdown_lines(columns: Sequence[Any]) -> list[str]:
    found = for_columns(columns)
    if not found:
        return []
    out = ["", "## Readings", ""]
    for impl, labels, reading in found:
        out += [f"**{impl}** ({', '.join(labels)}): {reading}", ""]
    return out[:-1]


def html_parts(columns: Sequence[Any]) -> list[str]:
    found = for_columns(columns)
    if not found:
        return []
    return ["<h2>Readings</h2>"] + [
        f"<p id='reading-{escape(impl)}'><b>{escape(impl)}</b> "
        f"({escape(', '.join(labels))}): {escape(reading)}</p>"
        for impl, labels, reading in found]
