"""The OpenAPI 3.1 document, built from the routes themselves.

Each API view carries an ``Operation`` (``@documented(...)``): what it does, its parameters and
body (the same ``Param`` lists the view reads), its responses and worked examples. The path and
method come from the route, so the document lists exactly the routes the blueprint has; a route
without an ``Operation`` is a programming error the document refuses to hide.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from flask import Flask

from api.params import MAX_INT, Param
from api.problems import PROBLEM_TYPES
from api.representation import object_schema, ref
from api.schemas import SCHEMAS
from core.config import MAX_URL_LENGTH

F = TypeVar("F", bound=Callable[..., Any])
BLUEPRINT = "api_v1"
API_PREFIX = "/api/v1"
JSON = "application/json"
PROBLEM_JSON = "application/problem+json"


@dataclass(frozen=True)
class Example:
    """A worked example: a request and the response it gets on the example data (the reference
    page shows it, and the test suite replays it)."""

    name: str
    summary: str
    status: int
    path: Mapping[str, Any] = field(default_factory=dict)
    query: Mapping[str, Any] = field(default_factory=dict)
    body: Any = None
    response: Any = None


@dataclass(frozen=True)
class Operation:
    operation_id: str
    summary: str
    description: str
    tag: str
    path_params: Mapping[str, str] = field(default_factory=dict)  # name -> description
    path_choices: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # for non-id path parts
    query: tuple[Param, ...] = ()
    headers: tuple[Param, ...] = ()  # request headers the operation reads
    body: tuple[Param, ...] | None = None
    body_name: str = ""  # the request body's component name
    status: int = 200
    response: Mapping[str, Any] = field(default_factory=dict)  # the success response's schema
    response_description: str = "OK"
    response_type: str = JSON
    response_headers: Mapping[str, str] = field(default_factory=dict)  # name -> description
    errors: tuple[int, ...] = ()
    error_schemas: Mapping[int, Mapping[str, Any]] = field(default_factory=dict)
    public: bool = False
    examples: tuple[Example, ...] = ()


def documented(**fields: Any) -> Callable[[F], F]:
    """Attach an ``Operation`` to an API view."""
    operation = Operation(**fields)

    def decorator(view: F) -> F:
        view.api_operation = operation  # type: ignore[attr-defined]
        return view

    return decorator


def documenting(**shared: Any) -> Callable[..., Callable[[F], F]]:
    """``documented`` with what a group of operations shares (their tag, their answer, their
    errors) given once; each operation's own fields add to them or override them."""

    def documented_with(**fields: Any) -> Callable[[F], F]:
        return documented(**{**shared, **fields})

    return documented_with


# --- The document -----------------------------------------------------------------------------

INTRODUCTION = f"""\
Kitshare's register, availability and bookings for university systems and scripts. The API calls
the same service functions as the pages, so every rule (who may book what, when, and who decides)
is the same.

**Authentication.** Send `Authorization: Bearer <token>` with a personal token. Create one on your
profile page, or with `flask --app wsgi create-token EMAIL`; only its hash is kept, and it can be
revoked on the profile page. The token acts with its user's roles and School scopes. The API sets no
cookies and needs no CSRF token.

**Times** are ISO 8601. A time without an offset is read in the university's zone. Responses give
every time in UTC (with `Z`) and, beside it as `<name>_local`, the same instant in local time.

**Errors** are `application/problem+json` (RFC 9457) with `type`, `title`, `status` and `detail`.
A refused booking adds `violations` (each rule broken), `conflicts` and `suggestions` (free slots).

**Long URLs**: a URL (path and query string) longer than {MAX_URL_LENGTH:,} characters is answered with a
414 problem, whatever the address.

**Lists** are paginated with `page` and `per_page` (at most 200) and give the `total`.

**Rate limiting** is per token: every answer carries `X-RateLimit-Limit`, `X-RateLimit-Remaining` and
`X-RateLimit-Reset`; over the limit the answer is 429 with `Retry-After` in seconds.
"""

ERROR_DESCRIPTIONS = {
    400: "Malformed: the body is not a JSON object, or a parameter or field has the wrong type.",
    401: "No token, or the token is unknown, revoked or expired.",
    403: "The token's user is not allowed to do this.",
    404: "No such object, or one the token's user may not see.",
    409: "Another booking is in the way.",
    412: "The If-Match version is not the current one: the object changed since it was read; nothing was changed.",
    414: f"The URL (path and query string) is longer than {MAX_URL_LENGTH:,} characters: send fewer or shorter "
    "parameters.",
    422: "A rule is broken.",
    429: "The token's rate limit is used up.",
}
ERROR_SCHEMAS = {400: "InvalidProblem", 422: "InvalidProblem"}


def _flask_path(rule: str) -> tuple[str, list[str]]:
    """/api/v1/assets/<asset_id> -> (/assets/{asset_id}, [asset_id])."""
    names: list[str] = []

    def replace(match: re.Match[str]) -> str:
        name = match.group(1).split(":")[-1]
        names.append(name)
        return "{" + name + "}"

    return re.sub(r"<([^>]+)>", replace, rule[len(API_PREFIX) :]), names


def _parameter(param: Param, location: str, examples: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = {
        "name": param.name,
        "in": location,
        "required": param.required or location == "path",
        "description": param.description,
        "schema": param.schema(),
    }
    if examples:
        result["examples"] = examples
    elif param.example is not None:
        result["example"] = param.example
    return result


def _error_response(status: int, operation: Operation) -> dict[str, Any]:
    schema = operation.error_schemas.get(status) or ref(ERROR_SCHEMAS.get(status, "Problem"))
    response: dict[str, Any] = {
        "description": ERROR_DESCRIPTIONS.get(status, PROBLEM_TYPES_BY_STATUS.get(status, "Problem")),
        "content": {PROBLEM_JSON: {"schema": dict(schema)}},
    }
    if status == 401:
        response["headers"] = {
            "WWW-Authenticate": {"description": 'Bearer realm="Kitshare API"', "schema": {"type": "string"}}
        }
    if status == 429:
        response["headers"] = {
            "Retry-After": {"description": "Seconds to wait.", "schema": {"type": "integer", "minimum": 0}}
        }
    return response


PROBLEM_TYPES_BY_STATUS = {p.status: p.title for p in PROBLEM_TYPES.values()}


def _operation_json(operation: Operation, method: str, path_names: list[str]) -> dict[str, Any]:
    examples = operation.examples
    result: dict[str, Any] = {
        "operationId": operation.operation_id,
        "summary": operation.summary,
        "description": operation.description,
        "tags": [operation.tag],
    }
    parameters = []
    for name in path_names:
        description = operation.path_params.get(name, "")
        if name.endswith("_id"):
            param = Param(name, "integer", description, required=True, minimum=1, maximum=MAX_INT)
        else:
            param = Param(name, "enum", description, required=True, choices=operation.path_choices[name])
        named = {e.name: {"summary": e.summary, "value": e.path[name]} for e in examples if name in e.path}
        parameters.append(_parameter(param, "path", named))
    for param in operation.query:
        named = {
            e.name: {"summary": e.summary, "value": e.query[param.name]}
            for e in examples
            if param.name in e.query
        }
        parameters.append(_parameter(param, "query", named))
    for param in operation.headers:
        parameters.append(_parameter(param, "header", {}))
    if parameters:
        result["parameters"] = parameters
    if operation.body is not None:
        media: dict[str, Any] = {"schema": ref(operation.body_name)}
        named = {e.name: {"summary": e.summary, "value": e.body} for e in examples if e.body is not None}
        if named:
            media["examples"] = named
        result["requestBody"] = {
            "required": any(p.required for p in operation.body),
            "content": {JSON: media},
        }
    success: dict[str, Any] = {"description": operation.response_description}
    if operation.response:
        content: dict[str, Any] = {"schema": dict(operation.response)}
        named = {
            e.name: {"summary": e.summary, "value": e.response}
            for e in examples
            if e.status == operation.status and e.response is not None
        }
        if named:
            content["examples"] = named
        success["content"] = {operation.response_type: content}
    if operation.response_headers:
        success["headers"] = {
            name: {"description": text, "schema": {"type": "string"}}
            for name, text in operation.response_headers.items()
        }
    responses: dict[str, Any] = {str(operation.status): success}
    statuses = set(operation.errors)
    if any(name.endswith("_id") for name in path_names):
        statuses |= {400, 404}
    if operation.query or operation.body is not None:
        statuses.add(400)
    if not operation.public:
        statuses |= {401, 429}
    statuses.add(414)  # any address can be made too long: the app answers before the server would
    for status in sorted(statuses):
        response = _error_response(status, operation)
        named = {
            e.name: {"summary": e.summary, "value": e.response}
            for e in examples
            if e.status == status and e.response is not None
        }
        if named:
            response["content"][PROBLEM_JSON]["examples"] = named
        responses[str(status)] = response
    result["responses"] = responses
    if operation.public:
        result["security"] = []
    return result


def openapi_document(app: Flask) -> dict[str, Any]:
    """The OpenAPI 3.1 document of the API blueprint's routes on ``app``."""
    paths: dict[str, dict[str, Any]] = {}
    body_schemas: dict[str, Any] = {}
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if not rule.endpoint.startswith(BLUEPRINT + "."):
            continue
        view = app.view_functions[rule.endpoint]
        operation: Operation | None = getattr(view, "api_operation", None)
        if operation is None:
            raise RuntimeError(f"The API route {rule.rule} ({rule.endpoint}) has no @documented operation.")
        path, names = _flask_path(rule.rule)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            paths.setdefault(path, {})[method.lower()] = _operation_json(operation, method, names)
        if operation.body is not None:
            body_schemas[operation.body_name] = object_schema(operation.body, operation.summary)
    tags = sorted({op["tags"][0] for item in paths.values() for op in item.values()}, key=TAG_ORDER.index)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Kitshare API",
            "version": "1.0.0",
            "summary": "Book and share a university's research equipment.",
            "description": INTRODUCTION,
        },
        "jsonSchemaDialect": "https://spec.openapis.org/oas/3.1/dialect/base",
        "servers": [{"url": API_PREFIX}],
        "security": [{"bearerAuth": []}],
        "tags": [{"name": tag, "description": TAG_DESCRIPTIONS[tag]} for tag in tags],
        "paths": paths,
        "components": {
            "schemas": {**SCHEMAS, **dict(sorted(body_schemas.items()))},
            "securitySchemes": {
                "bearerAuth": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "A personal token from the profile page, or `flask --app wsgi create-token EMAIL`.",
                }
            },
        },
        "x-problem-types": [
            {"type": p.uri, "status": p.status, "title": p.title, "description": p.description}
            for p in PROBLEM_TYPES.values()
        ],
    }


TAG_ORDER = ["Register", "Assets", "Bookings", "People", "Reports", "Planning", "Reference"]
TAG_DESCRIPTIONS = {
    "Register": "Schools and categories.",
    "Assets": "The asset register: search it, read an asset and its availability; managers add and change assets.",
    "Bookings": "Book, and follow a booking through approval, hand-over and return.",
    "People": "Find an expert: the technicians who know a technique or look after a piece of equipment.",
    "Reports": "Utilisation and sharing figures.",
    "Planning": "The capital plan: the replacement forecast and what the evidence recommends buying, sharing or "
    "disposing of.",
    "Reference": "This document and its readable page.",
}
