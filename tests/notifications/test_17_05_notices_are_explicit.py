"""Issue 17 point 5: booking commands tell people explicitly; no session hook, no import for its
side effect, and ``notifications.service.notify`` is the only writer of notices.

The generic channel sits below the domains: ``notifications`` imports nothing from them."""

import ast
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import select

from bookings import service
from bookings.models import BookingStatus
from bookings.service import change_status
from core.db import atomic
from notifications.models import Notification
from tests.bookings.conftest import MONDAY, NOW, at
from tests.conftest import see_committed
from tests.notifications.conftest import mails, notices

ROOT = Path(__file__).resolve().parents[2]
#: Packages with code that runs in production (tests, demo data and benches aside).
PROJECT_PACKAGES = (
    "accounts",
    "api",
    "bookings",
    "core",
    "dashboard",
    "inventory",
    "notifications",
    "planning",
    "reports",
    "web",
)

#: Run in a fresh interpreter: only the booking service is imported, never the app factory.
BOOK_IN_A_BARE_PROCESS = """
import json, sys
import datetime as dt
from sqlalchemy import create_engine
from sqlalchemy.orm import Session
from accounts.models import User
from bookings import service

url, requester_id, asset_id, start, end, now = sys.argv[1:]
engine = create_engine(url)
with Session(engine, expire_on_commit=False) as session:
    requester = session.get(User, int(requester_id))
    booking = service.request_booking(
        session, requester, int(asset_id), dt.datetime.fromisoformat(start), dt.datetime.fromisoformat(end),
        "Prints for a project", dt.datetime.fromisoformat(now),
    )
    loaded = sorted(name for name in sys.modules if name.split(".")[0] in ("web", "tests", "flask_migrate"))
    print(json.dumps({"status": booking.status.value, "loaded": loaded}))
"""


def test_a_booking_made_where_nothing_else_was_imported_still_tells_the_managers(
    app, database_url, session, world
):
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            BOOK_IN_A_BARE_PROCESS,
            database_url,
            str(world["chemist"].id),
            str(world["printer"].id),
            at(MONDAY, 10).isoformat(),
            at(MONDAY, 12).isoformat(),
            NOW.isoformat(),
        ],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    outcome = json.loads(result.stdout.strip().splitlines()[-1])
    assert outcome == {"status": "pending", "loaded": []}  # the factory and its imports never ran
    assert notices(session, world["phys_manager"]) == [
        ("booking_requested", "Request to approve: Ultimaker S5, Mon 07 Jan 2030, 10:00 to 12:00")
    ]
    assert len(mails(session, world["phys_manager"])) == 1


def test_the_session_hook_module_is_gone():
    assert importlib.util.find_spec("notifications.hooks") is None
    assert importlib.util.find_spec("notifications.events") is None


def test_a_status_change_alone_tells_nobody_only_the_command_does(session, world):
    """History written without a command (the demo's imported past) wakes nothing."""
    booking = service.request_booking(
        session, world["chemist"], world["printer"].id, at(MONDAY, 10), at(MONDAY, 12), "Prints", NOW
    )
    before = notices(session, world["chemist"])
    with atomic(session, world["phys_manager"]):
        change_status(booking, BookingStatus.CANCELLED, world["phys_manager"], "No longer possible", NOW)
    see_committed(session)
    assert notices(session, world["chemist"]) == before == []
    assert (
        session.scalars(select(Notification).where(Notification.user_id == world["chemist"].id)).all() == []
    )


def _python_files(*packages: str) -> list[Path]:
    return [path for package in packages for path in sorted((ROOT / package).rglob("*.py"))]


def test_no_notice_is_written_but_by_notifications_service():
    writers = []
    for path in _python_files(*PROJECT_PACKAGES):
        if path == ROOT / "notifications" / "service.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Call):
                name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", "")
                named = [arg.id for arg in node.args if isinstance(arg, ast.Name)]
                if name == "Notification" or (name in ("insert", "update") and "Notification" in named):
                    writers.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert writers == []


def test_the_generic_channel_imports_no_domain_package_and_the_factory_imports_nothing_for_its_side_effect():
    upward = []
    for path in _python_files("notifications"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            modules = (
                [alias.name for alias in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            upward += [
                f"{path.relative_to(ROOT)}: {module}"
                for module in modules
                if module.split(".")[0]
                in ("inventory", "bookings", "reports", "planning", "api", "dashboard")
            ]
    assert upward == []
    factory = (ROOT / "web" / "app.py").read_text()
    assert "hooks" not in factory
