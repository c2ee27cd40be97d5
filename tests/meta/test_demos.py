"""Study mode: every registered demo names a real claim (or topic), and a demo runs."""

from __future__ import annotations

import pytest

from harness import demo
from harness.claims import load_claims
from harness.demos import all_demos, find_demo

pytestmark = pytest.mark.meta


def test_every_demo_key_is_a_claim_or_a_topic_prefix():
    claims = load_claims()
    prefixes = {cid.split("-")[0] for cid in claims}
    unknown = [key for key in all_demos() if key not in claims and key not in prefixes]
    assert not unknown, f"demos registered for no claim: {unknown}"


def test_an_exact_id_wins_over_a_prefix():
    demos = all_demos()
    if "JOIN" in demos and "JOIN-002" in demos:
        assert find_demo("JOIN-002") is demos["JOIN-002"]
        assert find_demo("JOIN-001") is demos["JOIN"]


def test_a_demo_runs_once_and_explains(capsys):
    assert demo.main(["LIFE-013", "--backend", "fork"]) == 0
    out = capsys.readouterr().out
    assert "LIFE-013: sys.exit() and sys.exit(None) give exit code 0" in out
    assert "sys.exit()                   -> exitcode 0" in out
    assert "No known deviation of multiprocessing/fork" in out
