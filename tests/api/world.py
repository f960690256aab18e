"""The example data the OpenAPI document describes (see api/examples.py), built for tests.

Ids follow the order of creation, and every test starts from empty tables, so the ids match the
document's examples on both databases.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from accounts.models import Role
from accounts.service import create_api_token
from bookings.models import BookingStatus
from inventory.models import Category, Location
from tests.factories import make_asset, make_booking, make_school, make_user

UTC = dt.UTC
#: "Now" in the examples: Friday 28 December 2029, noon (London is on UTC in winter).
NOW = dt.datetime(2029, 12, 28, 12, tzinfo=UTC)


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=UTC)


def build_world(session: Session) -> dict:
    chem = make_school(session, "CHEM", "School of Chemistry")
    phys = make_school(session, "PHYS", "School of Physics")
    microscopy = Category(name="Microscopy", description="Light and electron microscopes.")
    spectroscopy = Category(name="Spectroscopy", description="")
    session.add_all([microscopy, spectroscopy])
    session.commit()
    chem_lab = Location(school=chem, site="Main campus", building="Joseph Black Building", room="B4.12")
    phys_lab = Location(school=phys, site="Main campus", building="Kelvin Building", room="G.07")
    session.add_all([chem_lab, phys_lab])
    session.commit()
    carla = make_user(session, chem, Role.MANAGER, email="carla@example.ac.uk", name="Carla Chem-Manager")
    priya = make_user(session, phys, email="priya@example.ac.uk", name="Priya Physicist")
    pavel = make_user(session, phys, Role.MANAGER, email="pavel@example.ac.uk", name="Pavel Phys-Manager")
    microscope = make_asset(
        session,
        chem,
        tag="CHEM-0001",
        name="Confocal microscope",
        category=microscopy,
        location=chem_lab,
        manufacturer="Zeiss",
        model="LSM 900",
        serial_number="LSM-2291",
        description="Inverted confocal with four lasers.",
        contact=carla,
        hourly_rate_pence=2500,
        turnaround_minutes=30,
        purchase_date=dt.date(2024, 3, 1),
        purchase_cost_pence=45000000,
        funding_source="EPSRC capital award",
        created_at=at("2029-12-01T09:00"),
        updated_at=at("2029-12-01T09:00"),
    )
    diffractometer = make_asset(
        session,
        phys,
        tag="PHYS-0001",
        name="X-ray diffractometer",
        category=spectroscopy,
        location=phys_lab,
    )
    spectrometer = make_asset(
        session,
        chem,
        tag="CHEM-0002",
        name="Portable spectrometer",
        category=spectroscopy,
        location=chem_lab,
        portable=True,
    )
    camera = make_asset(
        session,
        chem,
        tag="CHEM-0003",
        name="Thermal camera",
        category=spectroscopy,
        location=chem_lab,
        portable=True,
    )
    request = make_booking(
        session, microscope, priya, at("2030-01-07T10:00"), hours=2, status=BookingStatus.PENDING
    )
    request.purpose = "Imaging cell cultures"
    calibration = make_booking(session, microscope, carla, at("2030-01-08T10:00"), hours=1)
    calibration.purpose = "Calibration run"
    loan = make_booking(session, spectrometer, priya, at("2029-12-28T13:00"), hours=4)
    loan.purpose = "Field measurements"
    loan_out = make_booking(
        session, camera, priya, at("2029-12-27T09:00"), hours=24 * 7 + 8, status=BookingStatus.CHECKED_OUT
    )
    loan_out.purpose = "Building survey"
    loan_out.handed_over_at = at("2029-12-27T09:00")
    loan_out.handed_over_by_id = carla.id
    loan_out.handover_condition = "Good."
    for booking in (request, calibration, loan, loan_out):
        booking.created_at = at("2029-12-20T09:00")
    session.commit()
    return {
        "chem": chem,
        "phys": phys,
        "carla": carla,
        "priya": priya,
        "pavel": pavel,
        "microscope": microscope,
        "diffractometer": diffractometer,
        "spectrometer": spectrometer,
        "camera": camera,
        "request": request,
        "calibration": calibration,
        "loan": loan,
        "loan_out": loan_out,
    }


def token_for(session: Session, user, **fields) -> str:
    """A new personal token for ``user`` (the secret, as its owner would copy it)."""
    _token, secret = create_api_token(session, user, **fields)
    session.commit()
    return secret
