"""Run the benchmark: build the databases, measure every operation against its floor, print one
table and write it as JSON to bench/results/.

``python -m bench`` (``make bench``) runs the full size on PostgreSQL and SQLite;
``python -m bench --quick`` (``make bench-quick``) a small size with fewer repeats. Each figure
is the median of repeated runs, interleaved with its floor's runs so that a noisy neighbour on
this shared machine slows both alike. See bench/README.md for what each row means.
"""

from __future__ import annotations

import argparse
import bisect
import datetime as dt
import itertools
import json
import logging
import os
import platform
import random
import sqlite3
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from bench.floor import Floor
from bench.generate import (
    FULL,
    PASSWORD,
    QUICK,
    RULED_CATEGORY,
    SEED,
    Size,
    bench_settings,
    build_database,
    overlapping_active_bookings,
)
from core.config import EXTENSION_KEY, normalise_database_url

PROJECT = Path(__file__).resolve().parent.parent
RESULTS = PROJECT / "bench" / "results"
DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/kitshare_bench"
UTC = dt.UTC


@dataclass(frozen=True)
class Plan:
    """How many times each operation is repeated (medians), and for how long the load runs."""

    bookings: int = 30
    searches: int = 20
    weeks: int = 20
    reports: int = 5
    report_pages: int = 3
    warmup: int = 3
    load_seconds: float = 15.0
    clients: int = 16


FULL_PLAN = Plan(report_pages=2)
QUICK_PLAN = Plan(bookings=12, searches=8, weeks=8, reports=2, report_pages=1, warmup=2, load_seconds=4.0)
#: A slow yearly report's repeats are fitted into this many seconds.
REPORT_BUDGET_S = 120.0
#: A report slower than this (in its own process) is repeated only within REPORT_BUDGET_S.
SLOW_REPORT_S = 10.0
#: The yearly report's service, all Schools: under this (issue 15 point 14). Its ratio to the
#: floor is in the table too.
REPORT_TARGET_S = 2.0
#: A service slower than this is not measured again through the page (it cannot meet the target).
PAGE_SKIP_S = 60.0
#: The report in its own process (for its memory) is stopped after this long.
REPORT_TIMEOUT_S = 900


@dataclass
class Row:
    operation: str
    db: str
    through: str
    value: float | None
    unit: str
    floor: float | None = None
    floor_through: str = ""
    ratio: float | None = None
    target: str = ""
    passed: bool | None = None
    samples: int = 0
    detail: dict[str, Any] = field(default_factory=dict)


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def log(message: str) -> None:
    print(message, flush=True)


def phase(name: str, measure: Callable[[], list[Row]]) -> list[Row]:
    log(f"  {name} ...")
    started = time.perf_counter()
    rows = measure()
    log(f"  {name}: {time.perf_counter() - started:.0f} s")
    return rows


# --- Databases --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Databases:
    kind: str  # "postgresql" or "sqlite"
    big: str
    small: str


def databases_for(kind: str, size: Size) -> Databases:
    if kind == "postgresql":
        url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_POSTGRES)
        small = str(
            sa.make_url(url)
            .set(database=sa.make_url(url).database + "_small")
            .render_as_string(hide_password=False)
        )
        return Databases(kind, url, small)
    return Databases(
        kind,
        f"sqlite:///{RESULTS / f'bench-{size.name}.sqlite'}",
        f"sqlite:///{RESULTS / f'bench-{size.name}-small.sqlite'}",
    )


def _marker(dbs: Databases) -> Path:
    """Where a build is recorded: one file per database (the PostgreSQL one serves both sizes)."""
    name = sa.make_url(dbs.big).database or dbs.kind
    return RESULTS / f".built-{dbs.kind}-{Path(name).stem}.json"


def prepare(dbs: Databases, size: Size, now: dt.datetime, reuse: bool) -> dict[str, Any]:
    """Build both databases, unless ``reuse`` and they were built today, at this size, by these
    migrations."""
    marker = _marker(dbs)
    migrations = sorted(path.name for path in (PROJECT / "migrations" / "versions").glob("*.py"))
    wanted = {
        "size": asdict(size),
        "seed": SEED,
        "day": now.date().isoformat(),
        "big": dbs.big,
        "small": dbs.small,
        "migrations": migrations,
    }
    if reuse and marker.exists():
        built = json.loads(marker.read_text())
        if all(built.get(key) == value for key, value in wanted.items()):
            log(f"  reusing the {dbs.kind} databases built earlier today")
            return built["build"]
    marker.unlink(missing_ok=True)
    build = {
        "small": build_database(dbs.small, size, size.small_bookings, now, log=log),
        "big": build_database(dbs.big, size, size.bookings, now, log=log),
    }
    marker.write_text(json.dumps({**wanted, "build": build}))
    return build


# --- The app in-process -----------------------------------------------------------------------


class InProcess:
    """A Kitshare app on one database, its Flask test clients (one signed-in per person) and
    what the benchmark needs to know about its people and kit."""

    def __init__(self, url: str, log_stream: Any) -> None:
        from web.app import create_app

        self.url = url
        self.app = create_app(bench_settings(url))
        for name in ("kitshare", self.app.logger.name):  # request logs to a file, not the table
            for handler in logging.getLogger(name).handlers:
                handler.setStream(log_stream)
        self.clients: dict[int, Any] = {}
        self.api_clients: dict[int, Any] = {}
        self.tokens: dict[int, str] = {}
        from accounts.models import User
        from core.db import db
        from inventory.models import Asset, AssetStatus, Category

        with self.app.app_context():
            self.bench_people = {
                user.id: (user.email, user.home_school_id)
                for user in db.session.scalars(
                    sa.select(User).where(User.email.like("bench.%")).order_by(User.id)
                )
            }
            self.finance_email = db.session.scalar(
                sa.select(User.email).where(User.is_finance.is_(True)).order_by(User.id)
            )
            self.ruled = [
                (asset_id, school_id)
                for asset_id, school_id in db.session.execute(
                    sa.select(Asset.id, Asset.school_id)
                    .join(Category, Category.id == Asset.category_id)
                    .where(
                        Category.name == RULED_CATEGORY,
                        Asset.status == AssetStatus.AVAILABLE,
                        Asset.bookable.is_(True),
                    )
                    .order_by(Asset.id)
                )
            ]
            db.session.remove()

    @property
    def engine(self) -> sa.Engine:
        from core.db import db

        with self.app.app_context():
            return db.engine

    def client(self, user_id: int) -> Any:
        if user_id not in self.clients:
            client = self.app.test_client()
            email = self.bench_people[user_id][0]
            response = client.post("/sign-in", data={"email": email, "password": PASSWORD})
            if response.status_code != 302:
                raise RuntimeError(f"{email} could not sign in: {response.status_code}")
            self.clients[user_id] = client
        return self.clients[user_id]

    def finance_client(self) -> Any:
        if -1 not in self.clients:
            client = self.app.test_client()
            response = client.post("/sign-in", data={"email": self.finance_email, "password": PASSWORD})
            if response.status_code != 302:
                raise RuntimeError(f"{self.finance_email} could not sign in: {response.status_code}")
            self.clients[-1] = client
        return self.clients[-1]

    def token(self, user_id: int) -> str:
        if user_id not in self.tokens:
            from accounts.models import User
            from accounts.service import create_api_token
            from core.db import db

            with self.app.app_context():
                user = db.session.get(User, user_id)
                _, secret = create_api_token(db.session, user, "Benchmark")
                db.session.remove()
            self.tokens[user_id] = secret
        return self.tokens[user_id]

    def people_of(self, school_id: int) -> list[int]:
        return [user_id for user_id, (_, school) in self.bench_people.items() if school == school_id]


def _wall(moment: dt.datetime) -> str:
    from core.timeutil import to_local

    return to_local(moment).strftime("%Y-%m-%dT%H:%M")


def book_through_form(
    app: InProcess, user_id: int, asset_id: int, start: dt.datetime, end: dt.datetime
) -> bool:
    response = app.client(user_id).post(
        f"/assets/{asset_id}/book",
        data={"start": _wall(start), "end": _wall(end), "purpose": "Benchmark booking", "repeat": "none"},
    )
    return response.status_code == 302 and "/bookings/" in response.headers.get("Location", "")


def book_through_api(
    app: InProcess, user_id: int, asset_id: int, start: dt.datetime, end: dt.datetime
) -> bool:
    client = app.api_clients.setdefault(user_id, app.app.test_client())
    response = client.post(
        "/api/v1/bookings",
        json={
            "asset_id": asset_id,
            "start": start.isoformat(),
            "end": end.isoformat(),
            "purpose": "Benchmark booking",
        },
        headers={"Authorization": f"Bearer {app.token(user_id)}"},
    )
    return response.status_code == 201


# --- Free slots -------------------------------------------------------------------------------


def free_slots(
    engine: sa.Engine,
    asset_ids: list[int],
    first_day: dt.date,
    last_day: dt.date,
    minutes: int,
    step: int,
    opens: int = 9 * 60,
    closes: int = 17 * 60,
    turnaround: int = 15,
) -> dict[int, list[tuple[dt.datetime, dt.datetime]]]:
    """For each asset, the times of ``minutes`` on a grid of ``step`` minutes, on weekdays within
    its office hours, that no active booking (with turnaround) or maintenance is in the way of.
    With ``step`` at least ``minutes`` plus the turnaround, the times never clash with each other."""
    from bookings.models import ACTIVE_STATUSES, Booking
    from core.timeutil import local_day_bounds, local_to_utc
    from inventory.models import MaintenanceWindow

    lo, _ = local_day_bounds(first_day)
    _, hi = local_day_bounds(last_day)
    busy: dict[int, list[tuple[dt.datetime, dt.datetime]]] = {asset_id: [] for asset_id in asset_ids}
    with engine.connect() as conn:
        for asset_id, start, until in conn.execute(
            sa.select(Booking.asset_id, Booking.start_at, Booking.blocked_until).where(
                Booking.asset_id.in_(asset_ids),
                Booking.status.in_(ACTIVE_STATUSES),
                Booking.start_at < hi,
                Booking.blocked_until > lo,
            )
        ):
            busy[asset_id].append((start, until))
        for asset_id, start, end in conn.execute(
            sa.select(MaintenanceWindow.asset_id, MaintenanceWindow.start_at, MaintenanceWindow.end_at).where(
                MaintenanceWindow.asset_id.in_(asset_ids),
                MaintenanceWindow.start_at < hi,
                MaintenanceWindow.end_at > lo,
            )
        ):
            busy[asset_id].append((start, end + dt.timedelta(minutes=turnaround)))
    slots: dict[int, list[tuple[dt.datetime, dt.datetime]]] = {}
    for asset_id in asset_ids:
        taken = sorted(busy[asset_id])
        starts = [start for start, _ in taken]
        latest_until = list(itertools.accumulate((until for _, until in taken), max))  # of taken[:i + 1]
        found = []
        day = first_day
        while day <= last_day:
            if day.weekday() < 5:
                begin = opens
                while begin + minutes <= closes:
                    start = local_to_utc(dt.datetime.combine(day, dt.time(begin // 60, begin % 60)))
                    end = start + dt.timedelta(minutes=minutes)
                    before = bisect.bisect_left(
                        starts, end + dt.timedelta(minutes=turnaround)
                    )  # taken starting before it frees
                    if before == 0 or latest_until[before - 1] <= start:
                        found.append((start, end))
                    begin += step
            day += dt.timedelta(days=1)
        slots[asset_id] = found
    return slots


# --- Measurements -----------------------------------------------------------------------------


def _time(action: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    outcome = action()
    return time.perf_counter() - started, outcome


def measure_creation(
    big: InProcess, small: InProcess, dbs: Databases, plan: Plan, now: dt.datetime, rng: random.Random
) -> list[Row]:
    """Booking creation through the app (form and JSON API) and the floor, at 1,000 and at the full
    number of existing bookings, interleaved."""
    from bookings.models import Booking
    from core.timeutil import to_local

    today = to_local(now).date()
    total_big, total_small = _count_bookings(big.engine), _count_bookings(small.engine)
    rounds = plan.warmup + plan.bookings
    lanes = ("app_small", "app_big", "floor_small", "floor_big", "api_big")
    jobs: dict[str, list[tuple[int, int, dt.datetime, dt.datetime]]] = {}
    # The busier half of the ruled assets (the same assets in both databases): a booking's
    # conflict check then has a long history of the asset's bookings to look past.
    school_of = dict(big.ruled)
    with big.engine.connect() as conn:
        held = dict(
            conn.execute(
                sa.select(Booking.asset_id, sa.func.count())
                .where(Booking.asset_id.in_(list(school_of)))
                .group_by(Booking.asset_id)
            ).all()
        )
    assets = sorted(school_of, key=lambda asset_id: (-held.get(asset_id, 0), asset_id))[
        : max(20, len(school_of) // 2)
    ]
    for target in (big, small):
        lanes_here = [lane for lane in lanes if lane.endswith("big" if target is big else "small")]
        slots = free_slots(
            target.engine, assets, today + dt.timedelta(days=3), today + dt.timedelta(days=80), 60, 75
        )
        pool = [(asset_id, start, end) for asset_id, found in slots.items() for start, end in found]
        rng.shuffle(pool)
        needed = rounds * len(lanes_here)
        if len(pool) < needed:
            raise RuntimeError(f"only {len(pool)} free slots for {needed} bookings")
        for n, lane in enumerate(lanes_here):
            chosen = pool[n * rounds : (n + 1) * rounds]
            jobs[lane] = []
            for i, (asset_id, start, end) in enumerate(chosen):
                people = target.people_of(school_of[asset_id])
                jobs[lane].append((people[i % len(people)], asset_id, start, end))
        for user_id in target.bench_people:
            target.client(user_id)  # sign in before the clock starts
    floors = {"floor_big": Floor(dbs.big), "floor_small": Floor(dbs.small)}
    actions: dict[str, Callable[[int, int, dt.datetime, dt.datetime], bool]] = {
        "app_big": lambda u, a, s, e: book_through_form(big, u, a, s, e),
        "app_small": lambda u, a, s, e: book_through_form(small, u, a, s, e),
        "api_big": lambda u, a, s, e: book_through_api(big, u, a, s, e),
        "floor_big": lambda u, a, s, e: (
            floors["floor_big"].create_booking(u, a, s, e, "Benchmark booking", now) is not None
        ),
        "floor_small": lambda u, a, s, e: (
            floors["floor_small"].create_booking(u, a, s, e, "Benchmark booking", now) is not None
        ),
    }
    for lane in ("api_big",):  # tokens are made before the clock starts
        for user_id, *_ in jobs[lane]:
            big.token(user_id)
    samples: dict[str, list[float]] = {lane: [] for lane in lanes}
    for i in range(rounds):
        order = list(lanes)
        rng.shuffle(order)
        for lane in order:
            user_id, asset_id, start, end = jobs[lane][i]
            seconds, ok = _time(lambda: actions[lane](user_id, asset_id, start, end))
            if not ok:
                raise RuntimeError(
                    f"{lane}: booking asset {asset_id} at {start} was refused; the benchmark expects free slots"
                )
            if i >= plan.warmup:
                samples[lane].append(seconds * 1000)
    for floor in floors.values():
        floor.close()
    m = {lane: median(values) for lane, values in samples.items()}
    rows = [
        Row(
            f"create a booking (all rules checked), {total_small:,} bookings",
            dbs.kind,
            "WSGI app: POST /assets/<id>/book",
            m["app_small"],
            "ms",
            m["floor_small"],
            "hand-written SQL, one transaction",
            m["app_small"] / m["floor_small"],
            "<= 3x floor",
            m["app_small"] <= 3 * m["floor_small"],
            len(samples["app_small"]),
        ),
        Row(
            f"create a booking (all rules checked), {total_big:,} bookings",
            dbs.kind,
            "WSGI app: POST /assets/<id>/book",
            m["app_big"],
            "ms",
            m["floor_big"],
            "hand-written SQL, one transaction",
            m["app_big"] / m["floor_big"],
            "<= 3x floor",
            m["app_big"] <= 3 * m["floor_big"],
            len(samples["app_big"]),
        ),
        Row(
            "create a booking: growth from 1,000 to full size",
            dbs.kind,
            "WSGI app (median at full / at 1,000)",
            m["app_big"] / m["app_small"],
            "x",
            None,
            "",
            m["app_big"] / m["app_small"],
            "<= 1.3x",
            m["app_big"] <= 1.3 * m["app_small"],
            len(samples["app_big"]),
            {"floor_growth": m["floor_big"] / m["floor_small"]},
        ),
        Row(
            f"create a booking, JSON API, {total_big:,} bookings",
            dbs.kind,
            "WSGI app: POST /api/v1/bookings",
            m["api_big"],
            "ms",
            m["floor_big"],
            "hand-written SQL, one transaction",
            m["api_big"] / m["floor_big"],
            "(for information)",
            None,
            len(samples["api_big"]),
        ),
    ]
    for row, lane in zip(rows, ("app_small", "app_big", "app_big", "api_big")):
        row.detail.update(samples_ms=[round(v, 2) for v in samples[lane]])
    return rows


def _count_bookings(engine: sa.Engine) -> int:
    with engine.connect() as conn:
        return int(conn.exec_driver_sql("SELECT count(*) FROM bookings").scalar() or 0)


def measure_reads(
    big: InProcess, dbs: Databases, plan: Plan, now: dt.datetime, rng: random.Random
) -> list[Row]:
    """Catalogue "free in this window" and an asset's week (the busiest assets, the weeks ahead),
    through the app and the floor."""
    from bookings.models import Booking
    from core.timeutil import local_to_utc, to_local

    today = to_local(now).date()
    floor = Floor(dbs.big)
    user_id = next(iter(big.bench_people))
    client = big.client(user_id)

    windows = []
    for _ in range(plan.warmup + plan.searches):
        day = today + dt.timedelta(days=rng.randint(2, 80))
        while day.weekday() >= 5:
            day += dt.timedelta(days=1)
        hour = rng.choice((9, 10, 11, 13, 14, 15))
        windows.append((dt.datetime.combine(day, dt.time(hour)), dt.datetime.combine(day, dt.time(hour + 2))))
    app_ms, floor_ms, totals = [], [], []
    for i, (wall_from, wall_to) in enumerate(windows):
        url = f"/catalogue?free_from={wall_from:%Y-%m-%dT%H:%M}&free_to={wall_to:%Y-%m-%dT%H:%M}"
        if i % 2:  # take turns going first
            floor_s, rows = _time(lambda: floor.catalogue(local_to_utc(wall_from), local_to_utc(wall_to)))
        app_s, response = _time(lambda: client.get(url))
        if response.status_code != 200:
            raise RuntimeError(f"GET {url}: {response.status_code}")
        if not i % 2:
            floor_s, rows = _time(lambda: floor.catalogue(local_to_utc(wall_from), local_to_utc(wall_to)))
        if i >= plan.warmup:
            app_ms.append(app_s * 1000)
            floor_ms.append(floor_s * 1000)
            totals.append(rows[0][-1] if rows else 0)
    # The app and the floor must agree on what is free, or the comparison means nothing.
    from core.db import db
    from inventory.catalogue import CatalogueFilters, search

    with big.app.app_context():
        from accounts.models import User

        actor = db.session.get(User, user_id)
        wall_from, wall_to = windows[-1]
        page = search(
            db.session,
            actor,
            CatalogueFilters(free_from=local_to_utc(wall_from), free_to=local_to_utc(wall_to)),
        )
        db.session.remove()
    if page.total != totals[-1]:
        raise RuntimeError(f"the catalogue found {page.total} free assets, the floor {totals[-1]}")
    a, f = median(app_ms), median(floor_ms)
    rows = [
        Row(
            'catalogue search "free in this window"',
            dbs.kind,
            "WSGI app: GET /catalogue?free_from=&free_to=",
            a,
            "ms",
            f,
            "one hand-written SQL query",
            a / f,
            "<= 3x floor and < 100 ms",
            a <= 3 * f and a < 100,
            len(app_ms),
            {"free_assets_median": median(totals), "samples_ms": [round(v, 2) for v in app_ms]},
        )
    ]

    # An asset's week: the busiest assets of the coming weeks, as a technician looks them up.
    with big.engine.connect() as conn:
        busiest = [
            asset_id
            for (asset_id,) in conn.execute(
                sa.select(Booking.asset_id)
                .where(Booking.start_at > now, Booking.start_at < now + dt.timedelta(days=60))
                .group_by(Booking.asset_id)
                .order_by(sa.func.count().desc(), Booking.asset_id)
                .limit(50)
            )
        ]
    app_ms, floor_ms, busy = [], [], []
    for i in range(plan.warmup + plan.weeks):
        asset_id = rng.choice(busiest)
        monday = today + dt.timedelta(days=7 * rng.randint(0, 8))  # the weeks ahead, as people look
        monday -= dt.timedelta(days=monday.weekday())
        url = f"/assets/{asset_id}/week?start={monday.isoformat()}"
        if i % 2:
            floor_s, found = _time(lambda: floor.week(asset_id, monday))
        app_s, response = _time(lambda: client.get(url))
        if response.status_code != 200:
            raise RuntimeError(f"GET {url}: {response.status_code}")
        if not i % 2:
            floor_s, found = _time(lambda: floor.week(asset_id, monday))
        if i >= plan.warmup:
            app_ms.append(app_s * 1000)
            floor_ms.append(floor_s * 1000)
            busy.append(len(found))
    floor.close()
    a, f = median(app_ms), median(floor_ms)
    rows.append(
        Row(
            "an asset's week availability",
            dbs.kind,
            "WSGI app: GET /assets/<id>/week?start=",
            a,
            "ms",
            f,
            "one hand-written SQL query",
            a / f,
            "<= 3x floor and < 100 ms",
            a <= 3 * f and a < 100,
            len(app_ms),
            {"busy_periods_median": median(busy), "samples_ms": [round(v, 2) for v in app_ms]},
        )
    )
    return rows


def report_period(now: dt.datetime) -> tuple[dt.date, dt.date]:
    """The last twelve whole months."""
    from core.timeutil import to_local
    from reports.periods import add_months, first_of_month

    this_month = first_of_month(to_local(now).date())
    return add_months(this_month, -12), this_month - dt.timedelta(days=1)


def _memory_probe(url: str, period_from: dt.date, period_to: dt.date) -> dict[str, Any]:
    result = subprocess.run(
        [sys.executable, "-m", "bench.memory", url, period_from.isoformat(), period_to.isoformat()],
        cwd=PROJECT,
        capture_output=True,
        text=True,
        timeout=REPORT_TIMEOUT_S,
    )
    if result.returncode != 0:
        raise RuntimeError(f"bench.memory failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def measure_report(
    big: InProcess, small: InProcess, dbs: Databases, plan: Plan, now: dt.datetime
) -> list[Row]:
    """The yearly utilisation report for every School: the service, the page, the floor; and its
    peak memory at 1,000 bookings and at full size.

    The report runs first in a process of its own for its memory (``bench.memory``), which also
    says how long it took. A report far slower than its target is then repeated fewer times, in a
    time budget (the JSON says how many runs each median had, and the probe's run counts as one):
    one slow report must not hold the benchmark up for an hour, and one more slow run would change
    nothing in the verdict.
    """
    from core.db import db
    from reports.figures import ReportSettings, utilisation_report
    from reports.figures_json import report_to_json
    from reports.periods import month_spans, utc_bounds

    period_from, period_to = report_period(now)
    months = [utc_bounds(span.first_day, span.last_day) for span in month_spans(period_from, period_to)]
    memory = {
        "small": _memory_probe(small.url, period_from, period_to),
        "big": _memory_probe(big.url, period_from, period_to),
    }
    probe_s = memory["big"]["seconds"]
    slow = probe_s > SLOW_REPORT_S
    runs = plan.reports if not slow else min(plan.reports, int(REPORT_BUDGET_S / probe_s))
    page_runs = (
        plan.report_pages
        if not slow
        else (min(plan.report_pages, int(REPORT_BUDGET_S / probe_s)) if probe_s <= PAGE_SKIP_S else 0)
    )
    log(
        f"    report: {probe_s:.1f} s in its own process; {runs} more runs in-process, {page_runs} through the page"
    )

    settings = ReportSettings.from_config(big.app.extensions[EXTENSION_KEY])
    readers = big.app.extensions[EXTENSION_KEY].report_readers  # as the page reads it
    floor = Floor(dbs.big)

    def service() -> dict[str, Any]:
        with big.app.app_context():
            figures = report_to_json(
                utilisation_report(db.session, period_from, period_to, None, settings, readers=readers)
            )
            db.session.remove()
        return figures

    service_s = [probe_s] if slow else []
    floor_s: list[float] = []
    floor_hours = 0.0

    def floor_run() -> None:
        nonlocal floor_hours
        seconds, floor_rows = _time(lambda: floor.booked_hours(months))
        floor_s.append(seconds)
        floor_hours = sum(float(r[3] or 0) for r in floor_rows)

    floor_run()  # warm-up
    if not slow:
        service()  # warm-up
    for _ in range(runs):
        seconds, _figures = _time(service)
        service_s.append(seconds)
        floor_run()
    while len(floor_s) <= plan.reports:
        floor_run()
    floor_s = floor_s[1:]
    page_s = []
    client = big.finance_client()
    page_url = f"/reports/utilisation?from={period_from.isoformat()}&to={period_to.isoformat()}"
    for _ in range(page_runs):
        seconds, response = _time(lambda: client.get(page_url))
        if response.status_code != 200:
            raise RuntimeError(f"GET {page_url}: {response.status_code}")
        page_s.append(seconds)
    floor.close()
    s, f = median(service_s), median(floor_s)
    p = median(page_s) if page_s else None
    detail = {
        "period": [period_from.isoformat(), period_to.isoformat()],
        "assets": memory["big"]["assets"],
        "bookings_in_period": memory["big"]["bookings"],
        "booked_hours_report": memory["big"]["booked_hours"],
        "booked_hours_floor": round(floor_hours, 2),
        "floor_samples_s": [round(v, 3) for v in floor_s],
    }
    rows = [
        Row(
            "utilisation report, one year, all Schools",
            dbs.kind,
            "the service: utilisation_report + report_to_json",
            s * 1000,
            "ms",
            f * 1000,
            "one hand-written aggregate SQL query",
            s / f,
            f"< {REPORT_TARGET_S:.0f} s (issue 15 point 14)",
            s < REPORT_TARGET_S,
            len(service_s),
            {**detail, "samples_s": [round(v, 3) for v in service_s]},
        ),
        Row(
            "utilisation report, one year, all Schools",
            dbs.kind,
            "WSGI app: GET /reports/utilisation?from=&to=",
            p * 1000 if p is not None else None,
            "ms",
            f * 1000,
            "one hand-written aggregate SQL query",
            p / f if p is not None else None,
            "<= 2x floor and < 5 s",
            (p <= 2 * f and p < 5) if p is not None else False,
            len(page_s),
            {
                "samples_s": [round(v, 3) for v in page_s],
                "not_run": ""
                if page_s
                else f"not run: the service alone takes {probe_s:.0f} s (over {PAGE_SKIP_S:.0f} s)",
            },
        ),
    ]
    small_mib, big_mib = memory["small"]["report_mib"], memory["big"]["report_mib"]
    growth = big_mib / small_mib if small_mib > 0 else float("inf")
    rows.append(
        Row(
            "peak memory of that report",
            dbs.kind,
            "the process: peak RSS during the report, above its RSS before",
            big_mib,
            "MiB",
            small_mib,
            f"the same at {memory['small']['bookings']:,} bookings in the year",
            growth,
            "<= 1.25x its size at 1,000 bookings",
            growth <= 1.25,
            1,
            {"full": memory["big"], "small": memory["small"]},
        )
    )
    return rows


# --- Concurrency through gunicorn (PostgreSQL) ---------------------------------------------------


def measure_concurrency(
    big: InProcess, dbs: Databases, plan: Plan, now: dt.datetime, log_path: Path
) -> list[Row]:
    """Bookings per second through gunicorn against the floor's threads, then a race for one slot,
    then a search for overlapping active bookings in the whole table."""
    from bench.load import Gunicorn, run_app_load, run_floor_load, run_race
    from core.timeutil import to_local

    today = to_local(now).date()
    pairs: list[tuple[int, int]] = []  # (person, an asset of their own School): 16 of each, all different
    for asset_id, school_id in big.ruled:
        people = [u for u in big.people_of(school_id) if u not in {p for p, _ in pairs}]
        if people:
            pairs.append((people[0], asset_id))
        if len(pairs) == plan.clients:
            break
    if len(pairs) < plan.clients:
        raise RuntimeError(
            f"only {len(pairs)} bench people with a ruled asset of their own; need {plan.clients}"
        )
    assets = [asset_id for _, asset_id in pairs]
    # Half-hour bookings 45 minutes apart (the turnaround is 15), far enough ahead to be free.
    app_slots = free_slots(
        big.engine, assets, today + dt.timedelta(days=100), today + dt.timedelta(days=400), 30, 45
    )
    floor_slots = free_slots(
        big.engine, assets, today + dt.timedelta(days=420), today + dt.timedelta(days=720), 30, 45
    )
    tokens = {user_id: big.token(user_id) for user_id, _ in pairs}
    # The race: both bench people of one School, on 8 connections each, for one of its assets.
    race_asset, race_school = pairs[0][1], dict(big.ruled)[pairs[0][1]]
    racers = [(user_id, big.token(user_id)) for user_id in big.people_of(race_school)]
    racers = [racers[i % len(racers)] for i in range(plan.clients)]
    race_slots = free_slots(
        big.engine, [race_asset], today + dt.timedelta(days=95), today + dt.timedelta(days=99), 60, 75
    )[race_asset]
    with Gunicorn(dbs.big, log_path) as server:
        app = run_app_load(server, pairs, tokens, app_slots, plan.load_seconds)
        race = run_race(server, racers, race_asset, race_slots)
    floor = run_floor_load(dbs.big, pairs, floor_slots, plan.load_seconds, now)
    with big.engine.connect() as conn:
        overlaps = overlapping_active_bookings(conn)
    ratio = app["per_second"] / floor["per_second"] if floor["per_second"] else float("nan")
    return [
        Row(
            f"bookings created per second, {plan.clients} concurrent clients",
            dbs.kind,
            "gunicorn -w 4: POST /api/v1/bookings",
            app["per_second"],
            "/s",
            floor["per_second"],
            f"psycopg, {plan.clients} threads, the floor's transaction",
            ratio,
            ">= 0.5x floor",
            ratio >= 0.5,
            app["created"],
            {"app": app, "floor": floor},
        ),
        Row(
            "overlapping active bookings afterwards",
            dbs.kind,
            f"SQL over every booking, after the load and {len(race['rounds'])} races of {plan.clients} clients for one slot",
            overlaps,
            "",
            None,
            "",
            None,
            "0, and each race booked once",
            overlaps == 0 and set(race["created"]) == {1},
            len(race["rounds"]),
            {"race": race},
        ),
    ]


# --- The table ----------------------------------------------------------------------------------

#: What ``--only`` can pick: booking creation, catalogue and week, the report, the load (PostgreSQL).
PHASES = ("create", "reads", "report", "load")


def _format(value: float | None, unit: str) -> str:
    if value is None:
        return ""
    if unit == "ms":
        return f"{value:,.1f} ms" if value < 1000 else f"{value / 1000:,.2f} s"
    if unit == "/s":
        return f"{value:,.0f} /s"
    if unit == "MiB":
        return f"{value:,.1f} MiB"
    if unit == "x":
        return f"{value:.2f}x"
    return f"{value:,.0f}"


def format_table(rows: list[Row]) -> str:
    header = ("operation", "db", "median", "floor", "ratio", "target", "result", "runs")
    lines = [
        (
            r.operation,
            r.db,
            _format(r.value, r.unit),
            _format(r.floor, r.unit if r.unit != "x" else ""),
            f"{r.ratio:.2f}x" if r.ratio is not None else "",
            r.target,
            "" if r.passed is None else ("PASS" if r.passed else "FAIL"),
            str(r.samples),
        )
        for r in rows
    ]
    widths = [max(len(str(x)) for x in column) for column in zip(header, *lines)]

    def line(cells: tuple[str, ...]) -> str:
        return "| " + " | ".join(str(c).ljust(w) for c, w in zip(cells, widths)) + " |"

    out = [line(header), "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    out += [line(cells) for cells in lines]
    return "\n".join(out)


def environment() -> dict[str, Any]:
    info: dict[str, Any] = {
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "cpus": os.cpu_count(),
        "machine": platform.machine(),
    }
    try:
        engine = sa.create_engine(
            normalise_database_url(os.environ.get("BENCH_DATABASE_URL", DEFAULT_POSTGRES))
        )
        with engine.connect() as conn:
            info["postgresql"] = conn.exec_driver_sql("SHOW server_version").scalar()
        engine.dispose()
    except sa.exc.SQLAlchemyError:  # only for the record
        pass
    return info


def _require_postgres(url: str) -> None:
    """Stop early, and say what to do, when the benchmark's PostgreSQL cannot be reached."""
    target = sa.make_url(normalise_database_url(url))
    engine = sa.create_engine(target.set(database="postgres"))
    try:
        with engine.connect():
            pass
    except sa.exc.OperationalError as error:
        raise SystemExit(
            f"PostgreSQL at {target.render_as_string()} cannot be reached ({error.orig}).\n"
            "Set BENCH_DATABASE_URL to a PostgreSQL the benchmark may create databases in, or run "
            "only SQLite: .venv/bin/python -m bench --db sqlite"
        ) from None
    finally:
        engine.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="a small university and fewer repeats (about a minute)"
    )
    parser.add_argument(
        "--db", default="postgresql,sqlite", help="postgresql, sqlite or both (comma-separated)"
    )
    parser.add_argument(
        "--reuse", action="store_true", help="reuse databases built earlier today at this size"
    )
    parser.add_argument("--build-only", action="store_true", help="build the databases, measure nothing")
    parser.add_argument(
        "--only",
        default=",".join(PHASES),
        help=f"measure only these phases (comma-separated, of {', '.join(PHASES)}); the table then has only their rows",
    )
    args = parser.parse_args(argv)
    only = {p.strip() for p in args.only.split(",") if p.strip()}
    if only - set(PHASES):
        parser.error(f"--only takes {', '.join(PHASES)}")
    size, plan = (QUICK, QUICK_PLAN) if args.quick else (FULL, FULL_PLAN)
    RESULTS.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    from core.db import utcnow

    started_at = utcnow()
    now = started_at.replace(second=0, microsecond=0)  # the data is reckoned from the minute
    rng = random.Random(SEED)
    rows: list[Row] = []
    builds: dict[str, Any] = {}
    timings: dict[str, float] = {}
    stamp = started_at.strftime("%Y%m%d-%H%M%S")
    log_path = RESULTS / f"bench-{stamp}.log"
    log(
        f"Kitshare benchmark, {size.name} size: {size.schools} Schools, {size.assets:,} assets, {size.bookings:,} bookings "
        f"over {size.years} years (seed {SEED}). Request logs: {log_path.relative_to(PROJECT)}"
    )
    with log_path.open("a") as log_stream:
        kinds = [k.strip() for k in args.db.split(",") if k.strip()]
        if set(kinds) - {"postgresql", "sqlite"}:
            parser.error("--db takes postgresql, sqlite or both")
        for kind in kinds:
            kind_started = time.perf_counter()
            dbs = databases_for(kind, size)
            if kind == "postgresql":
                _require_postgres(dbs.big)
            log(f"[{kind}] building the databases")
            builds[kind] = prepare(dbs, size, now, args.reuse)
            if args.build_only:
                continue
            log(f"[{kind}] measuring")
            big, small = InProcess(dbs.big, log_stream), InProcess(dbs.small, log_stream)
            kind_rows: list[Row] = []
            if "create" in only:
                kind_rows += phase(
                    "booking creation", lambda: measure_creation(big, small, dbs, plan, now, rng)
                )
            if "reads" in only:
                kind_rows += phase("catalogue and week", lambda: measure_reads(big, dbs, plan, now, rng))
            if "report" in only:
                kind_rows += phase(
                    "utilisation report and its memory", lambda: measure_report(big, small, dbs, plan, now)
                )
            if kind == "postgresql" and "load" in only:
                kind_rows += phase(
                    "bookings under load (gunicorn)",
                    lambda: measure_concurrency(big, dbs, plan, now, log_path),
                )
            for app in (big, small):
                from core.db import db

                with app.app.app_context():
                    db.engine.dispose()
            rows += kind_rows
            timings[kind] = round(time.perf_counter() - kind_started, 1)
            log(format_table(kind_rows))
    total = round(time.perf_counter() - started, 1)
    if args.build_only:
        log(f"Built in {total:.0f} s.")
        return 0
    table = format_table(rows)
    log("\n" + table)
    failed = [r for r in rows if r.passed is False]
    log(
        f"\n{len(rows) - len(failed) - sum(r.passed is None for r in rows)} targets met, {len(failed)} missed; "
        f"{total:.0f} s in all ({', '.join(f'{k} {v:.0f} s' for k, v in timings.items())})."
    )
    out = RESULTS / f"bench-{stamp}.json"
    out.write_text(
        json.dumps(
            {
                "size": asdict(size),
                "plan": asdict(plan),
                "seed": SEED,
                "started_at": started_at.isoformat(),
                "seconds": total,
                "seconds_by_db": timings,
                "environment": environment(),
                "builds": builds,
                "rows": [asdict(r) for r in rows],
                "table": table,
            },
            indent=2,
            default=str,
        )
    )
    log(f"Written to {out.relative_to(PROJECT)}")
    return 0
