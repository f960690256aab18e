"""Story 16.5: password guesses sent in parallel are each counted, and never hold up other people.

Someone fires sixteen wrong passwords for Tom Whitfield's address at once. Every one is counted
(sixteen attempts recorded), only the first five have their password checked, the rest are told
sign-in is locked, and then even the right password waits. Meanwhile, the slow password check
runs outside any write transaction: on SQLite a booking (any writer) gets the database's write
lock at once while a password is being checked, and on PostgreSQL the checking request holds no
transaction that has written anything.
"""

from __future__ import annotations

import sqlite3
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa

from accounts import service
from core.db import db
from tests.stories.web_client import WebClient

GUESSES = 16


class WatchedHasher:
    """The app's Argon2 hasher, with a look around each time a password is checked."""

    def __init__(self, inner, look_around=None) -> None:
        self._inner = inner
        self._look_around = look_around
        self._lock = threading.Lock()
        self.checks = 0
        self.findings: list[str] = []

    def verify(self, hash_, password):
        with self._lock:
            self.checks += 1
        if self._look_around:
            finding = self._look_around()
            if finding:
                self.findings.append(finding)
        return self._inner.verify(hash_, password)

    def __getattr__(self, name):
        return getattr(self._inner, name)


def _no_write_transaction_open(demo):
    """What a password check must not be inside of: a unit of work, the SQLite write lock, or a
    PostgreSQL transaction that has written."""

    def look_around() -> str | None:
        if db.session.info.get("atomic_depth"):
            return "the password was checked inside a unit of work"
        url = sa.make_url(demo.database_url)
        if url.get_backend_name() == "sqlite":
            writer = sqlite3.connect(url.database, timeout=0, isolation_level=None)
            try:
                writer.execute("BEGIN IMMEDIATE")  # what a booking does first
                writer.execute("ROLLBACK")
            except sqlite3.OperationalError as error:
                return f"a writer could not get the write lock: {error}"
            finally:
                writer.close()
        elif db.session().in_transaction():
            xid = (
                db.session().connection().exec_driver_sql("SELECT pg_current_xact_id_if_assigned()").scalar()
            )
            if xid is not None:
                return "the password was checked in a transaction that had written"
        return None

    return look_around


def test_sixteen_parallel_wrong_passwords_are_all_counted_and_only_five_checked(demo, monkeypatch):
    email = demo.email("tom.whitfield")
    hasher = WatchedHasher(service._password_hasher)
    monkeypatch.setattr(service, "_password_hasher", hasher)
    clients = [WebClient(demo.url) for _ in range(GUESSES)]
    tokens = [client.get("/sign-in").csrf_token() for client in clients]
    start = threading.Barrier(GUESSES)

    def guess(n: int) -> int:
        start.wait()
        return (
            clients[n]
            .post("/sign-in", {"csrf_token": tokens[n], "email": email, "password": f"wrong guess {n}"})
            .status
        )

    with ThreadPoolExecutor(GUESSES) as pool:
        statuses = list(pool.map(guess, range(GUESSES)))

    assert sorted(statuses) == [400] * service.MAX_FAILURES_PER_EMAIL + [429] * (
        GUESSES - service.MAX_FAILURES_PER_EMAIL
    )
    assert hasher.checks == service.MAX_FAILURES_PER_EMAIL
    with demo.session() as session:
        assert service.attempts_counted(session, email) == GUESSES
    locked = WebClient(demo.url).sign_in(email, demo.password)
    assert locked.status == 429 and "Too many failed sign-ins" in locked.text
    assert hasher.checks == service.MAX_FAILURES_PER_EMAIL  # not even the right password was checked


@pytest.mark.parametrize("parallel", [1, 4])
def test_passwords_are_checked_outside_any_write_transaction(demo, monkeypatch, parallel):
    hasher = WatchedHasher(service._password_hasher, _no_write_transaction_open(demo))
    monkeypatch.setattr(service, "_password_hasher", hasher)
    guessers = [WebClient(demo.url) for _ in range(parallel)]
    tokens = [client.get("/sign-in").csrf_token() for client in guessers]

    def guess(n: int) -> int:
        return (
            guessers[n]
            .post(
                "/sign-in",
                {"csrf_token": tokens[n], "email": demo.email("manager.chem"), "password": "a wrong guess"},
            )
            .status
        )

    if parallel == 1:
        # One at a time, so the write-lock probe sees only the checking request: a failed and a
        # successful sign-in, and a wrong password on the token form.
        assert guess(0) == 400
        tom = WebClient(demo.url)
        assert tom.sign_in(demo.email("tom.whitfield"), demo.password).status == 302
        token = tom.get("/profile").csrf_token()
        refused = tom.post(
            "/profile", {"csrf_token": token, "name": "x", "lifetime_days": "365", "password": "no"}
        )
        assert refused.status == 400 and "That is not your current password." in refused.text
        assert hasher.checks == 3
    else:
        # In parallel only the unit-of-work check is meaningful (another request's short count
        # may hold the SQLite lock for a moment): no check runs inside one.
        with ThreadPoolExecutor(parallel) as pool:
            assert list(pool.map(guess, range(parallel))) == [400] * parallel
        hasher.findings = [f for f in hasher.findings if "unit of work" in f]
        assert hasher.checks == parallel
    assert hasher.findings == []
