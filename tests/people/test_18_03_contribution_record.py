"""Issue 18 point 3: a contribution record for a period counts exactly what the person did in it,
on the page and in the CSV and XLSX downloads, and only for those who may see it."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from openpyxl import load_workbook

from bookings.models import BookingStatus
from core.errors import NotAllowed
from inventory.models import (
    InspectionKind,
    InspectionOutcome,
    InspectionRecord,
    InspectionSchedule,
    MaintenanceWindow,
    TrainingAuthorisation,
)
from people.contribution import KINDS, contribution_record
from tests.factories import make_booking

UTC = dt.UTC
MARCH = {"from": "2030-03-01", "to": "2030-03-31"}


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.fixture
def history(people, session):
    """What Tess did around March 2030 (London: GMT until 01:00 UTC on Sunday 31 March, then BST),
    and what others did, with the counts March should give."""
    tess, otto, paul = people["tess"], people["otto"], people["paul"]
    confocal, spectrometer, balance = people["confocal"], people["spectrometer"], people["balance"]
    session.add_all(
        [
            MaintenanceWindow(
                asset_id=confocal.id,
                start_at=at("2030-03-06T09:00"),
                end_at=at("2030-03-06T12:00"),
                reason="Laser realignment",
                created_by_id=tess.id,
                created_at=at("2030-03-05T10:00"),
            ),
            # 23:30 on 31 March in London: in the period; 00:30 on 1 April in London: not.
            MaintenanceWindow(
                asset_id=balance.id,
                start_at=at("2030-04-02T09:00"),
                end_at=at("2030-04-02T10:00"),
                reason="Repair of the draught shield",
                created_by_id=tess.id,
                created_at=at("2030-03-31T22:30"),
            ),
            MaintenanceWindow(
                asset_id=balance.id,
                start_at=at("2030-04-03T09:00"),
                end_at=at("2030-04-03T10:00"),
                created_by_id=tess.id,
                created_at=at("2030-03-31T23:30"),
            ),
            MaintenanceWindow(
                asset_id=balance.id,
                start_at=at("2030-02-28T09:00"),
                end_at=at("2030-02-28T10:00"),
                created_by_id=tess.id,
                created_at=at("2030-02-28T08:00"),
            ),
            MaintenanceWindow(
                asset_id=confocal.id,
                start_at=at("2030-03-09T09:00"),
                end_at=at("2030-03-09T10:00"),
                created_by_id=otto.id,
                created_at=at("2030-03-09T08:00"),
            ),
        ]
    )
    schedule = InspectionSchedule(
        asset_id=confocal.id, kind=InspectionKind.SERVICE, interval_days=365, next_due_on=dt.date(2031, 3, 10)
    )
    session.add(schedule)
    session.commit()
    session.add_all(
        [
            InspectionRecord(
                schedule=schedule,
                done_on=dt.date(2030, 3, 10),
                performed_by="Tess",
                outcome=InspectionOutcome.PASS,
                recorded_by_id=tess.id,
            ),
            InspectionRecord(
                schedule=schedule,
                done_on=dt.date(2030, 4, 1),
                performed_by="Tess",
                outcome=InspectionOutcome.FAIL,
                recorded_by_id=tess.id,
            ),
            InspectionRecord(
                schedule=schedule,
                done_on=dt.date(2030, 3, 11),
                performed_by="Zeiss",
                outcome=InspectionOutcome.ADVISORY,
                recorded_by_id=otto.id,
            ),
        ]
    )
    session.add_all(
        [
            TrainingAuthorisation(
                user_id=paul.id,
                school_id=people["chem"].id,
                asset_id=confocal.id,
                granted_on=dt.date(2030, 3, 15),
                granted_by_id=tess.id,
            ),
            TrainingAuthorisation(
                user_id=otto.id,
                school_id=people["chem"].id,
                category_id=people["microscopy"].id,
                granted_on=dt.date(2030, 3, 1),
                granted_by_id=tess.id,
            ),
            TrainingAuthorisation(
                user_id=otto.id,
                school_id=people["chem"].id,
                asset_id=balance.id,
                granted_on=dt.date(2030, 2, 28),
                granted_by_id=tess.id,
            ),
            TrainingAuthorisation(
                user_id=paul.id,
                school_id=people["chem"].id,
                asset_id=balance.id,
                granted_on=dt.date(2030, 3, 15),
                granted_by_id=otto.id,
            ),
        ]
    )
    session.commit()
    loan = make_booking(session, confocal, paul, at("2030-03-12T09:00"), status=BookingStatus.COMPLETED)
    loan.handed_over_at, loan.handed_over_by_id = at("2030-03-12T09:05"), tess.id
    loan.returned_at, loan.returned_to_id = at("2030-04-02T10:00"), otto.id  # after March, and not Tess
    back = make_booking(session, balance, paul, at("2030-03-18T09:00"), status=BookingStatus.COMPLETED)
    back.handed_over_at, back.handed_over_by_id = at("2030-03-18T09:00"), otto.id
    back.returned_at, back.returned_to_id, back.returned_damaged = at("2030-03-20T16:00"), tess.id, True
    from_phys = make_booking(
        session, spectrometer, paul, at("2030-03-25T09:00"), status=BookingStatus.CONFIRMED
    )
    from_phys.decided_by_id, from_phys.decided_at = tess.id, at("2030-03-08T11:00")
    from_chem = make_booking(
        session, spectrometer, otto, at("2030-03-26T09:00"), status=BookingStatus.CONFIRMED
    )
    from_chem.decided_by_id, from_chem.decided_at = (
        tess.id,
        at("2030-03-08T12:00"),
    )  # her own School's: not counted
    refused = make_booking(session, spectrometer, paul, at("2030-03-27T09:00"), status=BookingStatus.REJECTED)
    refused.decided_by_id, refused.decided_at = tess.id, at("2030-02-27T12:00")  # before March
    session.commit()
    return {
        "assets": 2,  # contact of the confocal, named technician of the spectrometer
        "maintenance": 2,
        "inspections": 1,
        "inductions": 2,
        "handovers": 1,
        "returns": 1,
        "decisions": 1,
    }


def test_the_record_counts_exactly_what_the_person_did_in_the_period(people, history, session):
    record = contribution_record(
        session, people["tess"], people["tess"].id, dt.date(2030, 3, 1), dt.date(2030, 3, 31)
    )
    assert record.counts == history


def test_a_shorter_period_counts_less(people, history, session):
    record = contribution_record(
        session, people["tess"], people["tess"].id, dt.date(2030, 3, 9), dt.date(2030, 3, 16)
    )
    assert record.counts == {
        **{k: 0 for k in KINDS},
        "assets": 2,
        "inspections": 1,
        "inductions": 1,
        "handovers": 1,
    }


def test_the_page_shows_the_counts(people, history, as_person):
    page = (
        as_person(people["tess"])
        .get(f"/people/{people['tess'].id}", query_string=MARCH)
        .get_data(as_text=True)
    )
    for kind, count in history.items():
        assert f'data-kind="{kind}">{count}</td>' in page


def test_the_csv_download_holds_the_counts_and_every_item(people, history, as_person):
    response = as_person(people["tess"]).get(f"/people/{people['tess'].id}/record.csv", query_string=MARCH)
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert 'filename="contribution-' in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    counts = {row[0]: int(row[1]) for row in rows[2 : 2 + len(KINDS)]}
    assert counts == {KINDS[kind]: count for kind, count in history.items()}
    items = rows[3 + len(KINDS) :]
    assert items[0] == ["Kind", "Date", "Asset tag", "Asset", "Detail"]
    assert len(items) - 1 == sum(history.values())
    assert [
        KINDS["returns"],
        "2030-03-20",
        "CHEM-0003",
        "Analytical balance",
        "From Paul Physicist, damaged",
    ] in items


def test_the_xlsx_download_holds_the_same(people, history, as_person):
    response = as_person(people["tess"]).get(f"/people/{people['tess'].id}/record.xlsx", query_string=MARCH)
    assert response.status_code == 200
    workbook = load_workbook(io.BytesIO(response.data))
    summary = {row[0]: row[1] for row in workbook["Summary"].iter_rows(min_row=3, values_only=True)}
    assert summary == {KINDS[kind]: count for kind, count in history.items()}
    details = list(workbook["Contributions"].iter_rows(min_row=2, values_only=True))
    assert len(details) == sum(history.values())


def test_a_hidden_record_is_refused_on_the_page_and_in_every_download(people, history, as_person, session):
    paul = as_person(people["paul"])  # PHYS; Tess shows her record only to CHEM
    page = paul.get(f"/people/{people['tess'].id}", query_string=MARCH).get_data(as_text=True)
    assert "Contribution record" not in page and "record.csv" not in page
    for extension in ("csv", "xlsx"):
        assert (
            paul.get(f"/people/{people['tess'].id}/record.{extension}", query_string=MARCH).status_code == 403
        )
    with pytest.raises(NotAllowed):
        contribution_record(
            session, people["paul"], people["tess"].id, dt.date(2030, 3, 1), dt.date(2030, 3, 31)
        )


def test_a_record_shown_to_everyone_downloads_for_another_school(people, as_person):
    # Otto shows his record and his equipment to everyone.
    response = as_person(people["paul"]).get(f"/people/{people['otto'].id}/record.csv")
    assert response.status_code == 200 and "CHEM-0002" in response.get_data(as_text=True)


def test_equipment_hidden_beyond_the_school_stays_out_of_a_record_shown_to_everyone(
    people, history, as_person, session
):
    from people.models import Profile, Visibility

    session.get(Profile, people["tess"].id).record_visibility = Visibility.EVERYONE  # equipment: CHEM only
    session.commit()
    paul = as_person(people["paul"])
    text = paul.get(f"/people/{people['tess'].id}/record.csv", query_string=MARCH).get_data(as_text=True)
    assert "Laser realignment" in text
    assert ",Today," not in text and "Named technician" not in text  # no equipment rows
    assert f"{KINDS['assets']},0" in text
    workbook = load_workbook(
        io.BytesIO(paul.get(f"/people/{people['tess'].id}/record.xlsx", query_string=MARCH).data)
    )
    assert all(
        "Named technician" not in str(row) for row in workbook["Contributions"].iter_rows(values_only=True)
    )
    page = paul.get(f"/people/{people['tess'].id}", query_string=MARCH).get_data(as_text=True)
    assert 'data-kind="assets">0</td>' in page and 'data-kind="maintenance">2</td>' in page


def test_a_backwards_period_is_refused_with_a_message(people, as_person):
    tess = as_person(people["tess"])
    page = tess.get(
        f"/people/{people['tess'].id}", query_string={"from": "2030-03-31", "to": "2030-03-01"}
    ).get_data(as_text=True)
    assert "The last day must be on or after the first day." in page
    response = tess.get(
        f"/people/{people['tess'].id}/record.csv", query_string={"from": "2030-03-31", "to": "2030-03-01"}
    )
    assert response.status_code in (302, 422)
