"""Region look-ups; every region code entered anywhere is checked here."""

from __future__ import annotations

import csv
from pathlib import Path

from flask_babel import gettext as _
from sqlalchemy import select

from shop.errors import ValidationFailed
from shop.extensions import db
from shop.regions.models import Region

DATA_FILE = Path(__file__).parent / "data" / "regions.csv"


def read_region_rows(path: Path = DATA_FILE) -> list[dict]:
    """The shipped division list as rows ready to insert (comment lines skipped)."""
    with path.open(encoding="utf-8") as handle:
        lines = (line for line in handle if not line.startswith("#"))
        rows = []
        for row in csv.DictReader(lines):
            rows.append(
                {
                    "code": row["code"],
                    "name": row["name"],
                    "level": row["level"],
                    "parent_code": row["parent_code"] or None,
                    "province_code": row["code"][:2] + "0000",
                }
            )
        return rows


def normalize_province_code(code: str) -> str:
    """Accept a province as its two leading digits or its six-digit code."""
    code = code.strip()
    return code + "0000" if len(code) == 2 else code


# Region code -> level, for codes found in the table. The division list is fixed data (loaded by the first
# migration, never edited by the shop), so a code once found stays valid for the life of the process; a code not
# found is asked again each time.
_LEVEL_OF: dict[str, str] = {}


def require_region(code: str | None, *, level: str, field: str) -> str:
    """The code of the region at this level (a province may be given by its two leading digits), or a validation
    error naming the field."""
    code = (code or "").strip()
    if level == "province":
        code = normalize_province_code(code)
    if not (len(code) == 6 and code.isdigit()):
        raise ValidationFailed.on(field, _("A region code has six digits."))
    actual = _LEVEL_OF.get(code)
    if actual is None:
        actual = db.session.scalar(select(Region.level).where(Region.code == code))
        if actual is None:
            raise ValidationFailed.on(field, _("Unknown region code %(code)s.", code=code))
        _LEVEL_OF[code] = actual
    if actual != level:
        raise ValidationFailed.on(
            field, _("%(code)s is a %(actual)s, not a %(level)s.", code=code, actual=actual, level=level)
        )
    return code


def list_regions(level: str | None = None, parent: str | None = None, q: str | None = None) -> list[Region]:
    query = select(Region).order_by(Region.code)
    if level:
        query = query.where(Region.level == level)
    if parent:
        query = query.where(Region.parent_code == parent)
    if q:
        query = query.where(Region.name.contains(q.strip()))
    return list(db.session.scalars(query))


def provinces() -> list[Region]:
    return list_regions(level="province")


def counties_in(codes: list[str]) -> list[Region]:
    return list(db.session.scalars(select(Region).where(Region.code.in_(codes)).order_by(Region.code)))


def region_full_name(code: str | None) -> str:
    """Province + prefecture + county of a code, for people (the code itself when unknown)."""
    region = db.session.get(Region, code) if code else None
    return region.full_name if region is not None else (code or "")
