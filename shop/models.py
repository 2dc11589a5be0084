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
from shop.bulk.models import BulkDestination, BulkLine, BulkOrder, BulkOrderEvent
from shop.cart.models import CartItem
from shop.catalog.cache import CatalogState
from shop.catalog.models import Product, ProductPhoto
from shop.cooperatives.models import Cooperative
from shop.households.models import BenefitLink, Household, ProductSourcing
from shop.ledger.models import Account, JournalEntry, Posting
from shop.notifications.models import OutboxEmail
from shop.orders.models import Order, OrderEvent, OrderLine, Refund, RefundLine, Shipment
from shop.organizations.models import (
    Organization,
    OrganizationInvitation,
    OrganizationYear,
    ProvinceShare,
    StaffLink,
)
from shop.payments.models import PaymentFlag, ProviderEvent
from shop.payouts.models import PayoutBatch, PayoutLine
from shop.regions.models import Region
from shop.settlement.models import LineSettlement, SettlementRun, ShipmentSettlement

__all__ = [
    "Account",
    "ApiToken",
    "Application",
    "BenefitLink",
    "BulkDestination",
    "BulkLine",
    "BulkOrder",
    "BulkOrderEvent",
    "CalendarDay",
    "CartItem",
    "CatalogState",
    "Certificate",
    "CertificateSequence",
    "Cooperative",
    "Document",
    "Event",
    "Household",
    "JournalEntry",
    "LineSettlement",
    "Objection",
    "Order",
    "OrderEvent",
    "OrderLine",
    "Organization",
    "OrganizationInvitation",
    "OrganizationYear",
    "OutboxEmail",
    "PaymentFlag",
    "PayoutBatch",
    "PayoutLine",
    "Posting",
    "Product",
    "ProductPhoto",
    "ProductSourcing",
    "ProviderEvent",
    "ProvinceShare",
    "Refund",
    "RefundLine",
    "Region",
    "RoleGrantEvent",
    "SettlementRun",
    "Shipment",
    "ShipmentSettlement",
    "StaffLink",
    "User",
    "UserRole",
    "Version",
]
