"""The report: results merged into the matrix, deviations explained, pictures, a real browser.

The results here are made up (two runs, three implementations), so that every kind of
cell appears; the HTML page is opened in headless Chromium (Debian's ``chromium``), whose
serialised DOM must show that the page parsed, its script ran and counted the same cells.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from harness import pictures, report
from harness.results import read_many

pytestmark = pytest.mark.meta

REASON = "known deviation of billiard from LIFE-013: sys.exit() gives 1"


def _test(nodeid, claim, subject, outcome, expected=None, figures=None, message=""):
    return {"nodeid": nodeid, "claims": [claim], "subject": subject, "outcome": outcome,
            "duration": 0.1, "message": message, "expected_failure": expected,
            "figures": figures or {}}


def _run(python, env, subjects, tests):
    return {"run": {"python": python, "tox_env": env, "commit": "abc123",
                    "started": "2026-11-26T21:00:00+0000", "finished_epoch": 1795726860.0,
                    "subjects": subjects},
            "exitstatus": 0, "tests": tests}


BILLIARD = "billiard:get_context('fork')"
SUBJECTS = {
    "fork": {"name": "fork", "implementation": "multiprocessing", "version": "3.11.7",
             "start_method": "fork", "label": "multiprocessing/fork"},
    BILLIARD: {"name": BILLIARD, "implementation": "billiard", "version": "4.3.2",
               "start_method": "fork", "label": "billiard/fork"},
}


@pytest.fixture
def results_dir(tmp_path):
    runs = {
        "py311-fork": _run("3.11.7", "py311-fork", {"fork": SUBJECTS["fork"]}, [
            _test("t::a[fork]", "LIFE-001", "fork", "passed", figures={"overhead_s": 0.01}),
            _test("t::b[fork]", "LIFE-013", "fork", "passed"),
        ]),
        "py312-fork": _run("3.12.1", "py312-fork", {"fork": SUBJECTS["fork"]}, [
            _test("t::a[fork]", "LIFE-001", "fork", "passed", figures={"overhead_s": 0.03}),
            _test("t::b[fork]", "LIFE-013", "fork", "failed",
                  message="E   LIFE-013 does not hold: ...\nE     measured: exitcode 1"),
        ]),
        "py311-billiard": _run("3.11.7", "py311-billiard", {BILLIARD: SUBJECTS[BILLIARD]}, [
            _test("t::a[b]", "LIFE-001", BILLIARD, "passed"),
            _test("t::b[b]", "LIFE-013", BILLIARD, "xfailed", expected=REASON),
        ]),
    }
    out = tmp_path / "results"
    out.mkdir()
    for name, data in runs.items():
        (out / f"{name}.json").write_text(json.dumps(data), encoding="utf-8")
    return out


def test_the_matrix_has_claims_down_and_implementations_by_python_across(results_dir):
    matrix = report.build_matrix(read_many([results_dir]))
    assert [c.label for c in matrix.columns] == ["multiprocessing/fork", "billiard/fork"]
    assert matrix.pythons == ["3.11", "3.12"]
    assert matrix.cell("LIFE-001", "multiprocessing/fork", "3.12").status == "pass"
    assert matrix.cell("LIFE-013", "multiprocessing/fork", "3.12").status == "FAIL"
    assert matrix.cell("LIFE-013", "billiard/fork", "3.11").status == "xfail"
    assert matrix.cell("LIFE-013", "billiard/fork", "3.12").status == ""
    assert [(d.reason, d.where) for d in report.deviations(matrix)] == \
        [(REASON, ("billiard/fork (3.11)",))]
    assert [(c, col, py) for c, col, py, _ in matrix.unexpected()] == \
        [("LIFE-013", "multiprocessing/fork", "3.12")]
    assert matrix.figures[("overhead_s", "multiprocessing/fork")] == [0.01, 0.03]


def test_the_markdown_explains_deviations_and_shows_per_python_differences(results_dir):
    matrix = report.build_matrix(read_many([results_dir]))
    text = report.render_markdown(matrix, None, [], [], None)
    row = next(line for line in text.splitlines() if line.startswith("| LIFE-013"))
    assert "3.11 pass, 3.12 FAIL" in row and "xfail" in row
    assert REASON in text and "measured: exitcode 1" in text
    assert "| overhead_s | multiprocessing/fork | 2 |" in text


def test_the_command_writes_both_files_and_fails_on_unexpected_results(results_dir, tmp_path):
    controls = tmp_path / "controls.json"
    controls.write_text(json.dumps({"controls": [
        {"name": "exitcode-zero", "defect": "every child exits 0", "breaks": ["LIFE-011"],
         "broken": ["LIFE-011"], "missed": []}]}), encoding="utf-8")
    out = tmp_path / "report"
    status = report.main([str(results_dir), "--out", str(out), "--no-measure",
                          "--controls", str(controls)])
    assert status == 1  # the made-up 3.12 failure
    md = (out / "report.md").read_text(encoding="utf-8")
    assert "| exitcode-zero | every child exits 0 | LIFE-011 | LIFE-011 | caught |" in md
    assert (out / "report.html").read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def _points_and_timeline():
    points = [pictures.CurvePoint(b, n, 0.2, t) for b, base in (("fork", 0.21), ("spawn", 0.3))
              for n, t in ((1, base), (2, base + 0.01), (4, base + 0.05), (8, base + 0.2))]
    timeline = pictures.Timeline("fork", 0.2, tuple(
        pictures.Bar(f"child {i}", 0.001 * i, 0.002 + 0.001 * i, 0.202 + 0.001 * i,
                     0.21 + 0.001 * i) for i in range(4)))
    return points, timeline


def test_the_pictures_are_well_formed_svg_and_readable_text():
    points, timeline = _points_and_timeline()
    for svg in (pictures.svg_total_vs_n(points), pictures.svg_gantt(timeline)):
        ET.fromstring(svg)  # raises on malformed XML
    table = pictures.text_total_vs_n(points)
    assert re.search(r"^fork\s+8\s+0\.410\s+0\.210\s+1\.610\s+\?$", table, re.M), table
    assert pictures.peak_overlap(timeline) == 4
    gantt = pictures.text_gantt(timeline)
    bars = gantt.splitlines()[1:]
    assert len(bars) == 4 and all(b.count("j") == 1 and b.count("#") > 40 for b in bars)


CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome")


def _chromium() -> str | None:
    return next((path for path in map(shutil.which, CHROMIUM_NAMES) if path), None)


def _headless(browser: str, profile: Path, *args: str) -> subprocess.CompletedProcess:
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
             "--no-first-run", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
             f"--user-data-dir={profile}"]
    return subprocess.run([browser, *flags, *args], capture_output=True, text=True,
                          timeout=120)


@pytest.mark.skipif(_chromium() is None,
                    reason="no headless browser: apt-get install chromium (.ci/run does)")
def test_the_html_page_renders_in_headless_chromium(results_dir, tmp_path):
    matrix = report.build_matrix(read_many([results_dir]))
    points, timeline = _points_and_timeline()
    page = tmp_path / "report.html"
    page.write_text(report.render_html(matrix, None, points, [timeline], 12.0),
                    encoding="utf-8")
    browser = _chromium()
    assert browser is not None
    dom = _headless(browser, tmp_path / "profile-dom", "--dump-dom", page.as_uri())
    assert dom.returncode == 0, dom.stderr[-2000:]
    # The page's own script counted the cells: the browser parsed the table and ran it.
    rendered = re.search(r'data-rendered="([^"]*)"', dom.stdout)
    assert rendered, dom.stdout[:2000]
    assert rendered.group(1) == "claims=2 pass=4 xfail=1 FAIL=1 skip=0"
    assert dom.stdout.count("<svg") == 2 and "<polyline" in dom.stdout
    shot = tmp_path / "page.png"
    png = _headless(browser, tmp_path / "profile-shot", f"--screenshot={shot}",
                    "--window-size=1200,900", page.as_uri())
    assert png.returncode == 0 and shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", \
        png.stderr[-2000:]
