"""Uploaded images are refused when their header announces too many pixels (decompression bombs), and stored
re-encoded: upright, without EXIF (GPS) and without bytes appended after the picture (issue #12, part 4)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import ExifTags, Image

from certification.models import Document
from shop.catalog.models import ProductPhoto
from shop.extensions import db
from tests.factories import RAOYANG

PHP = b"<?php system($_GET['c']); ?>"


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}", "Accept-Language": "en"}


def decompression_bomb() -> bytes:
    """A 4 KB PNG of 6000 × 6000 = 36 million pixels: one colour compresses to almost nothing."""
    buffer = io.BytesIO()
    Image.new("1", (6000, 6000)).save(buffer, "PNG")
    assert len(buffer.getvalue()) < 10_000
    return buffer.getvalue()


def photo_with_gps_and_a_script(kind: str = "JPEG") -> bytes:
    """40 × 30 pixels, left tenth blue, EXIF saying 'turn 90° clockwise' and where it was taken, then PHP."""
    image = Image.new("RGB", (40, 30), (200, 80, 40))
    image.paste((10, 10, 200), (0, 0, 4, 30))
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6
    exif[ExifTags.Base.ImageDescription] = "合作社果园"
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (37.0, 43.0, 12.0)
    buffer = io.BytesIO()
    image.save(buffer, kind, exif=exif)
    return buffer.getvalue() + PHP


def stored_file(app, kind: str, stored_name: str) -> bytes:
    return (Path(app.config["UPLOAD_DIR"]) / kind / stored_name).read_bytes()


def files_under(app, kind: str) -> set[str]:
    folder = Path(app.config["UPLOAD_DIR"]) / kind
    return {p.name for p in folder.iterdir()} if folder.exists() else set()


def assert_clean_and_upright(data: bytes, kind: str) -> None:
    assert PHP not in data
    with Image.open(io.BytesIO(data)) as image:
        assert image.format == kind
        exif = image.getexif()
        assert ExifTags.IFD.GPSInfo not in exif and not exif.get_ifd(ExifTags.IFD.GPSInfo)
        assert ExifTags.Base.Orientation not in exif and ExifTags.Base.ImageDescription not in exif
        # Turned upright: 30 wide, 40 high, and the blue band that was on the left is now along the top.
        assert image.size == (30, 40)
        red, _green, blue = image.convert("RGB").getpixel((15, 1))
        assert blue > 150 and red < 100
        image.load()  # decodes to the end: the file holds nothing but the picture
    # Nothing follows the end of the picture.
    if kind == "JPEG":
        assert data.endswith(b"\xff\xd9")
    else:
        assert data.endswith(b"IEND\xaeB`\x82")


@pytest.fixture
def coop(make):
    return make.cooperative(county=RAOYANG)


@pytest.fixture
def staff(make, coop):
    return bearer(make.token(make.staff(coop)))


def upload_photo(client, product: int, headers: dict, data: bytes, name: str = "photo.png"):
    return client.post(f"/api/v1/products/{product}/photos", headers=headers, data={"photo": (io.BytesIO(data), name)})


def test_a_decompression_bomb_photo_is_refused_naming_the_field_and_nothing_is_stored(app, client, make, coop, staff):
    product = make.product(coop)
    before = files_under(app, "products")
    response = upload_photo(client, product, staff, decompression_bomb(), "tiny.png")
    assert response.status_code == 422, response.json
    assert list(response.json["error"]["fields"]) == ["photo"]
    assert "too many pixels" in response.json["error"]["message"]
    with app.app_context():
        assert db.session.query(ProductPhoto).count() == 0
    assert files_under(app, "products") == before


def test_the_pixel_limit_is_configurable(app, client, make, coop, staff, monkeypatch):
    product = make.product(coop)
    monkeypatch.setitem(app.config, "MAX_IMAGE_PIXELS", 1_000)
    refused = upload_photo(client, product, staff, photo_with_gps_and_a_script(), "farm.jpg")  # 1,200 pixels
    assert refused.status_code == 422 and list(refused.json["error"]["fields"]) == ["photo"]
    monkeypatch.setitem(app.config, "MAX_IMAGE_PIXELS", 1_200)
    assert upload_photo(client, product, staff, photo_with_gps_and_a_script(), "farm.jpg").status_code == 201


@pytest.mark.parametrize("kind", ["JPEG", "PNG"])
def test_a_photo_is_stored_re_encoded_upright_without_gps_or_the_appended_script(app, client, make, coop, staff, kind):
    product = make.product(coop)
    response = upload_photo(client, product, staff, photo_with_gps_and_a_script(kind), "farm.jpg")
    assert response.status_code == 201, response.json
    assert (response.json["width"], response.json["height"]) == (30, 40)
    with app.app_context():
        photo = db.session.query(ProductPhoto).one()
        stored_name, size_bytes = photo.stored_name, photo.size_bytes
    stored = stored_file(app, "products", stored_name)
    assert size_bytes == len(stored)
    assert_clean_and_upright(stored, kind)
    served = client.get(response.json["url"])
    assert served.status_code == 200 and served.data == stored


def test_a_product_created_with_photos_stores_them_re_encoded(app, make, coop):
    from shop.accounts.models import User
    from shop.catalog import services as catalog

    staff_id = make.staff(coop)
    with app.app_context():
        data = {"name": "深州蜜桃", "category": "fruit", "unit": "斤", "price_fen": 880, "origin_county_code": RAOYANG}
        product = catalog.create_product(db.session.get(User, staff_id), coop, data, [photo_with_gps_and_a_script()])
        stored_name = product.photos[0].stored_name
        db.session.rollback()  # the file is what is checked here, not the rows
    assert_clean_and_upright(stored_file(app, "products", stored_name), "JPEG")


@pytest.fixture
def application(make, coop):
    product = make.product(coop, certified=False)
    return make.application(product, up_to="draft")


def upload_document(client, application_id: int, headers: dict, data: bytes, name: str):
    return client.post(
        f"/api/v1/certification/applications/{application_id}/documents",
        headers=headers,
        data={"file": (io.BytesIO(data), name), "kind": "quality_report"},
    )


def test_an_evidence_image_is_stored_re_encoded_without_gps_or_the_script(app, client, staff, application):
    response = upload_document(client, application, staff, photo_with_gps_and_a_script(), "质检报告.jpg")
    assert response.status_code == 201, response.json
    assert response.json["content_type"] == "image/jpeg"
    with app.app_context():
        document = db.session.query(Document).filter(Document.content_type == "image/jpeg").one()
        stored_name, size_bytes = document.stored_name, document.size_bytes
    stored = stored_file(app, "certification", stored_name)
    assert size_bytes == len(stored)
    assert_clean_and_upright(stored, "JPEG")


def test_a_decompression_bomb_as_evidence_is_refused_naming_the_field(app, client, make, staff, application):
    before = files_under(app, "certification")
    response = upload_document(client, application, staff, decompression_bomb(), "报告.png")
    assert response.status_code == 422, response.json
    assert list(response.json["error"]["fields"]) == ["file"]
    assert "too many pixels" in response.json["error"]["message"]
    assert files_under(app, "certification") == before


def test_a_pdf_document_is_still_accepted_as_sent(app, client, staff, application):
    pdf = b"%PDF-1.4\n% a second report\n%%EOF\n"
    response = upload_document(client, application, staff, pdf, "复检报告.pdf")
    assert response.status_code == 201 and response.json["content_type"] == "application/pdf"
    with app.app_context():
        document = db.session.get(Document, response.json["id"])
        assert stored_file(app, "certification", document.stored_name) == pdf
