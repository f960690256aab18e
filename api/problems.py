"""Problem details (RFC 9457): every API error is application/problem+json, made here.

Services raise domain errors (``NotAllowed``, ``NotFound``, ``InvalidInput``, ``BookingRefused``,
``SeriesRefused``); HTTP errors come from routing and the rate limiter. The handlers below turn
each into one problem document with ``type``, ``title``, ``status`` and ``detail``, plus what a
client needs to act on it: ``errors`` by field, the rules a booking broke, what it clashed with,
and free times to try instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Blueprint, Response, current_app, request
from werkzeug.exceptions import HTTPException, default_exceptions

from api.limits import seconds_until_reset
from api.params import Malformed, times
from bookings.rules import BookingRefused, SeriesRefused
from core.db import db
from core.errors import DomainError, InvalidInput, NotAllowed, NotFound, StaleVersion

PROBLEM_BASE = "/api/v1/problems/"


@dataclass(frozen=True)
class ProblemType:
    slug: str
    status: int
    title: str
    description: str  # for the reference page

    @property
    def uri(self) -> str:
        return PROBLEM_BASE + self.slug


PROBLEM_TYPES = {
    p.slug: p
    for p in (
        ProblemType(
            "malformed-request",
            400,
            "Malformed request",
            "The request could not be read: the body is not a JSON object, or a parameter or field has "
            "the wrong type (an unparseable date and time, a non-integer id, a value not in the list). "
            "`errors` maps each parameter or field to its messages.",
        ),
        ProblemType(
            "unauthenticated",
            401,
            "Authentication required",
            "No personal token was sent, or the token is unknown, revoked or expired. Send "
            "`Authorization: Bearer <token>`; create a token on your profile page.",
        ),
        ProblemType(
            "forbidden",
            403,
            "Not allowed",
            "The token's user may see the object but not do this to it: for instance, only a manager of "
            "the School that owns an asset can change it or decide on its bookings, and nobody decides their own "
            "booking request.",
        ),
        ProblemType(
            "not-found",
            404,
            "Not found",
            "There is no such object, or the token's user may not see it (other people's bookings are "
            "not found rather than forbidden, so ids reveal nothing).",
        ),
        ProblemType(
            "method-not-allowed",
            405,
            "Method not allowed",
            "The address exists but does not accept this HTTP method.",
        ),
        ProblemType(
            "booking-conflict",
            409,
            "The time is taken",
            "The booking overlaps another booking of the asset (its turnaround included). `conflicts` "
            "lists what is in the way and `suggestions` the next free times of the same length.",
        ),
        ProblemType(
            "series-conflict",
            409,
            "Some times of the series are taken",
            "A recurring booking was refused because some occurrences overlap other bookings; nothing "
            "was booked. `occurrences` says, occurrence by occurrence, what each one broke.",
        ),
        ProblemType(
            "stale-version",
            412,
            "Changed since you read it",
            "The request's `If-Match` names a version of the object that is no longer current: somebody "
            "changed it after you read it, and nothing was changed now. Read it again (its `ETag` is the "
            "current version), check the changes, and repeat the request with the new `If-Match`.",
        ),
        ProblemType(
            "too-large",
            413,
            "Request too large",
            "The body is larger than the server accepts.",
        ),
        ProblemType(
            "uri-too-long",
            414,
            "URI too long",
            "The URL (path and query string) is longer than Kitshare accepts. Send fewer or shorter parameters; "
            "repeat a search in parts if it asks for many ids.",
        ),
        ProblemType(
            "invalid-input",
            422,
            "Invalid input",
            "The request was read but breaks a rule: `errors` maps each field to its messages (a tag "
            "already used, a reason that is required), or `detail` says why the action cannot be done now.",
        ),
        ProblemType(
            "booking-refused",
            422,
            "The booking breaks a rule",
            "The booking breaks one or more of the asset's rules (notice, length, bookable hours, "
            "training, status, sharing...). `violations` lists every rule broken with a stable `code`; "
            "`conflicts` and `suggestions` are given when another time could work.",
        ),
        ProblemType(
            "series-refused",
            422,
            "The series breaks a rule",
            "A recurring booking was refused because some occurrences break a rule; nothing was booked. "
            "`occurrences` lists each occurrence with its violations and conflicts.",
        ),
        ProblemType(
            "rate-limited",
            429,
            "Too many requests",
            "The token has made more requests than its rate limit allows. Wait the number of seconds "
            "in the `Retry-After` header.",
        ),
        ProblemType(
            "server-error",
            500,
            "Server error",
            "Kitshare could not finish the request and nothing was changed. Try again later.",
        ),
        ProblemType(
            "unavailable",
            503,
            "Database unavailable",
            "Kitshare cannot reach its database just now (it may be restarting), so nothing was changed. "
            "Repeat the request after the number of seconds in the `Retry-After` header.",
        ),
    )
}

_GENERIC_BY_STATUS = {p.status: p for p in reversed(PROBLEM_TYPES.values())}


def is_api_request() -> bool:
    """Is this request for the JSON API (which never answers with an HTML page)?"""
    return request.path == "/api" or request.path.startswith("/api/")


def problem(
    slug: str, detail: str, status: int | None = None, headers: dict[str, str] | None = None, **members: Any
) -> Response:
    """A problem+json response of the given type, with extra members (errors, violations...)."""
    kind = PROBLEM_TYPES[slug]
    body = {
        "type": kind.uri,
        "title": kind.title,
        "status": status or kind.status,
        "detail": detail,
        "instance": request.path,
        **members,
    }
    response = current_app.response_class(
        current_app.json.dumps(body), status=status or kind.status, mimetype="application/problem+json"
    )
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


# --- Domain errors ----------------------------------------------------------------------------


def _conflict_json(conflict: Any) -> dict[str, Any]:
    return {
        "kind": conflict.kind,
        **times(start=conflict.start_at, end=conflict.end_at),
        "booking_id": conflict.booking_id,
        "holder": conflict.holder,
    }


def _violations_json(violations: list[Any]) -> list[dict[str, str]]:
    return [{"code": v.code, "message": v.message} for v in violations]


def domain_problem(error: DomainError) -> Response:

    if isinstance(error, BookingRefused):
        return problem(
            "booking-conflict" if error.status_code == 409 else "booking-refused",
            error.message,
            status=error.status_code,
            violations=_violations_json(error.violations),
            conflicts=[_conflict_json(c) for c in error.conflicts],
            suggestions=[times(start=s.start_at, end=s.end_at) for s in error.suggestions],
        )
    if isinstance(error, SeriesRefused):
        return problem(
            "series-conflict" if error.status_code == 409 else "series-refused",
            error.message,
            status=error.status_code,
            occurrences=[
                {
                    **times(start=o.start_at, end=o.end_at),
                    "violations": _violations_json(o.violations),
                    "conflicts": [_conflict_json(c) for c in o.conflicts],
                }
                for o in error.occurrences
            ],
        )
    if isinstance(error, Malformed):
        return problem("malformed-request", error.message, errors=error.errors)
    if isinstance(error, InvalidInput):
        return problem("invalid-input", _invalid_detail(error), errors=error.field_errors)
    if isinstance(error, NotAllowed):
        return problem("forbidden", error.message)
    if isinstance(error, NotFound):
        return problem("not-found", error.message)
    if isinstance(error, StaleVersion):
        return problem("stale-version", error.message, headers={"ETag": etag(error.current_version)})
    status = error.status_code if error.status_code in _GENERIC_BY_STATUS else 422
    return problem(_GENERIC_BY_STATUS[status].slug, error.message, status=status)


def etag(version: int) -> str:
    """The strong entity tag of an object's version (``"7"``), as ETag and If-Match carry it."""
    return f'"{int(version)}"'


def _invalid_detail(error: InvalidInput) -> str:
    if error.field_errors:
        messages = [f"{name}: {message}" for name, items in error.field_errors.items() for message in items]
        return " ".join(messages)
    return error.message


# --- HTTP errors ------------------------------------------------------------------------------


def http_problem(error: HTTPException) -> Response:
    """Routing, size and rate-limit errors as problems; anything unexpected as a 500 problem."""
    status = error.code or 500
    if status == 429:
        return rate_limited(error)
    headers = {}
    if status == 401:
        headers["WWW-Authenticate"] = getattr(error, "challenge", 'Bearer realm="Kitshare API"')
    if status == 405 and getattr(error, "valid_methods", None):
        headers["Allow"] = ", ".join(sorted(error.valid_methods))
    kind = _GENERIC_BY_STATUS.get(status)
    if status == 404:
        detail = "There is no such address in the API. The reference is at /api/v1/docs."
    elif kind is None:
        kind = _GENERIC_BY_STATUS[500 if status >= 500 else 400]
        detail = error.description or kind.title
    else:
        detail = error.description or kind.title
    return problem(kind.slug, detail, status=status, headers=headers)


def rate_limited(error: HTTPException) -> Response:

    wait = seconds_until_reset()
    return problem(
        "rate-limited",
        f"This token's rate limit ({error.description}) is used up. Try again in {wait} seconds.",
        headers={"Retry-After": str(wait)},
    )


def server_error(error: Exception) -> Response:

    db.session.rollback()
    original = getattr(error, "original_exception", None) or error
    current_app.logger.error("API request failed", exc_info=original)
    return problem("server-error", PROBLEM_TYPES["server-error"].description)


def register_handlers(blueprint: Blueprint) -> None:
    """Every error on the blueprint's routes becomes a problem: domain errors, HTTP errors (each
    code, so they win over the site's HTML error pages), and anything unexpected."""
    blueprint.register_error_handler(DomainError, domain_problem)
    for code in default_exceptions:
        if code == 500:
            continue
        blueprint.register_error_handler(code, http_problem)
    blueprint.register_error_handler(500, server_error)


def database_problem(headers: dict[str, str]) -> Response:
    """The problem for a request that found the database unreachable (503, with Retry-After)."""
    return problem("unavailable", PROBLEM_TYPES["unavailable"].description, headers=headers)


def error_problem(error: Exception) -> Response:
    """For the site's own error handlers: the problem for an error on an /api/ address that no
    API route matched (an unknown address, a method the address does not take)."""
    if isinstance(error, DomainError):
        return domain_problem(error)
    if isinstance(error, HTTPException):
        return http_problem(error)
    return server_error(error)
