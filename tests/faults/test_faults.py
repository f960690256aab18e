"""Faults a production deployment meets: the database going away under a running app, an
unreachable database at the health check, and a web worker killed in the middle of booking writes.

(A scheduler killed in the middle of a report delivery is covered by tests/reports/test_delivery.py.)
Everything stays on the loopback interface, bounded in time and in count.
"""

from __future__ import annotations

import datetime as dt
import http.client
import http.cookiejar
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
import sqlalchemy as sa

from bookings.models import ACTIVE_STATUSES, Booking, BookingStatusChange
from tests.conftest import PASSWORD, TEST_DB, TEST_SECRET, see_committed, settings_for_tests
from tests.factories import make_asset, make_school, make_user
from web.app import create_app

PROJECT = Path(__file__).resolve().parents[2]
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # a 302 is an answer we want to see, not follow
        return None


def _browser() -> urllib.request.OpenerDirector:
    return urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), _NoRedirect()
    )


def _fetch(opener, url: str, data: dict[str, str] | None = None, timeout: float = 10) -> tuple[int, str, str]:
    """(status, body, Location) of one request; HTTP errors are answers too."""
    body = urllib.parse.urlencode(data).encode() if data is not None else None
    try:
        with opener.open(url, data=body, timeout=timeout) as response:
            return response.status, response.read().decode(), response.headers.get("Location", "")
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(errors="replace"), error.headers.get("Location", "")


def _assert_no_leak(status: int, body: str) -> None:
    assert "Traceback" not in body and "sqlalchemy" not in body.lower() and "psycopg" not in body.lower()
    if status >= 500:
        friendly = ("Something went wrong", "Kitshare is briefly unavailable", '"status"')
        assert any(text in body for text in friendly), f"{status} without the friendly page"


# --- the database goes away -------------------------------------------------------------------


def test_healthz_answers_503_json_when_the_database_cannot_be_reached(tmp_path):
    if TEST_DB == "postgresql":
        unreachable = "postgresql://postgres@127.0.0.1:1/kitshare_nowhere"
    else:
        unreachable = f"sqlite:///{tmp_path / 'no-such-directory' / 'kitshare.db'}"
    app = create_app(settings_for_tests(unreachable))

    response = app.test_client().get("/healthz")

    assert response.status_code == 503
    assert response.get_json() == {"status": "unavailable", "database": "unreachable"}


def test_a_database_that_cannot_be_reached_gets_a_503_page_that_needs_no_database(app, client, session):
    """On either database: the signed-in person cannot even be loaded, yet the answer is a
    proper page (and for the API a problem), never a bare 500 or a traceback."""
    from core.db import db
    from tests.conftest import sign_in

    sign_in(client, make_user(session, make_school(session)).email)

    def unreachable(*args, **kwargs):
        raise sa.exc.OperationalError("SELECT", {}, Exception("server closed the connection unexpectedly"))

    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", unreachable)
    try:
        page = client.get("/bookings")
        api = client.get("/api/v1/assets", headers={"Authorization": "Bearer ks_anything"})
    finally:
        sa.event.remove(engine, "before_cursor_execute", unreachable)
    assert page.status_code == 503 and page.headers["Retry-After"] == "30"
    assert "cannot reach its database just now" in page.text
    _assert_no_leak(page.status_code, page.text)
    assert api.status_code == 503 and api.mimetype == "application/problem+json"
    assert api.json["type"].endswith("/problems/unavailable")


@pytest.mark.skipif(TEST_DB != "postgresql", reason="SQLite has no server connections to lose")
def test_while_the_database_is_down_requests_fail_cleanly_and_then_recover_without_a_restart(
    live_server, session, app
):
    user = make_user(session, make_school(session), name="Dora Dropped")
    opener = _browser()
    status, _, _ = _fetch(opener, live_server + "/sign-in", {"email": user.email, "password": PASSWORD})
    assert status == 302
    assert _fetch(opener, live_server + "/")[0] == 200  # the pool now holds a live connection

    # What a database restart looks like to the app, without stopping the server other tests
    # share: every connection is dropped, and for a while no new one is accepted.
    with app.app_context():
        from core.db import db

        url = db.engine.url
    database = url.database
    admin = sa.create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'ALTER DATABASE "{database}" WITH ALLOW_CONNECTIONS false')
            dropped = conn.scalar(
                sa.text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = :name"
                ),
                {"name": database},
            )
        assert dropped >= 1
        while_down = [_fetch(opener, live_server + path) for path in ("/", "/catalogue", "/bookings")]
        for status, body, _ in while_down:
            assert status == 503 and "cannot reach its database just now" in body
            _assert_no_leak(status, body)
        api = urllib.request.Request(
            live_server + "/api/v1/assets", headers={"Authorization": "Bearer ks_anything"}
        )
        try:
            urllib.request.urlopen(api, timeout=10)
        except urllib.error.HTTPError as error:
            assert error.code == 503 and int(error.headers["Retry-After"]) > 0
            assert error.headers["Content-Type"] == "application/problem+json"
        else:
            raise AssertionError("the API answered while its database was down")
        health = _fetch(opener, live_server + "/healthz")
        assert health[0] == 503 and '"unreachable"' in health[1]
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'ALTER DATABASE "{database}" WITH ALLOW_CONNECTIONS true')
        admin.dispose()

    answers = [_fetch(opener, live_server + "/") for _ in range(3)]
    for status, body, _ in answers:
        _assert_no_leak(status, body)
    assert answers[-1][0] == 200 and "Dora Dropped" in answers[-1][1]  # still signed in
    assert _fetch(opener, live_server + "/healthz")[0] == 200


# --- a web worker killed with SIGKILL in the middle of booking writes -------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _children(pid: int) -> set[int]:
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found |= {int(child) for child in (task / "children").read_text().split()}
        except OSError:
            pass
    return found


def _slot(k: int) -> tuple[str, str]:
    """The k-th weekday 10:00-11:00 from Monday 7 January 2030 (local wall-clock times)."""
    day = dt.date(2030, 1, 7) + dt.timedelta(days=(k // 5) * 7 + k % 5)
    return f"{day.isoformat()}T10:00", f"{day.isoformat()}T11:00"


def _start_gunicorn(database_url: str, log: Path) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    environment = dict(os.environ)
    environment.update(
        {
            "DATABASE_URL": database_url,
            "KITSHARE_ENV": "development",
            "SECRET_KEY": TEST_SECRET,
            "PASSWORD_HASH_TIME_COST": "1",
            "PASSWORD_HASH_MEMORY_KIB": "1024",
            "MAIL_OUTBOX_DIR": "",
        }
    )
    gunicorn = Path(sys.executable).parent / "gunicorn"
    process = subprocess.Popen(
        [str(gunicorn), "-w", "2", "-b", f"127.0.0.1:{port}", "--timeout", "30", "wsgi:app"],
        cwd=PROJECT,
        env=environment,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"gunicorn exited with {process.returncode}: {log.read_text()[-2000:]}")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/healthz")
            if connection.getresponse().status == 200 and len(_children(process.pid)) == 2:
                return process, base
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise AssertionError("gunicorn did not answer /healthz within 30 s")


def test_a_worker_killed_mid_booking_leaves_no_half_written_or_lost_booking(database_url, session, tmp_path):
    school = make_school(session)
    asset = make_asset(session, school, name="Contended centrifuge")
    users = [make_user(session, school, name=f"Client {n}") for n in range(4)]
    process, base = _start_gunicorn(database_url, tmp_path / "gunicorn.log")
    confirmed: list[int] = []  # ids of bookings whose request got a 302 to the booking
    unclean: list[str] = []
    lock = threading.Lock()
    stop = threading.Event()

    def client(email: str) -> None:
        opener, k = None, 0
        while not stop.is_set() and k < 60:
            try:
                if opener is None:
                    candidate = _browser()
                    _, page, _ = _fetch(candidate, base + "/sign-in")
                    status, _, _ = _fetch(
                        candidate,
                        base + "/sign-in",
                        {
                            "csrf_token": CSRF.search(page).group(1),
                            "email": email,
                            "password": PASSWORD,
                        },
                    )
                    if status != 302:
                        continue
                    opener = candidate
                _, page, _ = _fetch(opener, f"{base}/assets/{asset.id}/book")
                start, end = _slot(k)
                status, body, location = _fetch(
                    opener,
                    f"{base}/assets/{asset.id}/book",
                    {
                        "csrf_token": CSRF.search(page).group(1),
                        "start": start,
                        "end": end,
                        "purpose": f"run {k}",
                        "repeat": "none",
                    },
                )
                k += 1
                if status == 302:
                    with lock:
                        confirmed.append(int(location.rstrip("/").rsplit("/", 1)[1]))
                elif status >= 500 or "Traceback" in body:
                    with lock:
                        unclean.append(f"{status} for slot {start}")
            except (OSError, http.client.HTTPException, AttributeError):
                # The worker died under this request (connection reset) or answered half a page:
                # try again; the request's outcome is whatever the database says afterwards.
                time.sleep(0.05)

    threads = [threading.Thread(target=client, args=(u.email,), daemon=True) for u in users]
    try:
        for thread in threads:
            thread.start()
        time.sleep(1.5)
        victims = sorted(_children(process.pid))
        assert len(victims) == 2, "gunicorn should run two workers"
        os.kill(victims[0], signal.SIGKILL)
        before_kill = len(confirmed)
        respawned = False
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            workers = _children(process.pid)
            if len(workers) == 2 and victims[0] not in workers:
                respawned = True
                break
            time.sleep(0.1)
        time.sleep(2)  # bookings keep going through the respawned worker
        stop.set()
        for thread in threads:
            thread.join(timeout=15)
    finally:
        stop.set()
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)

    assert respawned, "gunicorn did not replace the killed worker"
    assert not unclean
    assert confirmed and len(confirmed) > before_kill, "no booking was made after the kill"
    see_committed(session)
    bookings = {b.id: b for b in session.scalars(sa.select(Booking).where(Booking.asset_id == asset.id))}
    assert set(confirmed) <= set(bookings), "a booking the client was told about is missing"
    with_history = set(session.scalars(sa.select(BookingStatusChange.booking_id).distinct()))
    assert set(bookings) <= with_history, "a booking without its status history was written"
    active = sorted((b for b in bookings.values() if b.status in ACTIVE_STATUSES), key=lambda b: b.start_at)
    for earlier, later in zip(active, active[1:]):
        assert earlier.end_at <= later.start_at, f"bookings {earlier.id} and {later.id} overlap"
