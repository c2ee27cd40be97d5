"""The tag that marks every process of one run (an environment variable its processes
inherit), and the end of what a finished run left running: used by the suite runner and by
the command line's signal handling (:mod:`harness.interrupts`)."""

from __future__ import annotations

import psutil

#: Environment variable that marks every process of one suite run (to find leftovers).
RUN_TAG = "PROCSPEC_RUN_TAG"


#: How long the helpers the standard library keeps (resource tracker, forkserver) may take
#: to exit by themselves once the run's pipes close: under load (two busy cores) a spawn
#: control's resource tracker was seen still running right after the run ended.
HELPER_EXIT_GRACE = 3.0


def kill_tagged(tag: str, grace: float = HELPER_EXIT_GRACE) -> list[str]:
    """Processes of a finished run still alive ``grace`` s after it ended (found by the
    run's tag); killed."""
    tagged = []
    for proc in psutil.process_iter(["pid", "cmdline"]):
        try:
            if proc.environ().get(RUN_TAG) == tag and proc.status() != psutil.STATUS_ZOMBIE:
                tagged.append(proc)
        except psutil.Error:
            continue
    _, alive = psutil.wait_procs(tagged, timeout=grace) if tagged else ([], [])
    found = []
    for proc in alive:
        try:
            found.append(f"pid {proc.pid}: {' '.join(proc.info['cmdline'] or [])[:100]}")
            proc.kill()
        except psutil.Error:
            continue
    return found
