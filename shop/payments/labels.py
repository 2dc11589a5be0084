"""Words for the payment area's codes, in the UI language (lazy: evaluated when shown).

An order's payment status is its payment's state (`Order.payment_status`), "not_started" before any attempt and
"demo" for the demo's order paid outside the provider."""

from flask_babel import lazy_gettext as _l

PAYMENT_STATUS_LABELS = {
    "not_started": _l("Not started"),
    "creating": _l("Being set up"),
    "create_failed": _l("Setup failed, will retry"),
    "requires_payment_method": _l("Waiting for a card"),
    "requires_confirmation": _l("Waiting for confirmation"),
    "requires_action": _l("Waiting for card authentication"),
    "processing": _l("Processing"),
    "succeeded": _l("Paid"),
    "declined": _l("Card declined"),
    "failed": _l("Failed"),
    "canceled": _l("Cancelled"),
    "refund_due": _l("Paid after cancellation: refund due"),
    "refunded_after_cancel": _l("Refunded"),
    "amount_mismatch": _l("Amount mismatch: under review"),
    "demo": _l("Demo data: paid outside the payment service"),
}
PAYMENT_ACTION_LABELS = {
    "await_method": _l("Waiting for a card"),
    "require_action": _l("Waiting for card authentication"),
    "process": _l("Processing"),
    "fail": _l("Failed"),
    "succeed": _l("Paid"),
    "mismatch": _l("Amount mismatch: under review"),
    "decline": _l("Card declined"),
    "cancel": _l("Cancelled"),
    "create_failed": _l("Setup failed, will retry"),
    "retry": _l("Being set up"),
    "arrive_late": _l("Paid after cancellation: refund due"),
    "refund_late": _l("Refunded"),
}
