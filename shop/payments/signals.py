"""What payments announce to the areas that build on them (orders subscribes, in orders/paying.py and
orders/refunds.py), so payments never imports them (blinker signals).

Payments records what the provider said, then sends one of these. Receivers are connected once, when the app is
created (`shop.create_app`), and run in the same unit of work as the sender (a receiver that fails rolls the whole
answer back, so the provider delivers it again); the sender reads what they return from `send` (a list of
(receiver, answer) pairs). Keyword arguments of the payment signals: `capacity` ("provider" for the provider's
answer, "job" for a job or the demo seed); their sender is the Payment.
"""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

# The provider confirmed the payment for its recorded amount and currency: the order takes the money.
payment_succeeded = _signals.signal("payment-succeeded")
# The provider confirmed money for an attempt the shop had cancelled with its order (the order can no longer take
# it): held in suspense and given back by `flask payments reconcile`.
payment_arrived_late = _signals.signal("payment-arrived-late")
# The attempt will not take money: declined, failed at the provider, or cancelled.
payment_failed = _signals.signal("payment-failed")
# A verified `charge.refunded` event: `send(charge=<the event's charge object>)`. A receiver returns its outcome
# for the provider-event log (orders reconciles the refunds the shop made).
charge_refunded = _signals.signal("charge-refunded")
