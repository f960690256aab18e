"""The command-line tasks an administrator runs: flask --app wsgi <command>."""

import hashlib

from sqlalchemy import func, select

from accounts.models import ApiToken, Role, User
from accounts.service import find_api_token
from core.db import utcnow
from tests.factories import make_school, make_user


def test_create_user_with_a_role_and_school(app, session):
    school = make_school(session, "CHEM")
    result = app.test_cli_runner().invoke(
        args=[
            "create-user",
            "--email",
            "m@test.ac.uk",
            "--name",
            "Marie Curie",
            "--password",
            "polonium-1898",
            "--role",
            "manager",
            "--school",
            "chem",
        ]
    )
    assert result.exit_code == 0, result.output
    assert "Created m@test.ac.uk (technician, manager)" in result.output
    user = session.scalar(select(User).where(User.email == "m@test.ac.uk"))
    assert user.home_school_id == school.id
    assert user.managed_school_ids == {school.id}


def test_create_user_refuses_bad_input_with_a_clear_message(app, session):
    make_user(session, None, email="taken@test.ac.uk")
    runner = app.test_cli_runner()
    duplicate = runner.invoke(
        args=["create-user", "--email", "Taken@test.ac.uk", "--name", "X", "--password", "long enough!"]
    )
    assert duplicate.exit_code != 0
    assert "already has an account" in duplicate.output
    short = runner.invoke(
        args=["create-user", "--email", "new@test.ac.uk", "--name", "X", "--password", "short"]
    )
    assert "at least 10 characters" in short.output
    unknown_school = runner.invoke(
        args=[
            "create-user",
            "--email",
            "new@test.ac.uk",
            "--name",
            "X",
            "--password",
            "long enough!",
            "--school",
            "NOPE",
        ]
    )
    assert "No School with code 'NOPE'" in unknown_school.output
    bad_role = runner.invoke(
        args=[
            "create-user",
            "--email",
            "new@test.ac.uk",
            "--name",
            "X",
            "--password",
            "long enough!",
            "--role",
            "king",
        ]
    )
    assert bad_role.exit_code != 0
    assert session.scalar(select(func.count(User.id))) == 1


def test_create_token_prints_a_token_and_stores_only_its_hash(app, session):
    user = make_user(session, None, Role.FINANCE, email="fin@test.ac.uk")
    result = app.test_cli_runner().invoke(args=["create-token", "FIN@test.ac.uk"])
    assert result.exit_code == 0, result.output
    token = result.output.strip()
    assert token.startswith("ks_") and len(token) > 40
    stored = session.scalar(select(ApiToken).where(ApiToken.user_id == user.id))
    assert stored.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in (stored.token_hash, stored.prefix)
    assert find_api_token(session, token, utcnow()).user_id == user.id
    assert find_api_token(session, token + "x", utcnow()) is None


def test_create_token_for_an_unknown_email_fails_clearly(app, session):
    result = app.test_cli_runner().invoke(args=["create-token", "ghost@test.ac.uk"])
    assert result.exit_code != 0
    assert "No account with the email address ghost@test.ac.uk" in result.output
