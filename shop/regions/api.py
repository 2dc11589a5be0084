from flask_smorest import Blueprint

from shop.access import PUBLIC, allow
from shop.regions import services
from shop.regions.schemas import RegionQuerySchema, RegionSchema

blp = Blueprint(
    "regions_api", __name__, url_prefix="/api/v1/regions", description="Administrative divisions (GB/T 2260)"
)


@blp.route("", methods=["GET"])
@allow(PUBLIC)
@blp.arguments(RegionQuerySchema, location="query")
@blp.response(200, RegionSchema(many=True))
def list_regions(query):
    """Provinces, prefectures and counties; filter by level, parent code or name."""
    return services.list_regions(**query)
