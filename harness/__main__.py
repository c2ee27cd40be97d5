"""procspec's command line: ``python -m harness COMMAND [args]``.

``verify [pytest args]``
    verify every claim on this interpreter against every default backend (or those given
    with ``--backend``) and print the claim x backend table. Extra arguments go to pytest,
    e.g. ``-m lifecycle``, ``--backend spawn``, ``--claim LIFE-004``.
``controls [NAME ...] [--json PATH] [--jobs N] [--list]``
    run the suite against each negative control, every claim in scope, and print which
    claims each one breaks by verdict; exit 1 unless every control breaks exactly the
    claims it declares (``--json``: also write them for ``report``).
``report [RESULTS ...]``
    merge results files (e.g. every tox environment's) into the conformance matrix:
    Markdown and one self-contained HTML page, with the controls and the join pictures.
``demo CLAIM-ID [--backend NAME]``
    run one claim's scenario once, verbosely, and explain what it shows (study mode).
``bench [--backend NAME ...] [--json PATH] [pytest args]``
    time ``verify`` (ci profile, ``-n auto``, ``CI=true``) and CPython's own process tests
    (``WithProcessesTestProcess`` under fork, spawn and forkserver) back to back on this
    interpreter; print both times, their ratio and where verify's time went.
``soak [--runs N] [--backend NAME] [--control NAME] [--no-stress]``
    run the join-timing tests repeatedly with every core busy (stress-ng) against the real
    backends and the join controls; print false alarms and detection rates.
``expectations update RESULTS.json ... --into FILE`` / ``expectations check FILE ...``
    write or update an implementation's expectations file from runs' results (unexpected
    verdicts added with the measured message, marked for a human's reason; entries that now
    pass removed; an outcome that varies between runs recorded as such); check files, one
    line per problem (harness/expectations_update.py).

A Python the kit cannot serve (too old, or without its dependencies in working versions)
gets one line and exit status 4. SIGINT and SIGTERM reach every pytest a command started;
it tears down, bounded, and the command exits 128 + the signal's number
(harness/interrupts.py).
"""

from __future__ import annotations

import argparse
import sys
from typing import Optional, Sequence

from harness.kit import TESTS_DIR


def verify(pytest_args: Sequence[str]) -> int:
    from harness import interrupts
    from harness.suite import pytest_command, suite_cwd

    args = [str(TESTS_DIR), "--ignore", str(TESTS_DIR / "meta"), "-n", "auto",
            *pytest_args]
    return interrupts.call(pytest_command(args), cwd=suite_cwd())


def controls(names: Sequence[str], json_path: Optional[str] = None, jobs: int = 2) -> int:
    """Run each control against every claim; exit 1 unless each breaks exactly the claims
    it declares, by verdict, with nothing inconclusive and nothing left running."""
    import json
    from concurrent.futures import ThreadPoolExecutor

    from harness.controls import all_controls
    from harness.suite import check_controls, control_batches

    known = all_controls()
    unknown = [n for n in names if n not in known]
    if unknown:
        print(f"procspec controls: no control named {unknown[0]!r}; "
              "`python -m harness controls --list` lists them", file=sys.stderr)
        return 4
    chosen = list(names) or sorted(known)
    status = 0
    records = []
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        checked = pool.map(check_controls, control_batches(chosen))
        for check in (c for batch in checked for _, c in sorted(batch.items())):
            status |= not check.exact
            print(check.summary(), flush=True)
            records.append({"name": check.name, "defect": check.defect,
                            "breaks": sorted(check.declared), "broken": sorted(check.broken),
                            "missed": check.missing, "extra": check.extra,
                            "inconclusive": list(check.inconclusive),
                            "seconds": round(check.seconds, 1)})
    if json_path:
        with open(json_path, "w", encoding="utf-8") as fh:
            json.dump({"controls": records}, fh, indent=1)
    return status


def main(argv: Optional[Sequence[str]] = None) -> int:
    from harness.plugin.requirements import usage_problem

    problem = usage_problem()
    if problem:  # before any subcommand imports what it lacks: one line, no traceback
        print(problem, file=sys.stderr)
        return 4
    from harness import interrupts

    interrupts.install()
    return interrupts.exit_status(_run(argv))


def _run(argv: Optional[Sequence[str]]) -> int:
    parser = argparse.ArgumentParser(prog="python -m harness", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("verify", help="verify every claim; extra args go to pytest",
                   add_help=False)
    ctl = sub.add_parser("controls", help="run the suite against each negative control: "
                         "it must break exactly the claims it declares, by verdict")
    ctl.add_argument("names", nargs="*")
    ctl.add_argument("--list", action="store_true", help="list the controls and exit")
    ctl.add_argument("--jobs", type=int, default=2, metavar="N",
                     help="controls run at the same time (default 2)")
    ctl.add_argument("--json", dest="json_path", metavar="PATH",
                     help="also write the results as JSON (for `report`)")
    sub.add_parser("report", help="merge results into the conformance matrix (MD + HTML)",
                   add_help=False)
    sub.add_parser("demo", help="run one claim's scenario once, verbosely (study mode)",
                   add_help=False)
    sub.add_parser("soak", help="join claims repeatedly under load: false alarms and "
                   "control detection (--runs N)", add_help=False)
    sub.add_parser("bench", help="time verify against CPython's own process tests "
                   "(ratio, per-topic breakdown)", add_help=False)
    sub.add_parser("expectations", help="update an expectations file from results "
                   "(update RESULTS... --into FILE); check files (check FILE...)",
                   add_help=False)
    args, rest = parser.parse_known_args(argv)
    if args.command == "bench":
        from harness.bench import main as bench_main

        return bench_main(rest)
    if args.command == "verify":
        return verify(rest)
    if args.command == "report":
        from harness.report import main as report_main

        return report_main(rest)
    if args.command == "demo":
        from harness.demo import main as demo_main

        return demo_main(rest)
    if args.command == "expectations":
        from harness.expectations_update import main as expectations_main

        return expectations_main(rest)
    if args.command == "soak":
        from harness.soak import main as soak_main

        return soak_main(rest)
    if rest:
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    if args.list:
        from harness.controls import all_controls

        for name, control in sorted(all_controls().items()):
            print(f"{name:28} breaks {', '.join(sorted(control.breaks))}: {control.defect}")
        return 0
    return controls(args.names, args.json_path, args.jobs)


if __name__ == "__main__":
    sys.exit(main())
