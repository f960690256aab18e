"""Keeping an uploaded file between its preview and its confirmation, on disk, for its uploader only."""

from __future__ import annotations

import datetime as dt
import json
import re
import secrets
import time
from pathlib import Path

from core.errors import InvalidInput, NotAllowed, NotFound
from inventory.transfer.columns import UPLOAD_SUFFIXES

_TOKEN = re.compile(r"^[A-Za-z0-9_-]{20,64}$")
#: How long a previewed upload waits for its confirmation; the scheduler removes older ones.
UPLOAD_LIFETIME = dt.timedelta(hours=24)


def upload_folder(instance_path: str | Path) -> Path:
    """Where uploads wait between preview and confirmation (and SQLite imports keep progress)."""
    return Path(instance_path) / "imports"


def save_upload(directory: str | Path, user_id: int, school_id: int, filename: str, content: bytes) -> str:
    """Keep an uploaded file until it is confirmed; returns the token that names it.

    A sidecar JSON records who uploaded it for which School, so only they can confirm it.
    Uploads never confirmed are removed after ``UPLOAD_LIFETIME`` (by the scheduler, and on the way).
    """
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    remove_abandoned_uploads(folder)
    suffix = Path(filename).suffix.lower().lstrip(".")
    if suffix not in UPLOAD_SUFFIXES:
        raise InvalidInput("Only .csv and .xlsx files can be imported.")
    token = secrets.token_urlsafe(24)
    (folder / f"{token}.{suffix}").write_bytes(content)
    meta = {
        "user_id": user_id,
        "school_id": school_id,
        "filename": Path(filename).name[:200],
        "suffix": suffix,
    }
    (folder / f"{token}.json").write_text(json.dumps(meta), encoding="utf-8")
    return token


def load_upload(directory: str | Path, token: str, user_id: int, school_id: int) -> tuple[str, bytes]:
    """The (filename, content) saved under ``token`` by this person for this School.

    Raises NotFound for a malformed, unknown or expired token, NotAllowed for someone else's.
    """
    gone = NotFound("That upload has expired or was already imported. Upload the file again.")
    if not isinstance(token, str) or not _TOKEN.match(token):
        raise gone
    folder = Path(directory)
    try:
        meta = json.loads((folder / f"{token}.json").read_text(encoding="utf-8"))
        suffix = meta["suffix"]
        if suffix not in UPLOAD_SUFFIXES:
            raise gone
        path = folder / f"{token}.{suffix}"
        if time.time() - path.stat().st_mtime > UPLOAD_LIFETIME.total_seconds():
            raise gone
        if meta["user_id"] != user_id or meta["school_id"] != school_id:
            raise NotAllowed("That upload belongs to someone else, or to another School.")
        return meta["filename"], path.read_bytes()
    except (OSError, ValueError, KeyError, TypeError):
        raise gone from None


def discard_upload(directory: str | Path, token: str) -> None:
    """Remove an upload and its sidecar (nothing happens for a malformed or unknown token)."""
    if not isinstance(token, str) or not _TOKEN.match(token):
        return
    for path in Path(directory).glob(f"{token}.*"):
        if path.name.removeprefix(token) in (".json", *(f".{s}" for s in UPLOAD_SUFFIXES)):
            path.unlink(missing_ok=True)


def remove_abandoned_uploads(directory: str | Path, now: float | None = None) -> int:
    """Remove uploads previewed but never confirmed within ``UPLOAD_LIFETIME``; returns how many
    files went. (A confirmed upload moves into its import job at once.)"""
    folder = Path(directory)
    if not folder.is_dir():
        return 0
    cutoff = (time.time() if now is None else now) - UPLOAD_LIFETIME.total_seconds()
    removed = 0
    for path in folder.iterdir():
        try:
            if path.is_file() and path.stat().st_mtime < cutoff:
                path.unlink()
                removed += 1
        except OSError:
            pass  # another worker removed it first
    return removed
