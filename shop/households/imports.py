"""The use case of importing the county office's registry CSV; `shop.households.csv_import` reads and checks
the file (no database), this module writes what it found, row by row."""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from shop.accounts.models import User
from shop.accounts.roles import Role
from shop.errors import NotAllowed, PayloadTooLarge, ValidationFailed
from shop.extensions import db
from shop.households import csv_import
from shop.households.models import Household
from shop.regions.models import Region


def may_import(user: User) -> bool:
    return user.has_role(Role.OPERATOR) or bool(user.region_codes(Role.COUNTY_REVIEWER))


def may_import_into(user: User, county_code: str) -> bool:
    return user.has_role(Role.OPERATOR) or county_code in user.region_codes(Role.COUNTY_REVIEWER)


@dataclass(frozen=True)
class RowError:
    row: int
    registry_number: str
    fields: dict[str, list[str]]


@dataclass
class ImportReport:
    encoding: str = ""
    rows: int = 0
    created: int = 0
    updated: int = 0
    errors: list[RowError] = field(default_factory=list)

    @property
    def imported(self) -> int:
        return self.created + self.updated


def import_households(actor: User, data: bytes) -> ImportReport:
    """Import a registry CSV (UTF-8, UTF-8 with BOM or GBK; Chinese or English headers).

    Each good row is written in its own savepoint, so a bad row never blocks the good ones and is never
    half-written; the report names every bad row (its line in the file) and what is wrong with it.
    A registry number already stored is updated in place (the county office's newer export is the truth),
    provided it stays in the same county; a county reviewer imports only into their own county.
    """
    if not may_import(actor):
        raise NotAllowed(_("Only county reviewers and operators import households."))
    if len(data) > current_app.config["HOUSEHOLD_IMPORT_MAX_BYTES"]:
        raise PayloadTooLarge(
            _("The file is too large (at most %(n)d KB).", n=current_app.config["HOUSEHOLD_IMPORT_MAX_BYTES"] // 1024),
            fields={"file": [_("The file is too large.")]},
        )
    try:
        text, encoding = csv_import.decode(data)
        rows = csv_import.read_rows(text)
    except csv_import.UnreadableFile as error:
        raise ValidationFailed.on("file", str(error)) from None
    max_rows = current_app.config["HOUSEHOLD_IMPORT_MAX_ROWS"]
    if len(rows) > max_rows:
        raise PayloadTooLarge(
            _("The file has %(rows)d rows; import at most %(n)d at a time.", rows=len(rows), n=max_rows),
            fields={"file": [_("Too many rows.")]},
        )
    report = ImportReport(encoding=encoding, rows=len(rows))
    counties = _county_codes({row.raw["county_code"] for row in rows})
    seen_registry: dict[str, int] = {}
    seen_id: dict[str, int] = {}
    for row in rows:
        csv_import.check_row(row)
        _check_row_scope(actor, row, counties, seen_registry, seen_id)
        if not row.errors:
            try:
                # On SQLite the savepoint may be the outermost transaction and commit on release; each row is
                # still all-or-nothing, which is the promise made here.
                with db.session.begin_nested():
                    created = _write_row(row.values)
            except ValidationFailed as error:
                row.errors.update(error.fields)
            except IntegrityError:
                row.error("registry_number", _("Another import wrote this household just now; import the row again."))
            else:
                report.created += created
                report.updated += not created
                seen_registry[row.values["registry_number"]] = row.line
                seen_id[row.values["id_number"]] = row.line
        if row.errors:
            report.errors.append(RowError(row.line, row.raw["registry_number"], row.errors))
    return report


def _county_codes(codes: set[str]) -> set[str]:
    """Which of these codes are counties (the import checks each row against this, not one query a row)."""
    found = db.session.scalars(select(Region.code).where(Region.code.in_(codes), Region.level == "county"))
    return set(found)


def _check_row_scope(
    actor: User, row: csv_import.ParsedRow, counties: set[str], seen_registry: dict, seen_id: dict
) -> None:
    raw = row.raw
    county_code = raw["county_code"]
    if county_code and "county_code" not in row.errors:
        if county_code not in counties:
            row.error("county_code", _("Unknown county code %(code)s.", code=county_code))
        elif not may_import_into(actor, county_code):
            row.error("county_code", _("You may import households of your own county only."))
    if raw["registry_number"] in seen_registry:
        row.error(
            "registry_number", _("Repeats the household of line %(line)d.", line=seen_registry[raw["registry_number"]])
        )
    id_number = row.values.get("id_number") if row.values else None
    if id_number in seen_id:
        row.error("id_number", _("The same ID number as line %(line)d.", line=seen_id[id_number]))


def _write_row(values: dict) -> bool:
    """Create or update one household from a checked row; True when it was created."""
    household = db.session.scalar(
        select(Household).where(Household.registry_number == values["registry_number"]).with_for_update()
    )
    if household is not None and household.county_code != values["county_code"]:
        raise ValidationFailed.on(
            "county_code",
            _(
                "This registry number belongs to a household of county %(code)s; it cannot move county by import.",
                code=household.county_code,
            ),
        )
    clash = db.session.scalar(
        select(Household.id).where(
            Household.id_number == values["id_number"],
            Household.registry_number != values["registry_number"],
        )
    )
    if clash is not None:
        raise ValidationFailed.on("id_number", _("Another household is registered with this ID number."))
    created = household is None
    if created:
        household = Household(**values)
        db.session.add(household)
    else:
        for name, value in values.items():
            setattr(household, name, value)
    db.session.flush()
    return created
