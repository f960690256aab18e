"""The OpenAPI document: valid, complete, its examples true when replayed, and readable offline."""

from __future__ import annotations

import re

import pytest
from jsonschema import Draft202012Validator, FormatChecker
from openapi_spec_validator import validate

from tests.conftest import settings_for_tests
from web.app import create_app

# The document as a client sees it; only the routes matter, so any database URL will do.
DOCUMENT = create_app(settings_for_tests("sqlite://")).test_client().get("/api/v1/openapi.json").json
OPERATIONS = [
    pytest.param(path, method, operation, id=operation["operationId"])
    for path, item in DOCUMENT["paths"].items()
    for method, operation in item.items()
]
PROTECTED = [p for p in OPERATIONS if p.values[2].get("security") != []]
WITH_IDS = [p for p in OPERATIONS if "_id}" in p.values[0]]


def conforms(value, schema: dict) -> list[str]:
    """The problems with ``value`` against a schema of the document ($refs resolved in it)."""
    validator = Draft202012Validator(
        {**schema, "components": DOCUMENT["components"]}, format_checker=FormatChecker()
    )
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(value)]


def fill(path: str, value: object) -> str:
    return re.sub(r"\{[^}]+\}", str(value), path)


def test_the_document_is_valid_openapi_3_1():
    validate(DOCUMENT)
    assert DOCUMENT["openapi"].startswith("3.1")


def test_every_api_route_is_in_the_document(app):
    routes = {
        (re.sub(r"<([^>]+)>", r"{\1}", rule.rule.removeprefix("/api/v1")), method.lower())
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("api_v1.")
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    documented = {(path, method) for path, item in DOCUMENT["paths"].items() for method in item}
    assert routes == documented


@pytest.mark.parametrize("path, method, operation", OPERATIONS)
def test_every_operation_documents_its_errors_and_has_an_example(path, method, operation):
    responses = operation["responses"]
    if operation.get("security") != []:
        assert {"401", "429"} <= responses.keys()
        assert "Retry-After" in responses["429"]["headers"]
    if "_id}" in path:
        assert {"400", "404"} <= responses.keys()
    for status, response in responses.items():
        if status.startswith(("4", "5")):
            assert list(response["content"]) == ["application/problem+json"]
    examples = [
        name
        for response in responses.values()
        for media in response.get("content", {}).values()
        for name in media.get("examples", {})
    ]
    assert examples or operation["operationId"] in ("getOpenApiDocument", "getReference", "getProblemType")


@pytest.mark.parametrize("path, method, operation", OPERATIONS)
def test_every_example_response_conforms_to_its_schema(path, method, operation):
    for status, response in operation["responses"].items():
        for media in response.get("content", {}).values():
            for name, example in media.get("examples", {}).items():
                assert conforms(example["value"], media["schema"]) == [], f"{status} {name}"


# --- Replaying the examples -------------------------------------------------------------------


def _examples():
    for path, item in DOCUMENT["paths"].items():
        for method, operation in item.items():
            names: dict[str, str] = {}
            for status, response in operation["responses"].items():
                for media in response.get("content", {}).values():
                    for name in media.get("examples", {}):
                        names[name] = status
            for parameter in operation.get("parameters", []):
                for name in parameter.get("examples", {}):
                    names.setdefault(name, "")
            for name in (
                operation.get("requestBody", {})
                .get("content", {})
                .get("application/json", {})
                .get("examples", {})
            ):
                names.setdefault(name, "")
            for name, status in names.items():
                yield pytest.param(path, method, name, id=f"{operation['operationId']}-{name}")


def _expected_status(operation: dict, name: str) -> tuple[str, dict]:
    for status, response in operation["responses"].items():
        for media in response.get("content", {}).values():
            if name in media.get("examples", {}):
                return status, media
    # An example with no response body documented (a redirect) is the success response.
    status = next(iter(operation["responses"]))
    return status, next(iter(operation["responses"][status].get("content", {}).values()), {})


@pytest.mark.parametrize("path, method, name", list(_examples()))
def test_every_example_works_when_replayed(carla, path, method, name):
    """On the example data, as Carla (the examples' caller), each example gets the documented
    status and a body that conforms to the documented schema and says what the example says."""
    operation = DOCUMENT["paths"][path][method]
    url, query = path, {}
    for parameter in operation.get("parameters", []):
        example = parameter.get("examples", {}).get(name)
        if example is None:
            continue
        if parameter["in"] == "path":
            url = url.replace("{" + parameter["name"] + "}", str(example["value"]))
        else:
            query[parameter["name"]] = example["value"]
    assert "{" not in url, f"the example {name} does not give every path parameter"
    body = (
        operation.get("requestBody", {})
        .get("content", {})
        .get("application/json", {})
        .get("examples", {})
        .get(name)
    )
    response = carla.request(method.upper(), url, json=body["value"] if body else None, query_string=query)
    status, media = _expected_status(operation, name)
    assert response.status_code == int(status), response.get_data(as_text=True)
    if response.is_json:
        assert conforms(response.json, media["schema"]) == []
        documented = media.get("examples", {}).get(name, {}).get("value")
        if documented is not None:
            assert without_record_times(response.json) == without_record_times(documented)


def without_record_times(value):
    """A response without when its records were created or updated (the replay's own times)."""
    if isinstance(value, dict):
        return {k: without_record_times(v) for k, v in value.items() if k not in ("created_at", "updated_at")}
    if isinstance(value, list):
        return [without_record_times(v) for v in value]
    return value


# --- Every endpoint refuses what it should ----------------------------------------------------


@pytest.mark.parametrize("path, method, operation", PROTECTED)
def test_every_protected_operation_refuses_a_request_without_a_token(anonymous, path, method, operation):
    response = anonymous.request(method.upper(), fill(path, 1), json={})
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"


@pytest.mark.parametrize("path, method, operation", PROTECTED)
def test_every_protected_operation_refuses_a_bad_token(anonymous, path, method, operation):
    assert anonymous.as_("ks_wrong").request(method.upper(), fill(path, 1), json={}).status_code == 401


@pytest.mark.parametrize("path, method, operation", WITH_IDS)
def test_every_operation_on_an_object_answers_404_for_an_unknown_id(carla, path, method, operation):
    response = carla.request(method.upper(), fill(path, 999), json={})
    assert response.status_code == 404
    assert response.json["type"] == "/api/v1/problems/not-found"


@pytest.mark.parametrize("path, method, operation", WITH_IDS)
def test_every_operation_on_an_object_answers_400_for_a_malformed_id(carla, path, method, operation):
    assert carla.request(method.upper(), fill(path, "one"), json={}).status_code == 400


# --- The readable page ------------------------------------------------------------------------


def test_the_reference_page_lists_every_operation_schema_and_problem_type(anonymous):
    page = anonymous.get("/docs").text
    for _path, _method, operation in (p.values for p in OPERATIONS):
        assert f'id="{operation["operationId"]}"' in page
    for name in DOCUMENT["components"]["schemas"]:
        assert f'id="schema-{name}"' in page
    for problem in DOCUMENT["x-problem-types"]:
        assert problem["type"] in page
    assert "Authorization: Bearer &lt;token&gt;" in page


def test_the_reference_page_works_offline(anonymous):
    page = anonymous.get("/docs").text
    assert "<script" not in page
    links = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert links and all(link.startswith(("/", "#")) for link in links)


def test_the_reference_page_tables_have_captions_and_scoped_headers(anonymous):
    page = anonymous.get("/docs").text
    assert page.count("<table>") == page.count("<caption>")
    assert "<th>" not in page  # every header cell says what it heads (scope)


WITH_QUERY = [p for p in OPERATIONS if any(q["in"] == "query" for q in p.values[2].get("parameters", []))]
WITH_BODY = [p for p in OPERATIONS if "requestBody" in p.values[2]]
BAD_VALUES = {"integer": "many", "string": None, "boolean": "perhaps", "array": "many"}


def _bad_query(operation: dict) -> dict[str, str]:
    for parameter in operation["parameters"]:
        schema = parameter["schema"]
        if parameter["in"] != "query":
            continue
        if "enum" in schema:
            return {parameter["name"]: "no-such-choice"}
        if schema.get("format") in ("date", "date-time"):
            return {parameter["name"]: "someday"}
        if BAD_VALUES.get(schema.get("type")):
            return {parameter["name"]: BAD_VALUES[schema["type"]]}
    raise AssertionError("no parameter to get wrong")


@pytest.mark.parametrize("path, method, operation", WITH_QUERY)
def test_every_operation_with_parameters_refuses_a_malformed_one(carla, path, method, operation):
    bad = _bad_query(operation)
    response = carla.request(method.upper(), fill(path, 1), query_string=bad)
    assert response.status_code == 400
    assert set(bad) <= set(response.json["errors"])


@pytest.mark.parametrize("path, method, operation", WITH_BODY)
def test_every_operation_with_a_body_refuses_one_that_is_not_an_object(carla, path, method, operation):
    response = carla.request(method.upper(), fill(path, 1), json=["not", "an", "object"])
    assert response.status_code == 400
    assert response.json["detail"] == "The body must be a JSON object."
