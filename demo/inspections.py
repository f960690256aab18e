"""The demo's inspections: recurring schedules (calibration, PAT, LOLER, fume cupboards,
services) with their history, a handful overdue or due soon, some failing.
"""

from __future__ import annotations

import datetime as dt
import random

from accounts.models import User
from core.timeutil import local_to_utc
from demo.world import FAILED_LATEST, TEXTS, Kit, People
from inventory.models import (
    Asset,
    AssetStatus,
    InspectionKind,
    InspectionOutcome,
    InspectionRecord,
    InspectionSchedule,
)

# --- Inspections ----------------------------------------------------------------------------------

CALIBRATION, PAT_TEST, LOLER = InspectionKind.CALIBRATION, InspectionKind.PAT_TEST, InspectionKind.LOLER
FUME_CUPBOARD, SERVICE = InspectionKind.FUME_CUPBOARD, InspectionKind.SERVICE
PASS, ADVISORY, FAIL = InspectionOutcome.PASS, InspectionOutcome.ADVISORY, InspectionOutcome.FAIL

#: What each category is inspected for: (kind, intervals in days to choose from, chance an asset has it).
INSPECTIONS: dict[str, tuple[tuple[InspectionKind, tuple[int, ...], float], ...]] = {
    "Microscopes": ((SERVICE, (365,), 0.5), (PAT_TEST, (730,), 0.15)),
    "Centrifuges": ((SERVICE, (365,), 0.8),),
    "3D printers": ((PAT_TEST, (365, 730), 0.4),),
    "Oscilloscopes": ((CALIBRATION, (365,), 0.5), (PAT_TEST, (730,), 0.2)),
    "Signal generators and analysers": ((CALIBRATION, (365,), 0.5),),
    "Cameras and imaging": ((PAT_TEST, (730,), 0.3),),
    "PCR and qPCR": ((SERVICE, (365,), 0.5),),
    "Laser cutters": ((FUME_CUPBOARD, (365,), 0.9), (PAT_TEST, (365,), 0.5)),  # their fume extraction
    "Spectrometers": ((CALIBRATION, (365,), 0.6),),
    "Balances": ((CALIBRATION, (365,), 0.95),),
    "Freezers and incubators": ((SERVICE, (365,), 0.3), (PAT_TEST, (730,), 0.2)),
    "Chromatography": ((SERVICE, (365,), 0.5),),
    "Eye tracking and EEG": ((PAT_TEST, (365,), 0.4),),
    "Workshop tools": ((PAT_TEST, (365, 730), 0.5),),
    "Lifting equipment": ((LOLER, (180,), 1.0), (PAT_TEST, (365,), 1.0)),
    "Sequencers": ((SERVICE, (365,), 0.5),),
    "Plate readers and cytometers": ((SERVICE, (365,), 0.5),),
}
#: Makes and models inspected otherwise than their category.
MODEL_INSPECTIONS: dict[str, tuple[tuple[InspectionKind, tuple[int, ...], float], ...]] = {
    "Selekt": ((SERVICE, (365,), 0.5), (FUME_CUPBOARD, (365,), 1.0)),  # it runs in a fume cupboard
}
#: Kinds whose lapse may make a manager refuse bookings, and the share of such kit where it does.
BLOCKING_KINDS = (CALIBRATION, LOLER, FUME_CUPBOARD)
BLOCKING_SHARE = 1 / 3
OVERDUE_COUNT, DUE_SOON_COUNT = 5, 10
OVERDUE_DAYS, DUE_SOON_DAYS = (1, 40), (0, 14)  # due that many days before today; from today
LATER_FROM_DAYS = 15  # every other schedule is due at least this far ahead
RECORDS_PER_SCHEDULE = (1, 1, 2, 2, 3)  # inspections on record, the latest one included
FAILED_COUNT = 2  # schedules whose latest pass is the re-test after a failed inspection
RETEST_AFTER_DAYS = (5, 21)
ADVISORY_SHARE = 0.15
INSPECTION_RECORDED_AT = dt.time(16)  # local time an inspection is recorded, on the day it was done
TECHNICIAN = "a technician of the School"  # stands for one of them in INSPECTORS
IN_HOUSE = "In-house"
#: Who inspects each kind; "{manufacturer}" is the asset's maker.
INSPECTORS = {
    CALIBRATION: ("Trescal UK", "Eurofins", "{manufacturer} service engineer", TECHNICIAN),
    PAT_TEST: ("Socotec UK", IN_HOUSE, TECHNICIAN),
    LOLER: ("Socotec UK", "Allianz Engineering Inspection"),
    FUME_CUPBOARD: ("Socotec UK", "Eurofins"),
    SERVICE: ("{manufacturer} service engineer", "{manufacturer} service engineer", IN_HOUSE),
}
CONTRACTOR_COST_PENCE = (8_500, 60_000)  # a contractor's visit, £85 to £600, in steps of £5
INSPECTION_NOTES = {
    InspectionKind(kind): {InspectionOutcome(outcome): notes for outcome, notes in by_outcome.items()}
    for kind, by_outcome in TEXTS["inspection_notes"].items()
}
#: (the failed inspection's note, the passing re-test's note), for each kind.
FAILED_NOTES = {InspectionKind(kind): notes for kind, notes in TEXTS["failed_notes"].items()}


def failed_record(
    asset: Asset,
    done_on: dt.date,
    note: str,
    managers: dict[int, list[User]],
    outcome: InspectionOutcome = FAIL,
) -> InspectionRecord:
    """An inspection of a showcase asset: by an examiner (LOLER) or the maker's engineer."""
    engineer = f"{asset.manufacturer} service engineer"
    examiner = INSPECTORS[LOLER][0] if asset.tag == FAILED_LATEST[0] else engineer
    return InspectionRecord(
        done_on=done_on,
        performed_by=examiner,
        outcome=outcome,
        note=note,
        cost_pence=CONTRACTOR_COST_PENCE[1] if outcome == FAIL else CONTRACTOR_COST_PENCE[0],
        recorded_by_id=managers[asset.school_id][0].id,
        created_at=local_to_utc(dt.datetime.combine(done_on, INSPECTION_RECORDED_AT)),
    )


def draw_inspections(
    rng: random.Random,
    register: list[tuple[Kit, Asset]],
    people: People,
    today: dt.date,
    launched_at: dt.datetime,
) -> None:
    """Recurring inspections of the kit as its category needs them, each with its history.

    The schedules hang on their asset (``asset.inspections``), so they are inserted with it and
    never added to an asset that already existed. A few are overdue and about twice as many are
    due within two weeks (one of the overdue ones on kit that refuses bookings meanwhile); every
    other one is due later. The managers of about a third of the kit with a calibration, LOLER or
    fume-cupboard examination have chosen to refuse bookings while one is overdue. Retired kit
    needs no inspections.
    """
    schedules: list[InspectionSchedule] = []
    for kit, asset in register:
        if asset.status == AssetStatus.RETIRED:
            continue
        kinds = [
            (kind, rng.choice(intervals))
            for kind, intervals, chance in MODEL_INSPECTIONS.get(kit.model, INSPECTIONS[kit.category])
            if rng.random() < chance
        ]
        asset.inspections = [
            InspectionSchedule(kind=kind, interval_days=interval, created_at=launched_at)
            for kind, interval in kinds
        ]
        asset.block_when_inspection_overdue = (
            any(kind in BLOCKING_KINDS for kind, _ in kinds) and rng.random() < BLOCKING_SHARE
        )
        schedules += asset.inspections

    # Overdue and due soon: only schedules whose last inspection was within about a year.
    yearly = [schedule for schedule in schedules if schedule.interval_days <= 365]
    blocking = [schedule for schedule in yearly if schedule.asset.block_when_inspection_overdue]
    overdue = rng.sample(blocking, 1) if blocking else []
    overdue += rng.sample([s for s in yearly if s not in overdue], OVERDUE_COUNT - len(overdue))
    due_soon = rng.sample([s for s in yearly if s not in overdue], DUE_SOON_COUNT)
    for schedule in schedules:
        interval = dt.timedelta(days=schedule.interval_days)
        if schedule in overdue:
            schedule.next_due_on = today - dt.timedelta(days=rng.randint(*OVERDUE_DAYS))
        elif schedule in due_soon:
            schedule.next_due_on = today + dt.timedelta(days=rng.randint(*DUE_SOON_DAYS))
        else:
            days_since = rng.randint(1, min(365, schedule.interval_days - LATER_FROM_DAYS))
            schedule.next_due_on = today - dt.timedelta(days=days_since) + interval
        schedule.last_done_on = schedule.next_due_on - interval

    failed = rng.sample(schedules, FAILED_COUNT)
    for schedule in schedules:
        schedule.records = _draw_inspection_records(rng, schedule, schedule in failed, people, launched_at)


def _draw_inspection_records(
    rng: random.Random, schedule: InspectionSchedule, failed: bool, people: People, launched_at: dt.datetime
) -> list[InspectionRecord]:
    """One to three inspections about an interval apart, the latest on ``last_done_on`` and passed
    (with advisories, sometimes), so that the schedule's dates are what recording them would have
    made them. A schedule that ``failed`` had a failed inspection a few weeks before its latest one:
    the pass is the re-test after the repair. Inspections before the demo went live were entered
    on that day, as history."""
    asset = schedule.asset
    interval = schedule.interval_days
    done: list[tuple[dt.date, InspectionOutcome, str]] = []
    day = schedule.last_done_on
    for _ in range(rng.choice(RECORDS_PER_SCHEDULE)):
        outcome = ADVISORY if rng.random() < ADVISORY_SHARE else PASS
        done.append((day, outcome, rng.choice(INSPECTION_NOTES[schedule.kind][outcome])))
        day -= dt.timedelta(days=interval + rng.randint(-10, 10))
    if failed:  # the latest inspection is the re-test after a failed one
        failed_note, retest_note = FAILED_NOTES[schedule.kind]
        failed_on = schedule.last_done_on - dt.timedelta(days=rng.randint(*RETEST_AFTER_DAYS))
        done = [(schedule.last_done_on, PASS, retest_note), (failed_on, FAIL, failed_note), *done[1:]]
        done = done[: max(RECORDS_PER_SCHEDULE)]

    records = []
    for done_on, outcome, note in done:
        inspector = rng.choice(INSPECTORS[schedule.kind])
        contractor = inspector not in (IN_HOUSE, TECHNICIAN)
        if inspector == TECHNICIAN:
            inspector = rng.choice(people.members[asset.school_id]).name
        cost_pence = (
            rng.randrange(CONTRACTOR_COST_PENCE[0], CONTRACTOR_COST_PENCE[1] + 1, 500) if contractor else None
        )
        recorded_at = local_to_utc(dt.datetime.combine(done_on, INSPECTION_RECORDED_AT))
        records.append(
            InspectionRecord(
                done_on=done_on,
                performed_by=inspector.format(manufacturer=asset.manufacturer),
                outcome=outcome,
                note=note,
                cost_pence=cost_pence,
                recorded_by_id=rng.choice(people.managers[asset.school_id]).id,
                created_at=max(recorded_at, launched_at),
            )
        )
    return records
