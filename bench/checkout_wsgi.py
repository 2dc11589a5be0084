"""gunicorn entry point for bench/checkout.py: the shop as `wsgi:app`, with the checkout's PaymentIntent switch
(CHECKOUT_CREATES_PAYMENT_INTENT, read here from the environment: "1" (default) creates it, "0" does not).

shop/config.py does not read that variable; the switch is passed to create_app as a config override.
"""

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from shop import create_app

app = create_app({"CHECKOUT_CREATES_PAYMENT_INTENT": os.environ.get("CHECKOUT_CREATES_PAYMENT_INTENT", "1") == "1"})
