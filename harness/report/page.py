"""The report as one self-contained HTML page (``report.html``): inline CSS, SVG and a few
lines of script, nothing fetched; checked in headless Chromium by tests/meta/test_report.py."""

from __future__ import annotations

from typing import Any, Optional, Sequence

from harness import pictures
from harness.pictures import escape
from harness.report import readings, tables
from harness.report.matrix import Matrix, claim_order, deviations

#: What a cell shows (compact: up to 5 Pythons x 9 columns side by side).
SYMBOL = {"pass": "\u2713", "FAIL": "FAIL", "inconclusive": "?", "xfail": "xf",
          "partial": "part", "unjudged": "unj", "skip": "\u2013", "": ""}

_CSS = """
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222}
table{border-collapse:collapse;margin:.5em 0}
th,td{border:1px solid #ccc;padding:2px 5px;vertical-align:top}
th{background:#f4f4f4}
td.s{text-align:center;font-size:12px;min-width:1.8em}
td.pass{background:#d9f2d9} td.FAIL{background:#f7b2b2;font-weight:bold}
td.xfail{background:#fde9b5} td.skip{background:#e6e6e6}
td.inconclusive{background:#e8d0f0} td.partial{background:#e6f0d9}
td.unjudged{background:#e6e6e6;font-style:italic}
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


def table(t: tables.Table) -> str:
    out = ["<table><thead><tr>"] + [f"<th>{escape(h)}</th>" for h in t.head]
    out.append("</tr></thead><tbody>")
    out += ["<tr>" + "".join(f"<td>{escape(c)}</td>" for c in row) + "</tr>"
            for row in t.rows]
    out.append("</tbody></table>")
    return "".join(out)


def render_html(matrix: Matrix, controls: Optional[list[dict[str, Any]]],
                points: Sequence[pictures.CurvePoint],
                timelines: Sequence[pictures.Timeline], wall: Optional[float]) -> str:
    parts = ["<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
             "<title>procspec conformance report</title>",
             f"<style>{_CSS}</style></head><body>",
             "<h1>procspec conformance report</h1>"]
    parts += [f"<p>{escape(line)}</p>" for line in tables.summary_lines(matrix, wall) if line]
    parts.append("<h2 id='matrix-title'>Matrix</h2>"
                 "<p class='legend'><span style='background:#d9f2d9'>\u2713 pass"
                 "</span><span style='background:#fde9b5'>xf: expected failure (a known "
                 "deviation, reason below)</span><span style='background:#f7b2b2'>FAIL: "
                 "unexpected</span><span style='background:#e6e6e6'>\u2013 skipped</span>"
                 "<span style='background:#e6e6e6;font-style:italic'>unj: unjudged (ran, "
                 "judged no example: not a pass)</span> "
                 "blank: not run. Hover a cell for its reason or message. "
                 "<label><input type='checkbox' id='only-deviations'> only claims with a "
                 "deviation or failure</label></p>")
    parts += _matrix(matrix)
    parts.append("<h2>Deviations (expected failures, with reasons)</h2><ul id='deviations'>")
    parts += [f"<li><a href='#{escape(d.claim)}'>{escape(d.claim)}</a> on "
              f"{escape(', '.join(d.where))}: {escape(d.reason)}</li>"
              for d in deviations(matrix)] or ["<li>None recorded.</li>"]
    parts.append("</ul>")
    parts += readings.html_parts(matrix.columns)
    parts.append("<h2>Unexpected results</h2><ul id='unexpected'>")
    parts += [f"<li><b>{escape(cid)}</b> on {escape(col)} @ Python {escape(py)}: "
              f"{escape(', '.join(sorted(set(cell.outcomes))))}<pre>"
              f"{escape(cell.messages[0] if cell.messages else '')}</pre></li>"
              for cid, col, py, cell in matrix.unexpected()] or ["<li>None.</li>"]
    parts.append("</ul>")
    parts.append("<h2>Measured figures</h2>")
    figures = tables.figures_table(matrix)
    parts.append(table(figures) if figures else "<p>None attached.</p>")
    parts.append("<h2>Negative controls</h2>")
    broken = tables.controls_table(controls)
    parts.append(table(broken) if broken else f"<p>{escape(tables.NO_CONTROLS)}</p>")
    parts.append("<h2>Join: total time against N, and one run's timeline</h2>")
    if points:
        parts.append(pictures.svg_total_vs_n(points))
        parts += [pictures.svg_gantt(t) for t in timelines]
        parts.append(f"<pre>{escape(pictures.text_total_vs_n(points))}</pre>")
    else:
        parts.append("<p>No join runs recorded in these results.</p>")
    parts.append("<h2>Runs</h2>")
    parts.append(table(tables.runs_table(matrix)))
    parts.append(f"<script>{_SCRIPT}</script></body></html>")
    return "\n".join(parts)


def _matrix(matrix: Matrix) -> list[str]:
    """The matrix: one column group per implementation/start method, a column per Python."""
    cols = matrix.columns
    parts = ["<table id='matrix'><thead><tr><th rowspan='2'>claim</th>"]
    for c in cols:
        pys = matrix.pythons_of(c.label)
        versions = ", ".join(sorted(c.versions))
        parts.append(f"<th colspan='{max(len(pys), 1)}' title='{escape(versions)}'>"
                     f"{escape(c.label)}</th>")
    parts.append("</tr><tr>")
    for c in cols:
        parts += [f"<th>{escape(py)}</th>" for py in matrix.pythons_of(c.label) or ["-"]]
    parts.append("</tr></thead><tbody>")
    for cid in claim_order(matrix):
        claim = matrix.claims.get(cid)
        statement = claim.statement if claim else "(not in specs/)"
        topic = claim.topic if claim else "?"
        parts.append(f"<tr id='{escape(cid)}'><td class='claim'><b>{escape(cid)}</b> "
                     f"{escape(statement)} <small>({escape(topic)})</small></td>")
        for c in cols:
            for py in matrix.pythons_of(c.label) or ["-"]:
                cell = matrix.cell(cid, c.label, py)
                status = cell.status
                tip = "; ".join(sorted(cell.reasons) + cell.messages[:1]
                                + [f"{o}" for o in sorted(set(cell.outcomes))])
                cls = f"s {status}" if status else "s"
                parts.append(f"<td class='{cls}' title='{escape(tip)}'>"
                             f"{escape(SYMBOL[status])}</td>")
        parts.append("</tr>")
    parts.append("</tbody></table>")
    return parts
