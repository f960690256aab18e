"""Story 16.4: the password-reset form answers the same, by the same path, whether or not an account
has the address, and it cannot be used to flood a mailbox.

Someone probing which addresses have accounts asks for a reset for Tom Whitfield's address and
for an address nobody has: both get the same answer, and the server runs the very same SQL
statements for both (so the time cannot tell them apart either). Tom gets his e-mail from the
outbox job. Asking over and over sends his mailbox at most three e-mails an hour, and one client
is refused after ten requests an hour, whatever the addresses.
"""

from __future__ import annotations

import re

from sqlalchemy import event, func, select

from accounts import service
from accounts.models import PasswordResetRequest
from core.db import db, utcnow
from notifications.models import OutboxMessage
from notifications.password_resets import mail_password_resets
from tests.conftest import settings_of
from tests.stories.web_client import WebClient


def _ask(demo, email: str):
    client = WebClient(demo.url)
    token = client.get("/password-reset").csrf_token()
    answer = client.post("/password-reset", {"csrf_token": token, "email": email})
    shown = client.get(answer.location) if answer.status == 302 else answer
    return answer, shown


def _run_outbox_job(demo) -> list[OutboxMessage]:
    with demo.session() as session:
        mail_password_resets(session, demo.app.config["SECRET_KEY"], settings_of(demo.app).base_url, utcnow())
        session.commit()
        return session.scalars(select(OutboxMessage).where(OutboxMessage.subject.contains("reset"))).all()


def _statements_of(demo, email: str) -> list[str]:
    """The SQL the served app runs for one reset request (parameters left out)."""
    with demo.app.app_context():
        engine = db.engine
    seen: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        seen.append(" ".join(statement.split()))

    event.listen(engine, "before_cursor_execute", record)
    try:
        answer, shown = _ask(demo, email)
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert answer.status == 302
    return seen


def _flash(page_text: str) -> str:
    return re.search(r'role="status"[^>]*>(.*?)</', page_text, re.S).group(1).strip()


def test_a_known_and_an_unknown_address_get_the_same_answer_by_the_same_path(demo):
    tom = demo.email("tom.whitfield")
    known, known_page = _ask(demo, tom)
    unknown, unknown_page = _ask(demo, "nobody.here@kitshare.example")
    assert (known.status, known.location) == (unknown.status, unknown.location) == (302, "/sign-in")
    assert _flash(known_page.text) == _flash(unknown_page.text)
    assert "If an account has that address" in _flash(known_page.text)
    # The same statements, in the same order, for an address with an account and one without.
    assert _statements_of(demo, tom) == _statements_of(demo, "someone.else@kitshare.example")
    with demo.session() as session:
        assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 0  # nothing decided yet

    mails = _run_outbox_job(demo)
    assert [mail.to_address for mail in mails] == [tom, tom]  # his two requests; the others, nothing
    link = re.search(r"/password-reset/\S+", mails[0].body_text).group(0)
    page = WebClient(demo.url).get(link)
    assert page.status == 200 and "New password" in page.text


def test_one_address_gets_at_most_three_mails_an_hour_and_one_client_ten_requests(demo):
    tom = demo.email("tom.whitfield")
    answers = [_ask(demo, tom)[0] for _ in range(service.MAX_RESETS_PER_EMAIL + 2)]
    assert all((a.status, a.location) == (302, "/sign-in") for a in answers)  # the same answer throughout
    assert len(_run_outbox_job(demo)) == service.MAX_RESETS_PER_EMAIL

    for n in range(service.MAX_RESETS_PER_IP - len(answers)):
        assert _ask(demo, f"guess{n}@kitshare.example")[0].status == 302
    refused, _ = _ask(demo, "one.more@kitshare.example")
    assert refused.status == 429
    assert "Too many reset requests from your network. Wait 60 minutes and try again." in refused.text
    assert int(refused.headers["Retry-After"]) > 3000
    with demo.session() as session:
        assert (
            session.scalar(select(func.count()).select_from(PasswordResetRequest))
            == service.MAX_RESETS_PER_IP
        )
