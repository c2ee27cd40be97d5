"""Graces that a subject pays once per run: after a wait for it has expired, the verdict is
known.

Every wait the harness makes has a grace (``harness.limits``, ``harness.echo``): long
enough that a healthy implementation under load never meets it, so it decides *hung or
not*, never *fast or not*. A faulty implementation meets it, and every later test, example
and Hypothesis replay would pay it again (issue 20 measured 386 s for a run whose healthy
twin took 15 s: 325 s of it one test's replays). So a grace is paid in full once per
subject (a backend name, a server command) and *run*:

- once any wait for a subject has expired, its later waits get at most
  :data:`SHORT_GRACE` (a subject that hung one way may still be healthy in other ways:
  this short grace is still far above what a healthy wait needs);
- once a wait of one *kind* (``start``, ``sign-of-life``, ``end``, ...: the key
  ``"subject:kind"``) has expired, later waits of that kind get at most
  :data:`KNOWN_GRACE`, a fraction of a second: the subject has shown what it does, and the
  short grace only has to reproduce it.

A healthy subject never expires a wait, so its graces are never shortened.

**Shared by the whole run.** What expired is kept in this process and, when the run has a
patience directory (:data:`DIR_ENV`, created by the plugin's controller for each pytest run
and inherited by its xdist workers and every program a scenario starts), appended to one
file there (:data:`LOG_NAME`, one JSON line per first expiry of a key), which every
process of the run reads before it sizes a wait. So a subject pays each grace once per run,
not once per xdist worker.

Usage::

    timeout = patience.grace(backend.name, limits.START_GRACE, "sign-of-life")
    if not mailbox.wait_for(path, timeout):
        patience.expired(backend.name, f"no report from the child within {timeout} s",
                         "sign-of-life")

:func:`note` gives the sentence a failure message adds when a grace was shortened, and
:func:`repeats` counts expiries of kinds that were already known (the plugin and
``harness.verdict`` use it to end a test at once: the subject did the same again).
"""

from __future__ import annotations

import json
import os
from typing import Optional

#: The grace a subject gets once one of its waits has expired: far above anything a healthy
#: implementation needs (a spawn start under load took up to 0.29 s; an echo reply a few
#: ms), short enough that a shrinking run of 20-30 replays costs under a minute.
SHORT_GRACE = 2.0

#: The grace a wait gets once a wait of the same kind for the same subject has expired:
#: the subject has shown that such a wait can expire, and this only has to see it again.
#: A fraction of a second (a forkserver child reports within 15-30 ms idle).
KNOWN_GRACE = 0.25

#: How the kind of a call given up after its slack ends (harness.supervise.slack.late).
LATE = " (late)"

#: The environment variable naming the run's patience directory (see the module's doc).
DIR_ENV = "PROCSPEC_PATIENCE_DIR"

#: The file in that directory: one JSON object per line, ``{"key": ..., "what": ...}``.
LOG_NAME = "expired.jsonl"

_expired: dict[str, str] = {}
_read_upto: dict[str, int] = {}
_repeats = 0


def _log() -> Optional[str]:
    where = os.environ.get(DIR_ENV)
    return os.path.join(where, LOG_NAME) if where and os.path.isdir(where) else None


def _refresh() -> None:
    """Take over what other processes of the run recorded since the last look."""
    path = _log()
    if path is None:
        return
    try:
        size = os.path.getsize(path)
    except OSError:
        return
    upto = _read_upto.get(path, 0)
    if size <= upto:
        return
    try:
        with open(path, "rb") as log:
            log.seek(upto)
            chunk = log.read(size - upto)
    except OSError:
        return
    complete = chunk[:chunk.rfind(b"\n") + 1]  # a line being written is read next time
    _read_upto[path] = upto + len(complete)
    for line in complete.splitlines():
        try:
            entry = json.loads(line)
            _expired.setdefault(str(entry["key"]), str(entry["what"]))
        except (ValueError, KeyError, TypeError):
            continue


def _share(key: str, what: str) -> None:
    path = _log()
    if path is None:
        return
    line = (json.dumps({"key": key, "what": what, "pid": os.getpid()}) + "\n").encode()
    try:  # one write of one short line with O_APPEND: lines of processes never interleave
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, line)
        finally:
            os.close(fd)
    except OSError:
        pass


def _key(subject: str, kind: Optional[str]) -> str:
    return subject if kind is None else f"{subject}:{kind}"


def known(subject: str, kind: Optional[str] = None) -> bool:
    """A wait for ``subject`` (of ``kind``, if given) has expired somewhere in the run."""
    _refresh()
    return _key(subject, kind) in _expired


def grace(subject: str, full: float, kind: Optional[str] = None) -> float:
    """The grace to give ``subject`` for a wait whose full grace is ``full`` seconds:
    :data:`KNOWN_GRACE` once a wait of ``kind`` for it expired, :data:`SHORT_GRACE` once
    any wait for it did, else ``full``."""
    _refresh()
    if kind is not None and _key(subject, kind) in _expired:
        return min(full, KNOWN_GRACE)
    return min(full, SHORT_GRACE) if subject in _expired else full


def expired(subject: str, what: str, kind: Optional[str] = None, *,
            whole_subject: bool = True) -> None:
    """Record that a wait for ``subject`` (of ``kind``) ran out (the first record of each
    key is kept, and shared with the run). An expiry of a kind already known counts as a
    repeat (:func:`repeats`). ``whole_subject=False`` records the kind only: the subject's
    other waits keep their full grace (a call given up a few milliseconds after its child
    ended is late, not hung: harness.supervise.slack.gave_up)."""
    global _repeats
    _refresh()
    keys = [subject] if kind is None else \
        [subject, _key(subject, kind)] if whole_subject else [_key(subject, kind)]
    if kind is not None and keys[-1] in _expired:
        _repeats += 1
    for key in keys:
        if key not in _expired:
            _expired[key] = what
            _share(key, what)


def repeats() -> int:
    """How many waits of this process expired whose kind had expired for their subject
    before: the subject did what it had already shown."""
    return _repeats


def note(subject: str) -> Optional[str]:
    """Why ``subject``'s waits are short now (None while they are not)."""
    _refresh()
    first = _expired.get(subject)
    if first is None:
        late = sorted(key for key in _expired
                      if key.startswith(f"{subject}:") and key.endswith(LATE))
        if late:
            return (f"an earlier call of this subject was given up after its slack "
                    f"({_expired[late[0]]}); later calls of that kind were given the short "
                    "slack (harness/supervise/slack.py)")
        return None
    return (f"an earlier wait for this subject expired ({first}); later waits were given "
            f"{SHORT_GRACE} s, {KNOWN_GRACE} s for a wait of the kind that expired "
            "(harness/patience.py)")


def forget(subject: Optional[str] = None) -> None:
    """Forget expiries (of one subject, or all) in this process: for the harness's own
    tests (a shared log is the run's; a test that needs none unsets :data:`DIR_ENV`)."""
    if subject is None:
        _expired.clear()
    else:
        for key in [k for k in _expired if k == subject or k.startswith(subject + ":")]:
            del _expired[key]
