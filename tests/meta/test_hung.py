"""A hung subject stays cheap, and a run ends within its budget (harness/patience.py,
harness/plugin/hung.py, harness/plugin/budget.py). The whole-suite proof is the controls
proof's timed batch (tests/meta/test_controls.py: each hang control within
harness.suite.TIME_RATIO times its healthy twin's time); these are the mechanisms, one at
a time."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness import patience
from harness.kit import CHECKOUT
from harness.plugin.budget import default_budget
from harness.plugin.hung import deciding
from harness.verdict import Decided, Violation

pytestmark = pytest.mark.meta


@pytest.fixture
def run_dir(tmp_path, monkeypatch):
    """A patience directory of this test's own (as the plugin's controller makes one)."""
    monkeypatch.setenv(patience.DIR_ENV, str(tmp_path))
    yield tmp_path
    patience.forget()


def test_an_expiry_in_one_process_shortens_that_kind_of_wait_in_every_other(run_dir):
    subject = "meta:shared"
    assert patience.grace(subject, 15.0, "sign-of-life") == 15.0
    code = ("from harness import patience; "
            f"patience.expired({subject!r}, 'no report within 15 s', 'sign-of-life')")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
    assert patience.grace(subject, 15.0, "sign-of-life") == patience.KNOWN_GRACE
    assert patience.grace(subject, 15.0, "end") == patience.SHORT_GRACE  # another kind
    assert patience.grace("meta:other", 15.0, "sign-of-life") == 15.0  # another subject
    lines = (run_dir / patience.LOG_NAME).read_text().splitlines()
    assert [json.loads(line)["key"] for line in lines] == [subject, f"{subject}:sign-of-life"]


def test_a_call_given_up_after_its_slack_shortens_that_slack_only(run_dir):
    """Late is not hung: a join() given up a few ms after its child ended shortens the
    slack of later join()s of the subject, and no grace (measured: after one late join()
    under load, 24 spawn handlers at once got 2 s to answer, a false ECHO-005 verdict)."""
    from harness import limits
    from harness.supervise.slack import gave_up, patience_env, slack_for

    subject = "meta:late"
    gave_up(subject, "join", "join() had not returned 0.02 s after its child ended")
    assert slack_for(subject, "join") == limits.SHORT_SLACK
    assert slack_for(subject, "start") == limits.RETURN_SLACK
    for kind in ("end", "reply", None):
        assert patience.grace(subject, 15.0, kind) == 15.0
    assert "given up after its slack" in (patience.note(subject) or "")
    carried = json.loads(patience_env(subject)["PROCSPEC_EXPIRED"])
    assert list(carried) == [":join (late)"]


def test_a_timed_join_keeps_its_bound_when_the_subjects_grace_was_shortened(run_dir):
    """join(timeout) on a running child is the claim's to bound (JOIN-006): a grace the run
    shortened must not end it first (measured under load: JOIN-006 gave up on join(0.3)
    after 0.26 s, then judged it over its 0.475 s bound)."""
    from harness import backends
    from harness.scenarios import join

    backend = backends.resolve("fork")
    patience.expired(backend.name, "a join() did not return", "end")
    assert patience.grace(backend.name, 15.0, "end") == patience.KNOWN_GRACE
    record = join.join_sleeper_with_timeout(backend, 0.5, child_seconds=3.0,
                                            give_up_after=2.0)
    assert record.child_was_running and record.returned, record
    assert record.join is not None and record.join.seconds >= 0.5, record.join


def test_a_kind_that_expires_again_is_a_repeat(run_dir):
    before = patience.repeats()
    patience.expired("meta:again", "first", "end")
    assert patience.repeats() == before
    patience.expired("meta:again", "second", "end")
    assert patience.repeats() == before + 1


def _violation(**figures):
    return Violation("LIFE-010", "the target ran", "it never reported", **figures)


def test_a_verdict_on_a_subject_whose_wait_expired_ends_hypothesis_at_its_first_example():
    calls = []

    @settings(max_examples=50, database=None)
    @given(n=st.integers(0, 1000))
    def prop(n):
        calls.append(n)
        if n > 3:
            raise _violation(patience="an earlier wait for this subject expired")

    prop.hypothesis.inner_test = deciding(prop.hypothesis.inner_test)
    with pytest.raises(Decided) as raised:
        prop()
    assert calls[-1] > 3 and sum(1 for n in calls if n > 3) == 1, calls  # not shrunk
    assert raised.value.violation.claim_id == "LIFE-010"
    assert "not shrunk" in str(raised.value) and f"n={calls[-1]}" in str(raised.value)


def test_a_verdict_on_a_healthy_subject_is_shrunk_as_ever():
    calls = []

    @settings(max_examples=50, database=None)
    @given(n=st.integers(0, 1000))
    def prop(n):
        calls.append(n)
        if n > 3:
            raise _violation()

    prop.hypothesis.inner_test = deciding(prop.hypothesis.inner_test)
    with pytest.raises(Violation):
        prop()
    assert sum(1 for n in calls if n > 3) > 1  # shrunk (and replayed)


def test_the_default_budget_grows_with_the_tests_per_worker():
    assert default_budget(62, 2) == pytest.approx(30.0 + 5.0 * 31)
    assert default_budget(0, 4) == 30.0


BUDGETED = """
import time, pytest
from harness.verdict import holds

@pytest.mark.claim("LIFE-001")
@pytest.mark.parametrize("k", range(4))
def test_takes_a_second_and_a_half(k):
    time.sleep(1.5)
    holds(True)
"""


def test_claim_tests_that_do_not_finish_within_the_run_budget_are_inconclusive(
        pytester, monkeypatch):
    if CHECKOUT is not None:  # this checkout's plugin, not only the installed kit's
        monkeypatch.setenv("PYTHONPATH", str(CHECKOUT))
    pytester.makepyfile(test_budgeted=BUDGETED)
    results = pytester.path / "results.json"
    run = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--run-budget", "3",
                                        "--results-json", str(results))
    tests = json.loads(results.read_text())["tests"]
    kinds = {t["outcome"] for t in tests}
    assert kinds <= {"passed", "inconclusive"} and "inconclusive" in kinds, run.stdout.str()
    assert "budget" in run.stdout.str()
    assert sum(float(t.get("duration") or 0) for t in tests) < 3 + 1.5 + 1.0  # 4 x 1.5 s
    assert run.ret == 1
