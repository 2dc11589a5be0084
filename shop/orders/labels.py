"""Words for the order area's codes, in the UI language (lazy: evaluated when shown)."""

from flask_babel import lazy_gettext as _l

from shop.payments.labels import PAYMENT_STATUS_LABELS  # noqa: F401 (the order pages show it)

ORDER_STATUS_LABELS = {
    "pending_payment": _l("Awaiting payment"),
    "paid": _l("Paid"),
    "completed": _l("Completed"),
    "cancelled": _l("Cancelled"),
}
SHIPMENT_STATUS_LABELS = {
    "awaiting_shipment": _l("Awaiting shipment"),
    "shipped": _l("Shipped"),
    "delivered": _l("Delivered"),
}
EVENT_LABELS = {
    "place": _l("Order placed"),
    "pay": _l("Payment received"),
    "cancel": _l("Order cancelled"),
    "complete": _l("Order completed"),
    "ship": _l("Shipped"),
    "deliver": _l("Receipt confirmed"),
    "refund_requested": _l("Refund requested"),
    "refund_approved": _l("Refund approved"),
    "refund_rejected": _l("Refund refused"),
    "refund": _l("Refund paid back"),
    "refund_reopened": _l("Refund not made by the payment service: awaiting a decision again"),
}
REFUND_STATUS_LABELS = {
    "requested": _l("Awaiting decision"),
    "approved": _l("Approved, being paid back"),
    "succeeded": _l("Refunded"),
    "failed": _l("Payment service failed"),
    "rejected": _l("Refused"),
}
ACTOR_LABELS = {
    "buyer": _l("buyer"),
    "cooperative": _l("cooperative"),
    "operator": _l("operator"),
    "provider": _l("payment provider"),
    "job": _l("scheduled job"),
}
FLAG_LABELS = {
    "amount_mismatch": _l("Amount does not match the order"),
    "paid_after_cancel": _l("Paid after the order was cancelled"),
    "unknown_intent": _l("Payment that matches no order"),
}
