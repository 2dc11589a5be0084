"""Uploaded images and documents: type checked by content (not by name), size- and pixel-limited, images stored
re-encoded under a random name.

Images are decoded and written again rather than stored as sent: what is stored is only the picture, without
bytes appended after it (a PHP script behind a JPEG), without metadata (EXIF with the GPS position of the farm
or of the phone's owner, comments, XMP), turned upright by its EXIF orientation first so that nothing looks
rotated once the orientation tag is gone. The pixel count is checked from the header before anything is
decoded: a 4 KB PNG can unpack to 36 million pixels (a decompression bomb).
"""

from __future__ import annotations

import io
import secrets
import warnings
from dataclasses import dataclass
from pathlib import Path

from flask import current_app
from flask_babel import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

from shop.errors import PayloadTooLarge, ValidationFailed

# Pillow format → (content type, file extension). Only formats every browser shows.
IMAGE_FORMATS = {"JPEG": ("image/jpeg", "jpg"), "PNG": ("image/png", "png"), "WEBP": ("image/webp", "webp")}
# Re-encoding options per format: a high JPEG/WebP quality, since photos sell the product.
SAVE_OPTIONS = {"JPEG": {"quality": 90}, "PNG": {"optimize": False}, "WEBP": {"quality": 90}}
# Kept from the source image: PNG's transparency is part of the picture, not metadata about it.
KEPT_INFO = ("transparency",)


class TooManyPixels(ValidationFailed):
    """An image whose header announces more pixels than MAX_IMAGE_PIXELS (refused before decoding)."""


@dataclass(frozen=True)
class InspectedImage:
    data: bytes  # the re-encoded image, as it is to be stored
    content_type: str
    extension: str
    width: int
    height: int


def inspect_image(data: bytes, *, field: str = "photo", limit: int | None = None) -> InspectedImage:
    """A JPEG, PNG or WebP image re-encoded (upright, without metadata or trailing bytes); else a 4xx on `field`."""
    limit = limit or current_app.config["MAX_PHOTO_BYTES"]
    if len(data) > limit:
        raise PayloadTooLarge(
            _("The photo is larger than %(mb)d MB.", mb=limit // (1024 * 1024)),
            fields={field: [_("The photo is larger than %(mb)d MB.", mb=limit // (1024 * 1024))]},
        )
    if not data:
        raise ValidationFailed.on(field, _("The file is empty."))
    max_pixels = current_app.config["MAX_IMAGE_PIXELS"]
    too_many_pixels = _("The image has too many pixels: at most %(n)d million are accepted.", n=max_pixels // 1_000_000)
    try:
        with warnings.catch_warnings():
            # Pillow's own bomb limit (a warning, then an error at twice it) counts as a refusal too.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                kind = image.format
                if kind not in IMAGE_FORMATS:
                    raise ValidationFailed.on(field, _("This file is not a JPEG, PNG or WebP image."))
                width, height = image.size  # read from the header: nothing is decoded yet
                if width * height > max_pixels:
                    raise TooManyPixels.on(field, too_many_pixels)
                image.load()
                clean, (width, height) = _reencoded(image, kind)
    except ValidationFailed:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise TooManyPixels.on(field, too_many_pixels) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError) as error:
        raise ValidationFailed.on(field, _("This file is not a JPEG, PNG or WebP image.")) from error
    content_type, extension = IMAGE_FORMATS[kind]
    return InspectedImage(clean, content_type, extension, width, height)


def _reencoded(image: Image.Image, kind: str) -> tuple[bytes, tuple[int, int]]:
    """The picture alone, in its own format: orientation applied, then every piece of metadata left out.

    The colour profile is kept (without it, photos from phones that shoot in Display P3 look dull); it
    describes colours, not the photo's place or owner. An animated image keeps its first frame.
    """
    upright = ImageOps.exif_transpose(image)  # a new image; the EXIF orientation is applied to its pixels
    upright.info = {key: upright.info[key] for key in KEPT_INFO if key in upright.info}
    options = dict(SAVE_OPTIONS[kind])
    if icc_profile := image.info.get("icc_profile"):
        options["icc_profile"] = icc_profile
    out = io.BytesIO()
    upright.save(out, format=kind, **options)
    return out.getvalue(), upright.size  # width and height swap when the orientation turned the picture


@dataclass(frozen=True)
class InspectedDocument:
    data: bytes  # as it is to be stored: a PDF as sent, an image re-encoded
    content_type: str
    extension: str


DOCUMENT_TYPES = {"application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png"}


def inspect_document(data: bytes, *, field: str = "file") -> InspectedDocument:
    """A PDF (as sent), or a JPEG or PNG (re-encoded like photos), judged by its content; else a 4xx."""
    limit = current_app.config["MAX_DOCUMENT_BYTES"]
    if len(data) > limit:
        message = _("The file is larger than %(mb)d MB.", mb=limit // (1024 * 1024))
        raise PayloadTooLarge(message, fields={field: [message]})
    if data.startswith(b"%PDF-"):
        # Not rewritten: a PDF may carry signatures and incremental updates that rewriting would break.
        return InspectedDocument(data, "application/pdf", "pdf")
    try:
        image = inspect_image(data, field=field, limit=limit)
    except TooManyPixels:
        raise  # an image, but too large: say so rather than "not an image"
    except ValidationFailed:
        raise ValidationFailed.on(field, _("This file is not a PDF, JPEG or PNG document.")) from None
    if image.content_type not in DOCUMENT_TYPES:
        raise ValidationFailed.on(field, _("This file is not a PDF, JPEG or PNG document."))
    return InspectedDocument(image.data, image.content_type, image.extension)


def upload_dir(kind: str) -> Path:
    path = Path(current_app.config["UPLOAD_DIR"]) / kind
    path.mkdir(parents=True, exist_ok=True)
    return path


def store(kind: str, data: bytes, extension: str) -> str:
    """Write the bytes under a fresh random name and return that name."""
    name = f"{secrets.token_hex(16)}.{extension}"
    (upload_dir(kind) / name).write_bytes(data)
    return name


def discard(kind: str, name: str) -> None:
    (upload_dir(kind) / name).unlink(missing_ok=True)
