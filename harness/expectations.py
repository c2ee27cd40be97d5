"""Known deviations as data: per-implementation expectation files (specs/expectations/).

As in web-platform-tests' metadata, an implementation that differs from a claim is not
skipped: the test still runs, and the expectation file says which outcomes it may show,
with the reason. By default that is ``fail`` alone: the plugin turns a matching test into a
strict ``xfail``; the run stays green while the implementation fails as recorded, turns red
when it unexpectedly passes (the deviation is gone: update the data), and turns red on any
failure nobody recorded.

The file format and its rules (which outcomes an entry may list, what an entry that may
fail or pass must also say): :mod:`harness.expectation_rules`.

An implementation is named by the module part of a backend name (``billiard`` for
``billiard:get_context('fork')``; ``multiprocessing.dummy``, threads behind the API, is one
of its own: ``harness.backends.implementation_of``); the standard start methods and the
page's class (backend ``multiprocessing``) belong to ``multiprocessing``; the negative
controls are ``control`` (specs/expectations/ must never have a ``control.json``: a
control's failures are its purpose; the harness's own tests use one from another
directory, see ``PROCSPEC_EXPECTATIONS``).

Echo tests match by their echo server (the ``echo_server_name`` parameter): a named server
(``--echo-server page-server``, harness.echo.NAMED_SERVERS) is the implementation of that
name (``page-server.json``); procspec's own server under a backend is that backend's
implementation (``multiprocessing.dummy.json`` says why threads cannot carry it); a raw
``--echo-server`` command has none (nothing is expected of it but the claims).
"""

from __future__ import annotations

import fnmatch
import json
import os
import platform
import sys
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Optional, Sequence

from harness.backends import PAGE_CLASS, implementation_of, resolve
from harness.claims import SPECS_DIR
from harness.expectation_rules import FAIL, FLAKY, PASS, entry_problems

EXPECTATIONS_DIR = SPECS_DIR / "expectations"

#: Environment variable naming another expectations directory (the harness's own tests use
#: it to prove that expected failures, unexpected passes and new failures are reported).
DIR_VARIABLE = "PROCSPEC_EXPECTATIONS"

@dataclass(frozen=True)
class Expectation:
    """One recorded deviation: this claim fails on this implementation, and why."""

    implementation: str
    claim: str
    reason: str
    version: str = "*"
    start_methods: tuple[str, ...] = ()
    python: tuple[str, ...] = ()
    interpreter: tuple[str, ...] = ()
    test: str = "*"
    optimize: Optional[bool] = None
    """Only under ``python -O``/``-OO`` (True), only without (False), or either (None):
    an implementation whose refusals are ``assert`` statements loses them under -O."""
    outcomes: tuple[str, ...] = (FAIL,)
    """What the tests of this claim may show on the subject: ``fail``, and ``pass`` or
    ``flaky`` when that varies between runs (harness.expectation_rules)."""
    evidence: str = ""
    bug: str = ""
    needs_review: bool = False
    """The reason is the measured message (``expectations update``): a human has yet to
    write why."""
    source: str = ""
    """The file it came from (shown with its reason)."""

    @property
    def may_pass(self) -> bool:
        """It may pass (a non-strict expected failure)."""
        return PASS in self.outcomes

    @property
    def flaky(self) -> bool:
        """Hypothesis may find the subject behaving differently on replay."""
        return FLAKY in self.outcomes

    def matches(self, subject: "Subject", claims: Sequence[str], test_name: str,
                python_version: str) -> bool:
        return (self.claim in claims
                and subject.implementation == self.implementation
                and fnmatch.fnmatchcase(subject.version or "", self.version)
                and (not self.start_methods or subject.start_method in self.start_methods)
                and (not self.python or any(_version_prefix(python_version, p)
                                            for p in self.python))
                and (not self.interpreter or subject.interpreter in self.interpreter)
                and (self.optimize is None or self.optimize == bool(sys.flags.optimize))
                and fnmatch.fnmatchcase(test_name, self.test))


def _version_prefix(version: str, prefix: str) -> bool:
    return version == prefix or version.startswith(prefix + ".")


#: What a column names in place of a start method for an implementation that has none.
KIND = {"multiprocessing.dummy": "threads"}


@dataclass(frozen=True)
class Subject:
    """What a backend name stands for: implementation, its version, start method."""

    name: str
    implementation: str
    version: Optional[str]
    start_method: Optional[str]
    interpreter: str = "CPython"
    """``platform.python_implementation()`` of the run (PyPy gets columns of its own)."""

    @property
    def label(self) -> str:
        """Short column label: ``multiprocessing/fork``, ``billiard/spawn``; the page's
        class is ``multiprocessing.Process/<default method>``; a backend with no start
        method is ``<implementation>/<KIND>`` (``multiprocessing.dummy/threads``); on
        another interpreter than CPython it ends with it: ``multiprocessing/fork (PyPy)``."""
        if self.implementation == "control":
            return self.name
        implementation = "multiprocessing.Process" if self.name == PAGE_CLASS else \
            self.implementation
        method = self.start_method or KIND.get(self.implementation, "?")
        on = "" if self.interpreter == "CPython" else f" ({self.interpreter})"
        return f"{implementation}/{method}{on}"

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "implementation": self.implementation,
                "version": self.version, "start_method": self.start_method,
                "interpreter": self.interpreter, "label": self.label}


def _module_version(module: str) -> Optional[str]:
    if module.split(".")[0] == "multiprocessing":
        return platform.python_version()
    try:
        from importlib.metadata import version

        return version(module)
    except Exception:  # not an installed distribution: ask the module itself
        try:
            import importlib

            return str(importlib.import_module(module).__version__)
        except Exception:
            return None


@lru_cache(maxsize=None)
def describe(backend_name: str) -> Subject:
    """The subject a backend name stands for (resolving it; unresolvable gives ``?``)."""
    implementation = implementation_of(backend_name)
    try:
        start_method = resolve(backend_name).start_method
    except ValueError:
        start_method = None
    version = None if implementation == "control" else _module_version(implementation)
    return Subject(backend_name, implementation, version, start_method,
                   platform.python_implementation())


def parse(data: dict[str, Any], source: str = "<data>") -> list[Expectation]:
    """Expectations from one file's data; raises ``ValueError`` on anything malformed."""
    implementation = data.get("implementation")
    if not isinstance(implementation, str) or not implementation:
        raise ValueError(f"{source}: needs a non-empty 'implementation'")
    found = []
    for i, entry in enumerate(data.get("expectations", [])):
        wrong = entry_problems(entry)
        if wrong:
            raise ValueError(f"{source}: expectations[{i}]: {'; '.join(wrong)}")
        found.append(Expectation(
            implementation=implementation, claim=entry["claim"], reason=entry["reason"],
            version=entry.get("version", "*"),
            start_methods=tuple(entry.get("start_methods", ())),
            python=tuple(entry.get("python", ())),
            interpreter=tuple(entry.get("interpreter", ())), test=entry.get("test", "*"),
            optimize=entry.get("optimize"), outcomes=tuple(entry.get("outcomes", (FAIL,))),
            evidence=entry.get("evidence", ""), bug=entry.get("bug", ""),
            needs_review=bool(entry.get("needs_review", False)), source=source))
    return found


@lru_cache(maxsize=None)
def load(directory: Optional[Path] = None) -> tuple[Expectation, ...]:
    """Every expectation of every implementation file in ``directory``."""
    if directory is None:
        directory = Path(os.environ.get(DIR_VARIABLE) or EXPECTATIONS_DIR)
    found: list[Expectation] = []
    for path in sorted(directory.glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("implementation") != path.stem:
            raise ValueError(f"{path}: 'implementation' must be {path.stem!r}")
        found += parse(data, f"specs/expectations/{path.name}"
                       if directory == EXPECTATIONS_DIR else str(path))
    return tuple(found) + _user_expectations


_user_expectations: tuple[Expectation, ...] = ()


def readings(directory: Optional[Path] = None) -> dict[str, str]:
    """Each implementation's ``reading`` (a paragraph the report prints: what its column
    teaches), from the shipped files (or ``directory``); implementations with none are
    left out."""
    directory = directory or Path(os.environ.get(DIR_VARIABLE) or EXPECTATIONS_DIR)
    found = {}
    for path in sorted(directory.glob("*.json")):
        reading = json.loads(path.read_text(encoding="utf-8")).get("reading")
        if isinstance(reading, str) and reading.strip():
            found[path.stem] = reading.strip()
    return found


def use_files(paths: Sequence[str]) -> None:
    """Add the user's own expectation files (``--expectations PATH``: an implementation
    procspec does not ship); raises ``ValueError`` naming what is wrong with one."""
    global _user_expectations
    found: list[Expectation] = []
    for name in paths:
        path = Path(name)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ValueError(f"{name}: {exc}") from None
        if not isinstance(data, dict):
            raise ValueError(f"{name}: not a JSON object like specs/expectations/*.json")
        found += parse(data, str(path))
    _user_expectations = tuple(found)
    load.cache_clear()


def describe_echo_server(echo_server_name: str) -> Optional[Subject]:
    """The subject an echo server under test stands for: a named server is the
    implementation of its name; procspec's own server under a backend (named by the
    backend: no ``{port}`` in the name) is that backend's subject, so a backend that cannot
    carry the server (``multiprocessing.dummy``'s threads) records why, and one whose
    children leak into the server shows it (billiard: FD-002); a raw command is none
    (None)."""
    from harness.echo import NAMED_SERVERS

    if echo_server_name in NAMED_SERVERS:
        return Subject(echo_server_name, echo_server_name, None, None)
    if "{port}" in echo_server_name:
        return None
    return describe(echo_server_name)


def expected_failure(backend_name: str, claims: Sequence[str], test_name: str,
                     python_version: Optional[str] = None,
                     expectations: Optional[Sequence[Expectation]] = None
                     ) -> Optional[Expectation]:
    """The expectation that says this test fails on this backend, if there is one."""
    return expected_failure_of(describe(backend_name), claims, test_name, python_version,
                               expectations)


def expected_failure_of(subject: Subject, claims: Sequence[str], test_name: str,
                        python_version: Optional[str] = None,
                        expectations: Optional[Sequence[Expectation]] = None
                        ) -> Optional[Expectation]:
    """The expectation that says this test fails on this subject, if there is one."""
    python_version = python_version or platform.python_version()
    for expectation in (load() if expectations is None else expectations):
        if expectation.matches(subject, claims, test_name, python_version):
            return expectation
    return None


def xfail_reason(expectation: Expectation) -> str:
    """The reason an expected failure carries (also what the report shows)."""
    varies = f" (may show {' or '.join(expectation.outcomes)})" \
        if len(expectation.outcomes) > 1 else ""
    return (f"known deviation of {expectation.implementation} from {expectation.claim}"
            f"{varies}: {expectation.reason} "
            f"[{expectation.source or expectation.implementation}]")


def mark_expected_failures(items: Sequence[Any]) -> None:
    """Plugin hook body: give each collected test its expectation as a strict xfail.

    Only tests that run on a backend (the ``backend_name`` parameter) or on a named echo
    server (``echo_server_name``) can match. The reason is also kept in
    ``user_properties`` as ``expected_failure``, for the results file.
    """
    import pytest

    for item in items:
        params = getattr(getattr(item, "callspec", None), "params", {})
        backend_name, echo_server_name = params.get("backend_name"), params.get(
            "echo_server_name")
        if isinstance(backend_name, str):
            subject: Optional[Subject] = describe(backend_name)
        elif isinstance(echo_server_name, str):
            subject = describe_echo_server(echo_server_name)
        else:
            subject = None
        if subject is None:
            continue
        claims = [cid for mark in item.iter_markers("claim") for cid in mark.args]
        name = getattr(item, "originalname", None) or item.name
        expectation = expected_failure_of(subject, claims, name)
        if expectation is None:
            continue
        reason = xfail_reason(expectation)
        item.add_marker(pytest.mark.xfail(reason=reason, strict=not expectation.may_pass))
        item.user_properties.append(("expected_failure", reason))
        setattr(item, MATCHED_ATTRIBUTE, expectation)


#: The attribute of a collected test that holds the expectation it matched.
MATCHED_ATTRIBUTE = "procspec_expectation"


def matched(item: Any) -> Optional[Expectation]:
    """The expectation a collected test matched (:func:`mark_expected_failures`), if any."""
    found = getattr(item, MATCHED_ATTRIBUTE, None)
    return found if isinstance(found, Expectation) else None
