from flask import Response, current_app, request
from flask_babel import gettext as _
from flask_login import current_user
from flask_smorest import Blueprint

from certification.certificates import current_certificate
from shop.access import COOPERATIVE_STAFF_AND_OPERATORS, PUBLIC, allow
from shop.catalog import cache, services
from shop.catalog.schemas import (
    CatalogQuerySchema,
    PhotoSchema,
    ProductCreateSchema,
    ProductDetailSchema,
    ProductPageSchema,
    ProductUpdateSchema,
)
from shop.errors import ValidationFailed
from shop.extensions import limiter

blp = Blueprint("catalog_api", __name__, url_prefix="/api/v1/products", description="The catalogue")
BEARER = [{"bearerAuth": []}]


def _detail(product) -> dict:
    """A product as ProductDetailSchema dumps it: its fields and the certificate it holds today."""
    detail = {name: getattr(product, name) for name in ProductDetailSchema().fields if name != "certificate"}
    detail["certificate"] = current_certificate(product.id)
    return detail


def _enum_values(payload: dict) -> dict:
    if "category" in payload:
        payload["category"] = payload["category"].value
    return payload


def answer_anonymous_listing_early():
    """An app-wide hook, registered before every other one (create_app): an anonymous request for the listing
    is answered from the cache before the rate limiter, authentication and access hooks run, which for a
    cached answer cost as much again as the answer itself. Nothing they do applies to it: the listing is
    public and exempt from limits, and a request that carries a token goes the normal way (a bad token still
    gets its 401)."""
    return None if "Authorization" in request.headers else _cached_listing()


@blp.before_request
def answer_listing_from_cache():
    """A request with a token, once authenticated, is served from the cache too (anonymous ones were already
    looked up by the early hook)."""
    return _cached_listing() if "Authorization" in request.headers else None


def _cached_listing() -> Response | None:
    """The public listing from the per-worker cache, when it has this query for this generation."""
    if request.endpoint != "catalog_api.list_products":
        return None
    answer = cache.lookup(request.query_string)
    return Response(answer, mimetype="application/json") if answer is not None else None


@blp.route("", methods=["GET"])
@allow(PUBLIC)
@limiter.exempt  # public and cached; a limit check would cost a fifth of a cached answer
@blp.arguments(CatalogQuerySchema, location="query")
@blp.response(200, ProductPageSchema)
def list_products(query):
    """Listed products, filtered, sorted and paginated."""
    if "category" in query:
        query["category"] = query["category"].value
    page = ProductPageSchema().dump(services.search_catalog(services.CatalogQuery(**query)))
    answer = current_app.json.dumps(page).encode()
    cache.store(answer)
    return Response(answer, mimetype="application/json")


@blp.route("/<int:product_id>", methods=["GET"])
@allow(PUBLIC)
@blp.response(200, ProductDetailSchema)
def get_product(product_id):
    """One listed product with its certificate (its cooperative's staff also see it while unlisted)."""
    product, _reason = services.get_product_for_viewer(product_id, current_user)
    return _detail(product)


@blp.route("", methods=["POST"])
@allow(COOPERATIVE_STAFF_AND_OPERATORS)
@blp.arguments(ProductCreateSchema)
@blp.response(201, ProductDetailSchema)
@blp.doc(security=BEARER)
def create_product(payload):
    """Add a product to one's cooperative (photos are uploaded separately)."""
    cooperative_id = payload.pop("cooperative_id", None)
    if cooperative_id is None:
        managed = current_user.cooperative_ids()
        if len(managed) != 1:
            raise ValidationFailed.on("cooperative_id", _("Say which cooperative the product belongs to."))
        cooperative_id = next(iter(managed))
    return _detail(services.create_product(current_user, cooperative_id, _enum_values(payload)))


@blp.route("/<int:product_id>", methods=["PATCH"])
@allow(COOPERATIVE_STAFF_AND_OPERATORS)
@blp.arguments(ProductUpdateSchema)
@blp.response(200, ProductDetailSchema)
@blp.alt_response(409, response="DEFAULT_ERROR")  # a vouched field changed (see the description)
@blp.doc(security=BEARER)
def update_product(payload, product_id):
    """Change a product's fields, stock or active flag.

    While a certificate holds (valid or suspended) or an application is under review, the name, category,
    origin county and unit are what it vouches for: a change of them is refused with 409 naming the fields
    (sending them unchanged is fine). Price, stock, minimum order, description, photos and `is_active` stay
    editable."""
    return _detail(services.update_product(current_user, product_id, _enum_values(payload)))


@blp.route("/<int:product_id>/photos", methods=["POST"])
@allow(COOPERATIVE_STAFF_AND_OPERATORS)
@blp.response(201, PhotoSchema)
@blp.doc(
    security=BEARER,
    requestBody={
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {"photo": {"type": "string", "format": "binary"}},
                    "required": ["photo"],
                }
            }
        }
    },
)
def upload_photo(product_id):
    """Upload a JPEG, PNG or WebP photo (multipart field `photo`)."""
    upload = request.files.get("photo")
    if upload is None:
        raise ValidationFailed.on("photo", _("Attach the photo as the multipart field 'photo'."))
    return services.add_photo(current_user, product_id, upload.read())


@blp.route("/<int:product_id>/photos/<int:photo_id>", methods=["DELETE"])
@allow(COOPERATIVE_STAFF_AND_OPERATORS)
@blp.response(204)
@blp.doc(security=BEARER)
def delete_photo(product_id, photo_id):
    """Remove a photo from a product."""
    services.remove_photo(current_user, product_id, photo_id)
