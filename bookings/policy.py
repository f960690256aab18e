"""Who may know what about a booking: one place for the visibility rules that the booking
pages, the week view, conflict messages and the API all follow."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from accounts.models import User
    from bookings.models import Booking


def may_see_holder(viewer: User, booking: Booking) -> bool:
    """Who holds (or asked for) a booking, and the booking itself, are shown to its requester, the
    managers of the School that owns the asset, and admins only; to anyone else it is just
    "Booked"."""
    return booking.requester_id == viewer.id or viewer.manages(booking.asset.school_id)
