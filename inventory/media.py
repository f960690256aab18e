"""Asset photos and printable QR labels.

Photos: a manager uploads one photo per asset. Kitshare never keeps what was uploaded: it decodes
the file with Pillow (JPEG, PNG, WebP or GIF only), turns it upright, scales it down and writes a
fresh JPEG and a thumbnail. Re-encoding drops EXIF (camera, GPS position), comments and anything
smuggled after the image data, so what is served is only ever pixels.

Files live in ``<instance_path>/uploads/assets/`` as ``<asset id>-<random hex>.jpg`` and
``...-thumb.jpg``; ``Asset.photo_filename`` holds the first name. A new name on every upload means
the database and the disk never disagree: the new files are written before the transaction
commits (and removed again if it rolls back), the replaced ones are removed only after it commits.

Labels: an A4 sheet of 21 labels (3 x 7, 63.5 x 38.1 mm, the common L7160 layout), each with a QR
code that opens the asset's page, where the Book button is.
"""

from __future__ import annotations

import io
import math
import re
import secrets
import warnings
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any

from PIL import Image, ImageOps
from reportlab.graphics import renderPDF
from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session, joinedload

from accounts.models import User
from accounts.permissions import require_school_manager
from core.config import Config
from core.db import atomic
from core.errors import InvalidInput, NotFound
from inventory.models import WITHDRAWN_STATUSES, Asset, Category, School

# --- Photos -----------------------------------------------------------------------------------

#: The default upload limit; the KITSHARE_PHOTO_MAX_BYTES setting overrides it.
DEFAULT_PHOTO_MAX_BYTES = Config.KITSHARE_PHOTO_MAX_BYTES  # the default lives in core.config
#: Decoding needs about 3 bytes a pixel, so a small file that claims to be huge (a
#: "decompression bomb") is refused before it is decoded. 40 MP covers phones and cameras.
MAX_PHOTO_PIXELS = 40_000_000
PHOTO_LONG_SIDE = 1600
THUMBNAIL_LONG_SIDE = 400
JPEG_QUALITY = 85
ACCEPTED_FORMATS = ("JPEG", "PNG", "WEBP", "GIF")
PHOTO_FOLDER = ("uploads", "assets")

NOT_A_PHOTO = "That file is not a photo Kitshare can read (use JPEG, PNG, WebP or GIF)."
TOO_MANY_PIXELS = (
    f"That photo has too many pixels for Kitshare (more than {MAX_PHOTO_PIXELS // 1_000_000} "
    "megapixels). Export it at a smaller size and upload it again."
)

# session.info keys: files to remove once the transaction commits, or if it rolls back.
_REMOVE_ON_COMMIT = "kitshare_media_remove_on_commit"
_REMOVE_ON_ROLLBACK = "kitshare_media_remove_on_rollback"


def photo_folder(instance_path: str | Path) -> Path:
    """Where asset photos are stored."""
    return Path(instance_path).joinpath(*PHOTO_FOLDER)


def thumbnail_filename(photo_filename: str) -> str:
    """``12-ab34.jpg`` -> ``12-ab34-thumb.jpg``."""
    stem = photo_filename.removesuffix(".jpg")
    return f"{stem}-thumb.jpg"


def format_size(size_bytes: int) -> str:
    """A byte count as people read it: 5242880 -> '5 MB', 2000 -> '2 KB'."""
    if size_bytes >= 1024 * 1024:
        return f"{size_bytes / (1024 * 1024):g} MB"
    if size_bytes >= 1024:
        return f"{size_bytes // 1024} KB"
    return f"{size_bytes} bytes"


def save_photo(
    session: Session,
    actor: User,
    asset: Asset,
    upload: bytes | IO[bytes] | Any,
    instance_path: str | Path,
    max_bytes: int = DEFAULT_PHOTO_MAX_BYTES,
) -> str:
    """Make ``upload`` the asset's photo; return the stored file name.

    Only a manager of the asset's School (or an admin) may. The file must be at most ``max_bytes``
    and be a JPEG, PNG, WebP or GIF image of at most 40 megapixels; it is stored re-encoded as a
    JPEG of at most 1600 px (and a 400 px thumbnail) with no metadata. Any other file is refused
    with InvalidInput on the ``photo`` field. The previous photo's files are removed once the
    transaction commits. A command: its own unit of work (``core/db.py``).
    """
    with atomic(session, actor):
        require_school_manager(actor, asset.school_id)
        data = _read_at_most(upload, max_bytes)
        if not data:
            raise InvalidInput(field_errors={"photo": ["Choose a photo to upload."]})
        if len(data) > max_bytes:
            raise InvalidInput(
                field_errors={
                    "photo": [
                        f"The photo is larger than {format_size(max_bytes)}. Choose a smaller one, or "
                        "export it from your phone or camera at a lower resolution."
                    ]
                }
            )
        photo = _decode_photo(data)
        thumbnail = photo.copy()
        thumbnail.thumbnail((THUMBNAIL_LONG_SIDE, THUMBNAIL_LONG_SIDE), Image.Resampling.LANCZOS)

        folder = photo_folder(instance_path)
        folder.mkdir(parents=True, exist_ok=True)
        filename = f"{asset.id}-{secrets.token_hex(8)}.jpg"
        new_files = [folder / filename, folder / thumbnail_filename(filename)]
        _remove_if_rolled_back(session, new_files)
        for image, path in zip((photo, thumbnail), new_files):
            _write_jpeg(image, path)

        previous = asset.photo_filename
        asset.photo_filename = filename
        session.flush()
        if previous:
            _remove_once_committed(session, _photo_files(folder, previous))
        return filename


def remove_photo(session: Session, actor: User, asset: Asset, instance_path: str | Path) -> bool:
    """Take the asset's photo away (managers of its School and admins). Its files are removed once
    the transaction commits. Returns False when the asset had no photo. A command: its own
    unit of work (``core/db.py``)."""
    with atomic(session, actor):
        require_school_manager(actor, asset.school_id)
        if not asset.photo_filename:
            return False
        previous = asset.photo_filename
        asset.photo_filename = None
        session.flush()
        _remove_once_committed(session, _photo_files(photo_folder(instance_path), previous))
        return True


def _read_at_most(upload: bytes | IO[bytes] | Any, max_bytes: int) -> bytes:
    """The upload's bytes, reading one byte past the limit at most (so a huge file costs nothing)."""
    if isinstance(upload, (bytes, bytearray)):
        return bytes(upload)
    stream = getattr(upload, "stream", upload)  # a werkzeug FileStorage, or a file object
    return stream.read(max_bytes + 1) or b""


def _decode_photo(data: bytes) -> Image.Image:
    """Decode an untrusted file into a clean, upright RGB image of at most PHOTO_LONG_SIDE px."""
    with warnings.catch_warnings():
        # Pillow warns (rather than fails) for images a little over its own pixel limit.
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(io.BytesIO(data), formats=ACCEPTED_FORMATS) as probe:
                if probe.width * probe.height > MAX_PHOTO_PIXELS:
                    raise InvalidInput(field_errors={"photo": [TOO_MANY_PIXELS]})
                probe.verify()  # structure and checksums; the image must be opened again after
            with Image.open(io.BytesIO(data), formats=ACCEPTED_FORMATS) as image:
                if image.format == "JPEG" and max(image.size) > PHOTO_LONG_SIDE:
                    # Let the JPEG decoder scale down while decoding, to spare memory.
                    scale = PHOTO_LONG_SIDE / max(image.size)
                    image.draft("RGB", (math.ceil(image.width * scale), math.ceil(image.height * scale)))
                image.load()  # the first frame of an animated GIF
                upright = ImageOps.exif_transpose(image)
                photo = _flatten_to_rgb(upright)
        except InvalidInput:
            raise
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise InvalidInput(field_errors={"photo": [TOO_MANY_PIXELS]}) from None
        except Exception:  # noqa: BLE001 - anything Pillow cannot decode is not a photo to us
            raise InvalidInput(field_errors={"photo": [NOT_A_PHOTO]}) from None
    photo.thumbnail((PHOTO_LONG_SIDE, PHOTO_LONG_SIDE), Image.Resampling.LANCZOS)
    photo.info = {}  # no comment, EXIF or ICC block may ride along into the new file
    return photo


def _flatten_to_rgb(image: Image.Image) -> Image.Image:
    """RGB, with any transparency laid on white (JPEG has no alpha; black would hide the kit)."""
    has_alpha = image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info)
    if not has_alpha:
        return image.convert("RGB")
    rgba = image.convert("RGBA")
    flat = Image.new("RGB", rgba.size, "white")
    flat.paste(rgba, mask=rgba.getchannel("A"))
    return flat


def _write_jpeg(image: Image.Image, path: Path) -> None:
    try:
        image.save(path, "JPEG", quality=JPEG_QUALITY, optimize=True, progressive=True)
    except BaseException:
        path.unlink(missing_ok=True)
        raise


def _photo_files(folder: Path, photo_filename: str) -> list[Path]:
    return [folder / photo_filename, folder / thumbnail_filename(photo_filename)]


def _remove_once_committed(session: Session, paths: Iterable[Path]) -> None:
    session.info.setdefault(_REMOVE_ON_COMMIT, []).extend(paths)


def _remove_if_rolled_back(session: Session, paths: Iterable[Path]) -> None:
    session.info.setdefault(_REMOVE_ON_ROLLBACK, []).extend(paths)


def _unlink_all(paths: Iterable[Path]) -> None:
    for path in paths:
        try:
            path.unlink(missing_ok=True)
        except OSError:
            pass  # a file we cannot remove is an orphan on disk, never a broken page


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    _unlink_all(session.info.pop(_REMOVE_ON_COMMIT, []))
    session.info.pop(_REMOVE_ON_ROLLBACK, None)


@event.listens_for(Session, "after_soft_rollback")
def _after_rollback(session: Session, previous_transaction: Any) -> None:
    if previous_transaction.parent is not None:
        return  # a savepoint: the outer transaction may still commit
    _unlink_all(session.info.pop(_REMOVE_ON_ROLLBACK, []))
    session.info.pop(_REMOVE_ON_COMMIT, None)


# --- Labels -----------------------------------------------------------------------------------

LABEL_COLUMNS, LABEL_ROWS = 3, 7
LABELS_PER_SHEET = LABEL_COLUMNS * LABEL_ROWS
LABEL_WIDTH, LABEL_HEIGHT = 63.5 * mm, 38.1 * mm
SHEET_TOP_MARGIN, SHEET_LEFT_MARGIN = 15.15 * mm, 7.25 * mm
COLUMN_PITCH, ROW_PITCH = 66.04 * mm, 38.1 * mm
QR_SIZE = 30 * mm
LABEL_PADDING = 2.5 * mm
TEXT_GAP = 1.5 * mm
PDF_TITLE = "Kitshare asset labels"


def label_target_url(base_url: str, asset: Asset) -> str:
    """What a label's QR code opens: the asset's page, where the Book button is."""
    return f"{base_url.rstrip('/')}/assets/{asset.id}"


def parse_tags(text: str) -> list[str]:
    """'CHEM-1, CHEM-2' (commas or new lines) -> ['CHEM-1', 'CHEM-2'], without repeats."""
    tags: list[str] = []
    for part in re.split(r"[,\n\r]+", text or ""):
        tag = part.strip()
        if tag and tag.upper() not in (t.upper() for t in tags):
            tags.append(tag)
    return tags


def assets_for_labels(
    session: Session,
    actor: User,
    school_id: int,
    category_id: int | None = None,
    tags: list[str] | None = None,
) -> tuple[School, list[Asset]]:
    """The assets to print labels for, in tag order, and their School.

    Managers print for the Schools they manage, admins for any. Without tags: every asset of the
    School (of the category, if one is given) that is not retired. With tags: exactly those assets,
    retired or not; a tag that is not on the School's register is refused by name.
    """
    require_school_manager(actor, school_id)
    school = session.get(School, school_id)
    if school is None:
        raise NotFound("There is no such School.")
    query = (
        select(Asset)
        .options(joinedload(Asset.school))
        .where(Asset.school_id == school.id)
        .order_by(Asset.tag)
    )
    if category_id:
        if session.get(Category, category_id) is None:
            raise InvalidInput(field_errors={"category": ["Choose one of the categories."]})
        query = query.where(Asset.category_id == category_id)
    if tags:
        wanted = {tag.upper(): tag for tag in tags}
        assets = list(session.scalars(query.where(func.upper(Asset.tag).in_(wanted))))
        found = {asset.tag.upper() for asset in assets}
        missing = [tag for key, tag in wanted.items() if key not in found]
        if missing:
            where = f"{school.code}'s register" + (" in that category" if category_id else "")
            message = f"Not on {where}: {', '.join(missing)}. Check the tags and try again."
            raise InvalidInput(field_errors={"tags": [message]})
    else:
        assets = list(session.scalars(query.where(Asset.status.not_in(WITHDRAWN_STATUSES))))
    if not assets:
        raise InvalidInput(f"{school.code} has no assets that match, so there is nothing to print.")
    return school, assets


def label_sheet_pdf(
    assets: Iterable[Asset],
    base_url: str,
    university_name: str,
    *,
    start_at: int = 1,
    compress: bool = True,
    invariant: bool = False,
) -> bytes:
    """A PDF of A4 label sheets (L7160 layout: 3 x 7 labels of 63.5 x 38.1 mm), one label per asset.

    ``start_at`` (1-21) skips labels already used on the first sheet, counting along the rows.
    ``compress=False`` and ``invariant=True`` give plain, repeatable output (for tests).
    """
    if not 1 <= start_at <= LABELS_PER_SHEET:
        raise ValueError(f"start_at must be 1 to {LABELS_PER_SHEET}")
    buffer = io.BytesIO()
    canvas = Canvas(
        buffer, pagesize=A4, pageCompression=1 if compress else 0, invariant=1 if invariant else 0
    )
    canvas.setTitle(PDF_TITLE)
    canvas.setAuthor(university_name)
    canvas.setCreator("Kitshare")
    canvas.setSubject("QR labels that open each asset's page in Kitshare")
    _, page_height = A4
    position = start_at - 1
    for asset in assets:
        if position == LABELS_PER_SHEET:
            canvas.showPage()
            position = 0
        row, column = divmod(position, LABEL_COLUMNS)
        x = SHEET_LEFT_MARGIN + column * COLUMN_PITCH
        y = page_height - SHEET_TOP_MARGIN - (row + 1) * ROW_PITCH
        _draw_label(canvas, x, y, asset, base_url, university_name)
        position += 1
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def fit_lines(text: str, font: str, size: float, width: float, max_lines: int) -> list[str]:
    """Wrap ``text`` into at most ``max_lines`` lines of ``width`` points; cut the last with '…'."""
    lines: list[str] = []
    current = ""
    pending = text.split()
    while pending:
        word = pending[0]
        candidate = f"{current} {word}" if current else word
        if stringWidth(candidate, font, size) <= width:
            current = candidate
            pending.pop(0)
            continue
        if current:
            lines.append(current)
            current = ""
        else:  # one word wider than the line: break it
            cut = _longest_prefix(word, font, size, width)
            lines.append(word[:cut])
            pending[0] = word[cut:]
            if not pending[0]:
                pending.pop(0)
        if len(lines) == max_lines and pending:
            lines[-1] = _with_ellipsis(lines[-1], font, size, width)
            return lines
    if current:
        lines.append(current)
    return lines or [""]


def _longest_prefix(text: str, font: str, size: float, width: float) -> int:
    cut = len(text)
    while cut > 1 and stringWidth(text[:cut], font, size) > width:
        cut -= 1
    return cut


def _with_ellipsis(line: str, font: str, size: float, width: float) -> str:
    line = line.rstrip()
    while line and stringWidth(line + "…", font, size) > width:
        line = line[:-1].rstrip()
    return line + "…"


def _draw_label(
    canvas: Canvas, x: float, y: float, asset: Asset, base_url: str, university_name: str
) -> None:
    """One label whose bottom-left corner is (x, y): QR code on the left, words on the right."""
    qr_y = y + (LABEL_HEIGHT - QR_SIZE) / 2
    _draw_qr(canvas, label_target_url(base_url, asset), x + LABEL_PADDING, qr_y, QR_SIZE)

    text_x = x + LABEL_PADDING + QR_SIZE + TEXT_GAP
    text_width = x + LABEL_WIDTH - LABEL_PADDING - text_x
    top = qr_y + QR_SIZE - 2 * mm  # the QR code has its own quiet zone; line the words up with the code

    tag_size = 13.0
    while tag_size > 7 and stringWidth(asset.tag, "Helvetica-Bold", tag_size) > text_width:
        tag_size -= 0.5
    tag = fit_lines(asset.tag, "Helvetica-Bold", tag_size, text_width, 1)[0]
    baseline = top - tag_size * 0.75
    canvas.setFont("Helvetica-Bold", tag_size)
    canvas.drawString(text_x, baseline, tag)

    baseline -= 10
    canvas.setFont("Helvetica", 7.5)
    for line in fit_lines(asset.name, "Helvetica", 7.5, text_width, 2):
        canvas.drawString(text_x, baseline, line)
        baseline -= 9

    baseline -= 1
    canvas.setFont("Helvetica-Bold", 8)
    canvas.drawString(text_x, baseline, fit_lines(asset.school.code, "Helvetica-Bold", 8, text_width, 1)[0])
    baseline -= 9
    canvas.setFont("Helvetica", 6.5)
    canvas.drawString(text_x, baseline, "Scan to see and book")

    bottom = qr_y + 2 * mm
    university_lines = fit_lines(university_name, "Helvetica", 5.5, text_width, 2)
    canvas.setFont("Helvetica", 5.5)
    for index, line in enumerate(reversed(university_lines)):
        canvas.drawString(text_x, bottom + index * 6.5, line)


def _draw_qr(canvas: Canvas, url: str, x: float, y: float, size: float) -> None:
    widget = QrCodeWidget(url, barLevel="M")
    left, bottom, right, top = widget.getBounds()
    drawing = Drawing(size, size, transform=[size / (right - left), 0, 0, size / (top - bottom), 0, 0])
    drawing.add(widget)
    renderPDF.draw(drawing, canvas, x, y)
