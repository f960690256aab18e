"""Rules of the register: Schools and their locations. The inventory issue adds assets here."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from accounts.models import Role, User
from accounts.permissions import require_role, require_school_manager
from errors import InvalidInput, NotFound
from inventory.models import Location, School


def list_schools(session: Session) -> list[School]:
    return list(session.scalars(select(School).order_by(School.name)))


def get_school(session: Session, school_id: int) -> School:
    school = session.scalar(
        select(School).options(selectinload(School.locations)).where(School.id == school_id)
    )
    if school is None:
        raise NotFound("There is no such School.")
    return school


def create_school(session: Session, actor: User, code: str, name: str) -> School:
    """Admins add Schools. Codes and names are unique (the database guarantees it too)."""
    require_role(actor, Role.ADMIN)
    code, name = code.strip().upper(), name.strip()
    errors: dict[str, list[str]] = {}
    if not code or len(code) > 20 or not code.replace("-", "").isalnum():
        errors["code"] = ["Use 1 to 20 letters, digits or hyphens, such as CHEM."]
    elif session.scalar(select(School.id).where(func.upper(School.code) == code)):
        errors["code"] = [f"There is already a School with the code {code}."]
    if not name:
        errors["name"] = ["Enter the School's name."]
    elif session.scalar(select(School.id).where(func.lower(School.name) == name.lower())):
        errors["name"] = ["There is already a School with that name."]
    if errors:
        raise InvalidInput(field_errors=errors)
    school = School(code=code, name=name)
    session.add(school)
    session.flush()
    return school


def add_location(session: Session, actor: User, school: School, site: str, building: str, room: str) -> Location:
    """A manager of the School (or an admin) adds a room where its equipment lives."""
    require_school_manager(actor, school.id)
    site, building, room = site.strip() or "Main campus", building.strip(), room.strip()
    errors: dict[str, list[str]] = {}
    if not building:
        errors["building"] = ["Enter the building."]
    if not room:
        errors["room"] = ["Enter the room."]
    if not errors and session.scalar(
        select(Location.id).where(
            Location.school_id == school.id,
            func.lower(Location.building) == building.lower(),
            func.lower(Location.room) == room.lower(),
        )
    ):
        errors["room"] = [f"{building}, {room} is already one of this School's locations."]
    if errors:
        raise InvalidInput(field_errors=errors)
    location = Location(school=school, site=site, building=building, room=room)
    session.add(location)
    session.flush()
    return location
