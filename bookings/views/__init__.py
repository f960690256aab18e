"""The bookings blueprint. Its routes live in one module per topic: booking (the booking form, my
bookings, a booking's page, cancelling, the approval queue, an asset's week), loans, waitlist,
quotas, feeds."""

from flask import Blueprint

bp = Blueprint("bookings", __name__)

# Each module registers its routes on bp.
from bookings.views import booking, feeds, loans, quotas, waitlist  # noqa: E402,F401
