"""The report as Markdown (``report.md``, and the terminal with ``--print``)."""

from __future__ import annotations

from typing import Any, Optional, Sequence

from harness import pictures
from harness.report import readings, tables
from harness.report.matrix import Matrix, across_pythons, claim_order, deviations


def _escape(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def table(t: tables.Table) -> list[str]:
    return (["| " + " | ".join(t.head) + " |", "|" + "---|" * len(t.head)]
            + ["| " + " | ".join(_escape(c) for c in row) + " |" for row in t.rows])


def render_markdown(matrix: Matrix, controls: Optional[list[dict[str, Any]]],
                    points: Sequence[pictures.CurvePoint],
                    timelines: Sequence[pictures.Timeline], wall: Optional[float],
                    picture_files: Sequence[str] = ()) -> str:
    out = ["# procspec conformance report", ""]
    out += tables.summary_lines(matrix, wall)
    out += ["", "## Matrix", "",
            "Claims down; implementation/start method across. A cell is `pass` when every "
            "Python that ran it agrees (else per Python); `xfail` is a known deviation "
            "(see below), `FAIL` is a new failure or an expected failure that passed.", ""]
    out += _matrix_lines(matrix)
    untested = sorted(set(matrix.claims) - set(claim_order(matrix)))
    if untested:
        out += ["", f"Claims with no result in these runs: {', '.join(untested)}."]
    out += ["", "## Deviations (expected failures, with reasons)", ""]
    out += [f"- **{d.claim}** on {', '.join(d.where)}: {d.reason}"
            for d in deviations(matrix)] or ["None recorded in these runs."]
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
    figures = tables.figures_table(matrix)
    out += table(figures) if figures else ["No test attached figures in these runs."]
    out += ["", "## Negative controls", ""]
    broken = tables.controls_table(controls)
    out += table(broken) if broken else [tables.NO_CONTROLS]
    out += ["", "## Join: total time against N, and one run's timeline", ""]
    if points:
        out += [f"![{name}]({name})" for name in picture_files]
        out += ["", "```", pictures.text_total_vs_n(points), "```", ""]
        for timeline in timelines:
            out += ["```", pictures.text_gantt(timeline), "```", ""]
    else:
        out.append("No join runs recorded in these results (or `--no-measure`).")
    out += ["", "## Runs", ""]
    out += table(tables.runs_table(matrix))
    return "\n".join(out) + "\n"


def _matrix_lines(matrix: Matrix) -> list[str]:
    cols = matrix.columns
    head = ["claim"] + [f"{c.label} ({', '.join(matrix.pythons_of(c.label))})"
                        for c in cols]
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for cid in claim_order(matrix):
        claim = matrix.claims.get(cid)
        name = f"{cid} {claim.statement}" if claim else f"{cid} (not in specs/)"
        row = [_escape(name)] + [across_pythons(matrix, cid, c) for c in cols]
        out.append("| " + " | ".join(row) + " |")
    return out
