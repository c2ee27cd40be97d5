"""``python -m harness report``: many runs' results -> one conformance matrix (MD + HTML).

Reads every results file (``--results-json``, e.g. one per tox environment in
``.tox/results/``), and writes ``report.md`` and ``report.html`` (one self-contained page:
inline CSS, SVG and a few lines of script; nothing fetched) into the output directory:

- the **matrix**: claims down (grouped by topic, with their statements); implementations
  and start methods across, one cell per Python version: ``pass``, ``FAIL`` (a new failure,
  or an expected failure that passed), ``xfail`` (a known deviation, recorded in
  ``specs/expectations/``), ``skip``, or blank (not run);
- the **deviations**, each with its reason, and every unexpected result with its message;
- the **measured figures** tests attached (``record_property``), per implementation;
- the **negative controls** (``python -m harness controls --json``): which claims each
  broken implementation breaks, the suite's proof that it has teeth;
- the **pictures** of the join scenario (total time against N with the max and sum models;
  a Gantt timeline of one run's children), drawn from the join runs each results file
  recorded (``harness.figures``) and labelled with the run they came from.

The Markdown also goes to the terminal when ``--print`` is given.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, Optional, Sequence

from harness import outcomes, pictures
from harness.kit import WORK_ROOT
from harness.report.markdown import render_markdown
from harness.report.matrix import Matrix, across_pythons, build_matrix, claim_order, deviations
from harness.report.page import render_html
from harness.report.tables import wall_time
from harness.results import RunResult, read_many

DEFAULT_RESULTS = WORK_ROOT / ".tox" / "results"
DEFAULT_OUT = WORK_ROOT / ".tox" / "report"
DEFAULT_CONTROLS = WORK_ROOT / ".tox" / "controls.json"


def read_controls(path: Optional[Path]) -> Optional[list[dict[str, Any]]]:
    if path is None or not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except ValueError:
        return None
    return list(data.get("controls", []))


def recorded_join_runs(runs: Sequence[RunResult]) -> list[tuple[str, dict[str, Any]]]:
    """Every join run the tests recorded, labelled ``implementation/method (run)``."""
    found = []
    for run in runs:
        name = str(run.run.get("tox_env") or Path(run.path).stem)
        for test in run.tests:
            subject = run.subject(test.get("subject", "-"))
            if subject.get("implementation") == "control":
                continue
            for figure in (test.get("figures") or {}).get("join_runs", []):
                if isinstance(figure, dict):
                    found.append((f"{subject.get('label')} ({name}, Python "
                                  f"{run.python})", figure))
    return found


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m harness report", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("results", nargs="*", type=Path,
                        help=f"results files or directories (default {DEFAULT_RESULTS})")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT,
                        help="directory for report.md, report.html and the SVGs")
    parser.add_argument("--controls", type=Path, default=DEFAULT_CONTROLS,
                        help="JSON written by `python -m harness controls --json`")
    parser.add_argument("--no-measure", action="store_true",
                        help="leave the join pictures out")
    parser.add_argument("--print", action="store_true", dest="print_md",
                        help="also print the Markdown report")
    args = parser.parse_args(argv)
    runs = read_many(args.results or [DEFAULT_RESULTS])
    if not runs:
        print(f"procspec report: no results files in {args.results or [DEFAULT_RESULTS]}; "
              "run tox (or pytest --results-json PATH) first", file=sys.stderr)
        return 2
    matrix = build_matrix(runs)
    controls = read_controls(args.controls)
    points: list[pictures.CurvePoint] = []
    timelines: list[pictures.Timeline] = []
    if not args.no_measure:
        points, timelines = pictures.from_recorded(recorded_join_runs(runs))
    args.out.mkdir(parents=True, exist_ok=True)
    files = []
    if points:
        (args.out / "join-total-vs-n.svg").write_text(pictures.svg_total_vs_n(points),
                                                      encoding="utf-8")
        files.append("join-total-vs-n.svg")
        for t in timelines:
            name = f"join-gantt-{''.join(ch if ch.isalnum() else '-' for ch in t.backend)}.svg"
            (args.out / name).write_text(pictures.svg_gantt(t), encoding="utf-8")
            files.append(name)
    wall = wall_time(runs)
    markdown = render_markdown(matrix, controls, points, timelines, wall, files)
    (args.out / "report.md").write_text(markdown, encoding="utf-8")
    (args.out / "report.html").write_text(
        render_html(matrix, controls, points, timelines, wall), encoding="utf-8")
    if args.print_md:
        print(markdown)
    else:
        print(_terminal_summary(matrix, points, timelines))
    print(f"procspec report: {len(runs)} run(s) -> {args.out / 'report.md'}, "
          f"{args.out / 'report.html'}")
    return 1 if matrix.unexpected() else 0


def _terminal_summary(matrix: Matrix, points: Sequence[pictures.CurvePoint],
                      timelines: Sequence[pictures.Timeline]) -> str:
    rows = [["claim"] + [c.label for c in matrix.columns]]
    for cid in claim_order(matrix):
        rows.append([cid] + [across_pythons(matrix, cid, c) for c in matrix.columns])
    out = [outcomes.format_table(rows), ""]
    out += [f"{d.claim}: {d.reason}" for d in deviations(matrix)]
    for cid, col, py, _ in matrix.unexpected():
        out.append(f"UNEXPECTED {cid} on {col} @ {py}")
    if points:
        out += ["", pictures.text_total_vs_n(points)]
        out += ["", *(pictures.text_gantt(t) for t in timelines[:1])]
    return "\n".join(out)
