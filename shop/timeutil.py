"""Business dates are Asia/Shanghai dates; stored times are UTC."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from shop.types import utcnow

BUSINESS_TZ = ZoneInfo("Asia/Shanghai")


def business_date(moment: datetime | None = None) -> date:
    """The Asia/Shanghai calendar date of a UTC moment (now by default)."""
    return (moment or utcnow()).astimezone(BUSINESS_TZ).date()
