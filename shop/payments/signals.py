"""What payments announce about a payment, for the areas that care (orders subscribes, in orders/paying.py).

Payments never imports orders: it records what the provider said about a payment, then sends one of these with
the Payment as the sender. Receivers run in the same unit of work as the sender (a receiver that fails rolls the
whole answer back, so the provider delivers it again). Keyword arguments: `capacity` ("provider" for the
provider's answer, "job" for a job or the demo seed).
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
