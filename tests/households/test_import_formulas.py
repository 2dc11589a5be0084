"""A registry row whose names start like a spreadsheet formula is refused, naming the row and the field
(issue #12, part 4): such a name would travel into the bank's payout file."""

from __future__ import annotations

import io

from sqlalchemy import select

from shop.extensions import db
from shop.households.models import Household
from tests.households.conftest import csv_bytes, row


def test_names_that_start_like_a_formula_are_refused_by_row_and_field(app, client, make, people):
    rows = [
        row(make, "1311240301", '=HYPERLINK("http://evil.example","王五")'),  # line 2: head and account name
        row(make, "1311240302", "李四", account_name="@SUM(1+1)"),  # line 3
        row(make, "1311240303", "张三", bank="＋cmd|' /C calc'!A0"),  # line 4: full-width plus
        row(make, "1311240304", "赵六", account_name="-2+3"),  # line 5
        row(make, "1311240305", "孙七", village="-"),  # line 6: "-" for "no village" is fine there
    ]
    response = client.post(
        "/api/v1/households/import",
        headers=people["county"],
        data={"file": (io.BytesIO(csv_bytes(rows)), "households.csv")},
    )
    assert response.status_code == 200, response.json
    errors = {e["row"]: set(e["fields"]) for e in response.json["errors"]}
    assert errors == {2: {"head_name", "account_name"}, 3: {"account_name"}, 4: {"bank"}, 5: {"account_name"}}
    message = response.json["errors"][0]["fields"]["head_name"][0]
    assert "formula" in message
    with app.app_context():
        assert list(db.session.scalars(select(Household.registry_number))) == ["1311240305"]
