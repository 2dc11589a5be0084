"""The households pages through the browser's HTTP: import, propose, confirm, shares, sourcing."""

from __future__ import annotations

import io
import re

from sqlalchemy import select

from shop.accounts.models import User
from shop.extensions import db
from shop.households.models import BenefitLink, ProductSourcing
from tests.conftest import csrf_token, login
from tests.factories import RAOYANG
from tests.households.conftest import csv_bytes, row


def signed_in(app, make, user_id):
    client = app.test_client()
    login(client, make.get(User, user_id).email)
    return client


def test_a_county_reviewer_imports_on_the_page_and_reads_the_report(app, make, people):
    client = signed_in(app, make, people["county_id"])
    token = csrf_token(client, "/households/import")
    bad_id = row(make, "1311240902")
    bad_id[2] = bad_id[2][:17] + ("0" if bad_id[2][17] != "0" else "1")
    data = csv_bytes([row(make, "1311240901", "周八"), bad_id], encoding="gbk")
    response = client.post(
        "/households/import",
        data={"csrf_token": token, "file": (io.BytesIO(data), "户籍.csv")},
        headers={"Accept-Language": "en"},
    )
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Import report" in page and "Line 3" in page and "1311240902" in page
    listing = client.get("/households/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "周八" in listing and "1311240901" in listing and "1311240902" not in listing


def test_a_cooperative_proposes_on_its_page_and_the_county_confirms_on_the_pending_page(app, make, people):
    household = make.household(county=RAOYANG, registry_number="1311241000001", head_name="吴九")
    staff = signed_in(app, make, people["staff_id"])
    links_url = f"/coop/{people['cooperative']}/links"
    assert staff.get("/coop/links").headers["Location"].endswith(links_url)
    form = {"csrf_token": csrf_token(staff, links_url), "registry_number": "1311241000001", "link_type": "dividend"}
    assert staff.post(links_url, data={**form, "weight": "3"}).status_code == 302
    page = staff.get(links_url).get_data(as_text=True)
    assert "吴*" in page and "吴九" not in page
    unknown = staff.post(links_url, data={**form, "registry_number": "nope", "weight": "1"})
    assert unknown.status_code == 422

    reviewer = signed_in(app, make, people["county_id"])
    pending = reviewer.get("/households/links/pending").get_data(as_text=True)
    assert "吴九" in pending
    with app.app_context():
        link_id = db.session.scalar(select(BenefitLink.id).where(BenefitLink.household_id == household))
    token = csrf_token(reviewer, "/households/links/pending")
    done = reviewer.post(
        f"/households/links/{link_id}/act", data={"csrf_token": token, "action": "confirm", "back": "pending"}
    )
    assert done.status_code == 302 and done.headers["Location"].endswith("/households/links/pending")
    assert make.get(BenefitLink, link_id).status == "confirmed"
    # The cooperative's page shows the link's history: confirmed, in which capacity.
    history = re.search(r'<ol class="link-history">(.*?)</ol>', staff.get(links_url).get_data(as_text=True), re.S)
    assert (
        history
        and history.group(1).count("<li>") == 1
        and 'class="state state-link-confirmed"' in (staff.get(links_url).get_data(as_text=True))
    )
    twice = reviewer.post(
        f"/households/links/{link_id}/act", data={"csrf_token": token, "action": "confirm", "back": "pending"}
    )
    assert twice.status_code == 302  # refused with a message, nothing changed
    other = signed_in(app, make, people["other_county_id"])
    assert other.get(f"/households/{household}").status_code == 404
    assert "吴九" in reviewer.get(f"/households/{household}").get_data(as_text=True)


def test_share_and_sourcing_pages(app, make, people):
    product = make.product(people["cooperative"], certified=False)
    household = make.household(county=RAOYANG)
    make.link(people["cooperative"], household)
    staff = signed_in(app, make, people["staff_id"])
    share_url = f"/coop/{people['cooperative']}/household-share"
    token = csrf_token(staff, share_url)
    refused = staff.post(share_url, data={"csrf_token": token, "household_share_bp": "10001"})
    assert refused.status_code == 422
    assert staff.post(share_url, data={"csrf_token": token, "household_share_bp": "0"}).status_code == 302

    product_url = f"/coop/products/{product}/households"
    page = staff.get(product_url)
    assert page.status_code == 200
    token = csrf_token(staff, product_url)
    saved = staff.post(product_url, data={"sourcing-csrf_token": token, "sourcing-household_ids": str(household)})
    assert saved.status_code == 302
    with app.app_context():
        assert db.session.scalars(select(ProductSourcing.household_id)).all() == [household]
    share = staff.post(product_url, data={"share-csrf_token": token, "share-household_share_bp": "2500"})
    assert share.status_code == 302
    cleared = staff.post(product_url, data={"sourcing-csrf_token": token})
    assert cleared.status_code == 302
    with app.app_context():
        assert db.session.scalars(select(ProductSourcing.household_id)).all() == []
