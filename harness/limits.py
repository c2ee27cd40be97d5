"""Upper bounds on every wait the harness makes, so that a hung implementation fails its
test instead of hanging the run. They are generous on purpose: they decide *hung or not*,
never *fast enough or not* (timing claims have their own, calibrated bounds).

Every grace below is paid in full at most once per subject and run (``harness.patience``,
shared by the run's xdist workers): once a wait for a backend has expired, its later waits
are short (2 s), and waits of the kind that expired shorter (0.25 s). And the run as a
whole ends within its budget (``harness.plugin.budget``). And most waits end long before
their grace, because the harness watches the OS (``harness.supervise``): a call that should
have returned once its child had ended is given up :data:`RETURN_SLACK` after the OS shows
that child ended, not at the end of a grace.

Measured on a 2-core machine (specs/../notes): a spawn start+join of a no-op child takes
50-70 ms idle and up to 0.29 s with both cores busy, so 8 s is >25x the worst seen.
"""

from __future__ import annotations

#: A child that should end by itself (after its own work) must have ended this long after
#: the time its work needs.
JOIN_GRACE = 15.0

#: After terminate()/kill() a child must be gone within this many seconds (the bound only
#: separates "stopped" from "not stopped"). Measured from the signal to the child's end as
#: the OS shows it: 0.2-3 ms idle, at most 40 ms with both cores busy (stress-ng --cpu 2
#: plus the suite under -n 2), so 1 s is >25x the worst seen.
SIGNAL_GRACE = 1.0

#: A started child must show a sign of life (a report) within this many seconds: still
#: more than 25x the slowest start measured under load (0.29 s). Paid in full at most once
#: per subject and worker (harness.patience): 15 s made the hang controls' first waits
#: (one per xdist worker) the larger part of their run.
START_GRACE = 8.0

#: A child that waits for the parent's go-ahead gives up after this many seconds, so that no
#: child outlives a test that died between start() and release.
HOLD_LIMIT = 60.0

#: A "long" child that the parent means to stop (terminate, kill, join(timeout)) sleeps at
#: most this long: long enough never to end by itself during a check, short enough that
#: nothing outlives a broken run by much.
LONG_SLEEP = 60.0

#: How often the parent polls for a file-based report.
POLL_INTERVAL = 0.005

#: How often the parent looks at the OS (the processes below it) while it waits: each look
#: reads /proc for every process (about 1 ms), so less often than a report file.
OS_POLL_INTERVAL = 0.02

#: A call that should return once its child has done something the OS (or the child's own
#: report) shows, gets this long after that before the harness stops waiting for it and
#: records that it did not return: ``join()`` after its child has ended (measured: it
#: returns 1-40 ms after the child's end; the timing model's exit latency had a median of
#: 0.17 s with both cores busy, and JOIN-003's own bound is 0.10 s + 2 x that), ``start()``
#: after its child has appeared or reported (it returns about when the child appears), and a
#: program's exit after its child has ended.
RETURN_SLACK = 1.0

#: A report that no process can post (none ran for the scenario, and none ended unseen: a
#: child that no process stands for, a thread in disguise, posts within milliseconds; a
#: start() that made no child at all posts nothing) is waited for this long.
UNSEEN_SLACK = 0.25

#: The slack a call of a subject gets once a call of the same kind (join, start, ...) of the
#: subject was given up, or (join) returned later than LATE_JOIN after its child ended: it
#: has shown what it does, and the short slack only has to reproduce it. The owners of
#: "join() returns" (LIFE-009, JOIN-003, JOIN-004) always get at least the full RETURN_SLACK.
SHORT_SLACK = 0.02

#: A join() that returns this long after the OS showed its child had ended is late (the
#: timing model's exit latency, measured: 1-40 ms idle, 0.17 s median with both cores busy).
LATE_JOIN = 0.25
