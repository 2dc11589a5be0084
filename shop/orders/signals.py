"""What orders announce to the areas that build on them (settlement), so orders never import them (blinker).

Receivers are connected once, when the app is created (`shop.create_app`), and run inside the sender's unit of
work: what they write is committed or rolled back with it.
"""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

# A refund was paid back by the provider and recorded: `send(refund=<Refund>)`. Settlement posts its reversal
# (docs/ledger.md, "Refunds"); the sender refuses to go on when nobody posted it.
refund_paid_back = _signals.signal("refund-paid-back")
