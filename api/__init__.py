"""The JSON API, version 1, at /api/v1: for timetabling, finance and research-office systems
and for scripts that read the register, check availability and book without the pages.

The blueprint ``api_v1`` holds every route. This package has what all of them share: token
authentication (``auth``), reading parameters (``params``), problem-details errors
(``problems``), the rate limiter (``limits``) and the OpenAPI document and reference page
(``spec``, ``meta``). The endpoints live here too, a module per resource (``register``,
``assets``, ``availability``, ``bookings``, ``reports``, ``planning``), and call the same service
functions as the pages; no domain package imports this one.
"""

from flask import Blueprint, Flask

from api.limits import init_limiter
from core.config import Config

api_v1 = Blueprint("api_v1", __name__, url_prefix="/api/v1")


def init_api(app: Flask, config: Config) -> None:
    """Per-application set-up, once the blueprint is registered: the token rate limiter."""
    init_limiter(app, api_v1, config.KITSHARE_API_RATE_LIMIT, config.KITSHARE_RATELIMIT_STORAGE_URI)


from api import auth, problems  # noqa: E402  (after api_v1: they register on it)

api_v1.before_request(auth.authenticate)
problems.register_handlers(api_v1)

# Each module registers its routes on api_v1: one module per resource.
from api import assets, availability, bookings, meta, people, planning, register, reports  # noqa: E402,F401
