"""Reading the household registry CSV that county offices export: encoding, headers, one row's checks.

Pure functions (no database): `shop.households.imports.import_households` adds what needs the database (counties, the
importer's scope, registry numbers already stored) and writes each row in its own savepoint.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from dataclasses import dataclass, field
from datetime import date

from flask_babel import gettext as _
from stdnum.cn import ric
from stdnum.exceptions import InvalidChecksum, InvalidComponent, InvalidFormat, InvalidLength, ValidationError
from stdnum.util import isdigits

from shop.households.models import HouseholdStatus
from shop.web.downloads import looks_like_formula

# Canonical column → accepted headers (Chinese as the county offices write them, and English).
COLUMNS: dict[str, tuple[str, ...]] = {
    "registry_number": ("户编号", "户编码", "registry_number"),
    "head_name": ("户主姓名", "户主", "head_name"),
    "id_number": ("身份证号", "身份证号码", "户主身份证号", "id_number"),
    "county_code": ("县级代码", "县代码", "县级行政区划代码", "county_code"),
    "township": ("乡镇", "乡（镇）", "township"),
    "village": ("村", "行政村", "village"),
    "members": ("家庭人口", "家庭人口数", "members"),
    "status": ("户类型", "status"),
    "bank": ("开户行", "开户银行", "bank", "payout_bank_name"),
    "account_name": ("户名", "账户名", "account_name", "payout_account_name"),
    "account_number": ("账号", "银行账号", "account_number", "payout_account_number"),
}
REQUIRED = ("registry_number", "head_name", "id_number", "county_code", "members", "status")
HEADER_TO_COLUMN = {alias.lower(): column for column, aliases in COLUMNS.items() for alias in aliases}

STATUS_WORDS = {
    "脱贫户": HouseholdStatus.LIFTED_OUT,
    "已脱贫户": HouseholdStatus.LIFTED_OUT,
    "监测户": HouseholdStatus.MONITORED,
    "监测对象": HouseholdStatus.MONITORED,
    "建档立卡贫困户": HouseholdStatus.REGISTERED_POOR,
    "贫困户": HouseholdStatus.REGISTERED_POOR,
    **{status.value: status for status in HouseholdStatus},
}

REGISTRY_NUMBER = re.compile(r"^[0-9A-Za-z\-_]{4,32}$")
ACCOUNT_NUMBER = re.compile(r"^\d{8,30}$")
MAX_LENGTH = {"head_name": 40, "township": 60, "village": 60, "bank": 80, "account_name": 40}
MAX_MEMBERS = 30
# Names that go into the bank's payout file. One starting like a formula (=, +, -, @, full-width ＝＋－＠) is no
# plausible name of a person or a bank: it is a formula the office's spreadsheet left in, or an attack on whoever
# opens the bank file. Every export neutralises such cells anyway (shop.web.downloads); refusing the row here
# as well tells the county office where to correct it instead of storing a name no bank will match. Township
# and village are not checked: registries write "-" there for "none", and exports neutralise it.
NO_FORMULA = ("head_name", "account_name", "bank")


class UnreadableFile(ValueError):
    """The file as a whole cannot be read (encoding, missing header, missing required columns)."""


@dataclass
class ParsedRow:
    line: int  # the line of the file where the row ends (the header is line 1), as a spreadsheet shows it
    raw: dict[str, str]
    values: dict = field(default_factory=dict)
    errors: dict[str, list[str]] = field(default_factory=dict)

    def error(self, column: str, message: str) -> None:
        self.errors.setdefault(column, []).append(message)


def decode(data: bytes) -> tuple[str, str]:
    """The text and the encoding it was in: UTF-8 with or without BOM, else GBK (read as GB 18030, its superset)."""
    if data.startswith(codecs.BOM_UTF8):
        try:
            return data[len(codecs.BOM_UTF8) :].decode("utf-8"), "utf-8-sig"
        except UnicodeDecodeError:
            raise UnreadableFile(_("The file starts like UTF-8 but is not valid UTF-8.")) from None
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030"), "gbk"
    except UnicodeDecodeError:
        raise UnreadableFile(
            _("The file is neither UTF-8 nor GBK text: save it as CSV (UTF-8) and try again.")
        ) from None


def read_rows(text: str) -> list[ParsedRow]:
    """The data rows (blank rows skipped) with their cells under canonical column names."""
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise UnreadableFile(_("The file is empty.")) from None
    except csv.Error as error:
        raise UnreadableFile(_("The file is not valid CSV: %(error)s", error=str(error))) from None
    columns: list[str | None] = []
    for cell in header:
        columns.append(HEADER_TO_COLUMN.get(cell.strip().lstrip("\ufeff").lower()))
    missing = [column for column in REQUIRED if column not in columns]
    if missing:
        raise UnreadableFile(
            _(
                "The header row lacks required columns: %(columns)s.",
                columns=", ".join(f"{COLUMNS[c][0]}/{c}" for c in missing),
            )
        )
    rows = []
    try:
        for cells in reader:
            if not any(cell.strip() for cell in cells):
                continue
            raw = {column: "" for column in COLUMNS}
            for column, cell in zip(columns, cells, strict=False):
                if column is not None:
                    raw[column] = cell.strip()
            rows.append(ParsedRow(line=reader.line_num, raw=raw))
    except csv.Error as error:
        raise UnreadableFile(
            _("The file is not valid CSV near line %(line)d: %(error)s", line=reader.line_num, error=str(error))
        ) from None
    return rows


def check_row(row: ParsedRow) -> ParsedRow:
    """The row's own checks (no database): required cells, ID number, members, type, account number."""
    raw = row.raw
    for column in REQUIRED:
        if not raw[column]:
            row.error(column, _("This field is required."))
    registry_number = raw["registry_number"]
    if registry_number and not REGISTRY_NUMBER.match(registry_number):
        row.error("registry_number", _("4 to 32 letters, digits, - or _."))
    id_number = raw["id_number"].upper()
    if id_number:
        try:
            id_number = validate_id_number(id_number)
        except ValidationError:
            row.error("id_number", _("Not a valid resident ID number (length, birth date or check digit)."))
    county_code = raw["county_code"]
    if county_code and not (len(county_code) == 6 and county_code.isdigit()):
        row.error("county_code", _("A region code has six digits."))
    members = None
    if raw["members"]:
        try:
            members = int(raw["members"])
        except ValueError:
            members = None
        if members is None or not 1 <= members <= MAX_MEMBERS:
            row.error("members", _("A whole number from 1 to %(n)d.", n=MAX_MEMBERS))
    status = STATUS_WORDS.get(raw["status"]) or STATUS_WORDS.get(raw["status"].lower())
    if raw["status"] and status is None:
        row.error("status", _("Unknown household type: use 脱贫户, 监测户 or 建档立卡贫困户."))
    account_number = re.sub(r"[\s-]", "", raw["account_number"])
    if account_number and not ACCOUNT_NUMBER.match(account_number):
        row.error("account_number", _("An account number has 8 to 30 digits."))
    for column, limit in MAX_LENGTH.items():
        if len(raw[column]) > limit:
            row.error(column, _("At most %(n)d characters.", n=limit))
    for column in NO_FORMULA:
        if looks_like_formula(raw[column]):
            row.error(column, _("A name cannot start with =, +, - or @: a spreadsheet would run it as a formula."))
    if not row.errors:
        row.values = {
            "registry_number": registry_number,
            "head_name": raw["head_name"],
            "id_number": id_number,
            "county_code": county_code,
            "township": raw["township"],
            "village": raw["village"],
            "members": members,
            "status": status.value,
            "payout_bank_name": raw["bank"],
            "payout_account_name": raw["account_name"],
            "payout_account_number": account_number,
        }
    return row


def validate_id_number(number: str, today: date | None = None) -> str:
    """The compact 18-character resident ID number, or stdnum's ValidationError.

    stdnum checks length, digits, the check digit and the birth date. Its `validate` also refuses a region
    code that did not exist in the birth year (饶阳县 131124 dates from 1996), but 18-digit numbers were
    issued from 1999 with the region code of that time, so a head of household born in 1960 in Raoyang holds
    131124…: that check would refuse most real registries, and is left out here.
    """
    number = ric.compact(number)
    if len(number) != 18:
        raise InvalidLength()
    if not isdigits(number[:-1]) or not (number[-1].isdigit() or number[-1] == "X"):
        raise InvalidFormat()
    if number[-1] != ric.calc_check_digit(number):
        raise InvalidChecksum()
    born = ric.get_birth_date(number)  # InvalidComponent for an impossible date
    if born > (today or date.today()) or born.year < 1900:
        raise InvalidComponent()
    return number
