"""The outbox: mail written with the change, sent later with retries; nothing lost, nothing twice."""

import datetime as dt
import email
import smtplib
from email.policy import default as default_policy
from unittest import mock

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.config import Config
from core.db import atomic, utcnow
from notifications.mail import FolderTransport, PermanentSendError, SmtpTransport, transport_from_config
from notifications.models import OutboxMessage, OutboxStatus
from notifications.service import MAX_ATTEMPTS, backoff_after, enqueue, run_outbox, send_due
from tests.conftest import TEST_DB, see_committed


class RecordingTransport:
    """Records every message it is asked to send; fails the first ``failures`` attempts."""

    def __init__(self, failures: int = 0, error: Exception | None = None) -> None:
        self.failures = failures
        self.error = error or ConnectionRefusedError("mail server down")
        self.attempts: list[int] = []
        self.delivered: list[int] = []

    def send(self, message: OutboxMessage) -> None:
        self.attempts.append(message.id)
        if len(self.attempts) <= self.failures:
            raise self.error
        self.delivered.append(message.id)


def _queue(session, n=1, **kwargs):
    with atomic(session):
        messages = [
            enqueue(session, f"person{i}@test.ac.uk", f"Subject {i}", f"Body {i}", **kwargs) for i in range(n)
        ]
    return messages


def _reload(session, message):
    see_committed(session)
    return session.get(OutboxMessage, message.id)


def test_enqueue_writes_a_pending_message_in_the_callers_transaction(session):
    with pytest.raises(RuntimeError), atomic(session):
        enqueue(session, "ada@test.ac.uk", "Hello", "Body")
        raise RuntimeError("the change failed")
    assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 0
    (message,) = _queue(session)
    assert (message.status, message.attempts, message.sent_at) == (OutboxStatus.PENDING, 0, None)


def test_a_repeated_dedupe_key_inserts_nothing(session):
    with atomic(session):
        first = enqueue(session, "ada@test.ac.uk", "Reminder", "Body", dedupe_key="reminder:1")
    with atomic(session):
        second = enqueue(session, "ada@test.ac.uk", "Reminder", "Body", dedupe_key="reminder:1")
    assert first is not None and second is None
    assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 1


def test_a_duplicate_in_the_same_transaction_does_not_undo_the_rest_of_it(session):
    with atomic(session):
        enqueue(session, "ada@test.ac.uk", "One", "Body", dedupe_key="k")
        enqueue(session, "ada@test.ac.uk", "One again", "Body", dedupe_key="k")
        enqueue(session, "ben@test.ac.uk", "Two", "Body")
    assert sorted(session.scalars(select(OutboxMessage.subject)).all()) == ["One", "Two"]


def test_an_address_with_a_line_break_is_refused(session):
    with pytest.raises(ValueError):
        enqueue(session, "ada@test.ac.uk\r\nBcc: everyone@test.ac.uk", "Hi", "Body")


def test_a_subject_cannot_carry_a_line_break(session):
    with atomic(session):
        message = enqueue(session, "ada@test.ac.uk", "Hello\r\nBcc: x@y", "Body")
    assert message.subject == "Hello Bcc: x@y"


def test_sending_marks_each_message_sent(session):
    messages = _queue(session, 2)
    transport = RecordingTransport()
    now = utcnow()
    report = send_due(session, now, transport)
    assert (report.sent, report.retrying, report.failed) == (2, 0, 0)
    assert transport.delivered == [m.id for m in messages]
    for message in messages:
        sent = _reload(session, message)
        assert (sent.status, sent.sent_at, sent.attempts) == (OutboxStatus.SENT, now, 1)


def test_a_message_not_yet_due_waits(session):
    _queue(session, send_after=utcnow() + dt.timedelta(hours=1))
    transport = RecordingTransport()
    assert send_due(session, utcnow(), transport).attempted == 0
    assert transport.attempts == []


def test_a_failure_leaves_the_message_pending_with_backoff_then_it_is_sent_once(session):
    (message,) = _queue(session)
    transport = RecordingTransport(failures=1)
    now = utcnow()
    assert send_due(session, now, transport).retrying == 1
    waiting = _reload(session, message)
    assert waiting.status == OutboxStatus.PENDING
    assert waiting.attempts == 1
    assert waiting.next_attempt_at == now + dt.timedelta(minutes=1)
    assert "mail server down" in waiting.last_error
    # Not retried before its time ...
    assert send_due(session, now + dt.timedelta(seconds=30), transport).attempted == 0
    # ... then sent, and never again.
    assert send_due(session, now + dt.timedelta(minutes=1), transport).sent == 1
    assert send_due(session, now + dt.timedelta(hours=1), transport).attempted == 0
    assert transport.delivered == [message.id]
    assert _reload(session, message).status == OutboxStatus.SENT


def test_backoff_grows_then_stays_at_a_day():
    waits = [backoff_after(n) for n in range(1, 10)]
    assert waits[:5] == [dt.timedelta(minutes=m) for m in (1, 5, 15, 60, 240)]
    assert waits[-1] == dt.timedelta(days=1)
    assert waits == sorted(waits)


def test_after_the_last_attempt_the_message_is_marked_failed(session):
    (message,) = _queue(session)
    transport = RecordingTransport(failures=100)
    now = utcnow()
    for _ in range(MAX_ATTEMPTS):
        send_due(session, now, transport)
        now = _reload(session, message).next_attempt_at
    failed = _reload(session, message)
    assert (failed.status, failed.attempts) == (OutboxStatus.FAILED, MAX_ATTEMPTS)
    assert send_due(session, now + dt.timedelta(days=30), transport).attempted == 0


def test_a_permanent_refusal_fails_at_once(session):
    (message,) = _queue(session)
    transport = RecordingTransport(failures=1, error=PermanentSendError("no such mailbox"))
    assert send_due(session, utcnow(), transport).failed == 1
    assert _reload(session, message).status == OutboxStatus.FAILED


class CrashingTransport(RecordingTransport):
    """Delivers the first message, then the process 'dies' (an exception nobody catches)."""

    def send(self, message):
        if self.delivered:
            raise SystemExit("killed")
        super().send(message)


def test_a_crash_mid_batch_never_resends_what_was_already_sent(session):
    first, second = _queue(session, 2)
    crashing = CrashingTransport()
    with pytest.raises(SystemExit):
        send_due(session, utcnow(), crashing)
    session.rollback()
    assert _reload(session, first).status == OutboxStatus.SENT
    assert _reload(session, second).status == OutboxStatus.PENDING
    after_restart = RecordingTransport()
    send_due(session, utcnow(), after_restart)
    assert after_restart.delivered == [second.id]


@pytest.mark.postgres_only
@pytest.mark.skipif(TEST_DB != "postgresql", reason="row locks with SKIP LOCKED are PostgreSQL's")
def test_two_senders_at_once_never_take_the_same_message(session):
    _queue(session, 2)
    engine = session.get_bind()
    other_sender = RecordingTransport()

    class SlowTransport(RecordingTransport):
        def send(self, message):
            # While this sender holds its message, a second sender runs to completion.
            if not self.attempts:
                with Session(engine) as other_session:
                    send_due(other_session, utcnow(), other_sender)
            super().send(message)

    first_sender = SlowTransport()
    send_due(session, utcnow(), first_sender)
    assert len(first_sender.delivered) == 1 and len(other_sender.delivered) == 1
    assert set(first_sender.delivered).isdisjoint(other_sender.delivered)


def _message(**fields):
    values = {
        "id": 7,
        "to_address": "ada@test.ac.uk",
        "subject": "PAT test due 15 Dec 2026",
        "body_text": "Dear Ada,\nIt is due.",
        "created_at": dt.datetime(2026, 12, 1, 7, tzinfo=dt.UTC),
    }
    values.update(fields)
    return OutboxMessage(**values)


def test_smtp_transport_sends_over_starttls_with_login():
    transport = SmtpTransport(
        "smtp.test.ac.uk",
        587,
        "kit",
        "secret",
        use_tls=True,
        use_ssl=False,
        from_address="Kitshare <kitshare@test.ac.uk>",
    )
    with mock.patch("smtplib.SMTP") as smtp_class:
        transport.send(_message())
    smtp_class.assert_called_once_with("smtp.test.ac.uk", 587, timeout=transport.timeout)
    smtp = smtp_class.return_value.__enter__.return_value
    smtp.starttls.assert_called_once()
    smtp.login.assert_called_once_with("kit", "secret")
    (sent,), _ = smtp.send_message.call_args
    assert (sent["From"], sent["To"], sent["Subject"]) == (
        "Kitshare <kitshare@test.ac.uk>",
        "ada@test.ac.uk",
        "PAT test due 15 Dec 2026",
    )
    assert sent["Message-ID"] == "<kitshare-outbox-7-20261201070000@test.ac.uk>"
    assert sent.get_content() == "Dear Ada,\nIt is due.\n"


def test_smtp_transport_uses_implicit_tls_when_asked():
    transport = SmtpTransport("smtp.test.ac.uk", 465, use_ssl=True)
    with mock.patch("smtplib.SMTP_SSL") as ssl_class, mock.patch("smtplib.SMTP") as plain_class:
        transport.send(_message())
    assert ssl_class.called and not plain_class.called
    smtp = ssl_class.return_value.__enter__.return_value
    smtp.starttls.assert_not_called()
    smtp.login.assert_not_called()  # no username: no login


def test_a_recipient_refused_for_good_is_a_permanent_error():
    transport = SmtpTransport("smtp.test.ac.uk", 25)
    with mock.patch("smtplib.SMTP") as smtp_class:
        smtp = smtp_class.return_value.__enter__.return_value
        smtp.send_message.side_effect = smtplib.SMTPRecipientsRefused(
            {"ada@test.ac.uk": (550, b"No such user")}
        )
        with pytest.raises(PermanentSendError):
            transport.send(_message())


def test_a_recipient_refused_for_now_is_retried():
    transport = SmtpTransport("smtp.test.ac.uk", 25)
    with mock.patch("smtplib.SMTP") as smtp_class:
        smtp = smtp_class.return_value.__enter__.return_value
        smtp.send_message.side_effect = smtplib.SMTPRecipientsRefused({"ada@test.ac.uk": (451, b"Try later")})
        with pytest.raises(smtplib.SMTPRecipientsRefused):
            transport.send(_message())


def test_the_folder_transport_writes_a_parseable_eml(tmp_path):
    transport = FolderTransport(tmp_path / "mail", "Kitshare <kitshare@test.ac.uk>")
    transport.send(_message(subject="Réservation confirmée"))
    (written,) = (tmp_path / "mail").glob("*.eml")
    parsed = email.message_from_bytes(written.read_bytes(), policy=default_policy)
    assert (parsed["To"], parsed["Subject"]) == ("ada@test.ac.uk", "Réservation confirmée")
    assert parsed.get_content() == "Dear Ada,\nIt is due.\n"
    assert list((tmp_path / "mail").glob("*.part")) == []


def test_the_configuration_chooses_the_transport(tmp_path):
    folder = transport_from_config(Config(MAIL_OUTBOX_DIR=str(tmp_path), MAIL_FROM="k@test.ac.uk"))
    smtp = transport_from_config(
        Config(
            MAIL_OUTBOX_DIR="",
            MAIL_SERVER="smtp.test.ac.uk",
            MAIL_PORT=587,
            MAIL_USE_TLS=True,
            MAIL_FROM="k@test.ac.uk",
        )
    )
    assert isinstance(folder, FolderTransport) and folder.path == tmp_path
    assert isinstance(smtp, SmtpTransport)
    assert (smtp.host, smtp.port, smtp.use_tls, smtp.from_address) == (
        "smtp.test.ac.uk",
        587,
        True,
        "k@test.ac.uk",
    )


def test_the_outbox_job_delivers_to_the_development_folder(session, tmp_path):
    (message,) = _queue(session)
    report = run_outbox(session, Config(MAIL_OUTBOX_DIR=str(tmp_path)), utcnow())
    assert report.sent == 1
    assert len(list(tmp_path.glob("*.eml"))) == 1
    assert _reload(session, message).status == OutboxStatus.SENT
