"""The report's model: one matrix of claims x (implementation/start method) x Python,
aggregated from many runs' results files, with the deviations seen in it."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

from harness import outcomes
from harness.claims import Claim, load_claims
from harness.results import RunResult

#: The standard library first, then the others alphabetically; start methods in this order.
_METHOD_ORDER = {"fork": 0, "spawn": 1, "forkserver": 2}


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
        ``inconclusive``, ``xfail``, ``unjudged`` (tests that judged no example), ``partial``
        (some tests skipped), ``skip``, ``pass``."""
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


def claim_order(matrix: Matrix) -> list[str]:
    seen = {key[0] for key in matrix.cells}
    ordered = [cid for cid in matrix.claims if cid in seen]
    return ordered + sorted(seen - set(ordered))


def across_pythons(matrix: Matrix, cid: str, column: Column) -> str:
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
