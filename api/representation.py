"""The building blocks of the API's response shapes (OpenAPI 3.1 / JSON Schema 2020-12): small
schemas (``ID``, ``TEXT``, ``moment``, ``page``, ...) and ``Representation``.

A resource's representation is written once, as a ``Representation``: each ``Field`` gives its
JSON Schema and how to read it from the object, so the same definition documents the field
(``json_schema``) and serialises it (``dump``), and a field added to one cannot be missing from
the other.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from operator import attrgetter
from typing import Any

from flask import url_for

from api.params import MAX_INT, local_text, utc_text

REF = "#/components/schemas/"


def ref(name: str) -> dict[str, str]:
    return {"$ref": REF + name}


def nullable(schema: dict[str, Any]) -> dict[str, Any]:
    if "$ref" in schema:
        return {"anyOf": [schema, {"type": "null"}]}
    return {**schema, "type": [schema["type"], "null"]}


def obj(
    properties: dict[str, Any], required: list[str] | None = None, description: str = ""
) -> dict[str, Any]:
    """An object whose listed properties are all present unless ``required`` says otherwise."""
    schema: dict[str, Any] = {
        "type": "object",
        "properties": properties,
        "required": list(properties) if required is None else required,
    }
    if description:
        schema["description"] = description
    return schema


ID = {"type": "integer", "minimum": 1, "maximum": MAX_INT}
TEXT = {"type": "string"}
COUNT = {"type": "integer", "minimum": 0}
FLAG = {"type": "boolean"}
UTC_TIME = {"type": "string", "format": "date-time", "description": "UTC, with Z."}
LOCAL_TIME = {
    "type": "string",
    "format": "date-time",
    "description": "The same instant in the university's zone.",
}


def moment(name: str, what: str, is_nullable: bool = False) -> dict[str, Any]:
    """A time as two properties: ``name`` in UTC and ``name_local`` in the university's zone."""
    utc = {**UTC_TIME, "description": f"{what} (UTC)."}
    local = {**LOCAL_TIME, "description": f"{what}, in the university's local time."}
    if is_nullable:
        utc, local = nullable(utc), nullable(local)
    return {name: utc, f"{name}_local": local}


def page(item: str) -> dict[str, Any]:
    return obj(
        {
            "items": {"type": "array", "items": ref(item)},
            "total": {**COUNT, "description": "How many items match, over every page."},
            "page": {**ID, "description": "This page's number, from 1."},
            "per_page": {"type": "integer", "minimum": 1, "maximum": 200},
        },
        description=f"One page of {item} objects.",
    )


INTERVAL = obj(
    {**moment("start", "Start"), **moment("end", "End")}, description="A half-open interval [start, end)."
)


# --- Representations: one definition serialises and documents ---------------------------------

Reader = Callable[[Any, Any], Any]  # (the object, the token's user) -> the field's JSON value


@dataclass(frozen=True)
class Field:
    """One property of a representation: its schema, and how to read it from the object.
    ``read`` None: documented here but added by the endpoint that answers with it; ``shown``:
    present only when it says so (the field is then not required)."""

    name: str
    schema: Mapping[str, Any]
    read: Reader | None
    required: bool = True
    shown: Callable[[Any, Any], bool] | None = None


@dataclass(frozen=True)
class Representation:
    name: str  # its component name in the document
    fields: tuple[Field, ...]
    description: str = ""

    @property
    def json_schema(self) -> dict[str, Any]:
        return obj(
            {f.name: dict(f.schema) for f in self.fields},
            required=[f.name for f in self.fields if f.required],
            description=self.description,
        )

    def dump(self, item: Any, viewer: Any = None) -> dict[str, Any]:
        """``item`` as the API answers with it (``viewer``: the token's user, for fields that
        depend on who asks)."""
        return {
            f.name: f.read(item, viewer)
            for f in self.fields
            if f.read is not None and (f.shown is None or f.shown(item, viewer))
        }


def field(name: str, schema: Mapping[str, Any], read: Reader | None = None, **options: Any) -> Field:
    """A property read from the attribute of the same name unless ``read`` says otherwise."""
    if read is None:
        getter = attrgetter(name)

        def read(item: Any, viewer: Any) -> Any:
            return getter(item)

    return Field(name, schema, read, **options)


def value_of(name: str) -> Reader:
    """An enum attribute's value."""
    getter = attrgetter(name)
    return lambda item, viewer: getter(item).value


def documented_only(name: str, schema: Mapping[str, Any], **options: Any) -> Field:
    return Field(name, schema, None, **options)


def moments(name: str, what: str, is_nullable: bool = False, attribute: str = "") -> tuple[Field, Field]:
    """A time as two fields, ``name`` in UTC and ``name_local`` in the university's zone (the
    schema of ``moment``), read from ``attribute`` (default: ``name``)."""
    utc_schema, local_schema = moment(name, what, is_nullable).values()
    getter = attrgetter(attribute or name)
    return (
        Field(name, utc_schema, lambda item, viewer: utc_text(getter(item))),
        Field(f"{name}_local", local_schema, lambda item, viewer: local_text(getter(item))),
    )


def utc_moment(name: str) -> Field:
    """A time given in UTC only (created_at, updated_at)."""
    getter = attrgetter(name)
    return Field(name, UTC_TIME, lambda item, viewer: utc_text(getter(item)))


def nested(name: str, representation: Representation, is_nullable: bool = False, **options: Any) -> Field:
    """Another representation inside this one, by reference."""
    getter = attrgetter(name)
    schema = ref(representation.name)

    def read(item: Any, viewer: Any) -> Any:
        value = getter(item)
        return None if value is None else representation.dump(value, viewer)

    return Field(name, nullable(schema) if is_nullable else schema, read, **options)


def links(**endpoints: tuple[str, str]) -> Field:
    """The ``links`` object: name -> (endpoint, its id argument), each url_for the object's id."""
    return Field(
        "links",
        obj({name: TEXT for name in endpoints}),
        lambda item, viewer: {
            name: url_for(endpoint, **{argument: item.id}) for name, (endpoint, argument) in endpoints.items()
        },
    )


def object_schema(params: Any, description: str = "") -> dict[str, Any]:
    """A request body's schema from its ``Param`` list."""
    schema: dict[str, Any] = {
        "type": "object",
        "properties": {p.name: {**p.schema(), "description": p.description} for p in params},
    }
    required = [p.name for p in params if p.required]
    if required:
        schema["required"] = required
    if description:
        schema["description"] = description
    return schema
