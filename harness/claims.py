"""The claims of ``specs/*.md``: one place that reads them, for tests, plugin and report.

A claim is a level-2 heading ``## TOPIC-NNN: statement`` in a topic file; the text up to
the next such heading is its body (semantics, source, deviations). See specs/README.md.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from harness.kit import SPECS_DIR, TESTS_DIR

_HEADING = re.compile(r"^## (?P<id>[A-Z]+-\d{3}): (?P<statement>.+?)\s*$")
CLAIM_ID = re.compile(r"^[A-Z]+-\d{3}$")


#: The bullets of a claim (specs/README.md), in their order.
BULLETS = ("Asserts", "Applies to", "Not promised", "Source", "Deviations", "Controls")

_BULLET = re.compile(r"^- \*\*(?P<name>[A-Za-z ]+):\*\*(?P<text>.*?)(?=^- \*\*|\Z)",
                     re.S | re.M)
_NAME_IN_TICKS = re.compile(r"`([a-z0-9][a-z0-9.-]*)`")


@dataclass(frozen=True)
class Claim:
    id: str
    topic: str
    """The spec file's stem, e.g. ``lifecycle``."""
    statement: str
    body: str

    @property
    def bullets(self) -> dict[str, str]:
        """Bullet name -> its text, white space folded (``Asserts``, ``Controls``, ...)."""
        return {m.group("name"): " ".join(m.group("text").split())
                for m in _BULLET.finditer(self.body)}

    def bullet(self, name: str) -> str:
        return self.bullets.get(name, "")

    @property
    def controls(self) -> frozenset[str]:
        """The control names the **Controls:** bullet gives (in backticks)."""
        return frozenset(_NAME_IN_TICKS.findall(self.bullet("Controls")))

    @property
    def deviations(self) -> str:
        """The **Deviations:** bullet ('' when it says none are known)."""
        text = self.bullet("Deviations")
        return "" if text.lower().startswith("none known") else text


def parse_spec(path: Path) -> list[Claim]:
    claims: list[Claim] = []
    current: dict[str, str] | None = None
    lines: list[str] = []

    def flush() -> None:
        if current is not None:
            claims.append(Claim(current["id"], path.stem, current["statement"],
                                "\n".join(lines).strip()))

    for line in path.read_text(encoding="utf-8").splitlines():
        match = _HEADING.match(line)
        if match:
            flush()
            current, lines = match.groupdict(), []
        elif line.startswith("## ") or line.startswith("# "):
            flush()
            current, lines = None, []
        elif current is not None:
            lines.append(line)
    flush()
    return claims


@lru_cache(maxsize=None)
def load_claims(specs_dir: Path = SPECS_DIR) -> dict[str, Claim]:
    """Every claim, by ID; raises on a duplicate ID."""
    found: dict[str, Claim] = {}
    for path in sorted(specs_dir.glob("*.md")):
        if path.name == "README.md":
            continue
        for claim in parse_spec(path):
            if claim.id in found:
                raise ValueError(f"claim {claim.id} is defined twice "
                                 f"({found[claim.id].topic}.md and {path.name})")
            found[claim.id] = claim
    return found


def claim_ids_in_test_source(source: str) -> set[str]:
    """Claim IDs named by ``claim(...)`` markers in a test module's source."""
    ids: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name == "claim":
                ids.update(arg.value for arg in node.args
                           if isinstance(arg, ast.Constant) and isinstance(arg.value, str))
    return ids


def claim_ids_in_tests(tests_dir: Path = TESTS_DIR) -> dict[str, set[str]]:
    """For each test module (path relative to the repo), the claim IDs it names."""
    return {str(path.relative_to(tests_dir.parent)): claim_ids_in_test_source(
                path.read_text(encoding="utf-8"))
            for path in sorted(tests_dir.rglob("test_*.py"))}
