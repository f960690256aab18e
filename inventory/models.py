"""Schools, their locations, equipment categories, and the asset register."""

from __future__ import annotations

import datetime as dt
import enum
import secrets
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    Text,
    Time,
    UniqueConstraint,
    event,
    text,
)
from sqlalchemy.orm import Mapped, attributes, mapped_column, relationship

from core.audit import Audited
from core.db import Base, str_enum, utcnow

if TYPE_CHECKING:
    from accounts.models import User


def _new_token() -> str:
    return secrets.token_urlsafe(32)


class School(Base):
    __tablename__ = "schools"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    locations: Mapped[list[Location]] = relationship(
        back_populates="school", order_by="Location.building, Location.room"
    )

    def __repr__(self) -> str:
        return f"<School {self.code}>"


class Location(Base):
    __tablename__ = "locations"

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id", ondelete="RESTRICT"), index=True)
    site: Mapped[str] = mapped_column(String(100), default="Main campus")  # Uniquip "Site Location"
    building: Mapped[str] = mapped_column(String(200))
    room: Mapped[str] = mapped_column(String(100))

    school: Mapped[School] = relationship(back_populates="locations")

    __table_args__ = (UniqueConstraint("school_id", "building", "room", name="uq_locations_place"),)

    @property
    def label(self) -> str:
        return f"{self.building}, {self.room}"


class Category(Base):
    __tablename__ = "categories"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    # Expected useful life of equipment of this kind, for capital planning (assets may override).
    default_useful_life_years: Mapped[int | None]

    __table_args__ = (
        CheckConstraint(
            "default_useful_life_years IS NULL OR default_useful_life_years > 0", name="life_positive"
        ),
    )


class AssetStatus(enum.StrEnum):
    AVAILABLE = "available"
    MAINTENANCE = "maintenance"
    OUT_OF_SERVICE = "out_of_service"
    RETIRED = "retired"
    DISPOSED = "disposed"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()

    @property
    def withdrawn(self) -> bool:
        """Retired or disposed of: off the register for good, never booked again."""
        return self in WITHDRAWN_STATUSES


#: The statuses that take an asset out of use for good (its bookings to come end with them).
WITHDRAWN_STATUSES = frozenset({AssetStatus.RETIRED, AssetStatus.DISPOSED})


class Asset(Audited, Base):
    """A piece of equipment on a School's register, with the rules for booking it."""

    __tablename__ = "assets"
    __audit_type__ = "asset"
    # The calendar-feed secret must not be copied into the change history people read.
    __audit_exclude__ = Audited.__audit_exclude__ | {
        "calendar_token",
        "version",
    }  # version: bookkeeping for edits

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id", ondelete="RESTRICT"), index=True)
    tag: Mapped[str] = mapped_column(String(50), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    category_id: Mapped[int | None] = mapped_column(
        ForeignKey("categories.id", ondelete="RESTRICT"), index=True
    )
    location_id: Mapped[int | None] = mapped_column(ForeignKey("locations.id", ondelete="RESTRICT"))
    manufacturer: Mapped[str] = mapped_column(String(200), default="")
    model: Mapped[str] = mapped_column(String(200), default="")
    serial_number: Mapped[str] = mapped_column(String(200), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    purchase_date: Mapped[dt.date | None] = mapped_column(Date)
    purchase_cost_pence: Mapped[int | None]
    funding_source: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[AssetStatus] = mapped_column(
        str_enum(AssetStatus, "asset_status"), default=AssetStatus.AVAILABLE
    )
    status_reason: Mapped[str] = mapped_column(Text, default="")
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    hourly_rate_pence: Mapped[int] = mapped_column(default=0)
    # Capital planning: overrides of the category's useful life and of the purchase cost as the
    # replacement estimate (both optional).
    useful_life_years: Mapped[int | None]
    replacement_cost_pence: Mapped[int | None]
    # Booking rules (enforced by the bookings service).
    bookable: Mapped[bool] = mapped_column(default=True)
    shareable: Mapped[bool] = mapped_column(default=True)
    requires_approval: Mapped[bool] = mapped_column(default=False)
    training_required: Mapped[bool] = mapped_column(default=False)
    min_notice_minutes: Mapped[int] = mapped_column(default=0)
    max_booking_minutes: Mapped[int | None]
    turnaround_minutes: Mapped[int] = mapped_column(default=0)
    # When an inspection (calibration, PAT, LOLER ...) is overdue, refuse bookings until it is done.
    block_when_inspection_overdue: Mapped[bool] = mapped_column(default=False)
    photo_filename: Mapped[str | None] = mapped_column(String(200))
    # Loans and check-in.
    portable: Mapped[bool] = mapped_column(default=False)  # lent out: hand-over and return
    checkin_required: Mapped[bool] = mapped_column(default=False)  # bench kit: check in at the start
    # Release a booking not checked in this many minutes after its start (None: never).
    no_show_release_minutes: Mapped[int | None]
    damage_reported_at: Mapped[dt.datetime | None]  # set by a damaged return until a manager clears it
    damage_note: Mapped[str] = mapped_column(Text, default="")
    calendar_token: Mapped[str] = mapped_column(String(64), unique=True, default=_new_token)
    status_changed_at: Mapped[dt.datetime | None]
    retired_at: Mapped[dt.datetime | None]  # the end of its service life, for reports
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    # Raised by every change of the asset or its weekly hours (``_bump_version``): an edit made
    # against an older version is refused, not allowed to undo a change it never saw.
    version: Mapped[int] = mapped_column(default=1, server_default="1")

    school: Mapped[School] = relationship()
    category: Mapped[Category | None] = relationship()
    location: Mapped[Location | None] = relationship()
    contact: Mapped[User | None] = relationship()
    inspections: Mapped[list[InspectionSchedule]] = relationship(
        back_populates="asset", cascade="all, delete-orphan", order_by="InspectionSchedule.next_due_on"
    )
    bookable_hours: Mapped[list[BookableHours]] = relationship(
        back_populates="asset",
        cascade="all, delete-orphan",
        order_by="BookableHours.weekday, BookableHours.opens",
    )
    # The weekly hours in force before each change of them (the reports read them, in SQL).
    hours_history: Mapped[list[BookableHoursHistory]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True, order_by="BookableHoursHistory.in_force_until"
    )

    __table_args__ = (
        CheckConstraint("purchase_cost_pence IS NULL OR purchase_cost_pence >= 0", name="cost_not_negative"),
        CheckConstraint("hourly_rate_pence >= 0", name="rate_not_negative"),
        CheckConstraint("min_notice_minutes >= 0", name="notice_not_negative"),
        CheckConstraint("max_booking_minutes IS NULL OR max_booking_minutes > 0", name="max_length_positive"),
        CheckConstraint("turnaround_minutes >= 0", name="turnaround_not_negative"),
        CheckConstraint(
            "no_show_release_minutes IS NULL OR no_show_release_minutes > 0", name="release_positive"
        ),
        CheckConstraint("useful_life_years IS NULL OR useful_life_years > 0", name="life_positive"),
        CheckConstraint(
            "replacement_cost_pence IS NULL OR replacement_cost_pence >= 0", name="replacement_not_negative"
        ),
    )

    def __repr__(self) -> str:
        return f"<Asset {self.tag}>"


class BookableHours(Audited, Base):
    """One opening interval of an asset on a weekday, in the university's local time."""

    __tablename__ = "bookable_hours"
    __audit_type__ = "asset"

    id: Mapped[int] = mapped_column(primary_key=True)
    asset_id: Mapped[int] = mapped_column(ForeignKey("assets.id", ondelete="CASCADE"), index=True)
    weekday: Mapped[int]  # 0 = Monday ... 6 = Sunday
    opens: Mapped[dt.time] = mapped_column(Time)
    closes: Mapped[dt.time] = mapped_column(Time)

    asset: Mapped[Asset] = relationship(back_populates="bookable_hours")

    __table_args__ = (
        UniqueConstraint("asset_id", "weekday", "opens", name="uq_bookable_hours_slot"),
        CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday_range"),
        CheckConstraint("opens < closes", name="opens_before_closes"),
    )

    def audit_target(self) -> tuple[str, int]:
        return "asset", self.asset_id

    def audit_label(self) -> str:
        return f"hours[{('Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun')[self.weekday]}]"


class BookableHoursHistory(Base):
    """Weekly hours an asset had before they were changed, and the local date the change took
    effect: they were in force on the days before ``in_force_until``, back to the previous row's
    date (the first row: back to the start). ``Asset.bookable_hours`` are in force from the last
    row's date on; an asset whose hours never changed has no rows. Several changes on one day
    make one row, holding the hours in force before that day. Written only by
    ``inventory.service`` when hours change; read by the utilisation report."""

    __tablename__ = "bookable_hours_history"

    id: Mapped[int] = mapped_column(primary_key=True)
    asset_id: Mapped[int] = mapped_column(ForeignKey("assets.id", ondelete="CASCADE"))
    in_force_until: Mapped[dt.date] = mapped_column(Date)  # the first day they were no longer in force
    hours: Mapped[list[list[Any]]] = mapped_column(JSON)  # [[weekday, "HH:MM", "HH:MM"], ...], local times
    changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        UniqueConstraint("asset_id", "in_force_until", name="uq_bookable_hours_history_asset_until"),
    )

    @staticmethod
    def encode(weekly_hours: Any) -> list[list[Any]]:
        """(weekday, opens, closes) triples as JSON: [[0, "09:00", "17:00"], ...], sorted."""
        return [[day, _clock(opens), _clock(closes)] for day, opens, closes in sorted(weekly_hours)]

    @property
    def weekly_hours(self) -> tuple[tuple[int, dt.time, dt.time], ...]:
        return decode_weekly_hours(self.hours)


def _clock(moment: dt.time) -> str:
    return moment.isoformat(timespec="minutes" if not moment.second and not moment.microsecond else "auto")


def decode_weekly_hours(hours: list[list[Any]]) -> tuple[tuple[int, dt.time, dt.time], ...]:
    """``BookableHoursHistory.hours`` back as sorted (weekday, opens, closes) triples."""
    return tuple(
        sorted(
            (int(day), dt.time.fromisoformat(opens), dt.time.fromisoformat(closes))
            for day, opens, closes in hours
        )
    )


#: Monday to Friday, 09:00-17:00 local time: the default for a new asset.
DEFAULT_WEEKLY_HOURS = [(day, dt.time(9), dt.time(17)) for day in range(5)]


class MaintenanceWindow(Audited, Base):
    """Planned time an asset is out for maintenance; it blocks bookings."""

    __tablename__ = "maintenance_windows"
    __audit_type__ = "maintenance_window"

    id: Mapped[int] = mapped_column(primary_key=True)
    asset_id: Mapped[int] = mapped_column(ForeignKey("assets.id", ondelete="CASCADE"), index=True)
    start_at: Mapped[dt.datetime]
    end_at: Mapped[dt.datetime]
    reason: Mapped[str] = mapped_column(Text, default="")
    # What the maintenance or repair cost, once known: capital planning counts it.
    cost_pence: Mapped[int | None]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    asset: Mapped[Asset] = relationship()

    __table_args__ = (
        CheckConstraint("start_at < end_at", name="starts_before_end"),
        CheckConstraint("cost_pence IS NULL OR cost_pence >= 0", name="cost_not_negative"),
    )

    #: Not stored: what scheduling this window did to the bookings it overlaps (a
    #: ``bookings.disruption.Settlement``), set by ``bookings.asset_changes.schedule_maintenance``.
    settlement = None

    def audit_target(self) -> tuple[str, int]:
        return "asset", self.asset_id

    def audit_label(self) -> str:
        return f"maintenance[{self.id}]"


class InspectionKind(enum.StrEnum):
    CALIBRATION = "calibration"
    PAT_TEST = "pat_test"
    LOLER = "loler"
    FUME_CUPBOARD = "fume_cupboard"
    SERVICE = "service"
    OTHER = "other"

    @property
    def label(self) -> str:
        return {
            "calibration": "Calibration",
            "pat_test": "PAT test",
            "loler": "LOLER examination",
            "fume_cupboard": "Fume-cupboard examination",
            "service": "Service",
            "other": "Other inspection",
        }[self.value]


class InspectionOutcome(enum.StrEnum):
    PASS = "pass"
    ADVISORY = "advisory"  # passed, with remarks to act on
    FAIL = "fail"

    @property
    def label(self) -> str:
        return {"pass": "Pass", "advisory": "Pass with advisories", "fail": "Fail"}[self.value]


class InspectionSchedule(Audited, Base):
    """A recurring inspection an asset needs, every ``interval_days``.

    ``next_due_on`` is kept by the inventory service: the last inspection's date plus the
    interval, or the date given when the schedule was set up if it was never done.
    """

    __tablename__ = "inspection_schedules"

    id: Mapped[int] = mapped_column(primary_key=True)
    asset_id: Mapped[int] = mapped_column(ForeignKey("assets.id", ondelete="CASCADE"), index=True)
    kind: Mapped[InspectionKind] = mapped_column(str_enum(InspectionKind, "inspection_kind"))
    interval_days: Mapped[int]
    last_done_on: Mapped[dt.date | None] = mapped_column(Date)
    next_due_on: Mapped[dt.date] = mapped_column(Date, index=True)
    # The due date a reminder was last sent for, so each due date is reminded of once.
    reminded_for: Mapped[dt.date | None] = mapped_column(Date)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    asset: Mapped[Asset] = relationship(back_populates="inspections")
    records: Mapped[list[InspectionRecord]] = relationship(
        back_populates="schedule",
        order_by="InspectionRecord.done_on.desc(), InspectionRecord.id.desc()",
        cascade="all, delete-orphan",
    )

    __table_args__ = (
        UniqueConstraint("asset_id", "kind", name="uq_inspection_schedules_asset_kind"),
        CheckConstraint("interval_days > 0", name="interval_positive"),
    )

    def is_overdue(self, today: dt.date) -> bool:
        return self.next_due_on < today

    def audit_target(self) -> tuple[str, int]:
        return "asset", self.asset_id

    def audit_label(self) -> str:
        return f"inspection[{self.kind.value}]"


class InspectionRecord(Audited, Base):
    """An inspection done: when, by whom, the outcome, and a note."""

    __tablename__ = "inspection_records"

    id: Mapped[int] = mapped_column(primary_key=True)
    schedule_id: Mapped[int] = mapped_column(
        ForeignKey("inspection_schedules.id", ondelete="CASCADE"), index=True
    )
    done_on: Mapped[dt.date] = mapped_column(Date)
    performed_by: Mapped[str] = mapped_column(String(200))  # a person or a contractor
    outcome: Mapped[InspectionOutcome] = mapped_column(str_enum(InspectionOutcome, "inspection_outcome"))
    note: Mapped[str] = mapped_column(Text, default="")
    cost_pence: Mapped[int | None]
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    schedule: Mapped[InspectionSchedule] = relationship(back_populates="records")
    recorded_by: Mapped[User | None] = relationship()

    __table_args__ = (CheckConstraint("cost_pence IS NULL OR cost_pence >= 0", name="cost_not_negative"),)

    def audit_target(self) -> tuple[str, int]:
        return "asset", self.schedule.asset_id

    def audit_label(self) -> str:
        return f"inspection_record[{self.id}]"


class TrainingAuthorisation(Audited, Base):
    """A person may use an asset, or every asset of a category within a School, that needs training.

    Current while not revoked and not past ``expires_on``.
    """

    __tablename__ = "training_authorisations"
    __audit_type__ = "training"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id", ondelete="CASCADE"))
    asset_id: Mapped[int | None] = mapped_column(ForeignKey("assets.id", ondelete="CASCADE"), index=True)
    category_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id", ondelete="CASCADE"))
    granted_on: Mapped[dt.date] = mapped_column(Date)
    expires_on: Mapped[dt.date | None] = mapped_column(Date)
    granted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    note: Mapped[str] = mapped_column(Text, default="")
    revoked_at: Mapped[dt.datetime | None]
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    revoke_reason: Mapped[str] = mapped_column(Text, default="")

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    school: Mapped[School] = relationship()
    asset: Mapped[Asset | None] = relationship()
    category: Mapped[Category | None] = relationship()
    granted_by: Mapped[User | None] = relationship(foreign_keys=[granted_by_id])
    revoked_by: Mapped[User | None] = relationship(foreign_keys=[revoked_by_id])

    __table_args__ = (
        # Exactly one scope: one asset, or one category within the School.
        CheckConstraint("(asset_id IS NULL) <> (category_id IS NULL)", name="one_scope"),
        CheckConstraint("expires_on IS NULL OR expires_on >= granted_on", name="expires_after_granted"),
    )

    #: Not stored: what revoking it did to the person's bookings (a
    #: ``bookings.disruption.Settlement``), set by ``bookings.asset_changes.revoke_training``.
    settlement = None

    def is_current(self, today: dt.date) -> bool:
        return self.revoked_at is None and (self.expires_on is None or self.expires_on >= today)


class TrainingRequestStatus(enum.StrEnum):
    OPEN = "open"  # waiting for a manager of the asset's School
    GRANTED = "granted"  # an authorisation covering the asset was granted
    DECLINED = "declined"

    @property
    def label(self) -> str:
        return self.value.capitalize()


class TrainingRequest(Audited, Base):
    """Someone asks to be trained on an asset that needs training, so that they may book it.

    The managers of the asset's owning School decide: granting records a ``TrainingAuthorisation``
    (for the asset, or its category within the School), declining says why. One open request per
    person per asset (a partial unique index keeps it so under concurrent requests).
    """

    __tablename__ = "training_requests"
    __audit_type__ = "training_request"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    asset_id: Mapped[int] = mapped_column(ForeignKey("assets.id", ondelete="CASCADE"), index=True)
    message: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[TrainingRequestStatus] = mapped_column(
        str_enum(TrainingRequestStatus, "training_request_status"), default=TrainingRequestStatus.OPEN
    )
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    decided_at: Mapped[dt.datetime | None]
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    decision_reason: Mapped[str] = mapped_column(Text, default="")
    authorisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("training_authorisations.id", ondelete="SET NULL")
    )

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    asset: Mapped[Asset] = relationship()
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])
    authorisation: Mapped[TrainingAuthorisation | None] = relationship()

    __table_args__ = (
        Index(
            "uq_training_requests_open",
            "user_id",
            "asset_id",
            unique=True,
            postgresql_where=text("status = 'open'"),
            sqlite_where=text("status = 'open'"),
        ),
    )


class ImportState(enum.StrEnum):
    QUEUED = "queued"  # confirmed, waiting for the scheduler
    RUNNING = "running"  # claimed by one scheduler, importing
    DONE = "done"
    FAILED = "failed"  # nothing was imported; ``message`` (and ``problems``) say why


class ImportJob(Base):
    """A confirmed register import, run by the scheduler in the background (inventory.import_jobs).

    The file travels in the row, so the scheduler needs no folder shared with the web workers; it
    is dropped once the job has finished. ``rows_done`` is written in short transactions of its
    own while the import's one transaction runs, so the progress page can read it.
    """

    __tablename__ = "import_jobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id", ondelete="CASCADE"), index=True)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(200))
    content: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)  # not read by the page's polls
    state: Mapped[ImportState] = mapped_column(
        str_enum(ImportState, "import_state"), default=ImportState.QUEUED, index=True
    )
    rows_total: Mapped[int | None]
    rows_done: Mapped[int] = mapped_column(default=0)
    message: Mapped[str] = mapped_column(Text, default="")
    #: When the file no longer fits: [[line, column, message], ...], shown like the preview's.
    problems: Mapped[list[list[Any]] | None] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    started_at: Mapped[dt.datetime | None]
    progress_at: Mapped[dt.datetime | None]
    finished_at: Mapped[dt.datetime | None]

    school: Mapped[School] = relationship()
    created_by: Mapped[User] = relationship()

    __table_args__ = (CheckConstraint("rows_done >= 0", name="rows_done_not_negative"),)

    @property
    def finished(self) -> bool:
        return self.state in (ImportState.DONE, ImportState.FAILED)


@event.listens_for(Asset, "before_update")
def _bump_version(mapper: Any, connection: Any, asset: Asset) -> None:
    """Every UPDATE of an asset raises its version once (unless the change set it already: a
    change of only its weekly hours does, in ``inventory.service``)."""
    if not attributes.get_history(asset, "version").has_changes():
        asset.version = (asset.version or 0) + 1


class AssetTechnician(Base):
    """A further named technician of an asset, beside its contact (``Asset.contact_id``, the
    Uniquip export's contact): together they are the people who look after it."""

    __tablename__ = "asset_technicians"

    asset_id: Mapped[int] = mapped_column(ForeignKey("assets.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    asset: Mapped[Asset] = relationship()
    user: Mapped[User] = relationship()
