"""A small world for booking tests: two Schools, their managers, people and assets."""

import datetime as dt

import pytest

from accounts.models import Role
from tests.factories import make_asset, make_school, make_user

UTC = dt.UTC
#: "Now" for the service-level tests: a Friday noon in winter, London = UTC.
NOW = dt.datetime(2029, 12, 28, 12, tzinfo=UTC)
MONDAY = dt.date(2030, 1, 7)


def at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    """A winter wall-clock time in London, which is UTC then."""
    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC)


@pytest.fixture
def world(session):
    chem, phys = make_school(session, "CHEM"), make_school(session, "PHYS")
    return {
        "chem": chem,
        "phys": phys,
        "chem_manager": make_user(session, chem, Role.MANAGER, name="Carla Chem-Manager"),
        "phys_manager": make_user(session, phys, Role.MANAGER, name="Pavel Phys-Manager"),
        "chemist": make_user(session, chem, name="Chloe Chemist"),
        "chemist2": make_user(session, chem, name="Charlie Chemist"),
        "physicist": make_user(session, phys, name="Priya Physicist"),
        "scope": make_asset(session, chem, name="Confocal microscope", turnaround_minutes=30),
        "printer": make_asset(session, phys, name="Ultimaker S5"),
    }
