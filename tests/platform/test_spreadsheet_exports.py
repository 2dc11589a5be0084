"""The public directory of certified products as CSV carries no live formula (issue #12, part 4): a product or
cooperative name that starts like a formula reaches the spreadsheet as text."""

from __future__ import annotations

import csv
import io

from sqlalchemy import update

from certification.models import Certificate
from shop.extensions import db
from tests.factories import SHENZHOU

HYPERLINK = '=HYPERLINK("http://evil.example/","深州蜜桃")'
FULL_WIDTH_AT = "＠SUM(1+1)"


def test_the_certified_directory_csv_neutralises_names(app, client, make):
    coop = make.cooperative(county=SHENZHOU)
    product = make.product(coop, name="深州蜜桃")
    with app.app_context():
        # As printed on the certificate: whatever rule the catalogue has today, older rows may hold anything.
        db.session.execute(
            update(Certificate)
            .where(Certificate.product_id == product)
            .values(product_name=HYPERLINK, cooperative_name=FULL_WIDTH_AT)
        )
        db.session.commit()
    answer = client.get("/certified.csv")
    assert answer.status_code == 200 and answer.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(answer.get_data(as_text=True).lstrip("\ufeff"), newline="")))
    assert len(rows) == 2
    assert rows[1][1] == "'" + HYPERLINK and rows[1][3] == "'" + FULL_WIDTH_AT
    assert rows[1][4] == SHENZHOU  # codes and dates are left as they are
