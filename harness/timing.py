"""The join-timing rules (specs/join-timing.md): pure functions of records and a model.

Nothing here runs a process: the overhead model is measured beside the scenarios
(:mod:`harness.scenarios.overhead`), the tests run the scenarios, and these rules judge
what came back.

**Decision rule (max versus sum)** for N children sleeping ``d_i``, started one after
another and then joined, ``T`` from just before the first ``start()`` to the end of the
child that ended last (its own stamp: ``JoinRun.work_total``; ``join()``'s return latency
is JOIN-003's business, and the model, measured to ``join()``'s return, covers it with room
to spare), ``M = max d_i``, ``S = sum d_i``:

- hard lower bound: ``T >= M`` (physics; no tolerance);
- the example *discriminates* when ``S - M > tolerance(N)`` (``OverheadModel.tolerance``):
  an implementation that runs the children one after another needs ``T >= S`` (hard), so
  it must fail the upper bound ``T <= M + tolerance(N)``, which is asserted on such
  examples; otherwise the example cannot tell max from sum and only the hard bound is
  checked.

**Second opinion.** A judgement is *soft* when only a calibrated (or noise-allowing) bound
failed. Then, and only then, a second opinion is due: the test measures the model afresh
(also at the example's N) and runs the example once more; the claim fails only if the
second run fails too (:func:`settle`). One-after-another execution fails both runs by
physics; noise must strike twice. Every settled opinion is logged
(``PROCSPEC_TIMING_LOG``) so the soak counts how often a second one was needed.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, replace
from typing import Any, Generic, Optional, Sequence, TypeVar

from harness.scenarios.overhead import OverheadModel

#: join(timeout) on a running child returns by timeout + TIMEOUT_SLACK + TIMEOUT_FACTOR *
#: timeout: a timed wait wakes late only by scheduling delay (measured: 0-4 ms idle).
TIMEOUT_SLACK = 0.10
TIMEOUT_FACTOR = 0.25

#: join(0) returns within this many seconds (it must not wait at all; this is noise room).
NONBLOCKING_BOUND = 0.10


# --- max versus sum ----------------------------------------------------------------------

@dataclass(frozen=True)
class Concurrency:
    """The max-versus-sum judgement of one run."""

    n: int
    total: float
    longest: float
    sum: float
    tolerance: float
    model: str

    @property
    def lower_ok(self) -> bool:
        """Hard: the run cannot be shorter than its longest child."""
        return self.total >= self.longest

    @property
    def upper_ok(self) -> bool:
        return self.total <= self.longest + self.tolerance

    @property
    def discriminating(self) -> bool:
        """A one-after-another implementation (T >= sum) would fail this example."""
        return self.sum - self.longest > self.tolerance

    @property
    def margin(self) -> float:
        """How far sum exceeds max + tolerance (> 0: the example discriminates)."""
        return self.sum - self.longest - self.tolerance

    @property
    def ok(self) -> bool:
        """The rule: the hard bound always; the calibrated one when the example
        discriminates (otherwise it cannot tell max from sum, and asserts nothing more)."""
        return self.lower_ok and (self.upper_ok or not self.discriminating)

    @property
    def soft_failure(self) -> bool:
        """Only the calibrated bound failed: worth a second opinion."""
        return self.lower_ok and not self.ok


def judge_concurrency(durations: Sequence[float], total: float,
                      model: OverheadModel) -> Concurrency:
    n = len(durations)
    return Concurrency(n=n, total=total, longest=max(durations), sum=float(sum(durations)),
                       tolerance=model.tolerance(n), model=model.describe())


def timeout_bound(timeout: float) -> float:
    """The latest a ``join(timeout)`` on a running child may return (asymmetric)."""
    return timeout + TIMEOUT_SLACK + TIMEOUT_FACTOR * timeout


# --- second opinions ---------------------------------------------------------------------

R = TypeVar("R")


@dataclass(frozen=True)
class Judged(Generic[R]):
    """One run's record, the model its bounds came from, and the test's judgement of it."""

    record: R
    model: Optional[OverheadModel]
    """None for fixed, uncalibrated bounds."""
    ok: bool
    soft: bool
    """Only a calibrated (or noise-allowing) bound failed; hard bounds are never soft."""


def second_opinion_due(first: Judged[Any]) -> bool:
    """A second run is due exactly when the first failed softly."""
    return not first.ok and first.soft


@dataclass(frozen=True)
class Opinion(Generic[R]):
    """The judgement that stands, and whether it took a second run to reach."""

    record: R
    model: Optional[OverheadModel]
    """The model the standing judgement used."""
    ok: bool
    attempts: int
    first: Optional[Judged[R]] = None
    """The first run, when a second opinion was taken."""


def settle(first: Judged[R], second: Optional[Judged[R]] = None) -> Opinion[R]:
    """Combine the judgements: the first stands unless a second opinion was due, and then
    the second stands (the claim fails only when both runs failed)."""
    if second_opinion_due(first) != (second is not None):
        raise ValueError("a second opinion is taken exactly when one is due "
                         f"(first: ok={first.ok}, soft={first.soft})")
    if second is None:
        return Opinion(first.record, first.model, first.ok, 1)
    return Opinion(second.record, second.model, second.ok, 2, first=first)


def log_entry(claim_id: str, backend_name: str, opinion: Opinion[Any]) -> dict[str, Any]:
    """The line the soak counts second opinions from."""
    model = opinion.model
    entry: dict[str, Any] = {
        "claim": claim_id, "backend": backend_name, "ok": opinion.ok,
        "attempts": opinion.attempts,
        "model": None if model is None else asdict(replace(model, samples=())),
        "pid": os.getpid()}
    first_model = None if opinion.first is None else opinion.first.model
    if first_model is not None:
        entry["first_model"] = asdict(replace(first_model, samples=()))
    return entry


def log(claim_id: str, backend_name: str, opinion: Opinion[Any]) -> None:
    """Append the opinion to ``PROCSPEC_TIMING_LOG``, if set."""
    path = os.environ.get("PROCSPEC_TIMING_LOG")
    if path:
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(log_entry(claim_id, backend_name, opinion)) + "\n")
