from flask import Blueprint, redirect, request, session, url_for

from shop.access import PUBLIC, allow

bp = Blueprint("web", __name__)


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
    return redirect(safe_next(request.args.get("next"), url_for("catalog.home")))
