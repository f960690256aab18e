"""The audit log: who changed what, when, for every audited object.

Models opt in with the ``Audited`` mixin. A session hook writes one ``AuditEntry`` per inserted,
updated or deleted object in the same transaction as the change itself, so no change can be
committed without its audit row and no audit row survives a rolled-back change. The actor comes
from ``session.info["actor_id"]``, which ``db.atomic(session, actor)`` sets.
"""

from __future__ import annotations

import datetime as dt
import decimal
import enum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, event, insert, inspect
from sqlalchemy.orm import Mapped, Session, mapped_column

from core.db import Base, utcnow


class AuditEntry(Base):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    object_type: Mapped[str] = mapped_column(String(40))
    object_id: Mapped[int]
    action: Mapped[str] = mapped_column(String(20))  # created, updated, deleted
    changes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    __table_args__ = (Index("ix_audit_log_object", "object_type", "object_id", "at"),)


class Audited:
    """Mixin: changes to this model are written to the audit log.

    ``__audit_type__`` names the object in the log. A dependent row (an asset's bookable hours)
    sets ``audit_target()`` to log against its parent instead.
    """

    __audit_type__: str = ""
    # The row's own id is the entry's object_id already.
    __audit_exclude__: frozenset[str] = frozenset({"id", "updated_at"})

    def audit_target(self) -> tuple[str, int]:
        return self.__audit_type__, self.id  # type: ignore[attr-defined]

    def audit_label(self) -> str:
        """Prefix for field names when a dependent row logs against its parent."""
        return ""


def _plain(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


def _column_changes(obj: Any, action: str) -> dict[str, Any]:
    state = inspect(obj)
    changes: dict[str, Any] = {}
    label = obj.audit_label()
    for column_attr in state.mapper.column_attrs:
        key = column_attr.key
        if key in obj.__audit_exclude__ or (label and key == "asset_id"):  # a dependent names its parent
            continue
        history = state.attrs[key].history
        if action == "created":
            value = getattr(obj, key)
            if value is not None:
                changes[key] = [None, _plain(value)]
        elif action == "deleted":
            value = (
                history.unchanged[0]
                if history.unchanged
                else (history.deleted[0] if history.deleted else None)
            )
            changes[key] = [_plain(value), None]
        elif history.has_changes():
            old = history.deleted[0] if history.deleted else None
            new = history.added[0] if history.added else None
            if old != new:
                changes[key] = [_plain(old), _plain(new)]
    if label:
        changes = {f"{label}.{k}": v for k, v in changes.items()}
    return changes


@event.listens_for(Session, "after_flush")
def _write_audit_rows(session: Session, _flush_context: Any) -> None:
    rows: list[dict[str, Any]] = []
    now = utcnow()
    actor_id = session.info.get("actor_id")
    # A parent created in this flush is logged as created; its new dependent rows (an asset's
    # opening hours) are part of that, not separate changes.
    created_here = {
        obj.audit_target() for obj in session.new if isinstance(obj, Audited) and not obj.audit_label()
    }
    for action, objects in (
        ("created", session.new),
        ("updated", session.dirty),
        ("deleted", session.deleted),
    ):
        for obj in objects:
            if not isinstance(obj, Audited):
                continue
            if action == "updated" and not session.is_modified(obj, include_collections=False):
                continue
            object_type, object_id = obj.audit_target()
            if action == "created" and obj.audit_label() and (object_type, object_id) in created_here:
                continue
            changes = _column_changes(obj, action)
            if action == "updated" and not changes:
                continue
            if obj.audit_label() and action != "updated":
                action_name = "updated"  # adding a dependent row changes its parent
            else:
                action_name = action
            rows.append(
                {
                    "at": now,
                    "actor_id": actor_id,
                    "object_type": object_type,
                    "object_id": object_id,
                    "action": action_name,
                    "changes": changes,
                }
            )
    if rows:
        session.connection().execute(insert(AuditEntry), rows)
