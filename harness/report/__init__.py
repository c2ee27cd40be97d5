"""``python -m harness report``: many runs' results -> one conformance matrix (MD + HTML).

``matrix`` (the model and its aggregation), ``tables`` (the other sections, format-free),
``markdown`` and ``page`` (the two renderings), ``cli`` (the command).
"""

from harness.report.cli import main, read_controls, recorded_join_runs
from harness.report.markdown import render_markdown
from harness.report.matrix import Cell, Column, Deviation, Matrix, build_matrix, deviations
from harness.report.page import render_html
from harness.report.tables import wall_time

__all__ = [
    "Cell", "Column", "Deviation", "Matrix", "build_matrix", "deviations", "main",
    "read_controls", "recorded_join_runs", "render_html", "render_markdown", "wall_time",
]
