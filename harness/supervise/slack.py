"""How long a scenario waits for its subject: the slack per kind of call, shortened once a
call of that kind was given up (:mod:`harness.patience`), and carried to the programs a
scenario runs, so that their waits are as short as the scenario's own.
"""

from __future__ import annotations

import json
import os

from harness import limits, patience

#: The behaviours a slack is about: ``join`` (returns once its child has ended), ``start``
#: (returns once its child runs), ``report`` (a child no process stands for posts at once),
#: ``exit`` (a program exits once its child has ended).
SLACK_KINDS = ("join", "start", "report", "exit")


def slack_for(subject: str, kind: str) -> float:
    """The slack for a ``kind`` call of ``subject``: limits.RETURN_SLACK, or limits.SHORT_SLACK
    once such a call of the subject has been given up (it has shown what it does: see
    :func:`gave_up`). A claim that owns "the call returns" passes its own slack."""
    # A program that does not exit after its child ended is stuck in its exit handler's
    # join(): a subject whose join() was seen to hang gets the short slack there too.
    kinds = (kind, "join") if kind == "exit" else (kind,)
    if not any(patience.known(subject, k) or patience.known(subject, late(k)) for k in kinds):
        return limits.RETURN_SLACK
    return limits.SHORT_SLACK


def late(kind: str) -> str:
    """The patience kind of a ``kind`` call given up after its slack (not its grace)."""
    return f"{kind}{patience.LATE}"


def gave_up(subject: str, kind: str, why: str) -> None:
    """Record (harness.patience) that a ``kind`` call of ``subject`` was given up after its
    slack. Its own kind (:func:`late`): a call still out a few milliseconds after its child
    ended is no hang, so it must not cut the grace of a ``kind`` wait for a child that still
    runs to :data:`harness.patience.KNOWN_GRACE` (measured: join tests give join() 0.02 s
    after the child's end; under load one was late, and LIFE-010's later join() of a child
    that had yet to end got 0.25 s: a false verdict, exitcode None), nor any other wait
    for the subject to :data:`harness.patience.SHORT_GRACE` (measured in the controls
    proof under load: after one late join(), 24 spawn handlers at once got 2 s to answer,
    and ECHO-005 failed on a control that does not declare it)."""
    patience.expired(subject, why, late(kind), whole_subject=False)


def figures(subject: str) -> dict[str, str]:
    """Figures for a violation message: why this subject's waits were short, if they were."""
    note = patience.note(subject)
    return {"patience": note} if note else {}


#: A scenario that runs a program of its own (harness.child.early_main,
#: harness.child.isolation_main)
#: passes its subject's patience on through this variable: the program's waits are then as
#: short as the scenario's own.
PATIENCE_ENV = "PROCSPEC_EXPIRED"


def patience_env(subject: str) -> dict[str, str]:
    """The environment for a program run for ``subject`` (this one's, plus its patience)."""
    env = dict(os.environ)
    keys = [subject] + [f"{subject}:{k}" for kind in SLACK_KINDS for k in (kind, late(kind))]
    notes = {key: patience.note(key) for key in keys if patience.known(key)}
    kept = {key[len(subject):]: note or "expired" for key, note in notes.items()}
    if kept:
        env[PATIENCE_ENV] = json.dumps(kept)
    else:
        env.pop(PATIENCE_ENV, None)
    return env


def inherit_patience(subject: str) -> None:
    """In such a program: take over the scenario's patience for ``subject``."""
    try:
        notes = json.loads(os.environ.get(PATIENCE_ENV) or "{}")
    except ValueError:
        return
    for suffix, note in notes.items():
        patience.expired(subject + suffix, f"in the test process: {note}")
