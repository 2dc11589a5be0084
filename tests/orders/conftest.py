"""Fixtures of the order tests."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _ledger_sound_after_each_refund_test(app):
    """Every refund, reservation given back and reconciliation leaves the ledger's invariants holding (as the
    payment tests check after each of theirs: these tests came from tests/payments/)."""
    yield
    from shop.extensions import db
    from shop.settlement.check import breaches

    with app.app_context():
        db.session.rollback()
        assert breaches() == []
