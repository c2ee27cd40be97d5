"""SIGTERM to the command people run (``python -m harness verify``, the console script's
``main``) reaches its pytest: the run tears down, nothing it started outlives it, and the
command exits 143 (128 + SIGTERM) within 30 s (harness/interrupts.py).

The run is the echo topic under fork, so a server under test is running when the signal
comes: the test waits until it sees one. Every process the run started carries a marker
in its environment; after the command has exited, none may be left (the standard
library's helpers get :data:`harness.run_tag.HELPER_EXIT_GRACE` to exit by themselves).
Measured (2 cores, load average about 6-20 from other jobs): exit 4.3 s after SIGTERM,
4.6 s after SIGINT (the ``seconds_to_exit`` property).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid

import psutil
import pytest

from harness.kit import CHECKOUT
from harness.run_tag import HELPER_EXIT_GRACE

pytestmark = pytest.mark.meta

MARK = "PROCSPEC_INTERRUPT_TEST"

#: The issue's bound: the wrapper exits within this many seconds of SIGTERM.
EXIT_BOUND = 30.0


def _marked(mark: str) -> list[psutil.Process]:
    found = []
    for proc in psutil.process_iter(["pid"]):
        try:
            if proc.environ().get(MARK) == mark and proc.status() != psutil.STATUS_ZOMBIE:
                found.append(proc)
        except psutil.Error:
            continue
    return found


def _server_running(mark: str) -> bool:
    for proc in _marked(mark):
        try:
            if "harness.echo" in " ".join(proc.cmdline()):
                return True
        except psutil.Error:
            continue
    return False


@pytest.mark.timeout(240)
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_to_the_wrapper_ends_its_run_and_everything_the_run_started(
        signum, record_property):
    mark = uuid.uuid4().hex
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    env[MARK] = mark
    wrapper = subprocess.Popen(
        [sys.executable, "-m", "harness", "verify", "--backend", "fork", "-m", "echo",
         "-n", "2", "-p", "no:randomly"], cwd=CHECKOUT, env=env, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while not _server_running(mark):
            assert wrapper.poll() is None, "the run ended before a server was seen"
            assert time.monotonic() < deadline, "no server under test within 120 s"
            time.sleep(0.1)
        time.sleep(1.0)  # in the middle of a test
        sent = time.monotonic()
        wrapper.send_signal(signum)
        out, err = wrapper.communicate(timeout=EXIT_BOUND + 30)
        took = time.monotonic() - sent
        record_property("seconds_to_exit", round(took, 2))
        time.sleep(HELPER_EXIT_GRACE)
        left = [f"{p.pid}: {' '.join(p.cmdline())[:100]}" for p in _marked(mark)]
        assert left == [], f"left running after the command exited: {left}\n{err[-2000:]}"
        assert wrapper.returncode == 128 + signum, (wrapper.returncode, out[-2000:],
                                                    err[-2000:])
        assert f"interrupted by {signal.Signals(signum).name}" in err, err[-2000:]
        assert took < EXIT_BOUND, f"exited {took:.1f} s after the signal"
    finally:
        if wrapper.poll() is None:
            os.killpg(wrapper.pid, signal.SIGKILL)
            wrapper.communicate()
        for proc in _marked(mark):
            try:
                proc.kill()
            except psutil.Error:
                pass
