from flask_login import current_user
from flask_smorest import Blueprint

from shop.access import COOPERATIVE_STAFF_AND_OPERATORS, OPERATORS, PUBLIC, allow
from shop.cooperatives import services
from shop.cooperatives.models import CooperativeKind, CooperativeStatus
from shop.cooperatives.schemas import (
    CooperativeCreateSchema,
    CooperativePublicSchema,
    CooperativeQuerySchema,
    CooperativeSchema,
    CooperativeUpdateSchema,
    StatusChangeSchema,
)

blp = Blueprint("cooperatives_api", __name__, url_prefix="/api/v1/cooperatives", description="Suppliers")
BEARER = [{"bearerAuth": []}]


@blp.route("", methods=["GET"])
@allow(PUBLIC)
@blp.arguments(CooperativeQuerySchema, location="query")
@blp.response(200, CooperativePublicSchema(many=True))
def list_cooperatives(query):
    """Active cooperatives (public fields)."""
    return services.list_cooperatives(status=CooperativeStatus.ACTIVE, county_code=query.get("county_code"))


@blp.route("/<int:cooperative_id>", methods=["GET"])
@allow(PUBLIC)
@blp.response(200, CooperativePublicSchema)
def get_cooperative(cooperative_id):
    """One active cooperative (public fields)."""
    return services.get_public_cooperative(cooperative_id)


@blp.route("/<int:cooperative_id>/profile", methods=["GET"])
@allow(COOPERATIVE_STAFF_AND_OPERATORS)
@blp.response(200, CooperativeSchema)
@blp.doc(security=BEARER)
def get_profile(cooperative_id):
    """The full profile, contact and payout account included (its staff and operators)."""
    return services.require_manager(current_user, cooperative_id)


@blp.route("", methods=["POST"])
@allow(OPERATORS)
@blp.arguments(CooperativeCreateSchema)
@blp.response(201, CooperativeSchema)
@blp.doc(security=BEARER)
def create_cooperative(payload):
    """Register a cooperative, workshop or leading enterprise (operators)."""
    if "kind" in payload:
        payload["kind"] = CooperativeKind(payload["kind"]).value
    return services.create_cooperative(current_user, payload)


@blp.route("/<int:cooperative_id>", methods=["PATCH"])
@allow(COOPERATIVE_STAFF_AND_OPERATORS)
@blp.arguments(CooperativeUpdateSchema)
@blp.response(200, CooperativeSchema)
@blp.doc(security=BEARER)
def update_cooperative(payload, cooperative_id):
    """Edit a cooperative: its staff edit contact, description and payout account; operators everything."""
    if "kind" in payload:
        payload["kind"] = CooperativeKind(payload["kind"]).value
    return services.update_cooperative(current_user, cooperative_id, payload)


@blp.route("/<int:cooperative_id>/suspend", methods=["POST"])
@allow(OPERATORS)
@blp.arguments(StatusChangeSchema)
@blp.response(200, CooperativeSchema)
@blp.doc(security=BEARER)
def suspend(payload, cooperative_id):
    """Suspend a cooperative (reason required): its products leave the catalogue at once."""
    return services.set_status(current_user, cooperative_id, CooperativeStatus.SUSPENDED, payload["reason"])


@blp.route("/<int:cooperative_id>/reinstate", methods=["POST"])
@allow(OPERATORS)
@blp.arguments(StatusChangeSchema)
@blp.response(200, CooperativeSchema)
@blp.doc(security=BEARER)
def reinstate(payload, cooperative_id):
    """Make a suspended cooperative active again."""
    return services.set_status(current_user, cooperative_id, CooperativeStatus.ACTIVE, payload["reason"])
