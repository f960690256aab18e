"""Who is calling: a personal token in ``Authorization: Bearer <token>``, and nothing else.

The API never reads or sets cookies: a browser's signed-in session does not authenticate an API
call, and no API response starts one. The token acts with its user's roles and School scopes,
exactly as the user would on the pages, because the same service functions check them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import current_app, g, request
from flask_login import current_user
from werkzeug.exceptions import Unauthorized

from accounts.models import User
from accounts.service import find_api_token, record_token_use, token_use_due
from api.limits import presented_token
from api.params import MAX_INT, Malformed
from core.db import db, utcnow
from core.errors import NotFound

F = TypeVar("F", bound=Callable[..., Any])
REALM = 'Bearer realm="Kitshare API"'


class Unauthenticated(Unauthorized):
    """No token, or one that does not work: 401 with a WWW-Authenticate challenge."""

    def __init__(self, description: str, invalid_token: bool) -> None:
        super().__init__(description)
        self.challenge = REALM + (', error="invalid_token"' if invalid_token else "")


def public(view: F) -> F:
    """Mark a view that needs no token (the OpenAPI document and the reference page)."""
    view.api_public = True  # type: ignore[attr-defined]
    return view


def authenticate() -> None:
    """Before every API view: find the token's user (recording when the token was last used),
    then read the ids in the path.

    The user becomes ``current_user`` through Flask-Login's request loader (``web.app``), which
    for an API request answers with ``g.api_user`` and nothing else; API requests have no session
    (``web.app.NoSessionForTheApi``), so a browser's cookie is neither believed nor rewritten."""
    view = current_app.view_functions.get(request.endpoint or "")
    if view is None or getattr(view, "api_public", False):
        return
    token = presented_token()
    if token is None:
        raise Unauthenticated(
            "Send a personal API token: Authorization: Bearer <token>.", invalid_token=False
        )
    now = utcnow()
    found = find_api_token(db.session, token, now)
    if found is None:
        raise Unauthenticated(
            "The token is unknown, revoked or expired, or its account is deactivated.", invalid_token=True
        )
    if token_use_due(found, now):  # once a minute, not a write on every call
        record_token_use(db.session, found.id, now)
    g.api_user = found.user
    # Load current_user now, so that whatever looks at it later (the request log) sees the token's user.
    current_user._get_current_object()
    _read_path_ids()


def _read_path_ids() -> None:
    """Ids in the path are whole numbers: anything else is malformed (400); one too large to
    exist is simply not found."""
    for name, value in list((request.view_args or {}).items()):
        if not name.endswith("_id") or isinstance(value, int):
            continue
        if not (value.isascii() and value.isdigit()) or len(value) > 12:
            raise Malformed(errors={name: ["Give the id as a positive whole number."]})
        number = int(value)
        if number > MAX_INT:
            raise NotFound("There is no such object.")
        request.view_args[name] = number  # type: ignore[index]


def api_user() -> User:
    """The user the request's token belongs to."""
    return g.api_user
