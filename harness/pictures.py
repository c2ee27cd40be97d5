"""Pictures of the join scenario: total time against N (max and sum models), and a Gantt.

Hand-written SVG (no plotting library) for the report, and plain text for the terminal.
The data are the join runs the tests recorded (``harness.figures``; stored in each results
file), so a merged report shows every run's own measurements, labelled with the run.

- *Total time against N*: N children, each sleeping ``d`` seconds, started one after
  another and then joined in order. If the children run concurrently the total follows the
  **max model** (``d``, plus start-up costs); if they ran one after another it would follow
  the **sum model** (``N * d``). The measured points show which one the backend obeys.
- *Gantt*: one run's children, one bar each from when its target began to when it ended,
  with the parent's ``start()`` call and ``join()`` return marked: overlapping bars are
  the concurrency.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any, Optional, Sequence

PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2")


@dataclass(frozen=True)
class CurvePoint:
    """One run of N sleepers on a backend: N, the sleep each child had, the total time."""

    backend: str
    n: int
    duration: float
    total: float
    peak: Optional[int] = None
    """Most children whose targets were running at one moment (by their own stamps)."""


@dataclass(frozen=True)
class Bar:
    """One child in a Gantt chart; every time in seconds from the first ``start()`` call."""

    label: str
    start_call: float
    began: Optional[float]
    ended: Optional[float]
    join_return: float


@dataclass(frozen=True)
class Timeline:
    backend: str
    duration: float
    bars: tuple[Bar, ...]

    @property
    def span(self) -> float:
        return max([b.join_return for b in self.bars] + [b.ended or 0.0 for b in self.bars]
                   + [1e-3])


def timeline_of(figure: dict[str, Any], label: str) -> Timeline:
    """A :class:`Timeline` from a recorded join run (``JoinRun.figure()``: times in seconds
    from the first ``start()`` call; ``bars``: start call, began, ended, join return)."""
    bars = tuple(Bar(label=f"child {i}", start_call=float(b[0]),
                     began=None if b[1] is None else float(b[1]),
                     ended=None if b[2] is None else float(b[2]), join_return=float(b[3]))
                 for i, b in enumerate(figure.get("bars", [])))
    return Timeline(backend=label, duration=max(figure.get("durations", [0.0]), default=0.0),
                    bars=bars)


def from_recorded(figures: Sequence[tuple[str, dict[str, Any]]]
                  ) -> tuple[list[CurvePoint], list[Timeline]]:
    """Points and timelines from recorded join runs, each ``(label, figure)``: a point for
    every run whose children all slept the same time (the models need one ``d``), and per
    label the timeline of its largest such run."""
    totals: dict[tuple[str, int, float], list[tuple[float, Optional[int]]]] = {}
    largest: dict[str, tuple[int, dict[str, Any]]] = {}
    for label, figure in figures:
        durations = [float(d) for d in figure.get("durations", [])]
        if not durations or len(set(durations)) != 1 or not figure.get("bars"):
            continue
        peak = peak_overlap(timeline_of(figure, label))
        totals.setdefault((label, len(durations), durations[0]), []).append(
            (float(figure["total"]), peak))
        if len(durations) > largest.get(label, (0, {}))[0]:
            largest[label] = (len(durations), figure)
    points = []
    for (label, n, duration), seen in sorted(totals.items()):
        total, peak = sorted(seen, key=lambda tp: tp[0])[len(seen) // 2]  # the median run
        points.append(CurvePoint(label, n, duration, total, peak))
    return points, [timeline_of(figure, label) for label, (_, figure) in largest.items()]


def peak_overlap(timeline: Timeline) -> Optional[int]:
    """Most bars running at one moment; None when a child never reported its stamps."""
    events: list[tuple[float, int]] = []
    for bar in timeline.bars:
        if bar.began is None or bar.ended is None:
            return None
        events += [(bar.began, 1), (bar.ended, -1)]
    running = peak = 0
    for _, step in sorted(events, key=lambda e: (e[0], e[1])):  # an end before a start
        running += step
        peak = max(peak, running)
    return peak


# --- SVG -------------------------------------------------------------------------------

def escape(text: Any) -> str:
    """Text made safe inside SVG or HTML (also in attribute values)."""
    return html.escape(str(text), quote=True)


def _nice_max(value: float) -> float:
    for step in (0.1, 0.2, 0.25, 0.5, 1, 2, 2.5, 5, 10, 20, 50):
        if value <= step * 5:
            return step * 5 if value > step * 4 else step * (int(value / step) + 1)
    return value * 1.1


def anchor(series: Sequence[CurvePoint]) -> float:
    """T(1): the measured total for one child (start-up included), where both models start.

    Without an N=1 point, the sleep itself."""
    ones = [p.total for p in series if p.n == 1]
    return min(ones) if ones else max((p.duration for p in series), default=0.0)


def svg_total_vs_n(points: Sequence[CurvePoint], width: int = 600,
                   height: int = 340) -> str:
    """Measured total time against N per backend, with the max and sum model lines."""
    if not points:
        return "<svg xmlns='http://www.w3.org/2000/svg' width='10' height='10'></svg>"
    left, right, top, bottom = 56, 170, 24, 44
    pw, ph = width - left - right, height - top - bottom
    n_max = max(p.n for p in points)
    d = max(p.duration for p in points)
    # the sum line goes off the chart quickly: cap the y range at a few times the max model
    y_top = _nice_max(max(max(p.total for p in points),
                          max(anchor([q for q in points if q.backend == b])
                              for b in {p.backend for p in points}) + 2 * d))

    def x(n: float) -> float:
        return left + (n - 0) / max(n_max, 1) * pw

    def y(t: float) -> float:
        return top + ph - min(t, y_top) / y_top * ph

    out = [f"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height}' "
           f"viewBox='0 0 {width} {height}' class='chart' role='img' "
           f"aria-label='join: total time against N'>",
           "<style>text{font:11px sans-serif}</style>",
           f"<rect x='{left}' y='{top}' width='{pw}' height='{ph}' fill='none' "
           f"stroke='#999'/>"]
    for i in range(6):
        t = y_top * i / 5
        out.append(f"<line x1='{left - 4}' x2='{left}' y1='{y(t):.1f}' y2='{y(t):.1f}' "
                   f"stroke='#999'/><text x='{left - 6}' y='{y(t) + 4:.1f}' "
                   f"text-anchor='end'>{t:.2f}</text>")
    for n in sorted({p.n for p in points} | {0}):
        out.append(f"<text x='{x(n):.1f}' y='{top + ph + 16}' text-anchor='middle'>{n}"
                   f"</text>")
    out.append(f"<text x='{left + pw / 2:.1f}' y='{height - 8}' text-anchor='middle'>"
               f"N children (each sleeps {d:g} s)</text>")
    out.append(f"<text x='14' y='{top + ph / 2:.1f}' text-anchor='middle' "
               f"transform='rotate(-90 14 {top + ph / 2:.1f})'>total seconds</text>")
    legend = [("measured", "", "#444"), ("max model: T(1)", "6 3", "#444"),
              ("sum model: T(1)+(N-1)d", "2 3", "#444")]
    backends = list(dict.fromkeys(p.backend for p in points))
    for i, name in enumerate(backends):
        color = PALETTE[i % len(PALETTE)]
        series = sorted((p for p in points if p.backend == name), key=lambda p: p.n)
        base = anchor(series)
        out.append(f"<line x1='{x(1):.1f}' y1='{y(base):.1f}' x2='{x(n_max):.1f}' "
                   f"y2='{y(base):.1f}' stroke='{color}' stroke-dasharray='6 3'/>")
        n_cap = min(float(n_max), 1 + max(y_top - base, 0) / d) if d > 0 else n_max
        out.append(f"<line x1='{x(1):.1f}' y1='{y(base):.1f}' x2='{x(n_cap):.1f}' "
                   f"y2='{y(base + (n_cap - 1) * d):.1f}' stroke='{color}' "
                   f"stroke-dasharray='2 3'/>")
        path = " ".join(f"{x(p.n):.1f},{y(p.total):.1f}" for p in series)
        out.append(f"<polyline points='{path}' fill='none' stroke='{color}' "
                   f"stroke-width='2'/>")
        for p in series:
            out.append(f"<circle cx='{x(p.n):.1f}' cy='{y(p.total):.1f}' r='3' "
                       f"fill='{color}'><title>{escape(name)}: N={p.n}, total "
                       f"{p.total:.3f} s</title></circle>")
        legend.append((name, "", color))
    for i, (label, dash, color) in enumerate(legend):
        ly = top + 10 + 16 * i
        lx = left + pw + 10
        dash_attr = f" stroke-dasharray='{dash}'" if dash else ""
        out.append(f"<line x1='{lx}' x2='{lx + 22}' y1='{ly}' y2='{ly}' stroke='{color}' "
                   f"stroke-width='2'{dash_attr}/><text x='{lx + 26}' y='{ly + 4}'>"
                   f"{escape(label)}</text>")
    out.append("</svg>")
    return "\n".join(out)


def svg_gantt(timeline: Timeline, width: int = 560) -> str:
    """One run's children as bars (target began..ended), with start() and join() marks."""
    left, right, top, row = 64, 16, 24, 18
    height = top + row * len(timeline.bars) + 36
    pw = width - left - right
    span = timeline.span

    def x(t: float) -> float:
        return left + t / span * pw

    out = [f"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height}' "
           f"viewBox='0 0 {width} {height}' class='gantt' role='img' "
           f"aria-label='timeline of {escape(timeline.backend)}'>",
           "<style>text{font:11px sans-serif}</style>",
           f"<text x='{left}' y='14'>{escape(timeline.backend)}: {len(timeline.bars)} "
           f"children, each sleeps {timeline.duration:g} s</text>"]
    for i, bar in enumerate(timeline.bars):
        cy = top + row * i
        out.append(f"<text x='{left - 6}' y='{cy + 12}' text-anchor='end'>"
                   f"{escape(bar.label)}</text>")
        if bar.began is not None and bar.ended is not None:
            out.append(f"<rect x='{x(bar.began):.1f}' y='{cy + 3}' "
                       f"width='{max(x(bar.ended) - x(bar.began), 1):.1f}' height='{row - 6}'"
                       f" fill='#1f77b4'><title>{escape(bar.label)}: ran {bar.began:.3f}-"
                       f"{bar.ended:.3f} s</title></rect>")
        out.append(f"<line x1='{x(bar.start_call):.1f}' x2='{x(bar.start_call):.1f}' "
                   f"y1='{cy + 1}' y2='{cy + row - 1}' stroke='#2ca02c' stroke-width='2'>"
                   f"<title>start() called at {bar.start_call:.3f} s</title></line>")
        out.append(f"<line x1='{x(bar.join_return):.1f}' x2='{x(bar.join_return):.1f}' "
                   f"y1='{cy + 1}' y2='{cy + row - 1}' stroke='#d62728' stroke-width='2'>"
                   f"<title>join() returned at {bar.join_return:.3f} s</title></line>")
    axis_y = top + row * len(timeline.bars) + 4
    out.append(f"<line x1='{left}' x2='{left + pw}' y1='{axis_y}' y2='{axis_y}' "
               f"stroke='#999'/>")
    for i in range(6):
        t = span * i / 5
        out.append(f"<text x='{x(t):.1f}' y='{axis_y + 14}' text-anchor='middle'>"
                   f"{t:.2f}</text>")
    out.append(f"<text x='{left + pw}' y='{axis_y + 28}' text-anchor='end'>seconds since "
               f"the first start(); green: start() called, red: join() returned</text>")
    out.append("</svg>")
    return "\n".join(out)


# --- text ------------------------------------------------------------------------------

def text_total_vs_n(points: Sequence[CurvePoint]) -> str:
    """Per backend and N: the total, both models, and how many children ran at once.

    Both models start from T(1), the measured total for one child, start-up included: the
    max model stays at T(1); the sum model adds ``d`` per extra child. Start-up costs that
    grow with N (spawn boots an interpreter per child, slower when the cores are busy) push
    the total up without making the children any less concurrent, so the last column gives
    the direct evidence: the most children whose targets were running at the same moment."""
    lines = [f"{'backend':<34} {'N':>3} {'total s':>8} {'max T(1)':>9} {'sum':>7}  "
             f"running at once"]
    for p in points:
        base = anchor([q for q in points if q.backend == p.backend])
        sum_model = base + (p.n - 1) * p.duration
        peak = "?" if p.peak is None else f"{p.peak} of {p.n}"
        lines.append(f"{p.backend:<34} {p.n:>3} {p.total:>8.3f} {base:>9.3f} "
                     f"{sum_model:>7.3f}  {peak}")
    return "\n".join(lines)


def text_gantt(timeline: Timeline, columns: int = 60) -> str:
    """``#`` while a child's target ran, ``s`` at its start() call, ``j`` at join()'s return."""
    span = timeline.span

    def col(t: float) -> int:
        return min(columns - 1, max(0, int(t / span * (columns - 1) + 0.5)))

    lines = [f"{timeline.backend}: {len(timeline.bars)} children x {timeline.duration:g} s "
             f"(0 .. {span:.3f} s; # running, s start() called, j join() returned)"]
    for bar in timeline.bars:
        cells = [" "] * columns
        if bar.began is not None and bar.ended is not None:
            for c in range(col(bar.began), col(bar.ended) + 1):
                cells[c] = "#"
        cells[col(bar.start_call)] = "s"
        cells[col(bar.join_return)] = "j"
        lines.append(f"{bar.label:>9} |{''.join(cells)}|")
    return "\n".join(lines)
