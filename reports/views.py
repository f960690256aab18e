"""Report pages: the utilisation report and its downloads, stored snapshots, subscriptions."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlencode

from flask import (
    Blueprint,
    Response,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_required
from sqlalchemy import select

from core.collector import collection_paused
from core.config import current_settings
from core.db import db
from core.errors import InvalidInput
from core.timeutil import local_today
from inventory.models import School
from reports import service
from reports.charts import monthly_trend, trend_lines, utilisation_by_school
from reports.figures import Report, ReportSettings, report_scope_for, utilisation_report
from reports.figures_json import headline_json, report_to_json
from reports.forms import ActionForm, PeriodForm, SnapshotForm, SubscriptionForm
from reports.paging import page_of_table
from reports.periods import academic_year_to_date, describe_period, last_month, last_quarter, previous_period
from reports.render import (
    XLSX_CONTENT_TYPE,
    definitions,
    file_name,
    format_cell,
    render_csv,
    render_xlsx,
    report_tables,
)
from reports.summary import headline_figures, top_assets
from reports.trend import twelve_month_trend
from web.forms import refusal_shown
from web.responses import csv_download, download, form_errors_text

bp = Blueprint("reports", __name__, url_prefix="/reports")

#: The query keys of the period picker (the rest page the tables).
PERIOD_KEYS = ("from", "to", "school")


def _period_form() -> tuple[PeriodForm, bool]:
    """The picker, filled from the query string (last month when there is none). Returns the
    form and whether it is valid."""
    service.require_reports(current_user)
    picker = service.schools_for_picker(db.session, current_user)
    # Only the table pages asked for (assets_page=2 ...): last month, as with no query at all.
    asked = any(key in request.args for key in PERIOD_KEYS)
    form = PeriodForm(formdata=request.args if asked else None)
    form.schools.choices = [(school.id, f"{school.code} – {school.name}") for school in picker]
    if not asked:
        form.period_from.data, form.period_to.data = last_month(local_today())
        return form, True
    valid = form.validate()
    if valid and form.period_from.data is None:
        form.period_from.errors = ["Enter the first day of the period, such as 2026-09-01."]
        valid = False
    if valid and form.period_to.data is None:
        form.period_to.errors = ["Enter the last day of the period, such as 2026-09-30."]
        valid = False
    return form, valid


def _report(form: PeriodForm) -> Report:
    """The report the picker asks for, for what the person may see: NotAllowed (403) for a
    School they may not see; InvalidInput for a bad period."""
    scope = report_scope_for(current_user, form.schools.data or None)
    return utilisation_report(
        db.session,
        form.period_from.data,
        form.period_to.data,
        scope,
        ReportSettings.from_config(current_settings()),
        readers=current_settings().report_readers,
    )


def _query(period_from: dt.date, period_to: dt.date, school_ids: list[int]) -> str:
    pairs: list[tuple[str, Any]] = [("from", period_from.isoformat()), ("to", period_to.isoformat())]
    pairs += [("school", school_id) for school_id in school_ids]
    return urlencode(pairs)


def _quick_links(form: PeriodForm) -> list[tuple[str, str]]:
    today = local_today()
    schools = form.schools.data or []
    return [
        (label, f"{url_for('reports.utilisation')}?{_query(first, last, schools)}")
        for label, (first, last) in (
            ("Last month", last_month(today)),
            ("Last quarter", last_quarter(today)),
            ("This academic year so far", academic_year_to_date(today)),
        )
    ]


#: The long tables, a page at a time on the page (reports.paging); the downloads have every row.
PAGED_TABLES = ("idle", "saturated", "assets", "asset_borrowers")


def _page_context(figures: dict[str, Any], previous: dict[str, Any] | None = None) -> dict[str, Any]:
    """What the report's page shows: the summary first (headline figures, with the change against
    ``previous`` when given; the most idle and saturated assets), then every table, the long
    ones a page at a time."""
    tables = {table.key: table for table in report_tables(figures, per_asset_months=False)}
    query = list(request.args.items(multi=True))
    paging = {}
    for key in PAGED_TABLES:
        tables[key], paging[key] = page_of_table(tables[key], query, request.path)
    return {
        "figures": figures,
        "tables": tables,
        "paging": paging,
        "cell": format_cell,
        "headlines": headline_figures(figures, previous),
        "top": top_assets(figures),
        "previous": previous,
        "definitions": definitions(figures),
        "school_chart": utilisation_by_school(figures),
        "trend_chart": monthly_trend(figures),
        "period_label": describe_period(
            dt.date.fromisoformat(figures["period"]["from"]), dt.date.fromisoformat(figures["period"]["to"])
        ),
    }


def _previous_report(report: Report, form: PeriodForm) -> dict[str, Any] | None:
    """The figures of the period of the same length before, for the same Schools, by the same
    rule; None if that period cannot be reported (before the earliest date a report may cover)."""
    first, last = previous_period(report.period_from, report.period_to)
    try:
        previous = utilisation_report(
            db.session,
            first,
            last,
            report_scope_for(current_user, form.schools.data or None),
            ReportSettings.from_config(current_settings()),
            readers=current_settings().report_readers,
        )
    except InvalidInput:
        return None
    return headline_json(previous)


@bp.get("/utilisation")
@login_required
@collection_paused()  # (the report's objects are freed before the collector resumes)
def utilisation():
    form, valid = _period_form()
    context: dict[str, Any] = {"form": form, "quick_links": _quick_links(form), "figures": None}
    status = 200
    if valid:
        with refusal_shown(form) as outcome:
            report = _report(form)
        if not outcome.succeeded:
            status = 400
        else:
            figures = report_to_json(report)
            context.update(_page_context(figures, _previous_report(report, form)))
            query = _query(report.period_from, report.period_to, form.schools.data or [])
            context["downloads"] = {
                "csv": f"{url_for('reports.utilisation_csv')}?{query}",
                "xlsx": f"{url_for('reports.utilisation_xlsx')}?{query}",
                "json": f"{url_for('reports.utilisation_json')}?{query}",
            }
            context["snapshot_form"] = SnapshotForm()
            context["snapshot_action"] = f"{url_for('reports.keep_snapshot')}?{query}"
    else:
        status = 400
    return render_template("reports/utilisation.html", **context), status


def _figures_or_error() -> tuple[dict[str, Any] | None, Response | None]:
    form, valid = _period_form()
    if valid:
        with refusal_shown(form):
            return report_to_json(_report(form)), None
    return None, form_errors_text(form, "Check the period and Schools.")


@bp.get("/utilisation.csv")
@login_required
@collection_paused()
def utilisation_csv():
    figures, error = _figures_or_error()
    if figures is None:
        return error
    return csv_download(render_csv(figures), file_name(figures, "csv"))


@bp.get("/utilisation.xlsx")
@login_required
@collection_paused()
def utilisation_xlsx():
    figures, error = _figures_or_error()
    if figures is None:
        return error
    return download(render_xlsx(figures), XLSX_CONTENT_TYPE, file_name(figures, "xlsx"))


@bp.get("/utilisation.json")
@login_required
@collection_paused()
def utilisation_json():
    figures, error = _figures_or_error()
    if figures is None:
        return jsonify({"errors": error.get_data(as_text=True).strip().splitlines()}), 400
    return jsonify(figures)


@bp.post("/utilisation/snapshot")
@login_required
def keep_snapshot():
    """Store the report on screen (its period and Schools are in the query string)."""
    if not SnapshotForm().validate_on_submit():
        flash("The form has expired. Please try again.", "error")
        return redirect(url_for("reports.utilisation"))
    form, valid = _period_form()
    if not valid:
        flash("Check the period before keeping a copy.", "error")
        return redirect(url_for("reports.utilisation"))
    snapshot = service.store_snapshot(db.session, _report(form), current_user)
    flash("A copy of this report is kept: its figures will not change.", "success")
    return redirect(url_for("reports.snapshot", snapshot_id=snapshot.id))


# --- The twelve-month trend ------------------------------------------------------------------------


@bp.get("/trend")
@login_required
@collection_paused()
def trend():
    """Utilisation by month over the twelve whole months before this one, per School and overall:
    finance and administrators see every School, managers the Schools they manage."""
    service.require_reports(current_user)
    figures = twelve_month_trend(
        db.session,
        report_scope_for(current_user, None),
        local_today(),
        ReportSettings.from_config(current_settings()),
        readers=current_settings().report_readers,
    )
    query = _query(figures.period_from, figures.period_to, [])
    return render_template(
        "reports/trend.html",
        trend=figures,
        chart=trend_lines(figures.months, figures.series),
        period_label=describe_period(figures.period_from, figures.period_to),
        report_link=f"{url_for('reports.utilisation')}?{query}",
        cell=format_cell,
    )


# --- Snapshots -----------------------------------------------------------------------------------


@bp.get("/snapshots/<int:snapshot_id>")
@login_required
def snapshot(snapshot_id: int):
    stored = service.get_snapshot(db.session, current_user, snapshot_id)
    context = _page_context(stored.figures)
    context["downloads"] = {
        "csv": url_for("reports.snapshot_csv", snapshot_id=stored.id),
        "xlsx": url_for("reports.snapshot_xlsx", snapshot_id=stored.id),
    }
    return render_template("reports/snapshot.html", snapshot=stored, **context)


@bp.get("/snapshots/<int:snapshot_id>.xlsx")
@login_required
def snapshot_xlsx(snapshot_id: int):
    stored = service.get_snapshot(db.session, current_user, snapshot_id)
    body = stored.xlsx if stored.xlsx is not None else render_xlsx(stored.figures)
    return download(body, XLSX_CONTENT_TYPE, file_name(stored.figures, "xlsx"))


@bp.get("/snapshots/<int:snapshot_id>.csv")
@login_required
def snapshot_csv(snapshot_id: int):
    stored = service.get_snapshot(db.session, current_user, snapshot_id)
    return csv_download(render_csv(stored.figures), file_name(stored.figures, "csv"))


# --- Subscriptions -------------------------------------------------------------------------------


def _subscription_form() -> SubscriptionForm:
    form = SubscriptionForm()
    picker = service.schools_for_picker(db.session, current_user)
    form.schools.choices = [(school.id, f"{school.code} – {school.name}") for school in picker]
    return form


def _subscriptions_page(form: SubscriptionForm, status: int = 200):
    subscriptions = service.list_subscriptions(db.session, current_user)
    schools_by_id = {school.id: school for school in db.session.scalars(select(School))}
    return render_template(
        "reports/subscriptions.html",
        form=form,
        action_form=ActionForm(),
        subscriptions=subscriptions,
        deliveries=service.recent_deliveries(db.session, [s.id for s in subscriptions]),
        describe=lambda subscription: service.describe_subscription(subscription, schools_by_id),
        describe_period=describe_period,
    ), status


@bp.get("/subscriptions")
@login_required
def subscriptions():
    return _subscriptions_page(_subscription_form())


@bp.post("/subscriptions")
@login_required
def create_subscription():
    form = _subscription_form()
    if form.validate_on_submit():
        with refusal_shown(form) as outcome:
            subscription = service.create_subscription(
                db.session, current_user, form.frequency.data, form.schools.data
            )
        if outcome.succeeded:
            flash(f"Subscribed: the {subscription.frequency.value} report will come by e-mail.", "success")
            return redirect(url_for("reports.subscriptions"))
    return _subscriptions_page(form, 400)


def _change(subscription_id: int, change, message: str):
    if not ActionForm().validate_on_submit():
        flash("The form has expired. Please try again.", "error")
        return redirect(url_for("reports.subscriptions"))
    change(db.session, current_user, subscription_id)
    flash(message, "success")
    return redirect(url_for("reports.subscriptions"))


@bp.post("/subscriptions/<int:subscription_id>/pause")
@login_required
def pause_subscription(subscription_id: int):
    return _change(
        subscription_id,
        lambda s, a, i: service.set_active(s, a, i, False),
        "Paused: no reports will be sent until you resume it.",
    )


@bp.post("/subscriptions/<int:subscription_id>/resume")
@login_required
def resume_subscription(subscription_id: int):
    return _change(
        subscription_id,
        lambda s, a, i: service.set_active(s, a, i, True),
        "Resumed: the next report goes out when the current period ends.",
    )


@bp.post("/subscriptions/<int:subscription_id>/delete")
@login_required
def delete_subscription(subscription_id: int):
    return _change(
        subscription_id, service.delete_subscription, "Subscription deleted. Reports already sent are kept."
    )
