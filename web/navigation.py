"""The navigation menu: which entries a signed-in person sees."""

from __future__ import annotations

from typing import Any

from flask import Flask, url_for
from flask_login import current_user

from accounts.models import Role

NAV = [
    ("Find equipment", "inventory.catalogue_page", None),
    ("My bookings", "bookings.mine", None),
    ("Approvals", "bookings.approvals", "manager"),
    ("Loans", "bookings.loan_list", "manager"),
    ("Register", "inventory.register", "manager"),
    ("Reports", "reports.utilisation", ("finance", "manager")),
    ("Capital planning", "planning.index", ("finance", "manager")),
    ("Schools", "inventory.schools", None),
    ("Find an expert", "people.search", None),
    ("People", "admin.users", "admin"),
]


def nav_items(app: Flask) -> list[dict[str, Any]]:

    if not current_user.is_authenticated:
        return []
    items = []
    for label, endpoint, role in NAV:
        if endpoint not in app.view_functions:
            continue
        wanted = (role,) if isinstance(role, str) else (role or ())
        visible = role is None or current_user.is_admin or any(current_user.has_role(Role(r)) for r in wanted)
        items.append({"label": label, "url": url_for(endpoint), "endpoint": endpoint, "visible": visible})
    return items
