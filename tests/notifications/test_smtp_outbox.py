"""The outbox against a real SMTP server on 127.0.0.1 (aiosmtpd): a server that is down or
refuses for now loses nothing, and every mail is delivered exactly once when it accepts."""

import datetime as dt
import email
import socket
from email.policy import default as default_policy

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from bookings import service
from core.db import atomic
from notifications.mail import SmtpTransport
from notifications.models import OutboxMessage, OutboxStatus
from notifications.service import enqueue, send_due
from tests.bookings.conftest import MONDAY, NOW, at
from tests.conftest import see_committed


class FlakyMailServer:
    """An SMTP server's message handler: answers 451 (temporary failure) to the first
    ``refusals`` messages, then 250, keeping each message it accepted."""

    def __init__(self, refusals: int = 0) -> None:
        self.refusals = refusals
        self.refused: list[str] = []
        self.accepted: list[email.message.EmailMessage] = []

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=default_policy)
        if len(self.refused) < self.refusals:
            self.refused.append(message["Message-ID"])
            return "451 4.3.0 Mail server busy, try again later"
        self.accepted.append(message)
        return "250 2.0.0 OK"

    def accepted_ids(self) -> list[str]:
        return [message["Message-ID"] for message in self.accepted]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def mail_server():
    """Start and stop a local SMTP server with a given handler; stopped at the end of the test."""
    port = _free_port()
    running: list[Controller] = []

    class Server:
        def __init__(self) -> None:
            self.port = port
            self.transport = SmtpTransport(
                "127.0.0.1", port, from_address="Kitshare <kitshare@test.ac.uk>", timeout=5
            )

        def start(self, handler: FlakyMailServer) -> FlakyMailServer:
            controller = Controller(handler, hostname="127.0.0.1", port=port)
            controller.start()
            running.append(controller)
            return handler

    yield Server()
    for controller in running:
        controller.stop()


def _queue(session, n):
    with atomic(session):
        return [enqueue(session, f"person{i}@test.ac.uk", f"Message {i}", f"Body {i}").id for i in range(n)]


def _states(session):
    see_committed(session)
    return {m.id: (m.status, m.attempts) for m in session.scalars(select(OutboxMessage))}


def test_a_server_that_refuses_then_accepts_gets_each_message_exactly_once(session, mail_server):
    first, second, third = _queue(session, 3)
    server = mail_server.start(FlakyMailServer(refusals=4))
    clock = NOW

    # Everything is refused for now: nothing is lost, everything waits a minute.
    report = send_due(session, clock, mail_server.transport)
    assert (report.sent, report.retrying, report.failed) == (0, 3, 0)
    assert send_due(session, clock + dt.timedelta(seconds=30), mail_server.transport).attempted == 0

    # A minute later the first is refused once more (the server's 4th refusal), the others go.
    report = send_due(session, clock + dt.timedelta(minutes=1), mail_server.transport)
    assert (report.sent, report.retrying) == (2, 1)
    # The first now waits five minutes after its second failure ...
    assert send_due(session, clock + dt.timedelta(minutes=5), mail_server.transport).attempted == 0
    assert send_due(session, clock + dt.timedelta(minutes=6), mail_server.transport).sent == 1
    # ... and once everything is sent, nothing is ever sent again.
    assert send_due(session, clock + dt.timedelta(days=3), mail_server.transport).attempted == 0

    assert len(server.refused) == 4
    assert sorted(m["To"] for m in server.accepted) == [
        "person0@test.ac.uk",
        "person1@test.ac.uk",
        "person2@test.ac.uk",
    ]
    assert len(set(server.accepted_ids())) == len(server.accepted) == 3
    assert _states(session) == {
        first: (OutboxStatus.SENT, 3),
        second: (OutboxStatus.SENT, 2),
        third: (OutboxStatus.SENT, 2),
    }


def test_a_server_that_is_down_loses_nothing_and_gets_the_mail_once_it_is_up(session, mail_server):
    (message_id,) = _queue(session, 1)
    report = send_due(session, NOW, mail_server.transport)  # nobody listens on the port yet
    assert report.retrying == 1
    see_committed(session)
    waiting = session.get(OutboxMessage, message_id)
    assert waiting.status == OutboxStatus.PENDING and "Connection" in waiting.last_error

    server = mail_server.start(FlakyMailServer())
    assert send_due(session, NOW + dt.timedelta(minutes=1), mail_server.transport).sent == 1
    assert send_due(session, NOW + dt.timedelta(minutes=2), mail_server.transport).attempted == 0
    assert [m["To"] for m in server.accepted] == ["person0@test.ac.uk"]
    assert _states(session) == {message_id: (OutboxStatus.SENT, 2)}


def test_a_booking_request_reaches_the_managers_mailbox(session, world, mail_server, base_url):
    booking = service.request_booking(
        session,
        world["chemist"],
        world["printer"].id,
        at(MONDAY, 10),
        at(MONDAY, 12),
        "Prints for a project",
        NOW,
    )
    server = mail_server.start(FlakyMailServer())
    assert send_due(session, NOW + dt.timedelta(minutes=1), mail_server.transport).sent == 1
    (message,) = server.accepted
    assert message["To"] == world["phys_manager"].email
    # Python folds a long Subject onto its own continuation line; unfolded, it reads the same.
    assert (
        message["Subject"].strip()
        == "Kitshare: Request to approve: Ultimaker S5, Mon 07 Jan 2030, 10:00 to 12:00"
    )
    assert f"{base_url}/bookings/{booking.id}" in message.get_content()
