"""The confirmation step before a change that ends or disturbs bookings (bookings/disruption.py).

A page that retires an asset, plans maintenance, narrows its hours or revokes training tries the
change inside its transaction. If bookings would be affected and the manager has not yet
decided about them, the transaction is rolled back (``ConfirmationNeeded``) and
``confirmation_page`` lists them, with the submitted form carried in hidden fields, a choice
for all and one per booking. Posting that page back to the same address makes the change with
the decisions, in one transaction. No JavaScript is needed.
"""

from __future__ import annotations

import re

from flask import render_template, request

from bookings.disruption import CHOICES, KEEP, Affected, Decisions

_PER_BOOKING = re.compile(r"affected-([0-9]{1,18})")


class ConfirmationNeeded(Exception):
    """Raised inside ``atomic`` to undo a change whose affected bookings need a decision."""

    def __init__(self, affected: Affected) -> None:
        super().__init__("The affected bookings need a decision.")
        self.affected = affected


def submitted_decisions() -> Decisions | None:
    """The manager's decisions from a confirmation page, or None when none was shown yet."""
    if request.form.get("affected_confirmed") != "1":
        return None
    default = request.form.get("affected_default", KEEP)
    per_booking = {
        int(match.group(1)): value
        for name, value in request.form.items()
        if (match := _PER_BOOKING.fullmatch(name)) and value in CHOICES
    }
    return Decisions(default if default in CHOICES else KEEP, per_booking)


def require_decisions(affected: Affected, decisions: Decisions | None) -> None:
    """Stop (and roll back) a change that affects bookings nobody has decided about yet."""
    if affected and decisions is None:
        raise ConfirmationNeeded(affected)


def confirmation_page(
    affected: Affected, *, title: str, intro: str, confirm_label: str, back: str, asset=None
):
    carried = [
        (name, value)
        for name, values in request.form.lists()
        for value in values
        if not name.startswith("affected")
    ]
    return render_template(
        "inventory/affected_bookings.html",
        affected=affected,
        title=title,
        intro=intro,
        confirm_label=confirm_label,
        back=back,
        asset=asset,
        carried=carried,
        action=request.path,
    )
