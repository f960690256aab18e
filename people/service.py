"""Profiles and finding an expert: who may see which part of whose profile, and the search.

One rule decides visibility everywhere (``may_see``): a person's own School (its members and
managers), the person and the administrators see every part; anyone else signed in sees a part
only when the person chose "everyone signed in" for it. Pages, search, downloads and the API
all build people through ``person_view``, so a hidden part is simply never there to show.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, joinedload

from accounts.models import User
from core.db import atomic
from core.errors import InvalidInput, NotAllowed, NotFound
from inventory.models import WITHDRAWN_STATUSES, Asset, AssetTechnician, School
from people.models import (
    DEFAULT_VISIBILITY,
    PARTS,
    Profile,
    Registration,
    RegistrationTitle,
    Specialism,
    Visibility,
)

MAX_SPECIALISMS = 20
MAX_TAG_LENGTH = 80
MAX_ROLE_TITLE = 200
MAX_QUERY = 200
_SPACES = re.compile(r"\s+")


def tag_key(name: str) -> str:
    """A specialism as compared: spaces collapsed, lower case ("Confocal  Microscopy" ==
    "confocal microscopy")."""
    return _SPACES.sub(" ", name).strip().casefold()


# --- Who sees what ------------------------------------------------------------------------------


def same_school(viewer: User, person: User) -> bool:
    """The viewer is of the person's School (a member or one of its managers), is the person, or
    is an administrator: they see every part of the profile."""
    if viewer.id == person.id or viewer.is_admin:
        return True
    school_id = person.home_school_id
    return school_id is not None and (
        viewer.home_school_id == school_id or school_id in viewer.managed_school_ids
    )


def may_see(viewer: User, person: User, profile: Profile | None, part: str) -> bool:
    """Whether ``viewer`` may see ``part`` (one of ``PARTS``) of ``person``'s profile."""
    if same_school(viewer, person):
        return True
    visibility = profile.visibility(part) if profile is not None else DEFAULT_VISIBILITY[part]
    return visibility == Visibility.EVERYONE


def may_edit(viewer: User, person: User) -> bool:
    """A person edits their own profile; an administrator edits anyone's."""
    return viewer.id == person.id or viewer.is_admin


# --- What a viewer sees of a person -------------------------------------------------------------


@dataclass
class PersonView:
    """A person as one viewer may see them: a part the viewer may not see is None."""

    user: User
    school: School | None
    role_title: str | None
    specialisms: list[str] | None
    registrations: list[Registration] | None
    assets: list[Asset] | None
    record_visible: bool
    profile: Profile | None = None
    visible_parts: set[str] = field(default_factory=set)


def assets_looked_after(session: Session, user_ids: list[int]) -> dict[int, list[Asset]]:
    """Each person's assets in use (not retired or disposed of) of which they are the contact or
    a named technician, by name."""
    result: dict[int, list[Asset]] = {user_id: [] for user_id in user_ids}
    if not user_ids:
        return result
    live = Asset.status.not_in(WITHDRAWN_STATUSES)
    options = (joinedload(Asset.school), joinedload(Asset.category))
    for asset in session.scalars(select(Asset).options(*options).where(Asset.contact_id.in_(user_ids), live)):
        result[asset.contact_id].append(asset)  # type: ignore[index]
    rows = session.execute(
        select(AssetTechnician.user_id, Asset)
        .join(Asset, Asset.id == AssetTechnician.asset_id)
        .options(*options)
        .where(AssetTechnician.user_id.in_(user_ids), live)
    ).all()
    for user_id, asset in rows:
        if asset not in result[user_id]:
            result[user_id].append(asset)
    for assets in result.values():
        assets.sort(key=lambda a: (a.name.casefold(), a.id))
    return result


def people_views(session: Session, viewer: User, people: list[User]) -> list[PersonView]:
    ids = [person.id for person in people]
    profiles = (
        {p.user_id: p for p in session.scalars(select(Profile).where(Profile.user_id.in_(ids)))}
        if ids
        else {}
    )
    tags: dict[int, list[str]] = {i: [] for i in ids}
    registrations: dict[int, list[Registration]] = {i: [] for i in ids}
    if ids:
        for tag in session.scalars(
            select(Specialism).where(Specialism.user_id.in_(ids)).order_by(Specialism.key)
        ):
            tags[tag.user_id].append(tag.name)
        for registration in session.scalars(
            select(Registration).where(Registration.user_id.in_(ids)).order_by(Registration.registered_on)
        ):
            registrations[registration.user_id].append(registration)
    assets = assets_looked_after(session, ids)
    views = []
    for person in people:
        profile = profiles.get(person.id)
        visible = {part for part in PARTS if may_see(viewer, person, profile, part)}
        views.append(
            PersonView(
                user=person,
                school=person.home_school,
                role_title=(profile.role_title if profile else "") if "role" in visible else None,
                specialisms=tags[person.id] if "specialisms" in visible else None,
                registrations=registrations[person.id] if "registrations" in visible else None,
                assets=assets[person.id] if "assets" in visible else None,
                record_visible="record" in visible,
                profile=profile,
                visible_parts=visible,
            )
        )
    return views


def get_person(session: Session, user_id: int) -> User:
    person = session.get(User, user_id)
    if person is None or not person.active:
        raise NotFound("No such person.")
    return person


def person_view(session: Session, viewer: User, user_id: int) -> PersonView:
    """What ``viewer`` may see of the person ``user_id`` (NotFound: nobody active has that id)."""
    return people_views(session, viewer, [get_person(session, user_id)])[0]


# --- Finding an expert --------------------------------------------------------------------------


@dataclass(frozen=True)
class ExpertQuery:
    """What a search asks for; every part is optional and all the given parts must hold."""

    q: str = ""
    technique: str = ""
    asset_id: int | None = None
    category_id: int | None = None
    school_id: int | None = None

    def check(self) -> None:
        problems: dict[str, list[str]] = {}
        if len(self.q) > MAX_QUERY:
            problems["q"] = [f"Search for at most {MAX_QUERY} characters."]
        if len(self.technique) > MAX_TAG_LENGTH:
            problems["technique"] = [f"A technique has at most {MAX_TAG_LENGTH} characters."]
        if problems:
            raise InvalidInput(field_errors=problems)


def _candidates(session: Session, query: ExpertQuery) -> list[User]:
    """People who have said something about their work or look after equipment, narrowed in SQL
    by what does not depend on visibility (their School)."""
    has_profile = select(Profile.user_id)
    has_tag = select(Specialism.user_id)
    is_contact = select(Asset.contact_id).where(
        Asset.contact_id.is_not(None), Asset.status.not_in(WITHDRAWN_STATUSES)
    )
    is_technician = select(AssetTechnician.user_id)
    statement = (
        select(User)
        .options(joinedload(User.home_school))
        .where(
            User.active.is_(True),
            or_(
                User.id.in_(has_profile),
                User.id.in_(has_tag),
                User.id.in_(is_contact),
                User.id.in_(is_technician),
            ),
        )
        .order_by(User.name, User.id)
    )
    if query.school_id is not None:
        statement = statement.where(User.home_school_id == query.school_id)
    return list(session.scalars(statement).unique())


def _matches(view: PersonView, query: ExpertQuery) -> bool:
    """Whether the visible parts of a person answer the query (a hidden part never matches)."""
    assets = view.assets or []
    tags = [tag_key(t) for t in view.specialisms or []]
    if query.technique and tag_key(query.technique) not in tags:
        return False
    if query.asset_id is not None and not any(a.id == query.asset_id for a in assets):
        return False
    if query.category_id is not None and not any(a.category_id == query.category_id for a in assets):
        return False
    if query.q:
        haystack = " ".join(
            [view.user.name, view.role_title or "", *tags]
            + [
                f"{a.name} {a.tag} {a.manufacturer} {a.model} {a.category.name if a.category else ''}"
                for a in assets
            ]
        ).casefold()
        if not all(word in haystack for word in query.q.casefold().split()):
            return False
    return True


def find_experts(session: Session, viewer: User, query: ExpertQuery) -> list[PersonView]:
    """The people whose visible profile answers ``query``, by name. What the viewer may not see
    of a person is neither matched nor shown."""
    query.check()
    views = people_views(session, viewer, _candidates(session, query))
    return [view for view in views if _matches(view, query)]


def specialism_suggestions(session: Session, viewer: User, limit: int = 200) -> list[str]:
    """Specialisms others use that the viewer may see, most used first: the suggestions beside
    the tag fields and the technique filter."""
    rows = session.execute(
        select(Specialism, User).join(User, User.id == Specialism.user_id).where(User.active.is_(True))
    ).all()
    profiles = {p.user_id: p for p in session.scalars(select(Profile))}
    counts: dict[str, int] = {}
    names: dict[str, str] = {}
    for tag, person in rows:
        if may_see(viewer, person, profiles.get(person.id), "specialisms"):
            counts[tag.key] = counts.get(tag.key, 0) + 1
            names.setdefault(tag.key, tag.name)
    ordered = sorted(counts, key=lambda key: (-counts[key], key))
    return [names[key] for key in ordered[:limit]]


# --- Editing a profile --------------------------------------------------------------------------


@dataclass
class ProfileInput:
    role_title: str = ""
    specialisms: list[str] = field(default_factory=list)
    registrations: list[tuple[RegistrationTitle, dt.date]] = field(default_factory=list)
    visibility: dict[str, Visibility] = field(default_factory=dict)


def parse_tags(text: str) -> list[str]:
    """Tags typed one a line or separated by commas, each once (by ``tag_key``), in order."""
    seen: set[str] = set()
    tags = []
    for piece in re.split(r"[,\n;]", text or ""):
        name = _SPACES.sub(" ", piece).strip()
        if name and tag_key(name) not in seen:
            seen.add(tag_key(name))
            tags.append(name)
    return tags


def save_profile(session: Session, actor: User, person: User, data: ProfileInput) -> Profile:
    """Replace the person's profile with ``data``, in one unit of work. Only the person or an
    administrator may."""
    if not may_edit(actor, person):
        raise NotAllowed("Only the person themselves or an administrator can change a profile.")
    problems: dict[str, list[str]] = {}
    title = _SPACES.sub(" ", data.role_title or "").strip()
    if len(title) > MAX_ROLE_TITLE:
        problems["role_title"] = [f"A role title has at most {MAX_ROLE_TITLE} characters."]
    if len(data.specialisms) > MAX_SPECIALISMS:
        problems["specialisms"] = [f"Name at most {MAX_SPECIALISMS} specialisms."]
    elif any(len(tag) > MAX_TAG_LENGTH for tag in data.specialisms):
        problems["specialisms"] = [f"Each specialism has at most {MAX_TAG_LENGTH} characters."]
    titles = [title_ for title_, _ in data.registrations]
    if len(set(titles)) != len(titles):
        problems["registrations"] = ["Give each registration once."]
    if problems:
        raise InvalidInput(field_errors=problems)
    with atomic(session, actor):
        profile = session.get(Profile, person.id)
        if profile is None:
            profile = Profile(user_id=person.id)
            session.add(profile)
        profile.role_title = title
        for part in PARTS:
            setattr(profile, f"{part}_visibility", data.visibility.get(part, DEFAULT_VISIBILITY[part]))
        for old in session.scalars(select(Specialism).where(Specialism.user_id == person.id)):
            session.delete(old)
        for old_registration in session.scalars(
            select(Registration).where(Registration.user_id == person.id)
        ):
            session.delete(old_registration)
        session.flush()
        for name in data.specialisms:
            session.add(Specialism(user_id=person.id, name=name, key=tag_key(name)))
        for reg_title, registered_on in data.registrations:
            session.add(Registration(user_id=person.id, title=reg_title, registered_on=registered_on))
    return profile


def _technician_problem(
    session: Session, asset_id: int | None, user_id: int | None, school_id: int
) -> tuple[Asset, User]:
    problems: dict[str, list[str]] = {}
    asset = session.get(Asset, asset_id) if asset_id else None
    if asset is None or asset.school_id != school_id:
        problems["asset_id"] = ["Choose one of the School's assets."]
    person = session.get(User, user_id) if user_id else None
    if person is None or not person.active:
        problems["user_id"] = ["Choose an active person."]
    if problems:
        raise InvalidInput(
            " ".join(m for messages in problems.values() for m in messages), field_errors=problems
        )
    return asset, person  # type: ignore[return-value]


def name_school_technician(
    session: Session, actor: User, school_id: int, asset_id: int | None, user_id: int | None
) -> AssetTechnician:
    """A manager of the School (or an administrator) names a further technician of one of the
    School's assets; naming someone twice, or naming its contact, is said, not stored twice."""
    if not actor.manages(school_id):
        raise NotAllowed("Only a manager of the School can name its technicians.")
    asset, person = _technician_problem(session, asset_id, user_id, school_id)
    if asset.contact_id == person.id:
        raise InvalidInput(f"{person.name} is already the contact of {asset.name}.")
    if session.get(AssetTechnician, (asset.id, person.id)) is not None:
        raise InvalidInput(f"{person.name} is already named for {asset.name}.")
    with atomic(session, actor):
        row = AssetTechnician(asset_id=asset.id, user_id=person.id)
        session.add(row)
    return row


def remove_school_technician(
    session: Session, actor: User, school_id: int, asset_id: int | None, user_id: int | None
) -> None:
    """A manager of the School (or an administrator) takes a named technician off an asset."""
    if not actor.manages(school_id):
        raise NotAllowed("Only a manager of the School can name its technicians.")
    asset = session.get(Asset, asset_id) if asset_id else None
    row = session.get(AssetTechnician, (asset_id, user_id)) if asset_id and user_id else None
    if asset is None or asset.school_id != school_id or row is None:
        raise InvalidInput("That person is not a named technician of that asset.")
    with atomic(session, actor):
        session.delete(row)
