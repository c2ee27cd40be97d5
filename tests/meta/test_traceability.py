"""Every claim in specs/ has a test, and every claim a test names exists (test262-style)."""

from __future__ import annotations

import pytest

from harness.claims import claim_ids_in_tests, load_claims

pytestmark = pytest.mark.meta


def test_every_claim_has_a_test():
    tested = set().union(*claim_ids_in_tests().values())
    untested = sorted(set(load_claims()) - tested)
    assert not untested, f"claims with no test bound to them: {untested}"


def test_every_claim_a_test_names_exists():
    known = set(load_claims())
    dangling = {path: sorted(ids - known) for path, ids in claim_ids_in_tests().items()
                if ids - known}
    assert not dangling, f"tests naming claims that are not in specs/: {dangling}"


def test_claim_ids_are_unique_and_well_formed():
    claims = load_claims()  # raises on a duplicate
    assert claims, "no claims found in specs/"
    for cid, claim in claims.items():
        topic_prefix = cid.split("-")[0]
        assert claim.statement, f"{cid} has no statement"
        assert "**Asserts:**" in claim.body, f"{cid} does not say what it asserts"
        assert "**Controls:**" in claim.body, f"{cid} does not name its controls"
        assert all(c.id.split("-")[0] == topic_prefix
                   for c in claims.values() if c.topic == claim.topic), \
            f"topic {claim.topic} mixes ID prefixes"
