"""Bookings under load: gunicorn with 4 workers on PostgreSQL, 16 clients booking at once through
the JSON API, against 16 psycopg threads doing the floor's transaction; then a race of every
client for one slot, which exactly one must win.

Everything stays on the loopback interface, bounded in time and in count, and gunicorn is
stopped at the end whatever happens.
"""

from __future__ import annotations

import datetime as dt
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.floor import Floor

PROJECT = Path(__file__).resolve().parent.parent
Slot = tuple[dt.datetime, dt.datetime]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Gunicorn:
    """``gunicorn -w 4 wsgi:app`` on a free loopback port, in production mode, for one database."""

    def __init__(self, database_url: str, log_path: Path, workers: int = 4) -> None:
        self.port = _free_port()
        environment = dict(os.environ)
        environment.update(
            {
                "DATABASE_URL": database_url,
                "KITSHARE_ENV": "production",
                "SECRET_KEY": "kitshare-benchmark-secret-" + "y" * 40,
                "KITSHARE_API_RATE_LIMIT": "",  # one token per client, booking as fast as it can
                "PASSWORD_HASH_TIME_COST": "1",
                "PASSWORD_HASH_MEMORY_KIB": "1024",
            }
        )
        gunicorn = Path(sys.executable).parent / "gunicorn"
        self.log = log_path.open("ab")
        self.process = subprocess.Popen(
            [
                str(gunicorn),
                "-w",
                str(workers),
                "-b",
                f"127.0.0.1:{self.port}",
                "--timeout",
                "120",
                "wsgi:app",
            ],
            cwd=PROJECT,
            env=environment,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )

    def __enter__(self) -> Gunicorn:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.process.returncode}; see {self.log.name}")
            try:
                connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                connection.request("GET", "/healthz")
                if connection.getresponse().status == 200:
                    connection.close()
                    return self
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError("gunicorn did not answer /healthz within 60 s")

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.log.close()


class _Client:
    """One keep-alive HTTP client (it reconnects when gunicorn's sync worker closes)."""

    def __init__(self, port: int, token: str) -> None:
        self.port = port
        self.headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def book(self, asset_id: int, start: dt.datetime, end: dt.datetime) -> int:
        body = json.dumps(
            {"asset_id": asset_id, "start": start.isoformat(), "end": end.isoformat(), "purpose": "Load test"}
        )
        try:
            self.connection.request("POST", "/api/v1/bookings", body=body, headers=self.headers)
            response = self.connection.getresponse()
            response.read()
            return response.status
        except (OSError, http.client.HTTPException):
            self.connection.close()
            self.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
            return 0

    def close(self) -> None:
        self.connection.close()


def _drive(workers: list[Callable[[Callable[[], bool]], None]], seconds: float) -> float:
    """Start every worker at once; each calls its ``keep_going()`` until the time is up. Returns
    the measured window in seconds."""
    barrier = threading.Barrier(len(workers) + 1)
    window: dict[str, float] = {}

    def keep_going() -> bool:
        return time.perf_counter() < window["end"]

    def run(worker: Callable[[Callable[[], bool]], None]) -> None:
        barrier.wait()
        worker(keep_going)

    threads = [threading.Thread(target=run, args=(worker,), daemon=True) for worker in workers]
    for thread in threads:
        thread.start()
    window["start"] = time.perf_counter()
    window["end"] = window["start"] + seconds
    barrier.wait()
    for thread in threads:
        thread.join(timeout=seconds + 120)
    return window["end"] - window["start"]


def run_app_load(
    server: Gunicorn,
    pairs: list[tuple[int, int]],
    tokens: dict[int, str],
    slots: dict[int, list[Slot]],
    seconds: float,
) -> dict[str, Any]:
    """Each client books its own asset's free slots one after another for ``seconds``."""
    statuses: dict[int, int] = {}
    lock = threading.Lock()
    created = [0] * len(pairs)
    clients = [_Client(server.port, tokens[user_id]) for user_id, _ in pairs]
    for client, (_, asset_id) in zip(clients, pairs):  # warm every worker's code and connections
        for start, end in slots[asset_id][:2]:
            client.book(asset_id, start, end)

    def worker_for(index: int) -> Callable[[Callable[[], bool]], None]:
        client, (_, asset_id) = clients[index], pairs[index]

        def work(keep_going: Callable[[], bool]) -> None:
            for start, end in slots[asset_id][2:]:
                if not keep_going():
                    break
                status = client.book(asset_id, start, end)
                if not keep_going():
                    break  # answered after the window closed: not counted
                with lock:
                    statuses[status] = statuses.get(status, 0) + 1
                if status == 201:
                    created[index] += 1

        return work

    elapsed = _drive([worker_for(i) for i in range(len(pairs))], seconds)
    for client in clients:
        client.close()
    total = sum(created)
    return {
        "created": total,
        "seconds": round(elapsed, 2),
        "per_second": total / elapsed,
        "statuses": statuses,
        "per_client": created,
    }


def run_floor_load(
    database_url: str,
    pairs: list[tuple[int, int]],
    slots: dict[int, list[Slot]],
    seconds: float,
    now: dt.datetime,
) -> dict[str, Any]:
    """The same, as 16 psycopg threads each running the floor's check-and-insert transaction."""
    floors = [Floor(database_url) for _ in pairs]
    created = [0] * len(pairs)
    refused = [0] * len(pairs)

    def worker_for(index: int) -> Callable[[Callable[[], bool]], None]:
        floor, (user_id, asset_id) = floors[index], pairs[index]

        def work(keep_going: Callable[[], bool]) -> None:
            for start, end in slots[asset_id]:
                if not keep_going():
                    break
                booking_id = floor.create_booking(user_id, asset_id, start, end, "Load test", now)
                if not keep_going():
                    break
                if booking_id is None:
                    refused[index] += 1
                else:
                    created[index] += 1

        return work

    elapsed = _drive([worker_for(i) for i in range(len(pairs))], seconds)
    for floor in floors:
        floor.close()
    total = sum(created)
    return {
        "created": total,
        "refused": sum(refused),
        "seconds": round(elapsed, 2),
        "per_second": total / elapsed,
        "per_client": created,
    }


def run_race(
    server: Gunicorn, racers: list[tuple[int, str]], asset_id: int, slots: list[Slot], rounds: int = 5
) -> dict[str, Any]:
    """Every racer (a person and their token; a person may race on several connections) asks
    for the same slot at the same moment, for ``rounds`` slots: each must be booked exactly once."""
    outcomes = []
    for start, end in slots[:rounds]:
        clients = [_Client(server.port, token) for _, token in racers]
        results: list[int] = [0] * len(clients)
        barrier = threading.Barrier(len(clients))

        def race(index: int) -> None:
            barrier.wait()
            results[index] = clients[index].book(asset_id, start, end)

        threads = [threading.Thread(target=race, args=(i,), daemon=True) for i in range(len(clients))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        for client in clients:
            client.close()
        outcomes.append(
            {
                "created": results.count(201),
                "refused_409": results.count(409),
                "other": [s for s in results if s not in (201, 409)],
            }
        )
    return {"rounds": outcomes, "created": [o["created"] for o in outcomes]}
