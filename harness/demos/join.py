"""Demos of the join-timing claims (specs/join-timing.md): one run, drawn as a timeline.

Registered for the whole ``JOIN`` topic: every join claim is about when ``join()`` returns
relative to the children's own work, which one run's timeline shows.
"""

from __future__ import annotations

from harness import pictures
from harness.backends import Backend
from harness.demos import DemoFn, Say


def _timeline(backend: Backend, say: Say) -> None:
    from harness.scenarios.join import run_sleepers

    durations = [0.3, 0.1, 0.2, 0.1]
    run = run_sleepers(backend, durations, order=[1, 0, 3, 2])
    say(f"Started {len(durations)} children sleeping {durations} s one after another, "
        f"then joined them in the order {list(run.order)}.")
    say(pictures.text_gantt(pictures.timeline_of(run.figure(), backend.name)))
    for i, c in enumerate(run.children):
        late = c.join_lateness
        say(f"  child {i}: ran {((c.ended or 0) - (c.began or 0)):.3f} s; join() took "
            f"{c.join_seconds:.3f} s, returned "
            f"{'?' if late is None else f'{late * 1000:.1f} ms'} after the later of its call "
            f"and the child's end; exitcode {c.exitcode_after_join!r}")
    say(f"Total {run.total:.3f} s: the max model predicts {max(durations):.1f} s (children "
        f"overlap), the sum model {sum(durations):.1f} s (one after another). Starting "
        f"took {run.start_seconds * 1000:.1f} ms of it.")
    say("join() blocks only its caller, and only until that child has ended; the children "
        "run concurrently, so the total follows the longest child, whatever the join order.")


def _curve(backend: Backend, say: Say) -> None:
    from harness.scenarios.join import run_sleepers

    run_sleepers(backend, [0.0])  # warm-up: a forkserver starts its server on first use
    runs = [(backend.name, run_sleepers(backend, [0.2] * n).figure()) for n in (1, 2, 4, 8)]
    points, _ = pictures.from_recorded(runs)
    say(pictures.text_total_vs_n(points))
    _timeline(backend, say)


DEMOS: dict[str, DemoFn] = {"JOIN": _timeline, "JOIN-002": _curve}
