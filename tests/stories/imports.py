"""What the import stories share: uploads kept in the test's own folder, the scheduler's import job,
and Chemistry, the School they import into."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from core.db import db
from inventory.models import School


@pytest.fixture(autouse=True)
def _uploads_in_tmp(demo, tmp_path, monkeypatch):
    """Keep this test's uploads (kept between preview and confirmation) out of the checkout's instance folder."""
    monkeypatch.setattr(demo.app, "instance_path", str(tmp_path / "instance"))


def run_the_schedulers_import_job(app) -> None:
    """What the scheduler process runs every few seconds (scheduler.py, job "run-imports")."""
    from scheduler import run_imports

    with app.app_context():
        try:
            run_imports()
        finally:
            db.session.remove()


def chemistry(demo) -> School:
    with demo.session() as session:
        return session.scalars(select(School).where(School.code == "CHEM")).one()
