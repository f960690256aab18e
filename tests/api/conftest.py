"""API tests: the example world, a token, and a client that sends it."""

from __future__ import annotations

from typing import Any

import pytest
import time_machine
from flask.testing import FlaskClient

from tests.api.world import NOW, build_world, token_for


class Api:
    """The test client, speaking JSON with a bearer token and no cookies, as a script would."""

    def __init__(self, client: FlaskClient, token: str | None) -> None:
        self.client = client
        self.token = token

    def headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        return {**headers, **(extra or {})}

    def request(
        self, method: str, path: str, json: Any = None, headers: dict[str, str] | None = None, **kwargs: Any
    ):
        if json is not None:
            kwargs["json"] = json
        return self.client.open("/api/v1" + path, method=method, headers=self.headers(headers), **kwargs)

    def get(self, path: str, **kwargs: Any):
        return self.request("GET", path, **kwargs)

    def post(self, path: str, json: Any = None, **kwargs: Any):
        return self.request("POST", path, json=json, **kwargs)

    def patch(self, path: str, json: Any = None, **kwargs: Any):
        return self.request("PATCH", path, json=json, **kwargs)

    def as_(self, token: str | None) -> Api:
        return Api(self.client, token)


@pytest.fixture
def clock():
    """The examples' clock: Friday 28 December 2029, noon, standing still."""
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def world(session, clock):
    return build_world(session)


@pytest.fixture
def carla(world, session, client) -> Api:
    """Carla, manager of CHEM, calling with her token (the examples' caller)."""
    return Api(client, token_for(session, world["carla"]))


@pytest.fixture
def priya(world, session, client) -> Api:
    """Priya, a physicist with no managing role."""
    return Api(client, token_for(session, world["priya"]))


@pytest.fixture
def pavel(world, session, client) -> Api:
    """Pavel, manager of PHYS."""
    return Api(client, token_for(session, world["pavel"]))


@pytest.fixture
def anonymous(client) -> Api:
    return Api(client, None)
