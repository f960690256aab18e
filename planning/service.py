"""Capital planning: who may see and decide what, the plan (forecast and recommendations), and the
decisions recorded against recommendations.

The rules themselves live beside their topic: ``planning.lifecycle`` (useful life, book value,
replacement cost, financial years), ``planning.evidence`` (the year's figures per asset),
``planning.forecast`` and ``planning.recommendations``.

Recording a decision and setting a category's useful life are commands (``core/db.py``): each
opens its own unit of work, so views call them bare.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from accounts.models import User
from core.config import Config
from core.db import atomic, utcnow
from core.errors import InvalidInput, NotAllowed, NotFound
from core.money import format_whole_pounds
from core.timeutil import local_today
from inventory.models import Asset, Category, School
from planning.evidence import Evidence, gather_evidence
from planning.forecast import Forecast, build_forecast
from planning.lifecycle import PlanningSettings
from planning.models import DecisionOutcome, PlanningDecision, Recommendation
from planning.recommendations import ORDER, RecommendationItem, recommend
from reports.figures import ReportSettings

#: How many financial years the forecast may show (this one and up to four more).
MAX_YEARS = 5
MAX_NOTE = 2000
OUTCOME_LABELS = {
    DecisionOutcome.ACCEPTED: "Accepted",
    DecisionOutcome.DEFERRED: "Deferred",
    DecisionOutcome.DECLINED: "Declined",
}


# --- Who may see and decide ------------------------------------------------------------------------


def may_plan(actor: User) -> bool:
    """Finance staff, administrators and School managers see capital planning; technicians do not."""
    return bool(actor.is_admin or actor.is_finance or actor.managed_school_ids)


def require_planning(actor: User) -> None:
    if not may_plan(actor):
        raise NotAllowed("Capital planning is for finance staff, administrators and School managers.")


def planning_scope(actor: User, school_id: int | None) -> set[int] | None:
    """The Schools whose plan ``actor`` may see, for the School asked for (None: all they may).

    Finance and administrators: any School (None: every School). Managers: only the Schools they
    manage (None: all of those); asking for another School is refused (NotAllowed).
    """
    require_planning(actor)
    if actor.is_admin or actor.is_finance:
        return {school_id} if school_id is not None else None
    managed = actor.managed_school_ids
    if school_id is None:
        return managed
    if school_id not in managed:
        raise NotAllowed("You can see capital planning only for the Schools you manage.")
    return {school_id}


def may_decide(actor: User, school_id: int) -> bool:
    """Finance staff and administrators decide for every School; managers for their own."""
    return bool(actor.is_admin or actor.is_finance or school_id in actor.managed_school_ids)


def schools_for_picker(session: Session, actor: User) -> list[School]:
    require_planning(actor)
    query = select(School).order_by(School.code)
    if not (actor.is_admin or actor.is_finance):
        query = query.where(School.id.in_(actor.managed_school_ids))
    return list(session.scalars(query))


def categories(session: Session) -> list[Category]:
    return list(session.scalars(select(Category).order_by(Category.name)))


# --- The plan ------------------------------------------------------------------------------------


@dataclass
class Plan:
    """Everything the capital-planning page, its CSV and XLSX show."""

    evidence: Evidence
    forecast: Forecast
    recommendations: list[RecommendationItem]
    settings: PlanningSettings
    report_settings: ReportSettings
    school_ids: set[int] | None
    category: Category | None
    years: int

    @property
    def today(self) -> dt.date:
        return self.evidence.today

    @property
    def scope_label(self) -> str:
        if self.school_ids is None:
            label = "All Schools"
        else:
            label = ", ".join(sorted(self.evidence.schools_by_id[s].code for s in self.school_ids))
        return label + (f"; {self.category.name}" if self.category else "")


def build_plan(
    session: Session,
    actor: User,
    *,
    school_id: int | None,
    category_id: int | None,
    years: int,
    config: Config,
    today: dt.date | None = None,
    valued_on: dt.date | None = None,
    now: dt.datetime | None = None,
) -> Plan:
    """The plan for what ``actor`` may see: NotAllowed for a School they may not see;
    InvalidInput for an unknown School or category, or a number of years not 1 to 5."""
    scope = planning_scope(actor, school_id)
    errors: dict[str, list[str]] = {}
    if school_id is not None and session.get(School, school_id) is None:
        errors["school"] = ["Choose a School from the list."]
    category = session.get(Category, category_id) if category_id is not None else None
    if category_id is not None and category is None:
        errors["category"] = ["Choose a category from the list."]
    if not 1 <= years <= MAX_YEARS:
        errors["years"] = [f"Choose from 1 to {MAX_YEARS} financial years."]
    if errors:
        raise InvalidInput(field_errors=errors)
    now = now or utcnow()
    today = today or local_today(now)
    settings = PlanningSettings.from_config(config)
    report_settings = ReportSettings.from_config(config)
    evidence = gather_evidence(session, scope, category_id, settings, report_settings, today, valued_on, now)
    forecast = build_forecast(evidence, settings, years)
    items = recommendations_for(session, evidence, settings, report_settings)
    return Plan(evidence, forecast, items, settings, report_settings, scope, category, years)


def recommendations_for(
    session: Session, evidence: Evidence, settings: PlanningSettings, report_settings: ReportSettings
) -> list[RecommendationItem]:
    """Every recommendation the rules make for the evidence's assets, with their decisions."""
    items = []
    for item in evidence.assets:
        for kind, reasons in recommend(
            item,
            settings,
            report_settings,
            evidence.today,
            evidence.period_from,
            evidence.period_to,
            evidence.schools_by_id,
        ):
            items.append(RecommendationItem(item, kind, reasons))
    history = decision_history(session, [each.asset.id for each in items])
    for each in items:
        each.decisions = history.get((each.asset.id, each.kind), [])
    items.sort(
        key=lambda i: (ORDER.index(i.kind), evidence.schools_by_id[i.asset.school_id].code, i.asset.tag)
    )
    return items


def decision_history(
    session: Session, asset_ids: list[int]
) -> dict[tuple[int, Recommendation], list[PlanningDecision]]:
    """Every decision recorded for these assets, by asset and recommendation, newest first."""
    result: dict[tuple[int, Recommendation], list[PlanningDecision]] = defaultdict(list)
    if not asset_ids:
        return result
    for decision in session.scalars(
        select(PlanningDecision)
        .options(joinedload(PlanningDecision.decided_by))
        .where(PlanningDecision.asset_id.in_(set(asset_ids)))
        .order_by(PlanningDecision.decided_at.desc(), PlanningDecision.id.desc())
    ):
        result[(decision.asset_id, decision.recommendation)].append(decision)
    return result


# --- Decisions ------------------------------------------------------------------------------------


def record_decision(
    session: Session,
    actor: User,
    *,
    asset_id: int,
    recommendation: str,
    outcome: str,
    note: str,
    config: Config,
    now: dt.datetime | None = None,
) -> PlanningDecision:
    """Record what ``actor`` decided about a recommendation the rules make for an asset today.

    Finance staff and administrators may decide for any School; managers for the Schools they
    manage (NotAllowed otherwise). The decision is added, never written over: the latest one
    per asset and recommendation is the current one, and the earlier ones are its history.
    Call it inside ``atomic``.
    """
    with atomic(session, actor):
        require_planning(actor)
        asset = session.scalar(select(Asset).options(joinedload(Asset.category)).where(Asset.id == asset_id))
        if asset is None:
            raise NotFound("There is no such asset.")
        if not may_decide(actor, asset.school_id):
            raise NotAllowed("You can decide only on recommendations for the Schools you manage.")
        errors: dict[str, list[str]] = {}
        try:
            kind = Recommendation(recommendation)
        except ValueError:
            kind = None
            errors["recommendation"] = ["Choose replace, invest, share or dispose."]
        try:
            chosen = DecisionOutcome(outcome)
        except ValueError:
            chosen = None
            errors["outcome"] = ["Choose accept, defer or decline."]
        note = (note or "").strip()
        if len(note) > MAX_NOTE:
            errors["note"] = [f"Keep the note to {MAX_NOTE} characters."]
        if errors or kind is None or chosen is None:
            raise InvalidInput(field_errors=errors)
        if asset.status.withdrawn:
            raise InvalidInput(
                f"{asset.name} is {asset.status.label.lower()}: there is nothing left to decide."
            )
        now = now or utcnow()
        settings = PlanningSettings.from_config(config)
        report_settings = ReportSettings.from_config(config)
        evidence = gather_evidence(
            session,
            {asset.school_id},
            asset.category_id,
            settings,
            report_settings,
            local_today(now),
            now=now,
        )
        mine = next(item for item in evidence.assets if item.asset.id == asset.id)
        made = {
            made_kind
            for made_kind, _ in recommend(
                mine,
                settings,
                report_settings,
                evidence.today,
                evidence.period_from,
                evidence.period_to,
                evidence.schools_by_id,
            )
        }
        if kind not in made:
            raise InvalidInput(
                f"The evidence no longer recommends “{kind.value}” for {asset.name} ({asset.tag}): reload the page."
            )
        decision = PlanningDecision(
            asset_id=asset.id,
            recommendation=kind,
            outcome=chosen,
            note=note,
            decided_by_id=actor.id,
            decided_at=now,
        )
        session.add(decision)
        session.flush()
        return decision


# --- Useful lives by category ---------------------------------------------------------------------


def may_set_lives(actor: User) -> bool:
    """Categories are shared by every School: finance staff and administrators set their lives."""
    return bool(actor.is_admin or actor.is_finance)


def set_category_life(session: Session, actor: User, category_id: int, years: int | None) -> Category:
    """Set (or, with None, clear) a category's default useful life, 1 to 100 years."""
    with atomic(session, actor):
        if not may_set_lives(actor):
            raise NotAllowed("Only finance staff and administrators set the useful life of a category.")
        category = session.get(Category, category_id)
        if category is None:
            raise NotFound("There is no such category.")
        if years is not None and not 1 <= years <= 100:
            raise InvalidInput(
                field_errors={"years": ["Enter a whole number of years from 1 to 100, or leave it empty."]}
            )
        category.default_useful_life_years = years
        session.flush()
        return category


# --- For the scheduled report ---------------------------------------------------------------------


def forecast_appendix(
    config: Config,
) -> Callable[[Session, User, list[int], dt.datetime], list[str]]:
    """The capital-planning forecast that rides along with a scheduled utilisation report, for
    subscribers who may see capital planning (``reports.delivery.deliver_due(appendix=...)``;
    the scheduler passes it, as reports sits below planning)."""

    def lines(session: Session, user: User, school_ids: list[int], now: dt.datetime) -> list[str]:
        return forecast_summary(session, user, school_ids, config, now=now) if may_plan(user) else []

    return lines


def forecast_summary(
    session: Session,
    user: User,
    school_ids: list[int] | None,
    config: Config,
    now: dt.datetime | None = None,
) -> list[str]:
    """A few lines for an e-mail: the replacement forecast's total per year and the open
    recommendations, for the Schools ``user`` may see (all of ``school_ids``, or every one they
    may see when empty). Raises NotAllowed if they may not see capital planning."""

    require_planning(user)
    wanted = list(school_ids or [])
    scopes: list[int | None] = [*wanted] if wanted else [None]
    lines = ["Capital planning: replacement forecast"]
    totals: dict[str, list[int]] = {}
    labels: dict[str, str] = {}
    open_items = 0
    for school_id in scopes:
        plan = build_plan(
            session, user, school_id=school_id, category_id=None, years=MAX_YEARS, config=config, now=now
        )
        for year in plan.forecast.years:
            labels[year.key] = year.label
            row = totals.setdefault(year.key, [0, 0])
            row[0] += len(year.total.assets)
            row[1] += year.total.replacement_pence
        open_items += sum(1 for item in plan.recommendations if item.current is None)
    for key, (count, pence) in totals.items():
        lines.append(
            f"  {labels[key]}: {count} asset{'s' if count != 1 else ''}, {format_whole_pounds(pence)}"
        )
    lines.append(f"Recommendations awaiting a decision: {open_items}")
    return lines
