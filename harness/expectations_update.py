"""The expectations loop: ``procspec-kit expectations update|check``.

``update RESULTS.json ... --into FILE [--implementation NAME]`` writes or updates one
implementation's expectations file (the format of :mod:`harness.expectation_rules`) from
one or more runs' results (``--results-json``), as web-platform-tests' ``wpt
update-expectations`` writes metadata from a run's logs:

- a verdict no entry expected becomes an entry: the claim, the measured message as its
  reason, ``"needs_review": true`` (a human writes why), and the start methods (or the
  interpreter) it is limited to when the runs show it only there;
- an entry whose tests all pass now (``xpassed``) is removed;
- a claim that failed in some runs and passed in others (or failed in a way Hypothesis
  could not replay: ``flaky``) is recorded as such: ``"outcomes": ["fail", "pass"]``, the
  evidence (how many runs showed what), and the measured version, so that it does not
  match everything;
- entries of other implementations are never touched (the file holds one; results of
  other subjects are left out), nor are entries no test of the results matched.

``check FILE ...`` prints one line per problem of each file (unknown keys or claims, an
entry that may fail or pass without evidence or narrowing, a reason still awaiting a
human) and exits 1 when there is any.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional, Sequence

from harness import outcomes as kinds
from harness.expectation_rules import FAIL, FLAKY, PASS, file_problems
from harness.expectations import Expectation, Subject, parse
from harness.results import RunResult, read_many

#: What a test's outcome kind says about its claim, for the file (skips, unjudged and
#: other inconclusive results say nothing).
_SAYS = {kinds.PASSED: PASS, kinds.XPASSED: PASS, kinds.VERDICT: FAIL, kinds.XFAILED: FAIL}

#: Hypothesis's words for a subject that behaved differently on replay.
_FLAKY_WORDS = ("did not on a subsequent one", "FlakyStrategyDefinition", "FlakyFailure",
                "Flaky:")


@dataclass
class Seen:
    """What the runs showed for one claim on one subject (start method, interpreter)."""

    claim: str
    subject: Subject
    python: str
    said: list[str] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)
    runs: set[str] = field(default_factory=set)


def violation_text(message: str, claim: str) -> str:
    """The measured part of a failure's text: ``CLAIM does not hold ... expected ...;
    measured ...`` (pytest's ``E`` prefixes dropped), else its last line."""
    lines = [re.sub(r"^E\s{1,3}", "", line) for line in message.splitlines()]
    text = "\n".join(lines)
    found = re.search(rf"{re.escape(claim)} does not hold: .*?\n\s*expected: (.*?)\n\s*"
                      r"measured: (.*?)(?:\n|$)", text)
    if found:
        return f"measured: {found.group(2).strip()} (expected: {found.group(1).strip()})"[:400]
    last = [line.strip() for line in lines if line.strip()]
    return (last[-1] if last else "failed")[:400]


def _said(test: dict[str, Any], claim: str) -> Optional[str]:
    outcome = test.get("outcome")
    if outcome == kinds.VERDICT and claim not in test.get("verdict_claims", [claim]):
        return None
    if outcome == kinds.INCONCLUSIVE:
        message = str(test.get("message", ""))
        return FLAKY if any(word in message for word in _FLAKY_WORDS) else None
    return _SAYS.get(str(outcome))


def observations(runs: Sequence[RunResult], implementation: str) -> tuple[list[Seen], list[str]]:
    """Per claim and subject of ``implementation``: what the runs showed; and the tests
    that were inconclusive some other way (said nothing: to look at)."""
    seen: dict[tuple[str, str, str, str], Seen] = {}
    unclear: list[str] = []
    for run in runs:
        for test in run.tests:
            info = run.subject(str(test.get("subject", "-")))
            if info.get("implementation") != implementation:
                continue
            subject = Subject(info.get("name", test["subject"]), implementation,
                              info.get("version"), info.get("start_method"),
                              info.get("interpreter") or run.run.get("implementation")
                              or "CPython")
            for claim in test.get("claims", []):
                said = _said(test, claim)
                if said is None:
                    if test.get("outcome") == kinds.INCONCLUSIVE:
                        unclear.append(f"{test['nodeid']} ({run.path})")
                    continue
                key = (claim, subject.start_method or "", subject.interpreter, run.python)
                entry = seen.setdefault(key, Seen(claim, subject, run.python))
                entry.said.append(said)
                entry.runs.add(run.path)
                if said != PASS and test.get("message"):
                    entry.messages.append(violation_text(str(test["message"]), claim))
    return list(seen.values()), unclear


def _matches(entry: Expectation, seen: Seen) -> bool:
    return entry.matches(seen.subject, [seen.claim], "*", seen.python) or (
        entry.test != "*" and entry.claim == seen.claim and entry.matches(
            seen.subject, [seen.claim], entry.test, seen.python))


@dataclass
class Update:
    data: dict[str, Any]
    said: list[str] = field(default_factory=list)


def update(data: dict[str, Any], runs: Sequence[RunResult], source: str = "<file>") -> Update:
    """``data`` (one implementation's file) updated from ``runs``; what changed, in words."""
    implementation = data["implementation"]
    entries: list[dict[str, Any]] = list(data.get("expectations", []))
    parsed = parse({"implementation": implementation, "expectations": entries}, source)
    seen, unclear = observations(runs, implementation)
    result = Update(data)
    matched: dict[int, list[Seen]] = defaultdict(list)
    unexpected: dict[str, list[Seen]] = defaultdict(list)
    for obs in seen:
        hits = [i for i, entry in enumerate(parsed) if _matches(entry, obs)]
        if hits:
            matched[hits[0]].append(obs)
        elif set(obs.said) - {PASS}:
            unexpected[obs.claim].append(obs)
    drop: set[int] = set()
    for i, group in sorted(matched.items()):
        said = {s for obs in group for s in obs.said}
        entry = entries[i]
        if said == {PASS}:
            drop.add(i)
            result.said.append(f"removed {entry['claim']}: every test passed "
                               f"({sum(len(o.said) for o in group)} results)")
        elif len(said) > 1 and not said <= set(entry.get("outcomes", [FAIL])):
            entry["outcomes"] = [o for o in (FAIL, PASS, FLAKY) if o in said]
            entry["evidence"] = _evidence(group)
            entry.setdefault("version", _version(group))
            entry["needs_review"] = True
            result.said.append(f"{entry['claim']} varies between runs: outcomes "
                               f"{entry['outcomes']} ({entry['evidence']})")
    kept = [e for i, e in enumerate(entries) if i not in drop]
    for claim in sorted(unexpected):
        added = _new_entry(claim, unexpected[claim], seen)
        kept.append(added)
        result.said.append(f"added {claim}{_where(added)}: {added['reason']}")
    for nodeid in sorted(set(unclear)):
        result.said.append(f"not recorded, inconclusive (look at it): {nodeid}")
    data["expectations"] = kept
    return result


def _version(group: Sequence[Seen]) -> str:
    versions = sorted({obs.subject.version for obs in group if obs.subject.version})
    return versions[0] if len(versions) == 1 else "*"


def _evidence(group: Sequence[Seen]) -> str:
    counts: dict[str, int] = defaultdict(int)
    for obs in group:
        for said in obs.said:
            counts[said] += 1
    runs = sorted({run for obs in group for run in obs.runs})
    shown = ", ".join(f"{counts[o]} {o}" for o in (FAIL, PASS, FLAKY) if counts[o])
    pythons = sorted({obs.python for obs in group})
    return (f"procspec-kit expectations update: {shown} over {len(runs)} run(s) "
            f"on Python {', '.join(pythons)} ({', '.join(Path(r).name for r in runs)})")


def _new_entry(claim: str, group: list[Seen], every: list[Seen]) -> dict[str, Any]:
    """An entry for an unexpected verdict, limited to where the runs show it."""
    said = {s for obs in group for s in obs.said}
    message = next((m for obs in group for m in obs.messages), "failed")
    entry: dict[str, Any] = {"claim": claim, "reason": message, "needs_review": True}
    others = [obs for obs in every if obs.claim == claim and obs not in group]
    methods = sorted({obs.subject.start_method for obs in group if obs.subject.start_method})
    if others and methods and not {o.subject.start_method for o in others} & set(methods):
        entry["start_methods"] = methods
    interpreters = sorted({obs.subject.interpreter for obs in group})
    if others and not {o.subject.interpreter for o in others} & set(interpreters):
        entry["interpreter"] = interpreters
    if len(said) > 1:
        entry["outcomes"] = [o for o in (FAIL, PASS, FLAKY) if o in said]
        entry["evidence"] = _evidence(group)
        entry["version"] = _version(group)
    return entry


def _where(entry: dict[str, Any]) -> str:
    parts = [f"{key} {entry[key]}" for key in ("start_methods", "interpreter", "outcomes")
             if key in entry]
    return f" ({'; '.join(parts)})" if parts else ""


def _implementation(runs: Sequence[RunResult]) -> list[str]:
    found = set()
    for run in runs:
        for test in run.tests:
            found.add(run.subject(str(test.get("subject", "-"))).get("implementation"))
    return sorted(str(f) for f in found if f and f != "control")


def run_update(paths: Sequence[str], into: str, implementation: Optional[str]) -> int:
    runs = read_many(paths)
    if not runs:
        print("procspec expectations update: no results read", file=sys.stderr)
        return 4
    target = Path(into)
    text = target.read_text(encoding="utf-8") if target.exists() else ""
    data: dict[str, Any] = json.loads(text) if text.strip() else {}
    if not isinstance(data, dict):
        print(f"procspec expectations update: {into}: not a JSON object", file=sys.stderr)
        return 4
    name = data.get("implementation") or implementation
    if not name:
        found = _implementation(runs)
        if len(found) != 1:
            print("procspec expectations update: name the implementation "
                  f"(--implementation): the results hold {found or 'none'}", file=sys.stderr)
            return 4
        name = found[0]
    if implementation and implementation != name:
        print(f"procspec expectations update: {into} is {name!r}'s file, not "
              f"{implementation!r}'s", file=sys.stderr)
        return 4
    data = {"implementation": name, **{k: v for k, v in data.items() if k != "implementation"}}
    data.setdefault("expectations", [])
    try:
        done = update(data, runs, into)
    except ValueError as exc:
        print(f"procspec expectations update: {exc}", file=sys.stderr)
        return 4
    target.write_text(dump(done.data), encoding="utf-8")
    for line in done.said or ["nothing to change"]:
        print(f"{into}: {line}")
    return 0


def dump(data: dict[str, Any]) -> str:
    """The file's text: one line per entry, as the shipped files are written."""
    head = {k: v for k, v in data.items() if k != "expectations"}
    lines = ["{"] + [f" {json.dumps(k)}: {json.dumps(v, ensure_ascii=False)}," for k, v in
                     head.items()]
    entries = [f"  {json.dumps(e, ensure_ascii=False)}" for e in data.get("expectations", [])]
    lines.append(' "expectations": [' + ("\n" + ",\n".join(entries) + "\n ]" if entries
                                         else "]"))
    return "\n".join(lines) + "\n}\n"


def run_check(paths: Sequence[str]) -> int:
    from harness.claims import load_claims

    known = set(load_claims())
    status = 0
    for name in paths:
        problems = file_problems(Path(name), known)
        for line in problems:
            print(line)
        if not problems:
            count = len(json.loads(Path(name).read_text(encoding="utf-8"))
                        .get("expectations", []))
            print(f"{name}: {count} entries, no problems")
        status |= bool(problems)
    return status


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(prog="procspec-kit expectations", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="action", required=True)
    up = sub.add_parser("update", help="write or update FILE from results files")
    up.add_argument("results", nargs="+", metavar="RESULTS.json")
    up.add_argument("--into", required=True, metavar="FILE")
    up.add_argument("--implementation", metavar="NAME",
                    help="the implementation a new FILE is for (default: the only one the "
                         "results hold)")
    check = sub.add_parser("check", help="one line per problem of each FILE")
    check.add_argument("files", nargs="+", metavar="FILE")
    args = parser.parse_args(list(argv))
    if args.action == "update":
        return run_update(args.results, args.into, args.implementation)
    return run_check(args.files)
