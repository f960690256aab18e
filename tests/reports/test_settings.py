"""The report thresholds are settings, read from the environment and checked at start-up."""

import pytest

from core.config import Config, ConfigError
from reports.figures import ReportSettings


def settings(**environ):
    config = Config.from_env({"KITSHARE_ENV": "development", **environ})
    config.check()  # what create_app does: ConfigError for settings that make no sense
    return config


def test_thresholds_default_to_10_and_80_percent_and_one_working_day():
    assert ReportSettings.from_config(settings()) == ReportSettings(0.10, 0.80, 24)


def test_thresholds_are_read_from_the_environment():
    configured = settings(
        KITSHARE_IDLE_THRESHOLD="0.05", KITSHARE_SATURATED_THRESHOLD="0.9", KITSHARE_LATE_CANCEL_HOURS="48"
    )
    assert ReportSettings.from_config(configured) == ReportSettings(0.05, 0.90, 48)


@pytest.mark.parametrize("idle, saturated", [("0.9", "0.8"), ("-0.1", "0.8"), ("0.1", "80")])
def test_thresholds_that_make_no_sense_stop_the_app_starting(idle, saturated):
    with pytest.raises(ConfigError, match="fractions"):
        settings(KITSHARE_IDLE_THRESHOLD=idle, KITSHARE_SATURATED_THRESHOLD=saturated)
