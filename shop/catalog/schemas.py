import marshmallow as ma
from flask import url_for
from marshmallow import validate

from shop.catalog.models import UNITS, Category
from shop.catalog.services import MAX_MIN_ORDER_QUANTITY, MAX_PRICE_FEN, MAX_STOCK, SORTS
from shop.web.inputs import RowId

REGION_CODE = validate.Regexp(r"^\d{6}$", error="A region code has six digits.")


class PhotoSchema(ma.Schema):
    id = ma.fields.Integer()
    url = ma.fields.Function(lambda p: url_for("catalog.photo", stored_name=p.stored_name))
    content_type = ma.fields.String()
    width = ma.fields.Integer()
    height = ma.fields.Integer()


class CooperativeRefSchema(ma.Schema):
    id = ma.fields.Integer()
    name = ma.fields.String()


class OriginSchema(ma.Schema):
    code = ma.fields.String()
    name = ma.fields.String()
    province_code = ma.fields.String()
    province_name = ma.fields.Function(lambda r: r.province.name)


class ProductSchema(ma.Schema):
    id = ma.fields.Integer()
    name = ma.fields.String()
    category = ma.fields.String()
    unit = ma.fields.String()
    price_fen = ma.fields.Integer(metadata={"description": "Price of one unit in fen (1 yuan = 100 fen)"})
    stock = ma.fields.Integer()
    min_order_quantity = ma.fields.Integer()
    description = ma.fields.String()
    is_active = ma.fields.Boolean()
    cooperative = ma.fields.Nested(CooperativeRefSchema)
    origin_county = ma.fields.Nested(OriginSchema)
    photos = ma.fields.List(ma.fields.Nested(PhotoSchema))
    created_at = ma.fields.AwareDateTime()
    updated_at = ma.fields.AwareDateTime()


class ProductCertificateSchema(ma.Schema):
    number = ma.fields.String(attribute="certificate_no", metadata={"example": "FP13-2026-000042"})
    valid_until = ma.fields.Date()
    # A path, like the photos' URLs: the listing's answers are cached whatever the Host header said, so an
    # absolute URL built from one request's Host would be served to everyone (the QR code and the certificates
    # API give the absolute one).
    verify_url = ma.fields.Function(
        lambda c: url_for("certification.verify", certificate_no=c.certificate_no),
        metadata={"type": "string", "format": "uri-reference", "description": "The public verification page"},
    )


class ProductDetailSchema(ProductSchema):
    """One product, with the certificate it holds today, as its page shows it."""

    certificate = ma.fields.Nested(
        ProductCertificateSchema,
        allow_none=True,
        metadata={"description": "The certificate valid today; null when it holds none (then it is not on sale)"},
    )


class ProductListItemSchema(ProductSchema):
    """A product in the public listing: without stock and updated_at, which the product page reads live
    (a sale must not invalidate every cached page of the listing, see shop/catalog/cache.py)."""

    # Filled in by ProductPageSchema from the page's certificates (one query for the page, not one per row).
    certificate = ma.fields.Nested(
        ProductCertificateSchema,
        allow_none=True,  # null only if the day turned between the page's query and its certificates' query
        metadata={"description": "The certificate valid today (every listed product holds one)"},
    )

    class Meta:
        exclude = ("stock", "updated_at")


class ProductPageSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(ProductListItemSchema))
    total = ma.fields.Integer()
    page = ma.fields.Integer()
    per_page = ma.fields.Integer()
    pages = ma.fields.Integer()

    @ma.post_dump(pass_original=True)
    def add_certificates(self, data: dict, page, **_kwargs) -> dict:
        certificate = ProductCertificateSchema()
        for item, product in zip(data["items"], page.items, strict=True):
            held = page.certificates.get(product.id)
            item["certificate"] = certificate.dump(held) if held is not None else None
        return data


def _int(low: int, high: int, **kwargs):
    return ma.fields.Integer(strict=True, validate=validate.Range(min=low, max=high), **kwargs)


class ProductUpdateSchema(ma.Schema):
    name = ma.fields.String(validate=validate.Length(min=1, max=120))
    category = ma.fields.Enum(Category, by_value=True)
    origin_county_code = ma.fields.String(validate=REGION_CODE)
    unit = ma.fields.String(validate=validate.OneOf(UNITS))
    price_fen = _int(1, MAX_PRICE_FEN, metadata={"description": "Price of one unit in fen"})
    stock = _int(0, MAX_STOCK)
    min_order_quantity = _int(1, MAX_MIN_ORDER_QUANTITY)
    description = ma.fields.String(validate=validate.Length(max=5000))
    is_active = ma.fields.Boolean()


class ProductCreateSchema(ProductUpdateSchema):
    cooperative_id = RowId(metadata={"description": "Needed when the user manages several"})
    name = ma.fields.String(required=True, validate=validate.Length(min=1, max=120))
    category = ma.fields.Enum(Category, by_value=True, required=True)
    origin_county_code = ma.fields.String(required=True, validate=REGION_CODE)
    unit = ma.fields.String(required=True, validate=validate.OneOf(UNITS))
    price_fen = _int(1, MAX_PRICE_FEN, required=True)


class CatalogQuerySchema(ma.Schema):
    county = ma.fields.String(validate=REGION_CODE)
    province = ma.fields.String(
        validate=validate.Regexp(r"^\d{2}(0000)?$", error="A province is its two digits or its six-digit code.")
    )
    category = ma.fields.Enum(Category, by_value=True)
    cooperative_id = RowId(strict=False)  # a query string carries text
    price_min_fen = ma.fields.Integer(validate=validate.Range(min=0, max=MAX_PRICE_FEN))
    price_max_fen = ma.fields.Integer(validate=validate.Range(min=0, max=MAX_PRICE_FEN))
    q = ma.fields.String(validate=validate.Length(max=100))
    sort = ma.fields.String(load_default="newest", validate=validate.OneOf(SORTS))
    page = ma.fields.Integer(load_default=1, validate=validate.Range(min=1, max=100_000))
    per_page = ma.fields.Integer(load_default=20, validate=validate.Range(min=1, max=100))
