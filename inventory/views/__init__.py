"""The inventory blueprint. Its routes live in one module per topic."""

from flask import Blueprint

bp = Blueprint("inventory", __name__)

# Each module registers its routes on bp.
from inventory.views import catalogue, media, register, schools, training, transfer, upkeep  # noqa: E402,F401
