"""What payments announce to the areas that build on them, so payments never imports them (blinker signals).

A receiver is connected once, when the app is created (`shop.create_app`); the sender reads what the receivers
return from `send` (a list of (receiver, answer) pairs).
"""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

# A verified `charge.refunded` event: `send(charge=<the event's charge object>)`. A receiver returns its outcome
# for the provider-event log (the orders area subscribes: it reconciles the refunds the shop made).
charge_refunded = _signals.signal("charge-refunded")
