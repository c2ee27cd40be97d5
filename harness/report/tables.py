"""What the report says besides the matrix, as plain text and tables: the Markdown and the
HTML page render the same sections, each in its own format (a new section is one function
here and one line in each renderer)."""

from __future__ import annotations

import statistics
import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Optional, Sequence

from harness.report.matrix import Matrix
from harness.results import RunResult

#: What the controls section says when no controls table was given.
NO_CONTROLS = ("Not included: run `python -m harness controls --json .tox/controls.json` "
               "(or `tox -e controls`) first.")


@dataclass(frozen=True)
class Table:
    """A simple table: a header and rows of plain text."""

    head: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


def summary_lines(matrix: Matrix, wall: Optional[float]) -> list[str]:
    counts: dict[str, int] = defaultdict(int)
    for cell in matrix.cells.values():
        counts[cell.status] += 1
    commits = sorted({str(r.run.get("commit")) for r in matrix.runs if r.run.get("commit")})
    lines = [f"Generated {time.strftime('%Y-%m-%d %H:%M:%S %Z')} from {len(matrix.runs)} "
             f"run(s); Pythons {', '.join(matrix.pythons) or '-'}; commit "
             f"{', '.join(commits) or 'unknown'}.", "",
             f"Cells (claim x implementation x Python): {counts['pass']} pass, "
             f"{counts['xfail']} expected failures, {counts['FAIL']} unexpected, "
             f"{counts['inconclusive']} inconclusive, {counts['unjudged']} unjudged (ran, "
             f"judged no example), {counts['partial']} partial (some tests skipped), "
             f"{counts['skip']} skipped."]
    if wall is not None:
        lines.append(f"Wall time of the runs (first start to last end): {wall:.0f} s.")
    return lines


def figures_table(matrix: Matrix) -> Optional[Table]:
    """Every figure tests attached, per column: how many, min, median, max."""
    if not matrix.figures:
        return None
    return Table(("figure", "implementation", "n", "min", "median", "max"), tuple(
        (name, col, str(len(values)), f"{min(values):.4g}",
         f"{statistics.median(values):.4g}", f"{max(values):.4g}")
        for (name, col), values in sorted(matrix.figures.items())))


def controls_table(controls: Optional[list[dict[str, Any]]]) -> Optional[Table]:
    """Which claims each negative control must break and broke (None: not given)."""
    if controls is None:
        return None
    return Table(("control", "defect", "must break", "broke", "verdict"), tuple(
        (c["name"], c["defect"], ", ".join(c["breaks"]), ", ".join(c["broken"]) or "-",
         "caught" if not c["missed"] else "MISSED " + ", ".join(c["missed"]))
        for c in controls))


def runs_table(matrix: Matrix) -> Table:
    rows = []
    for run in sorted(matrix.runs, key=lambda r: r.path):
        counts: dict[str, int] = defaultdict(int)
        for test in run.tests:
            counts[str(test.get("outcome"))] += 1
        name = run.run.get("tox_env") or Path(run.path).stem
        labels = sorted({str(s.get("label")) for s in run.run.get("subjects", {}).values()})
        rows.append((str(name), str(run.python), ", ".join(labels) or "-", str(len(run.tests)),
                     ", ".join(f"{k} {v}" for k, v in sorted(counts.items())),
                     str(run.exitstatus)))
    return Table(("run", "Python", "backends", "tests", "outcomes", "exit"), tuple(rows))


def _epoch(stamp: Any) -> Optional[float]:
    try:
        return datetime.strptime(str(stamp), "%Y-%m-%dT%H:%M:%S%z").timestamp()
    except ValueError:
        return None


def wall_time(runs: Sequence[RunResult]) -> Optional[float]:
    """First start to last end of the runs (seconds), if they recorded both."""
    spans: list[tuple[float, float]] = []
    for run in runs:
        start, end = _epoch(run.run.get("started")), run.run.get("finished_epoch")
        if start is not None and isinstance(end, (int, float)):
            spans.append((start, float(end)))
    if not spans:
        return None
    return max(b for _, b in spans) - min(a for a, _ in spans)
