from flask import Blueprint, redirect, render_template, request, session, url_for

from shop.access import PUBLIC, allow
from shop.catalog.models import Category
from shop.catalog.services import CatalogQuery, listed_count_by_category, search_catalog

bp = Blueprint("web", __name__)


@bp.route("/")
@allow(PUBLIC)
def home():
    newest = search_catalog(CatalogQuery(per_page=8))
    return render_template(
        "home.html", newest=newest, categories=list(Category), category_counts=listed_count_by_category()
    )


def safe_next(target: str | None, default: str) -> str:
    """Only local paths: never redirect a user to another site."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    return target


@bp.route("/lang/<code>")
@allow(PUBLIC)
def switch_language(code: str):
    if code in ("zh", "en"):
        session["locale"] = code
    return redirect(safe_next(request.args.get("next"), url_for("web.home")))
