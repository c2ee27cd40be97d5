"""Graces that a subject pays once: after a wait for it has expired, the verdict is known.

Every wait the harness makes has a grace (``harness.limits``, ``harness.echo``): long
enough that a healthy implementation under load never meets it, so it decides *hung or
not*, never *fast or not*. A faulty implementation meets it, and Hypothesis then replays
and shrinks the failing example, each time paying the grace again (the verdict issue
measured runs of 400-600 s for one defect). So the grace is paid once per subject (a
backend name, a server command) and process (an xdist worker): once a wait for that
subject has expired, its later waits get at most :data:`SHORT_GRACE`. A healthy subject
never expires a wait, so its graces are never shortened; a faulty one already showed what
it does, and the short grace only has to reproduce it.

Usage::

    timeout = patience.grace(backend.name, limits.START_GRACE)
    if not mailbox.wait_for(path, timeout):
        patience.expired(backend.name, f"no report from the child within {timeout} s")

and :func:`note` gives the sentence a failure message adds when a grace was shortened.
"""

from __future__ import annotations

from typing import Optional

#: The grace a subject gets once one of its waits has expired: far above anything a healthy
#: implementation needs (a spawn start under load took up to 0.29 s; an echo reply a few
#: ms), short enough that a shrinking run of 20-30 replays costs under a minute.
SHORT_GRACE = 2.0

_expired: dict[str, str] = {}


def grace(subject: str, full: float) -> float:
    """The grace to give ``subject`` for a wait whose full grace is ``full`` seconds."""
    return min(full, SHORT_GRACE) if subject in _expired else full


def expired(subject: str, what: str) -> None:
    """Record that a wait for ``subject`` ran out (the first such wait is kept)."""
    _expired.setdefault(subject, what)


def note(subject: str) -> Optional[str]:
    """Why ``subject``'s waits are short now (None while they are not)."""
    first = _expired.get(subject)
    if first is None:
        return None
    return (f"an earlier wait for this subject expired ({first}); later waits were given "
            f"{SHORT_GRACE} s (harness/patience.py)")


def forget(subject: Optional[str] = None) -> None:
    """Forget expiries (of one subject, or all): for the harness's own tests."""
    if subject is None:
        _expired.clear()
    else:
        _expired.pop(subject, None)
