"""Demo profiles (issue 18): every demo person who looks after equipment gets a role title,
specialisms drawn from the equipment they look after, perhaps a professional registration, and
some assets get a second named technician, so the profile, find-an-expert, record and team pages
all have content. Called once at the end of ``demo.seed.seed``, inside its transaction; a second
seeding adds nothing (each row is made only when it is missing).

Coverage is left uneven on purpose: some assets have two named technicians, most one, and the
few without a contact none, so the team view has risks to flag.
"""

from __future__ import annotations

import datetime as dt
import random

from sqlalchemy import select
from sqlalchemy.orm import Session

from accounts.models import User
from inventory.models import WITHDRAWN_STATUSES, Asset, AssetTechnician
from people.models import Profile, Registration, RegistrationTitle, Specialism, Visibility
from people.service import tag_key

RANDOM_SEED = 1818

#: Techniques a person who looks after equipment of a category is likely to offer.
CATEGORY_TECHNIQUES: dict[str, tuple[str, ...]] = {
    "Microscopes": ("Light microscopy", "Sample preparation for imaging", "Image analysis (Fiji)"),
    "Centrifuges": ("Ultracentrifugation", "Rotor care and inspection"),
    "3D printers": ("3D printing", "CAD for prototypes"),
    "Oscilloscopes": ("Electronics test and measurement", "Circuit debugging"),
    "Signal generators and analysers": ("RF measurement", "Spectrum analysis"),
    "Cameras and imaging": ("High-speed imaging", "Thermal imaging"),
    "PCR and qPCR": ("qPCR assay design", "Digital PCR"),
    "Laser cutters": ("Laser cutting", "Fume extraction safety"),
    "Spectrometers": ("NMR spectroscopy", "UV-Vis spectroscopy", "FTIR spectroscopy"),
    "Balances": ("Weighing and calibration",),
    "Freezers and incubators": ("Cell culture", "Cold-chain storage"),
    "Chromatography": ("HPLC method development", "GC-MS", "FPLC protein purification"),
    "Eye tracking and EEG": ("EEG recording", "Eye tracking"),
    "Workshop tools": ("CNC machining", "Mechanical testing"),
    "Lifting equipment": ("LOLER compliance", "Safe lifting"),
    "Sequencers": ("Illumina sequencing", "Nanopore sequencing", "Library preparation"),
    "Plate readers and cytometers": ("Flow cytometry", "Plate-reader assays"),
}
#: Words in an asset's name that name a technique of their own.
NAME_TECHNIQUES = {
    "confocal": "Confocal microscopy",
    "electron": "Electron microscopy",
    "mass spectrometer": "Mass spectrometry",
    "raman": "Raman spectroscopy",
    "diffractometer": "X-ray diffraction",
    "cytometer": "Flow cytometry",
}
TECHNICIAN_TITLES = (
    "Research Technician",
    "Senior Technician",
    "Technical Specialist",
    "Laboratory Technician",
)
MANAGER_TITLE = "Technical Manager"
REGISTRATIONS = (
    RegistrationTitle.RSCITECH,
    RegistrationTitle.RSCI,
    RegistrationTitle.REGTECH,
    RegistrationTitle.CSCI,
)


def seed_profiles(session: Session, today: dt.date) -> int:
    """Give the demo's technicians profiles and some assets a second technician; returns how many
    rows were added (0 on a second seeding)."""
    rng = random.Random(RANDOM_SEED)
    added = 0
    assets = list(
        session.scalars(
            select(Asset).where(Asset.status.not_in(WITHDRAWN_STATUSES)).order_by(Asset.school_id, Asset.tag)
        )
    )
    people = list(session.scalars(select(User).where(User.active.is_(True)).order_by(User.id)))
    by_school: dict[int, list[User]] = {}
    for person in people:
        if person.home_school_id is not None:
            by_school.setdefault(person.home_school_id, []).append(person)
    named = {(row.asset_id, row.user_id) for row in session.scalars(select(AssetTechnician))}
    # A second technician for about a third of the assets with a contact: another of the School's people.
    for asset in assets:
        colleagues = [p for p in by_school.get(asset.school_id, []) if p.id != asset.contact_id]
        if asset.contact_id is None or not colleagues or rng.random() >= 0.35:
            continue
        second = rng.choice(colleagues)
        if (asset.id, second.id) not in named:
            session.add(AssetTechnician(asset_id=asset.id, user_id=second.id))
            named.add((asset.id, second.id))
            added += 1
    session.flush()
    looked_after: dict[int, list[Asset]] = {}
    for asset in assets:
        if asset.contact_id is not None:
            looked_after.setdefault(asset.contact_id, []).append(asset)
    asset_by_id = {asset.id: asset for asset in assets}
    for asset_id, user_id in sorted(named):
        if asset_id in asset_by_id:
            looked_after.setdefault(user_id, []).append(asset_by_id[asset_id])
    existing = set(session.scalars(select(Profile.user_id)))
    for person in people:
        kit = looked_after.get(person.id, [])
        if person.id in existing or not kit:
            continue
        manager = bool(person.managed_schools)
        profile = Profile(
            user_id=person.id,
            role_title=MANAGER_TITLE if manager else rng.choice(TECHNICIAN_TITLES),
            role_visibility=Visibility.EVERYONE,
            specialisms_visibility=Visibility.EVERYONE,
            # A few keep their registrations or their record to their School.
            registrations_visibility=Visibility.SCHOOL if rng.random() < 0.2 else Visibility.EVERYONE,
            assets_visibility=Visibility.EVERYONE,
            record_visibility=Visibility.EVERYONE if rng.random() < 0.3 else Visibility.SCHOOL,
        )
        session.add(profile)
        added += 1
        tags: dict[str, str] = {}
        for asset in kit:
            for word, technique in NAME_TECHNIQUES.items():
                if word in asset.name.casefold():
                    tags.setdefault(tag_key(technique), technique)
            category = asset.category.name if asset.category else ""
            choices = CATEGORY_TECHNIQUES.get(category, ())
            if choices:
                technique = rng.choice(choices)
                tags.setdefault(tag_key(technique), technique)
        for key, name in list(tags.items())[:8]:
            session.add(Specialism(user_id=person.id, name=name, key=key))
            added += 1
        if rng.random() < 0.5:
            title = rng.choice(REGISTRATIONS)
            registered = today - dt.timedelta(days=rng.randint(200, 3000))
            session.add(Registration(user_id=person.id, title=title, registered_on=registered))
            added += 1
    session.flush()
    return added
