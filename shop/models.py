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
from shop.catalog.models import Product, ProductPhoto
from shop.cooperatives.models import Cooperative
from shop.regions.models import Region

__all__ = [
    "ApiToken",
    "Application",
    "CalendarDay",
    "Certificate",
    "CertificateSequence",
    "Cooperative",
    "Document",
    "Event",
    "Objection",
    "Product",
    "ProductPhoto",
    "Region",
    "RoleGrantEvent",
    "User",
    "UserRole",
    "Version",
]
