"""The report's readings (harness/report/readings.py): a paragraph per implementation, kept as the
optional ``reading`` field of its expectations file, printed for the implementations the
report has columns for."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from harness.expectations import readings as shipped
from harness.report import readings

pytestmark = pytest.mark.meta


@dataclass
class _Column:
    label: str
    implementation: str


def test_multiprocessing_dummy_ships_a_reading():
    assert len(shipped().get("multiprocessing.dummy", "")) > 200


def test_a_reading_shows_for_its_columns_only():
    columns = [_Column("multiprocessing/fork", "multiprocessing"),
               _Column("multiprocessing.dummy/threads", "multiprocessing.dummy")]
    lines = readings.markdown_lines(columns)
    assert "## Readings" in lines
    text = "\n".join(lines)
    assert "**multiprocessing.dummy** (multiprocessing.dummy/threads)" in text
    assert "**multiprocessing**" not in text
    assert readings.markdown_lines(columns[:1]) == []
    assert "reading-multiprocessing.dummy" in "".join(readings.html_parts(columns))
