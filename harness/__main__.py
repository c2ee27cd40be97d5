"""procspec's command line: ``python -m harness COMMAND [args]``.

``verify [pytest args]``
    verify every claim on this interpreter against every default backend (or those given
    with ``--backend``) and print the claim x backend table. Extra arguments go to pytest,
    e.g. ``-m lifecycle``, ``--backend spawn``, ``--claim LIFE-004``.
``controls [NAME ...]``
    run the suite against each negative control and print which claims each one breaks.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from typing import Optional, Sequence

from harness.claims import REPO_ROOT, TESTS_DIR


def verify(pytest_args: Sequence[str]) -> int:
    from harness.suite import pytest_command

    if not TESTS_DIR.is_dir():
        print(f"procspec: no tests at {TESTS_DIR}; run from a checkout of the repository",
              file=sys.stderr)
        return 2
    args = [str(TESTS_DIR), "--ignore", str(TESTS_DIR / "meta"), "-n", "auto",
            *pytest_args]
    return subprocess.call(pytest_command(args), cwd=REPO_ROOT)


def controls(names: Sequence[str]) -> int:
    from harness.controls import all_controls
    from harness.suite import run_suite

    known = all_controls()
    chosen = list(names) or sorted(known)
    status = 0
    for name in chosen:
        control = known[name]
        run = run_suite(control.pytest_args, claims=sorted(control.breaks))
        broken = run.broken_claims()
        missed = sorted(control.breaks - broken)
        status |= bool(missed)
        verdict = "caught" if not missed else f"MISSED {', '.join(missed)}"
        print(f"{name:28} {verdict:10} breaks {', '.join(sorted(broken)) or '-'}"
              f"   ({control.defect})", flush=True)
    return status


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m harness", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("verify", help="verify every claim; extra args go to pytest",
                   add_help=False)
    ctl = sub.add_parser("controls", help="run the suite against the negative controls")
    ctl.add_argument("names", nargs="*")
    args, rest = parser.parse_known_args(argv)
    if args.command == "verify":
        return verify(rest)
    if rest:
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    return controls(args.names)


if __name__ == "__main__":
    sys.exit(main())
