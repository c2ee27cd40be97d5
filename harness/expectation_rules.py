"""The rules of an expectations file (specs/expectations/*.json, a user's ``--expectations``
file): which keys an entry may have, which outcomes it may list, and what an entry that may
fail or pass must also say. :func:`entry_problems` names what is wrong with one entry,
:func:`file_problems` with a whole file, one line each (``procspec-kit expectations
check``); :mod:`harness.expectations` refuses a file with any.

One JSON file per implementation, named after it (``billiard.json``; the standard library
is ``multiprocessing.json``)::

    {
      "implementation": "billiard",
      "expectations": [
        {"claim": "LIFE-013",
         "reason": "billiard's bootstrap maps a SystemExit without args to 1",
         "version": "4.3.*",            # optional: fnmatch on the implementation's version
         "start_methods": ["forkserver"],  # optional: only under these start methods
         "python": ["3.12", "3.13"],    # optional: Python version prefixes
         "interpreter": ["PyPy"],       # optional: platform.python_implementation() values
         "test": "test_kill_*",         # optional: fnmatch on the test function's name
         "optimize": true,              # optional: only under python -O/-OO (true), or
                                        # only without (false): sys.flags.optimize
         "outcomes": ["fail"],          # optional: what it may show ("fail", "pass")
         "evidence": "...",             # the runs measured (required with fail and pass)
         "bug": "https://...",          # optional: the implementation's issue
         "needs_review": true}          # written by `expectations update`: the reason is
      ],                                # the measured message until a human writes one
      "reading": "..."                  # optional: a paragraph the report prints for it
    }

An outcome that varies between runs lists each outcome seen, as web-platform-tests'
``expected`` plus ``known_intermittent`` do: ``"outcomes": ["fail", "pass"]``, and
``"flaky"`` when Hypothesis itself saw the subject behave differently on replay. Such an
entry can never turn red by its claim's verdict, so it must carry ``evidence`` (the runs
that showed them) or a ``bug``, and it must not match everything: at least one condition
(``version`` other than ``*``, ``start_methods``, ``python``, ``interpreter`` or
``test``) narrows it to where it was measured, so that a new version or Python is held to
the claim again. A ``fail``-only entry is a strict expected failure, and a failure that
did not recur stays inconclusive under it. Skips and unjudged results are shown as they
are under any entry (nothing was judged: never a pass, never red). :func:`file_problems`
lists what is wrong with a file, one line each (``procspec-kit expectations check``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Optional

_KEYS = {"claim", "reason", "version", "start_methods", "python", "interpreter", "test",
         "optimize", "outcomes", "evidence", "bug", "needs_review"}

#: The outcomes an entry may list: ``fail`` (the claim's own verdict), ``pass``, and
#: ``flaky``: Hypothesis found that the subject does not behave the same way twice (a
#: failure of the claim's verdict that did not recur on replay, or draws it could not
#: replay because the subject answered differently: its ``Flaky`` errors). Anything else
#: that fails a test (a timeout, a crash, a leak, a failure without the claim's verdict)
#: stays inconclusive and red under every entry.
FAIL, PASS, FLAKY = "fail", "pass", "flaky"
OUTCOMES = (FAIL, PASS, FLAKY)

#: The conditions that narrow an entry (one that may pass needs at least one).
_CONDITIONS = ("start_methods", "python", "interpreter")


def entry_problems(entry: Any) -> list[str]:
    """What is wrong with one entry of a file (empty: nothing)."""
    if not isinstance(entry, dict):
        return ["not a JSON object"]
    found = []
    unknown = set(entry) - _KEYS
    if "intermittent" in unknown:
        found.append("'intermittent' is gone: list the outcomes it shows, "
                     "\"outcomes\": [\"fail\", \"pass\"], with \"evidence\"")
        unknown.discard("intermittent")
    if unknown:
        found.append(f"unknown keys {sorted(unknown)} (known: {', '.join(sorted(_KEYS))})")
    for key in ("claim", "reason"):
        if not isinstance(entry.get(key), str) or not entry[key].strip():
            found.append(f"'{key}' is required (a non-empty string)")
    for key in ("version", "test", "evidence", "bug"):
        if key in entry and not isinstance(entry[key], str):
            found.append(f"'{key}' must be a string")
    for key in (*_CONDITIONS, "outcomes"):
        if key in entry and not (isinstance(entry[key], list) and entry[key]
                                 and all(isinstance(v, str) for v in entry[key])):
            found.append(f"'{key}' must be a non-empty list of strings")
    outcomes = entry.get("outcomes", [FAIL])
    if isinstance(outcomes, list):
        odd = [o for o in outcomes if o not in OUTCOMES]
        if odd:
            found.append(f"'outcomes': {odd} are not outcomes (use {', '.join(OUTCOMES)})")
        elif FAIL not in outcomes:
            found.append("'outcomes' without \"fail\" records no deviation: remove the entry")
        elif PASS in outcomes or FLAKY in outcomes:
            if not (str(entry.get("evidence", "")).strip() or str(entry.get("bug", "")).strip()):
                found.append("may fail or pass: give the runs that showed it "
                             "('evidence') or the implementation's 'bug'")
            if entry.get("version", "*") == "*" and entry.get("test", "*") == "*" and \
                    not any(entry.get(key) for key in _CONDITIONS):
                found.append("may fail or pass and matches everything: narrow it to where it "
                             "was measured (version, start_methods, python, interpreter or "
                             "test), so that elsewhere the claim is judged again")
    for key in ("needs_review", "optimize"):
        if key in entry and not isinstance(entry[key], bool):
            found.append(f"'{key}' must be true or false")
    return found


def file_problems(path: Path, known_claims: Optional[set[str]] = None) -> list[str]:
    """One line per problem of the file at ``path`` (``FILE: ...``); empty when it is
    fine. ``known_claims``: the claims an entry may name (None: any). An entry whose reason
    is still the measured message (``needs_review``) is a problem too: a human has to say
    why the implementation deviates."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return [f"{path}: cannot be read as JSON: {' '.join(str(exc).split())}"]
    if not isinstance(data, dict):
        return [f"{path}: not a JSON object like specs/expectations/*.json"]
    found = []
    implementation = data.get("implementation")
    if not isinstance(implementation, str) or not implementation:
        found.append(f"{path}: needs a non-empty 'implementation'")
    entries = data.get("expectations", [])
    if not isinstance(entries, list):
        return found + [f"{path}: 'expectations' must be a list"]
    seen: dict[str, int] = {}
    for i, entry in enumerate(entries):
        claim = entry.get("claim") if isinstance(entry, dict) else None
        where = f"{path}: expectations[{i}]" + (f" ({claim})" if claim else "")
        found += [f"{where}: {problem}" for problem in entry_problems(entry)]
        if known_claims is not None and isinstance(claim, str) and claim \
                and claim not in known_claims:
            found.append(f"{where}: claim {claim!r} is not in specs/")
        if isinstance(entry, dict) and entry.get("needs_review"):
            found.append(f"{where}: the reason is the measured message: write why "
                         "(then drop \"needs_review\")")
        if isinstance(entry, dict):
            key = json.dumps({k: v for k, v in entry.items()
                              if k not in ("reason", "evidence", "bug", "needs_review")},
                             sort_keys=True)
            if key in seen:
                found.append(f"{where}: the same claim and conditions as "
                             f"expectations[{seen[key]}]: only the first can ever match")
            seen.setdefault(key, i)
    return found
