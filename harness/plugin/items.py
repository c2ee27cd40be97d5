"""Which tests are procspec's, and the claims each is bound to: asked by every part of
the plugin (bookkeeping, tallies, leaks, threads, budget), which act on procspec's own
tests only."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.kit import TESTS_DIR


def item_claims(item: pytest.Item) -> list[str]:
    return [cid for mark in item.iter_markers("claim") for cid in mark.args]


def is_procspec_item(item: pytest.Item) -> bool:
    """One of procspec's tests (its kit's tests directory, or bound to a claim). Only these
    get the bookkeeping, the hygiene below and the leak guard: the plugin, loaded in any
    project that installs the kit, leaves that project's own tests alone."""
    try:
        Path(str(item.path)).resolve().relative_to(TESTS_DIR)
        return True
    except ValueError:
        return bool(item_claims(item))
