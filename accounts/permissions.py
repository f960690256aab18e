"""Permission checks: one for roles, one for School scope, used by services and views alike."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import abort
from flask_login import current_user, login_required

from accounts.models import Role, User
from core.errors import NotAllowed

F = TypeVar("F", bound=Callable[..., Any])


def require_role(actor: User, *roles: Role) -> None:
    """Raise NotAllowed unless the actor holds one of the roles (an admin holds every role)."""
    if actor.is_admin or any(actor.has_role(role) for role in roles):
        return
    raise NotAllowed()


def require_school_manager(actor: User, school_id: int | None) -> None:
    """Raise NotAllowed unless the actor manages that School (or is an admin)."""
    if not actor.manages(school_id):
        raise NotAllowed("Only a manager of the School that owns this can do that.")


def roles_required(*roles: Role) -> Callable[[F], F]:
    """View decorator: sign-in required, then 403 unless the user holds one of the roles."""

    def decorator(view: F) -> F:
        @wraps(view)
        @login_required
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not (current_user.is_admin or any(current_user.has_role(r) for r in roles)):
                abort(403)
            return view(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorator
