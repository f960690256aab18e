"""A small world for the people tests: CHEM and PHYS, technicians with profiles, equipment."""

from __future__ import annotations

import datetime as dt

import pytest

from accounts.models import Role
from accounts.service import create_api_token
from inventory.models import AssetTechnician, Category
from people.models import RegistrationTitle, Visibility
from people.service import ProfileInput, save_profile
from tests.conftest import sign_in
from tests.factories import make_asset, make_school, make_user


@pytest.fixture
def people(session):
    """Tess (CHEM) runs the confocal and hides her registrations and equipment beyond CHEM;
    Otto (CHEM) shows everything; Paul (PHYS) is a researcher; Mia manages CHEM; Ada is an admin."""
    chem, phys = (
        make_school(session, "CHEM", "School of Chemistry"),
        make_school(session, "PHYS", "School of Physics"),
    )
    microscopy = Category(name="Microscopy")
    nmr = Category(name="NMR")
    session.add_all([microscopy, nmr])
    session.commit()
    tess = make_user(session, chem, name="Tess Technician", email="tess@test.ac.uk")
    otto = make_user(session, chem, name="Otto Operator", email="otto@test.ac.uk")
    paul = make_user(session, phys, name="Paul Physicist", email="paul@test.ac.uk")
    pia = make_user(session, phys, name="Pia Phys-Tech", email="pia@test.ac.uk")
    mia = make_user(session, chem, Role.MANAGER, name="Mia Manager", email="mia@test.ac.uk")
    ada = make_user(session, phys, Role.ADMIN, name="Ada Admin", email="ada@test.ac.uk")
    confocal = make_asset(
        session, chem, name="Confocal microscope", tag="CHEM-0001", category=microscopy, contact=tess
    )
    spectrometer = make_asset(
        session, chem, name="NMR spectrometer", tag="CHEM-0002", category=nmr, contact=otto
    )
    balance = make_asset(session, chem, name="Analytical balance", tag="CHEM-0003")
    session.add(AssetTechnician(asset_id=spectrometer.id, user_id=tess.id))
    session.commit()
    save_profile(
        session,
        tess,
        tess,
        ProfileInput(
            role_title="Senior Imaging Technician",
            specialisms=["Confocal microscopy", "Live-cell imaging"],
            registrations=[(RegistrationTitle.RSCITECH, dt.date(2021, 5, 1))],
            visibility={"registrations": Visibility.SCHOOL, "assets": Visibility.SCHOOL},
        ),
    )
    save_profile(
        session,
        otto,
        otto,
        ProfileInput(
            role_title="NMR Technician",
            specialisms=["NMR spectroscopy"],
            visibility={"record": Visibility.EVERYONE},
        ),
    )
    save_profile(
        session,
        pia,
        pia,
        ProfileInput(
            role_title="Workshop Technician",
            specialisms=["Confocal microscopy"],
            visibility={"specialisms": Visibility.SCHOOL},
        ),
    )
    return {
        "chem": chem,
        "phys": phys,
        "microscopy": microscopy,
        "nmr": nmr,
        "tess": tess,
        "otto": otto,
        "paul": paul,
        "pia": pia,
        "mia": mia,
        "ada": ada,
        "confocal": confocal,
        "spectrometer": spectrometer,
        "balance": balance,
    }


@pytest.fixture
def as_person(app):
    """A signed-in browser for a person of the world: ``as_person(people['paul'])``."""

    def browser(user):
        client = app.test_client()
        assert sign_in(client, user.email).status_code == 302
        return client

    return browser


@pytest.fixture
def api_as(app, session):
    """An API client with a token of the given person."""

    def client_for(user):
        _, secret = create_api_token(session, user, name="tests")
        session.commit()
        client = app.test_client()
        client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {secret}"
        return client

    return client_for
