"""One use case, one transaction: a use case that fails halfway leaves no row (and no file) behind."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from shop.accounts import services
from shop.accounts.models import RoleGrantEvent, User
from shop.accounts.roles import Role
from shop.catalog.models import Product, ProductPhoto
from shop.errors import Conflict
from shop.extensions import db
from shop.unit_of_work import use_case
from tests.conftest import csrf_token, login


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (0, 120, 0)).save(buffer, "PNG")
    return buffer.getvalue()


def test_a_product_form_with_one_disguised_photo_creates_nothing(app, client, make):
    """One use case: the product and its photos are kept together or not at all."""
    coop = make.cooperative()
    staff = make.staff(coop)
    login(client, make.get(User, staff).email)
    url = f"/coop/{coop}/products/new"
    form = {
        "csrf_token": csrf_token(client, url),
        "name": "枣阳油桃",
        "category": "fruit",
        "origin_county_code": "131124",
        "unit": "斤",
        "price_yuan": "5.80",
        "stock": "100",
        "min_order_quantity": "1",
        "is_active": "y",
        "photos": [(io.BytesIO(_png()), "good.png"), (io.BytesIO(b"<?php echo 1; ?>"), "evil.png")],
    }
    response = client.post(url, data=form, content_type="multipart/form-data")
    assert response.status_code == 422
    assert "JPEG" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.query(Product).count() == 0
        assert db.session.query(ProductPhoto).count() == 0


def test_the_same_form_with_good_photos_creates_the_product_with_them(app, client, make):
    coop = make.cooperative()
    login(client, make.get(User, make.staff(coop)).email)
    url = f"/coop/{coop}/products/new"
    form = {
        "csrf_token": csrf_token(client, url),
        "name": "枣阳油桃",
        "category": "fruit",
        "origin_county_code": "131124",
        "unit": "斤",
        "price_yuan": "5.80",
        "stock": "100",
        "min_order_quantity": "1",
        "is_active": "y",
        "photos": [(io.BytesIO(_png()), "a.png"), (io.BytesIO(_png()), "b.png")],
    }
    response = client.post(url, data=form, content_type="multipart/form-data")
    assert response.status_code == 302
    with app.app_context():
        product = db.session.query(Product).one()
        assert (product.price_fen, len(product.photos)) == (580, 2)


def _roles_and_grant_events(app, user_id):
    with app.app_context():
        user = db.session.get(User, user_id)
        events = db.session.query(RoleGrantEvent).filter_by(user_id=user_id, role="operator").count()
        return user.role_set, events


def test_a_request_that_fails_after_writing_commits_nothing(app, make):
    """The request's own hooks: a use case writes (role + grant event), then is refused; nothing stays."""
    user_id = make.user(Role.CONSUMER)
    with app.test_request_context("/api/v1/users", method="POST"):
        services.grant_role(None, db.session.get(User, user_id), Role.OPERATOR)
        response = app.make_response(app.handle_user_exception(Conflict("refused after writing")))
        response = app.process_response(response)
        assert response.status_code == 409
        db.session.remove()
    assert _roles_and_grant_events(app, user_id) == ({Role.CONSUMER}, 0)


def test_a_request_that_succeeds_commits_its_writes(app, make):
    user_id = make.user(Role.CONSUMER)
    with app.test_request_context("/api/v1/users", method="POST"):
        services.grant_role(None, db.session.get(User, user_id), Role.OPERATOR)
        app.process_response(app.make_response(("", 204)))
        db.session.remove()
    assert _roles_and_grant_events(app, user_id) == ({Role.CONSUMER, Role.OPERATOR}, 1)


def test_a_command_that_fails_after_writing_commits_nothing(app, make):
    user_id = make.user(Role.CONSUMER)
    with app.app_context():
        with pytest.raises(Conflict), use_case():
            services.grant_role(None, db.session.get(User, user_id), Role.OPERATOR)
            raise Conflict("refused after writing")
        db.session.remove()
    assert _roles_and_grant_events(app, user_id) == ({Role.CONSUMER}, 0)
