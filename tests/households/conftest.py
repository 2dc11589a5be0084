"""People and helpers for the households tests: a county reviewer of each county, a cooperative with its staff."""

from __future__ import annotations

import csv
import io

import pytest

from shop.accounts.roles import Role
from tests.factories import RAOYANG, SHENZHOU

CHINESE_HEADER = [
    "户编号",
    "户主姓名",
    "身份证号",
    "县级代码",
    "乡镇",
    "村",
    "家庭人口",
    "户类型",
    "开户行",
    "户名",
    "账号",
]
ENGLISH_HEADER = [
    "registry_number",
    "head_name",
    "id_number",
    "county_code",
    "township",
    "village",
    "members",
    "status",
    "bank",
    "account_name",
    "account_number",
]


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}", "Accept-Language": "en"}


def csv_bytes(rows: list[list], header: list[str] = CHINESE_HEADER, encoding: str = "utf-8") -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode(encoding)


def row(make, registry: str, name: str = "李四光", county: str = RAOYANG, **overrides) -> list:
    values = {
        "registry_number": registry,
        "head_name": name,
        "id_number": make.id_number(county),
        "county_code": county,
        "township": "城关镇",
        "village": "东村",
        "members": "3",
        "status": "脱贫户",
        "bank": "农村信用社",
        "account_name": name,
        "account_number": "6228480012345678",
    } | overrides
    return [values[column] for column in ENGLISH_HEADER]


@pytest.fixture
def people(make):
    cooperative = make.cooperative(county=RAOYANG, name="饶阳蔬菜合作社")
    ids = {
        "cooperative": cooperative,
        "staff_id": make.staff(cooperative),
        "county_id": make.user((Role.COUNTY_REVIEWER, {"region_code": RAOYANG})),
        "other_county_id": make.user((Role.COUNTY_REVIEWER, {"region_code": SHENZHOU})),
        "province_id": make.user((Role.PROVINCE_REVIEWER, {"region_code": "130000"})),
        "operator_id": make.user(Role.OPERATOR),
        "consumer_id": make.user(Role.CONSUMER),
    }
    for name in ("staff", "county", "other_county", "province", "operator", "consumer"):
        ids[name] = bearer(make.token(ids[f"{name}_id"]))
    return ids
