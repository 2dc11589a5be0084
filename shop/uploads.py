"""Uploaded images: type checked by content (not by name), size-limited, stored under a random name."""

from __future__ import annotations

import io
import secrets
import warnings
from dataclasses import dataclass
from pathlib import Path

from flask import current_app
from flask_babel import gettext as _
from PIL import Image, UnidentifiedImageError

from shop.errors import PayloadTooLarge, ValidationFailed

# Pillow format → (content type, file extension). Only formats every browser shows.
IMAGE_FORMATS = {"JPEG": ("image/jpeg", "jpg"), "PNG": ("image/png", "png"), "WEBP": ("image/webp", "webp")}
MAX_PIXELS = 40_000_000  # refuse decompression bombs well before they eat the memory


@dataclass(frozen=True)
class InspectedImage:
    data: bytes
    content_type: str
    extension: str
    width: int
    height: int


def inspect_image(data: bytes, *, field: str = "photo", limit: int | None = None) -> InspectedImage:
    limit = limit or current_app.config["MAX_PHOTO_BYTES"]
    if len(data) > limit:
        raise PayloadTooLarge(
            _("The photo is larger than %(mb)d MB.", mb=limit // (1024 * 1024)),
            fields={field: [_("The photo is larger than %(mb)d MB.", mb=limit // (1024 * 1024))]},
        )
    if not data:
        raise ValidationFailed.on(field, _("The file is empty."))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                kind = image.format
                width, height = image.size
                if width * height > MAX_PIXELS:
                    raise ValidationFailed.on(field, _("The image has too many pixels."))
                image.verify()
    except ValidationFailed:
        raise
    except (
        UnidentifiedImageError,
        OSError,
        SyntaxError,
        ValueError,
        Image.DecompressionBombError,
        Image.DecompressionBombWarning,
    ) as error:
        raise ValidationFailed.on(field, _("This file is not a JPEG, PNG or WebP image.")) from error
    if kind not in IMAGE_FORMATS:
        raise ValidationFailed.on(field, _("This file is not a JPEG, PNG or WebP image."))
    content_type, extension = IMAGE_FORMATS[kind]
    return InspectedImage(data, content_type, extension, width, height)


DOCUMENT_TYPES = {"application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png"}


def inspect_document(data: bytes, *, field: str = "file") -> tuple[str, str]:
    """(content type, extension) of a PDF, JPEG or PNG document, judged by its content; else a 4xx."""
    limit = current_app.config["MAX_DOCUMENT_BYTES"]
    if len(data) > limit:
        message = _("The file is larger than %(mb)d MB.", mb=limit // (1024 * 1024))
        raise PayloadTooLarge(message, fields={field: [message]})
    if data.startswith(b"%PDF-"):
        return "application/pdf", "pdf"
    try:
        image = inspect_image(data, field=field, limit=limit)
    except ValidationFailed:
        raise ValidationFailed.on(field, _("This file is not a PDF, JPEG or PNG document.")) from None
    if image.content_type not in DOCUMENT_TYPES:
        raise ValidationFailed.on(field, _("This file is not a PDF, JPEG or PNG document."))
    return image.content_type, image.extension


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
