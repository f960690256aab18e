"""The capital-planning page, its CSV and XLSX downloads, decisions, and category useful lives."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlencode

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from wtforms.fields.choices import SelectChoice

from core.config import current_settings
from core.db import db
from core.errors import NotAllowed
from planning import render, service
from planning.charts import replacement_by_year
from planning.forms import NO_DECISION, CategoryLifeForm, DecisionForm, PlanFilterForm
from planning.models import Recommendation
from planning.recommendations import LABELS, ORDER, RecommendationItem, evidence_lines
from reports.paging import page_of_table, page_param, paginate
from reports.render import XLSX_CONTENT_TYPE, format_cell
from web.forms import refusal_shown
from web.responses import csv_download, download, form_errors_text

# The downloads sit beside the page (/planning.csv), so the rules carry the /planning prefix.
bp = Blueprint("planning", __name__)

FILTER_KEYS = ("school", "category", "years", "on")
#: Recommendations of one kind a page shows (each is a card with its evidence and decision form).
RECOMMENDATIONS_PER_PAGE = 10
#: The query keys of the pages of each kind's list and of the assets table, kept when a decision
#: brings the person back.
PAGE_KEYS = tuple(page_param(key) for key in (*(kind.value for kind in ORDER), "assets"))


def _filter_form() -> tuple[PlanFilterForm, bool]:
    """The filters from the query string, with the Schools and categories the person may pick."""
    service.require_planning(current_user)
    form = PlanFilterForm(formdata=request.args if request.args else None)
    schools = service.schools_for_picker(db.session, current_user)
    everyone = current_user.is_admin or current_user.is_finance
    form.school.choices = [SelectChoice(0, "All Schools" if everyone else "All the Schools you manage")] + [
        SelectChoice(s.id, f"{s.code} – {s.name}") for s in schools
    ]
    form.category.choices = [SelectChoice(0, "All categories")] + [
        SelectChoice(c.id, c.name) for c in service.categories(db.session)
    ]
    if not request.args:
        return form, True
    return form, form.validate()


def _plan(form: PlanFilterForm) -> service.Plan:
    return service.build_plan(
        db.session,
        current_user,
        school_id=form.school.data or None,
        category_id=form.category.data or None,
        years=form.years.data if form.years.data is not None else service.MAX_YEARS,
        config=current_settings(),
        valued_on=form.on.data,
    )


def _query(form: PlanFilterForm) -> str:
    pairs: list[tuple[str, Any]] = []
    if form.school.data:
        pairs.append(("school", form.school.data))
    if form.category.data:
        pairs.append(("category", form.category.data))
    if form.years.data and form.years.data != service.MAX_YEARS:
        pairs.append(("years", form.years.data))
    if form.on.data:
        pairs.append(("on", form.on.data.isoformat()))
    return urlencode(pairs)


def _with_query(endpoint: str, query: str) -> str:
    return url_for(endpoint) + (f"?{query}" if query else "")


def _decision_form(item: RecommendationItem, back: str) -> DecisionForm:
    """A decision form of its own for one recommendation: ids made unique on the page."""
    form = DecisionForm(
        formdata=None, data={"asset_id": item.asset.id, "recommendation": item.kind.value, "back": back}
    )
    suffix = f"-{item.asset.id}-{item.kind.value}"
    for each in form:
        each.id = f"{each.id}{suffix}"
        each.label.field_id = each.id
    return form


@bp.get("/planning")
@login_required
def index():
    form, valid = _filter_form()
    context: dict[str, Any] = {"form": form, "plan": None}
    status = 200
    if valid:
        with refusal_shown(form) as outcome:
            plan = _plan(form)
        if not outcome.succeeded:
            status = 400
        else:
            query = _query(form)
            tables = {table.key: table for table in render.plan_tables(plan)}
            schools = plan.evidence.schools_by_id
            asked = list(request.args.items(multi=True))
            tables["assets"], assets_paging = page_of_table(tables["assets"], asked, request.path)
            kinds = []
            page_of: dict[str, str] = {}
            for kind in ORDER:
                items = [item for item in plan.recommendations if item.kind == kind]
                paging = paginate(
                    kind.value,
                    items,
                    asked,
                    request.path,
                    RECOMMENDATIONS_PER_PAGE,
                    anchor=f"kind-{kind.value}",
                )
                kinds.append(
                    {
                        "kind": kind,
                        "label": LABELS[kind],
                        "recs": items,
                        "paging": paging,
                        "pending": sum(1 for item in items if item.current is None),
                    }
                )
                for item in paging.rows:
                    page_of[item.key] = (
                        urlencode([(page_param(kind.value), paging.page)]) if paging.page > 1 else ""
                    )
            shown = [item for entry in kinds for item in entry["paging"].rows]
            context.update(
                plan=plan,
                kinds=kinds,
                assets_paging=assets_paging,
                replacement_total=sum(year.total.replacement_pence for year in plan.forecast.years),
                pending=sum(1 for item in plan.recommendations if item.current is None),
                tables=tables,
                cell=format_cell,
                definitions=render.definitions(plan),
                chart=replacement_by_year(plan.forecast),
                evidence={item.key: evidence_lines(item.evidence, schools, plan.today) for item in shown},
                decision_forms={
                    item.key: _decision_form(
                        item, "&".join(part for part in (query, page_of[item.key]) if part)
                    )
                    for item in shown
                    if service.may_decide(current_user, item.asset.school_id)
                },
                outcome_labels=service.OUTCOME_LABELS,
                downloads={
                    "csv": _with_query("planning.download_csv", query),
                    "xlsx": _with_query("planning.download_xlsx", query),
                },
                may_set_lives=service.may_set_lives(current_user),
            )
    else:
        status = 400
    return render_template("planning/index.html", **context), status


def _plan_or_error() -> tuple[service.Plan | None, Response | None]:
    form, valid = _filter_form()
    if valid:
        with refusal_shown(form):
            return _plan(form), None
    return None, form_errors_text(form, "Check the filters.")


@bp.get("/planning.csv")
@login_required
def download_csv():
    plan, error = _plan_or_error()
    if plan is None:
        return error
    return csv_download(render.render_csv(plan), render.file_name(plan, "csv"))


@bp.get("/planning.xlsx")
@login_required
def download_xlsx():
    plan, error = _plan_or_error()
    if plan is None:
        return error
    return download(render.render_xlsx(plan), XLSX_CONTENT_TYPE, render.file_name(plan, "xlsx"))


def _back(query: str | None) -> str:
    """The page with the filters it was showing: only the filters' own keys are kept."""
    pairs = [(key, value) for key, value in parse_qsl(query or "") if key in FILTER_KEYS + PAGE_KEYS]
    return _with_query("planning.index", urlencode(pairs))


@bp.post("/planning/decisions")
@login_required
def decide():
    """Record a decision on one recommendation, then back to the page with its filters."""
    service.require_planning(current_user)
    form = DecisionForm()
    back = _back(form.back.data)
    if not form.validate_on_submit():
        for messages in [form.form_errors, *(f.errors for f in form)]:
            for message in messages:
                flash(message if isinstance(message, str) else " ".join(message), "error")
        return redirect(back)
    try:
        asset_id = int(form.asset_id.data or "")
    except ValueError:
        flash("Choose a recommendation on the page to decide on.", "error")
        return redirect(back)
    if (form.outcome.data or NO_DECISION) == NO_DECISION:
        # The box starts at "no decision": sending it so records nothing, and says so.
        flash("Nothing recorded: choose accept, defer or decline to record a decision.", "info")
        kinds = {kind.value for kind in Recommendation}
        anchor = f"#rec-{asset_id}-{form.recommendation.data}" if form.recommendation.data in kinds else ""
        return redirect(f"{back}{anchor}")
    with refusal_shown() as outcome:
        decision = service.record_decision(
            db.session,
            current_user,
            asset_id=asset_id,
            recommendation=form.recommendation.data or "",
            outcome=form.outcome.data or "",
            note=form.note.data or "",
            config=current_settings(),
        )
    if not outcome.succeeded:
        return redirect(back)
    flash(f"Recorded: {service.OUTCOME_LABELS[decision.outcome].lower()}.", "success")
    return redirect(f"{back}#rec-{decision.asset_id}-{decision.recommendation.value}")


# --- Useful lives by category ---------------------------------------------------------------------


def _lives_page(forms: dict[int, CategoryLifeForm], status: int = 200):
    return render_template(
        "planning/lives.html",
        categories=service.categories(db.session),
        forms=forms,
        may_set_lives=service.may_set_lives(current_user),
        default_years=current_settings().KITSHARE_DEFAULT_USEFUL_LIFE_YEARS,
    ), status


def _life_form(category_id: int, years: int | None, formdata: Any = None) -> CategoryLifeForm:
    form = CategoryLifeForm(formdata=None, data={"years": years}) if formdata is None else CategoryLifeForm()
    for each in form:  # ids unique on the page: one form per category
        each.id = f"{each.id}-{category_id}"
        each.label.field_id = each.id
    return form


@bp.get("/planning/lives")
@login_required
def lives():
    service.require_planning(current_user)
    return _lives_page(
        {c.id: _life_form(c.id, c.default_useful_life_years) for c in service.categories(db.session)}
    )


@bp.post("/planning/lives/<int:category_id>")
@login_required
def set_life(category_id: int):
    if not service.may_set_lives(current_user):
        raise NotAllowed("Only finance staff and administrators set the useful life of a category.")
    form = _life_form(category_id, None, formdata=request.form)
    if form.validate_on_submit():
        with refusal_shown(form) as outcome:
            category = service.set_category_life(db.session, current_user, category_id, form.years.data)
        if outcome.succeeded:
            years = category.default_useful_life_years
            flash(
                f"{category.name}: " + (f"{years} years." if years else "no useful life of its own."),
                "success",
            )
            return redirect(url_for("planning.lives"))
    forms = {c.id: _life_form(c.id, c.default_useful_life_years) for c in service.categories(db.session)}
    forms[category_id] = form
    return _lives_page(forms, 400)
