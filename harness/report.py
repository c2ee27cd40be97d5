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
import html
import json
import statistics
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional, Sequence

from harness import outcomes, pictures, readings
from harness.claims import Claim, load_claims
from harness.kit import WORK_ROOT
from harness.results import RunResult, read_many

DEFAULT_RESULTS = WORK_ROOT / ".tox" / "results"
DEFAULT_OUT = WORK_ROOT / ".tox" / "report"
DEFAULT_CONTROLS = WORK_ROOT / ".tox" / "controls.json"

#: The standard library first, then the others alphabetically; start methods in this order.
_METHOD_ORDER = {"fork": 0, "spawn": 1, "forkserver": 2}
#: What a cell shows in the HTML page (compact: up to 5 Pythons x 9 columns side by side).
SYMBOL = {"pass": "\u2713", "FAIL": "FAIL", "inconclusive": "?", "xfail": "xf",
          "partial": "part", "skip": "\u2013", "": ""}


@dataclass
class Column:
    """One implementation + start method (e.g. ``billiard/fork``)."""

    label: str
    implementation: str
    start_method: str
    versions: set[str] = field(default_factory=set)

    @property
    def sort_key(self) -> tuple[int, str, int, str]:
        return (0 if self.implementation == "multiprocessing" else 1, self.implementation,
                _METHOD_ORDER.get(self.start_method, 9), self.start_method)


@dataclass
class Cell:
    outcomes: list[str] = field(default_factory=list)
    reasons: set[str] = field(default_factory=set)
    messages: list[str] = field(default_factory=list)
    envs: set[str] = field(default_factory=set)

    @property
    def status(self) -> str:
        """The cell's word: ``FAIL`` (a verdict, or a recorded deviation gone),
        ``inconclusive``, ``xfail``, ``partial`` (some tests skipped), ``skip``, ``pass``."""
        word = outcomes.cell(self.outcomes).split(" ")[0]
        return {"-": "", "XPASS": "FAIL"}.get(word, word)


@dataclass
class Matrix:
    claims: dict[str, Claim]
    columns: list[Column]
    pythons: list[str]
    cells: dict[tuple[str, str, str], Cell]
    """(claim ID, column label, Python minor) -> cell."""
    figures: dict[tuple[str, str], list[float]]
    """(figure name, column label) -> every value measured."""
    runs: list[RunResult]

    def cell(self, claim: str, column: str, python: str) -> Cell:
        return self.cells.get((claim, column, python), Cell())

    def pythons_of(self, column: str) -> list[str]:
        return [py for py in self.pythons
                if any(key[1] == column and key[2] == py for key in self.cells)]

    def unexpected(self) -> list[tuple[str, str, str, Cell]]:
        return [(c, col, py, cell) for (c, col, py), cell in sorted(self.cells.items())
                if cell.status in ("FAIL", "inconclusive")]


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(p) if p.isdigit() else 0 for p in version.split("."))


def build_matrix(runs: Sequence[RunResult]) -> Matrix:
    claims = load_claims()
    columns: dict[str, Column] = {}
    cells: dict[tuple[str, str, str], Cell] = defaultdict(Cell)
    figures: dict[tuple[str, str], list[float]] = defaultdict(list)
    pythons: set[str] = set()
    for run in runs:
        env = str(run.run.get("tox_env") or Path(run.path).stem)
        for test in run.tests:
            subject = run.subject(test.get("subject", "-"))
            if subject.get("implementation") == "control" or test.get("subject") == "-":
                continue
            label = str(subject.get("label"))
            column = columns.setdefault(label, Column(
                label, str(subject.get("implementation")),
                str(subject.get("start_method") or "?")))
            if subject.get("version"):
                column.versions.add(str(subject["version"]))
            py = run.python_minor
            pythons.add(py)
            for cid in test.get("claims", []):
                cell = cells[(cid, label, py)]
                cell.outcomes.append(str(test.get("outcome")))
                cell.envs.add(env)
                if test.get("expected_failure"):
                    cell.reasons.add(str(test["expected_failure"]))
                if test.get("outcome") in outcomes.RED and test.get("message"):
                    cell.messages.append(_first_lines(str(test["message"])))
            for name, value in (test.get("figures") or {}).items():
                if isinstance(value, (int, float)) and not isinstance(value, bool):
                    figures[(name, label)].append(float(value))
    return Matrix(claims=claims, columns=sorted(columns.values(), key=lambda c: c.sort_key),
                  pythons=sorted(pythons, key=_version_key), cells=dict(cells),
                  figures=dict(figures), runs=list(runs))


def _first_lines(message: str, limit: int = 6) -> str:
    lines = [ln for ln in message.splitlines() if "does not hold" in ln or
             ln.strip().startswith(("expected:", "measured:", "E "))]
    return "\n".join((lines or message.splitlines()[-limit:])[:limit])


# --- deviations ------------------------------------------------------------------------

@dataclass(frozen=True)
class Deviation:
    claim: str
    reason: str
    where: tuple[str, ...]
    """``column @ Python`` for every cell where the expected failure was seen."""


def deviations(matrix: Matrix) -> list[Deviation]:
    found: dict[tuple[str, str], set[str]] = defaultdict(set)
    for (cid, col, py), cell in matrix.cells.items():
        if cell.status == "xfail":
            for reason in cell.reasons:
                found[(cid, reason)].add(f"{col} @ {py}")
    return [Deviation(cid, reason, _grouped(where))
            for (cid, reason), where in sorted(found.items())]


def _grouped(where: set[str]) -> tuple[str, ...]:
    """``billiard/fork @ 3.9`` ... -> ``billiard/fork (3.9, 3.10)``, one entry per column."""
    by_column: dict[str, list[str]] = defaultdict(list)
    for item in sorted(where, key=_where_key):
        col, _, py = item.partition(" @ ")
        by_column[col].append(py)
    return tuple(f"{col} ({', '.join(pys)})" for col, pys in by_column.items())


def _where_key(where: str) -> tuple[str, tuple[int, ...]]:
    col, _, py = where.partition(" @ ")
    return col, _version_key(py)


def _python_span(pythons: Sequence[str]) -> str:
    return ", ".join(pythons)


# --- controls --------------------------------------------------------------------------

def read_controls(path: Optional[Path]) -> Optional[list[dict[str, Any]]]:
    if path is None or not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except ValueError:
        return None
    return list(data.get("controls", []))


# --- Markdown --------------------------------------------------------------------------

def _md_escape(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def markdown_cell(matrix: Matrix, cid: str, column: Column) -> str:
    """One cell across Pythons: ``pass`` when all agree, else ``3.9 pass, 3.12 FAIL``."""
    statuses = [(py, matrix.cell(cid, column.label, py).status)
                for py in matrix.pythons_of(column.label)]
    statuses = [(py, s) for py, s in statuses if s]
    if not statuses:
        return ""
    kinds = {s for _, s in statuses}
    if len(kinds) == 1:
        return statuses[0][1]
    return ", ".join(f"{py} {s}" for py, s in statuses)


def render_markdown(matrix: Matrix, controls: Optional[list[dict[str, Any]]],
                    points: Sequence[pictures.CurvePoint],
                    timelines: Sequence[pictures.Timeline], wall: Optional[float],
                    picture_files: Sequence[str] = ()) -> str:
    out = ["# procspec conformance report", ""]
    out += _summary_lines(matrix, wall)
    out += ["", "## Matrix", "",
            "Claims down; implementation/start method across. A cell is `pass` when every "
            "Python that ran it agrees (else per Python); `xfail` is a known deviation "
            "(see below), `FAIL` is a new failure or an expected failure that passed.", ""]
    cols = matrix.columns
    head = ["claim"] + [f"{c.label} ({', '.join(matrix.pythons_of(c.label))})"
                        for c in cols]
    out.append("| " + " | ".join(head) + " |")
    out.append("|" + "---|" * len(head))
    for cid in _claim_order(matrix):
        claim = matrix.claims.get(cid)
        name = f"{cid} {claim.statement}" if claim else f"{cid} (not in specs/)"
        row = [_md_escape(name)] + [markdown_cell(matrix, cid, c) for c in cols]
        out.append("| " + " | ".join(row) + " |")
    untested = sorted(set(matrix.claims) - set(_claim_order(matrix)))
    if untested:
        out += ["", f"Claims with no result in these runs: {', '.join(untested)}."]
    out += ["", "## Deviations (expected failures, with reasons)", ""]
    devs = deviations(matrix)
    out += [f"- **{d.claim}** on {', '.join(d.where)}: {d.reason}" for d in devs] or \
        ["None recorded in these runs."]
    out += readings.markdown_lines(matrix.columns)
    out += ["", "## Unexpected results", ""]
    bad = matrix.unexpected()
    if not bad:
        out.append("None: every result is as the specs and the expectations say.")
    for cid, col, py, cell in bad:
        out.append(f"- **{cid}** on {col} @ Python {py} ({', '.join(sorted(cell.envs))}): "
                   f"{', '.join(sorted(set(cell.outcomes)))}")
        out += [f"    {line}" for m in cell.messages[:1] for line in m.splitlines()]
    out += ["", "## Measured figures", ""]
    out += _figure_lines(matrix) or ["No test attached figures in these runs."]
    out += ["", "## Negative controls", ""]
    out += _controls_lines(controls)
    out += ["", "## Join: total time against N, and one run's timeline", ""]
    if points:
        out += [f"![{name}]({name})" for name in picture_files]
        out += ["", "```", pictures.text_total_vs_n(points), "```", ""]
        for timeline in timelines:
            out += ["```", pictures.text_gantt(timeline), "```", ""]
    else:
        out.append("No join runs recorded in these results (or `--no-measure`).")
    out += ["", "## Runs", ""]
    out += _runs_lines(matrix)
    return "\n".join(out) + "\n"


def _claim_order(matrix: Matrix) -> list[str]:
    seen = {key[0] for key in matrix.cells}
    ordered = [cid for cid in matrix.claims if cid in seen]
    return ordered + sorted(seen - set(ordered))


def _summary_lines(matrix: Matrix, wall: Optional[float]) -> list[str]:
    counts: dict[str, int] = defaultdict(int)
    for cell in matrix.cells.values():
        counts[cell.status] += 1
    commits = sorted({str(r.run.get("commit")) for r in matrix.runs if r.run.get("commit")})
    lines = [f"Generated {time.strftime('%Y-%m-%d %H:%M:%S %Z')} from {len(matrix.runs)} "
             f"run(s); Pythons {_python_span(matrix.pythons) or '-'}; commit "
             f"{', '.join(commits) or 'unknown'}.", "",
             f"Cells (claim x implementation x Python): {counts['pass']} pass, "
             f"{counts['xfail']} expected failures, {counts['FAIL']} unexpected, "
             f"{counts['inconclusive']} inconclusive, {counts['partial']} partial (some "
             f"tests skipped), {counts['skip']} skipped."]
    if wall is not None:
        lines.append(f"Wall time of the runs (first start to last end): {wall:.0f} s.")
    return lines


def _figure_lines(matrix: Matrix) -> list[str]:
    if not matrix.figures:
        return []
    lines = ["| figure | implementation | n | min | median | max |", "|---|---|---|---|---|---|"]
    for (name, col), values in sorted(matrix.figures.items()):
        lines.append(f"| {name} | {col} | {len(values)} | {min(values):.4g} | "
                     f"{statistics.median(values):.4g} | {max(values):.4g} |")
    return lines


def _controls_lines(controls: Optional[list[dict[str, Any]]]) -> list[str]:
    if controls is None:
        return ["Not included: run `python -m harness controls --json .tox/controls.json` "
                "(or `tox -e controls`) first."]
    lines = ["| control | defect | must break | broke | verdict |", "|---|---|---|---|---|"]
    for c in controls:
        lines.append(f"| {c['name']} | {_md_escape(c['defect'])} | "
                     f"{', '.join(c['breaks'])} | {', '.join(c['broken']) or '-'} | "
                     f"{'caught' if not c['missed'] else 'MISSED ' + ', '.join(c['missed'])} |")
    return lines


def _runs_lines(matrix: Matrix) -> list[str]:
    lines = ["| run | Python | backends | tests | outcomes | exit |", "|---|---|---|---|---|---|"]
    for run in sorted(matrix.runs, key=lambda r: r.path):
        counts: dict[str, int] = defaultdict(int)
        for test in run.tests:
            counts[str(test.get("outcome"))] += 1
        name = run.run.get("tox_env") or Path(run.path).stem
        labels = sorted({str(s.get("label")) for s in run.run.get("subjects", {}).values()})
        lines.append(f"| {name} | {run.python} | {', '.join(labels) or '-'} | "
                     f"{len(run.tests)} | "
                     f"{', '.join(f'{k} {v}' for k, v in sorted(counts.items()))} | "
                     f"{run.exitstatus} |")
    return lines


# --- HTML ------------------------------------------------------------------------------

_CSS = """
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222}
table{border-collapse:collapse;margin:.5em 0}
th,td{border:1px solid #ccc;padding:2px 5px;vertical-align:top}
th{background:#f4f4f4}
td.s{text-align:center;font-size:12px;min-width:1.8em}
td.pass{background:#d9f2d9} td.FAIL{background:#f7b2b2;font-weight:bold}
td.xfail{background:#fde9b5} td.skip{background:#e6e6e6}
td.inconclusive{background:#e8d0f0} td.partial{background:#e6f0d9}
td.claim{min-width:22em;max-width:30em;font-size:13px} td.claim small{color:#555}
tr.hidden{display:none}
pre{background:#f7f7f7;padding:.5em;overflow-x:auto}
.legend span{padding:1px 6px;margin-right:6px}
"""

_SCRIPT = """
(function(){
  var rows=document.querySelectorAll('#matrix tbody tr');
  var box=document.getElementById('only-deviations');
  function apply(){
    rows.forEach(function(r){
      var odd=r.querySelector('td.FAIL,td.xfail');
      r.classList.toggle('hidden', box.checked && !odd);
    });
  }
  box.addEventListener('change', apply);
  if(location.hash==='#only-deviations'){box.checked=true;}  // a link can ask for it
  apply();
  var counts={pass:0,xfail:0,FAIL:0,skip:0};
  document.querySelectorAll('#matrix td.s').forEach(function(td){
    if(td.classList.length>1){counts[td.classList[1]]+=1;}
  });
  document.body.setAttribute('data-rendered',
    'claims='+rows.length+' pass='+counts.pass+' xfail='+counts.xfail+
    ' FAIL='+counts.FAIL+' skip='+counts.skip);
})();
"""


def _e(text: Any) -> str:
    return html.escape(str(text), quote=True)


def render_html(matrix: Matrix, controls: Optional[list[dict[str, Any]]],
                points: Sequence[pictures.CurvePoint],
                timelines: Sequence[pictures.Timeline], wall: Optional[float]) -> str:
    cols = matrix.columns
    parts = ["<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
             "<title>procspec conformance report</title>",
             f"<style>{_CSS}</style></head><body>",
             "<h1>procspec conformance report</h1>"]
    parts += [f"<p>{_e(line)}</p>" for line in _summary_lines(matrix, wall) if line]
    parts.append("<h2 id='matrix-title'>Matrix</h2>"
                 "<p class='legend'><span style='background:#d9f2d9'>\u2713 pass"
                 "</span><span style='background:#fde9b5'>xf: expected failure (a known "
                 "deviation, reason below)</span><span style='background:#f7b2b2'>FAIL: "
                 "unexpected</span><span style='background:#e6e6e6'>\u2013 skipped</span> "
                 "blank: not run. Hover a cell for its reason or message. "
                 "<label><input type='checkbox' id='only-deviations'> only claims with a "
                 "deviation or failure</label></p>")
    parts.append("<table id='matrix'><thead><tr><th rowspan='2'>claim</th>")
    for c in cols:
        pys = matrix.pythons_of(c.label)
        versions = ", ".join(sorted(c.versions))
        parts.append(f"<th colspan='{max(len(pys), 1)}' title='{_e(versions)}'>"
                     f"{_e(c.label)}</th>")
    parts.append("</tr><tr>")
    for c in cols:
        pys = matrix.pythons_of(c.label) or ["-"]
        parts += [f"<th>{_e(py)}</th>" for py in pys]
    parts.append("</tr></thead><tbody>")
    for cid in _claim_order(matrix):
        claim = matrix.claims.get(cid)
        statement = claim.statement if claim else "(not in specs/)"
        topic = claim.topic if claim else "?"
        parts.append(f"<tr id='{_e(cid)}'><td class='claim'><b>{_e(cid)}</b> "
                     f"{_e(statement)} <small>({_e(topic)})</small></td>")
        for c in cols:
            for py in matrix.pythons_of(c.label) or ["-"]:
                cell = matrix.cell(cid, c.label, py)
                status = cell.status
                tip = "; ".join(sorted(cell.reasons) + cell.messages[:1]
                                + [f"{o}" for o in sorted(set(cell.outcomes))])
                cls = f"s {status}" if status else "s"
                parts.append(f"<td class='{cls}' title='{_e(tip)}'>{_e(SYMBOL[status])}"
                             f"</td>")
        parts.append("</tr>")
    parts.append("</tbody></table>")
    parts.append("<h2>Deviations (expected failures, with reasons)</h2><ul id='deviations'>")
    devs = deviations(matrix)
    parts += [f"<li><a href='#{_e(d.claim)}'>{_e(d.claim)}</a> on {_e(', '.join(d.where))}:"
              f" {_e(d.reason)}</li>" for d in devs] or ["<li>None recorded.</li>"]
    parts.append("</ul>")
    parts += readings.html_parts(matrix.columns)
    parts.append("<h2>Unexpected results</h2><ul id='unexpected'>")
    bad = matrix.unexpected()
    parts += [f"<li><b>{_e(cid)}</b> on {_e(col)} @ Python {_e(py)}: "
              f"{_e(', '.join(sorted(set(cell.outcomes))))}<pre>"
              f"{_e(cell.messages[0] if cell.messages else '')}</pre></li>"
              for cid, col, py, cell in bad] or ["<li>None.</li>"]
    parts.append("</ul>")
    parts.append("<h2>Measured figures</h2>")
    parts.append(_md_table_to_html(_figure_lines(matrix)) or "<p>None attached.</p>")
    parts.append("<h2>Negative controls</h2>")
    parts.append(_md_table_to_html(_controls_lines(controls)) if controls is not None else
                 f"<p>{_e(_controls_lines(None)[0])}</p>")
    parts.append("<h2>Join: total time against N, and one run's timeline</h2>")
    if points:
        parts.append(pictures.svg_total_vs_n(points))
        parts += [pictures.svg_gantt(t) for t in timelines]
        parts.append(f"<pre>{_e(pictures.text_total_vs_n(points))}</pre>")
    else:
        parts.append("<p>No join runs recorded in these results.</p>")
    parts.append("<h2>Runs</h2>")
    parts.append(_md_table_to_html(_runs_lines(matrix)))
    parts.append(f"<script>{_SCRIPT}</script></body></html>")
    return "\n".join(parts)


def _md_table_to_html(lines: list[str]) -> str:
    """The simple pipe tables built above, as HTML (so both formats say the same)."""
    if not lines:
        return ""
    rows = [ln.strip("|").split(" | ") for ln in lines if not ln.startswith("|---")]
    head, body = rows[0], rows[1:]
    out = ["<table><thead><tr>"] + [f"<th>{_e(h.strip())}</th>" for h in head]
    out.append("</tr></thead><tbody>")
    for row in body:
        out.append("<tr>" + "".join(f"<td>{_e(c.strip())}</td>" for c in row) + "</tr>")
    out.append("</tbody></table>")
    return "".join(out)


# --- command ---------------------------------------------------------------------------

def _epoch(stamp: Any) -> Optional[float]:
    from datetime import datetime

    try:
        return datetime.strptime(str(stamp), "%Y-%m-%dT%H:%M:%S%z").timestamp()
    except ValueError:
        return None


def wall_time(runs: Sequence[RunResult]) -> Optional[float]:
    spans: list[tuple[float, float]] = []
    for run in runs:
        start, end = _epoch(run.run.get("started")), run.run.get("finished_epoch")
        if start is not None and isinstance(end, (int, float)):
            spans.append((start, float(end)))
    if not spans:
        return None
    return max(b for _, b in spans) - min(a for a, _ in spans)


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
    for cid in _claim_order(matrix):
        rows.append([cid] + [markdown_cell(matrix, cid, c) for c in matrix.columns])
    out = [outcomes.format_table(rows), ""]
    out += [f"{d.claim}: {d.reason}" for d in deviations(matrix)]
    for cid, col, py, _ in matrix.unexpected():
        out.append(f"UNEXPECTED {cid} on {col} @ {py}")
    if points:
        out += ["", pictures.text_total_vs_n(points)]
        out += ["", *(pictures.text_gantt(t) for t in timelines[:1])]
    return "\n".join(out)
