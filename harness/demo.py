"""``python -m harness demo CLAIM-ID [--backend NAME]``: study one claim.

Prints the claim (statement, what it asserts, what it does not promise, its source), then
runs its scenario once on one backend and explains what was seen (the demos live in
``harness/demos/<topic>.py``, registered by claim ID or topic prefix). A claim without a
demo falls back to running its own tests once, verbosely, on that backend. Then it says
which expectation (known deviation), if any, applies to that backend.
"""

from __future__ import annotations

import argparse
import sys
from typing import Optional, Sequence

from harness import interrupts
from harness.claims import Claim, load_claims
from harness.kit import TESTS_DIR
from harness.suite import pytest_command, suite_cwd


def describe_claim(claim: Claim) -> str:
    lines = [f"{claim.id}: {claim.statement}   (specs/{claim.topic}.md)"]
    for name in ("Asserts", "Applies to", "Not promised", "Source", "Deviations"):
        text = claim.bullet(name)
        if text:
            lines.append(f"  {name}: {text}")
    return "\n".join(lines)


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m harness demo", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("claim", help="a claim ID, e.g. LIFE-013 (or 'list')")
    parser.add_argument("--backend", default=None,
                        help="implementation to run it on (default: fork where available)")
    args = parser.parse_args(argv)
    from harness.backends import default_backend_names, resolve
    from harness.demos import all_demos, find_demo

    claims = load_claims()
    if args.claim == "list":
        demos = all_demos()
        for cid, claim in claims.items():
            has = "demo" if (cid in demos or cid.split("-")[0] in demos) else "tests"
            print(f"{cid:9} {has:6} {claim.statement}")
        return 0
    found = claims.get(args.claim.upper())
    if found is None:
        print(f"procspec demo: no claim {args.claim!r}; `python -m harness demo list` lists "
              "them", file=sys.stderr)
        return 2
    claim = found
    backend_name = args.backend or default_backend_names()[0]
    backend = resolve(backend_name)
    print(describe_claim(claim))
    print(f"\n== running it once on {backend_name} (start method "
          f"{backend.start_method or '?'})\n", flush=True)
    demo = find_demo(claim.id)
    status = 0
    if demo is not None:
        demo(backend, lambda text: print(text, flush=True))
    else:
        print("(no demo registered for this claim: running its tests once, verbosely)")
        cmd = pytest_command([str(TESTS_DIR), "--ignore", str(TESTS_DIR / "meta"), "-v",
                              "-n", "0", "--hypothesis-profile", "ci",
                              "--hypothesis-show-statistics", "--backend", backend_name,
                              "--claim", claim.id])
        status = interrupts.call(cmd, cwd=suite_cwd())
    _say_expectation(claim.id, backend_name)
    return status


def _say_expectation(claim_id: str, backend_name: str) -> None:
    from harness.expectations import describe, load

    subject = describe(backend_name)
    known = [e for e in load() if e.claim == claim_id
             and e.implementation == subject.implementation
             and (not e.start_methods or subject.start_method in e.start_methods)]
    print()
    if known:
        for e in known:
            print(f"Known deviation of {e.implementation} ({subject.version}): {e.reason}")
    else:
        print(f"No known deviation of {subject.label} from {claim_id}: the claim should "
              "hold here (the suite checks it with many inputs: python -m harness verify "
              f"--claim {claim_id} --backend {backend_name!r}).")
