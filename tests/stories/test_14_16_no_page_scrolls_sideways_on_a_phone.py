"""Issue 14, point 16: on a 390 px phone no page is wider than the screen.

Each role signs in on a phone (Chromium, 390 px) and opens every page it can reach on the demo
university: approvals, my bookings, maintenance, the report and planning tables and charts among
them. A page that scrolls sideways hides part of itself (the approvals' decide column was
off-screen); tables turn into stacked rows instead, charts scale to the width. Every page's
screenshot goes to test-output/screenshots/phone-<role>-<page>.png, and a few desktop ones too, so
a person can see that the stacked rows read well and the desktop still looks right.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from sqlalchemy import func, select

from accounts.models import User
from bookings.models import Booking, BookingStatus
from inventory.models import Asset, ImportJob, ImportState, MaintenanceWindow, School
from tests.e2e.conftest import SCREENSHOTS, serious_accessibility_violations

PHONE_WIDTH = 390

ROLES = ("tom.whitfield", "manager.chem", "facilities.manager", "finance", "admin")

# Page routes that are not pages to look at: downloads, feeds, images, the API's own reference
# (the API has its own test) and pages only reached by posting a form.
NOT_PAGES = re.compile(
    r"\.(csv|xlsx|pdf|jpg|ics|json)$|^/static/|^/api|^/healthz$|^/\.well-known/|^/calendar/|^/sign-out$"
)


@dataclass(frozen=True)
class Place:
    name: str  # for the screenshot and the failure message
    path: str
    rule: str  # the app's URL rule this page stands for, to check that every page is visited


def _places(demo, person: str) -> list[Place]:
    """Every main page, with ids from the demo university that suit this person."""
    session = demo.session()
    user = session.scalars(select(User).where(func.lower(User.email) == demo.email(person))).one()
    schools = {school.code: school for school in session.scalars(select(School))}
    home_school = schools["ENG"] if person == "facilities.manager" else schools["CHEM"]
    asset = session.scalars(
        select(Asset).where(Asset.school_id == home_school.id).order_by(Asset.portable.desc(), Asset.id)
    ).first()
    # The asset whose maintenance runs latest (planned, with its table of windows): that page
    # was 763 px wide.
    serviced = (
        session.scalars(
            select(Asset)
            .join(MaintenanceWindow, MaintenanceWindow.asset_id == Asset.id)
            .where(Asset.school_id == home_school.id)
            .group_by(Asset.id)
            .order_by(func.max(MaintenanceWindow.end_at).desc(), Asset.id)
        ).first()
        or asset
    )
    own = (
        session.scalars(
            select(Booking).where(Booking.requester_id == user.id).order_by(Booking.start_at.desc())
        ).first()
        or session.scalars(select(Booking).order_by(Booking.start_at.desc())).first()
    )
    pending = session.scalars(
        select(Booking)
        .join(Asset, Asset.id == Booking.asset_id)
        .where(Booking.status == BookingStatus.PENDING, Asset.school_id == home_school.id)
        .order_by(Booking.start_at)
    ).first()
    loan = session.scalars(
        select(Booking)
        .join(Asset, Asset.id == Booking.asset_id)
        .where(
            Booking.status == BookingStatus.CONFIRMED,
            Asset.portable.is_(True),
            Asset.school_id == home_school.id,
        )
        .order_by(Booking.start_at)
    ).first()
    lent = session.scalars(
        select(Booking)
        .join(Asset, Asset.id == Booking.asset_id)
        .where(Booking.status == BookingStatus.CHECKED_OUT, Asset.portable.is_(True))
        .order_by(Booking.start_at)
    ).first()
    someone = session.scalars(select(User).where(User.id != user.id).order_by(User.id)).first()
    job = session.scalars(select(ImportJob).where(ImportJob.school_id == home_school.id)).first()
    today = dt.date.today()
    period = (
        f"from={(today - dt.timedelta(days=90)).isoformat()}&to={(today - dt.timedelta(days=1)).isoformat()}"
    )
    places = [
        Place("home", "/", "/"),
        Place("catalogue", "/catalogue", "/catalogue"),
        Place("asset", f"/assets/{asset.id}", "/assets/<int:asset_id>"),
        Place("book", f"/assets/{asset.id}/book", "/assets/<int:asset_id>/book"),
        Place("week", f"/assets/{asset.id}/week", "/assets/<int:asset_id>/week"),
        Place("waitlist-join", f"/assets/{asset.id}/waitlist", "/assets/<int:asset_id>/waitlist"),
        Place("my-bookings", "/bookings", "/bookings"),
        Place("booking", f"/bookings/{own.id}", "/bookings/<int:booking_id>"),
        Place("waitlist", "/waitlist", "/waitlist"),
        Place("profile", "/profile", "/profile"),
        Place("password", "/profile/password", "/profile/password"),
        Place("cancel", f"/bookings/{own.id}/cancel", "/bookings/<int:booking_id>/cancel"),
        Place("notifications", "/notifications", "/notifications"),
        Place("notification-preferences", "/notifications/preferences", "/notifications/preferences"),
        Place("schools", "/schools", "/schools"),
        Place("school", f"/schools/{home_school.id}", "/schools/<int:school_id>"),
        Place("import", f"/schools/{home_school.id}/import", "/schools/<int:school_id>/import"),
        Place("new-asset", f"/schools/{home_school.id}/assets/new", "/schools/<int:school_id>/assets/new"),
        Place("quotas", f"/schools/{home_school.id}/quotas", "/schools/<int:school_id>/quotas"),
        Place("school-training", f"/schools/{home_school.id}/training", "/schools/<int:school_id>/training"),
        Place("approvals", "/approvals", "/approvals"),
        Place("register", "/register", "/register"),
        Place("asset-edit", f"/assets/{asset.id}/edit", "/assets/<int:asset_id>/edit"),
        Place("photo", f"/assets/{asset.id}/photo", "/assets/<int:asset_id>/photo"),
        Place("maintenance", f"/assets/{serviced.id}/maintenance", "/assets/<int:asset_id>/maintenance"),
        Place("inspections", f"/assets/{serviced.id}/inspections", "/assets/<int:asset_id>/inspections"),
        Place("training", f"/assets/{asset.id}/training", "/assets/<int:asset_id>/training"),
        Place("labels", "/labels", "/labels"),
        Place("loans", "/loans", "/loans"),
        Place("admin-users", "/admin/users", "/admin/users"),
        Place("new-user", "/admin/users/new", "/admin/users/new"),
        Place("edit-user", f"/admin/users/{someone.id}", "/admin/users/<int:user_id>"),
        Place("utilisation", f"/reports/utilisation?{period}", "/reports/utilisation"),
        Place("subscriptions", "/reports/subscriptions", "/reports/subscriptions"),
        Place("trend", "/reports/trend", "/reports/trend"),
        Place("planning", "/planning", "/planning"),
        Place("planning-lives", "/planning/lives", "/planning/lives"),
        Place("people", "/people?technique=Confocal+microscopy", "/people"),
        Place("person", f"/people/{user.id}?{period}", "/people/<int:user_id>"),
        Place("person-edit", f"/people/{user.id}/edit", "/people/<int:user_id>/edit"),
        Place("team", f"/schools/{home_school.id}/team", "/schools/<int:school_id>/team"),
    ]
    if job is not None:
        places.append(
            Place(
                "import-job",
                f"/schools/{home_school.id}/import/jobs/{job.id}",
                "/schools/<int:school_id>/import/jobs/<int:job_id>",
            )
        )
    if pending is not None:
        places.append(
            Place("approve", f"/bookings/{pending.id}/approve", "/bookings/<int:booking_id>/approve")
        )
    if loan is not None:
        places.append(
            Place("hand-over", f"/bookings/{loan.id}/hand-over", "/bookings/<int:booking_id>/hand-over")
        )
    if lent is not None:
        places.append(Place("return", f"/bookings/{lent.id}/return", "/bookings/<int:booking_id>/return"))
    session.close()
    return places


def _width(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth")


# A table region that scrolls inside itself still hides columns on a phone: tables stack instead.
_SCROLLING_TABLES = """() => [...document.querySelectorAll('.table-wrap')]
    .filter((wrap) => wrap.offsetParent !== null && wrap.scrollWidth > wrap.clientWidth + 1)
    .map((wrap) => `${wrap.querySelector('caption')?.textContent.trim() || wrap.getAttribute('aria-label') || 'a table'}`
        + ` (${wrap.scrollWidth} px in ${wrap.clientWidth} px)`)"""

# A chart shrunk to the width keeps its text readable: the smallest text as drawn, in CSS pixels.
_SMALL_CHART_TEXT = """(smallest) => [...document.querySelectorAll('svg.chart')]
    .filter((svg) => svg.getBoundingClientRect().width > 0)
    .flatMap((svg) => {
        const scale = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
        const sizes = [...svg.querySelectorAll('text')].map((t) => parseFloat(t.getAttribute('font-size')) * scale);
        const drawn = Math.min(...sizes);
        return drawn < smallest ? [`${svg.querySelector('title').textContent}: text ${drawn.toFixed(1)} px`] : [];
    })"""
SMALLEST_CHART_TEXT = 10.5  # px: the chart's 11 px notes at full size; 14 px text shrunk to 6.8 px failed


def _visit(page, place: Place) -> int | None:
    """Open the page; its status, or None when this person may not see it (403/404)."""
    response = page.goto(place.path)
    status = response.status if response else 0
    if status in (403, 404):
        return None
    assert status < 500, f"{place.name} ({place.path}) answered {status}"
    return status


def _screenshot(page, name: str) -> None:
    """The top of the page (long stacked lists run to tens of thousands of pixels)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    size = page.viewport_size
    height = min(page.evaluate("document.documentElement.scrollHeight"), 2400)
    clip = {"x": 0, "y": 0, "width": size["width"], "height": height}
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True, clip=clip, timeout=60_000)


def _check(page, who: str, name: str, problems: list[str]) -> None:
    """Screenshot the page and note what a phone cannot show: a page wider than the screen, a table
    scrolling sideways inside it, a chart whose text is too small to read."""
    _screenshot(page, f"phone-{who}-{name}")
    where = urlsplit(page.url)
    path = where.path + (f"?{where.query}" if where.query else "")
    width = _width(page)
    if width > PHONE_WIDTH:
        problems.append(f"{who:>20} {name:<26} {width} px wide  {path}")
    for table in page.evaluate(_SCROLLING_TABLES):
        problems.append(f"{who:>20} {name:<26} table scrolls sideways: {table}")
    for chart in page.evaluate(_SMALL_CHART_TEXT, SMALLEST_CHART_TEXT):
        problems.append(f"{who:>20} {name:<26} chart unreadable: {chart}")


def _lend_something(demo) -> None:
    """The demo lends nothing out: make one CHEM asset with confirmed bookings a portable one, and
    hand one of them over, so the hand-over and return pages exist."""
    session = demo.session()
    chem = session.scalars(select(School).where(School.code == "CHEM")).one()
    bookings = session.scalars(
        select(Booking)
        .join(Asset, Asset.id == Booking.asset_id)
        .where(Asset.school_id == chem.id, Booking.status == BookingStatus.CONFIRMED)
        .order_by(Booking.asset_id, Booking.start_at)
    ).all()
    lent = [booking for booking in bookings if booking.asset_id == bookings[0].asset_id]
    assert len(lent) >= 2, "the demo should have confirmed CHEM bookings"
    lent[0].asset.portable = True
    lent[0].status = BookingStatus.CHECKED_OUT
    lent[0].handed_over_at = lent[0].start_at
    # An import that ended with problems: its page lists them.
    manager = session.scalars(select(User).where(func.lower(User.email) == demo.email("manager.chem"))).one()
    session.add(
        ImportJob(
            school_id=chem.id,
            created_by_id=manager.id,
            filename="a-very-long-register-file-name-from-finance.xlsx",
            content=None,
            state=ImportState.FAILED,
            rows_total=2,
            rows_done=0,
            message="Nothing was imported: checked again, the file has 1 problem.",
            problems=[[2, "Tag", "The tag CHEM-0001 belongs to another School's asset, not to this one."]],
        )
    )
    session.commit()
    session.close()


def test_no_page_is_wider_than_a_390px_phone_for_any_role(demo):
    _lend_something(demo)
    problems: list[str] = []
    reached: dict[str, list[str]] = {}
    rules_seen: set[str] = set()
    for person in ROLES:
        page = demo.page(viewport="phone", sign_in=person)
        reached[person] = []
        for place in _places(demo, person):
            if _visit(page, place) is None:
                continue
            reached[person].append(place.name)
            rules_seen.add(place.rule)
            _check(page, person, place.name, problems)
            if person == "finance" and place.name == "utilisation":
                # A kept copy of the report (a snapshot) is a page of its own.
                page.get_by_role("button", name="Keep a copy of this report").click()
                page.wait_for_url("**/reports/snapshots/*")
                reached[person].append("snapshot")
                rules_seen.add("/reports/snapshots/<int:snapshot_id>")
                _check(page, person, "snapshot", problems)
        page.context.close()
    # The pages people reach before signing in.
    page = demo.page(viewport="phone")
    for place in (
        Place("sign-in", "/sign-in", "/sign-in"),
        Place("password-reset", "/password-reset", "/password-reset"),
    ):
        _visit(page, place)
        rules_seen.add(place.rule)
        _check(page, "signed-out", place.name, problems)

    summary = "\n".join(f"  {person}: {', '.join(names)}" for person, names in reached.items())
    assert not problems, (
        f"On a {PHONE_WIDTH} px phone these pages scroll sideways or cannot be read:\n"
        + "\n".join(problems)
        + f"\n\nPages reached:\n{summary}"
    )
    # Every page of the app was looked at by someone (a new page joins the list above).
    rules = {
        rule.rule
        for rule in demo.app.url_map.iter_rules()
        if "GET" in rule.methods and not NOT_PAGES.search(rule.rule)
    }
    unvisited = rules - rules_seen - {"/password-reset/<token>"}  # the signed-out form's twin
    assert not unvisited, f"Pages no role was shown on a phone: {sorted(unvisited)}"


def _accessibility_roles(page) -> dict[str, int]:
    """How many nodes of each role Chromium's own accessibility tree has (what screen readers get)."""
    cdp = page.context.new_cdp_session(page)
    nodes = cdp.send("Accessibility.getFullAXTree")["nodes"]
    roles: dict[str, int] = {}
    for node in nodes:
        if not node.get("ignored"):
            role = node.get("role", {}).get("value", "")
            roles[role] = roles.get(role, 0) + 1
    return roles


def test_stacked_rows_are_still_tables_to_a_screen_reader_and_pass_axe(demo):
    """The approval queue, stacked on a phone, still reads as a table of rows and headed columns;
    the pages whose tables and charts changed have no serious axe findings, at 390 and 1280 px."""
    page = demo.page(viewport="phone", sign_in="manager.chem")
    page.goto("/approvals")
    first = page.locator("main table tbody tr").first
    assert first.locator("td[data-label='Requester']").is_visible()
    label = first.locator("td[data-label='When']").evaluate(
        "(td) => getComputedStyle(td, '::before').content"
    )
    assert "When" in label, label
    roles = _accessibility_roles(page)
    assert roles.get("table") == 1 and roles.get("columnheader") == 7, roles
    assert roles.get("row", 0) > 20 and roles.get("cell", 0) > 100, roles

    session = demo.session()
    serviced = session.scalars(
        select(MaintenanceWindow.asset_id)
        .group_by(MaintenanceWindow.asset_id)
        .order_by(func.max(MaintenanceWindow.end_at).desc())
    ).first()
    today = dt.date.today()
    period = (
        f"from={(today - dt.timedelta(days=90)).isoformat()}&to={(today - dt.timedelta(days=1)).isoformat()}"
    )
    changed = {
        "approvals": "/approvals",
        "my-bookings": "/bookings",
        "maintenance": f"/assets/{serviced}/maintenance",
        "training": f"/assets/{serviced}/training",
        "asset-edit": f"/assets/{serviced}/edit",
        "register": "/register",
        "utilisation": f"/reports/utilisation?{period}",
        "planning": "/planning",
    }
    findings = []
    for viewport in ("phone", "desktop"):
        page = demo.page(viewport=viewport, sign_in="admin")
        for name, path in changed.items():
            page.goto(path)
            findings += [
                f"{viewport} {name}: {finding}" for finding in serious_accessibility_violations(page)
            ]
            if viewport == "desktop":
                _screenshot(page, f"desktop-admin-{name}")
    assert not findings, "\n".join(findings)
