"""shop.types.insert_loaded: rows written by one Core INSERT come back as objects that match the database."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from shop.accounts.roles import Role
from shop.extensions import db
from shop.orders.models import Order, OrderStatus
from shop.types import insert_loaded, utcnow


def test_the_objects_hold_every_column_as_stored_and_leave_nothing_to_flush(app, make):
    buyer = make.user(Role.CONSUMER)
    now = utcnow()
    rows = [
        {
            "buyer_id": buyer,
            "checkout_key": f"insert-loaded-{n}",
            "recipient": "王小明",
            "mobile": "13800138000",
            "district_code": "110105",
            "address_detail": "朝阳路 1 号",
            "items_fen": 1000 * n,
            "shipping_fen": 800,
            "total_fen": 1000 * n + 800,
            "expires_at": now + timedelta(minutes=30),
        }
        for n in (1, 2, 3)
    ]
    rows[0]["placed_at"] = now - timedelta(minutes=1)  # given; the others take the column's callable default
    with app.app_context():
        orders = insert_loaded(Order, rows)
        assert [o.checkout_key for o in orders] == ["insert-loaded-1", "insert-loaded-2", "insert-loaded-3"]
        assert all(sa.inspect(o).persistent for o in orders)
        assert not db.session.new and not db.session.dirty
        # The column defaults were applied in Python, as the INSERT stored them.
        assert {(o.status, o.currency, o.paid_fen, o.payment_intent_id) for o in orders} == {
            (OrderStatus.PENDING_PAYMENT, "cny", 0, None)
        }
        assert orders[0].placed_at == now - timedelta(minutes=1)
        assert all(now <= o.placed_at <= utcnow() for o in orders[1:])
        held = [{c.key: getattr(o, c.key) for c in Order.__table__.columns} for o in orders]
        db.session.commit()
        stored = db.session.execute(sa.select(Order.__table__).order_by(Order.id)).mappings().all()
        assert [dict(row) for row in stored] == held
