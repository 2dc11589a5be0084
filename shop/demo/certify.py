"""Demo certificates, made through the real workflow (never by writing a state).

Every demo product is applied for by its cooperative's staff, approved by a county reviewer of its county and
a province reviewer of its province (two different people), published for notice and certified by the job,
on dates in the past so that the certificates are valid today. A few are left at each earlier stage, one
certificate is suspended and one has expired.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from certification.applications import add_document, create_application
from certification.jobs import tick
from certification.models import Application
from certification.reviews import apply_transition
from certification.rules import Action
from shop.accounts import services as accounts
from shop.accounts.models import User
from shop.accounts.roles import Role
from shop.catalog.models import Product
from shop.extensions import db
from shop.timeutil import business_date

PDF = b"%PDF-1.4\n% demo quality inspection report\n"

# Demo products (by name) left at an earlier stage, or given a special fate.
STOP_AT = {
    "蜜桃果脯": "draft",
    "卤鸭蛋 即食装": "submitted",
    "金银花露": "county_approved",
    "苹果醋": "public_notice",
    "饶阳葡萄 阳光玫瑰": "returned",
}
SUSPENDED = "黄桃罐头"
EXPIRED = "秋梨膏"


def _reviewer(operator: User, role: Role, region_code: str, known: dict[str, User]) -> User:
    """The demo reviewer of a region (the configured demo accounts first, then one made per region)."""
    for user in known.values():
        if region_code in user.region_codes(role):
            return user
    kind = "county" if role == Role.COUNTY_REVIEWER else "province"
    email = f"{kind}-{region_code}@fupin.demo"
    user = accounts.user_by_email(email)
    if user is None:
        from shop.demo.data import DEMO_PASSWORD

        label = "县级审核员" if kind == "county" else "省级审核员"
        user = accounts.create_user(email, DEMO_PASSWORD, f"{label} {region_code}（演示）")
    accounts.grant_role(operator, user, role, region_code=region_code, reason="demo data")
    known[email] = user
    return user


def _staff_of(cooperative_id: int) -> User:
    return next(u for u in db.session.scalars(select(User)) if cooperative_id in u.cooperative_ids())


def certify_demo_products(operator: User, users: dict[str, User]) -> int:
    """Take every demo product without an application through the workflow; return how many were started."""
    started = 0
    today = business_date()
    products = db.session.scalars(select(Product).order_by(Product.id)).all()
    for product in products:
        if db.session.scalar(select(Application.id).where(Application.product_id == product.id)) is not None:
            continue
        started += 1
        county = product.origin_county_code
        staff = _staff_of(product.cooperative_id)
        county_reviewer = _reviewer(operator, Role.COUNTY_REVIEWER, county, users)
        province_reviewer = _reviewer(operator, Role.PROVINCE_REVIEWER, county[:2] + "0000", users)
        stop = STOP_AT.get(product.name, "certified")
        # Long enough ago that the notice is over; for the expired one, longer ago than a certificate lasts.
        approved_on = today - timedelta(days=800 if product.name == EXPIRED else 40)
        application = create_application(
            staff,
            product.id,
            {
                "origin_county_code": county,
                "production_base_address": f"{product.cooperative.county.full_name}生产基地",
                "annual_output": max(product.stock, 1) * 20,
                "output_unit": product.unit,
                "supply_capacity": f"每月可供 {max(product.stock, 1)} {product.unit}",
                "declared_price_fen": product.price_fen,
                "market_price_fen": product.price_fen + product.price_fen // 20,
                "market_price_source": "县农产品批发市场同等级产品月均价",
                "linkage_type": "produce_purchase",
                "linkage_description": "合作社按保底价收购建档立卡户的产品，并优先吸纳其务工。",
                "linked_households": 20 + product.id % 30,
            },
        )
        if stop == "draft":
            continue
        add_document(staff, application.id, "quality_report", "质检报告.pdf", PDF)
        apply_transition(staff, application.id, Action.SUBMIT, today=approved_on)
        if stop == "submitted":
            continue
        if stop == "returned":
            apply_transition(
                county_reviewer, application.id, Action.RETURN, "请补充近一年的农残检测报告。", today=approved_on
            )
            continue
        apply_transition(county_reviewer, application.id, Action.COUNTY_APPROVE, today=approved_on)
        if stop == "county_approved":
            continue
        apply_transition(
            province_reviewer,
            application.id,
            Action.PROVINCE_APPROVE,
            today=today if stop == "public_notice" else approved_on,
        )
        if stop == "public_notice":
            continue
        ends = db.session.get(Application, application.id).notice_ends_on
        tick(ends + timedelta(days=1))
        if product.name == SUSPENDED:
            apply_transition(
                province_reviewer, application.id, Action.SUSPEND, "市场监管抽检：标签与实物不符，整改期间暂停。"
            )
    tick(today)  # expires what is past its validity
    return started
