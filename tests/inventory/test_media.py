"""Asset photos (checked, cleaned, public) and printable QR label sheets."""

from __future__ import annotations

import io
import os
import re
import struct
import zlib

import pytest
from PIL import Image

from accounts.models import Role
from core.db import atomic
from core.errors import InvalidInput, NotAllowed
from inventory import media
from inventory.models import AssetStatus, Category
from tests.conftest import change_settings, see_committed, sign_in
from tests.factories import make_asset, make_school, make_user

# --- Small images made in memory --------------------------------------------------------------


def png_bytes(size=(8, 6), colour="teal", mode="RGB", **save_options) -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, size, colour).save(buffer, "PNG", **save_options)
    return buffer.getvalue()


def jpeg_bytes(size=(8, 6), **save_options) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, "orange").save(buffer, "JPEG", **save_options)
    return buffer.getvalue()


def noise_png(size=(40, 40)) -> bytes:
    """A PNG that does not compress: about 3 bytes a pixel."""
    buffer = io.BytesIO()
    Image.frombytes("RGB", size, os.urandom(size[0] * size[1] * 3)).save(buffer, "PNG")
    return buffer.getvalue()


def exif_with_location(orientation: int | None = None) -> Image.Exif:
    exif = Image.Exif()
    exif[0x010F] = "SecretCameraMaker"  # Make
    if orientation:
        exif[0x0112] = orientation
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2] = "N", (51.0, 28.0, 40.0)
    gps[3], gps[4] = "W", (0.0, 7.0, 39.0)
    return exif


def header_only_png(width: int, height: int) -> bytes:
    """A tiny file that claims to be an enormous image (a decompression bomb)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    chunks = chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"")) + chunk(b"IEND", b"")
    return b"\x89PNG\r\n\x1a\n" + chunks


def served_image(client, url: str) -> Image.Image:
    response = client.get(url)
    assert response.status_code == 200
    assert response.mimetype == "image/jpeg"
    return Image.open(io.BytesIO(response.data))


# --- Fixtures ---------------------------------------------------------------------------------


@pytest.fixture
def instance_dir(app, tmp_path, monkeypatch):
    """Photos go to a folder of the test's own, not the project's instance folder."""
    monkeypatch.setattr(app, "instance_path", str(tmp_path))
    return tmp_path


@pytest.fixture
def chem(session):
    return make_school(session, code="CHEM", name="School of Chemistry")


@pytest.fixture
def manager(session, chem):
    return make_user(session, chem, Role.MANAGER)


def upload(client, asset, data: bytes, filename: str = "photo.png"):
    return client.post(
        f"/assets/{asset.id}/photo",
        data={"photo": (io.BytesIO(data), filename)},
        content_type="multipart/form-data",
    )


def stored_files(instance_dir) -> set[str]:
    folder = media.photo_folder(instance_dir)
    return {path.name for path in folder.iterdir()} if folder.exists() else set()


# --- Uploading --------------------------------------------------------------------------------


def test_a_manager_uploads_a_png_and_it_is_served_as_a_jpeg(client, session, instance_dir, chem, manager):
    asset = make_asset(session, chem)
    sign_in(client, manager.email)
    response = upload(client, asset, png_bytes())
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/assets/{asset.id}")
    see_committed(session)
    session.refresh(asset)
    assert asset.photo_filename.startswith(f"{asset.id}-") and asset.photo_filename.endswith(".jpg")
    assert served_image(client, f"/assets/{asset.id}/photo.jpg").format == "JPEG"


def test_the_served_photo_carries_no_camera_details_or_location(client, session, instance_dir, chem, manager):
    asset = make_asset(session, chem)
    sign_in(client, manager.email)
    upload(client, asset, jpeg_bytes(exif=exif_with_location()), "phone.jpg")
    response = client.get(f"/assets/{asset.id}/photo.jpg")
    assert b"SecretCameraMaker" not in response.data
    assert len(Image.open(io.BytesIO(response.data)).getexif()) == 0


def test_exif_is_dropped_from_a_png_too(client, session, instance_dir, chem, manager):
    asset = make_asset(session, chem)
    sign_in(client, manager.email)
    upload(client, asset, png_bytes(exif=exif_with_location()))
    assert b"SecretCameraMaker" not in client.get(f"/assets/{asset.id}/photo.jpg").data


def test_text_hidden_in_the_upload_is_not_served(client, session, instance_dir, chem, manager):
    """A JPEG comment or bytes after the image (a 'polyglot' file) do not survive re-encoding."""
    asset = make_asset(session, chem)
    sign_in(client, manager.email)
    payload = jpeg_bytes(comment=b"<script>alert(1)</script>") + b"<html><script>alert(2)</script>"
    assert upload(client, asset, payload, "photo.jpg").status_code == 302
    assert b"<script>" not in client.get(f"/assets/{asset.id}/photo.jpg").data


def test_a_sideways_phone_photo_is_turned_upright(client, session, instance_dir, chem, manager):
    asset = make_asset(session, chem)
    sign_in(client, manager.email)
    upload(client, asset, jpeg_bytes(size=(8, 4), exif=exif_with_location(orientation=6)), "phone.jpg")
    assert served_image(client, f"/assets/{asset.id}/photo.jpg").size == (4, 8)


def test_a_big_photo_is_scaled_down_and_its_thumbnail_is_smaller(
    client, session, instance_dir, chem, manager
):
    asset = make_asset(session, chem)
    sign_in(client, manager.email)
    upload(client, asset, png_bytes(size=(2000, 10)))
    assert served_image(client, f"/assets/{asset.id}/photo.jpg").size == (1600, 8)
    assert served_image(client, f"/assets/{asset.id}/photo-thumb.jpg").size == (400, 2)


def test_a_transparent_png_is_laid_on_white(client, session, instance_dir, chem, manager):
    asset = make_asset(session, chem)
    sign_in(client, manager.email)
    upload(client, asset, png_bytes(mode="RGBA", colour=(0, 0, 0, 0)))
    red, green, blue = served_image(client, f"/assets/{asset.id}/photo.jpg").getpixel((3, 3))
    assert min(red, green, blue) > 240


def test_the_first_frame_of_a_gif_is_kept(client, session, instance_dir, chem, manager):
    asset = make_asset(session, chem)
    sign_in(client, manager.email)
    frames = [Image.new("RGB", (6, 6), colour) for colour in ("blue", "yellow")]
    buffer = io.BytesIO()
    frames[0].save(buffer, "GIF", save_all=True, append_images=frames[1:])
    assert upload(client, asset, buffer.getvalue(), "spin.gif").status_code == 302
    red, green, blue = served_image(client, f"/assets/{asset.id}/photo.jpg").getpixel((3, 3))
    assert blue > 200 and red < 60


def test_the_upload_page_shows_the_form_to_a_manager(client, session, instance_dir, chem, manager):
    asset = make_asset(session, chem, name="Rotary evaporator")
    sign_in(client, manager.email)
    response = client.get(f"/assets/{asset.id}/photo")
    assert response.status_code == 200
    assert 'enctype="multipart/form-data"' in response.text
    assert '<label class="label" for="photo">Photo</label>' in response.text
    assert 'accept="image/jpeg,image/png,image/webp,image/gif"' in response.text
    assert "5 MB" in response.text


def test_the_photo_is_shown_on_the_asset_page_and_in_the_catalogue(
    client, session, instance_dir, chem, manager
):
    asset = make_asset(session, chem, name="Rotary evaporator")
    sign_in(client, manager.email)
    upload(client, asset, png_bytes())
    asset_page = client.get(f"/assets/{asset.id}").text
    assert f'src="/assets/{asset.id}/photo.jpg" alt="Photo of Rotary evaporator"' in asset_page
    assert f'src="/assets/{asset.id}/photo-thumb.jpg"' in client.get("/catalogue").text


# --- Refusals ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "filename"),
    [
        (b"Just some notes about the spectrometer.\n", "notes.jpg"),
        (b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "drawing.svg"),
        (png_bytes()[:40], "cut-short.png"),  # a PNG missing its image data
        (b"%PDF-1.4\n1 0 obj <<>> endobj\n", "manual.pdf"),
    ],
    ids=["text-renamed-jpg", "svg", "truncated-png", "pdf"],
)
def test_a_file_that_is_not_a_photo_is_refused(
    client, session, instance_dir, chem, manager, content, filename
):
    asset = make_asset(session, chem)
    sign_in(client, manager.email)
    response = upload(client, asset, content, filename)
    assert response.status_code == 400
    assert "not a photo Kitshare can read (use JPEG, PNG, WebP or GIF)" in response.text
    see_committed(session)
    session.refresh(asset)
    assert asset.photo_filename is None
    assert stored_files(instance_dir) == set()


def test_a_photo_over_the_size_limit_is_refused(
    client, app, session, instance_dir, chem, manager, monkeypatch
):
    change_settings(app, monkeypatch, KITSHARE_PHOTO_MAX_BYTES=2048)
    asset = make_asset(session, chem)
    sign_in(client, manager.email)
    response = upload(client, asset, noise_png())
    assert response.status_code == 400
    assert "The photo is larger than 2 KB" in response.text
    assert stored_files(instance_dir) == set()


def test_the_default_limit_is_5_mb(session, instance_dir, chem, manager):
    asset = make_asset(session, chem)
    with pytest.raises(InvalidInput) as refused:
        media.save_photo(session, manager, asset, b"\0" * (5 * 1024 * 1024 + 1), instance_dir)
    assert refused.value.field_errors["photo"][0].startswith("The photo is larger than 5 MB")


def test_a_request_over_the_upload_limit_is_refused_with_413(
    client, app, session, instance_dir, chem, manager, monkeypatch
):
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 1024)
    asset = make_asset(session, chem)
    sign_in(client, manager.email)
    response = upload(client, asset, noise_png())
    assert response.status_code == 413
    assert "too large" in response.text.lower()


def test_a_decompression_bomb_is_refused_before_it_is_decoded(session, instance_dir, chem, manager):
    asset = make_asset(session, chem)
    with pytest.raises(InvalidInput) as refused:
        media.save_photo(session, manager, asset, header_only_png(30_000, 30_000), instance_dir)
    assert "too many pixels" in refused.value.field_errors["photo"][0]


def test_a_photo_over_40_megapixels_is_refused(session, instance_dir, chem, manager):
    asset = make_asset(session, chem)
    with pytest.raises(InvalidInput) as refused:
        media.save_photo(session, manager, asset, header_only_png(8_000, 6_000), instance_dir)
    assert "too many pixels" in refused.value.field_errors["photo"][0]


def test_posting_without_a_file_asks_for_one(client, session, instance_dir, chem, manager):
    asset = make_asset(session, chem)
    sign_in(client, manager.email)
    response = client.post(f"/assets/{asset.id}/photo", data={}, content_type="multipart/form-data")
    assert response.status_code == 400
    assert "Choose a photo to upload." in response.text


@pytest.mark.parametrize("who", ["other-manager", "technician"])
def test_only_the_schools_managers_may_change_its_photo(client, session, instance_dir, chem, who):
    other = make_school(session)
    person = make_user(session, other, Role.MANAGER) if who == "other-manager" else make_user(session, chem)
    asset = make_asset(session, chem)
    media.save_photo(session, make_user(session, chem, Role.MANAGER), asset, png_bytes(), instance_dir)
    session.commit()
    photo = asset.photo_filename
    sign_in(client, person.email)
    assert client.get(f"/assets/{asset.id}/photo").status_code == 403
    assert upload(client, asset, png_bytes()).status_code == 403
    assert client.post(f"/assets/{asset.id}/photo/delete").status_code == 403
    see_committed(session)
    session.refresh(asset)
    assert asset.photo_filename == photo
    assert len(stored_files(instance_dir)) == 2


def test_an_admin_may_upload_for_any_school(client, session, instance_dir, chem):
    admin = make_user(session, make_school(session), Role.ADMIN)
    asset = make_asset(session, chem)
    sign_in(client, admin.email)
    assert upload(client, asset, png_bytes()).status_code == 302


# --- Serving ----------------------------------------------------------------------------------


def test_photos_are_public(client, session, instance_dir, chem, manager):
    asset = make_asset(session, chem)
    media.save_photo(session, manager, asset, png_bytes(), instance_dir)
    session.commit()
    assert served_image(client, f"/assets/{asset.id}/photo.jpg").format == "JPEG"
    assert served_image(client, f"/assets/{asset.id}/photo-thumb.jpg").format == "JPEG"


def test_a_photo_can_be_cached_and_revalidated(client, session, instance_dir, chem, manager):
    asset = make_asset(session, chem)
    media.save_photo(session, manager, asset, png_bytes(), instance_dir)
    session.commit()
    first = client.get(f"/assets/{asset.id}/photo.jpg")
    assert first.cache_control.public and first.cache_control.max_age > 0
    again = client.get(f"/assets/{asset.id}/photo.jpg", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304


def test_an_asset_without_a_photo_has_none_to_serve(client, session, instance_dir, chem):
    asset = make_asset(session, chem)
    assert client.get(f"/assets/{asset.id}/photo.jpg").status_code == 404
    assert client.get(f"/assets/{asset.id}/photo-thumb.jpg").status_code == 404
    assert client.get(f"/assets/{asset.id + 1000}/photo.jpg").status_code == 404


# --- Replacing and removing -------------------------------------------------------------------


def test_replacing_a_photo_removes_the_old_files(client, session, instance_dir, chem, manager):
    asset = make_asset(session, chem)
    sign_in(client, manager.email)
    upload(client, asset, png_bytes(colour="red"))
    see_committed(session)
    old = session.get(type(asset), asset.id).photo_filename
    upload(client, asset, png_bytes(colour="blue"))
    see_committed(session)
    session.refresh(asset)
    assert asset.photo_filename != old
    current = asset.photo_filename
    assert stored_files(instance_dir) == {current, media.thumbnail_filename(current)}


def test_a_manager_removes_a_photo(client, session, instance_dir, chem, manager):
    asset = make_asset(session, chem)
    sign_in(client, manager.email)
    upload(client, asset, png_bytes())
    response = client.post(f"/assets/{asset.id}/photo/delete")
    assert response.status_code == 302
    see_committed(session)
    session.refresh(asset)
    assert asset.photo_filename is None
    assert stored_files(instance_dir) == set()
    assert client.get(f"/assets/{asset.id}/photo.jpg").status_code == 404


def test_a_rolled_back_upload_keeps_the_previous_photo(session, instance_dir, chem, manager):
    asset = make_asset(session, chem)
    with atomic(session, manager):
        previous = media.save_photo(session, manager, asset, png_bytes(colour="red"), instance_dir)
    with pytest.raises(RuntimeError), atomic(session, manager):
        media.save_photo(session, manager, asset, png_bytes(colour="blue"), instance_dir)
        raise RuntimeError("something later in the same unit of work failed")
    session.refresh(asset)
    assert asset.photo_filename == previous
    assert stored_files(instance_dir) == {previous, media.thumbnail_filename(previous)}


# --- Labels -----------------------------------------------------------------------------------


def page_count(pdf: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page[^s]", pdf))


def test_a_label_opens_the_assets_page(session, chem):
    asset = make_asset(session, chem)
    target = media.label_target_url("https://kit.example.ac.uk/", asset)
    assert target == f"https://kit.example.ac.uk/assets/{asset.id}"


def test_each_qr_code_encodes_its_assets_page(session, chem, monkeypatch):
    encoded = []

    class RecordingQrCode(media.QrCodeWidget):
        def __init__(self, value, **options):
            encoded.append(value)
            super().__init__(value, **options)

    monkeypatch.setattr(media, "QrCodeWidget", RecordingQrCode)
    assets = [make_asset(session, chem) for _ in range(2)]
    media.label_sheet_pdf(assets, "https://kit.example.ac.uk", "Example University")
    assert encoded == [f"https://kit.example.ac.uk/assets/{asset.id}" for asset in assets]


def test_a_sheet_holds_21_labels(session, chem):
    assets = [make_asset(session, chem) for _ in range(22)]
    assert page_count(media.label_sheet_pdf(assets[:21], "https://k", "U")) == 1
    assert page_count(media.label_sheet_pdf(assets, "https://k", "U")) == 2


def test_starting_part_way_down_a_used_sheet_moves_labels_on(session, chem):
    assets = [make_asset(session, chem) for _ in range(20)]
    assert page_count(media.label_sheet_pdf(assets, "https://k", "U", start_at=2)) == 1
    assert page_count(media.label_sheet_pdf(assets, "https://k", "U", start_at=3)) == 2


def test_a_label_shows_the_tag_name_school_and_university(session, chem):
    asset = make_asset(session, chem, tag="CHEM-0001", name="Rotary evaporator")
    pdf = media.label_sheet_pdf([asset], "https://k", "Example University", compress=False, invariant=True)
    assert pdf.startswith(b"%PDF")
    for text in (b"(CHEM-0001)", b"(Rotary evaporator)", b"(CHEM)", b"(Example University)"):
        assert text in pdf
    assert b"Kitshare asset labels" in pdf  # the document title


def test_a_long_name_is_cut_to_two_lines():
    lines = media.fit_lines(
        "Ultra-high-performance liquid chromatography system with diode-array and mass detectors",
        "Helvetica",
        7.5,
        76,
        2,
    )
    assert len(lines) == 2
    assert lines[-1].endswith("…")
    assert all(media.stringWidth(line, "Helvetica", 7.5) <= 76 for line in lines)


def test_labels_for_a_school_leave_retired_assets_out(session, chem, manager):
    kept = make_asset(session, chem, tag="CHEM-0001")
    make_asset(session, chem, tag="CHEM-0002", status=AssetStatus.RETIRED)
    make_asset(session, make_school(session))
    school, assets = media.assets_for_labels(session, manager, chem.id)
    assert school.id == chem.id
    assert [a.id for a in assets] == [kept.id]


def test_labels_can_be_for_one_category(session, chem, manager):
    balances = Category(name="Balances")
    wanted = make_asset(session, chem, category=balances)
    make_asset(session, chem)
    _, assets = media.assets_for_labels(session, manager, chem.id, category_id=balances.id)
    assert [a.id for a in assets] == [wanted.id]


def test_labels_can_be_for_listed_tags(session, chem, manager):
    make_asset(session, chem, tag="CHEM-0001")
    make_asset(session, chem, tag="CHEM-0002", status=AssetStatus.RETIRED)
    make_asset(session, chem, tag="CHEM-0003")
    tags = media.parse_tags("chem-0002, CHEM-0003\n")
    _, assets = media.assets_for_labels(session, manager, chem.id, tags=tags)
    assert [a.tag for a in assets] == ["CHEM-0002", "CHEM-0003"]


def test_a_tag_not_on_the_register_is_named(session, chem, manager):
    make_asset(session, chem, tag="CHEM-0001")
    make_asset(session, make_school(session, code="PHYS"), tag="PHYS-0001")
    with pytest.raises(InvalidInput) as refused:
        media.assets_for_labels(session, manager, chem.id, tags=["CHEM-0001", "PHYS-0001", "NOPE"])
    assert refused.value.field_errors["tags"] == [
        "Not on CHEM's register: PHYS-0001, NOPE. Check the tags and try again."
    ]


def test_a_manager_cannot_print_another_schools_labels(session, chem, manager):
    other = make_school(session)
    make_asset(session, other)
    with pytest.raises(NotAllowed):
        media.assets_for_labels(session, manager, other.id)


def test_the_labels_pdf_is_served_inline(client, session, chem, manager):
    for _ in range(22):
        make_asset(session, chem)
    sign_in(client, manager.email)
    response = client.get(f"/labels.pdf?school={chem.id}&category=0&tags=&start_at=1")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF")
    assert response.headers["Content-Disposition"] == 'inline; filename="kitshare-labels-CHEM.pdf"'
    assert page_count(response.data) == 2


def test_another_schools_labels_are_forbidden(client, session, chem, manager):
    other = make_school(session)
    make_asset(session, other)
    sign_in(client, manager.email)
    assert client.get(f"/labels.pdf?school={other.id}").status_code == 403


def test_a_school_with_nothing_to_print_says_so(client, session, chem, manager):
    sign_in(client, manager.email)
    response = client.get(f"/labels.pdf?school={chem.id}")
    assert response.status_code == 400
    assert "CHEM has no assets that match, so there is nothing to print." in response.text


def test_an_unknown_tag_is_shown_on_the_labels_page(client, session, chem, manager):
    make_asset(session, chem, tag="CHEM-0001")
    sign_in(client, manager.email)
    response = client.get(f"/labels.pdf?school={chem.id}&tags=CHEM-0001,CHEM-9999")
    assert response.status_code == 400
    assert "Not on CHEM&#39;s register: CHEM-9999" in response.text


def test_the_labels_page_offers_only_the_schools_a_manager_manages(client, session, chem, manager):
    make_school(session, code="PHYS", name="School of Physics")
    sign_in(client, manager.email)
    response = client.get("/labels")
    assert response.status_code == 200
    assert "School of Chemistry (CHEM)" in response.text
    assert "School of Physics" not in response.text


def test_technicians_cannot_print_labels(client, session, chem):
    asset = make_asset(session, chem)
    technician = make_user(session, chem)
    sign_in(client, technician.email)
    assert client.get("/labels").status_code == 403
    assert client.get(f"/labels.pdf?school={chem.id}").status_code == 403
    assert client.get(f"/assets/{asset.id}/label.pdf").status_code == 403


def test_a_manager_prints_one_assets_label(client, session, chem, manager):
    asset = make_asset(session, chem, tag="CHEM-0042")
    sign_in(client, manager.email)
    response = client.get(f"/assets/{asset.id}/label.pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"] == 'inline; filename="kitshare-label-CHEM-0042.pdf"'


def test_a_manager_of_another_school_cannot_print_its_assets_label(client, session, chem):
    asset = make_asset(session, chem)
    outsider = make_user(session, make_school(session), Role.MANAGER)
    sign_in(client, outsider.email)
    assert client.get(f"/assets/{asset.id}/label.pdf").status_code == 403
