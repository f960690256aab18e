"""Personal API tokens from the profile page: shown once, stored hashed, revocable."""

import re

from sqlalchemy import select

from accounts.models import ApiToken
from accounts.service import find_api_token
from core.db import utcnow
from tests.conftest import PASSWORD, see_committed, sign_in
from tests.factories import make_school, make_user


def test_a_token_is_shown_once_then_only_its_prefix(client, session):
    user = make_user(session, make_school(session))
    sign_in(client, user.email)
    page = client.post(
        "/profile", data={"name": "Timetable sync", "password": PASSWORD, "lifetime_days": "365"}
    ).text
    token = re.search(r'<code class="token">(ks_[^<]+)</code>', page).group(1)
    assert find_api_token(session, token, utcnow()).user_id == user.id
    later = client.get("/profile").text
    assert token not in later
    assert "Timetable sync" in later


def test_a_revoked_token_stops_working(client, session):
    user = make_user(session, make_school(session))
    sign_in(client, user.email)
    page = client.post("/profile", data={"name": "Script", "password": PASSWORD, "lifetime_days": "365"}).text
    token = re.search(r'<code class="token">(ks_[^<]+)</code>', page).group(1)
    token_id = session.scalar(select(ApiToken.id).where(ApiToken.user_id == user.id))
    assert client.post(f"/profile/tokens/{token_id}/revoke").status_code == 302
    see_committed(session)
    assert find_api_token(session, token, utcnow()) is None


def test_nobody_can_revoke_someone_elses_token(client, session):
    school = make_school(session)
    owner, other = make_user(session, school), make_user(session, school)
    sign_in(client, owner.email)
    client.post("/profile", data={"name": "Mine", "password": PASSWORD, "lifetime_days": "365"})
    token_id = session.scalar(select(ApiToken.id).where(ApiToken.user_id == owner.id))
    client.post("/sign-out")
    sign_in(client, other.email)
    assert client.post(f"/profile/tokens/{token_id}/revoke").status_code == 404
    see_committed(session)
    assert session.get(ApiToken, token_id).revoked_at is None
