"""Certification through HTTP: the API a cooperative and its reviewers use, public verification, QR, directory."""

from __future__ import annotations

import io

import pytest

from certification.models import Application
from shop.accounts.models import User
from shop.accounts.roles import Role
from shop.extensions import db
from tests.conftest import csrf_token, login
from tests.factories import COMPLETE_EVIDENCE, PDF, SHENZHOU


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def people(make):
    coop = make.cooperative(county=SHENZHOU, name="深州蜜桃合作社")
    product = make.product(coop, certified=False, name="深州蜜桃")
    return {
        "coop": coop,
        "product": product,
        "staff": bearer(make.token(make.staff(coop))),
        "county": bearer(make.token(make.user((Role.COUNTY_REVIEWER, {"region_code": SHENZHOU})))),
        "province": bearer(make.token(make.user((Role.PROVINCE_REVIEWER, {"region_code": "130000"})))),
        "other_province": bearer(make.token(make.user((Role.PROVINCE_REVIEWER, {"region_code": "420000"})))),
        "operator": bearer(make.token(make.user(Role.OPERATOR))),
        "consumer": bearer(make.token(make.user(Role.CONSUMER))),
    }


def transition(client, application_id, headers, action, comment=""):
    return client.post(
        f"/api/v1/certification/applications/{application_id}/transitions",
        json={"action": action, "comment": comment},
        headers={**headers, "Accept-Language": "en"},  # some tests read the refusal's words
    )


def test_a_product_goes_from_application_to_the_catalogue_through_the_api(app, client, people):
    created = client.post(
        "/api/v1/certification/applications",
        headers=people["staff"],
        json={"product_id": people["product"], **COMPLETE_EVIDENCE, "origin_county_code": SHENZHOU},
    )
    assert created.status_code == 201, created.json
    application_id = created.json["id"]
    assert created.json["state"] == "draft" and created.json["allowed_actions"] == ["submit"]
    not_yet = transition(client, application_id, people["staff"], "submit")
    assert not_yet.status_code == 422 and "quality_report" in not_yet.json["error"]["fields"]
    upload = client.post(
        f"/api/v1/certification/applications/{application_id}/documents",
        headers=people["staff"],
        data={"file": (io.BytesIO(PDF), "质检报告.pdf"), "kind": "quality_report"},
    )
    assert upload.status_code == 201 and upload.json["content_type"] == "application/pdf"
    assert transition(client, application_id, people["staff"], "submit").json["state"] == "submitted"
    queue = client.get("/api/v1/certification/queue", headers=people["county"]).json
    assert [(item["application"]["id"], item["stage"]) for item in queue] == [(application_id, "county")]
    assert transition(client, application_id, people["county"], "county_approve").json["state"] == "county_approved"
    wrong = transition(client, application_id, people["other_province"], "province_approve")
    assert wrong.status_code == 403 and "province reviewer" in wrong.json["error"]["message"]
    published = transition(client, application_id, people["province"], "province_approve")
    assert published.json["state"] == "public_notice" and published.json["notice_ends_on"]
    too_late = transition(client, application_id, people["county"], "county_approve")
    assert too_late.status_code == 409 and "public_notice" in too_late.json["error"]["message"]
    assert client.get(f"/api/v1/products/{people['product']}").status_code == 404  # not certified yet
    # The notice ends; the operator runs the job (as cron would) on a date after it.
    with app.app_context():
        from datetime import timedelta

        from certification import jobs

        ends = db.session.get(Application, application_id).notice_ends_on
        number = jobs.tick(ends + timedelta(days=1)).certified[0]
        db.session.commit()
    detail = client.get(f"/api/v1/certification/applications/{application_id}", headers=people["staff"]).json
    assert detail["state"] == "certified" and detail["certificate"]["certificate_no"] == number
    assert [e["action"] for e in detail["events"]] == ["submit", "county_approve", "province_approve", "end_notice"]
    assert [e["actor_role"] for e in detail["events"]] == [
        "cooperative_staff",
        "county_reviewer",
        "province_reviewer",
        "job",
    ]


def test_the_history_of_an_application_is_visible_to_its_parties_only(client, make, people):
    application_id = make.application(people["product"], up_to="submitted")
    for who in ("staff", "county", "province", "operator"):
        assert (
            client.get(f"/api/v1/certification/applications/{application_id}", headers=people[who]).status_code == 200
        )
    for who in ("consumer", "other_province"):
        assert (
            client.get(f"/api/v1/certification/applications/{application_id}", headers=people[who]).status_code == 404
        )
    listed = client.get("/api/v1/certification/applications?state=submitted", headers=people["other_province"]).json
    assert listed == []


def test_anyone_signed_in_may_object_during_the_notice(client, make, people):
    application_id = make.application(people["product"], up_to="public_notice")
    no_reason = client.post(
        f"/api/v1/certification/applications/{application_id}/objections",
        json={"reason": ""},
        headers=people["consumer"],
    )
    assert no_reason.status_code == 422
    objection = client.post(
        f"/api/v1/certification/applications/{application_id}/objections",
        json={"reason": "价格明显高于同类产品"},
        headers=people["consumer"],
    )
    assert objection.status_code == 201 and objection.json["objections"][0]["status"] == "open"
    queue = client.get("/api/v1/certification/queue", headers=people["province"]).json
    assert [item["stage"] for item in queue] == ["objection"]


@pytest.fixture
def certified(make, people):
    make.certify(people["product"])
    with make.app.app_context():
        application = db.session.query(Application).filter_by(product_id=people["product"]).one()
        return application.id, application.certificate.certificate_no


def test_revocation_takes_the_product_off_sale_at_once(client, people, certified):
    application_id, number = certified
    assert client.get(f"/api/v1/products/{people['product']}").status_code == 200
    assert client.get("/api/v1/products").json["total"] == 1
    revoked = transition(client, application_id, people["operator"], "revoke", "产地造假")
    assert revoked.status_code == 200
    assert client.get(f"/api/v1/products/{people['product']}").status_code == 404
    assert client.get("/api/v1/products").json["total"] == 0
    verified = client.get(f"/api/v1/certificates/{number}").json
    assert verified["status"] == "revoked" and verified["is_valid"] is False
    assert (
        "Revoked on"
        in client.get(f"/api/v1/certificates/{number}", headers={"Accept-Language": "en"}).json["status_text"]
    )


def test_suspension_is_explained_to_the_cooperative_and_hidden_from_the_public(client, make, people, certified):
    application_id, number = certified
    assert transition(client, application_id, people["province"], "suspend", "抽检不合格").status_code == 200
    assert client.get(f"/products/{people['product']}").status_code == 404
    staff_client = client.application.test_client()
    staff_id = make.staff(people["coop"])
    login(staff_client, make.get(User, staff_id).email)
    staff_client.get("/lang/en")
    page = staff_client.get(f"/products/{people['product']}").get_data(as_text=True)
    assert f"Its certificate {number} is suspended" in page
    reinstated = transition(client, application_id, people["province"], "reinstate")
    assert reinstated.json["state"] == "certified"
    assert client.get(f"/products/{people['product']}").status_code == 200


def test_public_verification(client, people, certified):
    _, number = certified
    answer = client.get(f"/api/v1/certificates/{number}", headers={"Accept-Language": "en"})
    assert answer.status_code == 200
    body = answer.json
    assert body["is_valid"] is True and body["status"] == "certified"
    assert body["product_name"] == "深州蜜桃" and body["cooperative_name"] == "深州蜜桃合作社"
    assert body["origin"] == "河北省衡水市深州市"
    assert body["status_text"].startswith("Certified, valid until")
    assert body["verify_url"].endswith(f"/verify/{number}")
    page = client.get(f"/verify/{number.lower()}", headers={"Accept-Language": "en"})
    assert page.status_code == 200 and "深州蜜桃" in page.get_data(as_text=True)


@pytest.mark.parametrize("number", ["FP13-2026-999999", "nonsense", "FP13-2026-00000%27"])
def test_an_unknown_number_says_so(client, number):
    answer = client.get(f"/api/v1/certificates/{number}")
    assert answer.status_code == 404 and answer.json["error"]["code"] == "not_found"
    page = client.get(f"/verify/{number}", headers={"Accept-Language": "en"})
    assert page.status_code == 404 and "Unknown number" in page.get_data(as_text=True)


def test_verification_is_rate_limited(app, client):
    limit = int(app.config["VERIFY_RATE_LIMIT"].split()[0])
    statuses = [client.get(f"/api/v1/certificates/FP13-2026-{n:06d}").status_code for n in range(limit + 2)]
    assert set(statuses[:limit]) == {404} and statuses[limit:] == [429, 429]


def test_qr_codes_point_at_the_verification_page(client, certified):
    _, number = certified
    svg = client.get(f"/verify/{number}/qr.svg")
    assert svg.status_code == 200 and svg.mimetype == "image/svg+xml" and b"<svg" in svg.data
    png = client.get(f"/verify/{number}/qr.png?download=1")
    assert png.status_code == 200 and png.data.startswith(b"\x89PNG")
    assert "attachment" in png.headers["Content-Disposition"]


def test_the_directory_of_certified_products_and_its_csv(client, make, people, certified):
    _, number = certified
    page = client.get("/certified?province=13")
    assert number in page.get_data(as_text=True)
    assert number not in client.get("/certified?province=42").get_data(as_text=True)
    assert number not in client.get("/certified?category=tea").get_data(as_text=True)
    csv = client.get("/certified.csv?category=fruit")
    assert csv.mimetype == "text/csv"
    lines = csv.get_data(as_text=True).lstrip("\ufeff").splitlines()
    assert lines[0].startswith("certificate_no,product,category")
    assert lines[1].startswith(f"{number},深州蜜桃,fruit,深州蜜桃合作社,131182,河北省衡水市深州市")


def test_documents_are_checked_by_content(client, make, people):
    application_id = make.application(people["product"], up_to="draft")
    disguised = client.post(
        f"/api/v1/certification/applications/{application_id}/documents",
        headers=people["staff"],
        data={"file": (io.BytesIO(b"MZ\x90\x00 not a pdf"), "report.pdf")},
    )
    assert disguised.status_code == 422 and "file" in disguised.json["error"]["fields"]


def test_cooperative_pages_apply_and_submit(app, client, make, people):
    staff_id = make.staff(people["coop"])
    login(client, make.get(User, staff_id).email)
    url = f"/certification/new?product_id={people['product']}"
    form = {
        "csrf_token": csrf_token(client, url),
        "origin_county_code": SHENZHOU,
        "production_base_address": "果园",
        "annual_output": "1000",
        "output_unit": "kg",
        "supply_capacity": "每周 2 吨",
        "declared_price_yuan": "8.80",
        "market_price_yuan": "9.00",
        "market_price_source": "批发市场",
        "linkage_type": "wages",
        "linkage_description": "吸纳 12 户脱贫户务工",
        "linked_households": "12",
    }
    created = client.post(url, data=form)
    assert created.status_code == 302, created.get_data(as_text=True)[:2000]
    detail_url = created.headers["Location"]
    token = csrf_token(client, detail_url)
    client.post(
        f"{detail_url}/documents",
        data={"csrf_token": token, "kind": "quality_report", "file": (io.BytesIO(PDF), "report.pdf")},
        content_type="multipart/form-data",
    )
    submitted = client.post(f"{detail_url}/transitions", data={"csrf_token": token, "action": "submit"})
    assert submitted.status_code == 302
    with app.app_context():
        application = db.session.query(Application).one()
        assert (application.state, application.declared_price_fen, application.linkage_type) == (
            "submitted",
            880,
            "wages",
        )


def test_operators_maintain_the_holiday_calendar(client, people):
    put = client.put(
        "/api/v1/certification/calendar",
        headers=people["operator"],
        json={"day": "2027-01-01", "kind": "holiday", "name": "元旦"},
    )
    assert put.status_code == 200
    listed = client.get("/api/v1/certification/calendar?year=2027", headers=people["consumer"]).json
    assert listed == [{"day": "2027-01-01", "kind": "holiday", "name": "元旦"}]
    seeded = client.get("/api/v1/certification/calendar?year=2026", headers=people["consumer"]).json
    assert {"day": "2026-10-10", "kind": "workday", "name": "国庆节调休"} in seeded
    assert (
        client.put(
            "/api/v1/certification/calendar", headers=people["consumer"], json={"day": "2027-01-02", "kind": "holiday"}
        ).status_code
        == 403
    )


def test_the_product_page_shows_the_certificate_and_links_to_its_verification(client, people, certified):
    _, number = certified
    page = client.get(f"/products/{people['product']}").get_data(as_text=True)
    assert number in page and f'href="/verify/{number}"' in page
