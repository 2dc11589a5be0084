"""Importing the county office's CSV: good rows in, bad rows reported by line, nothing half-written."""

from __future__ import annotations

import codecs
import io

from sqlalchemy import func, select

from shop.extensions import db
from shop.households.models import Household
from tests.factories import RAOYANG, SHENZHOU
from tests.households.conftest import ENGLISH_HEADER, csv_bytes, row


def upload(client, headers, data: bytes, name: str = "households.csv"):
    return client.post("/api/v1/households/import", headers=headers, data={"file": (io.BytesIO(data), name)})


def registry_numbers(app) -> set[str]:
    with app.app_context():
        return set(db.session.scalars(select(Household.registry_number)))


def a_bad_check_digit(make, county=RAOYANG) -> str:
    good = make.id_number(county)
    return good[:17] + ("0" if good[17] != "0" else "1")


def test_a_county_reviewer_imports_utf8_good_rows_and_gets_every_bad_row_reported(app, client, make, people):
    rows = [
        row(make, "1311240001", "李四光"),  # line 2: good
        row(make, "1311240002", "张三", id_number=a_bad_check_digit(make)),  # line 3: bad check digit
        row(make, "1311240003", "王五", county="999999"),  # line 4: unknown county
        row(make, "1311820004", "赵六", county=SHENZHOU),  # line 5: another county
        row(make, "1311240001", "李四光"),  # line 6: repeats line 2
        row(make, "1311240006", "", members=""),  # line 7: missing name and members
        row(make, "1311240007", "孙七", status="监测户"),  # line 8: good
    ]
    response = upload(client, people["county"], csv_bytes(rows))
    assert response.status_code == 200, response.json
    report = response.json
    assert report["encoding"] == "utf-8"
    assert (report["rows"], report["created"], report["updated"], report["imported"]) == (7, 2, 0, 2)
    errors = {e["row"]: e for e in report["errors"]}
    assert sorted(errors) == [3, 4, 5, 6, 7]
    assert list(errors[3]["fields"]) == ["id_number"]
    assert list(errors[4]["fields"]) == ["county_code"] and "Unknown county" in errors[4]["fields"]["county_code"][0]
    assert "your own county" in errors[5]["fields"]["county_code"][0]
    assert "line 2" in errors[6]["fields"]["registry_number"][0]
    assert set(errors[7]["fields"]) == {"head_name", "members"}
    assert errors[3]["registry_number"] == "1311240002"
    # Only the good rows exist; no bad row left anything behind.
    assert registry_numbers(app) == {"1311240001", "1311240007"}
    with app.app_context():
        sun = db.session.scalar(select(Household).where(Household.registry_number == "1311240007"))
        assert (sun.head_name, sun.status, sun.members, sun.township) == ("孙七", "monitored", 3, "城关镇")
        assert sun.payout_account_number == "6228480012345678"


def test_a_gbk_file_with_a_bom_less_chinese_header_is_read(app, client, make, people):
    rows = [
        row(make, "1311240101", "刘德华", status="建档立卡贫困户"),
        row(make, "1311240102", "郭富城", members="零"),  # not a number
    ]
    response = upload(client, people["county"], csv_bytes(rows, encoding="gbk"))
    assert response.status_code == 200, response.json
    assert response.json["encoding"] == "gbk"
    assert response.json["created"] == 1
    assert [(e["row"], list(e["fields"])) for e in response.json["errors"]] == [(3, ["members"])]
    with app.app_context():
        liu = db.session.scalar(select(Household).where(Household.registry_number == "1311240101"))
        assert (liu.head_name, liu.status, liu.village) == ("刘德华", "registered_poor", "东村")


def test_utf8_with_bom_and_english_headers_is_read(app, client, make, people):
    data = codecs.BOM_UTF8 + csv_bytes([row(make, "1311240201", status="lifted_out")], header=ENGLISH_HEADER)
    response = upload(client, people["operator"], data)
    assert response.status_code == 200 and response.json["encoding"] == "utf-8-sig"
    assert response.json["created"] == 1 and response.json["errors"] == []


def test_reimporting_a_registry_number_updates_the_household_and_never_duplicates_it(app, client, make, people):
    first = row(make, "1311240301", "陈一")
    assert upload(client, people["county"], csv_bytes([first])).json["created"] == 1
    newer = list(first)
    newer[ENGLISH_HEADER.index("status")] = "监测户"
    newer[ENGLISH_HEADER.index("members")] = "5"
    response = upload(client, people["county"], csv_bytes([newer]))
    assert (response.json["created"], response.json["updated"]) == (0, 1)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Household)) == 1
        household = db.session.scalar(select(Household))
        assert (household.status, household.members) == ("monitored", 5)


def test_a_registry_number_cannot_move_county_and_an_id_number_belongs_to_one_household(app, client, make, people):
    make.household(county=RAOYANG, registry_number="1311240401", id_number=(taken := make.id_number(RAOYANG)))
    rows = [
        row(make, "1311240401", county=SHENZHOU),  # stored in Raoyang
        row(make, "1311240402", id_number=taken),  # ID of the household above
    ]
    response = upload(client, people["operator"], csv_bytes(rows))
    assert response.json["imported"] == 0
    assert [list(e["fields"]) for e in response.json["errors"]] == [["county_code"], ["id_number"]]
    assert registry_numbers(app) == {"1311240401"}


def test_a_file_without_the_required_columns_or_with_too_many_rows_is_refused_whole(app, client, make, people):
    headerless = "户编号,户主姓名\n1311240501,李四\n".encode()
    response = upload(client, people["county"], headerless)
    assert response.status_code == 422 and "file" in response.json["error"]["fields"]
    app.config["HOUSEHOLD_IMPORT_MAX_ROWS"], limit = 2, app.config["HOUSEHOLD_IMPORT_MAX_ROWS"]
    try:
        rows = [row(make, f"13112406{i:02d}") for i in range(3)]
        response = upload(client, people["county"], csv_bytes(rows))
    finally:
        app.config["HOUSEHOLD_IMPORT_MAX_ROWS"] = limit
    assert response.status_code == 413
    assert registry_numbers(app) == set()


def test_who_may_import(client, make, people):
    data = csv_bytes([row(make, "1311240701")])
    for who in ("staff", "province", "consumer"):
        assert upload(client, people[who], data).status_code == 403, who
    assert upload(client, {}, data).status_code == 401
    assert client.post("/api/v1/households/import", headers=people["county"]).status_code == 422
