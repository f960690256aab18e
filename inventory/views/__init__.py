"""The inventory blueprint. Its routes live in one module per topic."""

from flask import Blueprint

bp = Blueprint("inventory", __name__)

from inventory.views import schools  # noqa: E402,F401  (modules register their routes on bp)
