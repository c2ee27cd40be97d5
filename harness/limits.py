"""Upper bounds on every wait the harness makes, so that a hung implementation fails its
test instead of hanging the run. They are generous on purpose: they decide *hung or not*,
never *fast enough or not* (timing claims have their own, calibrated bounds).

Measured on a 2-core machine (specs/../notes): a spawn start+join of a no-op child takes
50-70 ms idle and up to 0.29 s with both cores busy, so 15 s is >50x the worst seen.
"""

from __future__ import annotations

#: A child that should end by itself (after its own work) must have ended this long after
#: the time its work needs.
JOIN_GRACE = 15.0

#: After terminate()/kill() a child must be gone within this many seconds (measured: a
#: few ms; the bound only separates "stopped" from "not stopped").
SIGNAL_GRACE = 5.0

#: A started child must show a sign of life (a report) within this many seconds.
START_GRACE = 15.0

#: A child that waits for the parent's go-ahead gives up after this many seconds, so that no
#: child outlives a test that died between start() and release.
HOLD_LIMIT = 60.0

#: A "long" child that the parent means to stop (terminate, kill, join(timeout)) sleeps at
#: most this long: long enough never to end by itself during a check, short enough that
#: nothing outlives a broken run by much.
LONG_SLEEP = 60.0

#: How often the parent polls for a file-based report.
POLL_INTERVAL = 0.005
