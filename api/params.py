"""Reading what API callers send, and writing times back: described once, checked once.

Each endpoint lists its query parameters and JSON body fields as ``Param`` values. The same list
reads the request (``read_query``, ``read_body``) and describes it in the OpenAPI document
(``Param.schema``), so the document cannot promise what the code does not check.

What a ``Param`` checks is the shape (a whole number, a date and time, one of a list): breaking
it is a malformed request (400). The rules of the domain (a tag already used, a booking in the
past) stay in the services, which raise ``InvalidInput`` or ``BookingRefused`` (422 or 409).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from flask import request

from core.bounds import MAX_INT, MAX_YEAR, MIN_DATE_YEAR, MIN_YEAR, whole_number
from core.errors import DomainError, InvalidInput
from core.timeutil import NonexistentLocalTime, local_to_utc, to_local

UTC = dt.UTC
MAX_PER_PAGE = 200
MAX_WEEKLY_HOURS = 100


class Malformed(DomainError):
    """The request is not what the API reads: bad JSON, a parameter of the wrong type."""

    status_code = 400

    def __init__(self, message: str = "", errors: dict[str, list[str]] | None = None) -> None:
        super().__init__(message or "The request is malformed; see errors for each parameter.")
        self.errors = errors or {}


@dataclass(frozen=True)
class Param:
    """A query parameter or a body field: its name, kind and what it means.

    ``kind`` is one of: integer, string, boolean, datetime, date, time, enum, ids (a list of
    whole numbers), weekly_hours, recurrence.
    """

    name: str
    kind: str
    description: str
    required: bool = False
    nullable: bool = False
    choices: tuple[str, ...] = ()
    minimum: int | None = None
    maximum: int | None = None
    default: Any = None
    example: Any = None

    def schema(self) -> dict[str, Any]:
        """This parameter's JSON Schema (OpenAPI 3.1)."""
        schema = _KIND_SCHEMAS[self.kind](self)
        if self.nullable:
            if "type" in schema:
                schema = {**schema, "type": [schema["type"], "null"]}
            else:
                schema = {"anyOf": [schema, {"type": "null"}]}
        if self.default is not None:
            schema["default"] = self.default
        return schema


def _integer_schema(param: Param) -> dict[str, Any]:
    return {
        "type": "integer",
        "minimum": param.minimum if param.minimum is not None else -MAX_INT,
        "maximum": param.maximum if param.maximum is not None else MAX_INT,
    }


def _enum_schema(param: Param) -> dict[str, Any]:
    return {"type": "string", "enum": list(param.choices)}


TIME_PATTERN = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"

_KIND_SCHEMAS = {
    "integer": _integer_schema,
    "string": lambda p: {"type": "string"},
    "boolean": lambda p: {"type": "boolean"},
    "datetime": lambda p: {"type": "string", "format": "date-time"},
    "date": lambda p: {"type": "string", "format": "date"},
    "time": lambda p: {"type": "string", "pattern": TIME_PATTERN},
    "enum": _enum_schema,
    "ids": lambda p: {
        "type": "array",
        "items": {"type": "integer", "minimum": 1, "maximum": MAX_INT},
        "maxItems": 100,
    },
    "weekly_hours": lambda p: {
        "type": "array",
        "items": {"$ref": "#/components/schemas/WeeklyHours"},
        "maxItems": MAX_WEEKLY_HOURS,
    },
    "recurrence": lambda p: {"$ref": "#/components/schemas/Recurrence"},
}


# --- Reading values ---------------------------------------------------------------------------


class _Bad(ValueError):
    """One value's problem, for the errors map."""


def _check_text(value: str) -> str:
    if "\x00" in value:
        raise _Bad("Text cannot contain NUL characters.")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise _Bad("Text must be valid Unicode.") from None
    return value


def read_moment(name: str, text: str) -> dt.datetime:
    """An ISO 8601 date and time as aware UTC. Without an offset it is the university's local
    time; a local time the clocks skip is a rule broken (422), not a malformed request."""
    try:
        value = dt.datetime.fromisoformat(_check_text(text.strip()))
    except ValueError:
        raise _Bad(
            "Give an ISO 8601 date and time, such as 2030-01-07T10:00 or 2030-01-07T10:00:00Z."
        ) from None
    if not MIN_YEAR <= value.year <= MAX_YEAR:
        raise _Bad(f"Give a time between the years {MIN_YEAR} and {MAX_YEAR}.")
    try:
        return local_to_utc(value)
    except NonexistentLocalTime as error:
        raise InvalidInput(str(error), field_errors={name: [str(error)]}) from None


def _read_integer(param: Param, value: Any, from_text: bool) -> int:
    if from_text:
        try:
            number = whole_number(value, -(2**63), 2**63 - 1)  # the bound is the parameter's, below
        except ValueError:
            raise _Bad("Give a whole number.") from None
    elif isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _Bad("Give a whole number.")
    elif isinstance(value, float):
        if not value.is_integer():
            raise _Bad("Give a whole number.")
        number = int(value)
    else:
        number = value
    low = param.minimum if param.minimum is not None else -MAX_INT
    high = param.maximum if param.maximum is not None else MAX_INT
    if not low <= number <= high:
        raise _Bad(f"Give a whole number from {low} to {high}.")
    return number


def _read_boolean(value: Any, from_text: bool) -> bool:
    if from_text:
        text = str(value).strip().lower()
        if text in ("true", "1", "yes", "on"):
            return True
        if text in ("false", "0", "no", "off"):
            return False
        raise _Bad("Give true or false.")
    if not isinstance(value, bool):
        raise _Bad("Give true or false.")
    return value


def _read_string(value: Any) -> str:
    if not isinstance(value, str):
        raise _Bad("Give text.")
    return _check_text(value)


def _read_date(value: Any) -> dt.date:
    text = _read_string(value).strip()
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        raise _Bad("Give an ISO 8601 date, such as 2030-01-07.") from None
    if not MIN_DATE_YEAR <= day.year <= MAX_YEAR:
        raise _Bad(f"Give a date between the years {MIN_DATE_YEAR} and {MAX_YEAR}.")
    return day


def _read_time(value: Any) -> dt.time:
    text = _read_string(value).strip()
    try:
        return dt.time.fromisoformat(text)
    except ValueError:
        raise _Bad("Give a time as HH:MM, such as 09:00.") from None


def _read_weekly_hours(value: Any) -> list[tuple[int, dt.time, dt.time]]:
    if not isinstance(value, list):
        raise _Bad("Give a list of {weekday, opens, closes} objects.")
    if len(value) > MAX_WEEKLY_HOURS:
        raise _Bad(f"Give at most {MAX_WEEKLY_HOURS} opening intervals.")
    hours = []
    weekday = Param("weekday", "integer", "", minimum=0, maximum=6)
    for n, item in enumerate(value):
        if not isinstance(item, dict) or not {"weekday", "opens", "closes"} <= item.keys():
            raise _Bad(f"Item {n + 1} must be an object with weekday, opens and closes.")
        try:
            hours.append(
                (
                    _read_integer(weekday, item["weekday"], False),
                    _read_time(item["opens"]),
                    _read_time(item["closes"]),
                )
            )
        except _Bad as error:
            raise _Bad(f"Item {n + 1}: {error}") from None
    return hours


def _read_ids(value: Any, from_text: bool) -> list[int]:
    if not isinstance(value, list) or len(value) > 100:
        raise _Bad("Give a list of at most 100 ids.")
    ident = Param("id", "integer", "", minimum=1)
    return [_read_integer(ident, item, from_text) for item in value]


def _read_recurrence(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _Bad("Give an object with frequency and count or until.")
    frequency = Param("frequency", "enum", "", choices=("daily", "weekly"))
    result: dict[str, Any] = {"frequency": _read_value(frequency, value.get("frequency"), False)}
    if value.get("count") is not None:
        result["count"] = _read_integer(Param("count", "integer", "", minimum=1), value["count"], False)
    if value.get("until") is not None:
        result["until"] = _read_date(value["until"])
    return result


def _read_value(param: Param, value: Any, from_text: bool) -> Any:
    if value is None:
        if param.nullable and not from_text:
            return None
        raise _Bad("A value is required.")
    kind = param.kind
    if kind == "integer":
        return _read_integer(param, value, from_text)
    if kind == "boolean":
        return _read_boolean(value, from_text)
    if kind == "string":
        return _read_string(value)
    if kind == "enum":
        text = _read_string(value)
        if text not in param.choices:
            raise _Bad(f"Give one of: {', '.join(param.choices)}.")
        return text
    if kind == "datetime":
        return read_moment(param.name, _read_string(value))
    if kind == "date":
        return _read_date(value)
    if kind == "time":
        return _read_time(value)
    if kind == "weekly_hours":
        return _read_weekly_hours(value)
    if kind == "ids":
        return _read_ids(value, from_text)
    if kind == "recurrence":
        return _read_recurrence(value)
    raise AssertionError(f"unknown kind {kind}")


def _read(params: Iterable[Param], source: Mapping[str, Any], from_text: bool, where: str) -> dict[str, Any]:
    values: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    for param in params:
        if param.name not in source or (from_text and source[param.name] == ""):
            if param.required:
                errors[param.name] = [f"The {where} {param.name} is required."]
            elif param.default is not None:
                values[param.name] = param.default
            continue
        # A list in a query string is the parameter repeated: ?school=1&school=2
        value = source.getlist(param.name) if from_text and param.kind == "ids" else source[param.name]
        try:
            values[param.name] = _read_value(param, value, from_text)
        except _Bad as error:
            errors[param.name] = [str(error)]
    if errors:
        raise Malformed(errors=errors)
    return values


def read_query(params: Iterable[Param]) -> dict[str, Any]:
    """The request's query parameters as Python values; parameters not listed are ignored.
    Only the parameters given (or with a default) are in the result."""
    return _read(params, request.args, True, "parameter")


def json_body() -> dict[str, Any]:
    """The request's JSON object; an empty body is an empty object."""
    if not request.get_data(cache=True):
        return {}
    if not request.is_json:
        raise Malformed("Send the body as JSON, with Content-Type: application/json.")
    try:
        data = request.get_json(silent=True)
    except RecursionError:  # [[[[...]]]] 100,000 deep: the decoder gives up, and so do we
        raise Malformed(
            "The body is JSON nested too deeply; no field of the API nests more than a few levels."
        ) from None
    if not isinstance(data, dict):
        raise Malformed("The body must be a JSON object.")
    return data


def read_body(params: Iterable[Param]) -> dict[str, Any]:
    """The JSON body's fields as Python values. Only the fields sent are in the result, so a
    PATCH changes just those; fields not listed are ignored."""
    return _read(params, json_body(), False, "field")


# --- Pagination -------------------------------------------------------------------------------

PAGING = (
    Param("page", "integer", "Which page, from 1.", minimum=1, maximum=MAX_INT, default=1, example=1),
    Param(
        "per_page",
        "integer",
        f"Items per page, at most {MAX_PER_PAGE}.",
        minimum=1,
        maximum=MAX_PER_PAGE,
        default=20,
        example=20,
    ),
)


def page_of(items: list[Any], total: int, page: int, per_page: int) -> dict[str, Any]:
    return {"items": items, "total": total, "page": page, "per_page": per_page}


# --- Writing times ----------------------------------------------------------------------------


def utc_text(moment: dt.datetime | None) -> str | None:
    """2030-01-07T10:00:00Z: what every time in a response is."""
    if moment is None:
        return None
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def local_text(moment: dt.datetime | None) -> str | None:
    """The same instant in the university's zone, with its offset: 2030-07-01T11:00:00+01:00."""
    if moment is None:
        return None
    return to_local(moment).replace(microsecond=0).isoformat()


def times(**moments: dt.datetime | None) -> dict[str, str | None]:
    """``times(start=x)`` -> {"start": UTC, "start_local": local}, for each name given."""
    result: dict[str, str | None] = {}
    for name, moment in moments.items():
        result[name] = utc_text(moment)
        result[f"{name}_local"] = local_text(moment)
    return result
