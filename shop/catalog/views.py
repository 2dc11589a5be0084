from flask import Blueprint, abort, flash, redirect, render_template, request, send_from_directory, url_for
from flask_babel import gettext as _
from flask_login import current_user
from marshmallow import ValidationError

from certification.applications import latest_applications
from certification.certificates import current_certificate
from shop import uploads
from shop.access import COOPERATIVE_STAFF_AND_OPERATORS, PUBLIC, allow
from shop.accounts.forms import EmptyForm
from shop.catalog import services
from shop.catalog.forms import CATEGORY_LABELS, NewProductForm, PhotoForm, ProductForm
from shop.catalog.models import Category
from shop.catalog.schemas import CatalogQuerySchema
from shop.cooperatives.forms import KIND_LABELS
from shop.cooperatives.services import require_manager
from shop.errors import DomainError
from shop.money import fen_to_yuan, format_fen, parse_yuan
from shop.regions.services import provinces
from shop.timeutil import business_date
from shop.web.downloads import csv_download
from shop.web.forms import redirect_after_refusal, render_form, show_domain_error

bp = Blueprint("catalog", __name__)
FILTER_KEYS = ("q", "province", "county", "category", "cooperative_id", "sort", "per_page")


@bp.record_once
def _tell_certification_what_is_on_sale(state) -> None:
    """The verification page says whether the product is on sale; certification does not import the catalogue,
    so the catalogue hands it its one listing rule when the catalogue is part of the app."""
    state.app.extensions.setdefault("certification", {})["product_on_sale"] = services.is_listed


def _catalog_query() -> tuple[dict, dict]:
    """The page's filters (prices in yuan) as the API's query, with per-field errors."""
    raw = {key: request.args[key] for key in FILTER_KEYS if request.args.get(key)}
    errors: dict = {}
    for key, target in (("min", "price_min_fen"), ("max", "price_max_fen")):
        if request.args.get(key):
            fen = parse_yuan(request.args[key])
            if fen is None:
                errors[key] = [_("Write the price in yuan, e.g. 12.50.")]
            else:
                raw[target] = fen
    if request.args.get("page"):
        raw["page"] = request.args["page"]
    try:
        query = CatalogQuerySchema().load(raw)
    except ValidationError as error:
        errors.update(error.messages)
        query = CatalogQuerySchema().load({k: v for k, v in raw.items() if k not in error.messages})
    if "category" in query:
        query["category"] = query["category"].value
    return query, errors


@bp.route("/")
@allow(PUBLIC)
def home():
    newest = services.search_catalog(services.CatalogQuery(per_page=8))
    return render_template(
        "home.html", newest=newest, categories=list(Category), category_counts=services.listed_count_by_category()
    )


# The cooperative's home is its catalogue: its products, why any is not on sale, and their certification.
@bp.route("/coop/<int:cooperative_id>")
@allow(COOPERATIVE_STAFF_AND_OPERATORS)
def cooperative_home(cooperative_id: int):
    cooperative = require_manager(current_user, cooperative_id)
    products = services.products_of(cooperative_id)
    return render_template(
        "cooperatives/dashboard.html",
        cooperative=cooperative,
        products=products,
        kind_labels=KIND_LABELS,
        applications=latest_applications([p.id for p in products]),
        not_on_sale=services.not_on_sale_reasons(products),  # the listing rule's own parts, not the switch alone
        today=business_date(),
    )


@bp.route("/products")
@allow(PUBLIC)
def catalogue():
    query, errors = _catalog_query()
    try:
        page = services.search_catalog(services.CatalogQuery(**query))
    except DomainError as error:
        errors.update(error.fields)
        query.pop("price_max_fen", None)
        page = services.search_catalog(services.CatalogQuery(**query))
    args = {k: v for k, v in request.args.items() if k != "page" and v}
    return render_template(
        "catalog/catalogue.html",
        page=page,
        args=args,
        errors=errors,
        provinces=provinces(),
        counties=services.counties_with_listed_products(),
        category_labels=CATEGORY_LABELS,
    ), (400 if errors else 200)


@bp.route("/products/<int:product_id>")
@allow(PUBLIC)
def product(product_id: int):
    item, reason = services.get_product_for_viewer(product_id, current_user)
    return render_template(
        "catalog/product.html",
        product=item,
        not_listed_reason=reason,
        certificate=current_certificate(item.id),
        category_labels=CATEGORY_LABELS,
        price=format_fen(item.price_fen),
    )


@bp.route("/media/products/<stored_name>")
@allow(PUBLIC)
def photo(stored_name: str):
    item = services.photo_by_name(stored_name)
    response = send_from_directory(
        uploads.upload_dir("products"), item.stored_name, mimetype=item.content_type, max_age=86400
    )
    return response


@bp.route("/coop/<int:cooperative_id>/products/new", methods=["GET", "POST"])
@allow(COOPERATIVE_STAFF_AND_OPERATORS)
def new_product(cooperative_id: int):
    cooperative = require_manager(current_user, cooperative_id)
    form = NewProductForm()
    if not form.is_submitted():
        form.origin_county_code.data = cooperative.county_code
    if form.validate_on_submit():
        photos = [f.read() for f in form.photos.data or [] if f and f.filename]
        try:
            item = services.create_product(current_user, cooperative_id, form.product_data(), photos)
        except DomainError as error:
            show_domain_error(form, error)
        else:
            flash(_("Product %(name)s added.", name=item.name), "success")
            return redirect(url_for("catalog.cooperative_home", cooperative_id=cooperative_id))
    return render_form("catalog/product_form.html", form, cooperative=cooperative, product=None)


@bp.route("/coop/products/<int:product_id>/edit", methods=["GET", "POST"])
@allow(COOPERATIVE_STAFF_AND_OPERATORS)
def edit_product(product_id: int):
    item = services.get_product(product_id)
    cooperative = require_manager(current_user, item.cooperative_id)
    form = ProductForm(obj=item)
    if not form.is_submitted():
        form.price_yuan.data = fen_to_yuan(item.price_fen)
    if form.validate_on_submit():
        try:
            services.update_product(current_user, product_id, form.product_data())
        except DomainError as error:
            show_domain_error(form, error)
        else:
            flash(_("Product saved."), "success")
            return redirect(url_for("catalog.edit_product", product_id=product_id))
    return render_form(
        "catalog/product_form.html",
        form,
        cooperative=cooperative,
        product=item,
        photo_form=PhotoForm(formdata=None),
        delete_form=EmptyForm(),
        listed_reason=services.why_not_listed(item),
        vouched_lock=services.vouched_fields_lock(item.id),
        category_labels=CATEGORY_LABELS,
    )


@bp.route("/coop/products/<int:product_id>/photos", methods=["POST"])
@allow(COOPERATIVE_STAFF_AND_OPERATORS)
def upload_photo(product_id: int):
    form = PhotoForm()
    target = url_for("catalog.edit_product", product_id=product_id)
    if not form.validate_on_submit():
        return redirect_after_refusal(DomainError(_("Choose a photo to upload.")), target)
    try:
        services.add_photo(current_user, product_id, form.photo.data.read())
    except DomainError as error:
        return redirect_after_refusal(error, target)
    flash(_("Photo added."), "success")
    return redirect(target)


@bp.route("/coop/products/<int:product_id>/photos/<int:photo_id>/delete", methods=["POST"])
@allow(COOPERATIVE_STAFF_AND_OPERATORS)
def delete_photo(product_id: int, photo_id: int):
    if not EmptyForm().validate_on_submit():
        abort(400)
    services.remove_photo(current_user, product_id, photo_id)
    flash(_("Photo removed."), "success")
    return redirect(url_for("catalog.edit_product", product_id=product_id))


def _directory_filters() -> dict:
    args = {key: request.args.get(key, "").strip() for key in ("province", "county", "category")}
    return {key: value for key, value in args.items() if value}


@bp.route("/certified")
@allow(PUBLIC)
def certified_directory():
    filters = _directory_filters()
    entries = services.certified_directory(**filters)
    return render_template(
        "catalog/certified.html", entries=entries, args=filters, provinces=provinces(), category_labels=CATEGORY_LABELS
    )


@bp.route("/certified.csv")
@allow(PUBLIC)
def certified_directory_csv():
    rows: list[list] = [
        [
            "certificate_no",
            "product",
            "category",
            "cooperative",
            "origin_county_code",
            "origin",
            "valid_from",
            "valid_until",
        ]
    ]
    for entry in services.certified_directory(**_directory_filters()):
        c = entry.certificate
        rows.append(
            [
                c.certificate_no,
                c.product_name,
                entry.category,
                c.cooperative_name,
                c.origin_county_code,
                entry.origin,
                c.valid_from.isoformat(),
                c.valid_until.isoformat(),
            ]
        )
    return csv_download(rows, "certified-products.csv")
