"""Sessions and sign-in: signing out ends the session for every copy of its cookie; the sign-in limit comes first."""

from __future__ import annotations

from flask_login import encode_cookie

from shop.accounts import services as accounts
from shop.accounts.models import ApiToken, User
from shop.accounts.roles import Role
from shop.extensions import db
from tests.conftest import csrf_token, login
from tests.factories import PASSWORD

SIGN_IN_LIMIT = 30  # shop/accounts/views.py: 30 per 10 minutes


def signed_in(client) -> bool:
    """Whether the client's cookie is a signed-in session: a page for signed-in users answers, or sends to /login."""
    answer = client.get("/account/tokens")
    assert answer.status_code in (200, 302)
    assert answer.status_code == 200 or answer.headers["Location"].startswith("/login")
    return answer.status_code == 200


def test_a_cookie_saved_before_signing_out_is_signed_out_after_it(app, client, make):
    user = make.get(User, make.user(Role.CONSUMER))
    login(client, user.email)
    saved_cookie = client.get_cookie("session").value
    form_token = csrf_token(client, "/account/tokens")  # what a thief would have taken with the cookie

    assert client.post("/logout", data={"csrf_token": csrf_token(client, "/")}).status_code == 302

    thief = app.test_client()
    thief.set_cookie("session", saved_cookie)
    assert not signed_in(thief)
    made = thief.post("/account/tokens", data={"name": "stolen", "csrf_token": form_token})
    assert made.status_code == 302 and made.headers["Location"].startswith("/login")
    with app.app_context():
        assert db.session.query(ApiToken).count() == 0
    # Signing out ended the cookie, not the account.
    login(client, user.email)
    assert signed_in(client)


def test_ending_all_sessions_signs_the_user_out_of_every_browser(app, make):
    """What a password change will call: every browser of the user is out, other users stay in."""
    user_id = make.user(Role.CONSUMER)
    other_id = make.user(Role.CONSUMER)
    laptop, phone, someone_else = app.test_client(), app.test_client(), app.test_client()
    login(laptop, make.get(User, user_id).email)
    login(phone, make.get(User, user_id).email)
    login(someone_else, make.get(User, other_id).email)

    with app.app_context():
        accounts.end_all_sessions(db.session.get(User, user_id))
        db.session.commit()

    assert not signed_in(laptop) and not signed_in(phone)
    assert signed_in(someone_else)
    login(phone, make.get(User, user_id).email)
    assert signed_in(phone)


def test_a_correct_password_after_the_limit_is_still_refused(app, client, make):
    """The limit counts the attempt before the password is checked: guessing right in the window does not help."""
    user = make.get(User, make.user(Role.CONSUMER))
    token = csrf_token(client, "/login")
    wrong = [
        client.post("/login", data={"email": user.email, "password": "guess", "csrf_token": token}).status_code
        for _ in range(SIGN_IN_LIMIT)
    ]
    right = client.post("/login", data={"email": user.email, "password": PASSWORD, "csrf_token": token})
    assert wrong == [422] * SIGN_IN_LIMIT
    assert right.status_code == 429
    assert not signed_in(client)


def test_a_remember_me_cookie_names_nobody_once_the_sessions_end(app, make):
    """The shop offers no "remember me" yet; should it come, its cookie carries the same token and dies too."""
    user_id = make.user(Role.CONSUMER)
    with app.test_request_context():
        remember_cookie = encode_cookie(db.session.get(User, user_id).get_id())
    before = app.test_client()
    before.set_cookie("remember_token", remember_cookie)
    assert signed_in(before)

    with app.app_context():
        accounts.end_all_sessions(db.session.get(User, user_id))
        db.session.commit()

    after = app.test_client()
    after.set_cookie("remember_token", remember_cookie)
    assert not signed_in(after) and not signed_in(before)
