"""The API describing itself: the OpenAPI document, its readable reference page, and a page
for each problem type (a problem's ``type`` URI leads there)."""

from __future__ import annotations

import json
from typing import Any

from flask import current_app, jsonify, redirect, url_for

from api import api_v1
from api.auth import public
from api.problems import PROBLEM_TYPES, problem
from api.spec import Example, documented, openapi_document

_CACHE_KEY = "kitshare_openapi_document"


def document() -> dict[str, Any]:
    """The document for this application, built once (the routes do not change)."""
    cached = current_app.extensions.get(_CACHE_KEY)
    if cached is None:
        cached = current_app.extensions[_CACHE_KEY] = openapi_document(current_app)
    return cached


@api_v1.get("/openapi.json")
@public
@documented(
    operation_id="getOpenApiDocument",
    summary="This OpenAPI document",
    description="The OpenAPI 3.1 document of the API: every operation, schema and error. No token needed.",
    tag="Reference",
    response={"type": "object", "required": ["openapi", "info", "paths"]},
    response_description="The OpenAPI document.",
    public=True,
)
def openapi_json():
    return jsonify(document())


@api_v1.get("/docs")
@public
@documented(
    operation_id="getReference",
    summary="The readable reference",
    description="This document as an HTML page that works offline: no scripts, no CDN. No token needed.",
    tag="Reference",
    response={"type": "string"},
    response_type="text/html",
    response_description="The reference page.",
    public=True,
)
def docs():
    # Rendered without the site's layout or context processors: they read the browser's sign-in
    # session, and the API never touches cookies.
    template = current_app.jinja_env.get_template("api/docs.html")
    html = template.render(reference=reference(document()))
    return current_app.response_class(html, mimetype="text/html")


@api_v1.get("/problems/<slug>")
@public
@documented(
    operation_id="getProblemType",
    summary="A problem type",
    description="Where a problem's `type` URI leads: a redirect to the type's description on the reference page.",
    tag="Reference",
    path_params={"slug": "The problem type."},
    path_choices={"slug": tuple(PROBLEM_TYPES)},
    status=302,
    response_description="A redirect to the description on the reference page.",
    response_headers={"Location": "The description's address."},
    errors=(404,),
    public=True,
    examples=(
        Example(
            "booking-refused", "Where booking-refused is described", 302, path={"slug": "booking-refused"}
        ),
    ),
)
def problem_type(slug: str):
    if slug not in PROBLEM_TYPES:
        return problem("not-found", f"There is no problem type called {slug!r}.")
    return redirect(url_for("api_v1.docs", _anchor=f"problem-{slug}"))


# --- The reference page -----------------------------------------------------------------------

METHOD_ORDER = ("get", "post", "patch", "put", "delete")


def type_label(schema: dict[str, Any] | None) -> str:
    """A JSON Schema in words: 'integer (1 to 200)', 'array of Asset', 'string or null'."""
    if not schema:
        return ""
    if "$ref" in schema:
        return schema["$ref"].rsplit("/", 1)[-1]
    for combination in ("anyOf", "oneOf"):
        if combination in schema:
            return " or ".join(type_label(s) for s in schema[combination])
    if "allOf" in schema:
        return " and ".join(type_label(s) for s in schema["allOf"])
    kind = schema.get("type", "object")
    if isinstance(kind, list):
        label = " or ".join(kind)
    elif kind == "array":
        label = f"array of {type_label(schema.get('items'))}"
    else:
        label = kind
    if "format" in schema:
        label += f" ({schema['format']})"
    if "enum" in schema:
        label += ": " + " | ".join(str(v) for v in schema["enum"])
    if "pattern" in schema:
        label += " (HH:MM)"
    if kind == "integer" and "maximum" in schema and schema["maximum"] < 10_000:
        label += f" ({schema.get('minimum', 0)} to {schema['maximum']})"
    return label


def _pretty(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False)


def reference(doc: dict[str, Any]) -> dict[str, Any]:
    """The document reshaped for the page: operations by tag, schemas, problem types."""
    tags = []
    for tag in doc["tags"]:
        operations = []
        for path, item in doc["paths"].items():
            for method in METHOD_ORDER:
                operation = item.get(method)
                if operation is None or operation["tags"][0] != tag["name"]:
                    continue
                operations.append(_operation_view(method, path, operation, doc))
        tags.append({**tag, "operations": operations})
    schemas = []
    for name, schema in doc["components"]["schemas"].items():
        parts = schema.get("allOf", [schema])
        properties = []
        based_on = []
        for part in parts:
            if "$ref" in part:
                based_on.append(type_label(part))
                continue
            required = set(part.get("required", []))
            for prop, prop_schema in part.get("properties", {}).items():
                properties.append(
                    {
                        "name": prop,
                        "type": type_label(prop_schema),
                        "required": prop in required,
                        "description": prop_schema.get("description", ""),
                    }
                )
        schemas.append(
            {
                "name": name,
                "description": schema.get("description", ""),
                "properties": properties,
                "based_on": based_on,
            }
        )
    return {
        "info": doc["info"],
        "intro": [paragraph.replace("\n", " ") for paragraph in doc["info"]["description"].split("\n\n")],
        "server": doc["servers"][0]["url"],
        "tags": tags,
        "schemas": schemas,
        "problems": [{**p, "slug": p["type"].rsplit("/", 1)[-1]} for p in doc["x-problem-types"]],
    }


def _operation_view(method: str, path: str, operation: dict[str, Any], doc: dict[str, Any]) -> dict[str, Any]:
    parameters = [
        {
            "name": p["name"],
            "in": p["in"],
            "type": type_label(p["schema"]),
            "required": p["required"],
            "description": p.get("description", ""),
        }
        for p in operation.get("parameters", [])
    ]
    body = None
    if "requestBody" in operation:
        media = operation["requestBody"]["content"]["application/json"]
        name = type_label(media["schema"])
        schema = doc["components"]["schemas"][name]
        required = set(schema.get("required", []))
        body = {
            "name": name,
            "fields": [
                {
                    "name": field,
                    "type": type_label(field_schema),
                    "required": field in required,
                    "description": field_schema.get("description", ""),
                }
                for field, field_schema in schema["properties"].items()
            ],
        }
    responses = []
    examples: dict[str, dict[str, Any]] = {}
    for status, response in operation["responses"].items():
        content_type, media = next(iter(response.get("content", {}).items()), (None, {}))
        responses.append(
            {
                "status": status,
                "description": response["description"],
                "type": type_label(media.get("schema")) if media else "",
                "content_type": content_type or "",
            }
        )
        for name, example in media.get("examples", {}).items():
            examples.setdefault(name, {"name": name, "summary": example.get("summary", "")})
            examples[name].update(status=status, response=_pretty(example["value"]))
    for parameter in operation.get("parameters", []):
        for name, example in parameter.get("examples", {}).items():
            examples.setdefault(name, {"name": name, "summary": example.get("summary", "")})
            examples[name].setdefault("params", []).append(
                (parameter["in"], parameter["name"], example["value"])
            )
    if body is not None:
        for name, example in (
            operation["requestBody"]["content"]["application/json"].get("examples", {}).items()
        ):
            examples.setdefault(name, {"name": name, "summary": example.get("summary", "")})
            examples[name]["body"] = _pretty(example["value"])
    for example in examples.values():
        example["request"] = _example_request(method, path, example.get("params", []))
    return {
        "id": operation["operationId"],
        "method": method.upper(),
        "path": path,
        "summary": operation["summary"],
        "description": operation["description"],
        "public": operation.get("security") == [],
        "parameters": parameters,
        "body": body,
        "responses": responses,
        "examples": list(examples.values()),
    }


def _example_request(method: str, path: str, params: list[tuple[str, str, Any]]) -> str:
    query = []
    for location, name, value in params:
        if location == "path":
            path = path.replace("{" + name + "}", str(value))
        else:
            query.append(f"{name}={value}")
    return f"{method.upper()} /api/v1{path}" + ("?" + "&".join(query) if query else "")
