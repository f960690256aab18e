"""flask --app wsgi report: the same report on demand, as CSV or XLSX."""

from __future__ import annotations

import pytest
import time_machine

from tests.reports.conftest import AFTER
from tests.reports.helpers import csv_sections, xlsx_sheets

WEEK = ["report", "--from", "2026-10-19", "--to", "2026-10-25"]


@pytest.fixture(autouse=True)
def after_the_week():
    with time_machine.travel(AFTER, tick=False):
        yield


def test_csv_goes_to_standard_output(app, week):
    result = app.test_cli_runner().invoke(args=WEEK)
    assert result.exit_code == 0, result.output
    sections = csv_sections(result.stdout)
    schools = {row[0]: row for row in sections["By School"]}
    assert schools["CHEM"][3:6] == ["207.00", "45.00", "21.7"]
    assert schools["All"][3:6] == ["255.00", "47.00", "18.4"]


def test_school_option_limits_the_report(app, week):
    result = app.test_cli_runner().invoke(args=[*WEEK, "--school", "phys"])
    assert result.exit_code == 0, result.output
    assert [row[0] for row in csv_sections(result.stdout)["By asset"][1:]] == ["PHYS-C"]


def test_xlsx_is_written_to_the_output_file(app, week, tmp_path):
    target = tmp_path / "october.xlsx"
    result = app.test_cli_runner().invoke(args=[*WEEK, "--format", "xlsx", "--output", str(target)])
    assert result.exit_code == 0, result.output
    last_row = xlsx_sheets(target.read_bytes())["By School"][-1]
    assert last_row[0] == "All" and last_row[4] == 47


def test_xlsx_without_output_gets_a_file_named_after_the_period(app, week, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = app.test_cli_runner().invoke(args=[*WEEK, "--format", "xlsx", "--school", "CHEM"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "utilisation-2026-10-19-to-2026-10-25-CHEM.xlsx").exists()


def test_an_unknown_school_or_a_backwards_period_fails_clearly(app, week):
    runner = app.test_cli_runner()
    unknown = runner.invoke(args=[*WEEK, "--school", "NOPE"])
    assert unknown.exit_code != 0
    assert "No School with code 'NOPE'" in unknown.output
    backwards = runner.invoke(args=["report", "--from", "2026-10-25", "--to", "2026-10-19"])
    assert backwards.exit_code != 0
    assert "The last day must be on or after the first day." in backwards.output
