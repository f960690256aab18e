"""Report subscriptions: finance and managers manage their own; admins see everyone's."""

from __future__ import annotations

from sqlalchemy import select

from accounts.models import Role
from reports.models import Frequency, ReportSubscription
from tests.conftest import see_committed, sign_in
from tests.factories import make_school, make_user


def subscriptions(session):
    see_committed(session)
    return list(session.scalars(select(ReportSubscription).order_by(ReportSubscription.id)))


def test_finance_subscribes_to_every_school_monthly(client, session):
    make_school(session, "CHEM")
    finance = make_user(session, None, Role.FINANCE)
    sign_in(client, finance.email)
    response = client.post("/reports/subscriptions", data={"frequency": "monthly"})
    assert response.status_code == 302
    [subscription] = subscriptions(session)
    assert (subscription.user_id, subscription.frequency, subscription.school_ids) == (
        finance.id,
        Frequency.MONTHLY,
        [],
    )
    page = client.get("/reports/subscriptions").get_data(as_text=True)
    assert "Monthly, all the Schools its owner may see" in page


def test_a_manager_subscribes_to_a_school_they_manage_but_not_another(client, session):
    chem, phys = make_school(session, "CHEM"), make_school(session, "PHYS")
    manager = make_user(session, chem, Role.MANAGER)
    sign_in(client, manager.email)
    assert (
        client.post("/reports/subscriptions", data={"frequency": "weekly", "schools": [chem.id]}).status_code
        == 302
    )
    assert (
        client.post("/reports/subscriptions", data={"frequency": "weekly", "schools": [phys.id]}).status_code
        == 403
    )
    assert [s.school_ids for s in subscriptions(session)] == [[chem.id]]


def test_a_technician_cannot_subscribe(client, session):
    school = make_school(session)
    technician = make_user(session, school)
    sign_in(client, technician.email)
    assert client.post("/reports/subscriptions", data={"frequency": "weekly"}).status_code == 403
    assert subscriptions(session) == []


def test_an_unknown_frequency_is_refused_with_a_message(client, session):
    finance = make_user(session, None, Role.FINANCE)
    sign_in(client, finance.email)
    response = client.post("/reports/subscriptions", data={"frequency": "hourly"})
    assert response.status_code == 400
    assert "Choose weekly, monthly or quarterly." in response.get_data(as_text=True)
    assert subscriptions(session) == []


def test_pause_resume_and_delete_one_s_own_subscription(client, session):
    finance = make_user(session, None, Role.FINANCE)
    sign_in(client, finance.email)
    client.post("/reports/subscriptions", data={"frequency": "quarterly"})
    [subscription] = subscriptions(session)
    client.post(f"/reports/subscriptions/{subscription.id}/pause")
    assert subscriptions(session)[0].active is False
    client.post(f"/reports/subscriptions/{subscription.id}/resume")
    assert subscriptions(session)[0].active is True
    client.post(f"/reports/subscriptions/{subscription.id}/delete")
    assert subscriptions(session) == []


def test_nobody_but_an_admin_manages_someone_else_s_subscription(client, session):
    owner = make_user(session, None, Role.FINANCE)
    other = make_user(session, None, Role.FINANCE)
    admin = make_user(session, None, Role.ADMIN)
    session.add(ReportSubscription(user_id=owner.id, frequency=Frequency.WEEKLY, school_ids=[]))
    session.commit()
    [subscription] = subscriptions(session)
    sign_in(client, other.email)
    assert owner.name not in client.get("/reports/subscriptions").get_data(as_text=True)
    assert client.post(f"/reports/subscriptions/{subscription.id}/delete").status_code == 403
    assert client.post(f"/reports/subscriptions/{subscription.id}/pause").status_code == 403
    client.post("/sign-out")
    sign_in(client, admin.email)
    assert owner.name in client.get("/reports/subscriptions").get_data(as_text=True)
    assert client.post(f"/reports/subscriptions/{subscription.id}/pause").status_code == 302
    assert subscriptions(session)[0].active is False
