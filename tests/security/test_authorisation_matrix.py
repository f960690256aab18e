"""Authorisation matrix: every route and API operation x every role x objects of School A and B.

Each (endpoint, method) has an expectation: for each role and object School, the outcome class
("ok", "login", "401", "403", "404", "400"). A route the table does not know fails the test, so new
routes must be added here. Writes by roles that may not write must leave the database unchanged.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re

import pytest
import sqlalchemy as sa
from flask import Flask

from accounts.models import Role
from accounts.service import create_api_token
from bookings.models import Booking, BookingStatus, Quota, QuotaPeriod, WaitlistEntry
from core.db import db
from inventory.models import (
    Category,
    ImportJob,
    InspectionKind,
    InspectionSchedule,
    Location,
    MaintenanceWindow,
    TrainingAuthorisation,
    TrainingRequest,
)
from notifications.models import Notification
from reports.figures import utilisation_report
from reports.models import Frequency, ReportSubscription
from reports.service import store_snapshot
from tests.conftest import PASSWORD, _empty_all_tables
from tests.factories import make_asset, make_booking, make_school, make_user

UTC = dt.UTC
ROLES = ("anonymous", "tech_a", "manager_a", "manager_b", "finance", "admin")
SCHOOLS = ("A", "B")

#: Private strings of School B that School A's manager must never see.
B_SECRETS = ("FUNDINGB-7f3c", "98,765.43", "PURPOSEB-INTERNAL-91", "TRAININGNOTEB-44")


def build_world(session) -> dict:
    """Schools A and B with one of every object, plus a user and token per role."""
    now = dt.datetime.now(UTC)
    # A Monday two to three weeks ahead, 10:00 UTC (10:00 or 11:00 in London): inside the assets'
    # weekday hours whatever day the suite runs on (a plain "in 14 days" fails on a Saturday).
    day = (now + dt.timedelta(days=14)).date()
    day += dt.timedelta(days=(7 - day.weekday()) % 7)
    start = dt.datetime.combine(day, dt.time(10), tzinfo=UTC)
    a = make_school(session, "SCHA", "School A")
    b = make_school(session, "SCHB", "School B")
    users = {
        "tech_a": make_user(session, a, email="tech_a@test.ac.uk"),
        "tech_b": make_user(session, b, email="tech_b@test.ac.uk"),
        "manager_a": make_user(session, a, Role.MANAGER, email="manager_a@test.ac.uk"),
        "manager_b": make_user(session, b, Role.MANAGER, email="manager_b@test.ac.uk"),
        "finance": make_user(session, a, Role.FINANCE, email="finance@test.ac.uk"),
        "admin": make_user(session, a, Role.ADMIN, email="admin@test.ac.uk"),
    }
    ids: dict[str, dict[str, object]] = {}
    for code, school, own_tech, other_tech in (
        ("A", a, users["tech_a"], users["tech_b"]),
        ("B", b, users["tech_b"], users["tech_a"]),
    ):
        category = Category(name=f"Category {code}")
        location = Location(school=school, building=f"Building {code}", room="R1")
        session.add_all([category, location])
        session.commit()
        secret = code == "B"
        asset = make_asset(
            session,
            school,
            category=category,
            location=location,
            purchase_cost_pence=9876543 if secret else 1000,
            funding_source="FUNDINGB-7f3c" if secret else "Funding A",
        )
        own = make_booking(session, asset, own_tech, start, status=BookingStatus.PENDING)
        own.purpose = "PURPOSEB-INTERNAL-91" if secret else "Purpose A internal"
        session.commit()
        ids.setdefault(code, {})
        ids[code].update(
            school_id=school.id,
            asset_id=asset.id,
            location_id=location.id,
            category_id=category.id,
            booking_id=own.id,
            asset_token=asset.calendar_token,
            user_token=own_tech.calendar_token,
            user_id=own_tech.id,
        )
    # Each technician asks for the other School's asset too.
    for code, other, tech in (("A", "B", users["tech_a"]), ("B", "A", users["tech_b"])):
        from inventory.models import Asset

        asset = session.get(Asset, ids[other]["asset_id"])
        cross = make_booking(
            session, asset, tech, start + dt.timedelta(hours=3), status=BookingStatus.PENDING
        )
        ids[code]["cross_booking_id"] = cross.id
    for code in SCHOOLS:
        school_id = ids[code]["school_id"]
        asset_id = ids[code]["asset_id"]
        tech = users["tech_a" if code == "A" else "tech_b"]
        schedule = InspectionSchedule(
            asset_id=asset_id,
            kind=InspectionKind.CALIBRATION,
            interval_days=365,
            next_due_on=now.date() + dt.timedelta(days=30),
        )
        grant = TrainingAuthorisation(
            user_id=tech.id,
            school_id=school_id,
            asset_id=asset_id,
            granted_on=now.date(),
            note="TRAININGNOTEB-44" if code == "B" else "Training note A",
        )
        quota = Quota(
            school_id=school_id,
            asset_id=asset_id,
            period=QuotaPeriod.WEEK,
            own_school_minutes=600,
            other_school_minutes=60,
        )
        window = MaintenanceWindow(
            asset_id=asset_id,
            start_at=start + dt.timedelta(days=7),
            end_at=start + dt.timedelta(days=7, hours=2),
            reason=f"Service {code}",
        )
        manager = users["manager_a" if code == "A" else "manager_b"]
        subscription = ReportSubscription(
            user_id=manager.id, frequency=Frequency.MONTHLY, school_ids=[school_id]
        )
        report = utilisation_report(session, now.date() - dt.timedelta(days=30), now.date(), {school_id})
        snapshot = store_snapshot(session, report, manager, title=f"Snapshot {code}")
        entry = WaitlistEntry(
            asset_id=asset_id,
            user_id=tech.id,
            start_at=start + dt.timedelta(days=1),
            end_at=start + dt.timedelta(days=1, hours=1),
        )
        notice = Notification(user_id=tech.id, event="booking_approved", title=f"Notice {code}")
        training_request = TrainingRequest(
            user_id=tech.id, asset_id=asset_id, message="TRAININGNOTEB-44" if code == "B" else "Request A"
        )
        import_job = ImportJob(
            school_id=school_id,
            created_by_id=manager.id,
            filename=f"register-{code}.csv",
            content=b"Tag,Name\n",
        )
        session.add_all(
            [
                schedule,
                grant,
                quota,
                window,
                subscription,
                snapshot,
                entry,
                notice,
                training_request,
                import_job,
            ]
        )
        session.commit()
        token_row, _ = create_api_token(session, tech, name=f"Token {code}")
        session.commit()
        ids[code].update(
            schedule_id=schedule.id,
            authorisation_id=grant.id,
            quota_id=quota.id,
            window_id=window.id,
            subscription_id=subscription.id,
            snapshot_id=snapshot.id,
            entry_id=entry.id,
            notice_id=notice.id,
            token_id=token_row.id,
            request_id=training_request.id,
            job_id=import_job.id,
        )
    tokens = {}
    for role in ROLES[1:]:
        _, secret = create_api_token(session, users[role], name=f"API {role}")
        tokens[role] = secret
    session.commit()
    return {"users": users, "ids": ids, "tokens": tokens}


def url_for_rule(rule, ids: dict[str, object]) -> str:
    """The rule's path with its parameters replaced by the object School's ids."""
    values = {}
    for name in rule.arguments:
        if name == "token":
            values[name] = ids["user_token"] if "user" in rule.rule else ids["asset_token"]
            if "password-reset" in rule.rule:
                values[name] = "not-a-real-token"
        elif name == "slug":
            values[name] = "validation-failed"
        elif name == "booking_id":
            values[name] = ids["booking_id"]
        else:
            values[name] = ids[name]
    path = rule.rule
    for name, value in values.items():
        path = re.sub(r"<(?:[^:<>]+:)?" + name + ">", str(value), path)
    return path


def outcome(response, api: bool) -> str:
    code = response.status_code
    if code in (301, 302, 303) and "/sign-in" in response.headers.get("Location", ""):
        return "login"
    if code < 400:
        return "ok"
    if code in (400, 409, 422):
        return "400"
    return str(code)


VOLATILE_COLUMNS = {"last_used_at", "last_sign_in_at"}


def db_digest(app: Flask) -> str:
    """A fingerprint of every row in every table, ignoring 'last used' timestamps."""
    digest = hashlib.sha256()
    with app.app_context():
        with db.engine.connect() as conn:
            for table in db.metadata.sorted_tables:
                if table.info.get("reference_data"):  # (the calendar: written by the migrations alone)
                    continue
                columns = [c for c in table.columns if c.name not in VOLATILE_COLUMNS]
                rows = conn.execute(sa.select(*columns).order_by(*table.primary_key.columns)).all()
                digest.update(table.name.encode())
                digest.update(repr(rows).encode())
    return digest.hexdigest()


def rule_cases(app: Flask) -> list[tuple[str, str, str]]:
    """(rule, method, endpoint) for every route but static files."""
    cases = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            cases.append((rule.rule, method, rule.endpoint))
    return sorted(cases)


class Caller:
    """Sends a request as one role: a signed-in browser for pages, a Bearer token for the API."""

    def __init__(self, app: Flask, world: dict):
        self.app = app
        self.world = world
        self.browsers = {}
        for role in ROLES:
            client = app.test_client()
            if role != "anonymous":
                response = client.post("/sign-in", data={"email": f"{role}@test.ac.uk", "password": PASSWORD})
                assert response.status_code == 302, role
            self.browsers[role] = client
        self.api_client = app.test_client()

    def call(self, role: str, method: str, path: str):
        if path.startswith("/api/"):
            headers = {} if role == "anonymous" else {"Authorization": f"Bearer {self.world['tokens'][role]}"}
            kwargs = {"json": {}} if method in ("POST", "PATCH") else {}
            return self.api_client.open(path, method=method, headers=headers, **kwargs)
        kwargs = {"data": {}} if method == "POST" else {}
        return self.browsers[role].open(path, method=method, **kwargs)


def fresh_world(app: Flask, session, empty_first: bool = True) -> tuple[dict, Caller]:
    """Build the world; empty the tables first unless they are known to be empty already (each
    test starts with empty tables), which saves a slow TRUNCATE on PostgreSQL."""
    if empty_first:
        _empty_all_tables(app)
    session.rollback()
    session.expunge_all()
    world = build_world(session)
    return world, Caller(app, world)


def run_route(app: Flask, session, rule, method: str, check=None) -> dict[str, str]:
    """Call one (rule, method) as every role on both Schools' objects; the world is rebuilt after
    any call that changed the database, so each call meets the same world. Returns
    {"role/School": outcome}, with "*" appended when the call changed the database."""
    results = {}
    world, caller = fresh_world(app, session, empty_first=False)
    before = None
    for school in SCHOOLS:
        for role in ROLES:
            path = url_for_rule(rule, world["ids"][school])
            if method != "GET" and before is None:
                before = db_digest(app)
            response = caller.call(role, method, path)
            after = db_digest(app) if method != "GET" else None
            changed = method != "GET" and after != before
            before = None if changed else after
            results[f"{role}/{school}"] = outcome(response, path.startswith("/api/")) + (
                "*" if changed else ""
            )
            if check is not None:
                check(role, school, path, response)
            if changed or rule.rule in ("/sign-out", "/sign-in"):
                world, caller = fresh_world(app, session)
                before = None
    return results


#: Expected outcome per (method, rule): for School A's objects, then School B's, one entry per role
#: in ROLES order (anonymous, tech_a, manager_a, manager_b, finance, admin). "*" marks a call that
#: changes the database; every other call must leave it exactly as it was. Classes: ok (2xx/3xx),
#: login (redirect to /sign-in), 400 (form/input refused: 400/409/422), 401, 403, 404. The empty
#: form or body is sent, so an allowed write often gets 400; objects of a School a role cannot see
#: give 404. Routes without School objects (lists, profile) repeat the same row for A and B.
EXPECTED_TABLE = """
    GET / | login ok ok ok ok ok | login ok ok ok ok ok
    GET /.well-known/openorg | ok ok ok ok ok ok | ok ok ok ok ok ok
    GET /admin/users | login 403 403 403 403 ok | login 403 403 403 403 ok
    GET /admin/users/<int:user_id> | login 403 403 403 403 ok | login 403 403 403 403 ok
    POST /admin/users/<int:user_id> | login 403 403 403 403 400 | login 403 403 403 403 400
    GET /admin/users/new | login 403 403 403 403 ok | login 403 403 403 403 ok
    POST /admin/users/new | login 403 403 403 403 400 | login 403 403 403 403 400
    GET /api/v1/assets | 401 ok ok ok ok ok | 401 ok ok ok ok ok
    POST /api/v1/assets | 401 400 400 400 400 400 | 401 400 400 400 400 400
    GET /api/v1/assets/<asset_id> | 401 ok ok ok ok ok | 401 ok ok ok ok ok
    PATCH /api/v1/assets/<asset_id> | 401 403 ok 403 403 ok | 401 403 403 ok 403 ok
    GET /api/v1/assets/<asset_id>/availability | 401 ok ok ok ok ok | 401 ok ok ok ok ok
    GET /api/v1/bookings | 401 ok ok ok ok ok | 401 ok ok ok ok ok
    POST /api/v1/bookings | 401 400 400 400 400 400 | 401 400 400 400 400 400
    GET /api/v1/bookings/<booking_id> | 401 ok ok 404 404 ok | 401 404 404 ok 404 ok
    POST /api/v1/bookings/<booking_id>/approve | 401 403 ok* 404 404 ok* | 401 404 404 ok* 404 ok*
    POST /api/v1/bookings/<booking_id>/cancel | 401 ok* 400 404 404 400 | 401 404 404 400 404 400
    POST /api/v1/bookings/<booking_id>/checkout | 401 400 400 404 404 400 | 401 404 404 400 404 400
    POST /api/v1/bookings/<booking_id>/reject | 401 403 400 404 404 400 | 401 404 404 400 404 400
    POST /api/v1/bookings/<booking_id>/return | 401 403 400 404 404 400 | 401 404 404 400 404 400
    GET /api/v1/categories | 401 ok ok ok ok ok | 401 ok ok ok ok ok
    GET /api/v1/docs | ok ok ok ok ok ok | ok ok ok ok ok ok
    GET /api/v1/openapi.json | ok ok ok ok ok ok | ok ok ok ok ok ok
    GET /api/v1/people | 401 ok ok ok ok ok | 401 ok ok ok ok ok
    GET /api/v1/problems/<slug> | 404 404 404 404 404 404 | 404 404 404 404 404 404
    GET /api/v1/planning/forecast | 401 403 ok ok ok ok | 401 403 ok ok ok ok
    GET /api/v1/planning/recommendations | 401 403 ok ok ok ok | 401 403 ok ok ok ok
    GET /api/v1/reports/sharing | 401 400 400 400 400 400 | 401 400 400 400 400 400
    GET /api/v1/reports/utilisation | 401 400 400 400 400 400 | 401 400 400 400 400 400
    GET /api/v1/schools | 401 ok ok ok ok ok | 401 ok ok ok ok ok
    GET /approvals | login 403 ok ok 403 ok | login 403 ok ok 403 ok
    GET /assets/<int:asset_id> | login ok ok ok ok ok | login ok ok ok ok ok
    GET /assets/<int:asset_id>/book | login ok ok ok ok ok | login ok ok ok ok ok
    POST /assets/<int:asset_id>/book | login 400 400 400 400 400 | login 400 400 400 400 400
    POST /assets/<int:asset_id>/calendar-token/reset | login 403 ok* 403 403 ok* | login 403 403 ok* 403 ok*
    POST /assets/<int:asset_id>/damage/clear | login 403 ok 403 403 ok | login 403 403 ok 403 ok
    POST /assets/<int:asset_id>/delete | login 403 ok 403 403 ok | login 403 403 ok 403 ok
    GET /assets/<int:asset_id>/edit | login 403 ok 403 403 ok | login 403 403 ok 403 ok
    POST /assets/<int:asset_id>/edit | login 403 400 403 403 400 | login 403 403 400 403 400
    GET /assets/<int:asset_id>/inspections | login 403 ok 403 403 ok | login 403 403 ok 403 ok
    POST /assets/<int:asset_id>/inspections | login 403 400 403 403 400 | login 403 403 400 403 400
    POST /assets/<int:asset_id>/inspections/<int:schedule_id>/delete | login 403 ok* 403 403 ok* | login 403 403 ok* 403 ok*
    POST /assets/<int:asset_id>/inspections/<int:schedule_id>/interval | login 403 400 403 403 400 | login 403 403 400 403 400
    POST /assets/<int:asset_id>/inspections/<int:schedule_id>/record | login 403 400 403 403 400 | login 403 403 400 403 400
    GET /assets/<int:asset_id>/label.pdf | login 403 ok 403 403 ok | login 403 403 ok 403 ok
    GET /assets/<int:asset_id>/maintenance | login 403 ok 403 403 ok | login 403 403 ok 403 ok
    POST /assets/<int:asset_id>/maintenance | login 403 400 403 403 400 | login 403 403 400 403 400
    POST /assets/<int:asset_id>/maintenance/<int:window_id>/cancel | login 403 ok* 403 403 ok* | login 403 403 ok* 403 ok*
    GET /assets/<int:asset_id>/photo | login 403 ok 403 403 ok | login 403 403 ok 403 ok
    POST /assets/<int:asset_id>/photo | login 403 400 403 403 400 | login 403 403 400 403 400
    GET /assets/<int:asset_id>/photo-thumb.jpg | 404 404 404 404 404 404 | 404 404 404 404 404 404
    GET /assets/<int:asset_id>/photo.jpg | 404 404 404 404 404 404 | 404 404 404 404 404 404
    POST /assets/<int:asset_id>/photo/delete | login 403 ok 403 403 ok | login 403 403 ok 403 ok
    POST /assets/<int:asset_id>/status | login 403 ok 403 403 ok | login 403 403 ok 403 ok
    GET /assets/<int:asset_id>/training | login 403 ok 403 403 ok | login 403 403 ok 403 ok
    POST /assets/<int:asset_id>/training | login 403 400 403 403 400 | login 403 403 400 403 400
    POST /assets/<int:asset_id>/training/<int:authorisation_id>/revoke | login 403 400 403 403 400 | login 403 403 400 403 400
    POST /assets/<int:asset_id>/training-request | login ok ok ok ok ok | login ok ok ok ok ok
    GET /assets/<int:asset_id>/waitlist | login ok ok ok ok ok | login ok ok ok ok ok
    POST /assets/<int:asset_id>/waitlist | login 400 400 400 400 400 | login 400 400 400 400 400
    GET /assets/<int:asset_id>/week | login ok ok ok ok ok | login ok ok ok ok ok
    GET /bookings | login ok ok ok ok ok | login ok ok ok ok ok
    GET /bookings/<int:booking_id> | login ok ok 404 404 ok | login 404 404 ok 404 ok
    GET /bookings/<int:booking_id>/approve | login 403 ok 403 403 ok | login 403 403 ok 403 ok
    POST /bookings/<int:booking_id>/approve | login 403 ok* 403 403 ok* | login 403 403 ok* 403 ok*
    GET /bookings/<int:booking_id>/cancel | login ok ok 404 404 ok | login 404 404 ok 404 ok
    POST /bookings/<int:booking_id>/cancel | login ok* 400 404 404 400 | login 404 404 400 404 400
    POST /bookings/<int:booking_id>/check-in | login ok ok 404 404 ok | login 404 404 ok 404 ok
    GET /bookings/<int:booking_id>/hand-over | login 403 ok 403 403 ok | login 403 403 ok 403 ok
    POST /bookings/<int:booking_id>/hand-over | login 403 400 403 403 400 | login 403 403 400 403 400
    POST /bookings/<int:booking_id>/reject | login 403 ok 403 403 ok | login 403 403 ok 403 ok
    GET /bookings/<int:booking_id>/return | login 403 ok 403 403 ok | login 403 403 ok 403 ok
    POST /bookings/<int:booking_id>/return | login 403 400 403 403 400 | login 403 403 400 403 400
    GET /calendar/asset/<token>.ics | ok ok ok ok ok ok | ok ok ok ok ok ok
    GET /calendar/user/<token>.ics | ok ok ok ok ok ok | ok ok ok ok ok ok
    GET /catalogue | login ok ok ok ok ok | login ok ok ok ok ok
    POST /categories | login 403 ok ok 403 ok | login 403 ok ok 403 ok
    GET /equipment/uniquip.csv | ok ok ok ok ok ok | ok ok ok ok ok ok
    GET /healthz | ok ok ok ok ok ok | ok ok ok ok ok ok
    GET /labels | login 403 ok ok 403 ok | login 403 ok ok 403 ok
    GET /labels.pdf | login 403 400 400 403 400 | login 403 400 400 403 400
    GET /loans | login 403 ok ok 403 ok | login 403 ok ok 403 ok
    GET /notifications | login ok ok ok ok ok | login ok ok ok ok ok
    POST /notifications/<int:notice_id>/read | login ok* 404 404 404 404 | login 404 404 404 404 404
    GET /notifications/preferences | login ok ok ok ok ok | login ok ok ok ok ok
    POST /notifications/preferences | login ok* ok* ok* ok* ok* | login ok* ok* ok* ok* ok*
    POST /notifications/read-all | login ok* ok ok ok ok | login ok* ok ok ok ok
    GET /password-reset | ok ok ok ok ok ok | ok ok ok ok ok ok
    POST /password-reset | 400 400 400 400 400 400 | 400 400 400 400 400 400
    GET /password-reset/<token> | ok ok ok ok ok ok | ok ok ok ok ok ok
    POST /password-reset/<token> | ok ok ok ok ok ok | ok ok ok ok ok ok
    GET /people | login ok ok ok ok ok | login ok ok ok ok ok
    GET /people/<int:user_id> | login ok ok ok ok ok | login ok ok ok ok ok
    GET /people/<int:user_id>/edit | login ok 403 403 403 ok | login 403 403 403 403 ok
    POST /people/<int:user_id>/edit | login ok* 403 403 403 ok* | login 403 403 403 403 ok*
    GET /people/<int:user_id>/record.csv | login ok ok 403 ok ok | login 403 403 ok 403 ok
    GET /people/<int:user_id>/record.xlsx | login ok ok 403 ok ok | login 403 403 ok 403 ok
    GET /planning | login 403 ok ok ok ok | login 403 ok ok ok ok
    GET /planning.csv | login 403 ok ok ok ok | login 403 ok ok ok ok
    GET /planning.xlsx | login 403 ok ok ok ok | login 403 ok ok ok ok
    POST /planning/decisions | login 403 ok ok ok ok | login 403 ok ok ok ok
    GET /planning/lives | login 403 ok ok ok ok | login 403 ok ok ok ok
    POST /planning/lives/<int:category_id> | login 403 403 403 ok ok | login 403 403 403 ok ok
    GET /profile | login ok ok ok ok ok | login ok ok ok ok ok
    POST /profile | login 400 400 400 400 400 | login 400 400 400 400 400
    GET /profile/password | login ok ok ok ok ok | login ok ok ok ok ok
    POST /profile/password | login 400 400 400 400 400 | login 400 400 400 400 400
    POST /profile/calendar-token/reset | login ok* ok* ok* ok* ok* | login ok* ok* ok* ok* ok*
    POST /profile/tokens/<int:token_id>/revoke | login ok* 404 404 404 ok* | login 404 404 404 404 ok*
    POST /quotas/<int:quota_id>/delete | login 403 ok* 403 403 ok* | login 403 403 ok* 403 ok*
    GET /register | login 403 ok ok 403 ok | login 403 ok ok 403 ok
    GET /register/export.csv | login 403 ok ok 403 ok | login 403 ok ok 403 ok
    GET /register/export.xlsx | login 403 ok ok 403 ok | login 403 ok ok 403 ok
    GET /reports/snapshots/<int:snapshot_id> | login 403 ok 403 ok ok | login 403 403 ok ok ok
    GET /reports/snapshots/<int:snapshot_id>.csv | login 403 ok 403 ok ok | login 403 403 ok ok ok
    GET /reports/snapshots/<int:snapshot_id>.xlsx | login 403 ok 403 ok ok | login 403 403 ok ok ok
    GET /reports/subscriptions | login 403 ok ok ok ok | login 403 ok ok ok ok
    POST /reports/subscriptions | login 403 ok* ok* ok* ok* | login 403 ok* ok* ok* ok*
    POST /reports/subscriptions/<int:subscription_id>/delete | login 403 ok* 403 403 ok* | login 403 403 ok* 403 ok*
    POST /reports/subscriptions/<int:subscription_id>/pause | login 403 ok* 403 403 ok* | login 403 403 ok* 403 ok*
    POST /reports/subscriptions/<int:subscription_id>/resume | login 403 ok 403 403 ok | login 403 403 ok 403 ok
    GET /reports/trend | login 403 ok ok ok ok | login 403 ok ok ok ok
    GET /reports/utilisation | login 403 ok ok ok ok | login 403 ok ok ok ok
    GET /reports/utilisation.csv | login 403 ok ok ok ok | login 403 ok ok ok ok
    GET /reports/utilisation.json | login 403 ok ok ok ok | login 403 ok ok ok ok
    GET /reports/utilisation.xlsx | login 403 ok ok ok ok | login 403 ok ok ok ok
    POST /reports/utilisation/snapshot | login 403 ok* ok* ok* ok* | login 403 ok* ok* ok* ok*
    GET /schools | login ok ok ok ok ok | login ok ok ok ok ok
    POST /schools | login 403 403 403 403 400 | login 403 403 403 403 400
    GET /schools/<int:school_id> | login ok ok ok ok ok | login ok ok ok ok ok
    GET /schools/<int:school_id>/assets/new | login 403 ok 403 403 ok | login 403 403 ok 403 ok
    POST /schools/<int:school_id>/assets/new | login 403 400 403 403 400 | login 403 403 400 403 400
    GET /schools/<int:school_id>/import | login 403 ok 403 403 ok | login 403 403 ok 403 ok
    POST /schools/<int:school_id>/import | login 403 400 403 403 400 | login 403 403 400 403 400
    POST /schools/<int:school_id>/import/confirm | login 403 404 403 403 404 | login 403 403 404 403 404
    GET /schools/<int:school_id>/import/jobs/<int:job_id> | login 403 ok 403 403 ok | login 403 403 ok 403 ok
    GET /schools/<int:school_id>/import/jobs/<int:job_id>/progress.json | login 403 ok 403 403 ok | login 403 403 ok 403 ok
    POST /schools/<int:school_id>/locations | login 403 400 403 403 400 | login 403 403 400 403 400
    GET /schools/<int:school_id>/quotas | login 403 ok 403 403 ok | login 403 403 ok 403 ok
    POST /schools/<int:school_id>/quotas | login 403 400 403 403 400 | login 403 403 400 403 400
    GET /schools/<int:school_id>/team | login 403 ok 403 403 ok | login 403 403 ok 403 ok
    POST /schools/<int:school_id>/team/technicians | login 403 ok 403 403 ok | login 403 403 ok 403 ok
    POST /schools/<int:school_id>/team/technicians/remove | login 403 ok 403 403 ok | login 403 403 ok 403 ok
    GET /schools/<int:school_id>/training | login 403 ok 403 403 ok | login 403 403 ok 403 ok
    POST /schools/<int:school_id>/training | login 403 400 403 403 400 | login 403 403 400 403 400
    POST /schools/<int:school_id>/training/<int:authorisation_id>/revoke | login 403 404 403 403 404 | login 403 403 404 403 404
    GET /sign-in | ok ok ok ok ok ok | ok ok ok ok ok ok
    POST /sign-in | 400 ok ok ok ok ok | 400 ok ok ok ok ok
    POST /sign-out | login login* login* login* login* login* | login login* login* login* login* login*
    POST /training-requests/<int:request_id>/grant | login 403 400 403 403 400 | login 403 403 400 403 400
    POST /training-requests/<int:request_id>/decline | login 403 ok* 403 403 ok* | login 403 403 ok* 403 ok*
    GET /waitlist | login ok ok ok ok ok | login ok ok ok ok ok
    POST /waitlist/<int:entry_id>/accept | login ok 404 404 404 404 | login 404 404 404 404 404
    POST /waitlist/<int:entry_id>/leave | login ok* 404 404 404 404 | login 404 404 404 404 404
"""


def parse_expected(text: str) -> dict[tuple[str, str], dict[str, str]]:
    expected = {}
    for line in text.strip().splitlines():
        head, a, b = (part.strip() for part in line.split("|"))
        method, rule = head.split(" ", 1)
        row = {}
        for school, cells in (("A", a.split()), ("B", b.split())):
            assert len(cells) == len(ROLES), line
            row.update({f"{role}/{school}": cell for role, cell in zip(ROLES, cells)})
        expected[(method, rule)] = row
    return expected


EXPECTED = parse_expected(EXPECTED_TABLE)
MATRIX_CASES = sorted(EXPECTED)

#: Roles that must never see School B's private data (B's manager, finance and admin may).
NOT_B_PRIVILEGED = ("anonymous", "tech_a", "manager_a")


def test_every_route_and_method_is_in_the_matrix(app: Flask) -> None:
    routes = {(method, rule) for rule, method, _ in rule_cases(app)}
    missing = sorted(routes - set(EXPECTED))
    stale = sorted(set(EXPECTED) - routes)
    assert not missing, (
        f"Routes missing from the authorisation matrix (add them to EXPECTED_TABLE): {missing}"
    )
    assert not stale, f"Matrix rows for routes that no longer exist: {stale}"


def _rule(app: Flask, method: str, rule_text: str):
    return next(r for r in app.url_map.iter_rules() if r.rule == rule_text and method in r.methods)


@pytest.mark.parametrize(("method", "rule_text"), MATRIX_CASES, ids=[f"{m} {r}" for m, r in MATRIX_CASES])
def test_route_outcome_for_every_role_and_school(app: Flask, session, method: str, rule_text: str) -> None:
    leaks = []

    def check(role, school, path, response):
        assert response.status_code < 500, f"{method} {path} as {role}: {response.status_code}"
        # A personal calendar feed's secret token is the person's own credential: whoever holds B's
        # technician's token is that technician, so it rightly shows their own booking purposes.
        if method == "GET" and role in NOT_B_PRIVILEGED and not rule_text.startswith("/calendar/user/"):
            body = (
                response.get_data(as_text=True)
                if response.mimetype.startswith(("text/", "application/json"))
                else ""
            )
            for secret in B_SECRETS:
                if secret in body:
                    leaks.append(f"{path} as {role} shows {secret!r}")

    actual = run_route(app, session, _rule(app, method, rule_text), method, check)
    expected = EXPECTED[(method, rule_text)]
    wrong = {
        case: f"expected {expected[case]}, got {actual[case]}"
        for case in expected
        if actual[case] != expected[case]
    }
    assert not wrong, f"{method} {rule_text}: {wrong}"
    assert not leaks, leaks


#: Every route that decides a request. The matrix's bookings are technicians' requests; these are
#: asked by the deciders themselves, who get 403 on each: nobody decides their own request.
DECIDING_ROUTES = (
    ("GET", "/bookings/{id}/approve"),
    ("POST", "/bookings/{id}/approve"),
    ("POST", "/bookings/{id}/reject"),
    ("POST", "/api/v1/bookings/{id}/approve"),
    ("POST", "/api/v1/bookings/{id}/reject"),
)


@pytest.mark.parametrize("role", ["manager_a", "admin"])
def test_nobody_decides_their_own_request(app: Flask, session, role: str) -> None:
    from inventory.models import Asset

    world, caller = fresh_world(app, session, empty_first=False)
    requester = world["users"][role]
    asset = session.get(Asset, world["ids"]["A"]["asset_id"])
    start = session.get(Booking, world["ids"]["A"]["booking_id"]).start_at + dt.timedelta(days=1)
    own = make_booking(session, asset, requester, start, status=BookingStatus.PENDING)
    before = db_digest(app)
    for method, template in DECIDING_ROUTES:
        path = template.format(id=own.id)
        response = caller.call(role, method, path)
        assert response.status_code == 403, f"{method} {path} as {role}: {response.status_code}"
        if path.startswith("/api/"):
            assert response.mimetype == "application/problem+json"
            assert "Nobody decides their own request" in response.get_json()["detail"]
    assert db_digest(app) == before
    # Another decider for the School still can.
    other = "admin" if role == "manager_a" else "manager_a"
    assert caller.call(other, "POST", f"/api/v1/bookings/{own.id}/approve").status_code == 200
