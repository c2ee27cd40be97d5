"""The plugin's options: what is under test, checked before any test runs.

``--backend NAME`` and ``--echo-server CMD`` name the implementations under test; a test
that takes ``backend`` (or ``echo_server``) runs once per value, which shows in its id.
Every option value, and the ``-m`` expression, is checked in the controlling process at
configure time: a bad one stops the run before any test (also under ``pytest -n auto``,
where a worker's error would surface as an INTERNALERROR) with one line that names it,
and pytest's usage-error status (4).
"""

from __future__ import annotations

import re
from typing import Any, Iterator, Optional

import pytest

from harness import backends
from harness.claims import load_claims

#: Fixture parameters whose value names the thing under test (the table's columns).
SUBJECT_PARAMS = ("backend_name", "echo_server_name")


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("procspec")
    group.addoption("--backend", action="append", default=[], metavar="NAME",
                    help="implementation under test: fork | spawn | forkserver | "
                         "module[:attr] | control:NAME (repeatable; default: every "
                         "start method of this platform)")
    group.addoption("--echo-server", action="append", default=[], metavar="CMD",
                    help="an echo server under test: a command with {host} and {port}, "
                         "or a named server such as page-server (repeatable; default: "
                         "procspec's server under each backend)")
    group.addoption("--claim", action="append", default=[], metavar="ID",
                    help="run only the tests bound to this claim ID (repeatable)")
    group.addoption("--results-json", default=None, metavar="PATH",
                    help="write each test's outcome, claims and subject as JSON")
    group.addoption("--expectations", action="append", default=[], metavar="PATH",
                    help="known deviations of an implementation procspec does not ship: "
                         "a JSON file in the format of specs/expectations/*.json "
                         "(repeatable); matching tests become strict expected failures")
    group.addoption("--no-leak-check", action="store_true", default=False,
                    help="do not fail tests that leave child processes behind")


def is_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


@pytest.hookimpl(trylast=True)  # after every plugin has registered its markers
def pytest_configure(config: pytest.Config) -> None:
    if is_worker(config):  # the controller has checked everything already
        _use_expectations(config)
        return
    for check in (_check_backends, _check_claims, _check_marker_expression,
                  _use_expectations, _check_echo_servers):
        problem = check(config)
        if problem:
            raise pytest.UsageError(problem)


def _check_backends(config: pytest.Config) -> Optional[str]:
    for name in config.getoption("--backend"):
        try:
            backends.resolve(name)
        except ValueError as exc:
            return f"--backend: {_one_line(exc)}"
    return None


def _use_expectations(config: pytest.Config) -> Optional[str]:
    from harness import expectations

    try:
        expectations.use_files(config.getoption("--expectations"))
    except ValueError as exc:
        return f"--expectations: {_one_line(exc)}"
    known = load_claims()
    for expectation in expectations.load():
        if expectation.claim not in known:
            return (f"--expectations: {expectation.source}: claim {expectation.claim!r} "
                    "is not in specs/")
    return None


def _check_claims(config: pytest.Config) -> Optional[str]:
    known = load_claims()
    unknown = [cid for cid in config.getoption("--claim") if cid not in known]
    if unknown:
        return (f"--claim {unknown[0]!r}: no such claim in specs/ "
                f"(known: {min(known)} ... {max(known)})")
    return None


#: Words of a ``-m`` expression that are not marker names.
_OPERATORS = {"and", "or", "not", "True", "False", "None"}


def _check_marker_expression(config: pytest.Config) -> Optional[str]:
    expression = config.getoption("markexpr", None) or ""
    if not expression.strip():
        return None
    try:  # pytest's own parser (private, but the same one -m uses)
        from _pytest.mark.expression import Expression

        Expression.compile(expression)
    except ImportError:
        pass
    except Exception as exc:  # ParseError before pytest 9, SyntaxError since
        return f"-m {expression!r}: not a marker expression ({_one_line(exc)})"
    known = {re.split(r"[(:]", line, maxsplit=1)[0].strip()
             for line in config.getini("markers")}
    names = re.findall(r"[\w.+\-\[\]/\\]+", re.sub(r"\([^)]*\)", " ", expression))
    unknown = [n for n in names if n not in _OPERATORS and n not in known]
    if unknown:
        return (f"-m {expression!r}: unknown marker {unknown[0]!r} "
                f"(registered: {', '.join(sorted(known))})")
    return None


def _check_echo_servers(config: pytest.Config) -> Optional[str]:
    from harness.echo import runner

    for name, template in echo_server_templates(config).items():
        if name != template:  # procspec's own or a named server
            continue
        problem = runner.template_problem(template) or runner.preflight(template)
        if problem:
            return f"--echo-server {template!r}: {problem}"
    return None


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())


# --- parametrization -------------------------------------------------------------------

def backend_names(config: pytest.Config) -> list[str]:
    return list(config.getoption("--backend")) or backends.default_backend_names()


def echo_server_templates(config: pytest.Config) -> dict[str, str]:
    """Name -> command template of each echo server under test: the ``--echo-server``
    values (a named server, such as ``page-server``, is named by its name and runs its
    template, harness.echo.NAMED_SERVERS; a command is named by itself), else procspec's
    server under each backend."""
    from harness.echo import resolve_server
    from harness.echo.runner import procspec_server_template

    commands = config.getoption("--echo-server")
    if commands:
        return dict(resolve_server(cmd) for cmd in commands)
    return {name: procspec_server_template(name) for name in backend_names(config)}


def _echo_ids(servers: dict[str, str]) -> list[str]:
    given = [name for name, cmd in servers.items() if name == cmd]
    return [f"server{given.index(name) + 1}" if name in given else name for name in servers]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "backend_name" in metafunc.fixturenames:
        names = backend_names(metafunc.config)
        metafunc.parametrize("backend_name", names, ids=names)
    if "echo_server_name" in metafunc.fixturenames:
        servers = echo_server_templates(metafunc.config)
        metafunc.parametrize("echo_server_name", list(servers), ids=_echo_ids(servers))


def subject_of(item: pytest.Item) -> str:
    """The backend or server a test ran against (``-`` for none)."""
    params = getattr(getattr(item, "callspec", None), "params", {})
    for key in SUBJECT_PARAMS:
        if key in params:
            return str(params[key])
    return "-"


@pytest.fixture
def backend(backend_name: str) -> backends.Backend:
    """The implementation under test (one per ``--backend``)."""
    return backends.resolve(backend_name)


@pytest.fixture
def echo_server(echo_server_name: str, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A running echo server under test (:class:`harness.echo.observe.RunningServer`: host,
    port, pid, pgid), listening on a free loopback port; its whole process group is killed
    and reaped after the test."""
    from harness.echo.runner import running_server

    template = echo_server_templates(request.config)[echo_server_name]
    with running_server(template, name=echo_server_name) as server:
        yield server
