"""The JSON API, version 1, at /api/v1: for timetabling, finance and research-office systems
and for scripts that read the register, check availability and book without the pages.

The blueprint ``api_v1`` holds every route. This package has what all of them share: token
authentication (``auth``), reading parameters (``params``), problem-details errors
(``problems``), the rate limiter (``limits``) and the OpenAPI document and reference page
(``spec``, ``meta``). The domain endpoints live with their packages, in ``inventory/api.py`` and
``bookings/api.py``, and call the same service functions as the pages.
"""

from flask import Blueprint, Flask

api_v1 = Blueprint("api_v1", __name__, url_prefix="/api/v1")


def init_api(app: Flask) -> None:
    """Per-application set-up, once the blueprint is registered: the token rate limiter."""
    from api.limits import init_limiter

    init_limiter(app, api_v1)


from api import auth, problems  # noqa: E402

api_v1.before_request(auth.authenticate)
problems.register_handlers(api_v1)

# Each module registers its routes on api_v1.
import bookings.api  # noqa: E402,F401
import inventory.api  # noqa: E402,F401
from api import meta, people, planning, reports  # noqa: E402,F401
