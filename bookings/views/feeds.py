"""Calendar feed URLs (no sign-in: the token in the URL is the secret) and resetting them."""

from __future__ import annotations

from flask import Response, flash, redirect, url_for
from flask_login import current_user, login_required

from bookings import feeds
from bookings.views import bp
from core.config import site_url
from core.db import db, utcnow


def _base_url() -> str:
    return site_url()


@bp.app_template_global()
def calendar_feed_urls(kind: str, token: str) -> dict[str, str]:
    """The absolute https (or http) and webcal:// addresses of a feed, for the pages that show them."""
    url = _base_url() + url_for(f"bookings.{kind}_feed", token=token)
    return {"url": url, "webcal": feeds.webcal_url(url)}


def _ics(body: bytes, filename: str) -> Response:
    response = Response(body, mimetype="text/calendar")  # Flask adds "; charset=utf-8"
    response.headers["Content-Disposition"] = f'inline; filename="{filename}"'
    # The URL is a secret: no shared cache may keep it, and search engines must not list it.
    response.headers["Cache-Control"] = "private, max-age=0, must-revalidate"
    response.headers["X-Robots-Tag"] = "noindex"
    return response


@bp.get("/calendar/user/<token>.ics")
def user_feed(token: str):
    user = feeds.user_for_token(db.session, token)
    return _ics(feeds.user_calendar(db.session, user, utcnow(), _base_url()), "kitshare-bookings.ics")


@bp.get("/calendar/asset/<token>.ics")
def asset_feed(token: str):
    asset = feeds.asset_for_token(db.session, token)
    return _ics(feeds.asset_calendar(db.session, asset, utcnow(), _base_url()), f"kitshare-{asset.tag}.ics")


@bp.post("/profile/calendar-token/reset")
@login_required
def reset_my_calendar_token():
    feeds.reset_user_token(db.session, current_user)
    flash(
        "Your calendar feed has a new address and the old one no longer works. "
        "Subscribe to the new address in your calendar program.",
        "success",
    )
    return redirect(url_for("accounts.profile") + "#calendar-feeds-title")


@bp.post("/assets/<int:asset_id>/calendar-token/reset")
@login_required
def reset_asset_calendar_token(asset_id: int):
    asset = feeds.reset_asset_token(db.session, current_user, asset_id)
    flash(f"The calendar feed of {asset.name} has a new address; the old one no longer works.", "success")
    return redirect(url_for("inventory.asset", asset_id=asset_id) + "#asset-feed-title")
