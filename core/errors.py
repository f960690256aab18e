"""Domain errors that services raise; views and the API translate them in one place each."""

from __future__ import annotations


class DomainError(Exception):
    """Something the user asked for cannot be done; ``message`` says why, for them."""

    status_code = 400

    def __init__(self, message: str = "") -> None:
        super().__init__(message)
        self.message = message


class NotAllowed(DomainError):
    status_code = 403

    def __init__(self, message: str = "You are not allowed to do that.") -> None:
        super().__init__(message)


class NotFound(DomainError):
    status_code = 404

    def __init__(self, message: str = "Not found.") -> None:
        super().__init__(message)


class InvalidInput(DomainError):
    """Input that breaks a rule; ``field_errors`` maps a field name to its messages."""

    status_code = 422

    def __init__(self, message: str = "", field_errors: dict[str, list[str]] | None = None) -> None:
        super().__init__(message or "Please correct the errors below.")
        self.field_errors = field_errors or {}


class StaleVersion(DomainError):
    """An edit made against an older version of something that has changed since: refused, so
    that it cannot silently undo a change its author never saw. ``current_version`` is the
    version now; ``changes`` says (for people) what changed, where the caller could tell."""

    status_code = 412

    def __init__(self, message: str, current_version: int, changes: list[str] | None = None) -> None:
        super().__init__(message)
        self.current_version = current_version
        self.changes = changes or []
