"""Use cases of the catalogue: what may be listed, searching it, and products managed by cooperatives."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from datetime import date

from flask_babel import gettext as _
from sqlalchemy import ColumnElement, Select, and_, case, func, or_, select
from sqlalchemy.orm import contains_eager, joinedload, selectinload

from certification.certificates import (
    certificate_problem,
    current_certificates,
    holds_valid_certificate,
    valid_certificates,
)
from certification.models import Application, Certificate, State
from shop import uploads
from shop.accounts.models import User
from shop.catalog.models import UNITS, Category, Product, ProductPhoto
from shop.cooperatives.models import Cooperative, CooperativeStatus
from shop.cooperatives.services import require_manager
from shop.errors import Conflict, NotFound, ValidationFailed
from shop.extensions import db
from shop.regions.models import Region
from shop.regions.services import normalize_province_code, require_region
from shop.timeutil import business_date

MAX_PRICE_FEN = 100_000_000  # 1,000,000 yuan a unit: beyond that it is a typo
MAX_STOCK = 1_000_000_000
MAX_MIN_ORDER_QUANTITY = 100_000
SORTS = ("newest", "price_asc", "price_desc", "name")
PRODUCT_FIELDS = {
    "name",
    "category",
    "origin_county_code",
    "unit",
    "price_fen",
    "stock",
    "min_order_quantity",
    "description",
    "is_active",
}
# What a certificate vouches for about a product: it prints the name and the origin county (and the cooperative,
# which no form or API can change on a product), the public directory shows the category beside it, and the
# unit is the specification whose price the reviewers compared with "the market price of the same grade".
# Price, stock, minimum order, description, photos and the on-sale switch are the seller's to change.
VOUCHED_FIELDS = ("name", "category", "origin_county_code", "unit")
# Reviewers and the public notice judge the product as it was when the application was submitted (certification
# copies its name then); a draft or a returned application copies it again at its next submission.
UNDER_REVIEW = (State.SUBMITTED, State.COUNTY_APPROVED, State.PUBLIC_NOTICE)


# The parts of the listing rule, named by what fails when a part does not hold (`not_listed_reasons`).
HIDDEN, COOPERATIVE_SUSPENDED, NO_VALID_CERTIFICATE = "hidden", "cooperative_suspended", "no_valid_certificate"


def listing_rule_parts(on: date) -> dict[str, ColumnElement[bool]]:
    """The parts of `is_listable`, each a condition over products joined to their cooperative. The rule is their
    AND and the reasons a product is not listed are the parts it fails: one definition, so they cannot disagree."""
    return {
        HIDDEN: Product.is_active.is_(True),
        COOPERATIVE_SUSPENDED: Cooperative.status == CooperativeStatus.ACTIVE,
        NO_VALID_CERTIFICATE: holds_valid_certificate(Product.id, on),
    }


def is_listable() -> ColumnElement[bool]:
    """THE rule of what the public catalogue may list, as a condition over products joined to their cooperative.

    A product is listed (and sellable) while it is active, its cooperative is active, and it holds a
    certificate valid today (Asia/Shanghai date). No cache: a suspension takes effect on the next query.
    """
    return and_(*listing_rule_parts(business_date()).values())


def failed_listing_parts(product_ids: list[int]) -> dict[int, list[str]]:
    """For each product, the parts of `is_listable` it fails now (empty: it is listed), in one query."""
    if not product_ids:
        return {}
    parts = listing_rule_parts(business_date())
    rows = db.session.execute(
        select(Product.id, *(case((condition, 1), else_=0).label(name) for name, condition in parts.items()))
        .join(Product.cooperative)
        .where(Product.id.in_(product_ids))
    ).all()
    return {row.id: [name for name in parts if not row._mapping[name]] for row in rows}


def not_listed_reasons(products: list[Product]) -> dict[int, list[str]]:
    """Why each product is not listed, in words for its cooperative (an empty list: it is listed)."""
    failed = failed_listing_parts([product.id for product in products])
    reasons = {}
    for product in products:
        words = []
        for part in failed.get(product.id, []):
            if part == HIDDEN:
                words.append(_("The product is switched off."))
            elif part == COOPERATIVE_SUSPENDED:
                words.append(_("The cooperative is suspended."))
            else:  # certification says which: not certified yet, suspended, revoked, expired
                words.append(certificate_problem(product.id) or _("It holds no certificate valid today."))
        reasons[product.id] = words
    return reasons


def not_on_sale_reasons(products: list[Product]) -> dict[int, list[str]]:
    """Why buyers cannot order each product now (an empty list: on sale): not listed (`not_listed_reasons`), or
    listed with less stock than its minimum order, which checkout refuses."""
    reasons = not_listed_reasons(products)
    for product in products:
        if product.stock < max(product.min_order_quantity, 1):
            reasons[product.id].append(_("Out of stock."))
    return reasons


def listable_products() -> Select:
    """The products the catalogue may list (`is_listable`), as one query; every listing starts here."""
    return select(Product).join(Product.cooperative).where(is_listable())


@dataclass(frozen=True)
class CatalogQuery:
    county: str | None = None
    province: str | None = None
    category: str | None = None
    cooperative_id: int | None = None
    price_min_fen: int | None = None
    price_max_fen: int | None = None
    q: str | None = None
    sort: str = "newest"
    page: int = 1
    per_page: int = 20


@dataclass(frozen=True)
class CatalogPage:
    items: list[Product]
    total: int
    page: int
    per_page: int
    # The certificate each listed product holds today, by product id (every listed product holds one).
    certificates: dict[int, Certificate] = dataclasses.field(default_factory=dict)

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))


def _filtered(query: CatalogQuery) -> Select:
    statement = listable_products()
    if query.county:
        statement = statement.where(Product.origin_county_code == query.county)
    if query.province:
        county = db.aliased(Region)
        statement = statement.join(county, Product.origin_county_code == county.code).where(
            county.province_code == normalize_province_code(query.province)
        )
    if query.category:
        statement = statement.where(Product.category == query.category)
    if query.cooperative_id:
        statement = statement.where(Product.cooperative_id == query.cooperative_id)
    if query.price_min_fen is not None:
        statement = statement.where(Product.price_fen >= query.price_min_fen)
    if query.price_max_fen is not None:
        statement = statement.where(Product.price_fen <= query.price_max_fen)
    if query.q and query.q.strip():
        text = query.q.strip()
        statement = statement.where(
            or_(Product.name.icontains(text, autoescape=True), Product.description.icontains(text, autoescape=True))
        )
    return statement


ORDERINGS = {
    "newest": (Product.created_at.desc(), Product.id.desc()),
    "price_asc": (Product.price_fen.asc(), Product.id.asc()),
    "price_desc": (Product.price_fen.desc(), Product.id.desc()),
    "name": (Product.name.asc(), Product.id.asc()),
}


def search_catalog(query: CatalogQuery) -> CatalogPage:
    """One page of listed products: four SQL statements whatever the page size (count, page, photos, certificates)."""
    if (
        query.price_min_fen is not None
        and query.price_max_fen is not None
        and query.price_min_fen > query.price_max_fen
    ):
        raise ValidationFailed.on("price_max_fen", _("The highest price is below the lowest."))
    filtered = _filtered(query)
    total = db.session.scalar(select(func.count()).select_from(filtered.with_only_columns(Product.id).subquery()))
    statement = (
        filtered.options(
            contains_eager(Product.cooperative).lazyload(Cooperative.county),  # the listing never shows it
            joinedload(Product.origin_county).joinedload(Region.province),
            joinedload(Product.origin_county).joinedload(Region.parent),
            selectinload(Product.photos),
        )
        .order_by(*ORDERINGS[query.sort])
        .limit(query.per_page)
        .offset((query.page - 1) * query.per_page)
    )
    items = list(db.session.scalars(statement).unique())
    certificates = current_certificates([product.id for product in items])
    return CatalogPage(
        items=items, total=total or 0, page=query.page, per_page=query.per_page, certificates=certificates
    )


def get_listed_product(product_id: int) -> Product:
    product = db.session.scalar(listable_products().where(Product.id == product_id))
    if product is None:
        raise NotFound(_("This product is not in the catalogue."))
    return product


def get_product(product_id: int) -> Product:
    product = db.session.get(Product, product_id)
    if product is None:
        raise NotFound(_("No such product."))
    return product


def is_listed(product_id: int) -> bool:
    """Whether the catalogue lists (and sells) this product now (`is_listable`)."""
    return (
        db.session.scalar(listable_products().where(Product.id == product_id).with_only_columns(Product.id)) is not None
    )


def why_not_listed(product: Product) -> str | None:
    """A plain reason for the product's managers, or None when it is listed (the first of `not_listed_reasons`)."""
    reasons = not_listed_reasons([product])[product.id]
    return reasons[0] if reasons else None


def get_product_for_viewer(product_id: int, viewer: User | None) -> tuple[Product, str | None]:
    """The public sees listed products only; a product's managers also see it unlisted, with the reason."""
    product = db.session.get(Product, product_id)
    if product is None:
        raise NotFound(_("This product is not in the catalogue."))
    reason = why_not_listed(product)
    if reason is None:
        return product, None
    from shop.cooperatives.services import may_manage

    if viewer is not None and viewer.is_authenticated and may_manage(viewer, product.cooperative_id):
        return product, reason
    raise NotFound(_("This product is not in the catalogue."))


def _check_product_fields(data: dict) -> dict:
    """Business rules of a product's fields (the API schema and the forms only check types)."""
    clean = {}
    for field, value in data.items():
        if field not in PRODUCT_FIELDS:
            raise ValidationFailed.on(field, _("Unknown field."))
        clean[field] = value.strip() if isinstance(value, str) else value
    if "name" in clean and not clean["name"]:
        raise ValidationFailed.on("name", _("This field is required."))
    if "category" in clean and clean["category"] not in {c.value for c in Category}:
        raise ValidationFailed.on("category", _("Unknown category."))
    if "unit" in clean and clean["unit"] not in UNITS:
        raise ValidationFailed.on("unit", _("Choose one of the units: %(units)s.", units=" ".join(UNITS)))
    if "origin_county_code" in clean:
        require_region(clean["origin_county_code"], level="county", field="origin_county_code")
    bounds = {
        "price_fen": (1, MAX_PRICE_FEN, _("The price must be between 0.01 and 1,000,000 yuan.")),
        "stock": (0, MAX_STOCK, _("Stock must be between 0 and 1,000,000,000.")),
        "min_order_quantity": (1, MAX_MIN_ORDER_QUANTITY, _("The minimum order must be between 1 and 100,000.")),
    }
    for field, (low, high, message) in bounds.items():
        if field in clean:
            value = clean[field]
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                raise ValidationFailed.on(field, message)
    return clean


def create_product(actor: User, cooperative_id: int, data: dict, photos: list[bytes] = ()) -> Product:
    """A new product of a cooperative, with its photos; nothing is kept if any part is refused."""
    cooperative = require_manager(actor, cooperative_id)
    clean = _check_product_fields(data)
    for required in ("name", "category", "origin_county_code", "unit", "price_fen"):
        if required not in clean:
            raise ValidationFailed.on(required, _("This field is required."))
    inspected = [uploads.inspect_image(photo) for photo in photos]  # all checked before anything is written
    product = Product(cooperative=cooperative, **clean)
    db.session.add(product)
    db.session.flush()
    for image in inspected:
        _attach_photo(product, image)
    return product


def vouched_fields_lock(product_id: int) -> str | None:
    """Why the product's vouched fields (`VOUCHED_FIELDS`) cannot change now, or None when they can.

    They are held by a certificate that is valid or suspended (a reinstatement makes it speak for the product
    again), until it expires, is revoked or is superseded; and by an application under review.
    """
    certificate_no = db.session.scalar(
        select(Certificate.certificate_no)
        .join(Certificate.application)
        .where(
            Certificate.product_id == product_id,
            Application.state.in_((State.CERTIFIED, State.SUSPENDED)),
            Certificate.valid_until >= business_date(),
        )
        .order_by(Certificate.id.desc())
        .limit(1)
    )
    if certificate_no is not None:
        return _(
            "Certificate %(no)s vouches for this product's name, category, origin and unit, so they cannot change"
            " while it holds. To sell the product under another name or specification, add it as a new product"
            " and apply for its certification.",
            no=certificate_no,
        )
    application_id = db.session.scalar(
        select(Application.id).where(Application.product_id == product_id, Application.state.in_(UNDER_REVIEW))
    )
    if application_id is not None:
        return _(
            "Application no. %(id)d is being reviewed with this product's name, category, origin and unit, so they"
            " cannot change until it is decided or returned to you.",
            id=application_id,
        )
    return None


def _refuse_vouched_changes(product: Product, clean: dict) -> None:
    def changing() -> list[str]:
        return [field for field in VOUCHED_FIELDS if field in clean and clean[field] != getattr(product, field)]

    if not changing():  # the edit page sends every field: unchanged ones are fine
        return
    # Locked and read again: a submission copies the name at this moment, and must see either the old name
    # with this change refused, or the new one.
    db.session.refresh(product, with_for_update=True)
    fields = changing()
    reason = vouched_fields_lock(product.id) if fields else None
    if reason is not None:
        raise Conflict(reason, fields={field: [reason] for field in fields})


def update_product(actor: User, product_id: int, changes: dict) -> Product:
    """Change a product's fields; what a certificate or an application under review vouches for stays."""
    product = get_product(product_id)
    require_manager(actor, product.cooperative_id)
    clean = _check_product_fields(changes)
    _refuse_vouched_changes(product, clean)
    for field, value in clean.items():
        setattr(product, field, value)
    db.session.flush()
    return product


def _attach_photo(product: Product, image: uploads.InspectedImage) -> ProductPhoto:
    stored_name = uploads.store("products", image.data, image.extension)
    photo = ProductPhoto(
        product=product,
        stored_name=stored_name,
        content_type=image.content_type,
        size_bytes=len(image.data),
        width=image.width,
        height=image.height,
        position=len(product.photos),
    )
    db.session.add(photo)
    db.session.flush()
    return photo


def add_photo(actor: User, product_id: int, data: bytes) -> ProductPhoto:
    product = get_product(product_id)
    require_manager(actor, product.cooperative_id)
    return _attach_photo(product, uploads.inspect_image(data))


def remove_photo(actor: User, product_id: int, photo_id: int) -> None:
    photo = db.session.get(ProductPhoto, photo_id)
    if photo is None or photo.product_id != product_id:
        raise NotFound(_("No such photo."))
    require_manager(actor, photo.product.cooperative_id)
    db.session.delete(photo)
    db.session.flush()
    # The file stays until the next clean-up: deleting it here would lose it if the transaction rolled back.


def products_of(cooperative_id: int) -> list[Product]:
    return list(
        db.session.scalars(
            select(Product)
            .where(Product.cooperative_id == cooperative_id)
            .options(selectinload(Product.photos), joinedload(Product.origin_county))
            .order_by(Product.id.desc())
        )
    )


def photo_by_name(stored_name: str) -> ProductPhoto:
    photo = db.session.scalar(select(ProductPhoto).where(ProductPhoto.stored_name == stored_name))
    if photo is None:
        raise NotFound(_("No such photo."))
    return photo


def listed_count_by_category() -> dict[str, int]:
    statement = listable_products().with_only_columns(Product.category, func.count()).group_by(Product.category)
    return dict(db.session.execute(statement).all())


def counties_with_listed_products() -> list[Region]:
    codes = listable_products().with_only_columns(Product.origin_county_code).distinct()
    return list(db.session.scalars(select(Region).where(Region.code.in_(codes)).order_by(Region.code)))


@dataclass(frozen=True)
class DirectoryEntry:
    certificate: Certificate
    category: str
    origin: str


def certified_directory(
    province: str | None = None, county: str | None = None, category: str | None = None
) -> list[DirectoryEntry]:
    """The public directory of certified poverty-relief products (扶贫产品目录), valid today."""
    county_region = db.aliased(Region)
    query = (
        valid_certificates(province=province, county=county)
        .join(Product, Product.id == Certificate.product_id)
        .join(county_region, county_region.code == Certificate.origin_county_code)
        .add_columns(Product.category, county_region)
        .options(joinedload(county_region.province), joinedload(county_region.parent))
    )
    if category:
        query = query.where(Product.category == category)
    return [
        DirectoryEntry(certificate, category, region.full_name)
        for certificate, category, region in db.session.execute(query).unique()
    ]
