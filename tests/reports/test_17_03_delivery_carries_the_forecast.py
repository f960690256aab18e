"""Issue 17, point 3: reports sits below planning, so the scheduled report no longer imports the
capital-planning forecast; the scheduler hands it over as an appendix. Finance still gets the
forecast under the report, as before, and the scheduler's job is what passes it."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

import scheduler
from notifications.models import Notification
from planning.service import forecast_appendix
from reports import delivery as delivery_module
from reports.delivery import deliver_due
from tests.conftest import see_committed
from tests.reports.test_delivery import CONFIG, UTC, world  # noqa: F401  (world: a fixture)

MONDAY_AFTER = dt.datetime(2026, 10, 12, 6, tzinfo=UTC)


def bodies(session, user):
    see_committed(session)
    return [n.body for n in session.scalars(select(Notification).where(Notification.user_id == user.id))]


def test_finance_gets_the_forecast_under_the_report(session, world):  # noqa: F811
    run = deliver_due(session, MONDAY_AFTER, CONFIG, appendix=forecast_appendix(CONFIG))
    assert run.sent == 1
    [body] = bodies(session, world["finance"])
    assert "Capital planning: replacement forecast" in body
    assert body.index("Capital planning") > body.index("utilisation")  # under the report


def test_without_an_appendix_the_report_stands_alone(session, world):  # noqa: F811
    deliver_due(session, MONDAY_AFTER, CONFIG)
    [body] = bodies(session, world["finance"])
    assert "Capital planning" not in body


def test_the_schedulers_job_passes_the_forecast(app, monkeypatch):
    calls = []
    monkeypatch.setattr(delivery_module, "deliver_due", lambda *args, **kwargs: calls.append(kwargs))
    with app.app_context():
        scheduler.deliver_reports()
    [kwargs] = calls
    lines = kwargs["appendix"]
    assert lines.__qualname__ == forecast_appendix(CONFIG).__qualname__
