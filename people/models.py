"""A person's profile: role title, specialisms, professional registrations, the assets they look
after beyond being an asset's contact, and who may see each part beyond their own School."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import Date, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from accounts.models import User
from core.db import Base, str_enum, utcnow


class Visibility(enum.StrEnum):
    """Who beyond the person's own School sees a part of their profile. Their School, its
    managers and the administrators always do."""

    EVERYONE = "everyone"  # everyone signed in
    SCHOOL = "school"  # only the person's School

    @property
    def label(self) -> str:
        return {"everyone": "Everyone signed in", "school": "Only my School"}[self.value]


#: The parts of a profile a person can hide beyond their School, with what each shows.
PARTS: dict[str, str] = {
    "role": "Role title",
    "specialisms": "Specialisms and techniques",
    "registrations": "Professional registrations",
    "assets": "Equipment I look after",
    "record": "Contribution record",
}


class RegistrationTitle(enum.StrEnum):
    """Professional registration titles a technician may hold (Science Council and others)."""

    REGTECH = "RegTech"
    RSCITECH = "RSciTech"
    RSCI = "RSci"
    CSCI = "CSci"
    CENG = "CEng"
    IENG = "IEng"
    ENGTECH = "EngTech"
    OTHER = "Other"


class Profile(Base):
    """What a person tells others about their work. A person without a row has the defaults:
    no role title, nothing registered, every part visible to everyone but the record."""

    __tablename__ = "people_profiles"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    role_title: Mapped[str] = mapped_column(String(200), default="")
    role_visibility: Mapped[Visibility] = mapped_column(
        str_enum(Visibility, "role_visibility"), default=Visibility.EVERYONE
    )
    specialisms_visibility: Mapped[Visibility] = mapped_column(
        str_enum(Visibility, "specialisms_visibility"), default=Visibility.EVERYONE
    )
    registrations_visibility: Mapped[Visibility] = mapped_column(
        str_enum(Visibility, "registrations_visibility"), default=Visibility.EVERYONE
    )
    assets_visibility: Mapped[Visibility] = mapped_column(
        str_enum(Visibility, "assets_visibility"), default=Visibility.EVERYONE
    )
    record_visibility: Mapped[Visibility] = mapped_column(
        str_enum(Visibility, "record_visibility"), default=Visibility.SCHOOL
    )
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    user: Mapped[User] = relationship()

    def visibility(self, part: str) -> Visibility:
        return getattr(self, f"{part}_visibility") or DEFAULT_VISIBILITY[part]


DEFAULT_VISIBILITY = {
    "role": Visibility.EVERYONE,
    "specialisms": Visibility.EVERYONE,
    "registrations": Visibility.EVERYONE,
    "assets": Visibility.EVERYONE,
    "record": Visibility.SCHOOL,
}


class Specialism(Base):
    """A specialism or technique a person offers (a free tag: "confocal microscopy"). ``key`` is
    the tag folded to lower case, so "NMR" and "nmr" are one tag, once per person."""

    __tablename__ = "people_specialisms"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    key: Mapped[str] = mapped_column(String(80), index=True)

    __table_args__ = (UniqueConstraint("user_id", "key", name="uq_people_specialisms_user_key"),)


class Registration(Base):
    """A professional registration a person holds, and since when."""

    __tablename__ = "people_registrations"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    title: Mapped[RegistrationTitle] = mapped_column(str_enum(RegistrationTitle, "registration_title"))
    registered_on: Mapped[dt.date] = mapped_column(Date)

    __table_args__ = (UniqueConstraint("user_id", "title", name="uq_people_registrations_user_title"),)
