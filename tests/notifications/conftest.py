"""The bookings' small world (two Schools, managers, people, assets), and helpers to read what
people were told."""

import pytest
from sqlalchemy import select

from notifications.models import Notification, OutboxMessage
from tests.bookings.conftest import world  # noqa: F401  (the fixture)
from tests.conftest import see_committed, settings_of


def notices(session, user):
    """(event, title) of every in-app notice the person has, oldest first."""
    see_committed(session)
    return [
        (n.event, n.title)
        for n in session.scalars(
            select(Notification).where(Notification.user_id == user.id).order_by(Notification.id)
        )
    ]


def mails(session, user):
    """The outbox messages addressed to the person, oldest first."""
    see_committed(session)
    return list(
        session.scalars(
            select(OutboxMessage).where(OutboxMessage.to_address == user.email).order_by(OutboxMessage.id)
        )
    )


@pytest.fixture
def base_url(app):
    return settings_of(app).base_url
