"""Every area's models, imported so that the metadata is complete (migrations, the models-vs-migrations test)."""

from certification.models import (
    Application,
    CalendarDay,
    Certificate,
    CertificateSequence,
    Document,
    Event,
    Objection,
    Version,
)
from shop.accounts.models import ApiToken, RoleGrantEvent, User, UserRole
from shop.cart.models import CartItem
from shop.catalog.cache import CatalogState
from shop.catalog.models import Product, ProductPhoto
from shop.cooperatives.models import Cooperative
from shop.notifications.models import OutboxEmail
from shop.orders.models import Order, OrderEvent, OrderLine, Refund, RefundLine, Shipment
from shop.payments.models import PaymentFlag, ProviderEvent
from shop.regions.models import Region

__all__ = [
    "ApiToken",
    "Application",
    "CalendarDay",
    "CartItem",
    "CatalogState",
    "Certificate",
    "CertificateSequence",
    "Cooperative",
    "Document",
    "Event",
    "Objection",
    "Order",
    "OrderEvent",
    "OrderLine",
    "OutboxEmail",
    "PaymentFlag",
    "Product",
    "ProductPhoto",
    "ProviderEvent",
    "Refund",
    "RefundLine",
    "Region",
    "RoleGrantEvent",
    "Shipment",
    "User",
    "UserRole",
    "Version",
]
