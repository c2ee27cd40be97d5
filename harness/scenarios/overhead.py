"""The overhead model of the join-timing claims (specs/join-timing.md), measured now.

The clock is ``time.monotonic()`` everywhere (one clock for all processes of a machine).

Starting and reaping a process costs time that has nothing to do with the child's work:
fork or spawn in ``start()``, interpreter start-up (spawn, forkserver), interpreter exit,
the parent's wake-up. procspec measures it instead of assuming it: it runs the *reference*
implementation (the standard library's context for the backend's start method) with
children that do nothing, 1 and ``CALIBRATION_COUNT`` at a time, in this very process,
under whatever load the machine has now, and fits

    overhead(N) = fixed + per_child * (N - 1)

``fixed`` is the larger of two runs of one no-op child (first ``start()`` to ``join()``'s
return); ``per_child`` the slope to the larger of two runs of ``CALIBRATION_COUNT``
children. ``exit`` is the largest join lateness seen (how long after a no-op child's end a
``join()`` returned). The reference, not the implementation under test, is measured so that
a defect cannot widen its own tolerance (a ``join()`` that returns late would otherwise
teach the model that joins are late). A model is reused for ``MAX_AGE`` seconds.

The model gives the calibrated bounds: ``tolerance(N) = FLOOR + SAFETY * overhead(N)`` and
the prompt-join bound ``PROMPT_FLOOR + SAFETY * exit``. How they are applied (max versus
sum, second opinions) is :mod:`harness.timing`'s business, which never runs a scenario.
``python -m harness.scenarios.overhead [METHOD ...]`` prints the model now.
"""

from __future__ import annotations

import multiprocessing
import os
import time
from dataclasses import dataclass
from typing import Optional, Sequence

from harness.backends import resolve
from harness.scenarios.join import run_sleepers

#: Number of no-op children in the second calibration point.
CALIBRATION_COUNT = 4
#: Runs per calibration point; the larger result is kept (conservative).
CALIBRATION_REPEATS = 2
#: A model older than this (seconds) is measured again ("the machine's current load").
MAX_AGE = 10.0

#: The tolerance is FLOOR + SAFETY * overhead(N) (seconds). FLOOR covers scheduler noise
#: that even a zero-cost start would show on a loaded machine; SAFETY the spread of the
#: overhead itself between calibration and example (measured: see specs/join-timing.md).
FLOOR = 0.10
SAFETY = 2.0

#: join() on a child that has ended returns within PROMPT_FLOOR + SAFETY * exit seconds.
PROMPT_FLOOR = 0.10


def clock() -> float:
    """The one clock of every timing claim."""
    return time.monotonic()


def reference_start_method(start_method: Optional[str]) -> str:
    """The stdlib start method whose costs calibrate a backend: its own, else spawn."""
    available = multiprocessing.get_all_start_methods()
    if start_method in available:
        return str(start_method)
    return "spawn" if "spawn" in available else available[0]


@dataclass(frozen=True)
class OverheadModel:
    """Start-and-reap costs of the reference implementation, measured under current load."""

    start_method: str
    fixed: float
    """Seconds: one no-op child, first ``start()`` to ``join()``'s return."""
    per_child: float
    """Seconds added by each further child started together."""
    exit: float
    """Seconds: the latest a ``join()`` returned after a no-op child's end."""
    samples: tuple[tuple[int, float], ...]
    """(children, seconds) of every calibration run."""
    measured_at: float
    loadavg: float
    """The 1-minute load average when measured (for the record; not used)."""

    def overhead(self, n: int) -> float:
        return self.fixed + self.per_child * max(0, n - 1)

    def tolerance(self, n: int) -> float:
        return FLOOR + SAFETY * self.overhead(n)

    def prompt_bound(self) -> float:
        return PROMPT_FLOOR + SAFETY * self.exit

    def describe(self) -> str:
        return (f"{self.start_method}: overhead(N) = {self.fixed * 1000:.1f} ms + "
                f"{self.per_child * 1000:.1f} ms x (N-1); exit {self.exit * 1000:.1f} ms; "
                f"load {self.loadavg:.2f}")


_WARMED: set[str] = set()


def calibrate(start_method: Optional[str], counts: Sequence[int] = (),
              repeats: int = CALIBRATION_REPEATS) -> OverheadModel:
    """Measure the reference implementation now (see the module docstring)."""
    method = reference_start_method(start_method)
    reference = resolve(method)
    points = sorted({1, CALIBRATION_COUNT, *counts})
    worst: dict[int, float] = {}
    samples: list[tuple[int, float]] = []
    exit_latency = 0.0
    if method not in _WARMED:  # the first start pays one-off costs (e.g. the forkserver)
        run_sleepers(reference, [0.0], publish=False)
        _WARMED.add(method)
    for n in points:
        for _ in range(repeats):
            run = run_sleepers(reference, [0.0] * n, publish=False)
            samples.append((n, run.total))
            worst[n] = max(worst.get(n, 0.0), run.total)
            exit_latency = max([exit_latency] + [c.join_lateness for c in run.children
                                                 if c.join_lateness is not None])
    fixed = worst[1]
    slopes = [(worst[n] - fixed) / (n - 1) for n in points if n > 1]
    return OverheadModel(start_method=method, fixed=fixed,
                         per_child=max([0.0] + slopes), exit=exit_latency,
                         samples=tuple(samples), measured_at=clock(),
                         loadavg=os.getloadavg()[0])


_MODELS: dict[str, OverheadModel] = {}


def current_model(start_method: Optional[str], max_age: float = MAX_AGE,
                  counts: Sequence[int] = ()) -> OverheadModel:
    """The cached model for this start method, measured again when older than ``max_age``."""
    method = reference_start_method(start_method)
    model = _MODELS.get(method)
    if model is None or clock() - model.measured_at > max_age or counts:
        model = calibrate(method, counts)
        _MODELS[method] = model
    return model


def fresh_model(start_method: Optional[str], n: int = 1) -> OverheadModel:
    """The model measured again at once (a second opinion's), also at ``n`` children."""
    return current_model(start_method, max_age=0.0, counts=(n,) if n > 1 else ())


def main() -> None:
    """``python -m harness.scenarios.overhead [METHOD ...]``: print the model now."""
    import sys

    for method in sys.argv[1:] or multiprocessing.get_all_start_methods():
        model = calibrate(method)
        print(model.describe(), " tolerance(1/4/8/32) = "
              + " / ".join(f"{model.tolerance(n):.3f}" for n in (1, 4, 8, 32))
              + f" s; prompt bound {model.prompt_bound():.3f} s", flush=True)


if __name__ == "__main__":
    main()
