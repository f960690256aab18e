"""Property-based testing of every operation against the OpenAPI document (schemathesis).

Each operation is called with the document's examples, then with generated requests (valid and
invalid), as Carla on the example data. Every answer must be something other than a server error
and must match the documented status codes, content types and schemas.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.api.world import token_for
from tests.conftest import settings_for_tests
from web.app import create_app

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture
def fuzzed_app(app, database_url):
    """The application with a rate limit no fuzzing run reaches (429s would hide the rest)."""
    return create_app(settings_for_tests(database_url, KITSHARE_API_RATE_LIMIT="1000000/minute"))


@pytest.fixture
def carla_token(world, session) -> str:
    return token_for(session, world["carla"])


# The document comes from the routes alone; the requests go to ``fuzzed_app`` on the test database.
schema = schemathesis.openapi.from_dict(
    create_app(settings_for_tests("sqlite://")).test_client().get("/api/v1/openapi.json").json
)


@schema.parametrize()
@settings(max_examples=50, deadline=None, database=None, suppress_health_check=list(HealthCheck))
def test_every_operation_conforms_to_the_document(case, fuzzed_app, carla_token):
    case.call_and_validate(app=fuzzed_app, headers={"Authorization": f"Bearer {carla_token}"}, checks=CHECKS)
