"""A person's contribution record for a period, from what Kitshare already records: the assets
they look after, maintenance windows and repairs they recorded, inspections they recorded,
inductions they gave (training authorisations granted), loans they handed over and took back,
and booking requests from other Schools they decided. Downloadable as CSV and XLSX, as evidence
for appraisal and professional registration.

Where each is recorded: ``MaintenanceWindow.created_by_id`` (by ``created_at``),
``InspectionRecord.recorded_by_id`` (by ``done_on``), ``TrainingAuthorisation.granted_by_id``
(by ``granted_on``), ``Booking.handed_over_by_id`` / ``returned_to_id`` (by ``handed_over_at`` /
``returned_at``), ``Booking.decided_by_id`` with a requester School other than the asset's (by
``decided_at``). Local dates are the university's; a period includes both its days.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased, joinedload

from accounts.models import User
from bookings.models import Booking
from core.errors import InvalidInput, NotAllowed
from core.timeutil import local_day_bounds, to_local
from inventory.models import (
    Asset,
    InspectionRecord,
    InspectionSchedule,
    MaintenanceWindow,
    TrainingAuthorisation,
)
from people.models import Profile
from people.service import assets_looked_after, get_person, may_see

#: The kinds of contribution, in the order the record lists them, with their headings.
KINDS: dict[str, str] = {
    "assets": "Assets looked after",
    "maintenance": "Maintenance windows and repairs recorded",
    "inspections": "Inspections recorded",
    "inductions": "Inductions given (training authorisations granted)",
    "handovers": "Loans handed over",
    "returns": "Loan returns received",
    "decisions": "Requests from other Schools decided",
}
MAX_PERIOD_DAYS = 366 * 10
HEADER = ("Kind", "Date", "Asset tag", "Asset", "Detail")


@dataclass(frozen=True)
class ContributionItem:
    kind: str
    on: dt.date | None  # None for "looks after" (true today, not on a day)
    asset_tag: str
    asset_name: str
    detail: str


@dataclass
class ContributionRecord:
    person: User
    period_from: dt.date
    period_to: dt.date
    items: list[ContributionItem]

    @property
    def counts(self) -> dict[str, int]:
        counts = {kind: 0 for kind in KINDS}
        for item in self.items:
            counts[item.kind] += 1
        return counts

    @property
    def title(self) -> str:
        return f"Contribution record of {self.person.name}, {self.period_from:%d %b %Y} to {self.period_to:%d %b %Y}"


def check_period(period_from: dt.date, period_to: dt.date) -> None:
    if period_to < period_from:
        raise InvalidInput(field_errors={"to": ["The last day must be on or after the first day."]})
    if (period_to - period_from).days > MAX_PERIOD_DAYS:
        raise InvalidInput(field_errors={"to": ["Choose a period of at most ten years."]})


def default_period(today: dt.date) -> tuple[dt.date, dt.date]:
    """The last twelve months up to today."""
    start = (
        today.replace(year=today.year - 1) + dt.timedelta(days=1)
        if not (today.month == 2 and today.day == 29)
        else dt.date(today.year - 1, 3, 1)
    )
    return start, today


def _local_date(moment: dt.datetime) -> dt.date:
    return to_local(moment).date()


def contribution_record(
    session: Session, viewer: User, user_id: int, period_from: dt.date, period_to: dt.date
) -> ContributionRecord:
    """The record of ``user_id`` over the local dates ``period_from`` to ``period_to`` (both
    included), for a viewer who may see it (NotAllowed otherwise: the part is hidden)."""
    check_period(period_from, period_to)
    person = get_person(session, user_id)
    profile = session.get(Profile, person.id)
    if not may_see(viewer, person, profile, "record"):
        raise NotAllowed("This person shows their contribution record only to their own School.")
    start, _ = local_day_bounds(period_from)
    _, end = local_day_bounds(period_to)
    items: list[ContributionItem] = []

    # The equipment part has its own visibility: a record shown beyond the School leaves it out
    # when the person keeps their equipment to their School.
    looked_after = (
        assets_looked_after(session, [person.id])[person.id]
        if may_see(viewer, person, profile, "assets")
        else []
    )
    for asset in looked_after:
        role = "Contact" if asset.contact_id == person.id else "Named technician"
        items.append(ContributionItem("assets", None, asset.tag, asset.name, f"{role}, {asset.school.name}"))

    windows = session.scalars(
        select(MaintenanceWindow)
        .options(joinedload(MaintenanceWindow.asset))
        .where(
            MaintenanceWindow.created_by_id == person.id,
            MaintenanceWindow.created_at >= start,
            MaintenanceWindow.created_at < end,
        )
        .order_by(MaintenanceWindow.created_at, MaintenanceWindow.id)
    )
    for window in windows:
        detail = window.reason or "Maintenance"
        items.append(
            ContributionItem(
                "maintenance", _local_date(window.created_at), window.asset.tag, window.asset.name, detail
            )
        )

    inspections = session.execute(
        select(InspectionRecord, InspectionSchedule, Asset)
        .join(InspectionSchedule, InspectionSchedule.id == InspectionRecord.schedule_id)
        .join(Asset, Asset.id == InspectionSchedule.asset_id)
        .where(
            InspectionRecord.recorded_by_id == person.id,
            InspectionRecord.done_on >= period_from,
            InspectionRecord.done_on <= period_to,
        )
        .order_by(InspectionRecord.done_on, InspectionRecord.id)
    ).all()
    for record, schedule, asset in inspections:
        detail = f"{schedule.kind.label}: {record.outcome.label}"
        items.append(ContributionItem("inspections", record.done_on, asset.tag, asset.name, detail))

    trained = aliased(User)
    grants = session.execute(
        select(TrainingAuthorisation, trained)
        .join(trained, trained.id == TrainingAuthorisation.user_id)
        .options(joinedload(TrainingAuthorisation.asset), joinedload(TrainingAuthorisation.category))
        .where(
            TrainingAuthorisation.granted_by_id == person.id,
            TrainingAuthorisation.granted_on >= period_from,
            TrainingAuthorisation.granted_on <= period_to,
        )
        .order_by(TrainingAuthorisation.granted_on, TrainingAuthorisation.id)
    ).all()
    for grant, trainee in grants:
        if grant.asset is not None:
            tag, name = grant.asset.tag, grant.asset.name
        else:
            tag, name = "", f"Every {grant.category.name if grant.category else ''} asset".replace("  ", " ")
        items.append(
            ContributionItem("inductions", grant.granted_on, tag, name, f"Authorised {trainee.name}")
        )

    def bookings(column, moment_column, kind: str, describe) -> None:
        rows = session.scalars(
            select(Booking)
            .options(
                joinedload(Booking.asset), joinedload(Booking.requester), joinedload(Booking.requester_school)
            )
            .where(column == person.id, moment_column >= start, moment_column < end)
            .order_by(moment_column, Booking.id)
        )
        for booking in rows:
            if kind == "decisions" and (
                booking.requester_school_id is None or booking.requester_school_id == booking.asset.school_id
            ):
                continue
            moment = getattr(booking, moment_column.key)
            items.append(
                ContributionItem(
                    kind, _local_date(moment), booking.asset.tag, booking.asset.name, describe(booking)
                )
            )

    bookings(
        Booking.handed_over_by_id, Booking.handed_over_at, "handovers", lambda b: f"To {b.requester.name}"
    )
    bookings(
        Booking.returned_to_id,
        Booking.returned_at,
        "returns",
        lambda b: f"From {b.requester.name}" + (", damaged" if b.returned_damaged else ""),
    )
    bookings(
        Booking.decided_by_id,
        Booking.decided_at,
        "decisions",
        lambda b: (
            f"{b.status.value.capitalize()}: request of {b.requester.name} "
            f"({b.requester_school.name if b.requester_school else 'no School'})"
        ),
    )

    order = list(KINDS)
    items.sort(key=lambda item: (order.index(item.kind), item.on or dt.date.min))
    return ContributionRecord(person, period_from, period_to, items)


def _neutral(text: str) -> str:
    """A cell that a spreadsheet would read as a formula is kept as text."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def record_rows(record: ContributionRecord) -> list[list[str]]:
    return [
        [
            KINDS[item.kind],
            item.on.isoformat() if item.on else "Today",
            item.asset_tag,
            item.asset_name,
            item.detail,
        ]
        for item in record.items
    ]


def record_csv(record: ContributionRecord) -> str:
    """The record as CSV: a summary of counts, a blank line, then one row per contribution."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([_neutral(record.title)])
    writer.writerow(["Kind", "Count"])
    for kind, count in record.counts.items():
        writer.writerow([KINDS[kind], count])
    writer.writerow([])
    writer.writerow(HEADER)
    for row in record_rows(record):
        writer.writerow([_neutral(cell) for cell in row])
    return out.getvalue()


def record_xlsx(record: ContributionRecord) -> bytes:
    """The record as an XLSX workbook: a Summary sheet of counts and a Contributions sheet."""
    # openpyxl (~0.1 s to import) is loaded only when a workbook is read or written, so no worker or
    # command pays for it otherwise: every openpyxl import in Kitshare is local for that reason.
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    summary = workbook.active
    summary.title = "Summary"
    summary.append([record.title])
    summary["A1"].font = Font(bold=True)
    summary.append(["Kind", "Count"])
    for kind, count in record.counts.items():
        summary.append([KINDS[kind], count])
    summary.column_dimensions["A"].width = 52
    details = workbook.create_sheet("Contributions")
    details.append(list(HEADER))
    for cell in details[1]:
        cell.font = Font(bold=True)
    for item in record.items:
        details.append(
            [KINDS[item.kind], item.on, item.asset_tag, _neutral(item.asset_name), _neutral(item.detail)]
        )
        if item.on is not None:
            details.cell(row=details.max_row, column=2).number_format = "yyyy-mm-dd"
        else:
            details.cell(row=details.max_row, column=2).value = "Today"
    for letter, width in zip("ABCDE", (46, 12, 14, 36, 50)):
        details.column_dimensions[letter].width = width
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
